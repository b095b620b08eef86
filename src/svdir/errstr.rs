//! The wording runit (through djb's `error_str`) uses for errno values, so that runsvdir and
//! runsvchdir read like the C programs (all OSes; values are looked up, never hard-coded).

use std::io;

/// First match wins, as in the C table: where two names share a value (EAGAIN and EWOULDBLOCK
/// on Linux) the earlier wording is the one C prints.
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
    (libc::EIDRM, "identifier removed"),
    (libc::ENOMSG, "no message of desired type"),
    (libc::EBADMSG, "bad message type"),
    (libc::EMULTIHOP, "multihop attempted"),
    (libc::ENOLINK, "link severed"),
];

/// The runit wording of an errno value.
pub fn errno_str(code: i32) -> &'static str {
    TABLE.iter().find(|(c, _)| *c == code).map_or("unknown error", |(_, s)| s)
}

/// The runit wording of an error; an error without an errno keeps its own text.
pub fn error_str(e: &io::Error) -> std::borrow::Cow<'static, str> {
    match e.raw_os_error() {
        Some(code) => errno_str(code).into(),
        None => e.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording() {
        assert_eq!(errno_str(libc::ENOENT), "file does not exist");
        assert_eq!(errno_str(libc::ENXIO), "device not configured");
        assert_eq!(errno_str(libc::EAGAIN), "temporary failure");
        assert_eq!(errno_str(-5), "unknown error");
        let e = io::Error::from_raw_os_error(libc::ENOTDIR);
        assert_eq!(error_str(&e), "not a directory");
    }
}
