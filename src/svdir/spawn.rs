//! Starting one `runsv` (all OSes): in the services directory, `runsv <name>` found through
//! `$PATH` as runit does, with the signals runsvdir took over back at their defaults, and a new
//! session with `-P`.
//!
//! Where the platform offers it, posix_spawn (no page-table copy: thousands of starts stay
//! cheap; an exec failure comes back as an error). Elsewhere fork+exec by hand rather than
//! `std::process::Command`, which waits for each child to exec and so serialises thousands of
//! starts; a runsv that cannot be exec'd is then a child that reports and exits, as in runit.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;

use nix::unistd::{fork, ForkResult, Pid};

use crate::errstr;
use crate::platform::{self, Signal};

/// Exit code of a child that could not exec runsv (runit's fatal code).
const EXEC_FAILED: i32 = 100;

/// How runsv children are started.
pub struct Spawner {
    /// `-P`: a new session and process group for each runsv.
    pub new_session: bool,
    /// The signals to hand back to the default in the child.
    pub signals: Vec<Signal>,
    /// Prefix of messages, `runsvdir <dir>: `.
    pub label: String,
}

impl Spawner {
    /// Starts `runsv <name>` with the working directory `dir`.
    pub fn start<Fd: AsFd>(&self, dir: &Fd, name: &OsStr) -> io::Result<Pid> {
        let prog = CString::new("runsv").map_err(io::Error::other)?;
        let arg = CString::new(name.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains NUL"))?;
        let argv = [prog.clone(), arg];
        match platform::spawn_in_dir(
            dir.as_fd().as_raw_fd(),
            &argv,
            self.new_session,
            &self.signals,
        ) {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => {}
            r => return r,
        }
        let mut msg = self.label.as_bytes().to_vec();
        msg.extend_from_slice(b"fatal: unable to start runsv ");
        msg.extend_from_slice(name.as_bytes());
        msg.extend_from_slice(b": ");
        // SAFETY: runsvdir is single-threaded, so the child is a complete copy of a consistent
        // process: no lock can be held by a thread that no longer exists.
        match unsafe { fork() }? {
            ForkResult::Parent { child } => Ok(child),
            ForkResult::Child => self.child(dir, &prog, &argv, msg),
        }
    }

    fn child<Fd: AsFd>(&self, dir: &Fd, prog: &CString, argv: &[CString], mut msg: Vec<u8>) -> ! {
        let _ = platform::reset_child_signals(&self.signals);
        if self.new_session {
            let _ = nix::unistd::setsid();
        }
        let err = match nix::unistd::fchdir(dir.as_fd()) {
            Err(e) => e,
            Ok(()) => match nix::unistd::execvp(prog, argv) {
                Err(e) => e,
                Ok(never) => match never {},
            },
        };
        msg.extend_from_slice(errstr::errno_text(err as i32).unwrap_or("unknown error").as_bytes());
        msg.push(b'\n');
        // SAFETY: writing a buffer we own to fd 2, then ending the child without running the
        // parent's atexit handlers or destructors (this is a forked copy).
        unsafe {
            libc::write(2, msg.as_ptr().cast(), msg.len());
            libc::_exit(EXEC_FAILED)
        }
    }
}
