//! macOS backend: the BSD kqueue event loop (shared file `platform/bsd/kqueue.rs`). macOS has no
//! PID-1 role for runit (launchd is PID 1), so the init-only services answer `Unsupported`.

#[cfg(not(runit_portable))]
#[path = "../bsd/kqueue.rs"]
mod kqueue;
mod os;

/// The native event loop; `--cfg runit_portable` replaces it (and only it) with the portable one.
#[cfg(not(runit_portable))]
pub mod event {
    pub use super::kqueue::{Native, SUPPORTS_DIR_WATCH};
}

pub use os::{become_subreaper, reboot, reset_child_signals, set_ctrl_alt_del};

/// No reaper facility on macOS.
pub const SUPPORTS_SUBREAPER: bool = false;
/// launchd owns PID 1; `runit` refuses to run as PID 1 here.
pub const SUPPORTS_PID1: bool = false;
