//! OS services of FreeBSD, OpenBSD and NetBSD (DragonFly follows FreeBSD): reboot(2) with each
//! system's flags, the kernel's shutdown requests to init, and the generic POSIX services.

use std::io;

use crate::platform::{How, ShutdownSignal};

pub use crate::platform::unix::generic::{
    in_container, nonblocking_pipe, reset_child_signals, set_controlling_tty, start_writeback,
    trim_heap,
};

pub const SUPPORTS_PID1: bool = true;

cfg_if::cfg_if! {
    if #[cfg(any(target_os = "freebsd", target_os = "openbsd"))] {
        /// The kernel's shutdown requests to init (FreeBSD `shutdown_nice`, OpenBSD's power
        /// button): SIGUSR1 halt, SIGUSR2 halt and power off. SIGINT is ctrl-alt-del, as on Linux.
        pub const SHUTDOWN_SIGNALS: &[ShutdownSignal] = &[
            ShutdownSignal { signal: crate::platform::Signal::SIGUSR1, how: How::Halt, container_only: false },
            ShutdownSignal { signal: crate::platform::Signal::SIGUSR2, how: How::PowerOff, container_only: false },
        ];
    } else {
        /// NetBSD routes the power button to powerd(8), not to init.
        pub const SHUTDOWN_SIGNALS: &[ShutdownSignal] = &[];
    }
}

// The BSD kernels never reboot on their own at ctrl-alt-del: FreeBSD's console drivers hand it to
// init as SIGINT (shutdown_nice), OpenBSD and NetBSD do nothing unless configured (OpenBSD's
// `machdep.kbdreset`). So "deliver it as a signal" needs no switch, and "reboot at once" cannot be
// had.
pub use crate::platform::unix::generic::set_ctrl_alt_del_signal_only as set_ctrl_alt_del;

/// The `howto` flags per PLATFORMS.md. The kernel syncs the disks itself unless RB_NOSYNC.
fn howto(how: How) -> libc::c_int {
    cfg_if::cfg_if! {
        if #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))] {
            // RB_AUTOBOOT is 0 and not exported by libc.
            match how {
                How::Reboot => 0,
                How::Halt => libc::RB_HALT,
                How::PowerOff => libc::RB_POWEROFF,
            }
        } else if #[cfg(target_os = "openbsd")] {
            // RB_POWERDOWN only takes effect together with RB_HALT (reboot(2)).
            match how {
                How::Reboot => libc::RB_AUTOBOOT,
                How::Halt => libc::RB_HALT,
                How::PowerOff => libc::RB_HALT | libc::RB_POWERDOWN,
            }
        } else {
            // NetBSD: RB_POWERDOWN already includes RB_HALT.
            match how {
                How::Reboot => libc::RB_AUTOBOOT,
                How::Halt => libc::RB_HALT,
                How::PowerOff => libc::RB_POWERDOWN,
            }
        }
    }
}

pub fn reboot(how: How) -> io::Result<()> {
    let flags = howto(how);
    cfg_if::cfg_if! {
        if #[cfg(target_os = "netbsd")] {
            // SAFETY: a null boot string is allowed when RB_STRING is not set.
            let ret = unsafe { libc::reboot(flags, std::ptr::null_mut()) };
        } else {
            // SAFETY: reboot takes plain flags.
            let ret = unsafe { libc::reboot(flags) };
        }
    }
    crate::sys::cvt(ret)?;
    // reboot(2) does not return on success.
    Err(io::Error::other("reboot returned"))
}
