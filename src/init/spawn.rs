//! Starting the stage scripts and ctrl-alt-del: each in a session of its own, with default
//! signal handling; stage 1 with the console as controlling terminal (all OSes).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;

use crate::child::{self, Pid, Session, Spec};
use crate::platform::Signal;

const CONSOLE: &str = "/dev/console";

/// Opens the console for reading and writing, never as our controlling terminal.
pub fn open_console() -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
    Ok(open(CONSOLE, flags, Mode::empty())?)
}

/// Points fds 0, 1 and 2 at the console, which children inherit. Without a console the
/// inherited descriptors stay (containers, namespaces).
pub fn attach_stdio() {
    if let Ok(fd) = open_console() {
        for target in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which PID 1 owns; `fd` stays open
            // across the calls.
            unsafe { libc::dup2(fd.as_raw_fd(), target) };
        }
    }
}

/// How a child gets the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tty {
    /// A new session without a controlling terminal (stages 2 and 3, ctrl-alt-del).
    Detached,
    /// A new session whose controlling terminal is the console (stage 1, so that it can run
    /// an emergency shell).
    Console,
}

/// Starts `path` with no arguments and our environment, in a session of its own (so stage 2's
/// group can be killed as a whole and no child inherits PID 1's session), with the console as
/// controlling terminal for stage 1. `signals` are those PID 1 took over; the child gets them
/// back at their defaults, unblocked. A failed exec comes back as the error, as C runit sees
/// it. Failure to get the console (it is some other session's terminal) leaves stage 1
/// without a controlling terminal, as C runit on Linux always has it; not worth failing the
/// boot.
pub fn spawn(path: &str, tty: Tty, signals: &[Signal]) -> io::Result<Pid> {
    attach_stdio();
    let console = match tty {
        Tty::Console => console_or_warn(),
        Tty::Detached => None,
    };
    let program = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let argv = [program.as_c_str()];
    child::spawn(&Spec {
        session: console.as_ref().map_or(Session::New, |fd| Session::Terminal(fd.as_raw_fd())),
        signals,
        ..Spec::new(&program, &argv)
    })
}

fn console_or_warn() -> Option<OwnedFd> {
    match open_console() {
        Ok(fd) => Some(fd),
        Err(e) => {
            super::say::warn_err(&["unable to open /dev/console: "], &e);
            None
        }
    }
}
