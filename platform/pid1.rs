//! What only PID 1 needs from the OS (Linux, the BSDs, illumos; macOS only compiles it, launchd
//! owns PID 1 there): the shutdown signals the kernel or a container manager sends to init, the
//! container test, and taking the console as controlling terminal.

use std::io;
use std::os::fd::RawFd;

use crate::platform::{How, Signal};

/// A signal that asks PID 1 for an orderly shutdown, beyond runit's own CONT and INT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownSignal {
    pub signal: Signal,
    /// What the sender asks for.
    pub how: How,
    /// Honoured only when PID 1 runs in a container; on a machine the signal means something
    /// else or nothing (the kernel's SIGTERM to every process spares init anyway).
    pub container_only: bool,
}

cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        /// LXC halts a container with SIGPWR (and reboots it with SIGINT, runit's ctrl-alt-del);
        /// `docker stop` and `podman stop` send SIGTERM.
        const SHUTDOWN: &[ShutdownSignal] = &[
            ShutdownSignal { signal: Signal::SIGPWR, how: How::PowerOff, container_only: false },
            ShutdownSignal { signal: Signal::SIGTERM, how: How::PowerOff, container_only: true },
        ];
    } else if #[cfg(any(target_os = "freebsd", target_os = "openbsd"))] {
        /// The kernel's shutdown requests to init (FreeBSD `shutdown_nice`, OpenBSD's power
        /// button): SIGUSR1 halt, SIGUSR2 halt and power off. SIGINT is ctrl-alt-del, as on Linux.
        const SHUTDOWN: &[ShutdownSignal] = &[
            ShutdownSignal { signal: Signal::SIGUSR1, how: How::Halt, container_only: false },
            ShutdownSignal { signal: Signal::SIGUSR2, how: How::PowerOff, container_only: false },
        ];
    } else {
        /// NetBSD routes the power button to powerd(8); illumos has no such request.
        const SHUTDOWN: &[ShutdownSignal] = &[];
    }
}

/// The signals PID 1 turns into a shutdown on this OS.
pub fn shutdown_signals() -> &'static [ShutdownSignal] {
    SHUTDOWN
}

cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        /// The inode of the initial PID namespace (`PROC_PID_INIT_INO` in the kernel's
        /// `proc_ns.h`, fixed since Linux 3.8).
        const INIT_PID_NS_INO: u64 = 0xEFFF_FFFC;

        /// Whether this process lives in a child PID namespace (Docker, LXC, podman,
        /// systemd-nspawn, `unshare --pid`). Without /proc, the `container` variable those
        /// managers set is the hint.
        pub fn in_container() -> bool {
            use std::os::unix::fs::MetadataExt;
            match std::fs::metadata("/proc/self/ns/pid") {
                Ok(m) => m.ino() != INIT_PID_NS_INO,
                Err(_) => std::env::var_os("container").is_some(),
            }
        }
    } else {
        /// Jails and zones have no init of their own to stop: never a container here.
        pub fn in_container() -> bool {
            false
        }
    }
}

cfg_if::cfg_if! {
    if #[cfg(apple)] {
        /// macOS never runs runit as PID 1 (launchd does); the libc crate lacks the request.
        pub fn set_controlling_tty(_fd: RawFd) -> io::Result<()> {
            Err(crate::platform::unsupported("taking a controlling terminal"))
        }
    } else {
        /// Makes the terminal `fd` the controlling terminal of the calling session leader
        /// (TIOCSCTTY, without stealing it from another session). Async-signal-safe: meant for
        /// the stage-1 child between fork and exec, right after `setsid()`.
        pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
            // SAFETY: TIOCSCTTY takes an int argument and touches no memory of ours; `fd` is
            // the caller's open descriptor.
            let r = unsafe { libc::ioctl(fd, libc::TIOCSCTTY as _, 0) };
            crate::sys::cvt(r).map(drop)
        }
    }
}
