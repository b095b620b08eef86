//! runsvdir's bookkeeping (all OSes): rescanning, starting and stopping runsv processes,
//! and the watches on each service directory (for a `log/` added later).

use std::ffi::OsStr;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::time::Instant;

use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;

use crate::child::{self, Pid};

use crate::platform::{Platform, WatchId};
use crate::svdir::logdir::{self, LogDir};
use crate::svdir::scan::{self, Target};
use crate::svdir::supervisor::{Supervisor, RESCAN_EVERY, RESTART_DELAY, RETRY_EVERY};
use crate::svdir::table::{Alias, Table};
use crate::svdir::{show, watch};

impl<P: Platform> Supervisor<P> {
    /// Reads the services directory and brings the runsv processes in line with it, starting
    /// each new service as soon as the scan finds it (as runit does); `full` stats every entry
    /// again and looks for new `log/` directories everywhere.
    pub(super) fn refresh(&mut self, full: bool) {
        let now = Instant::now();
        if full {
            self.rescan_at = now + RESCAN_EVERY;
        }
        self.retry_scan_at = self.polling.then(|| now + RETRY_EVERY);
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = match nix::fcntl::open(&self.svdir, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => return self.dir_problem("unable to open directory ", e.into()),
        };
        let ident = match nix::sys::stat::fstat(&fd) {
            Ok(st) => scan::key_of(&st),
            Err(e) => return self.dir_problem("unable to stat ", e.into()),
        };
        let moved = self.ident != Some(ident);
        if moved {
            self.failures.clear();
            self.ident = Some(ident);
            self.rewatch();
        }
        let mut stream = match scan::entries(&fd) {
            Ok(s) => s,
            Err(e) => return self.dir_problem("unable to read directory ", e.into()),
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
                Err(e) => return self.dir_problem("unable to read directory ", e.into()),
            };
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name.as_bytes().first() != Some(&b'.') {
                self.saw(name, entry.ino(), full || moved, &mut aliases);
            }
        }
        drop(stream);
        self.dir_error = None;
        self.failures.end();
        self.reconcile(aliases);
        for slot in old {
            self.check_log(slot);
        }
        if full {
            // The scan's buffers, and the table's growth at the first scan, leave free holes.
            crate::platform::trim_heap();
        }
    }

    /// One entry of the services directory: a new service is started at once.
    fn saw(&mut self, name: &OsStr, d_ino: u64, full: bool, aliases: &mut Vec<Alias>) {
        let Some(dir) = self.dir.as_ref() else { return };
        // A name that still has the directory entry it had at the last scan leads where it led.
        let cached = (self.table.by_name(name).and_then(|s| self.table.get(s)))
            .filter(|s| !full && s.d_ino == d_ino)
            .map(|s| Target::Service(s.key));
        match cached.unwrap_or_else(|| scan::stat_target(dir, name)) {
            Target::Service(key) => {
                if let Some(slot) = self.table.saw(name, d_ino, key, aliases) {
                    self.start(slot);
                }
            }
            Target::NotDir => {}
            Target::Failed(code) => {
                if self.failures.note(name, code) {
                    let e = io::Error::from_raw_os_error(code);
                    self.warn_err(&format!("unable to stat {}", show(name)), &e);
                }
            }
        }
    }

    /// Reports a problem with the services directory once, and retries on a deadline.
    fn dir_problem(&mut self, what: &str, e: io::Error) {
        let msg =
            format!("{what}{}: {}", show(self.svdir.as_os_str()), crate::errstr::describe(&e));
        if self.dir_error.as_deref() != Some(msg.as_str()) {
            self.warn(&msg);
            self.dir_error = Some(msg);
        }
        self.retry_scan_at = Some(Instant::now() + RETRY_EVERY);
    }

    /// Watches the services directory and the directories holding the links that lead to it.
    fn rewatch(&mut self) {
        for id in self.dir_watch.take().into_iter().chain(self.chain_watches.drain(..)) {
            let _ = self.p.unwatch_dir(id);
        }
        match self.p.watch_dir(&self.svdir) {
            Ok(id) => self.dir_watch = Some(id),
            Err(e) => {
                // Without notifications, rescan at runit's pace.
                if !self.polling {
                    self.warn_err("unable to watch directory, rescanning every second", &e);
                }
                self.polling = true;
                self.retry_scan_at = Some(Instant::now() + RETRY_EVERY);
            }
        }
        for parent in watch::chain_parents(&self.svdir) {
            if let Ok(id) = self.p.watch_dir(&parent) {
                if Some(id) != self.dir_watch && !self.chain_watches.contains(&id) {
                    self.chain_watches.push(id);
                }
            }
        }
    }

    /// After a complete scan: starts runsv for services found again, TERMs the runsv of
    /// services that went away.
    fn reconcile(&mut self, aliases: Vec<Alias>) {
        let (found, gone) = self.table.end_scan(aliases);
        for slot in gone {
            let Some(svc) = self.table.get_mut(slot) else { continue };
            let ids = [svc.watch(), svc.log_watch()];
            svc.set_watch(None);
            svc.set_log_watch(None);
            match svc.pid() {
                Some(pid) => {
                    let _ = child::kill(pid, Signal::SIGTERM);
                    svc.stopping = true;
                }
                None => self.table.remove(slot),
            }
            ids.into_iter().flatten().for_each(|id| self.unwatch(id));
        }
        for slot in found {
            self.start(slot);
        }
    }

    /// Starts the runsv of `slot`, or schedules a retry when that fails.
    pub(super) fn start(&mut self, slot: u32) {
        let now = self.table.now();
        let halting = self.halting;
        let Some(svc) = self.table.get_mut(slot) else { return };
        svc.retry = false;
        if !svc.present || svc.pid().is_some() || halting {
            return;
        }
        if self.dir.is_none() {
            svc.retry = true;
            svc.due = Table::after(now, RETRY_EVERY);
            return;
        }
        // Watch first: a log/ made after the look below is then seen as an event.
        self.watch_service(slot);
        let Some(dir) = self.dir.as_ref() else { return };
        let name = self.table.name(slot);
        let had_log = logdir::log_dir(dir, name) != LogDir::Absent;
        let spawned = self.spawner.start(dir, name);
        let failure = spawned.as_ref().err().map(|e| {
            // runit's words for a failed fork; anything else (a name runsv cannot be given).
            let fork_failed = child::transient(e);
            let what = if fork_failed { "unable to fork for" } else { "unable to start runsv" };
            format!("{what} {}", show(name))
        });
        let Some(svc) = self.table.get_mut(slot) else { return };
        svc.had_log = had_log;
        svc.log_reported = false;
        match spawned {
            Ok(pid) => {
                svc.set_pid(Some(pid));
                svc.due = Table::after(now, RESTART_DELAY);
                svc.stopping = false;
                self.running += 1;
            }
            Err(e) => {
                svc.retry = true;
                svc.due = Table::after(now, RETRY_EVERY);
                self.warn_err(&failure.unwrap_or_default(), &e);
            }
        }
    }

    /// Watches the service directory itself, to notice a `log/` created in it.
    fn watch_service(&mut self, slot: u32) {
        let Some(svc) = self.table.get(slot) else { return };
        if svc.watch().is_some() || self.polling {
            return;
        }
        let path = self.svdir.join(self.table.name(slot));
        match self.p.watch_dir(&path) {
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
                self.warn_err(text, &e);
            }
            Err(_) => {}
        }
    }

    fn is_watched(&self, id: WatchId) -> bool {
        Some(id) == self.dir_watch
            || self.chain_watches.contains(&id)
            || self.table.by_watch(id).is_some()
    }

    fn unwatch(&mut self, id: WatchId) {
        self.table.drop_watch(id);
        let _ = self.p.unwatch_dir(id);
    }

    /// A runsv exited: start it again if its service is still there.
    pub(super) fn child_died(&mut self, pid: Pid) {
        let Some(slot) = self.table.by_pid(pid) else { return };
        let now = self.table.now();
        let Some(svc) = self.table.get_mut(slot) else { return };
        svc.set_pid(None);
        svc.stopping = false;
        self.running = self.running.saturating_sub(1);
        if !svc.present {
            self.table.remove(slot);
            return;
        }
        if svc.due <= now {
            self.start(slot);
        } else {
            svc.retry = true; // died within a second of its start: wait for the second to pass
        }
    }

    /// Acts on a `log/` that appeared in a supervised service (see `logdir`).
    pub(super) fn check_log(&mut self, slot: u32) {
        let Some(dir) = self.dir.as_ref() else { return };
        let Some(svc) = self.table.get(slot) else { return };
        let Some(pid) = svc.pid() else { return };
        if svc.had_log || svc.stopping || !svc.present {
            return;
        }
        match logdir::log_dir(dir, self.table.name(slot)) {
            LogDir::Absent => self.drop_log_watch(slot),
            LogDir::Incomplete => {
                self.watch_log(slot);
                // `log/run` may have become executable before the watch was in place.
                let ready = (self.dir.as_ref())
                    .is_some_and(|d| logdir::log_dir(d, self.table.name(slot)) == LogDir::Ready);
                if ready {
                    self.drop_log_watch(slot);
                    self.log_ready(slot, pid);
                }
            }
            LogDir::Ready => {
                self.drop_log_watch(slot);
                self.log_ready(slot, pid);
            }
        }
    }

    fn log_ready(&mut self, slot: u32, pid: Pid) {
        let Some(dir): Option<&OwnedFd> = self.dir.as_ref() else { return };
        let name = self.table.name(slot);
        let supervised = logdir::log_supervised(dir, name);
        let transparent = (!supervised).then(|| logdir::restart_is_transparent(dir, name));
        let name = show(name);
        let Some(svc) = self.table.get_mut(slot) else { return };
        if supervised {
            svc.had_log = true;
            return;
        }
        let transparent = transparent.flatten();
        if transparent == Some(true) {
            let _ = child::kill(pid, Signal::SIGTERM);
            svc.stopping = true;
        } else if transparent == Some(false) && !svc.log_reported {
            svc.log_reported = true;
            self.warn(&format!(
                "{name}: new log/ unused: a restart would change the service's state, \
                 use sv exit {name}"
            ));
        }
    }

    fn watch_log(&mut self, slot: u32) {
        let Some(svc) = self.table.get(slot) else { return };
        if svc.log_watch().is_some() || self.polling {
            return;
        }
        let path = self.svdir.join(self.table.name(slot)).join("log");
        if let Ok(id) = self.p.watch_dir(&path) {
            if !self.is_watched(id) {
                self.table.add_watch(id, slot);
                if let Some(svc) = self.table.get_mut(slot) {
                    svc.set_log_watch(Some(id));
                }
            }
        }
    }

    fn drop_log_watch(&mut self, slot: u32) {
        let Some(svc) = self.table.get_mut(slot) else { return };
        let id = svc.log_watch();
        svc.set_log_watch(None);
        if let Some(id) = id {
            self.unwatch(id);
        }
    }
}
