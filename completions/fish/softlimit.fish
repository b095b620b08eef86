complete -c softlimit -s a -d 'Limit the address space' -r -f
complete -c softlimit -s c -d 'Limit the size of core files' -r -f
complete -c softlimit -s d -d 'Limit the data segment' -r -f
complete -c softlimit -s f -d 'Limit the size of files written' -r -f
complete -c softlimit -s l -d 'Limit locked memory' -r -f
complete -c softlimit -s m -d 'Limit data, stack, locked memory and address space' -r -f
complete -c softlimit -s o -d 'Limit the number of open files' -r -f
complete -c softlimit -s p -d 'Limit the number of processes' -r -f
complete -c softlimit -s r -d 'Limit the resident set size' -r -f
complete -c softlimit -s s -d 'Limit the stack' -r -f
complete -c softlimit -s t -d 'Limit the CPU time' -r -f
complete -c softlimit -l help -d 'Print this help and exit (first argument only)'
complete -c softlimit -l version -d 'Print the version and exit (first argument only)'
