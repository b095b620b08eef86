complete -c utmpset -l help -d 'Print this help and exit (first argument only)'
complete -c utmpset -l version -d 'Print the version and exit (first argument only)'
complete -c utmpset -s w -d 'Also append a logout record to wtmp'
complete -c utmpset -s V -d 'Print the version and the usage line on standard error, exit as on bad usage'
