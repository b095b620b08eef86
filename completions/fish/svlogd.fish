complete -c svlogd -s r -d 'Replace non-printable characters with c' -r -f
complete -c svlogd -s R -d 'Also replace the characters in abc (with _ unless -r)' -r -f
complete -c svlogd -s l -d 'Look at the first len characters of a line (default 1000)' -r -f
complete -c svlogd -s b -d 'Buffer size, greater than len (default 1024)' -r -f
complete -c svlogd -l help -d 'Print this help and exit (first argument only)'
complete -c svlogd -l version -d 'Print the version and exit (first argument only)'
complete -c svlogd -s t -d 'Timestamp lines: -t TAI64N, -tt YYYY-MM-DD_HH:MM:SS, -ttt ISO 8601'
complete -c svlogd -s v -d 'Report what svlogd does on standard error'
complete -c svlogd -s V -d 'Print the version and the usage line on standard error, exit as on bad usage'
