//! What runsvdir's bookkeeping does to the world, behind one trait (all OSes): the event wait,
//! directory watches, starting, signalling and reaping runsv, the clock and the warning lines.
//! The services directory itself is read directly (a temporary directory serves the unit
//! tests as well as any). [`System`] is the real thing; `supervisor_tests.rs` drives the
//! bookkeeping with a fake and needs no root, no Linux and no namespaces.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::path::Path;
use std::time::Instant;

use crate::child::{self, Pid, Reaped};
use crate::fail;
use crate::platform::{Event, Interest, Native, Platform, Signal, WatchId};
use crate::svdir::spawn::Spawner;

/// Everything runsvdir asks of the system.
pub trait Effects {
    /// Sleeps until an event or `deadline`.
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event>;
    fn now(&self) -> Instant;
    /// Reports the log pipe `fd` as readable.
    fn watch_fd(&mut self, fd: RawFd) -> io::Result<()>;
    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId>;
    fn unwatch_dir(&mut self, id: WatchId);
    /// One child that ended, if any.
    fn reap(&mut self) -> Option<Pid>;
    /// Starts `runsv <name>` in the services directory `dir`.
    fn spawn(&mut self, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Pid>;
    /// Sends `sig` to a runsv; it may be gone already, which its reaping will tell.
    fn kill(&mut self, pid: Pid, sig: Signal);
    /// One `runsvdir <dir>: warning: ` line.
    fn warn(&mut self, text: &dyn std::fmt::Display);
    /// Gives the heap's free pages back after a complete scan.
    fn trim_heap(&mut self);
}

/// The real system: the platform's event loop and `child`.
pub struct System {
    plat: Native,
    spawner: Spawner,
    /// `runsvdir <dir>: `
    label: Vec<u8>,
}

impl System {
    pub fn new(plat: Native, spawner: Spawner, label: Vec<u8>) -> System {
        System { plat, spawner, label }
    }
}

impl Effects for System {
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event> {
        self.plat.wait(deadline)
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn watch_fd(&mut self, fd: RawFd) -> io::Result<()> {
        self.plat.add_fd(fd, Interest::Read)
    }

    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId> {
        self.plat.watch_dir(path)
    }

    fn unwatch_dir(&mut self, id: WatchId) {
        // A watch whose directory is gone is gone too.
        let _ = self.plat.unwatch_dir(id);
    }

    fn reap(&mut self) -> Option<Pid> {
        match child::reap() {
            Reaped::Child(pid, _) => Some(pid),
            Reaped::NoneNow | Reaped::Childless => None,
        }
    }

    fn spawn(&mut self, dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Pid> {
        self.spawner.start(&dir, name)
    }

    fn kill(&mut self, pid: Pid, sig: Signal) {
        let _ = child::kill(pid, sig);
    }

    fn warn(&mut self, text: &dyn std::fmt::Display) {
        fail::warn(&self.label, text);
    }

    fn trim_heap(&mut self) {
        crate::platform::trim_heap();
    }
}
