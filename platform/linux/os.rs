//! Linux OS services: reboot(2), ctrl-alt-del routing, the child subreaper, and signal reset in
//! children.

use std::io;

use nix::sys::reboot::{reboot as sys_reboot, set_cad_enabled, RebootMode};
use nix::sys::signal::{SigSet, SigmaskHow};

use crate::platform::{How, Signal};

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

pub fn become_subreaper() -> io::Result<()> {
    Ok(nix::sys::prctl::set_child_subreaper(true)?)
}

/// Between fork and exec: the signals were blocked for the signalfd, so unblock everything and
/// put the dispositions back to default. Only async-signal-safe calls.
pub fn reset_child_signals(signals: &[Signal]) -> io::Result<()> {
    for s in signals {
        // SAFETY: SIG_DFL is always a valid disposition; no handler code is installed.
        unsafe { nix::sys::signal::signal(*s, nix::sys::signal::SigHandler::SigDfl) }?;
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    Ok(())
}
