//! Linux OS services: reboot(2), ctrl-alt-del routing, the shutdown signals of container
//! managers, the PID-namespace test, early writeback and glibc's heap trim.

use std::io;
use std::os::fd::RawFd;

use nix::sys::reboot::{reboot as sys_reboot, set_cad_enabled, RebootMode};

use crate::platform::{How, ShutdownSignal, Signal};

pub use crate::platform::unix::generic::{
    nonblocking_pipe, reset_child_signals, set_controlling_tty,
};

pub const SUPPORTS_PID1: bool = true;

/// LXC halts a container with SIGPWR (and reboots it with SIGINT, runit's ctrl-alt-del);
/// `docker stop` and `podman stop` send SIGTERM.
pub const SHUTDOWN_SIGNALS: &[ShutdownSignal] = &[
    ShutdownSignal { signal: Signal::SIGPWR, how: How::PowerOff, container_only: false },
    ShutdownSignal { signal: Signal::SIGTERM, how: How::PowerOff, container_only: true },
];

pub fn reboot(how: How) -> io::Result<()> {
    let mode = match how {
        How::Reboot => RebootMode::RB_AUTOBOOT,
        How::Halt => RebootMode::RB_HALT_SYSTEM,
        How::PowerOff => RebootMode::RB_POWER_OFF,
    };
    // The Linux kernel does not sync on reboot(2); the caller syncs unless told not to.
    match sys_reboot(mode) {
        Ok(never) => match never {},
        Err(e) => Err(e.into()),
    }
}

pub fn set_ctrl_alt_del(to_signal: bool) -> io::Result<()> {
    // With CAD disabled the kernel sends SIGINT to PID 1 instead of rebooting.
    Ok(set_cad_enabled(!to_signal)?)
}

/// The inode of the initial PID namespace (`PROC_PID_INIT_INO` in the kernel's `proc_ns.h`,
/// fixed since Linux 3.8).
const INIT_PID_NS_INO: u64 = 0xEFFF_FFFC;

/// Whether this process lives in a child PID namespace (Docker, LXC, podman, systemd-nspawn,
/// `unshare --pid`). Without /proc, the `container` variable those managers set is the hint.
pub fn in_container() -> bool {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata("/proc/self/ns/pid") {
        Ok(m) => m.ino() != INIT_PID_NS_INO,
        Err(_) => std::env::var_os("container").is_some(),
    }
}

/// sync_file_range(SYNC_FILE_RANGE_WRITE): starts writeback without waiting for it.
pub fn start_writeback(fd: RawFd) {
    // SAFETY: sync_file_range only reads the fd number; a bad fd just fails.
    unsafe { libc::sync_file_range(fd, 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
}

/// glibc's malloc keeps what a program once used until the top of the heap is free;
/// `malloc_trim` releases every free page. musl's mallocng returns memory on its own.
pub fn trim_heap() {
    cfg_if::cfg_if! {
        if #[cfg(target_env = "gnu")] {
            // SAFETY: malloc_trim only walks glibc's own free lists; single-threaded caller.
            unsafe { libc::malloc_trim(0) };
        }
    }
}
