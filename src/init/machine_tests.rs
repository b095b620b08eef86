//! PID 1's phases driven by a fake world: no root, no namespace, no real signals (any OS).
//! Each test feeds events and child exits and checks what PID 1 did, as a log of effects.

use std::collections::{HashSet, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use crate::child::Pid;

use super::super::effects::{Effects, Reaped};
use super::super::files;
use super::super::spawn::Tty;
use super::super::stage::Ended;
use super::End;
use super::{Init, GRACE, PAUSE};
use crate::platform::{Event, How, ShutdownSignal, Signal};

const SHUTDOWN: &[ShutdownSignal] = &[
    ShutdownSignal { signal: Signal::SIGUSR2, how: How::PowerOff, container_only: false },
    ShutdownSignal { signal: Signal::SIGTERM, how: How::Halt, container_only: true },
];

/// The world PID 1 sees: a clock, the children alive, files armed, and what it was told to do.
struct Fake {
    now: Instant,
    next_pid: i32,
    alive: HashSet<i32>,
    /// Orphans and services: alive, but not started by PID 1 through `spawn`.
    others: usize,
    ended: VecDeque<(Pid, Ended)>,
    armed: HashSet<&'static str>,
    container: bool,
    /// The errno the next spawn fails with.
    spawn_fails: Option<i32>,
    log: Vec<String>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            now: Instant::now(),
            next_pid: 100,
            alive: HashSet::new(),
            others: 0,
            ended: VecDeque::new(),
            armed: HashSet::new(),
            container: false,
            spawn_fails: None,
            log: Vec::new(),
        }
    }
}

impl Effects for Fake {
    fn wait(&mut self, _deadline: Option<Instant>) -> io::Result<Event> {
        Ok(Event::Timeout)
    }
    fn reap(&mut self) -> Reaped {
        match self.ended.pop_front() {
            Some((pid, ended)) => {
                self.alive.remove(&pid.as_raw());
                Reaped::Child(pid, ended)
            }
            None if self.alive.is_empty() && self.others == 0 => Reaped::Childless,
            None => Reaped::NoneNow,
        }
    }
    fn now(&self) -> Instant {
        self.now
    }
    fn pause(&mut self) {
        self.log.push("pause".into());
    }
    fn spawn(&mut self, path: &'static str, tty: Tty) -> io::Result<Pid> {
        if let Some(errno) = self.spawn_fails.take() {
            self.log.push(format!("spawn {path} failed"));
            return Err(io::Error::from_raw_os_error(errno));
        }
        let pid = self.next_pid;
        self.next_pid += 1;
        self.alive.insert(pid);
        let tty = if tty == Tty::Console { " on the console" } else { "" };
        self.log.push(format!("spawn {path}{tty} = {pid}"));
        Ok(Pid::from_raw(pid))
    }
    fn kill(&mut self, pid: Pid, sig: Signal) {
        self.log.push(format!("kill {pid} {}", sig.as_str()));
    }
    fn term_all(&mut self) -> bool {
        self.log.push("term all".into());
        self.others > 0 || !self.alive.is_empty()
    }
    fn kill_all(&mut self) {
        self.log.push("kill all".into());
        self.others = 0;
    }
    fn start_halter(&mut self, how: How) -> io::Result<Pid> {
        let pid = self.next_pid;
        self.next_pid += 1;
        self.alive.insert(pid);
        self.log.push(format!("halter {how:?} = {pid}"));
        Ok(Pid::from_raw(pid))
    }
    fn owner_exec(&self, path: &'static str) -> bool {
        self.armed.contains(path)
    }
    fn disarm_stopit(&mut self) {
        self.armed.remove(files::STOPIT);
        self.log.push("disarm stopit".into());
    }
    fn in_container(&self) -> bool {
        self.container
    }
    fn shutdown_signals(&self) -> &'static [ShutdownSignal] {
        SHUTDOWN
    }
    fn info(&mut self, parts: &[&str]) {
        self.log.push(format!("info: {}", parts.concat()));
    }
    fn warn(&mut self, parts: &[&str], err: Option<&io::Error>) {
        let err = err.map(|e| format!("({e})")).unwrap_or_default();
        self.log.push(format!("warning: {}{err}", parts.concat()));
    }
}

/// A PID 1 and its world, booted into stage 1 (pid 100).
struct World {
    init: Init<Fake>,
}

impl World {
    fn boot(fake: Fake) -> World {
        World { init: Init::boot(fake) }
    }

    fn fx(&mut self) -> &mut Fake {
        &mut self.init.fx
    }

    /// Child `pid` ends and SIGCHLD wakes PID 1.
    fn ends(&mut self, pid: i32, how: Ended) -> Option<End> {
        self.fx().ended.push_back((Pid::from_raw(pid), how));
        self.init.step(Ok(Event::Signal(Signal::SIGCHLD)))
    }

    fn signal(&mut self, sig: Signal) -> Option<End> {
        self.init.step(Ok(Event::Signal(sig)))
    }

    /// The clock moves by `d` and the deadline wakes PID 1.
    fn later(&mut self, d: Duration) -> Option<End> {
        self.fx().now += d;
        self.init.step(Ok(Event::Timeout))
    }

    /// The log since the last call.
    fn took(&mut self) -> Vec<String> {
        std::mem::take(&mut self.fx().log)
    }

    /// Boots to stage 2 (pid 101), the log emptied.
    fn in_stage_two(fake: Fake) -> World {
        let mut w = World::boot(fake);
        w.ends(100, Ended::Exit(0));
        w.took();
        w
    }
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn stages_follow_each_other_and_the_machine_powers_off() {
    let mut w = World::boot(Fake::new());
    assert_eq!(
        w.took(),
        lines(&["info: enter stage: /etc/runit/1", "spawn /etc/runit/1 on the console = 100"])
    );
    assert_eq!(w.ends(100, Ended::Exit(0)), None);
    assert_eq!(
        w.took(),
        lines(&[
            "info: leave stage: /etc/runit/1",
            "info: enter stage: /etc/runit/2",
            "spawn /etc/runit/2 = 101",
        ])
    );
    w.ends(101, Ended::Exit(0));
    assert_eq!(
        w.took(),
        lines(&[
            "info: leave stage: /etc/runit/2",
            "info: enter stage: /etc/runit/3",
            "spawn /etc/runit/3 = 102",
        ])
    );
    // Nothing is left after stage 3: KILL to all and the halt, without draining.
    w.ends(102, Ended::Exit(0));
    assert_eq!(
        w.took(),
        lines(&[
            "info: leave stage: /etc/runit/3",
            "term all",
            "kill all",
            "halter PowerOff = 103"
        ])
    );
}

#[test]
fn stage_one_exiting_100_skips_stage_two() {
    let mut w = World::boot(Fake::new());
    w.took();
    w.ends(100, Ended::Exit(100));
    assert_eq!(
        w.took(),
        lines(&[
            "warning: child failed: /etc/runit/1",
            "info: leave stage: /etc/runit/1",
            "warning: skipping stage 2...",
            "info: enter stage: /etc/runit/3",
            "spawn /etc/runit/3 = 101",
        ])
    );
}

#[test]
fn stage_one_crashing_skips_stage_two() {
    let mut w = World::boot(Fake::new());
    w.took();
    w.ends(100, Ended::Crash(11));
    let log = w.took();
    assert_eq!(log.first().map(String::as_str), Some("warning: child crashed: /etc/runit/1"));
    assert_eq!(log.last().map(String::as_str), Some("spawn /etc/runit/3 = 101"));
}

#[test]
fn cont_with_stopit_armed_stops_stage_two_then_kills_it_after_the_grace_time() {
    let mut fake = Fake::new();
    fake.armed.insert(files::STOPIT);
    let mut w = World::in_stage_two(fake);
    w.signal(Signal::SIGCONT);
    assert_eq!(w.took(), lines(&["disarm stopit", "kill 101 SIGTERM"]));
    // Woken before the grace time is over: nothing is due yet.
    w.later(GRACE / 2);
    assert!(w.took().is_empty());
    w.later(GRACE);
    assert_eq!(
        w.took(),
        lines(&["warning: stage 2 not terminated, sending sigkill...", "kill 101 SIGKILL"])
    );
    w.ends(101, Ended::Crash(9));
    assert_eq!(
        w.took(),
        lines(&[
            "info: leave stage: /etc/runit/2",
            "info: enter stage: /etc/runit/3",
            "spawn /etc/runit/3 = 102",
        ])
    );
}

#[test]
fn stage_two_ignoring_kill_too_is_left_behind_for_stage_three() {
    let mut fake = Fake::new();
    fake.armed.insert(files::STOPIT);
    let mut w = World::in_stage_two(fake);
    w.signal(Signal::SIGCONT);
    w.later(GRACE);
    w.took();
    w.later(GRACE);
    assert_eq!(
        w.took(),
        lines(&[
            "warning: stage 2 still there after sigkill, going on.",
            "info: leave stage: /etc/runit/2",
            "info: enter stage: /etc/runit/3",
            "spawn /etc/runit/3 = 102",
        ])
    );
}

#[test]
fn cont_without_stopit_does_nothing() {
    let mut w = World::in_stage_two(Fake::new());
    w.signal(Signal::SIGCONT);
    assert!(w.took().is_empty());
}

#[test]
fn stage_two_crashing_is_restarted_after_a_pause() {
    let mut w = World::in_stage_two(Fake::new());
    w.ends(101, Ended::Crash(6));
    assert_eq!(
        w.took(),
        lines(&[
            "warning: child crashed: /etc/runit/2",
            "warning: killing all processes in stage 2...",
            "kill -101 SIGKILL",
        ])
    );
    w.later(PAUSE / 2);
    assert!(w.took().is_empty());
    w.later(PAUSE);
    assert_eq!(
        w.took(),
        lines(&[
            "warning: restarting.",
            "info: enter stage: /etc/runit/2",
            "spawn /etc/runit/2 = 102"
        ])
    );
}

#[test]
fn stage_two_exiting_111_is_restarted_too() {
    let mut w = World::in_stage_two(Fake::new());
    w.ends(101, Ended::Exit(111));
    assert!(w.took().contains(&"kill -101 SIGKILL".to_string()));
    w.later(PAUSE);
    assert_eq!(w.took().last().map(String::as_str), Some("spawn /etc/runit/2 = 102"));
}

#[test]
fn ctrl_alt_del_runs_its_script_then_acts_as_cont() {
    let mut fake = Fake::new();
    fake.armed.insert(files::CTRLALTDEL);
    let mut w = World::in_stage_two(fake);
    w.signal(Signal::SIGINT);
    assert_eq!(
        w.took(),
        lines(&[
            "info: ctrl-alt-del request...",
            "info: enter stage: /etc/runit/ctrlaltdel",
            "spawn /etc/runit/ctrlaltdel = 102",
        ])
    );
    // A second press while the script runs starts nothing.
    w.signal(Signal::SIGINT);
    assert!(w.took().is_empty());
    // The script armed stopit: its end stops stage 2.
    w.fx().armed.insert(files::STOPIT);
    w.ends(102, Ended::Exit(0));
    assert_eq!(
        w.took(),
        lines(&["info: leave stage: /etc/runit/ctrlaltdel", "disarm stopit", "kill 101 SIGTERM"])
    );
}

#[test]
fn signals_outside_stage_two_are_refused() {
    let mut fake = Fake::new();
    fake.armed.insert(files::CTRLALTDEL);
    let mut w = World::boot(fake);
    w.took();
    w.signal(Signal::SIGINT);
    assert_eq!(w.took(), lines(&["warning: signals only work in stage 2."]));
}

#[test]
fn a_shutdown_signal_in_stage_one_skips_stage_two_and_decides_the_finale() {
    let mut w = World::boot(Fake::new());
    w.took();
    w.signal(Signal::SIGUSR2);
    assert_eq!(w.took(), lines(&["info: shutdown request (SIGUSR2) after stage 1..."]));
    w.ends(100, Ended::Exit(0));
    assert_eq!(
        w.took(),
        lines(&[
            "info: leave stage: /etc/runit/1",
            "warning: skipping stage 2...",
            "info: enter stage: /etc/runit/3",
            "spawn /etc/runit/3 = 101",
        ])
    );
    w.fx().armed.insert(files::REBOOT);
    w.ends(101, Ended::Exit(0));
    // The signal asked for power-off: the reboot file does not count.
    assert_eq!(w.took().last().map(String::as_str), Some("halter PowerOff = 102"));
}

#[test]
fn the_reboot_file_decides_after_stopit() {
    let mut fake = Fake::new();
    fake.armed.insert(files::STOPIT);
    fake.armed.insert(files::REBOOT);
    let mut w = World::in_stage_two(fake);
    w.signal(Signal::SIGCONT);
    w.ends(101, Ended::Exit(0));
    w.ends(102, Ended::Exit(0));
    assert_eq!(w.took().last().map(String::as_str), Some("halter Reboot = 103"));
}

#[test]
fn a_container_signal_counts_only_in_a_container() {
    let mut w = World::in_stage_two(Fake::new());
    w.signal(Signal::SIGTERM);
    assert!(w.took().is_empty());
    w.fx().container = true;
    w.signal(Signal::SIGTERM);
    assert_eq!(w.took(), lines(&["info: shutdown request (SIGTERM)...", "kill 101 SIGTERM"]));
}

#[test]
fn leftovers_after_stage_three_get_term_then_kill_at_the_grace_time() {
    let mut fake = Fake::new();
    fake.others = 2;
    let mut w = World::boot(fake);
    w.ends(100, Ended::Exit(100));
    w.took();
    w.ends(101, Ended::Exit(0));
    assert_eq!(w.took(), lines(&["info: leave stage: /etc/runit/3", "term all"]));
    w.later(GRACE);
    assert_eq!(w.took(), lines(&["kill all", "halter PowerOff = 102"]));
}

#[test]
fn leftovers_that_all_end_bring_the_halt_at_once() {
    let mut fake = Fake::new();
    fake.others = 1;
    let mut w = World::boot(fake);
    w.ends(100, Ended::Exit(100));
    w.ends(101, Ended::Exit(0));
    w.took();
    // The last leftover is reaped: no child is left, the grace time is not waited out.
    w.fx().others = 0;
    w.init.step(Ok(Event::Signal(Signal::SIGCHLD)));
    assert_eq!(w.took(), lines(&["kill all", "halter PowerOff = 102"]));
}

#[test]
fn a_container_whose_kernel_refuses_to_halt_ends_pid_1() {
    let mut fake = Fake::new();
    fake.container = true;
    let mut w = World::boot(fake);
    w.ends(100, Ended::Exit(100));
    w.ends(101, Ended::Exit(0));
    // The halter returned: the kernel said no.
    assert_eq!(w.ends(102, Ended::Exit(111)), Some(End::Halted));
}

#[test]
fn on_a_machine_a_refused_halt_leaves_pid_1_running() {
    let mut w = World::boot(Fake::new());
    w.ends(100, Ended::Exit(100));
    w.ends(101, Ended::Exit(0));
    assert_eq!(w.ends(102, Ended::Exit(111)), None);
    // Orphans are still reaped afterwards.
    assert_eq!(w.ends(500, Ended::Exit(0)), None);
}

#[test]
fn a_fork_failing_for_lack_of_resources_is_retried_after_a_pause() {
    let mut fake = Fake::new();
    fake.spawn_fails = Some(libc::EAGAIN);
    let mut w = World::boot(fake);
    let log = w.took();
    assert_eq!(log.get(1).map(String::as_str), Some("spawn /etc/runit/1 failed"));
    assert!(log
        .get(2)
        .is_some_and(|l| l.starts_with("warning: unable to fork for \"/etc/runit/1\"")));
    w.later(PAUSE);
    assert_eq!(
        w.took().last().map(String::as_str),
        Some("spawn /etc/runit/1 on the console = 100")
    );
}

#[test]
fn a_stage_that_cannot_be_executed_counts_as_done() {
    let mut fake = Fake::new();
    fake.spawn_fails = Some(libc::ENOENT);
    let mut w = World::boot(fake);
    let log = w.took();
    assert!(log.iter().any(|l| l.starts_with("warning: unable to start child: /etc/runit/1")));
    assert_eq!(log.last().map(String::as_str), Some("spawn /etc/runit/2 = 100"));
}

#[test]
fn a_failing_event_wait_pauses_instead_of_spinning() {
    let mut w = World::in_stage_two(Fake::new());
    w.init.step(Err(io::Error::from_raw_os_error(libc::EINVAL)));
    let log = w.took();
    assert!(log.first().is_some_and(|l| l.starts_with("warning: unable to wait for events")));
    assert_eq!(log.last().map(String::as_str), Some("pause"));
}
