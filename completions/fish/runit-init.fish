complete -c runit-init -l help -d 'Print this help and exit (first argument only)'
complete -c runit-init -l version -d 'Print the version and exit (first argument only)'
