//! Process trees where the kernel has no cgroups: the process group of `./run` (see
//! `platform::Tree`). A contained run starts in a group of its own, so a stop reaches every
//! process that stayed in it. What calls setsid() or setpgid() leaves the group, and the
//! kernel reports nothing when the group empties: the caller re-checks on a deadline.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;

use crate::child::Pid;
use crate::platform::{unsupported, Signal};

/// Limits need cgroups: `cgroup/` files are refused here.
pub const LIMITS: bool = false;

/// The process group of one contained service.
#[derive(Debug, Default)]
pub struct Tree {
    /// The group's id: the pid of the run that leads it.
    group: Option<Pid>,
}

/// A child of a contained service leads a process group of its own.
#[derive(Debug, Clone, Copy)]
pub struct Join;

impl Tree {
    pub fn open(_name: &str, _which: &str, controllers: &[&str]) -> io::Result<Tree> {
        match controllers.first() {
            Some(c) => Err(unsupported(&format!("the {c} controller (limits need cgroups)"))),
            None => Ok(Tree::default()),
        }
    }

    /// Nothing is recorded here, so there is nothing to take over.
    pub fn reopen(_path: &Path) -> io::Result<Option<Tree>> {
        Ok(None)
    }

    pub fn path(&self) -> Option<&Path> {
        None
    }

    pub fn limit(&self, file: &str, _value: &[u8]) -> io::Result<()> {
        Err(unsupported(&format!("the limit {file} (limits need cgroups)")))
    }

    /// Nothing depends on it here.
    pub fn killed(&self) -> bool {
        false
    }

    pub fn set_killed(&self) {}

    pub fn join(&self) -> Join {
        Join
    }

    /// The run `pid` leads the group now; finish runs in a group of its own later.
    pub fn started(&mut self, pid: Pid) {
        self.group = Some(pid);
    }

    /// Whether a process of the group lives.
    pub fn busy(&self) -> io::Result<bool> {
        let Some(g) = self.group else { return Ok(false) };
        match nix::sys::signal::killpg(g, None) {
            Ok(()) => Ok(true),
            Err(nix::errno::Errno::ESRCH) => Ok(false),
            // EPERM: members that changed their user still count.
            Err(nix::errno::Errno::EPERM) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    pub fn change_fd(&self) -> Option<RawFd> {
        None
    }

    pub fn signal(&self, sig: Signal) -> io::Result<usize> {
        let Some(g) = self.group else { return Ok(0) };
        match nix::sys::signal::killpg(g, sig) {
            Ok(()) => Ok(1),
            Err(nix::errno::Errno::ESRCH) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    pub fn members(&self) -> io::Result<Vec<Pid>> {
        Err(unsupported("listing a process group"))
    }

    pub fn kill(&self) -> io::Result<()> {
        self.signal(Signal::SIGKILL).map(drop)
    }

    pub fn remove(&self) -> io::Result<()> {
        Ok(())
    }
}

/// A plain fork; the child makes its own group in [`enter`].
pub fn fork(_join: Option<&Join>) -> (libc::pid_t, bool) {
    // SAFETY: fork has no memory-safety preconditions; the caller's child keeps to
    // async-signal-safe calls.
    (unsafe { libc::fork() }, false)
}

/// In a freshly forked child: a process group of its own. Async-signal-safe.
pub fn enter(_join: &Join) -> io::Result<()> {
    // SAFETY: setpgid on the calling process only.
    if unsafe { libc::setpgid(0, 0) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
