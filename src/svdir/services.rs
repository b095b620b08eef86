//! runsvdir's bookkeeping (all OSes): rescanning, starting and stopping runsv processes,
//! and the watches on each service directory (for a `log/` added later).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::time::Instant;

use nix::fcntl::OFlag;
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::platform::{Platform, WatchId};
use crate::svdir::logdir::{self, LogDir};
use crate::svdir::scan::{Key, Target};
use crate::svdir::supervisor::{Service, Supervisor, RESCAN_EVERY, RESTART_DELAY, RETRY_EVERY};
use crate::svdir::{show, watch};

impl<P: Platform> Supervisor<P> {
    /// Reads the services directory and brings the runsv processes in line with it; `full`
    /// stats every entry again and looks for new `log/` directories everywhere.
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
            Ok(st) => crate::svdir::scan::key_of(&st),
            Err(e) => return self.dir_problem("unable to stat ", e.into()),
        };
        if self.ident != Some(ident) {
            self.scanner.clear();
            self.ident = Some(ident);
            self.rewatch();
        }
        let scan = match self.scanner.scan(&fd, full) {
            Ok(s) => s,
            Err(e) => return self.dir_problem("unable to read directory ", e),
        };
        self.dir_error = None;
        self.dir = Some(fd);
        for (name, e) in &scan.new_failures {
            self.warn_err(&format!("unable to stat {}", show(name)), e);
        }
        self.reconcile(scan.services);
        if full {
            let keys: Vec<Key> = self.services.keys().copied().collect();
            keys.into_iter().for_each(|k| self.check_log(k));
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

    /// Starts runsv for new services, TERMs the runsv of services that went away.
    fn reconcile(&mut self, mut found: HashMap<Key, OsString>) {
        let mut to_start = Vec::new();
        let mut to_unwatch = Vec::new();
        for (key, svc) in self.services.iter_mut() {
            match found.remove(key) {
                Some(name) => {
                    if self.scanner.target_of(&svc.name) != Some(Target::Service(*key)) {
                        svc.name = name; // renamed: runsv runs on; restarts use the new name
                    }
                    if !svc.present {
                        svc.present = true;
                        if svc.pid.is_none() {
                            to_start.push(*key);
                        }
                    }
                }
                None if svc.present => {
                    svc.present = false;
                    svc.retry_at = None;
                    to_unwatch.extend(svc.watch.take().into_iter().chain(svc.log_watch.take()));
                    if let Some(pid) = svc.pid {
                        let _ = kill(pid, Signal::SIGTERM);
                        svc.stopping = true;
                    }
                }
                None => {}
            }
        }
        self.services.retain(|_, s| s.present || s.pid.is_some());
        for id in to_unwatch {
            self.unwatch(id);
        }
        for (key, name) in found {
            self.services.insert(key, Service::new(name));
            to_start.push(key);
        }
        for key in to_start {
            self.start(key);
        }
    }

    /// Starts the runsv of `key`, or schedules a retry when that fails.
    pub(super) fn start(&mut self, key: Key) {
        let now = Instant::now();
        let Some(svc) = self.services.get_mut(&key) else { return };
        svc.retry_at = None;
        if !svc.present || svc.pid.is_some() || self.halting {
            return;
        }
        let Some(dir) = self.dir.as_ref() else {
            svc.retry_at = Some(now + RETRY_EVERY);
            return;
        };
        svc.had_log = logdir::log_dir(dir, &svc.name) != LogDir::Absent;
        svc.log_reported = false;
        match self.spawner.start(dir, &svc.name) {
            Ok(pid) => {
                svc.pid = Some(pid);
                svc.started = now;
                svc.stopping = false;
                self.pids.insert(pid, key);
            }
            Err(e) => {
                svc.retry_at = Some(now + RETRY_EVERY);
                // posix_spawn reports exec failures here too; fork failures keep runit's words.
                let fork_failed = matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::ENOMEM));
                let what = if fork_failed { "unable to fork for" } else { "unable to start runsv" };
                let text = format!("{what} {}", show(&svc.name));
                self.warn_err(&text, &e);
            }
        }
        self.watch_service(key);
    }

    /// Watches the service directory itself, to notice a `log/` created in it.
    fn watch_service(&mut self, key: Key) {
        let Some(svc) = self.services.get(&key) else { return };
        if svc.watch.is_some() || self.polling {
            return;
        }
        let path = self.svdir.join(&svc.name);
        match self.p.watch_dir(&path) {
            Ok(id) => {
                if self.is_watched(id) {
                    return; // the same directory as another watch: leave that one its owner
                }
                self.svc_watches.insert(id, key);
                if let Some(svc) = self.services.get_mut(&key) {
                    svc.watch = Some(id);
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
            || self.svc_watches.contains_key(&id)
    }

    fn unwatch(&mut self, id: WatchId) {
        self.svc_watches.remove(&id);
        let _ = self.p.unwatch_dir(id);
    }

    /// A runsv exited: start it again if its service is still there.
    pub(super) fn child_died(&mut self, pid: Pid) {
        let Some(key) = self.pids.remove(&pid) else { return };
        let Some(svc) = self.services.get_mut(&key) else { return };
        svc.pid = None;
        svc.stopping = false;
        if !svc.present {
            self.services.remove(&key);
            return;
        }
        let due = svc.started + RESTART_DELAY;
        if due <= Instant::now() {
            self.start(key);
        } else {
            svc.retry_at = Some(due);
        }
    }

    /// Acts on a `log/` that appeared in a supervised service (see `logdir`).
    pub(super) fn check_log(&mut self, key: Key) {
        let Some(dir) = self.dir.as_ref() else { return };
        let Some(svc) = self.services.get(&key) else { return };
        let Some(pid) = svc.pid else { return };
        if svc.had_log || svc.stopping || !svc.present {
            return;
        }
        let name = svc.name.clone();
        match logdir::log_dir(dir, &name) {
            LogDir::Absent => self.drop_log_watch(key),
            LogDir::Incomplete => {
                self.watch_log(key);
                // `log/run` may have become executable before the watch was in place.
                let ready =
                    (self.dir.as_ref()).is_some_and(|d| logdir::log_dir(d, &name) == LogDir::Ready);
                if ready {
                    self.drop_log_watch(key);
                    self.log_ready(key, pid);
                }
            }
            LogDir::Ready => {
                self.drop_log_watch(key);
                self.log_ready(key, pid);
            }
        }
    }

    fn log_ready(&mut self, key: Key, pid: Pid) {
        let Some(dir): Option<&OwnedFd> = self.dir.as_ref() else { return };
        let Some(svc) = self.services.get_mut(&key) else { return };
        if logdir::log_supervised(dir, &svc.name) {
            svc.had_log = true;
            return;
        }
        let transparent = logdir::restart_is_transparent(dir, &svc.name);
        if transparent == Some(true) {
            let _ = kill(pid, Signal::SIGTERM);
            svc.stopping = true;
        } else if transparent == Some(false) && !svc.log_reported {
            svc.log_reported = true;
            let name = show(&svc.name);
            self.warn(&format!(
                "{name}: new log/ unused: a restart would change the service's state, \
                 use sv exit {name}"
            ));
        }
    }

    fn watch_log(&mut self, key: Key) {
        let Some(svc) = self.services.get(&key) else { return };
        if svc.log_watch.is_some() || self.polling {
            return;
        }
        let path = self.svdir.join(&svc.name).join("log");
        if let Ok(id) = self.p.watch_dir(&path) {
            if !self.is_watched(id) {
                self.svc_watches.insert(id, key);
                if let Some(svc) = self.services.get_mut(&key) {
                    svc.log_watch = Some(id);
                }
            }
        }
    }

    fn drop_log_watch(&mut self, key: Key) {
        if let Some(id) = self.services.get_mut(&key).and_then(|s| s.log_watch.take()) {
            self.unwatch(id);
        }
    }
}

impl Service {
    fn new(name: OsString) -> Service {
        Service {
            name,
            pid: None,
            started: Instant::now(),
            present: true,
            stopping: false,
            retry_at: None,
            watch: None,
            log_watch: None,
            had_log: false,
            log_reported: false,
        }
    }
}
