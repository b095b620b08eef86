complete -c runsv -l help -d 'Print this help and exit (first argument only)'
complete -c runsv -l version -d 'Print the version and exit (first argument only)'
