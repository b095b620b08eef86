complete -c runsvchdir -l help -d 'Print this help and exit (first argument only)'
complete -c runsvchdir -l version -d 'Print the version and exit (first argument only)'
