complete -c envuidgid -l help -d 'Print this help and exit (first argument only)'
complete -c envuidgid -l version -d 'Print the version and exit (first argument only)'
