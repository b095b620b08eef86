//! runsvdir's bookkeeping (all OSes): rescanning, starting and stopping runsv processes,
//! and the watches on each service directory (for a `log/` added later). Every act on the
//! world goes through [`Effects`], so `supervisor_tests.rs` drives it with a fake.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

use crate::child::{self, Pid};

use crate::platform::WatchId;
use crate::svdir::effects::Effects;
use crate::svdir::logdir::{self, LogDir};
use crate::svdir::scan::{self, Failures, Key, Target};
use crate::svdir::table::{Alias, Log, Runsv, Table};
use crate::svdir::{show, watch};

pub(super) const RESTART_DELAY: Duration = Duration::from_secs(1);
pub(super) const RESCAN_EVERY: Duration = Duration::from_secs(60);
pub(super) const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The services of one services directory and their runsv processes.
pub(super) struct Services {
    svdir: PathBuf,
    /// The services directory as opened at the last scan.
    dir: Option<OwnedFd>,
    ident: Option<Key>,
    table: Table,
    failures: Failures,
    /// How many runsv are running.
    running: usize,
    dir_watch: Option<WatchId>,
    chain_watches: Vec<WatchId>,
    /// No directory watch could be had: rescan every second.
    polling: bool,
    rescan_at: Instant,
    retry_scan_at: Option<Instant>,
    dir_error: Option<String>,
    watch_warned: bool,
    /// SIGHUP arrived: stop everything, start nothing.
    halting: bool,
}

impl Services {
    pub fn new(svdir: PathBuf, now: Instant) -> Services {
        Services {
            svdir,
            dir: None,
            ident: None,
            table: Table::new(now),
            failures: Failures::default(),
            running: 0,
            dir_watch: None,
            chain_watches: Vec::new(),
            polling: false,
            rescan_at: now + RESCAN_EVERY,
            retry_scan_at: None,
            dir_error: None,
            watch_warned: false,
            halting: false,
        }
    }

    /// How many runsv processes run.
    pub fn running(&self) -> usize {
        self.running
    }

    pub fn halting(&self) -> bool {
        self.halting
    }

    /// SIGHUP: TERM to every runsv, and nothing starts any more.
    pub fn halt(&mut self, fx: &mut impl Effects) {
        self.halting = true;
        for pid in self.table.slots().filter_map(|(_, s)| s.pid()) {
            fx.kill(pid, Signal::SIGTERM);
        }
    }

    /// The next time something is due: the safety rescan, a retry of the scan, a runsv start.
    pub fn next_deadline(&self) -> Instant {
        let mut d = self.rescan_at;
        if let Some(t) = self.retry_scan_at {
            d = d.min(t);
        }
        let retry = self.table.slots().filter(|(_, s)| s.retrying()).map(|(_, s)| s.due).min();
        if let Some(t) = retry {
            d = d.min(self.table.instant(t));
        }
        d
    }

    /// Does what is due at `now`.
    pub fn run_due(&mut self, fx: &mut impl Effects, now: Instant) {
        if self.rescan_at <= now {
            self.refresh(fx, true);
        } else if self.retry_scan_at.is_some_and(|t| t <= now) {
            self.refresh(fx, false);
        }
        let t = self.table.at(now);
        let due: Vec<u32> = (self.table.slots())
            .filter(|(_, s)| s.retrying() && s.due <= t)
            .map(|(i, _)| i)
            .collect();
        for slot in due {
            self.start(fx, slot);
        }
    }

    /// A directory watch fired.
    pub fn dir_changed(&mut self, fx: &mut impl Effects, id: WatchId) {
        if Some(id) == self.dir_watch {
            self.refresh(fx, false);
        } else if self.chain_watches.contains(&id) {
            if self.svdir_moved() {
                self.refresh(fx, false);
            }
        } else if let Some(slot) = self.table.by_watch(id) {
            self.check_log(fx, slot);
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

    /// Reads the services directory and brings the runsv processes in line with it, starting
    /// each new service as soon as the scan finds it (as runit does); `full` stats every entry
    /// again and looks for new `log/` directories everywhere.
    pub fn refresh(&mut self, fx: &mut impl Effects, full: bool) {
        let now = fx.now();
        if full {
            self.rescan_at = now + RESCAN_EVERY;
        }
        self.retry_scan_at = self.polling.then(|| now + RETRY_EVERY);
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = match nix::fcntl::open(&self.svdir, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => return self.dir_problem(fx, "unable to open directory ", e.into()),
        };
        let ident = match nix::sys::stat::fstat(&fd) {
            Ok(st) => scan::key_of(&st),
            Err(e) => return self.dir_problem(fx, "unable to stat ", e.into()),
        };
        let moved = self.ident != Some(ident);
        if moved {
            self.failures.clear();
            self.ident = Some(ident);
            self.rewatch(fx);
        }
        let mut stream = match scan::entries(&fd) {
            Ok(s) => s,
            Err(e) => return self.dir_problem(fx, "unable to read directory ", e.into()),
        };
        // Services already running before this scan: only those may have a new log/ to check.
        let old = if full { self.table.slots().map(|(i, _)| i).collect() } else { Vec::new() };
        self.dir = Some(fd);
        self.table.begin_scan();
        self.failures.begin();
        let mut aliases = Vec::new();
        for entry in stream.iter() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return self.dir_problem(fx, "unable to read directory ", e.into()),
            };
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name.as_bytes().first() != Some(&b'.') {
                self.saw(fx, name, entry.ino(), full || moved, &mut aliases);
            }
        }
        drop(stream);
        self.dir_error = None;
        self.failures.end();
        self.reconcile(fx, aliases);
        for slot in old {
            self.check_log(fx, slot);
        }
        if full {
            // The scan's buffers, and the table's growth at the first scan, leave free holes.
            fx.trim_heap();
        }
    }

    /// One entry of the services directory: a new service is started at once.
    fn saw(
        &mut self,
        fx: &mut impl Effects,
        name: &OsStr,
        d_ino: u64,
        full: bool,
        aliases: &mut Vec<Alias>,
    ) {
        let Some(dir) = self.dir.as_ref() else { return };
        // A name that still has the directory entry it had at the last scan leads where it led.
        let cached = (self.table.by_name(name).and_then(|s| self.table.get(s)))
            .filter(|s| !full && s.d_ino == d_ino)
            .map(|s| Target::Service(s.key));
        match cached.unwrap_or_else(|| scan::stat_target(dir, name)) {
            Target::Service(key) => {
                if let Some(slot) = self.table.saw(name, d_ino, key, aliases) {
                    self.start(fx, slot);
                }
            }
            Target::NotDir => {}
            Target::Failed(code) => {
                if self.failures.note(name, code) {
                    let e = io::Error::from_raw_os_error(code);
                    fx.warn(&crate::fail::because(&format!("unable to stat {}", show(name)), &e));
                }
            }
        }
    }

    /// Reports a problem with the services directory once, and retries on a deadline.
    fn dir_problem(&mut self, fx: &mut impl Effects, what: &str, e: io::Error) {
        let msg =
            format!("{what}{}: {}", show(self.svdir.as_os_str()), crate::errstr::describe(&e));
        if self.dir_error.as_deref() != Some(msg.as_str()) {
            fx.warn(&msg);
            self.dir_error = Some(msg);
        }
        self.retry_scan_at = Some(fx.now() + RETRY_EVERY);
    }

    /// Watches the services directory and the directories holding the links that lead to it.
    fn rewatch(&mut self, fx: &mut impl Effects) {
        for id in self.dir_watch.take().into_iter().chain(self.chain_watches.drain(..)) {
            fx.unwatch_dir(id);
        }
        match fx.watch_dir(&self.svdir) {
            Ok(id) => self.dir_watch = Some(id),
            Err(e) => {
                // Without notifications, rescan at runit's pace.
                if !self.polling {
                    let text = "unable to watch directory, rescanning every second";
                    fx.warn(&crate::fail::because(text, &e));
                }
                self.polling = true;
                self.retry_scan_at = Some(fx.now() + RETRY_EVERY);
            }
        }
        for parent in watch::chain_parents(&self.svdir) {
            if let Ok(id) = fx.watch_dir(&parent) {
                if Some(id) != self.dir_watch && !self.chain_watches.contains(&id) {
                    self.chain_watches.push(id);
                }
            }
        }
    }

    /// After a complete scan: starts runsv for services found again, TERMs the runsv of
    /// services that went away.
    fn reconcile(&mut self, fx: &mut impl Effects, aliases: Vec<Alias>) {
        let (found, gone) = self.table.end_scan(aliases);
        for slot in gone {
            let Some(svc) = self.table.get_mut(slot) else { continue };
            let ids = [svc.watch(), svc.log_watch()];
            svc.set_watch(None);
            svc.set_log_watch(None);
            match svc.pid() {
                Some(pid) => {
                    fx.kill(pid, Signal::SIGTERM);
                    svc.runsv = Runsv::Stopping(pid);
                }
                None => self.table.remove(slot),
            }
            ids.into_iter().flatten().for_each(|id| self.unwatch(fx, id));
        }
        for slot in found {
            self.start(fx, slot);
        }
    }

    /// Starts the runsv of `slot`, or schedules a retry when that fails.
    fn start(&mut self, fx: &mut impl Effects, slot: u32) {
        let now = self.table.at(fx.now());
        let halting = self.halting;
        let Some(svc) = self.table.get_mut(slot) else { return };
        if svc.retrying() {
            svc.runsv = Runsv::Idle;
        }
        if !svc.present || svc.pid().is_some() || halting {
            return;
        }
        if self.dir.is_none() {
            svc.runsv = Runsv::Retry;
            svc.due = Table::after(now, RETRY_EVERY);
            return;
        }
        // Watch first: a log/ made after the look below is then seen as an event.
        self.watch_service(fx, slot);
        let Some(dir) = self.dir.as_ref() else { return };
        let name = self.table.name(slot);
        let had_log = logdir::log_dir(dir, name) != LogDir::Absent;
        let spawned = fx.spawn(dir.as_fd(), name);
        let failure = spawned.as_ref().err().map(|e| {
            // runit's words for a failed fork; anything else (a name runsv cannot be given).
            let fork_failed = child::transient(e);
            let what = if fork_failed { "unable to fork for" } else { "unable to start runsv" };
            format!("{what} {}", show(name))
        });
        let Some(svc) = self.table.get_mut(slot) else { return };
        svc.log = if had_log { Log::Attached } else { Log::Missing };
        match spawned {
            Ok(pid) => {
                svc.runsv = Runsv::Running(pid);
                svc.due = Table::after(now, RESTART_DELAY);
                self.running += 1;
            }
            Err(e) => {
                svc.runsv = Runsv::Retry;
                svc.due = Table::after(now, RETRY_EVERY);
                fx.warn(&crate::fail::because(&failure.unwrap_or_default(), &e));
            }
        }
    }

    /// Watches the service directory itself, to notice a `log/` created in it.
    fn watch_service(&mut self, fx: &mut impl Effects, slot: u32) {
        let Some(svc) = self.table.get(slot) else { return };
        if svc.watch().is_some() || self.polling {
            return;
        }
        let path = self.svdir.join(self.table.name(slot));
        match fx.watch_dir(&path) {
            Ok(id) => {
                if self.is_watched(id) {
                    return; // the same directory as another watch: leave that one its owner
                }
                self.table.add_watch(id, slot);
                if let Some(svc) = self.table.get_mut(slot) {
                    svc.set_watch(Some(id));
                }
            }
            Err(e) if !self.watch_warned => {
                self.watch_warned = true;
                let text = "unable to watch service directories, a new log/ is seen by the rescan";
                fx.warn(&crate::fail::because(text, &e));
            }
            Err(_) => {}
        }
    }

    fn is_watched(&self, id: WatchId) -> bool {
        Some(id) == self.dir_watch
            || self.chain_watches.contains(&id)
            || self.table.by_watch(id).is_some()
    }

    fn unwatch(&mut self, fx: &mut impl Effects, id: WatchId) {
        self.table.drop_watch(id);
        fx.unwatch_dir(id);
    }

    /// A runsv exited: start it again if its service is still there.
    pub fn child_died(&mut self, fx: &mut impl Effects, pid: Pid) {
        let Some(slot) = self.table.by_pid(pid) else { return };
        let now = self.table.at(fx.now());
        let Some(svc) = self.table.get_mut(slot) else { return };
        svc.runsv = Runsv::Idle;
        self.running = self.running.saturating_sub(1);
        if !svc.present {
            self.table.remove(slot);
            return;
        }
        if svc.due <= now {
            self.start(fx, slot);
        } else {
            // Died within a second of its start: wait for the second to pass.
            svc.runsv = Runsv::Retry;
        }
    }

    /// Acts on a `log/` that appeared in a supervised service (see `logdir`).
    fn check_log(&mut self, fx: &mut impl Effects, slot: u32) {
        let Some(dir) = self.dir.as_ref() else { return };
        let Some(svc) = self.table.get(slot) else { return };
        let Some(pid) = svc.pid() else { return };
        if svc.log == Log::Attached || svc.stopping() || !svc.present {
            return;
        }
        match logdir::log_dir(dir, self.table.name(slot)) {
            LogDir::Absent => self.drop_log_watch(fx, slot),
            LogDir::Incomplete => {
                self.watch_log(fx, slot);
                // `log/run` may have become executable before the watch was in place.
                let ready = (self.dir.as_ref())
                    .is_some_and(|d| logdir::log_dir(d, self.table.name(slot)) == LogDir::Ready);
                if ready {
                    self.drop_log_watch(fx, slot);
                    self.log_ready(fx, slot, pid);
                }
            }
            LogDir::Ready => {
                self.drop_log_watch(fx, slot);
                self.log_ready(fx, slot, pid);
            }
        }
    }

    fn log_ready(&mut self, fx: &mut impl Effects, slot: u32, pid: Pid) {
        let Some(dir): Option<&OwnedFd> = self.dir.as_ref() else { return };
        let name = self.table.name(slot);
        let supervised = logdir::log_supervised(dir, name);
        let transparent = (!supervised).then(|| logdir::restart_is_transparent(dir, name));
        let name = show(name);
        let Some(svc) = self.table.get_mut(slot) else { return };
        if supervised {
            svc.log = Log::Attached;
            return;
        }
        let transparent = transparent.flatten();
        if transparent == Some(true) {
            fx.kill(pid, Signal::SIGTERM);
            svc.runsv = Runsv::Stopping(pid);
        } else if transparent == Some(false) && svc.log == Log::Missing {
            svc.log = Log::Reported;
            fx.warn(&format!(
                "{name}: new log/ unused: a restart would change the service's state, \
                 use sv exit {name}"
            ));
        }
    }

    fn watch_log(&mut self, fx: &mut impl Effects, slot: u32) {
        let Some(svc) = self.table.get(slot) else { return };
        if svc.log_watch().is_some() || self.polling {
            return;
        }
        let path = self.svdir.join(self.table.name(slot)).join("log");
        if let Ok(id) = fx.watch_dir(&path) {
            if !self.is_watched(id) {
                self.table.add_watch(id, slot);
                if let Some(svc) = self.table.get_mut(slot) {
                    svc.set_log_watch(Some(id));
                }
            }
        }
    }

    fn drop_log_watch(&mut self, fx: &mut impl Effects, slot: u32) {
        let Some(svc) = self.table.get_mut(slot) else { return };
        let id = svc.log_watch();
        svc.set_log_watch(None);
        if let Some(id) = id {
            self.unwatch(fx, id);
        }
    }
}
