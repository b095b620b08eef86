//! runsv: supervises one service directory and its optional `log/` service, single-threaded,
//! sleeping in the platform's event wait (all Unix; the event source is the platform backend).
//!
//! Startup follows runit's order (directory, `down`, `log/`, supervise directories and locks,
//! control FIFOs and first status, `ok` FIFOs), so the same things fail the same way. The log
//! pipe is created once and held by runsv, so neither side loses it when the other restarts.
//!
//! Faults: what an earlier runsv left running is stopped before anything starts (`leftover`);
//! under runsvdir a runsv whose service is still held by another runsv waits for that one to go
//! instead of failing (see [`LOCK_WAIT_ENV`]); a status that cannot be written (disk full, no
//! fds left) is reported once and rewritten every [`RETRY`] until it goes through.

pub mod access;
pub mod contain;
pub mod files;
pub mod leftover;
pub mod machine;
pub mod notify;
pub mod policy;

use std::ffi::{CStr, OsStr};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::child::{self, Dir, Env, Pid, Reaped, Report, Session, Spec, Words};
use crate::fail::{self, exit, Failure, Level};
use crate::platform::{self, Event, Interest, Native, NotifySocket, Platform, Signal, Tree};
use crate::supervise::protocol;
use crate::supervise::status::{Status, Want};
use crate::tai::Tai64n;

use crate::supervise::readiness::{self, Readiness};
use crate::supervise::runs::Runs;
use files::Supervise;
use leftover::{Act, Leftover};
use machine::{Cmd, Effects, Input, Prog, Service, Which};
use notify::{Channel, Heard};
use policy::Policy;

/// Set by runsvdir for the runsv it starts (and removed by runsv before it starts anything):
/// when the service is locked by another runsv, wait for the lock instead of failing. The runsv
/// of a runsvdir that was killed and started again then takes over the moment the old runsv
/// ends, quietly, instead of failing and being restarted every second. An environment variable,
/// not an option, so that our runsvdir still works with C's runsv (which ignores it).
pub const LOCK_WAIT_ENV: &str = "RUNSV_WAIT_FOR_LOCK";

/// How often a status that could not be written is tried again.
pub const RETRY: Duration = Duration::from_secs(1);

/// How often a draining tree is looked at where the OS cannot report that it emptied.
pub const TREE_RECHECK: Duration = Duration::from_millis(100);

/// How long `./run` waits for a log service that declares readiness to become ready.
pub const LOG_READY_WAIT: Duration = Duration::from_secs(10);

/// The signals runsv handles; children get them back at their defaults (and SIGPIPE, which the
/// Rust runtime ignores in runsv itself: child::spawn resets it always).
const HANDLED: [Signal; 2] = [Signal::SIGCHLD, Signal::SIGTERM];

/// A running runsv.
pub struct Runsv {
    platform: Native,
    main: Service,
    log: Option<Service>,
    os: Os,
    /// Processes an earlier runsv left running: the service's and the log's.
    left: [Option<Leftover>; 2],
    /// SIGTERM came while leftovers were being stopped.
    term_pending: bool,
    /// The first start of `./run` waits for the log service to be ready, until then.
    main_waits: Option<Instant>,
}

/// The real [`Effects`]: processes, signals and the supervise files.
struct Os {
    /// `runsv <dir>: `, for messages.
    label: Vec<u8>,
    /// `runsv <dir>: warning: `, for the line of a child that cannot start.
    child_prefix: Vec<u8>,
    main_dir: Supervise,
    log_dir: Option<Supervise>,
    /// The log pipe (read end, write end), until runsv lets the log service go.
    pipe: Option<(OwnedFd, OwnedFd)>,
    /// A status could not be written: when to try again.
    retry_at: Option<Instant>,
    /// The error last reported per supervise directory (service, log), so a lasting problem
    /// is reported once, not at every retry or for each of the files it hits.
    reported: [Option<Option<i32>>; 2],
    /// The readiness channels of the service and of the log.
    notify: [Notify; 2],
    /// Pipes of earlier runs, to be unwatched before they are closed.
    retired: Vec<Channel>,
    /// The process trees of the service and of the log, while they are contained.
    trees: [Option<Contained>; 2],
    /// Trees replaced at a start, to be unwatched before they are closed.
    retired_trees: Vec<Contained>,
    /// The name of this service directory's trees (see `contain::tree_name`).
    tree_name: Option<String>,
}

/// A process tree and whether its change fd is watched.
#[derive(Debug)]
struct Contained {
    tree: Tree,
    watch: Watch,
}

/// Whether a tree's changes wake runsv up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// Not registered yet.
    Pending,
    Watched,
    /// The OS cannot report them (or registering failed, said once): while the tree drains it
    /// is looked at every [`TREE_RECHECK`].
    Unwatchable,
}

/// What runsv keeps of one service's readiness channels.
#[derive(Debug, Default)]
struct Notify {
    /// The notification pipe of the current run, and whether it is watched.
    channel: Option<(Channel, bool)>,
    /// The sd_notify socket, made at the first run that declared `notification-socket` and
    /// kept while runsv lives, and whether it is watched.
    socket: Option<(NotifySocket, bool)>,
    /// The current run was given `NOTIFY_SOCKET`.
    told: bool,
    /// The current run's watchdog: how often it must ping, and by when next.
    watchdog: Option<(Duration, Instant)>,
    /// MAINPID= was reported for the current run.
    mainpid_said: bool,
}

impl Runsv {
    /// Sets up service directory `dir` (runsv changes into it) and its supervise directories.
    /// With `wait_lock`, a service locked by another runsv is waited for (see [`LOCK_WAIT_ENV`]).
    pub fn setup(dir: &OsStr, wait_lock: bool) -> Result<Runsv, Failure> {
        let label = label(dir);
        let chdir = || {
            std::env::set_current_dir(dir)
                .map_err(|e| Failure::sys("unable to change to directory", e))
        };
        // The wait comes before the signals are taken over: TERM (runsvdir letting go of the
        // service) must still end a runsv that sleeps in flock(2).
        let held = if wait_lock {
            chdir()?;
            Some(wait_for_lock(&label)?)
        } else {
            None
        };
        let platform = Native::new(&HANDLED)
            .map_err(|e| Failure::sys("unable to set up signal handling", e))?;
        if !wait_lock {
            chdir()?;
        }
        let now = Tai64n::now();
        let mut main = Service::new(Which::Main, want_of("down"), now);
        let has_log = log_dir_present(&label);
        let mut log = has_log.then(|| Service::new(Which::Log, want_of("log/down"), now));
        let pipe = if has_log { Some(log_pipe()?) } else { None };

        files::make_dir(&protocol::MAIN)?;
        let main_lock = match held {
            Some(lock) => lock,
            None => files::lock(&protocol::MAIN, false)?,
        };
        let log_lock = if has_log {
            files::make_dir(&protocol::LOG)?;
            Some(files::lock(&protocol::LOG, true)?)
        } else {
            None
        };
        let main_dir = Supervise::new(&protocol::MAIN, main_lock, files::control(&protocol::MAIN)?);
        let reported = [None, None];
        let child_prefix = fail::head(&label, Level::Warning);
        let mut os = Os {
            label,
            child_prefix,
            main_dir,
            log_dir: None,
            pipe,
            retry_at: None,
            reported,
            notify: [Notify::default(), Notify::default()],
            retired: Vec::new(),
            trees: [None, None],
            retired_trees: Vec::new(),
            tree_name: std::env::current_dir().ok().map(|d| contain::tree_name(&d)),
        };
        os.take_over_trees();
        // Looked for before the first status replaces the record of them.
        let left_main = Leftover::find(&protocol::MAIN);
        publish_first(&mut main, left_main.as_ref(), &mut os);
        let mut left_log = None;
        if let (Some(lock), Some(log)) = (log_lock, log.as_mut()) {
            os.log_dir =
                Some(Supervise::new(&protocol::LOG, lock, files::control(&protocol::LOG)?));
            left_log = Leftover::find(&protocol::LOG);
            publish_first(log, left_log.as_ref(), &mut os);
        }
        os.main_dir.set_ok(files::ok(&protocol::MAIN)?);
        if let Some(d) = os.log_dir.as_mut() {
            d.set_ok(files::ok(&protocol::LOG)?);
        }
        // Also for a service that does not start now (it is read again at each start).
        os.apply_access(Which::Main);
        if os.log_dir.is_some() {
            os.apply_access(Which::Log);
        }
        let left = [left_main, left_log];
        Ok(Runsv { platform, main, log, os, left, term_pending: false, main_waits: None })
    }

    fn watch_controls(&mut self) -> Result<(), Failure> {
        let fds =
            [Some(self.os.main_dir.control_fd()), self.os.log_dir.as_ref().map(|d| d.control_fd())];
        for fd in fds.into_iter().flatten() {
            self.platform
                .add_fd(fd, Interest::Read)
                .map_err(|e| Failure::sys("unable to watch the control fifo", e))?;
        }
        Ok(())
    }

    /// Supervises until told to exit (`x` or SIGTERM).
    pub fn run(&mut self) -> Result<(), Failure> {
        // The service's tree first: once its processes are gone, nothing holds the old log
        // pipe, and the log's leftover reads it to the end and exits.
        self.stop_left_tree(Which::Main)?;
        self.stop_leftovers()?;
        self.stop_left_tree(Which::Log)?;
        // Commands are read only now: those sent meanwhile wait in the FIFO, so none of them
        // can start a second instance beside a leftover.
        self.watch_controls()?;
        if self.term_pending {
            self.main.step(Input::Cmd(Cmd::Exit), &mut self.os);
        }
        // The log service first, so the service's first output has a reader; one that declares
        // readiness is waited for (a while).
        if let Some(log) = self.log.as_mut() {
            log.step(Input::Start, &mut self.os);
        }
        if starting(self.log.as_ref()) {
            self.main_waits = Some(Instant::now() + LOG_READY_WAIT);
        } else {
            self.main.step(Input::Start, &mut self.os);
        }
        loop {
            self.sync_notify();
            self.sync_trees();
            let ev = self
                .platform
                .wait(self.deadline())
                .map_err(|e| Failure::sys("unable to wait for events", e))?;
            self.reap();
            match ev {
                Event::Signal(Signal::SIGTERM) => {
                    self.main.step(Input::Cmd(Cmd::Exit), &mut self.os)
                }
                Event::Readable(fd) => {
                    if !self.notification(fd) && !self.tree_changed(fd) {
                        self.command(fd);
                    }
                }
                Event::Timeout => self.retry_publish(),
                Event::Signal(_) | Event::Gone(_) | Event::DirChanged(_) => {}
            }
            self.main.step(Input::Tick, &mut self.os);
            if let Some(log) = self.log.as_mut() {
                log.step(Input::Tick, &mut self.os);
            }
            self.start_after_log();
            self.watchdogs();
            if self.done() {
                self.os.release_trees();
                return Ok(());
            }
        }
    }

    /// The earliest deadline: a throttle, a status to write again, the end of the wait for
    /// the log's readiness.
    fn deadline(&self) -> Option<Instant> {
        let log = self.log.as_ref().and_then(Service::deadline);
        let [main_wd, log_wd] = &self.os.notify;
        let watchdogs = [main_wd.watchdog.map(|w| w.1), log_wd.watchdog.map(|w| w.1)];
        [self.main.deadline(), log, self.os.retry_at, self.main_waits, self.tree_recheck()]
            .into_iter()
            .chain(watchdogs)
            .flatten()
            .min()
    }

    /// When to look at a draining tree again whose emptying the OS does not report.
    fn tree_recheck(&self) -> Option<Instant> {
        let draining = [Some(&self.main), self.log.as_ref()].into_iter().zip(&self.os.trees).any(
            |(svc, t)| {
                svc.is_some_and(|s| matches!(s.phase, machine::Phase::Drain(..)))
                    && t.as_ref().is_some_and(|c| c.watch != Watch::Watched)
            },
        );
        draining.then(|| Instant::now() + TREE_RECHECK)
    }

    /// Watches the change fds of new trees, and unwatches those of trees that were replaced.
    fn sync_trees(&mut self) {
        for old in self.os.retired_trees.drain(..) {
            if let (Watch::Watched, Some(fd)) = (old.watch, old.tree.change_fd()) {
                let _ = self.platform.remove_fd(fd);
            }
        }
        for c in self.os.trees.iter_mut().flatten().filter(|c| c.watch == Watch::Pending) {
            let Some(fd) = c.tree.change_fd() else {
                c.watch = Watch::Unwatchable;
                continue;
            };
            c.watch = match self.platform.add_fd(fd, Interest::Changed) {
                Ok(()) => Watch::Watched,
                Err(e) => {
                    let what = "unable to watch the service's tree: checking it on a deadline";
                    fail::warn(&self.os.label, &Failure::sys(what, e));
                    Watch::Unwatchable
                }
            };
        }
    }

    /// Whether `fd` is a tree's change fd; its change is acknowledged (the file read again),
    /// and the step after the wakeup looks at a draining tree.
    fn tree_changed(&mut self, fd: RawFd) -> bool {
        let Some(c) = self.os.trees.iter().flatten().find(|c| c.tree.change_fd() == Some(fd))
        else {
            return false;
        };
        let _ = c.tree.busy();
        true
    }

    /// Starts `./run` for the first time once the log service is ready, or when the wait for
    /// it is over (said once).
    fn start_after_log(&mut self) {
        let Some(until) = self.main_waits else { return };
        if starting(self.log.as_ref()) {
            if Instant::now() < until {
                return;
            }
            let text = format!(
                "./log/run is not ready after {} s: starting ./run anyway",
                LOG_READY_WAIT.as_secs()
            );
            fail::warn(&self.os.label, &Failure::plain(text));
        }
        self.main_waits = None;
        self.main.step(Input::Start, &mut self.os);
    }

    /// Watches the notification pipes of new runs, and unwatches and closes those of runs
    /// that were replaced (unwatched first: a closed number may be reused at once).
    fn sync_notify(&mut self) {
        for ch in self.os.retired.drain(..) {
            let _ = self.platform.remove_fd(ch.fd());
        }
        for n in &mut self.os.notify {
            let pipe = n.channel.as_mut().map(|(ch, w)| (ch.fd(), w, "pipe"));
            let socket = n.socket.as_mut().map(|(s, w)| (s.fd(), w, "socket"));
            for (fd, watched, what) in [pipe, socket].into_iter().flatten() {
                if !*watched {
                    *watched = true;
                    if let Err(e) = self.platform.add_fd(fd, Interest::Read) {
                        let what = format!("unable to watch the notification {what}");
                        fail::warn(&self.os.label, &Failure::sys(what, e));
                    }
                }
            }
        }
    }

    /// Reads the notification pipe or socket `fd`, if it is one; false if it is neither.
    fn notification(&mut self, fd: RawFd) -> bool {
        for who in [Which::Main, Which::Log] {
            let n = self.os.notify(who);
            if n.socket.as_ref().is_some_and(|(s, _)| s.fd() == fd) {
                self.datagrams(who);
                return true;
            }
            if n.channel.as_ref().is_some_and(|(ch, _)| ch.fd() == fd) {
                self.pipe_notification(who, fd);
                return true;
            }
        }
        false
    }

    /// Steps the state machine of `who`.
    fn step(&mut self, who: Which, input: Input) {
        match (who, self.log.as_mut()) {
            (Which::Main, _) => self.main.step(input, &mut self.os),
            (Which::Log, Some(log)) => log.step(input, &mut self.os),
            (Which::Log, None) => {}
        }
    }

    /// The service `who`, if there is one.
    fn service(&mut self, who: Which) -> Option<&mut Service> {
        match who {
            Which::Main => Some(&mut self.main),
            Which::Log => self.log.as_mut(),
        }
    }

    /// The pipe of `who`'s run is readable: a newline makes the run ready; either that or
    /// its end closes it.
    fn pipe_notification(&mut self, who: Which, fd: RawFd) {
        let heard = self.os.notify(who).channel.as_ref().map_or(Heard::Closed, |(ch, _)| ch.read());
        if heard == Heard::Nothing {
            return;
        }
        let _ = self.platform.remove_fd(fd);
        self.os.notify(who).channel = None;
        if heard == Heard::Ready {
            self.step(who, Input::Notified(readiness::State::Ready));
        }
    }

    /// Reads the datagrams waiting on `who`'s socket (a bounded number per call, so a flood
    /// cannot hold runsv), each only if it is whole and comes from the current run.
    fn datagrams(&mut self, who: Which) {
        let mut buf = [0u8; notify::DATAGRAM_MAX + 1];
        for _ in 0..64 {
            let Some((socket, _)) = self.os.notify(who).socket.as_ref() else { return };
            let (len, sender) = match socket.recv(&mut buf) {
                Ok(Some(got)) => got,
                Ok(None) => return,
                Err(e) => {
                    let what = "unable to read the notification socket";
                    fail::warn(&self.os.label, &Failure::sys(what, e));
                    return;
                }
            };
            let Some(d) = buf.get(..len).filter(|_| len <= notify::DATAGRAM_MAX) else { continue };
            let Some(run) = self.service(who).and_then(|s| s.running()) else { continue };
            let from_run = sender.map_or(true, |s| platform::notify_sender_belongs(s, run));
            if from_run && self.os.notify(who).told {
                self.apply(who, &notify::parse_datagram(d));
            }
        }
    }

    /// What one datagram of the current run of `who` says.
    fn apply(&mut self, who: Which, m: &notify::Message) {
        let n = self.os.notify(who);
        if m.watchdog {
            if let Some((every, due)) = n.watchdog.as_mut() {
                *due = Instant::now() + *every;
            }
        }
        if m.mainpid && !n.mainpid_said {
            n.mainpid_said = true;
            let text = "MAINPID= is ignored: runsv supervises the process it started";
            fail::warn(&self.os.label, &Failure::plain(text));
        }
        let Some(svc) = (match who {
            Which::Main => Some(&mut self.main),
            Which::Log => self.log.as_mut(),
        }) else {
            return;
        };
        if let Some(text) = m.status {
            svc.status_text(text, &mut self.os);
        }
        let states = [
            (m.reloading, readiness::State::Reloading),
            (m.stopping, readiness::State::Stopping),
            (m.ready, readiness::State::Ready),
        ];
        for (said, state) in states {
            if said {
                svc.step(Input::Notified(state), &mut self.os);
            }
        }
    }

    /// A run that missed its watchdog deadline gets SIGABRT (and its end is a crash like any
    /// other); said once per run.
    fn watchdogs(&mut self) {
        let now = Instant::now();
        for who in [Which::Main, Which::Log] {
            let Some((every, due)) = self.os.notify(who).watchdog else { continue };
            if now < due {
                continue;
            }
            self.os.notify(who).watchdog = None;
            let Some(pid) = self.service(who).and_then(|s| s.running()) else { continue };
            let name = if who == Which::Main { "./run" } else { "./log/run" };
            let text = format!(
                "{name} (pid {pid}) missed its watchdog deadline ({} ms): sending ABRT",
                every.as_millis()
            );
            fail::warn(&self.os.label, &Failure::plain(text));
            signal(pid, Signal::SIGABRT);
        }
    }

    /// Writes the statuses again if an earlier write failed and the retry is due.
    fn retry_publish(&mut self) {
        if !self.os.retry_at.is_some_and(|t| Instant::now() >= t) {
            return;
        }
        self.os.retry_at = None;
        self.main.publish(&mut self.os);
        if let Some(log) = self.log.as_mut() {
            log.publish(&mut self.os);
        }
    }

    /// Collects every exited child (signals coalesce, so one SIGCHLD may stand for several).
    fn reap(&mut self) {
        while let Reaped::Child(pid, child::Status(wstat)) = child::reap() {
            if Some(pid) == self.main.pid() {
                self.main.step(Input::Exited(wstat), &mut self.os);
            } else if let Some(log) = self.log.as_mut().filter(|l| l.pid() == Some(pid)) {
                log.step(Input::Exited(wstat), &mut self.os);
            }
        }
    }

    /// One command byte from the control FIFO `fd`; bytes that are no command are dropped.
    fn command(&mut self, fd: RawFd) {
        if fd == self.os.main_dir.control_fd() {
            if let Some(cmd) = self.os.main_dir.read_command().and_then(Cmd::parse) {
                self.main.step(Input::Cmd(cmd), &mut self.os);
            }
            return;
        }
        let Some(dir) = self.os.log_dir.as_mut().filter(|d| d.control_fd() == fd) else { return };
        let cmd = dir.read_command().and_then(Cmd::parse);
        if let (Some(cmd), Some(log)) = (cmd, self.log.as_mut()) {
            log.step(Input::Cmd(cmd), &mut self.os);
        }
    }

    /// Whether runsv may exit: the service is down and wants exit, and the log service (if
    /// any) is down too. The log is let go by closing its pipe, so it sees EOF and ends.
    fn done(&mut self) -> bool {
        if self.main.want != Want::Exit || !self.main.is_down() {
            return false;
        }
        let Some(log) = self.log.as_mut() else { return true };
        if log.is_down() {
            return true;
        }
        if log.want != Want::Exit {
            log.step(Input::Release, &mut self.os);
            self.os.pipe = None;
        }
        false
    }
}

impl Runsv {
    /// Stops what an earlier runsv left running (see `leftover`): the service's process first,
    /// then the log service's once it had the time to drain the old pipe. Returns when none is
    /// left; a SIGTERM meanwhile is kept for afterwards.
    fn stop_leftovers(&mut self) -> Result<(), Failure> {
        let now = Instant::now();
        for l in self.left.iter_mut().flatten() {
            if let Some(fd) = l.exit.as_ref() {
                let _ = self.platform.add_fd(fd.as_raw_fd(), Interest::Read);
            }
        }
        if let [_, Some(log)] = &self.left {
            let text = format!(
                "./log/run left by an earlier runsv (pid {}) gets to finish the old pipe first",
                log.pid
            );
            fail::warn(&self.os.label, &Failure::plain(text));
        }
        match &mut self.left {
            [Some(main), _] => {
                let act = main.term(now);
                self.os.act_on(Which::Main, main, act);
            }
            [None, Some(log)] => log.drain_from(now),
            [None, None] => return Ok(()),
        }
        self.publish_leftovers();
        while self.left.iter().any(Option::is_some) {
            let deadline = self.left.iter().flatten().filter_map(Leftover::deadline).min();
            let ev = self
                .platform
                .wait(deadline)
                .map_err(|e| Failure::sys("unable to wait for events", e))?;
            if ev == Event::Signal(Signal::SIGTERM) {
                self.term_pending = true;
            }
            // SIGCHLD needs no reaping: nothing was started yet.
            self.check_leftovers(Instant::now());
        }
        Ok(())
    }

    /// Stops what is left in the tree of `who` an earlier runsv recorded (a daemon that
    /// outlived its run, or a whole service whose runsv was killed): every process gets TERM
    /// and CONT, and the tree KILL after [`leftover::GRACE`]; if even that does not empty it
    /// within another GRACE, the service starts anyway (said). A leftover process recorded in
    /// `supervise/ident` that went with the tree is forgotten.
    fn stop_left_tree(&mut self, who: Which) -> Result<(), Failure> {
        self.stop_tree(who)?;
        // An empty tree is made afresh at the first start: whether the earlier runsv killed
        // it cannot be known, and a killed one could not be entered with clone3. One that
        // survived KILL is kept, and counted as killed.
        if let Some(c) = self.os.tree(who) {
            if c.tree.busy().unwrap_or(true) || c.tree.remove().is_err() {
                c.tree.set_killed();
            } else {
                *self.os.tree_slot(who) = None;
            }
        }
        let slot = match who {
            Which::Main => &mut self.left[0],
            Which::Log => &mut self.left[1],
        };
        *slot = slot.take().filter(Leftover::alive);
        Ok(())
    }

    fn stop_tree(&mut self, who: Which) -> Result<(), Failure> {
        let Some(c) = self.os.tree(who) else { return Ok(()) };
        if !c.tree.busy().unwrap_or(false) {
            return Ok(());
        }
        let path = c.tree.path().map(|p| p.display().to_string()).unwrap_or_default();
        let _ = c.tree.signal(Signal::SIGTERM);
        let _ = c.tree.signal(Signal::SIGCONT);
        let say = |os: &Os, text: String| fail::warn(&os.label, &Failure::plain(text));
        say(&self.os, format!("stopping the processes an earlier runsv left in {path}"));
        if self.wait_tree_empty(who, leftover::GRACE)? {
            return Ok(());
        }
        say(&self.os, format!("processes left in {path} ignored TERM: KILL"));
        if let Some(c) = self.os.tree(who) {
            let _ = c.tree.kill();
        }
        if !self.wait_tree_empty(who, leftover::GRACE)? {
            say(&self.os, format!("processes left in {path} survived KILL: starting anyway"));
        }
        Ok(())
    }

    /// Waits up to `grace` for the tree of `who` to empty; whether it did. A SIGTERM
    /// meanwhile is kept for afterwards.
    fn wait_tree_empty(&mut self, who: Which, grace: Duration) -> Result<bool, Failure> {
        let until = Instant::now() + grace;
        let fd = self.os.tree(who).and_then(|c| c.tree.change_fd());
        let watched = fd.is_some_and(|fd| self.platform.add_fd(fd, Interest::Changed).is_ok());
        let result = loop {
            let busy = self.os.tree(who).is_some_and(|c| c.tree.busy().unwrap_or(false));
            let now = Instant::now();
            if !busy || now >= until {
                break Ok(!busy);
            }
            let next = if watched { until } else { (now + TREE_RECHECK).min(until) };
            match self.platform.wait(Some(next)) {
                Ok(Event::Signal(Signal::SIGTERM)) => self.term_pending = true,
                // Nothing was started yet: no child to reap.
                Ok(_) => {}
                Err(e) => break Err(Failure::sys("unable to wait for events", e)),
            }
        };
        if let (true, Some(fd)) = (watched, fd) {
            let _ = self.platform.remove_fd(fd);
        }
        result
    }

    /// Drops the leftovers that are gone, moves the others on.
    fn check_leftovers(&mut self, now: Instant) {
        let [main, log] = &mut self.left;
        let main_changed = check_one(&mut self.platform, &mut self.os, Which::Main, main, now);
        if main.is_none() {
            if let Some(l) = log.as_mut() {
                l.drain_from(now);
            }
        }
        let log_changed = check_one(&mut self.platform, &mut self.os, Which::Log, log, now);
        if main_changed || log_changed {
            self.publish_leftovers();
        }
    }

    /// The status files while leftovers are stopped: theirs, or down once they are gone.
    fn publish_leftovers(&mut self) {
        let [main, log] = &self.left;
        publish_first(&mut self.main, main.as_ref(), &mut self.os);
        if let Some(svc) = self.log.as_mut() {
            publish_first(svc, log.as_ref(), &mut self.os);
        }
    }
}

/// Moves leftover `slot` of `who` on, or drops it once it is gone (or given up on); true if
/// anything changed.
fn check_one(
    platform: &mut Native,
    os: &mut Os,
    who: Which,
    slot: &mut Option<Leftover>,
    now: Instant,
) -> bool {
    let Some(l) = slot.as_mut() else { return false };
    if l.alive() {
        let act = l.advance(now);
        if os.act_on(who, l, act) {
            return act != Act::Nothing;
        }
    }
    if let Some(fd) = l.exit.as_ref() {
        let _ = platform.remove_fd(fd.as_raw_fd());
    }
    *slot = None;
    true
}

/// The status of `svc`, or its leftover's while there is one (so a runsv killed while stopping
/// it leaves the record for the next).
fn publish_first(svc: &mut Service, left: Option<&Leftover>, os: &mut Os) {
    match left {
        Some(l) => os.publish(svc.who, &l.status(svc.want), None, svc.runs()),
        None => svc.publish(os),
    }
}

/// Whether `svc` is a run that declared readiness and is not ready yet.
fn starting(svc: Option<&Service>) -> bool {
    svc.and_then(Service::readiness).is_some_and(|r| r.state == readiness::State::Starting)
}

/// Takes `supervise/lock`, waiting for another runsv holding it to exit (reported once).
fn wait_for_lock(label: &[u8]) -> Result<std::fs::File, Failure> {
    files::make_dir(&protocol::MAIN)?;
    match files::lock(&protocol::MAIN, false) {
        Ok(lock) => return Ok(lock),
        Err(Failure { err: Some(e), .. }) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(p) => return Err(p),
    }
    let what = "supervise/lock is held by another runsv: waiting for it to exit";
    fail::warn(label, &Failure::plain(what));
    files::lock(&protocol::MAIN, true)
}

/// `want` from a `down` file: present means do not start.
fn want_of(down: &str) -> Want {
    if std::fs::metadata(down).is_ok() {
        Want::Down
    } else {
        Want::Up
    }
}

/// Whether `log/` is a directory; anything else there is reported and ignored.
fn log_dir_present(label: &[u8]) -> bool {
    match std::fs::metadata("log") {
        Ok(m) if m.is_dir() => true,
        Ok(_) => {
            fail::warn(label, &Failure::plain("./log: not a directory."));
            false
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => {
            fail::warn(label, &Failure::sys("unable to stat ./log", e));
            false
        }
    }
}

/// The pipe from the service to its log, close-on-exec on both ends (children get it as
/// stdin/stdout only). pipe + FD_CLOEXEC rather than pipe2, which macOS lacks; runsv has no
/// other thread that could fork in between.
fn log_pipe() -> Result<(OwnedFd, OwnedFd), Failure> {
    let fail = |e: io::Error| Failure::sys("unable to create log pipe", e);
    let (r, w) = nix::unistd::pipe().map_err(|e| fail(e.into()))?;
    crate::sys::set_cloexec(r.as_raw_fd(), true).map_err(fail)?;
    crate::sys::set_cloexec(w.as_raw_fd(), true).map_err(fail)?;
    Ok((r, w))
}

/// `runsv <dir>: `, the start of every line runsv writes.
pub fn label(dir: &OsStr) -> Vec<u8> {
    let mut label = b"runsv ".to_vec();
    label.extend_from_slice(dir.as_bytes());
    label.extend_from_slice(b": ");
    label
}

impl Os {
    /// Does `act` to leftover `l` of `who`, with a warning; false once it is given up on.
    fn act_on(&mut self, who: Which, l: &Leftover, act: Act) -> bool {
        let name = if who == Which::Main { "./run" } else { "./log/run" };
        let pid = l.pid;
        let text = match act {
            Act::Nothing => return true,
            Act::Term => format!("stopping {name} left by an earlier runsv (pid {pid})"),
            Act::Kill => format!("{name} left by an earlier runsv (pid {pid}) ignored TERM: KILL"),
            Act::GiveUp => format!("{name} (pid {pid}) survived KILL: starting anyway"),
        };
        fail::warn(&self.label, &Failure::plain(text));
        match act {
            Act::Term => {
                signal(pid, Signal::SIGTERM);
                signal(pid, Signal::SIGCONT);
            }
            Act::Kill => signal(pid, Signal::SIGKILL),
            Act::GiveUp => return false,
            Act::Nothing => {}
        }
        true
    }

    /// A child of runsv: `argv[0]` run with `fds` placed, in `dir`, runsv's signals back at
    /// their defaults; one that cannot start says why in one line and exits 111, which runsv
    /// reads as "./run exited 111" (runsv(8)).
    fn child<'a>(
        &'a self,
        argv: &'a [&'a CStr],
        name: &'a [u8],
        fds: &'a [(RawFd, RawFd)],
        dir: Option<Dir<'a>>,
    ) -> Spec<'a> {
        Spec {
            dir,
            fds,
            session: Session::Inherit,
            signals: &HANDLED,
            report: Report::Line {
                prefix: &self.child_prefix,
                name,
                code: exit::RUNSV_CHILD_FAILED,
                words: Words::PerStep,
            },
            ..Spec::new(argv.first().copied().unwrap_or_default(), argv)
        }
    }

    fn dir(&mut self, who: Which) -> Option<&mut Supervise> {
        match who {
            Which::Main => Some(&mut self.main_dir),
            Which::Log => self.log_dir.as_mut(),
        }
    }

    /// For a new run of `who`: retires the last run's notification pipe, and opens one if the
    /// service declares `notification-fd` (the channel, the child's end and its number).
    fn notification_channel(&mut self, who: Which) -> Option<(Channel, OwnedFd, RawFd)> {
        if let Some((old, _)) = self.notify(who).channel.take() {
            self.retired.push(old);
        }
        let file = match who {
            Which::Main => "notification-fd",
            Which::Log => "log/notification-fd",
        };
        let n = notify::declared(file, &self.label)?;
        match Channel::open(n) {
            Ok((ch, write)) => Some((ch, write, n)),
            Err(e) => {
                let what =
                    format!("unable to create the pipe for ./{file}: starting without readiness");
                fail::warn(&self.label, &Failure::sys(what, e));
                None
            }
        }
    }

    /// The modes and groups of `who`'s supervise directory, as `status-group` and
    /// `admin-group` say at this start; a failure is said, and the start goes on.
    fn apply_access(&mut self, who: Which) {
        let Some(dir) = self.dir(who) else { return };
        let names = dir.names();
        let access = access::read(&self.label);
        if let Err(e) = access::apply(names, access) {
            let what = format!("unable to set the access to ./{}", names.dir);
            fail::warn(&self.label, &Failure::sys(what, e));
        }
    }

    /// The readiness channels of `who`.
    fn notify(&mut self, who: Which) -> &mut Notify {
        let [main, log] = &mut self.notify;
        match who {
            Which::Main => main,
            Which::Log => log,
        }
    }

    /// For a new run of `who` that declares `notification-socket`: the environment that tells
    /// it the socket (made now if it is the first such run), and its watchdog period if
    /// `timeout-watchdog` declares one. A socket that cannot be made is said in one line, and
    /// the run starts without `NOTIFY_SOCKET`.
    fn notification_env(&mut self, who: Which) -> Option<(Env, Option<Duration>)> {
        let n = self.notify(who);
        (n.told, n.watchdog, n.mainpid_said) = (false, None, false);
        let (file, watchdog_file, tag) = match who {
            Which::Main => ("notification-socket", "timeout-watchdog", "main"),
            Which::Log => ("log/notification-socket", "log/timeout-watchdog", "log"),
        };
        match std::fs::symlink_metadata(file) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
            Err(e) => {
                fail::warn(&self.label, &Failure::sys(format!("unable to stat ./{file}"), e));
                return None;
            }
        }
        if self.notify(who).socket.is_none() {
            match NotifySocket::open(tag) {
                Ok(s) => self.notify(who).socket = Some((s, false)),
                Err(e) => {
                    let what = format!(
                        "unable to make the socket for ./{file}: starting without NOTIFY_SOCKET"
                    );
                    fail::warn(&self.label, &Failure::sys(what, e));
                    return None;
                }
            }
        }
        let address = self.notify(who).socket.as_ref()?.0.address().to_owned();
        let watchdog = notify::watchdog(watchdog_file, &self.label);
        let usec = watchdog.map(|d| d.as_micros().to_string()).unwrap_or_default();
        let mut set = vec![("NOTIFY_SOCKET", address.as_os_str())];
        if watchdog.is_some() {
            set.push(("WATCHDOG_USEC", OsStr::new(&usec)));
        }
        Some((Env::new(&set, watchdog.map(|_| "WATCHDOG_PID")), watchdog))
    }

    /// The tree of `who`, while it is contained.
    fn tree(&mut self, who: Which) -> Option<&mut Contained> {
        let [main, log] = &mut self.trees;
        match who {
            Which::Main => main.as_mut(),
            Which::Log => log.as_mut(),
        }
    }

    fn tree_slot(&mut self, who: Which) -> &mut Option<Contained> {
        let [main, log] = &mut self.trees;
        match who {
            Which::Main => main,
            Which::Log => log,
        }
    }

    /// The trees an earlier runsv recorded (`supervise/cgroup`), taken over as they are: what
    /// is left in them is stopped before anything starts (`Runsv::stop_left_trees`).
    fn take_over_trees(&mut self) {
        for (who, names) in [(Which::Main, &protocol::MAIN), (Which::Log, &protocol::LOG)] {
            if who == Which::Log && self.log_dir.is_none() {
                continue;
            }
            let Some(path) = files::recorded_tree(names) else { continue };
            match Tree::reopen(&path) {
                Ok(Some(tree)) => {
                    *self.tree_slot(who) = Some(Contained { tree, watch: Watch::Pending })
                }
                Ok(None) => {}
                Err(e) => {
                    let what = format!("unable to take over the tree {}", path.display());
                    fail::warn(&self.label, &Failure::sys(what, e));
                }
            }
        }
    }

    /// For a new run of `who`: its process tree as `cgroup/` asks for it now (see `contain`),
    /// with the limits written. False when the run must not start (said).
    fn contain(&mut self, who: Which) -> bool {
        let dir = contain::dir_of(who == Which::Log);
        let name = if who == Which::Log { "./log/run" } else { "./run" };
        let limits = match contain::declared(dir) {
            Ok(Some(l)) => l,
            Ok(None) => {
                self.uncontain(who);
                return true;
            }
            Err(e) => {
                let what = format!("unable to read ./{dir}: not starting {name}");
                fail::warn(&self.label, &Failure::sys(what, e));
                return false;
            }
        };
        let opened = match self.tree_name.as_deref() {
            Some(service) => Tree::open(service, which_tree(who), &contain::controllers(&limits)),
            None => Err(io::Error::other("the service directory has no path")),
        };
        let tree = match opened {
            Ok(t) => t,
            Err(e) if limits.is_empty() => {
                let text = format!(
                    "./{dir}: {}: starting {name} uncontained",
                    crate::errstr::describe(&e)
                );
                fail::warn(&self.label, &Failure::plain(text));
                self.uncontain(who);
                return true;
            }
            Err(e) => {
                let text = format!(
                    "./{dir}: {}: not starting {name} (its limits need it)",
                    crate::errstr::describe(&e)
                );
                fail::warn(&self.label, &Failure::plain(text));
                return false;
            }
        };
        for (file, value) in &limits {
            if let Err(e) = tree.limit(file, value) {
                let what = format!("unable to apply ./{dir}/{file}: not starting {name}");
                fail::warn(&self.label, &Failure::sys(what, e));
                // Empty (whatever ran in it before has drained): nothing is left behind.
                if !self.tree_is(who, &tree) {
                    let _ = tree.remove();
                }
                return false;
            }
        }
        self.set_tree(who, tree);
        true
    }

    /// Whether `tree` is where the current tree of `who` is (then it stays, recorded).
    fn tree_is(&mut self, who: Which, tree: &Tree) -> bool {
        self.tree(who).is_some_and(|c| c.tree.path() == tree.path())
    }

    /// `tree` is the tree of `who` from now on; the one it replaces is retired (and removed,
    /// if it was elsewhere: a tree taken over from a runsv in another cgroup).
    fn set_tree(&mut self, who: Which, tree: Tree) {
        let record = tree.path().map(Path::to_path_buf);
        // A tree once killed must be entered by the child itself (see `platform::Tree`).
        if self.tree(who).is_some_and(|c| c.tree.killed()) {
            tree.set_killed();
        }
        let old = self.tree_slot(who).replace(Contained { tree, watch: Watch::Pending });
        if let Some(old) = old {
            if old.tree.path() != record.as_deref() {
                // Empty by now (its leftovers were stopped before the first start); one that
                // is not refuses to go, which is right.
                let _ = old.tree.remove();
            }
            self.retired_trees.push(old);
        }
        if let Some(dir) = self.dir(who) {
            if let Err(p) = dir.record_tree(record.as_deref()) {
                fail::warn(&self.label, &p);
            }
        }
    }

    /// `who` is not contained (any more): its tree, empty by now, is removed.
    fn uncontain(&mut self, who: Which) {
        let Some(old) = self.tree_slot(who).take() else { return };
        let _ = old.tree.remove();
        self.retired_trees.push(old);
        if let Some(dir) = self.dir(who) {
            let _ = dir.record_tree(None);
        }
    }

    /// runsv exits: the trees are removed, unless something still lives in them (said).
    fn release_trees(&mut self) {
        for who in [Which::Main, Which::Log] {
            let Some(c) = self.tree_slot(who).take() else { continue };
            let path = c.tree.path().map(|p| p.display().to_string());
            match (c.tree.busy(), path) {
                (Ok(true), Some(path)) => {
                    let text = format!("{path} still holds processes: left in place");
                    fail::warn(&self.label, &Failure::plain(text));
                }
                _ => {
                    if let Err(e) = c.tree.remove() {
                        fail::warn(&self.label, &Failure::sys("unable to remove the tree", e));
                    }
                    if let Some(dir) = self.dir(who) {
                        let _ = dir.record_tree(None);
                    }
                }
            }
        }
    }

    fn pipe_read(&self) -> RawFd {
        self.pipe.as_ref().map_or(-1, |p| p.0.as_raw_fd())
    }

    fn pipe_write(&self) -> Option<RawFd> {
        self.pipe.as_ref().map(|p| p.1.as_raw_fd())
    }
}

impl Effects for Os {
    fn now(&mut self) -> Instant {
        Instant::now()
    }

    fn wall(&mut self) -> Tai64n {
        Tai64n::now()
    }

    fn spawn(&mut self, who: Which, prog: Prog) -> Option<Pid> {
        if prog == Prog::Run {
            self.apply_access(who);
            if !self.contain(who) {
                return None;
            }
        }
        let (mut code, mut sig) = ([0u8; 16], [0u8; 16]);
        let finish_argv;
        let (argv, name): (&[&CStr], &[u8]) = match (who, prog) {
            (Which::Main, Prog::Run) => (&[c"./run"], b"./run"),
            (Which::Log, Prog::Run) => (&[c"./run"], b"./log/run"),
            (Which::Main, Prog::Finish(c, s)) | (Which::Log, Prog::Finish(c, s)) => {
                finish_argv = [c"./finish", decimal(&mut code, c), decimal(&mut sig, s)];
                (&finish_argv, if who == Which::Log { b"./log/finish" } else { b"./finish" })
            }
        };
        // A log started after runsv let its pipe go gets a bad fd and fails loudly.
        let mut fds = match (who, self.pipe_write()) {
            (Which::Log, _) => vec![(self.pipe_read(), 0)],
            (Which::Main, Some(w)) => vec![(w, 1)],
            (Which::Main, None) => vec![],
        };
        let channel = match prog {
            Prog::Run => self.notification_channel(who),
            Prog::Finish(..) => None,
        };
        if let Some((_, write, n)) = &channel {
            // Last, so that nothing placed after it can overwrite it.
            fds.push((write.as_raw_fd(), *n));
        }
        let env = match prog {
            Prog::Run => self.notification_env(who),
            Prog::Finish(..) => None,
        };
        let dir = (who == Which::Log).then_some(Dir::Path(c"./log"));
        // Finish too runs in the tree: what it starts is the service's as well.
        let join = self.tree(who).map(|c| c.tree.join());
        let spawned = child::spawn(&Spec {
            env: env.as_ref().map(|(e, _)| e),
            tree: join.as_ref(),
            ..self.child(argv, name, &fds, dir)
        });
        if let (Ok(pid), Some(c)) = (&spawned, self.tree(who)) {
            c.tree.started(*pid);
        }
        if spawned.is_ok() {
            let n = self.notify(who);
            n.channel = channel.map(|(ch, _, _)| (ch, false));
            n.told = env.is_some();
            n.watchdog = env.and_then(|(_, wd)| wd).map(|every| (every, Instant::now() + every));
        }
        match spawned {
            Ok(pid) => Some(pid),
            Err(e) => {
                let what = format!("unable to fork for {}", String::from_utf8_lossy(name));
                fail::warn(&self.label, &Failure::sys(what, e));
                None
            }
        }
    }

    fn signal(&mut self, pid: Pid, sig: Signal) {
        signal(pid, sig);
    }

    fn tree_busy(&mut self, who: Which) -> bool {
        self.tree(who).is_some_and(|c| c.tree.busy().unwrap_or(false))
    }

    fn tree_signal(&mut self, who: Which, sig: Signal) {
        if let Some(c) = self.tree(who) {
            let _ = c.tree.signal(sig);
        }
    }

    fn tree_kill(&mut self, who: Which) {
        let Some(c) = self.tree(who) else { return };
        if let Err(e) = c.tree.kill() {
            fail::warn(&self.label, &Failure::sys("unable to kill the service's tree", e));
        }
    }

    fn custom(&mut self, c: u8) -> bool {
        let mut path = *b"control/?\0";
        path[8] = c;
        let Ok(cpath) = CStr::from_bytes_with_nul(&path) else { return false };
        let spath = String::from_utf8_lossy(&path[..9]).into_owned();
        match files::owner_executable(&spath) {
            Ok(true) => {}
            Ok(false) => return false,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return false,
            Err(e) => {
                fail::warn(&self.label, &Failure::sys(format!("unable to stat {spath}"), e));
                return false;
            }
        }
        let out = self.pipe_write().map(|w| [(w, 1)]);
        let fds: &[(RawFd, RawFd)] = out.as_ref().map_or(&[], |o| o);
        let status =
            child::spawn(&self.child(&[cpath], &path[..9], fds, None)).and_then(child::wait);
        match status {
            Ok(st) => st.success(),
            Err(e) => {
                fail::warn(&self.label, &Failure::sys(format!("unable to run {spath}"), e));
                false
            }
        }
    }

    fn policy(&mut self, who: Which) -> Policy {
        let prefix = match who {
            Which::Main => "",
            Which::Log => "log/",
        };
        let label = &self.label;
        policy::read(prefix, &mut |text| fail::warn(label, &Failure::plain(text)))
    }

    fn say(&mut self, text: &str) {
        fail::warn(&self.label, &Failure::plain(text));
    }

    fn declares_readiness(&mut self, who: Which) -> bool {
        let n = self.notify(who);
        n.channel.is_some() || n.told
    }

    fn has_finish(&mut self) -> bool {
        // Opened like runit does (non-blocking, so a FIFO cannot hang runsv).
        OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open("finish").is_ok()
    }

    /// A failed write is reported once (until it works again or fails with another error) and
    /// tried again after [`RETRY`]; the files keep their last complete contents meanwhile.
    fn publish(&mut self, who: Which, status: &Status, ready: Option<&Readiness>, runs: &Runs) {
        let Some(dir) = self.dir(who) else { return };
        let result = dir.publish(status, ready, runs);
        let [main, log] = &mut self.reported;
        let reported = if who == Which::Main { main } else { log };
        match result {
            Ok(()) => *reported = None,
            Err(p) => {
                let errno = p.err.as_ref().map(|e| e.raw_os_error().unwrap_or(-1));
                if *reported != Some(errno) {
                    fail::warn(&self.label, &p);
                    *reported = Some(errno);
                }
                self.retry_at = Some(Instant::now() + RETRY);
            }
        }
    }
}

/// The name of `who`'s tree below the service's.
fn which_tree(who: Which) -> &'static str {
    match who {
        Which::Main => "main",
        Which::Log => "log",
    }
}

/// Sends `sig` to `pid`; a process that is already gone is no error worth reporting.
fn signal(pid: Pid, sig: Signal) {
    if pid.as_raw() > 0 {
        let _ = child::kill(pid, sig);
    }
}

/// Formats a decimal integer as a C string into `buf` (no allocation).
fn decimal(buf: &mut [u8; 16], n: i32) -> &CStr {
    let mut w: &mut [u8] = buf;
    // An i32 takes at most 11 bytes, so the digits and the NUL always fit.
    let _ = write!(w, "{n}\0");
    CStr::from_bytes_until_nul(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn decimals() {
        let mut b = [0u8; 16];
        assert_eq!(decimal(&mut b, 0).to_bytes(), b"0");
        assert_eq!(decimal(&mut b, -1).to_bytes(), b"-1");
        assert_eq!(decimal(&mut b, 111).to_bytes(), b"111");
        assert_eq!(decimal(&mut b, i32::MIN).to_bytes(), b"-2147483648");
    }
}
