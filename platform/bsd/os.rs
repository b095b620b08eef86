//! OS services of FreeBSD, OpenBSD and NetBSD (DragonFly follows FreeBSD): reboot(2) with each
//! system's flags, ctrl-alt-del routing, the FreeBSD reaper, and the generic signal reset.

use std::io;

use crate::platform::How;

pub use crate::platform::portable::reset_child_signals;

// The BSD kernels never reboot on their own at ctrl-alt-del: FreeBSD's console drivers hand it to
// init as SIGINT (shutdown_nice), OpenBSD and NetBSD do nothing unless configured (OpenBSD's
// `machdep.kbdreset`). So "deliver it as a signal" needs no switch, and "reboot at once" cannot be
// had.
pub use crate::platform::portable::set_ctrl_alt_del_signal_only as set_ctrl_alt_del;

/// Only FreeBSD (and DragonFly) have a reaper facility: procctl(2) PROC_REAP_ACQUIRE.
pub const SUPPORTS_SUBREAPER: bool = cfg!(any(target_os = "freebsd", target_os = "dragonfly"));

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

pub fn become_subreaper() -> io::Result<()> {
    cfg_if::cfg_if! {
        if #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))] {
            // SAFETY: PROC_REAP_ACQUIRE takes no data; getpid has no preconditions.
            let ret = unsafe {
                libc::procctl(
                    libc::P_PID,
                    libc::getpid() as libc::id_t,
                    libc::PROC_REAP_ACQUIRE,
                    std::ptr::null_mut(),
                )
            };
            match crate::sys::cvt(ret) {
                // EBUSY: this process already is a reaper.
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
                r => r.map(drop),
            }
        } else {
            Err(crate::platform::unsupported("a child subreaper"))
        }
    }
}
