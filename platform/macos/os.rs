//! macOS OS services: the private reboot(2) for reboot and halt (there is no power-off flag),
//! nothing for ctrl-alt-del or a controlling terminal of PID 1, and the generic POSIX services.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::platform::{unsupported, How, ShutdownSignal};

pub use crate::platform::unix::generic::{
    in_container, reset_child_signals, start_writeback, trim_heap,
};

/// launchd owns PID 1; `runit` refuses to run as PID 1 here.
pub const SUPPORTS_PID1: bool = false;

/// No kernel request to init reaches runit here.
pub const SHUTDOWN_SIGNALS: &[ShutdownSignal] = &[];

extern "C" {
    /// reboot(2) exists in libSystem but is not in the libc crate (it is a private interface).
    #[link_name = "reboot"]
    fn sys_reboot(howto: libc::c_int) -> libc::c_int;
}

/// <sys/reboot.h>: RB_AUTOBOOT is 0, RB_HALT 0x8.
const RB_AUTOBOOT: libc::c_int = 0;
const RB_HALT: libc::c_int = 0x8;

pub fn reboot(how: How) -> io::Result<()> {
    let flags = match how {
        How::Reboot => RB_AUTOBOOT,
        How::Halt => RB_HALT,
        How::PowerOff => return Err(unsupported("powering off with reboot(2)")),
    };
    // SAFETY: reboot takes plain flags; it needs root and does not return on success.
    crate::sys::cvt(unsafe { sys_reboot(flags) })?;
    Err(io::Error::other("reboot returned"))
}

/// launchd, not runit, is PID 1: there is no ctrl-alt-del signal to route to us.
pub fn set_ctrl_alt_del(_to_signal: bool) -> io::Result<()> {
    Err(unsupported("ctrl-alt-del routing (launchd is PID 1)"))
}

/// macOS never runs runit as PID 1 (launchd does); the libc crate lacks the request.
pub fn set_controlling_tty(_fd: RawFd) -> io::Result<()> {
    Err(unsupported("taking a controlling terminal"))
}

/// macOS lacks pipe2: the flags are set right after pipe(2), before anything else can fork
/// (every program here is single-threaded).
pub fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    use crate::sys::{cvt, set_cloexec, set_nonblock};
    let mut fds = [-1; 2];
    // SAFETY: pipe writes two fds into the array.
    cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    // SAFETY: both fds were just created by pipe and are owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [&r, &w] {
        set_cloexec(fd.as_raw_fd(), true)?;
        set_nonblock(fd, true)?;
    }
    Ok((r, w))
}
