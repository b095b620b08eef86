//! The runsv fuzz harness (all OSes): arbitrary bytes drive the service and log state machines
//! the way runsv's event loop does (control bytes, children exiting, time passing, forks
//! failing), against a simulated world that checks every effect.
//!
//! Properties checked after every event: no second process of a service is ever started while
//! one runs, no signal goes to a process that is not a live child (pid 0 would hit the whole
//! process group), the machine never forgets a running child, the last published status is
//! the machine's state, a service wanted up is not left down once started, a throttle never
//! asks for more than a second, and no run of a contained service starts while processes of
//! an earlier one are left in its tree.

use std::time::{Duration, Instant};

use crate::child::Pid;
use crate::platform::Signal;
use crate::supervise::readiness::Readiness;
use crate::supervise::runs::Runs;
use crate::supervise::runsv::machine::{
    Cmd, Effects, Input, Phase, Prog, Service, Which, THROTTLE,
};
use crate::supervise::runsv::policy::Policy;
use crate::supervise::status::{Status, Want};
use crate::tai::{Tai64n, TAI_EPOCH};

/// Bytes with a meaning of their own; every other byte is written to the service's control.
const MAIN_EXITS: u8 = 0xf0;
const LOG_EXITS: u8 = 0xf1;
const TIME_PASSES: u8 = 0xf2;
const FORK_TOGGLE: u8 = 0xf3;
const FINISH_TOGGLE: u8 = 0xf4;
const CUSTOM_TOGGLE: u8 = 0xf5;
/// The next byte goes to the log service's control.
const TO_LOG: u8 = 0xf6;
/// runsv got SIGTERM.
const SIGTERM: u8 = 0xf7;
/// From now on (or no longer), an exiting child leaves a process in its tree.
const LEAVES_TOGGLE: u8 = 0xf8;
/// What was left in the trees is gone.
const TREES_EMPTY: u8 = 0xf9;

/// The simulated world: children, a clock, and what was published.
struct World {
    t0: Instant,
    elapsed: Duration,
    next_pid: i32,
    /// Live children: pid and whose.
    alive: Vec<(Pid, Which)>,
    fork_fails: bool,
    finish: bool,
    custom_ok: bool,
    published: [Option<Status>; 2],
    /// An exiting child leaves a process in its service's tree.
    leaves: bool,
    /// Whether each service's tree holds a process that is not a child.
    tree: [bool; 2],
}

fn slot(who: Which) -> usize {
    match who {
        Which::Main => 0,
        Which::Log => 1,
    }
}

impl Effects for World {
    fn now(&mut self) -> Instant {
        self.t0 + self.elapsed
    }

    fn wall(&mut self) -> Tai64n {
        Tai64n { secs: TAI_EPOCH + 1_700_000_000 + self.elapsed.as_secs(), nanos: 0 }
    }

    fn spawn(&mut self, who: Which, _prog: Prog) -> Option<Pid> {
        assert!(
            !self.alive.iter().any(|(_, w)| *w == who),
            "a second process of {who:?} started while one runs"
        );
        assert!(!self.tree[slot(who)], "{who:?} started while its tree holds an earlier run's");
        if self.fork_fails {
            return None;
        }
        self.next_pid += 1;
        let pid = Pid::from_raw(self.next_pid);
        self.alive.push((pid, who));
        Some(pid)
    }

    fn signal(&mut self, pid: Pid, sig: Signal) {
        assert!(
            pid.as_raw() > 0 && self.alive.iter().any(|(p, _)| *p == pid),
            "{sig:?} sent to pid {pid}, not a live child"
        );
    }

    fn custom(&mut self, _c: u8) -> bool {
        self.custom_ok
    }

    fn has_finish(&mut self) -> bool {
        self.finish
    }

    fn declares_readiness(&mut self, _who: Which) -> bool {
        false
    }

    fn policy(&mut self, _who: Which) -> Policy {
        Policy::default()
    }

    fn tree_busy(&mut self, who: Which) -> bool {
        self.tree[slot(who)] || self.alive.iter().any(|(_, w)| *w == who)
    }

    fn tree_signal(&mut self, _who: Which, _sig: Signal) {}

    fn tree_kill(&mut self, who: Which) {
        // The kill reaches the leftovers; live children are reaped as they exit.
        self.tree[slot(who)] = false;
    }

    fn say(&mut self, _text: &str) {}

    fn publish(&mut self, who: Which, status: &Status, _ready: Option<&Readiness>, _runs: &Runs) {
        if let Some(s) = self.published.get_mut(slot(who)) {
            *s = Some(*status);
        }
    }
}

/// Feeds `data` to a runsv with a log service.
pub fn control(data: &[u8]) {
    let mut w = World {
        t0: Instant::now(),
        elapsed: Duration::ZERO,
        next_pid: 1000,
        alive: Vec::new(),
        fork_fails: false,
        finish: false,
        custom_ok: false,
        published: [None, None],
        leaves: false,
        tree: [false, false],
    };
    let now = w.wall();
    let mut main = Service::new(Which::Main, Want::Up, now);
    let mut log = Service::new(Which::Log, Want::Up, now);
    log.step(Input::Start, &mut w);
    main.step(Input::Start, &mut w);
    check(&main, &mut w);
    check(&log, &mut w);
    let mut bytes = data.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            MAIN_EXITS => exited(&mut main, &mut w, bytes.next()),
            LOG_EXITS => exited(&mut log, &mut w, bytes.next()),
            TIME_PASSES => {
                w.elapsed += Duration::from_millis(u64::from(bytes.next().unwrap_or(0)) * 10)
            }
            FORK_TOGGLE => w.fork_fails = !w.fork_fails,
            FINISH_TOGGLE => w.finish = !w.finish,
            CUSTOM_TOGGLE => w.custom_ok = !w.custom_ok,
            TO_LOG => {
                if let Some(cmd) = bytes.next().and_then(Cmd::parse) {
                    log.step(Input::Cmd(cmd), &mut w);
                }
            }
            SIGTERM => main.step(Input::Cmd(Cmd::Exit), &mut w),
            LEAVES_TOGGLE => w.leaves = !w.leaves,
            TREES_EMPTY => w.tree = [false, false],
            _ => {
                if let Some(cmd) = Cmd::parse(b) {
                    main.step(Input::Cmd(cmd), &mut w);
                }
            }
        }
        // As runsv's loop: both services see the time after every event.
        main.step(Input::Tick, &mut w);
        log.step(Input::Tick, &mut w);
        check(&main, &mut w);
        check(&log, &mut w);
        if done(&main, &mut log, &mut w) {
            return;
        }
    }
}

/// The child of `svc` exits (as reaped by runsv: only a pid it knows), with a status from `b`:
/// even values exit with half of it, odd values die of a signal.
fn exited(svc: &mut Service, w: &mut World, b: Option<u8>) {
    let Some(pid) = svc.pid() else { return };
    w.alive.retain(|(p, _)| *p != pid);
    if w.leaves {
        w.tree[slot(svc.who)] = true;
    }
    let b = i32::from(b.unwrap_or(0));
    let wstat = if b % 2 == 0 { (b / 2) << 8 } else { b & 0x7f };
    svc.step(Input::Exited(wstat), w);
}

/// runsv's exit rule: the service down and wanting exit; then the log is let go.
fn done(main: &Service, log: &mut Service, w: &mut World) -> bool {
    if main.want != Want::Exit || !main.is_down() {
        return false;
    }
    if log.is_down() {
        return true;
    }
    if log.want != Want::Exit {
        log.step(Input::Release, w);
        check(log, w);
    }
    false
}

fn check(svc: &Service, w: &mut World) {
    let who = svc.who;
    let mine: Vec<Pid> = w.alive.iter().filter(|(_, x)| *x == who).map(|(p, _)| *p).collect();
    match svc.pid() {
        None => assert!(mine.is_empty(), "{who:?} forgot its running child {mine:?}"),
        Some(pid) => assert_eq!(mine, [pid], "{who:?} believes {pid} runs"),
    }
    let published = w.published.get(slot(who)).copied().flatten();
    assert_eq!(published, Some(svc.status()), "{who:?}: published status is stale");
    let now = w.now();
    match svc.phase {
        Phase::Down => assert!(svc.want != Want::Up, "{who:?} wanted up but left down"),
        Phase::Throttled(t) => assert!(t <= now + THROTTLE, "{who:?} throttled too long"),
        Phase::Run(pid) | Phase::Finish(pid) | Phase::Drain(pid, _) => assert!(pid.as_raw() > 0),
    }
}
