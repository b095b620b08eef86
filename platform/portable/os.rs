//! OS services for systems without a backend of their own (none of the supported OSes): the
//! generic signal reset works; reboot, ctrl-alt-del routing and the subreaper answer
//! `Unsupported`, naming the OS, because there is no portable way to do them.

use std::io;

use crate::platform::{unsupported, How};

pub use super::portable::reset_child_signals;

pub const SUPPORTS_SUBREAPER: bool = false;
pub const SUPPORTS_PID1: bool = true;

pub fn reboot(_how: How) -> io::Result<()> {
    Err(unsupported("rebooting"))
}

pub fn set_ctrl_alt_del(_to_signal: bool) -> io::Result<()> {
    Err(unsupported("ctrl-alt-del routing"))
}

pub fn become_subreaper() -> io::Result<()> {
    Err(unsupported("a child subreaper"))
}
