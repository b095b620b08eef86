complete -c runsvdir -l help -d 'Print this help and exit (first argument only)'
complete -c runsvdir -l version -d 'Print the version and exit (first argument only)'
complete -c runsvdir -s P -d 'Start each runsv in a session and process group of its own'
