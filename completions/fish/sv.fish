complete -c sv -s w -d 'Wait up to sec seconds (implies -v)' -r -f
complete -c sv -l help -d 'Print this help and exit (first argument only)'
complete -c sv -l version -d 'Print the version and exit (first argument only)'
complete -c sv -s v -d 'Wait for the command to take effect and report (7 s unless -w)'
complete -c sv -s j -d 'Print one JSON object per service per line instead of text (sv(8))'
complete -c sv -s V -d 'Print the version and the usage line on standard error, exit as on bad usage'
