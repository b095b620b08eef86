complete -c setuidgid -l help -d 'Print this help and exit (first argument only)'
complete -c setuidgid -l version -d 'Print the version and exit (first argument only)'
