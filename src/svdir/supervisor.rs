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

use crate::child::{self, Reaped};

use crate::fail::{self, Level};
use crate::platform::{Event, Platform, WatchId};
use crate::svdir::rplog::Rplog;
use crate::svdir::scan::{Failures, Key};
use crate::svdir::show;
use crate::svdir::spawn::Spawner;
use crate::svdir::table::Table;

pub(super) const RESTART_DELAY: Duration = Duration::from_secs(1);
pub(super) const RESCAN_EVERY: Duration = Duration::from_secs(60);
pub(super) const RETRY_EVERY: Duration = Duration::from_secs(1);
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

/// runsvdir's whole state.
pub struct Supervisor<P: Platform> {
    pub(super) p: P,
    pub(super) svdir: PathBuf,
    pub(super) label: String,
    pub(super) spawner: Spawner,
    pub(super) dir: Option<OwnedFd>,
    pub(super) ident: Option<Key>,
    pub(super) table: Table,
    pub(super) failures: Failures,
    /// How many runsv are running.
    pub(super) running: usize,
    pub(super) dir_watch: Option<WatchId>,
    pub(super) chain_watches: Vec<WatchId>,
    pub(super) polling: bool,
    pub(super) rescan_at: Instant,
    pub(super) retry_scan_at: Option<Instant>,
    pub(super) dir_error: Option<String>,
    pub(super) watch_warned: bool,
    log: Option<Log>,
    /// SIGHUP arrived: stop everything, start nothing.
    pub(super) halting: bool,
}

impl<P: Platform> Supervisor<P> {
    /// A supervisor of `svdir`; `log` when a log argument was given.
    pub fn new(p: P, svdir: PathBuf, new_session: bool, log: Option<Log>) -> Supervisor<P> {
        let label = format!("runsvdir {}: ", show(svdir.as_os_str()));
        let fatal = fail::head(label.as_bytes(), Level::Fatal);
        let spawner = Spawner { new_session, signals: &SIGNALS, fatal };
        Supervisor {
            p,
            svdir,
            label,
            spawner,
            dir: None,
            ident: None,
            table: Table::new(),
            failures: Failures::default(),
            running: 0,
            dir_watch: None,
            chain_watches: Vec::new(),
            polling: false,
            rescan_at: Instant::now() + RESCAN_EVERY,
            retry_scan_at: None,
            dir_error: None,
            watch_warned: false,
            log,
            halting: false,
        }
    }

    /// Runs until a signal ends runsvdir.
    pub fn run(&mut self) -> io::Result<Stop> {
        if let Some(log) = &self.log {
            self.p.add_fd(log.pipe.as_raw_fd(), crate::platform::Interest::Read)?;
        }
        self.refresh(true);
        loop {
            let ev = self.p.wait(self.next_deadline())?;
            // Reap on SIGCHLD only: one inotify read can queue a thousand directory events,
            // and each waitpid(-1) walks every child. No exit is missed: a child that ends
            // after the signal was read raises SIGCHLD again.
            if ev == Event::Signal(Signal::SIGCHLD) {
                self.reap();
            }
            if let Some(stop) = self.handle(ev) {
                return Ok(stop);
            }
            self.run_due(Instant::now());
            if self.halting && self.running == 0 {
                return Ok(Stop::Halted);
            }
        }
    }

    /// Writes a warning (into the log pipe when there is one).
    pub(super) fn warn(&self, text: &str) {
        fail::warn(self.label.as_bytes(), &text);
    }

    pub(super) fn warn_err(&self, text: &str, e: &io::Error) {
        fail::warn(self.label.as_bytes(), &fail::because(text, e));
    }

    fn handle(&mut self, ev: Event) -> Option<Stop> {
        match ev {
            // As runit: leave at once, the runsv processes keep running (stage 3 stops them).
            Event::Signal(Signal::SIGTERM) => return Some(Stop::Term),
            Event::Signal(Signal::SIGHUP) if self.halting => return Some(Stop::Halted),
            Event::Signal(Signal::SIGHUP) => self.halt(),
            Event::Signal(_) | Event::Gone(_) | Event::Timeout => {}
            Event::Readable(_) => self.read_log(),
            Event::DirChanged(_) if self.halting => {}
            Event::DirChanged(id) => self.dir_changed(id),
        }
        None
    }

    fn dir_changed(&mut self, id: WatchId) {
        if Some(id) == self.dir_watch {
            self.refresh(false);
        } else if self.chain_watches.contains(&id) {
            if self.svdir_moved() {
                self.refresh(false);
            }
        } else if let Some(slot) = self.table.by_watch(id) {
            self.check_log(slot);
        }
    }

    /// Whether the services directory path now leads to another directory (or none).
    fn svdir_moved(&self) -> bool {
        match std::fs::metadata(&self.svdir) {
            Ok(m) => {
                use std::os::unix::fs::MetadataExt;
                self.ident != Some((m.dev(), m.ino())) || self.dir.is_none()
            }
            Err(_) => self.dir.is_some(),
        }
    }

    /// SIGHUP: TERM to every runsv, then wait for them all before exiting 111, so that a
    /// runsvdir started again right away finds no runsv still holding a service. A second HUP,
    /// or a TERM, ends the wait at once.
    fn halt(&mut self) {
        self.halting = true;
        for pid in self.table.slots().filter_map(|(_, s)| s.pid()) {
            let _ = child::kill(pid, Signal::SIGTERM);
        }
    }

    /// Collects every child that exited (signals coalesce, so loop until none is left).
    fn reap(&mut self) {
        while let Reaped::Child(pid, _) = child::reap() {
            self.child_died(pid);
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
        if self.halting {
            return None;
        }
        let mut d = self.rescan_at;
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                d = d.min(t);
            }
        };
        consider(self.retry_scan_at);
        consider(self.log.as_ref().map(|l| l.dot_at));
        let retry = self.table.slots().filter(|(_, s)| s.retry).map(|(_, s)| s.due).min();
        consider(retry.map(|t| self.table.instant(t)));
        Some(d)
    }

    fn run_due(&mut self, now: Instant) {
        if self.halting {
            return;
        }
        if self.rescan_at <= now {
            self.refresh(true);
        } else if self.retry_scan_at.is_some_and(|t| t <= now) {
            self.refresh(false);
        }
        let t = self.table.now();
        let due: Vec<u32> =
            (self.table.slots()).filter(|(_, s)| s.retry && s.due <= t).map(|(i, _)| i).collect();
        for slot in due {
            self.start(slot);
        }
        if let Some(log) = self.log.as_mut() {
            if log.dot_at <= now {
                log.window.push(b".");
                log.dot_at = now + DOT_EVERY;
            }
        }
    }
}
