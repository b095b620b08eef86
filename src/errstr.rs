//! Error texts in the words C runit (djb's error_str) uses, so that every program's messages read
//! the same as the C programs' (all OSes; errnos an OS lacks fall through to the OS's own text).

use std::io;

/// The C runit text for an error: its errno wording when it has one, else the system's
/// description without Rust's " (os error N)" suffix, which C never prints.
pub fn describe(e: &io::Error) -> String {
    if let Some(t) = e.raw_os_error().and_then(errno_text) {
        return t.to_string();
    }
    let full = e.to_string();
    match full.find(" (os error") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// The wording of error_str(3) for `errno`, first match wins (EAGAIN before EWOULDBLOCK).
pub fn errno_text(errno: i32) -> Option<&'static str> {
    TABLE.iter().find(|(n, _)| *n == errno).map(|(_, t)| *t)
}

const TABLE: &[(i32, &str)] = &[
    (0, "no error"),
    (libc::EINTR, "interrupted system call"),
    (libc::ENOMEM, "out of memory"),
    (libc::ENOENT, "file does not exist"),
    (libc::ETXTBSY, "text busy"),
    (libc::EIO, "input/output error"),
    (libc::EEXIST, "file already exists"),
    (libc::ETIMEDOUT, "timed out"),
    (libc::EINPROGRESS, "operation in progress"),
    (libc::EAGAIN, "temporary failure"),
    (libc::EWOULDBLOCK, "input/output would block"),
    (libc::EPIPE, "broken pipe"),
    (libc::EPERM, "permission denied"),
    (libc::EACCES, "access denied"),
    (libc::ENXIO, "device not configured"),
    (libc::EPROTO, "protocol error"),
    (libc::EISDIR, "is a directory"),
    (libc::ECONNREFUSED, "connection refused"),
    (libc::ENOTDIR, "not a directory"),
    (libc::ESRCH, "no such process"),
    (libc::E2BIG, "argument list too long"),
    (libc::ENOEXEC, "exec format error"),
    (libc::EBADF, "file descriptor not open"),
    (libc::ECHILD, "no child processes"),
    (libc::EDEADLK, "operation would cause deadlock"),
    (libc::EFAULT, "bad address"),
    (libc::ENOTBLK, "not a block device"),
    (libc::EBUSY, "device busy"),
    (libc::EXDEV, "cross-device link"),
    (libc::ENODEV, "device does not support operation"),
    (libc::EINVAL, "invalid argument"),
    (libc::ENFILE, "system cannot open more files"),
    (libc::EMFILE, "process cannot open more files"),
    (libc::ENOTTY, "not a tty"),
    (libc::EFBIG, "file too big"),
    (libc::ENOSPC, "out of disk space"),
    (libc::ESPIPE, "unseekable descriptor"),
    (libc::EROFS, "read-only file system"),
    (libc::EMLINK, "too many links"),
    (libc::EDOM, "input out of range"),
    (libc::ERANGE, "output out of range"),
    (libc::EALREADY, "operation already in progress"),
    (libc::ENOTSOCK, "not a socket"),
    (libc::EDESTADDRREQ, "destination address required"),
    (libc::EMSGSIZE, "message too long"),
    (libc::EPROTOTYPE, "incorrect protocol type"),
    (libc::ENOPROTOOPT, "protocol not available"),
    (libc::EPROTONOSUPPORT, "protocol not supported"),
    (libc::ESOCKTNOSUPPORT, "socket type not supported"),
    (libc::EOPNOTSUPP, "operation not supported"),
    (libc::EPFNOSUPPORT, "protocol family not supported"),
    (libc::EAFNOSUPPORT, "address family not supported"),
    (libc::EADDRINUSE, "address already used"),
    (libc::EADDRNOTAVAIL, "address not available"),
    (libc::ENETDOWN, "network down"),
    (libc::ENETUNREACH, "network unreachable"),
    (libc::ENETRESET, "network reset"),
    (libc::ECONNABORTED, "connection aborted"),
    (libc::ECONNRESET, "connection reset"),
    (libc::ENOBUFS, "out of buffer space"),
    (libc::EISCONN, "already connected"),
    (libc::ENOTCONN, "not connected"),
    (libc::ESHUTDOWN, "socket shut down"),
    (libc::ETOOMANYREFS, "too many references"),
    (libc::ELOOP, "symbolic link loop"),
    (libc::ENAMETOOLONG, "file name too long"),
    (libc::EHOSTDOWN, "host down"),
    (libc::EHOSTUNREACH, "host unreachable"),
    (libc::ENOTEMPTY, "directory not empty"),
    (libc::EUSERS, "too many users"),
    (libc::EDQUOT, "disk quota exceeded"),
    (libc::ESTALE, "stale NFS file handle"),
    (libc::EREMOTE, "too many levels of remote in path"),
    (libc::ENOLCK, "no locks available"),
    (libc::ENOSYS, "system call not available"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_c_runit() {
        assert_eq!(describe(&io::Error::from_raw_os_error(libc::ENOENT)), "file does not exist");
        assert_eq!(describe(&io::Error::from_raw_os_error(libc::EAGAIN)), "temporary failure");
        assert_eq!(describe(&io::Error::from_raw_os_error(libc::EACCES)), "access denied");
        let other = io::Error::other("custom");
        assert_eq!(describe(&other), "custom");
    }
}
