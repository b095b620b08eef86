//! After stage 3: TERM, then KILL, to what is left, then a forked child syncs and asks the
//! kernel to reboot, halt or power off (all OSes that let runit be PID 1). On Linux a halt ends
//! the calling process, and in a PID namespace it ends the namespace's init: the child takes
//! that call so PID 1 itself never dies by it.

use super::files;
use super::say;
use crate::child::{self, kill, Pid};
use crate::fail::exit;
use crate::platform::{self, How, Signal};

/// What stage 3 ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finale {
    /// runit's rule: reboot if /etc/runit/reboot is owner-executable, halt otherwise.
    ByFile,
    /// A shutdown signal asked for this.
    Exactly(How),
}

/// Resolves the finale (`reboot_armed`: /etc/runit/reboot is owner-executable); a halt powers
/// off where the OS can, as C runit does.
pub fn choose(finale: Finale, reboot_armed: bool) -> How {
    match finale {
        Finale::ByFile if reboot_armed => How::Reboot,
        Finale::ByFile => How::PowerOff,
        Finale::Exactly(how) => how,
    }
}

/// Sends TERM (and CONT, so stopped ones see it) to every process but PID 1; false when there
/// was none to send it to.
pub fn term_all() -> bool {
    let all = Pid::from_raw(-1);
    // kill(-1, 0) fails with ESRCH when no process but PID 1 is left.
    if kill(all, None).is_err() {
        return false;
    }
    say::info(&["sending TERM signal to all processes..."]);
    let _ = kill(all, Signal::SIGTERM);
    let _ = kill(all, Signal::SIGCONT);
    true
}

/// Sends KILL to every process but PID 1.
pub fn kill_all() {
    say::info(&["sending KILL signal to all processes..."]);
    let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
}

/// Forks the child that halts the machine; returns its pid.
pub fn start(how: How) -> std::io::Result<Pid> {
    // SAFETY: PID 1 is single-threaded, so the child may run any code; it only ends in _exit.
    unsafe { child::fork_with(exit::HALT_REFUSED, || halt_now(how)) }
}

/// In the child: the messages and calls of C runit, in its order. Returns only when the kernel
/// refused (no CAP_SYS_BOOT in a container); the child then exits 111.
fn halt_now(how: How) {
    let order: &[(How, &str)] = match how {
        How::Reboot => &[(How::Reboot, "system reboot.")],
        How::PowerOff => &[(How::PowerOff, "power off..."), (How::Halt, "system halt.")],
        How::Halt => &[(How::Halt, "system halt.")],
    };
    for (step, text) in order {
        say::info(&[text]);
        if !files::exists(files::NOSYNC) {
            nix::unistd::sync();
        }
        if let Err(e) = platform::reboot(*step) {
            say::warn_err(&["unable to ", verb(*step), ": "], &e);
        }
    }
}

fn verb(how: How) -> &'static str {
    match how {
        How::Reboot => "reboot",
        How::Halt => "halt",
        How::PowerOff => "power off",
    }
}
