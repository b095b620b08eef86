complete -c pgrphack -l help -d 'Print this help and exit (first argument only)'
complete -c pgrphack -l version -d 'Print the version and exit (first argument only)'
