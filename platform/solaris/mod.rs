//! illumos backend: the event-port loop (fds, a self-pipe for signals, file objects for
//! directories) and uadmin(2) for halt, reboot and power-off.

mod os;
#[cfg(not(runit_portable))]
mod ports;

/// The native event loop; `--cfg runit_portable` replaces it (and only it) with the portable one.
#[cfg(not(runit_portable))]
pub mod event {
    pub use super::ports::{Native, SUPPORTS_DIR_WATCH};
}

pub use os::{become_subreaper, reboot, reset_child_signals, set_ctrl_alt_del};

/// illumos has no reaper facility (PLATFORMS.md).
pub const SUPPORTS_SUBREAPER: bool = false;
pub const SUPPORTS_PID1: bool = true;
