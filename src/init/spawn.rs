//! Starting the stage scripts and ctrl-alt-del: each in a session of its own, with default
//! signal handling; stage 1 with the console as controlling terminal (all OSes).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::fcntl::{open, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::platform::{self, Signal};

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

/// Starts `path` with no arguments and our environment. `signals` are those PID 1 took over;
/// the child gets them back at their defaults, unblocked.
pub fn spawn(path: &str, tty: Tty, signals: &[Signal]) -> io::Result<Pid> {
    attach_stdio();
    let console = match tty {
        Tty::Console => console_or_warn(),
        Tty::Detached => None,
    };
    let ctty: Option<RawFd> = console.as_ref().map(|fd| fd.as_raw_fd());
    let sigs: Vec<Signal> = signals.to_vec();
    let mut cmd = Command::new(path);
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // calls (setsid, ioctl, dup2, sigaction, sigprocmask); `sigs` was allocated before the fork.
    unsafe {
        cmd.pre_exec(move || child_setup(ctty, &sigs));
    }
    let child = cmd.spawn()?;
    // The Child handle is dropped without waiting: PID 1 reaps every child with waitpid(-1).
    Ok(Pid::from_raw(child.id() as i32))
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

/// In the child: a session of its own (so stage 2's group can be killed as a whole and no
/// child inherits PID 1's session), the console as controlling terminal for stage 1, and the
/// signals back at their defaults.
fn child_setup(ctty: Option<RawFd>, signals: &[Signal]) -> io::Result<()> {
    let _ = nix::unistd::setsid();
    if let Some(fd) = ctty {
        // Failure (the console is some other session's terminal) leaves stage 1 without a
        // controlling terminal, as C runit on Linux always has it; not worth failing the boot.
        let _ = platform::set_controlling_tty(fd);
        for target in 0..3 {
            // SAFETY: dup2 onto the child's own standard descriptors.
            unsafe { libc::dup2(fd, target) };
        }
    }
    platform::reset_child_signals(signals)
}

/// Whether a failed start is worth retrying later (no process slot or memory right now)
/// rather than treated as a stage that ran and ended, as C runit treats a failed exec.
pub fn transient(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOMEM))
}
