//! illumos OS services: uadmin(2) A_SHUTDOWN for reboot, halt and power-off; no ctrl-alt-del
//! switch; the generic POSIX services.

use std::io;

use crate::platform::{How, ShutdownSignal};

pub use crate::platform::unix::generic::{
    in_container, nonblocking_pipe, reset_child_signals, set_controlling_tty, start_writeback,
    trim_heap,
};

pub const SUPPORTS_PID1: bool = true;

/// illumos sends init no shutdown request as a signal.
pub const SHUTDOWN_SIGNALS: &[ShutdownSignal] = &[];

// The illumos console has no ctrl-alt-del reboot to turn off, and no kernel request reaches
// init as a signal: "deliver as a signal" needs nothing, "reboot at once" cannot be had.
pub use crate::platform::unix::generic::set_ctrl_alt_del_signal_only as set_ctrl_alt_del;

extern "C" {
    /// uadmin(2) is in libc on illumos but not in the libc crate.
    fn uadmin(cmd: libc::c_int, fcn: libc::c_int, mdep: libc::uintptr_t) -> libc::c_int;
}

// <sys/uadmin.h>
const A_SHUTDOWN: libc::c_int = 2;
const AD_HALT: libc::c_int = 0;
const AD_BOOT: libc::c_int = 1;
const AD_POWEROFF: libc::c_int = 6;

/// A_SHUTDOWN syncs the file systems and stops the other processes itself.
pub fn reboot(how: How) -> io::Result<()> {
    let fcn = match how {
        How::Reboot => AD_BOOT,
        How::Halt => AD_HALT,
        How::PowerOff => AD_POWEROFF,
    };
    // SAFETY: plain integer arguments; mdep 0 means no boot arguments.
    crate::sys::cvt(unsafe { uadmin(A_SHUTDOWN, fcn, 0) })?;
    Err(io::Error::other("uadmin returned"))
}
