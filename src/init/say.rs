//! PID 1's messages, in C runit's words: one line per write to the console, never blocking
//! (all OSes).

use std::io;
use std::os::fd::OwnedFd;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::fail::{self, Level};

const CONSOLE: &str = "/dev/console";

/// The start of PID 1's lines.
pub const LABEL: &[u8] = b"- runit: ";

/// An informational line, `- runit: ` and the parts.
pub fn info(parts: &[&str]) {
    line(Level::Plain, parts);
}

/// A warning line, `- runit: warning: ` and the parts.
pub fn warn(parts: &[&str]) {
    line(Level::Warning, parts);
}

/// A warning ending in the text of `err`, as C's strerr does.
pub fn warn_err(parts: &[&str], err: &io::Error) {
    let text = errstr(err);
    let mut all: Vec<&str> = parts.to_vec();
    all.push(&text);
    line(Level::Warning, &all);
}

/// The text of an error in C runit's words.
pub fn errstr(err: &io::Error) -> String {
    crate::errstr::describe(err)
}

fn line(level: Level, parts: &[&str]) {
    write_out(&fail::line(LABEL, level, &parts.concat()));
}

/// Opens the console afresh for every line, as C runit re-gets its stderr on every wakeup: an
/// earlier descriptor may have been hung up. Non-blocking, so a console stopped with ^S cannot
/// stop PID 1; O_APPEND so a regular file standing in for the console is not overwritten.
/// Without a console (containers, namespaces) the line goes to the inherited stderr.
fn write_out(bytes: &[u8]) {
    let flags =
        OFlag::O_WRONLY | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_APPEND | OFlag::O_CLOEXEC;
    if let Ok(fd) = open(CONSOLE, flags, Mode::empty()) {
        return write_all(&fd, bytes);
    }
    // A pipe on fd 2 (a container's log) reopened through /proc gets a non-blocking open file
    // description of its own, leaving the children's shared one blocking. Sockets cannot be
    // reopened: then fd 2 as it is.
    if let Ok(fd) = open("/proc/self/fd/2", flags, Mode::empty()) {
        return write_all(&fd, bytes);
    }
    // SAFETY: fd 2 is only borrowed for this one write and nothing in runit owns or closes it
    // meanwhile; if it is not open, write(2) fails with EBADF and touches no memory.
    let stderr = unsafe { std::os::fd::BorrowedFd::borrow_raw(2) };
    let _ = nix::unistd::write(stderr, bytes);
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(0) => return,
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(nix::errno::Errno::EINTR) => continue,
            // EAGAIN (console stopped or full) and real errors: drop the rest, never wait.
            Err(_) => return,
        }
    }
}
