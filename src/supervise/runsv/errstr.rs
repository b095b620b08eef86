//! The short error texts runit prints after a failed system call (djb's `error_str`), so
//! messages read as the C runsv's do (all OSes).

use std::io;

/// runit's text for errno `code`, if it has one.
pub fn errno_text(code: i32) -> Option<&'static str> {
    let s = match code {
        libc::EINTR => "interrupted system call",
        libc::ENOMEM => "out of memory",
        libc::ENOENT => "file does not exist",
        libc::ETXTBSY => "text busy",
        libc::EIO => "input/output error",
        libc::EEXIST => "file already exists",
        libc::ETIMEDOUT => "timed out",
        libc::EINPROGRESS => "operation in progress",
        libc::EAGAIN => "temporary failure",
        libc::EPIPE => "broken pipe",
        libc::EPERM => "permission denied",
        libc::EACCES => "access denied",
        libc::ENXIO => "device not configured",
        libc::EISDIR => "is a directory",
        libc::ENOTDIR => "not a directory",
        libc::ESRCH => "no such process",
        libc::E2BIG => "argument list too long",
        libc::ENOEXEC => "exec format error",
        libc::EBADF => "file descriptor not open",
        libc::ECHILD => "no child processes",
        libc::EBUSY => "device busy",
        libc::EXDEV => "cross-device link",
        libc::EINVAL => "invalid argument",
        libc::ENFILE => "system cannot open more files",
        libc::EMFILE => "process cannot open more files",
        libc::ENOSPC => "out of disk space",
        libc::EROFS => "read-only file system",
        libc::EMLINK => "too many links",
        libc::ELOOP => "symbolic link loop",
        libc::ENAMETOOLONG => "file name too long",
        libc::ENOTEMPTY => "directory not empty",
        libc::EDQUOT => "disk quota exceeded",
        _ => return None,
    };
    Some(s)
}

/// The text for an error: runit's wording where it has one, else the system's, without Rust's
/// "(os error N)" suffix.
pub fn error_text(e: &io::Error) -> String {
    if let Some(s) = e.raw_os_error().and_then(errno_text) {
        return s.to_owned();
    }
    let full = e.to_string();
    match full.find(" (os error") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runit_wording() {
        assert_eq!(error_text(&io::Error::from_raw_os_error(libc::ENOENT)), "file does not exist");
        assert_eq!(error_text(&io::Error::from_raw_os_error(libc::EAGAIN)), "temporary failure");
        let other = error_text(&io::Error::from_raw_os_error(libc::ENOTSOCK));
        assert!(!other.is_empty() && !other.contains("os error"), "{other}");
    }
}
