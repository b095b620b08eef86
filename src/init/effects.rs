//! What PID 1's phases do to the world, behind one trait (all OSes that let runit be PID 1):
//! the event wait, reaping, starting the stage scripts, signals, the /etc/runit files, console
//! lines and the halt. The machine in `machine.rs` sees nothing else, so its unit tests drive it
//! with a fake and need no root, no namespace and no Linux; [`Native`] is the real thing.

use std::io;
use std::time::Instant;

use crate::child::{self, Pid};

use super::finale;
use super::spawn::{self, Tty};
use super::stage::Ended;
use super::{files, say};
use crate::platform::{self, Event, How, Native as Backend, Platform, ShutdownSignal, Signal};

/// One answer of [`Effects::reap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaped {
    /// This child ended.
    Child(Pid, Ended),
    /// Children are left, none has ended.
    NoneNow,
    /// No child at all is left.
    Childless,
}

/// Everything PID 1's machine asks of the system.
pub trait Effects {
    /// Sleeps until an event or `deadline`.
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event>;
    /// Collects one ended child (waitpid(-1, WNOHANG)).
    fn reap(&mut self) -> Reaped;
    fn now(&self) -> Instant;
    /// Waits a while after an unexpected failure of the event wait (C runit's sleep(5)).
    fn pause(&mut self);
    /// Starts `path` in a session of its own, with default signal handling.
    fn spawn(&mut self, path: &'static str, tty: Tty) -> io::Result<Pid>;
    /// Sends `sig` to `pid` (a negative pid: the process group); errors are of no use here.
    fn kill(&mut self, pid: Pid, sig: Signal);
    /// TERM and CONT to every process but PID 1; false when there was none.
    fn term_all(&mut self) -> bool;
    /// KILL to every process but PID 1.
    fn kill_all(&mut self);
    /// Forks the child that halts, reboots or powers off.
    fn start_halter(&mut self, how: How) -> io::Result<Pid>;
    /// Whether `path` is owner-executable (stopit, ctrlaltdel, reboot).
    fn owner_exec(&self, path: &'static str) -> bool;
    /// Clears stopit's permission bits once its shutdown was accepted.
    fn disarm_stopit(&mut self);
    /// Whether PID 1 runs in a container (shutdown signals meant for containers apply; a halt
    /// the kernel refuses ends PID 1).
    fn in_container(&self) -> bool;
    /// The OS's shutdown signals and what each asks for.
    fn shutdown_signals(&self) -> &'static [ShutdownSignal];
    /// A console line `- runit: ` and the parts.
    fn info(&mut self, parts: &[&str]);
    /// A console line `- runit: warning: ` and the parts, ending in `err`'s text if given.
    fn warn(&mut self, parts: &[&str], err: Option<&io::Error>);
}

/// The real system: the platform's event wait and PID 1's modules.
pub struct Native {
    plat: Backend,
    /// The signals PID 1 took over; children get them back at their defaults.
    signals: Vec<Signal>,
}

impl Native {
    pub fn new(plat: Backend, signals: Vec<Signal>) -> Native {
        Native { plat, signals }
    }
}

impl Effects for Native {
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event> {
        self.plat.wait(deadline)
    }

    fn reap(&mut self) -> Reaped {
        loop {
            return match child::reap() {
                child::Reaped::Child(pid, st) => match (st.exit_code(), st.signal()) {
                    (Some(code), _) => Reaped::Child(pid, Ended::Exit(code)),
                    (None, Some(sig)) => Reaped::Child(pid, Ended::Crash(sig)),
                    // Stopped or continued: not an end (and not asked for: no WUNTRACED).
                    (None, None) => continue,
                },
                child::Reaped::NoneNow => Reaped::NoneNow,
                child::Reaped::Childless => Reaped::Childless,
            };
        }
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn pause(&mut self) {
        nix::unistd::sleep(5);
    }

    fn spawn(&mut self, path: &'static str, tty: Tty) -> io::Result<Pid> {
        spawn::spawn(path, tty, &self.signals)
    }

    fn kill(&mut self, pid: Pid, sig: Signal) {
        let _ = child::kill(pid, sig);
    }

    fn term_all(&mut self) -> bool {
        finale::term_all()
    }

    fn kill_all(&mut self) {
        finale::kill_all();
    }

    fn start_halter(&mut self, how: How) -> io::Result<Pid> {
        finale::start(how)
    }

    fn owner_exec(&self, path: &'static str) -> bool {
        files::owner_exec(path)
    }

    fn disarm_stopit(&mut self) {
        files::disarm_stopit();
    }

    fn in_container(&self) -> bool {
        platform::in_container()
    }

    fn shutdown_signals(&self) -> &'static [ShutdownSignal] {
        platform::shutdown_signals()
    }

    fn info(&mut self, parts: &[&str]) {
        say::info(parts);
    }

    fn warn(&mut self, parts: &[&str], err: Option<&io::Error>) {
        match err {
            Some(e) => say::warn_err(parts, e),
            None => say::warn(parts),
        }
    }
}
