//! runsvdir's bookkeeping driven through a fake world: a real (temporary) services directory,
//! fake runsv processes, directory watches, clock and warnings. No root, no Linux, no namespace.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::os::fd::{BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::*;
use crate::child::Pid;
use crate::platform::WatchId;
use crate::svdir::rplog::Rplog;
use crate::svdir::services::RESCAN_EVERY;

struct Fake {
    now: Instant,
    next_pid: i32,
    watches: Vec<(WatchId, PathBuf)>,
    /// Every runsv started, by name, in order.
    started: Vec<(Pid, String)>,
    alive: HashSet<i32>,
    ended: VecDeque<Pid>,
    killed: Vec<(Pid, Signal)>,
    warnings: Vec<String>,
    /// The errno every spawn fails with, while set.
    spawn_fails: Option<i32>,
    /// The errno every directory watch fails with, while set.
    watch_fails: Option<i32>,
    fds: Vec<RawFd>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            now: Instant::now(),
            next_pid: 100,
            watches: Vec::new(),
            started: Vec::new(),
            alive: HashSet::new(),
            ended: VecDeque::new(),
            killed: Vec::new(),
            warnings: Vec::new(),
            spawn_fails: None,
            watch_fails: None,
            fds: Vec::new(),
        }
    }

    fn names(&self) -> Vec<&str> {
        self.started.iter().map(|(_, n)| n.as_str()).collect()
    }

    fn pid_of(&self, name: &str) -> Pid {
        let found =
            self.started.iter().rev().find(|(p, n)| n == name && self.alive.contains(&p.as_raw()));
        found.map(|(p, _)| *p).unwrap_or_else(|| panic!("no runsv for {name}"))
    }

    fn watch_of(&self, path: &Path) -> WatchId {
        let found = self.watches.iter().find(|(_, p)| p == path);
        found.map(|(id, _)| *id).unwrap_or_else(|| panic!("{} is not watched", path.display()))
    }

    /// Runsv `pid` exits (reaped at the next SIGCHLD).
    fn end(&mut self, pid: Pid) {
        assert!(self.alive.remove(&pid.as_raw()), "{pid} was not running");
        self.ended.push_back(pid);
    }
}

impl Effects for Fake {
    fn wait(&mut self, _deadline: Option<Instant>) -> io::Result<Event> {
        Ok(Event::Timeout)
    }
    fn now(&self) -> Instant {
        self.now
    }
    fn watch_fd(&mut self, fd: RawFd) -> io::Result<()> {
        self.fds.push(fd);
        Ok(())
    }
    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId> {
        if let Some(code) = self.watch_fails {
            return Err(io::Error::from_raw_os_error(code));
        }
        if let Some((id, _)) = self.watches.iter().find(|(_, p)| p == path) {
            return Ok(*id);
        }
        let id = WatchId(self.watches.len() as u32 + 1);
        self.watches.push((id, path.to_path_buf()));
        Ok(id)
    }
    fn unwatch_dir(&mut self, id: WatchId) {
        self.watches.retain(|(w, _)| *w != id);
    }
    fn reap(&mut self) -> Option<Pid> {
        self.ended.pop_front()
    }
    fn spawn(&mut self, _dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Pid> {
        if let Some(code) = self.spawn_fails {
            return Err(io::Error::from_raw_os_error(code));
        }
        self.next_pid += 1;
        let pid = Pid::from_raw(self.next_pid);
        self.alive.insert(pid.as_raw());
        self.started.push((pid, name.to_string_lossy().into_owned()));
        Ok(pid)
    }
    fn kill(&mut self, pid: Pid, sig: Signal) {
        self.killed.push((pid, sig));
    }
    fn warn(&mut self, text: &dyn std::fmt::Display) {
        self.warnings.push(text.to_string());
    }
    fn trim_heap(&mut self) {}
}

/// A services directory of its own, removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("runit-svdir-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("service")).unwrap();
        TempDir(d)
    }

    fn svdir(&self) -> PathBuf {
        self.0.join("service")
    }

    fn add(&self, name: &str) {
        fs::create_dir(self.svdir().join(name)).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn started(t: &TempDir, log: Option<Log>) -> Supervisor<Fake> {
    let mut sup = Supervisor::new(Fake::new(), t.svdir(), log);
    sup.begin().unwrap();
    sup
}

/// The services directory changed, as its watch reports it.
fn dir_event(sup: &mut Supervisor<Fake>, dir: &Path) -> Option<Stop> {
    let id = sup.fx.watch_of(dir);
    sup.step(Event::DirChanged(id))
}

fn later(sup: &mut Supervisor<Fake>, by: Duration) -> Option<Stop> {
    sup.fx.now += by;
    sup.step(Event::Timeout)
}

const SIGCHLD: Event = Event::Signal(Signal::SIGCHLD);

#[test]
fn services_added_are_started_and_services_removed_are_stopped() {
    let t = TempDir::new();
    t.add("a");
    t.add(".hidden");
    let mut sup = started(&t, None);
    assert_eq!(sup.fx.names(), ["a"], "dot entries are not services");

    t.add("b");
    dir_event(&mut sup, &t.svdir());
    assert_eq!(sup.fx.names(), ["a", "b"]);

    let a = sup.fx.pid_of("a");
    fs::remove_dir(t.svdir().join("a")).unwrap();
    dir_event(&mut sup, &t.svdir());
    assert_eq!(sup.fx.killed, [(a, Signal::SIGTERM)]);
    // Its runsv ends: it is not started again.
    sup.fx.end(a);
    later(&mut sup, Duration::from_secs(5));
    sup.step(SIGCHLD);
    assert_eq!(sup.fx.names(), ["a", "b"]);
    assert!(sup.fx.warnings.is_empty(), "{:?}", sup.fx.warnings);
}

#[test]
fn a_renamed_service_keeps_its_runsv_and_restarts_under_the_new_name() {
    let t = TempDir::new();
    t.add("a");
    let mut sup = started(&t, None);
    let a = sup.fx.pid_of("a");
    fs::rename(t.svdir().join("a"), t.svdir().join("b")).unwrap();
    dir_event(&mut sup, &t.svdir());
    assert!(sup.fx.killed.is_empty(), "the same directory: its runsv runs on");
    assert_eq!(sup.fx.names(), ["a"]);

    sup.fx.now += Duration::from_secs(5);
    sup.fx.end(a);
    sup.step(SIGCHLD);
    assert_eq!(sup.fx.names(), ["a", "b"], "started again by the name that leads to it now");
}

#[test]
fn a_dying_runsv_is_started_again_no_sooner_than_a_second_after_its_start() {
    let t = TempDir::new();
    t.add("a");
    let mut sup = started(&t, None);
    let t0 = sup.fx.now;

    // Dies at once: restarted one second after its start, not before.
    let first = sup.fx.pid_of("a");
    sup.fx.end(first);
    sup.step(SIGCHLD);
    assert_eq!(sup.fx.started.len(), 1);
    assert_eq!(sup.next_deadline(), Some(t0 + Duration::from_secs(1)));
    later(&mut sup, Duration::from_millis(999));
    assert_eq!(sup.fx.started.len(), 1);
    later(&mut sup, Duration::from_millis(1));
    assert_eq!(sup.fx.started.len(), 2);

    // Dies after running a while: restarted at once.
    sup.fx.now += Duration::from_secs(30);
    let second = sup.fx.pid_of("a");
    sup.fx.end(second);
    sup.step(SIGCHLD);
    assert_eq!(sup.fx.started.len(), 3);
    assert_ne!(sup.fx.pid_of("a"), second);
}

#[test]
fn a_failed_fork_is_reported_and_retried_a_second_later() {
    let t = TempDir::new();
    t.add("a");
    let mut sup = Supervisor::new(Fake::new(), t.svdir(), None);
    sup.fx.spawn_fails = Some(libc::EAGAIN);
    sup.begin().unwrap();
    assert!(sup.fx.started.is_empty());
    assert_eq!(sup.fx.warnings.len(), 1);
    assert!(sup.fx.warnings[0].starts_with("unable to fork for a: "), "{:?}", sup.fx.warnings);

    // Still failing a second later: tried again, and said again (runit's words each time).
    later(&mut sup, Duration::from_secs(1));
    assert_eq!(sup.fx.warnings.len(), 2);
    sup.fx.spawn_fails = None;
    later(&mut sup, Duration::from_millis(500));
    assert!(sup.fx.started.is_empty(), "not before the second is over");
    later(&mut sup, Duration::from_millis(500));
    assert_eq!(sup.fx.names(), ["a"]);

    // A failure that is not for lack of resources says so.
    t.add("b");
    sup.fx.spawn_fails = Some(libc::ENOENT);
    dir_event(&mut sup, &t.svdir());
    let last = sup.fx.warnings.last().unwrap();
    assert!(last.starts_with("unable to start runsv b: "), "{last}");
}

#[test]
fn an_unreadable_services_directory_is_reported_once_and_retried() {
    let t = TempDir::new();
    fs::remove_dir(t.svdir()).unwrap();
    let mut sup = started(&t, None);
    assert_eq!(sup.fx.warnings.len(), 1);
    assert!(sup.fx.warnings[0].starts_with("unable to open directory "), "{:?}", sup.fx.warnings);
    later(&mut sup, Duration::from_secs(1));
    later(&mut sup, Duration::from_secs(1));
    assert_eq!(sup.fx.warnings.len(), 1, "the same problem is said once");

    fs::create_dir(t.svdir()).unwrap();
    t.add("a");
    later(&mut sup, Duration::from_secs(1));
    assert_eq!(sup.fx.names(), ["a"]);
}

#[test]
fn without_directory_watches_it_rescans_every_second() {
    let t = TempDir::new();
    let mut sup = Supervisor::new(Fake::new(), t.svdir(), None);
    sup.fx.watch_fails = Some(libc::ENOSYS);
    sup.begin().unwrap();
    assert_eq!(sup.fx.warnings.len(), 1);
    assert!(sup.fx.warnings[0].starts_with("unable to watch directory, rescanning every second"));
    t.add("a");
    later(&mut sup, Duration::from_millis(999));
    assert!(sup.fx.started.is_empty());
    later(&mut sup, Duration::from_millis(1));
    assert_eq!(sup.fx.names(), ["a"]);
}

#[test]
fn sighup_stops_every_runsv_and_ends_when_all_are_gone() {
    let t = TempDir::new();
    t.add("a");
    t.add("b");
    let mut sup = started(&t, None);
    let (a, b) = (sup.fx.pid_of("a"), sup.fx.pid_of("b"));
    assert_eq!(sup.step(Event::Signal(Signal::SIGHUP)), None);
    let mut killed = sup.fx.killed.clone();
    let mut want = vec![(a, Signal::SIGTERM), (b, Signal::SIGTERM)];
    killed.sort_by_key(|(p, _)| p.as_raw());
    want.sort_by_key(|(p, _)| p.as_raw());
    assert_eq!(killed, want);
    assert_eq!(sup.next_deadline(), None, "nothing is due while halting");

    // Nothing starts any more, whatever happens meanwhile.
    t.add("c");
    assert_eq!(dir_event(&mut sup, &t.svdir()), None);
    sup.fx.end(a);
    assert_eq!(sup.step(SIGCHLD), None);
    sup.fx.end(b);
    assert_eq!(sup.step(SIGCHLD), Some(Stop::Halted));
    assert_eq!(sup.fx.started.len(), 2, "c was never started: {:?}", sup.fx.names());
}

#[test]
fn sigterm_ends_at_once_and_leaves_the_runsv_processes() {
    let t = TempDir::new();
    t.add("a");
    let mut sup = started(&t, None);
    assert_eq!(sup.step(Event::Signal(Signal::SIGTERM)), Some(Stop::Term));
    assert!(sup.fx.killed.is_empty());
}

#[test]
fn the_log_window_shows_the_newest_bytes_and_a_dot_every_fifteen_minutes() {
    let t = TempDir::new();
    let (rd, wr) = crate::platform::nonblocking_pipe().unwrap();
    let fake = Fake::new();
    let dot_at = fake.now + DOT_EVERY;
    let log = Log { pipe: rd, window: Rplog::new(b"log: ..........", None), dot_at };
    let mut sup = Supervisor::new(fake, t.svdir(), Some(log));
    sup.begin().unwrap();
    let fd = sup.log.as_ref().map(|l| l.pipe.as_raw_fd()).unwrap();
    assert_eq!(sup.fx.fds, [fd], "the log pipe is watched");

    let mut w = std::fs::File::from(wr);
    w.write_all(b"ab\0c").unwrap();
    sup.step(Event::Readable(fd));
    assert_eq!(sup.log.as_ref().unwrap().window.text(), b"log: .......abc", "NUL dropped");

    // The safety rescan comes first; at the dot's time the window scrolls by one dot.
    assert_eq!(sup.next_deadline(), Some(sup.fx.now + RESCAN_EVERY));
    sup.fx.now = dot_at;
    sup.step(Event::Timeout);
    assert_eq!(sup.log.as_ref().unwrap().window.text(), b"log: ......abc.");
    assert_eq!(sup.log.as_ref().unwrap().dot_at, dot_at + DOT_EVERY);
}
