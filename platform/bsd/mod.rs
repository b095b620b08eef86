//! FreeBSD, OpenBSD and NetBSD backend: the kqueue event loop (signals, fds, directory vnodes),
//! reboot(2) with each system's flags, and procctl(PROC_REAP_ACQUIRE) on FreeBSD.

#[cfg(not(runit_portable))]
mod kqueue;
mod os;

/// The native event loop; `--cfg runit_portable` replaces it (and only it) with the portable one.
#[cfg(not(runit_portable))]
pub mod event {
    pub use super::kqueue::{Native, SUPPORTS_DIR_WATCH};
}

pub use os::{become_subreaper, reboot, reset_child_signals, set_ctrl_alt_del, SUPPORTS_SUBREAPER};

pub const SUPPORTS_PID1: bool = true;
