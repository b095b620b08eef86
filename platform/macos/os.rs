//! macOS OS services: the private reboot(2) for reboot and halt (there is no power-off flag),
//! nothing for ctrl-alt-del or a subreaper, and the generic signal reset.

use std::io;

use crate::platform::{unsupported, How};

pub use crate::platform::portable::reset_child_signals;

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

pub fn become_subreaper() -> io::Result<()> {
    Err(unsupported("a child subreaper"))
}
