//! illumos backend: event ports (PORT_SOURCE_FD, PORT_SOURCE_FILE), a self-pipe for signals, uadmin.
//!
//! Not written yet: every call answers `Unsupported` (naming the OS) until the portability work
//! completes it.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::time::Instant;

use crate::platform::{unsupported, Event, How, Interest, Platform, Signal, WatchId};

pub const SUPPORTS_SUBREAPER: bool = false;
pub const SUPPORTS_DIR_WATCH: bool = false;

pub struct Native {
    _private: (),
}

impl Platform for Native {
    fn new(_signals: &[Signal]) -> io::Result<Self> {
        Err(unsupported("the portable event loop"))
    }
    fn add_fd(&mut self, _fd: RawFd, _interest: Interest) -> io::Result<()> {
        Err(unsupported("fd watching"))
    }
    fn remove_fd(&mut self, _fd: RawFd) -> io::Result<()> {
        Err(unsupported("fd watching"))
    }
    fn watch_dir(&mut self, _path: &Path) -> io::Result<WatchId> {
        Err(unsupported("directory watching"))
    }
    fn unwatch_dir(&mut self, _id: WatchId) -> io::Result<()> {
        Err(unsupported("directory watching"))
    }
    fn wait(&mut self, _deadline: Option<Instant>) -> io::Result<Event> {
        Err(unsupported("the portable event loop"))
    }
}

pub fn reset_child_signals(_signals: &[Signal]) -> io::Result<()> {
    Err(unsupported("signal reset"))
}
pub fn reboot(_how: How) -> io::Result<()> {
    Err(unsupported("reboot"))
}
pub fn set_ctrl_alt_del(_to_signal: bool) -> io::Result<()> {
    Err(unsupported("ctrl-alt-del routing"))
}
pub fn become_subreaper() -> io::Result<()> {
    Err(unsupported("a child subreaper"))
}
