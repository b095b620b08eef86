//! Starting and reaping runsv's children: fork, stdio and working directory, clean signal
//! state, exec; `waitpid` wrappers (all Unix).
//!
//! runsv is single-threaded, so the child may do ordinary work between fork and exec; it still
//! keeps to plain system calls and prepared buffers. A child that cannot exec prints one line to
//! runsv's stderr and exits 111, which runsv reads as "./run exited 111" (runsv(8)).

use std::ffi::{c_char, CStr};
use std::io::{self, Write};
use std::os::fd::RawFd;
use std::ptr;

use crate::platform::{self, Signal};

use crate::errstr::errno_text;

/// What to start.
pub struct Spec<'a> {
    /// The program path first, then its arguments (at most three entries in all).
    pub argv: &'a [&'a CStr],
    /// Becomes the child's stdin.
    pub stdin: Option<RawFd>,
    /// Becomes the child's stdout.
    pub stdout: Option<RawFd>,
    /// The child changes into this directory first.
    pub dir: Option<&'a CStr>,
    /// Prefix of the child's failure message, e.g. `runsv svc: warning: `.
    pub prefix: &'a [u8],
    /// The name the failure message uses for the program, e.g. `./run`.
    pub name: &'a [u8],
}

/// Forks and execs `spec`; returns the child's pid.
pub fn spawn(spec: &Spec, signals: &[Signal]) -> io::Result<u32> {
    let mut argv: [*const c_char; 4] = [ptr::null(); 4];
    if spec.argv.is_empty() || spec.argv.len() >= argv.len() {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    for (slot, arg) in argv.iter_mut().zip(spec.argv) {
        *slot = arg.as_ptr();
    }
    // SAFETY: runsv is single-threaded, so no lock can be held by another thread in the child;
    // the child only makes system calls and then execs or _exits.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => child(spec, &argv, signals),
        pid => Ok(pid as u32),
    }
}

/// The forked child: never returns.
fn child(spec: &Spec, argv: &[*const c_char; 4], signals: &[Signal]) -> ! {
    if let Some(fd) = spec.stdin {
        if move_fd(fd, 0).is_err() {
            fail(spec, b"unable to set up standard input for ");
        }
    }
    if let Some(fd) = spec.stdout {
        if move_fd(fd, 1).is_err() {
            fail(spec, b"unable to set up standard output for ");
        }
    }
    if let Some(dir) = spec.dir {
        // SAFETY: `dir` is a valid C string owned by the parent's stack frame, still mapped.
        if unsafe { libc::chdir(dir.as_ptr()) } == -1 {
            fail(spec, b"unable to change directory for ");
        }
    }
    if platform::reset_child_signals(signals).is_err() {
        fail(spec, b"unable to reset signals for ");
    }
    // SAFETY: `argv` holds the 1 to 3 pointers of `spec.argv` (checked in spawn), each from a
    // live CStr, and NULL after them; execv only reads them, and returns only on error.
    unsafe { libc::execv(argv[0], argv.as_ptr()) };
    fail(spec, b"unable to start ")
}

/// Makes `src` available as `dst` without close-on-exec.
fn move_fd(src: RawFd, dst: RawFd) -> io::Result<()> {
    if src == dst {
        // dup2 onto itself would keep FD_CLOEXEC; the fd must survive exec.
        return crate::sys::set_cloexec(src, false);
    }
    // SAFETY: dup2 on fds this process owns; the result is checked.
    crate::sys::cvt(unsafe { libc::dup2(src, dst) }).map(drop)
}

/// Prints `<prefix><what><name>: <error>` and exits 111, in the child.
fn fail(spec: &Spec, what: &[u8]) -> ! {
    let code = io::Error::last_os_error().raw_os_error().unwrap_or(0);
    let err = errno_text(code).unwrap_or("unknown error");
    let parts = [spec.prefix, what, spec.name, b": ", err.as_bytes(), b"\n"];
    // One writev, so the line reaches a shared log pipe whole, never torn by another writer.
    let iov =
        parts.map(|p| libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() });
    // SAFETY: each iovec points at a live buffer of its length, only read by writev; a failure
    // cannot be reported anywhere.
    unsafe { libc::writev(2, iov.as_ptr(), iov.len() as libc::c_int) };
    // SAFETY: _exit ends the child without running the parent's atexit handlers.
    unsafe { libc::_exit(111) }
}

/// Sends `sig` to `pid`; a process that is already gone is no error worth reporting.
pub fn signal(pid: u32, sig: Signal) {
    let Ok(pid) = i32::try_from(pid) else { return };
    if pid > 0 {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

/// Waits for one specific child and returns its wait status.
pub fn wait_pid(pid: u32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into a local.
        match crate::sys::cvt(unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) }) {
            Ok(_) => return Ok(status),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reaps one exited child without waiting: `(pid, wait status)`, or None when none is left.
pub fn reap() -> Option<(u32, i32)> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status into a local.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            return Some((pid as u32, status));
        }
        if pid == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// Formats a decimal integer as a C string into `buf` (no allocation).
pub fn decimal(buf: &mut [u8; 16], n: i32) -> &CStr {
    let mut w: &mut [u8] = buf;
    // An i32 takes at most 11 bytes, so the digits and the NUL always fit.
    let _ = write!(w, "{n}\0");
    CStr::from_bytes_until_nul(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let mut b = [0u8; 16];
        assert_eq!(decimal(&mut b, 0).to_bytes(), b"0");
        assert_eq!(decimal(&mut b, -1).to_bytes(), b"-1");
        assert_eq!(decimal(&mut b, 111).to_bytes(), b"111");
        assert_eq!(decimal(&mut b, i32::MIN).to_bytes(), b"-2147483648");
    }
}
