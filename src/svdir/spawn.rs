//! Starting one `runsv` (all OSes): in the services directory, `runsv <name>` found through
//! `$PATH` as runit does, with the signals runsvdir took over back at their defaults, and a new
//! session with `-P`.
//!
//! fork+exec by hand, as runit does. Neither `std::process::Command` nor posix_spawn: both make
//! runsvdir wait for each child to exec, and with a thousand services starting at once that
//! wait is spent queueing for a CPU behind the services already started. Measured with 3000
//! services on 2 cores (ci/bench-runsvdir's tree): all up in 4.7-5.1 s with fork, 5.9-6.1 s
//! with posix_spawn; fork's page-table copy of this small process costs less than the waits.
//! A runsv that cannot be exec'd is a child that reports and exits, as in runit.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::AsFd;
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
