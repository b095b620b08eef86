//! What any POSIX system does the same way, for the backends to take where their OS has nothing
//! better: the signal reset between fork and exec, ctrl-alt-del where the kernel only ever
//! signals, the controlling terminal, a non-blocking pipe, and the no-op hints.

use std::io;
use std::os::fd::RawFd;

use nix::sys::signal::{sigprocmask, SigHandler, SigSet, SigmaskHow};

use crate::platform::{unsupported, Signal};

/// Between fork and exec: every signal a loop took over goes back to its default disposition
/// (exec keeps SIG_IGN, and the kqueue backend ignores signals; signalfd blocked them), and the
/// mask is emptied. Only async-signal-safe calls.
pub fn reset_child_signals(signals: &[Signal]) -> io::Result<()> {
    for s in signals {
        // SAFETY: SIG_DFL is always a valid disposition; no handler code is installed.
        unsafe { nix::sys::signal::signal(*s, SigHandler::SigDfl) }?;
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    Ok(())
}

/// Ctrl-alt-del where the kernel never reboots at it on its own (the BSDs, illumos): delivering
/// it as a signal needs no switch, and rebooting at once cannot be had.
#[cfg_attr(not(any(bsd, solarish)), allow(dead_code))]
pub fn set_ctrl_alt_del_signal_only(to_signal: bool) -> io::Result<()> {
    if to_signal {
        Ok(())
    } else {
        Err(unsupported("rebooting at once on ctrl-alt-del"))
    }
}

/// Makes the terminal `fd` the controlling terminal of the calling session leader (TIOCSCTTY,
/// without stealing it from another session). Async-signal-safe: meant for the stage-1 child
/// between fork and exec, right after `setsid()`. macOS, never PID 1, has its own refusal.
#[cfg(not(apple))]
pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
    // SAFETY: TIOCSCTTY takes an int argument and touches no memory of ours; `fd` is the
    // caller's open descriptor.
    let r = unsafe { libc::ioctl(fd, libc::TIOCSCTTY as _, 0) };
    crate::sys::cvt(r).map(drop)
}

/// A non-blocking, close-on-exec pipe, made atomically by pipe2 so that a fork in another
/// thread cannot inherit it. macOS lacks pipe2 and has its own.
#[cfg(not(apple))]
pub fn nonblocking_pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use nix::fcntl::OFlag;
    Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?)
}

/// Jails and zones have no init of their own to stop: never a container outside Linux.
// Linux has its own.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub fn in_container() -> bool {
    false
}

/// Without a call to start writeback early, the kernel's own writeback does it a little later.
// Linux has its own.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub fn start_writeback(_fd: RawFd) {}

/// C libraries other than glibc (musl's mallocng, the BSDs' and illumos' allocators) hand free
/// pages back on their own: nothing to do.
// Linux has its own.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub fn trim_heap() {}
