complete -c chpst -s u -d 'Run as this user (and groups)' -r -f -a "(__fish_complete_users)"
complete -c chpst -s U -d 'Set $UID and $GID for this user' -r -f -a "(__fish_complete_users)"
complete -c chpst -s b -d 'Run the program under this name' -r -f
complete -c chpst -s e -d 'Set environment variables from the files in dir' -r -f -a "(__fish_complete_directories)"
complete -c chpst -s / -d 'Change the root directory' -r -f -a "(__fish_complete_directories)"
complete -c chpst -s C -d 'Change the working directory' -r -f -a "(__fish_complete_directories)"
complete -c chpst -s n -d 'Add nice to the nice value' -r -f
complete -c chpst -s l -d 'Wait for an exclusive lock on this file' -r -F
complete -c chpst -s L -d 'Take the lock or fail at once' -r -F
complete -c chpst -s m -d 'Limit data, stack, locked memory and address space' -r -f
complete -c chpst -s d -d 'Limit the data segment' -r -f
complete -c chpst -s o -d 'Limit the number of open files' -r -f
complete -c chpst -s p -d 'Limit the number of processes' -r -f
complete -c chpst -s f -d 'Limit the size of files written' -r -f
complete -c chpst -s c -d 'Limit the size of core files' -r -f
complete -c chpst -s r -d 'Limit the resident set size' -r -f
complete -c chpst -s t -d 'Limit the CPU time' -r -f
complete -c chpst -l help -d 'Print this help and exit (first argument only)'
complete -c chpst -l version -d 'Print the version and exit (first argument only)'
complete -c chpst -s v -d 'Verbose'
complete -c chpst -s V -d 'Print the version and the usage line on standard error, exit as on bad usage'
complete -c chpst -s P -d 'Run in a new session and process group'
complete -c chpst -s 0 -d 'Close standard input'
complete -c chpst -s 1 -d 'Close standard output'
complete -c chpst -s 2 -d 'Close standard error'
complete -c chpst -s F -d 'Run under chpst as PID 1 of new PID and mount namespaces (Linux)'
complete -c chpst -s I -d 'Run as PID 1 of new PID and mount namespaces (Linux)'
