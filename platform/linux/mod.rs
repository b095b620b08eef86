//! Linux backend: signalfd + epoll for the event wait, inotify for directories, reboot(2) and
//! prctl(PR_SET_CHILD_SUBREAPER) for the OS services.

#[cfg(not(runit_portable))]
mod epoll;
mod os;

/// The native event loop; `--cfg runit_portable` replaces it (and only it) with the portable one.
#[cfg(not(runit_portable))]
pub mod event {
    pub use super::epoll::Native;
    pub const SUPPORTS_DIR_WATCH: bool = true;
}

pub use os::{become_subreaper, reboot, reset_child_signals, set_ctrl_alt_del};

pub const SUPPORTS_SUBREAPER: bool = true;
pub const SUPPORTS_PID1: bool = true;
