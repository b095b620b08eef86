//! runsvdir's event loop (all OSes): signals, the log pipe, directory events and deadlines,
//! single-threaded in `Platform::wait`.
//!
//! Deadlines, and why each exists:
//! - a runsv that died less than a second after its start is started again one second after
//!   that start (no fork storm when runsv cannot run: missing from `$PATH`, service locked);
//! - a safety rescan every minute: the one change that makes no event is deep in a symlink
//!   chain (an entry `x -> /etc/sv/x` where `/etc/sv/x` is itself a link that gets retargeted,
//!   or a dangling link whose target appears). Such changes are rare admin acts, so a minute
//!   is an acceptable delay, while 3000 stats a minute cost nothing measurable;
//! - while the services directory cannot be read, a retry every second, reporting the problem
//!   once (not once a second as runit does);
//! - with a log argument, a dot every 15 minutes so old messages scroll away (runsvdir(8));
//! - where the platform cannot watch directories, a rescan every second (runit's pace).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::platform::Event;
use crate::svdir::effects::Effects;
use crate::svdir::rplog::Rplog;
use crate::svdir::services::Services;

pub(crate) const DOT_EVERY: Duration = Duration::from_secs(900);

/// Why runsvdir stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM: at once, the runsv processes keep running.
    Term,
    /// SIGHUP: every runsv was stopped and has exited (or a second HUP came).
    Halted,
}

/// The signals runsvdir takes over; children get them back at their defaults (SIGPIPE too,
/// which Rust's runtime ignores).
pub const SIGNALS: [Signal; 3] = [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGHUP];

/// The readproctitle log: the pipe runsvdir's stderr goes to, and the window it shows.
pub struct Log {
    pub pipe: OwnedFd,
    pub window: Rplog,
    pub dot_at: Instant,
}

/// runsvdir's whole state: the world it acts on, its services, its log.
pub struct Supervisor<E: Effects> {
    fx: E,
    services: Services,
    log: Option<Log>,
}

impl<E: Effects> Supervisor<E> {
    /// A supervisor of `svdir`; `log` when a log argument was given.
    pub fn new(fx: E, svdir: PathBuf, log: Option<Log>) -> Supervisor<E> {
        let services = Services::new(svdir, fx.now());
        Supervisor { fx, services, log }
    }

    /// Runs until a signal ends runsvdir.
    pub fn run(&mut self) -> io::Result<Stop> {
        self.begin()?;
        loop {
            let ev = self.fx.wait(self.next_deadline())?;
            if let Some(stop) = self.step(ev) {
                return Ok(stop);
            }
        }
    }

    /// Watches the log pipe and makes the first scan.
    fn begin(&mut self) -> io::Result<()> {
        if let Some(log) = &self.log {
            self.fx.watch_fd(log.pipe.as_raw_fd())?;
        }
        self.services.refresh(&mut self.fx, true);
        Ok(())
    }

    /// Handles one event and whatever became due; `Some` when runsvdir ends.
    fn step(&mut self, ev: Event) -> Option<Stop> {
        // Reap on SIGCHLD only: one inotify read can queue a thousand directory events, and
        // each waitpid(-1) walks every child. No exit is missed: a child that ends after the
        // signal was read raises SIGCHLD again.
        if ev == Event::Signal(Signal::SIGCHLD) {
            self.reap();
        }
        if let Some(stop) = self.handle(ev) {
            return Some(stop);
        }
        self.run_due(self.fx.now());
        if self.services.halting() && self.services.running() == 0 {
            return Some(Stop::Halted);
        }
        None
    }

    fn handle(&mut self, ev: Event) -> Option<Stop> {
        let halting = self.services.halting();
        match ev {
            // As runit: leave at once, the runsv processes keep running (stage 3 stops them).
            Event::Signal(Signal::SIGTERM) => return Some(Stop::Term),
            // SIGHUP: TERM to every runsv, then wait for them all before exiting 111, so that
            // a runsvdir started again right away finds no runsv still holding a service. A
            // second HUP, or a TERM, ends the wait at once.
            Event::Signal(Signal::SIGHUP) if halting => return Some(Stop::Halted),
            Event::Signal(Signal::SIGHUP) => self.services.halt(&mut self.fx),
            Event::Signal(_) | Event::Gone(_) | Event::Timeout => {}
            Event::Readable(_) => self.read_log(),
            Event::DirChanged(_) if halting => {}
            Event::DirChanged(id) => self.services.dir_changed(&mut self.fx, id),
        }
        None
    }

    /// Collects every child that exited (signals coalesce, so loop until none is left).
    fn reap(&mut self) {
        while let Some(pid) = self.fx.reap() {
            self.services.child_died(&mut self.fx, pid);
        }
    }

    fn read_log(&mut self) {
        let Some(log) = self.log.as_mut() else { return };
        let mut buf = [0u8; 4096];
        loop {
            match nix::unistd::read(&log.pipe, &mut buf) {
                Ok(0) => return,
                Ok(n) => log.window.push(buf.get(..n).unwrap_or_default()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return, // EAGAIN: drained
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        if self.services.halting() {
            return None;
        }
        let d = self.services.next_deadline();
        Some(self.log.as_ref().map_or(d, |l| d.min(l.dot_at)))
    }

    fn run_due(&mut self, now: Instant) {
        if self.services.halting() {
            return;
        }
        self.services.run_due(&mut self.fx, now);
        if let Some(log) = self.log.as_mut() {
            if log.dot_at <= now {
                log.window.push(b".");
                log.dot_at = now + DOT_EVERY;
            }
        }
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
