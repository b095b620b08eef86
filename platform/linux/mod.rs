//! Linux backend: signalfd + epoll for the event wait, inotify for directories, reboot(2) and
//! prctl(PR_SET_CHILD_SUBREAPER) for the OS services.

mod epoll;
mod os;

pub use epoll::Native;
pub use os::{become_subreaper, reboot, reset_child_signals, set_ctrl_alt_del};

pub const SUPPORTS_SUBREAPER: bool = true;
pub const SUPPORTS_DIR_WATCH: bool = true;
