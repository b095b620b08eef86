complete -c envdir -l help -d 'Print this help and exit (first argument only)'
complete -c envdir -l version -d 'Print the version and exit (first argument only)'
