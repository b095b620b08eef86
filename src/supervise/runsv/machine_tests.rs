//! State-machine tests against a fake world that records what the machine does.

use super::*;
use crate::supervise::runs::{Failed, Runs};

/// Records effects; time only moves when a test says so.
struct Fake {
    t0: Instant,
    elapsed: Duration,
    next_pid: i32,
    log: Vec<String>,
    /// Letters whose `control/<c>` exists, with the answer it gives (true = exit 0).
    customs: Vec<(u8, bool)>,
    finish: bool,
    fork_fails: bool,
    published: Vec<Status>,
    /// Runs declare readiness.
    declares: bool,
    /// The readiness last published.
    readiness: Option<Readiness>,
    policy: Policy,
    runs: Runs,
    /// Processes left in the service's tree (a contained service).
    tree: usize,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            t0: Instant::now(),
            elapsed: Duration::ZERO,
            next_pid: 100,
            log: Vec::new(),
            customs: Vec::new(),
            finish: false,
            fork_fails: false,
            published: Vec::new(),
            declares: false,
            readiness: None,
            policy: Policy::default(),
            runs: Runs::default(),
            tree: 0,
        }
    }
    fn advance(&mut self, d: Duration) {
        self.elapsed += d;
    }
    fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }
    fn last(&self) -> Status {
        *self.published.last().unwrap()
    }
}

impl Effects for Fake {
    fn now(&mut self) -> Instant {
        self.t0 + self.elapsed
    }
    fn wall(&mut self) -> Tai64n {
        Tai64n { secs: crate::tai::TAI_EPOCH + self.elapsed.as_secs(), nanos: 0 }
    }
    fn spawn(&mut self, who: Which, prog: Prog) -> Option<Pid> {
        if self.fork_fails {
            self.log.push("fork failed".into());
            return None;
        }
        self.next_pid += 1;
        self.log.push(format!("spawn {who:?} {prog:?} = {}", self.next_pid));
        Some(Pid::from_raw(self.next_pid))
    }
    fn signal(&mut self, pid: Pid, sig: Signal) {
        self.log.push(format!("kill {pid} {sig:?}"));
    }
    fn custom(&mut self, c: u8) -> bool {
        match self.customs.iter().find(|(l, _)| *l == c) {
            Some((_, ok)) => {
                self.log.push(format!("control/{}", c as char));
                *ok
            }
            None => false,
        }
    }
    fn has_finish(&mut self) -> bool {
        self.finish
    }
    fn declares_readiness(&mut self, _who: Which) -> bool {
        self.declares
    }
    fn policy(&mut self, _who: Which) -> Policy {
        self.policy
    }
    fn tree_busy(&mut self, _who: Which) -> bool {
        self.tree > 0
    }
    fn tree_signal(&mut self, _who: Which, sig: Signal) {
        self.log.push(format!("tree {sig:?}"));
    }
    fn tree_kill(&mut self, _who: Which) {
        self.log.push("tree kill".into());
    }
    fn say(&mut self, text: &str) {
        self.log.push(format!("say {text}"));
    }
    fn publish(&mut self, _who: Which, status: &Status, ready: Option<&Readiness>, runs: &Runs) {
        self.published.push(*status);
        self.readiness = ready.cloned();
        self.runs = *runs;
    }
}

fn cmd(s: &mut Service, fx: &mut Fake, c: u8) {
    s.step(Input::Cmd(Cmd::parse(c).unwrap()), fx);
}

fn running(fx: &mut Fake) -> Service {
    let mut s = Service::new(Which::Main, Want::Up, fx.wall());
    s.step(Input::Start, fx);
    assert_eq!(s.phase, Phase::Run(Pid::from_raw(101)));
    fx.take();
    s
}

#[test]
fn start_and_down_file() {
    let mut fx = Fake::new();
    let mut s = Service::new(Which::Main, Want::Down, fx.wall());
    s.step(Input::Start, &mut fx);
    assert_eq!(s.phase, Phase::Down);
    assert!(fx.take().is_empty());
    cmd(&mut s, &mut fx, b'u');
    assert_eq!(fx.take(), ["spawn Main Run = 101"]);
    assert_eq!(fx.last().state, State::Run);
    assert_eq!(fx.last().pid, 101);
    assert_eq!(fx.last().want, Want::Up);
}

#[test]
fn exit_runs_finish_with_code_and_signal() {
    let mut fx = Fake::new();
    fx.finish = true;
    let mut s = running(&mut fx);
    fx.advance(Duration::from_secs(5));
    s.step(Input::Exited(3 << 8), &mut fx);
    assert_eq!(fx.take(), ["spawn Main Finish(3, 0) = 102"]);
    assert_eq!(fx.last().state, State::Finish);
    s.step(Input::Exited(0), &mut fx);
    // Ran 5 s: restarted at once.
    assert_eq!(fx.take(), ["spawn Main Run = 103"]);
    s.step(Input::Exited(libc::SIGKILL), &mut fx);
    assert_eq!(fx.take(), ["spawn Main Finish(-1, 9) = 104"]);
}

#[test]
fn quick_exit_is_throttled_and_commands_still_work() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    fx.advance(Duration::from_millis(10));
    s.step(Input::Exited(0), &mut fx);
    assert!(matches!(s.phase, Phase::Throttled(_)));
    assert_eq!(fx.last().state, State::Down);
    assert!(fx.take().is_empty());
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty(), "restarted before the second passed");
    cmd(&mut s, &mut fx, b'd');
    assert_eq!(fx.last().want, Want::Down);
    fx.advance(THROTTLE);
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty(), "restarted although told down");
    assert_eq!(s.phase, Phase::Down);
}

#[test]
fn throttled_up_and_once_start_at_the_deadline() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    s.step(Input::Exited(0), &mut fx);
    cmd(&mut s, &mut fx, b'o');
    assert!(fx.take().is_empty());
    fx.advance(THROTTLE);
    s.step(Input::Tick, &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 102"]);
    assert_eq!(fx.last().want, Want::Down);
    // Once: not restarted after it ends.
    fx.advance(THROTTLE * 2);
    s.step(Input::Exited(0), &mut fx);
    assert_eq!(s.phase, Phase::Down);
    assert!(fx.take().is_empty());
}

#[test]
fn down_sends_term_then_cont() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'd');
    assert_eq!(fx.take(), ["kill 101 SIGTERM", "kill 101 SIGCONT"]);
    assert!(fx.last().term_sent);
    assert_eq!(fx.last().want, Want::Down);
    fx.advance(THROTTLE);
    s.step(Input::Exited(libc::SIGTERM), &mut fx);
    assert_eq!(s.phase, Phase::Down);
    assert!(!fx.last().term_sent);
    assert!(fx.take().is_empty());
}

#[test]
fn custom_controls() {
    let mut fx = Fake::new();
    fx.customs = vec![(b't', true), (b'd', false), (b'h', true), (b'2', false), (b'u', false)];
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'h');
    assert_eq!(fx.take(), ["control/h"]);
    cmd(&mut s, &mut fx, b'2');
    assert_eq!(fx.take(), ["control/2", "kill 101 SIGUSR2"]);
    cmd(&mut s, &mut fx, b'd');
    // control/t said no TERM; CONT always; then control/d.
    assert_eq!(fx.take(), ["control/t", "kill 101 SIGCONT", "control/d"]);
    fx.advance(THROTTLE);
    s.step(Input::Exited(0), &mut fx);
    cmd(&mut s, &mut fx, b'o');
    // o counts as u for control/u, which runs before every start of ./run.
    assert_eq!(fx.take(), ["control/u", "spawn Main Run = 102"]);
}

#[test]
fn exit_with_custom_x() {
    let mut fx = Fake::new();
    fx.customs = vec![(b'x', true)];
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'x');
    assert_eq!(fx.take(), ["kill 101 SIGTERM", "kill 101 SIGCONT", "control/x"]);
    assert_eq!(fx.last().encode()[17], b'd', "x is recorded as d in the binary status");
    assert_eq!(fx.last().stat_text(), "run, got TERM, want exit");
}

#[test]
fn term_keeps_want_up_and_restarts() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b't');
    assert_eq!(fx.take(), ["kill 101 SIGTERM"]);
    fx.advance(THROTTLE);
    s.step(Input::Exited(libc::SIGTERM), &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 102"]);
}

#[test]
fn signals_only_reach_a_running_run() {
    let mut fx = Fake::new();
    fx.finish = true;
    let mut s = running(&mut fx);
    for (c, sig) in [
        (b'p', "SIGSTOP"),
        (b'c', "SIGCONT"),
        (b'h', "SIGHUP"),
        (b'a', "SIGALRM"),
        (b'i', "SIGINT"),
        (b'q', "SIGQUIT"),
        (b'1', "SIGUSR1"),
        (b'2', "SIGUSR2"),
        (b'k', "SIGKILL"),
    ] {
        cmd(&mut s, &mut fx, c);
        assert_eq!(fx.take(), [format!("kill 101 {sig}")]);
    }
    s.step(Input::Exited(0), &mut fx);
    fx.take();
    for c in *b"pchaiq12ktd" {
        cmd(&mut s, &mut fx, c);
    }
    assert!(fx.take().is_empty(), "commands must not reach ./finish");
}

#[test]
fn pause_flag() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'p');
    assert!(fx.last().paused);
    assert_eq!(fx.last().stat_text(), "run, paused");
    cmd(&mut s, &mut fx, b'c');
    assert!(!fx.last().paused);
}

#[test]
fn log_ignores_x_and_customs() {
    let mut fx = Fake::new();
    fx.customs = vec![(b't', true), (b'u', true)];
    fx.finish = true;
    let mut s = Service::new(Which::Log, Want::Up, fx.wall());
    s.step(Input::Start, &mut fx);
    assert_eq!(fx.take(), ["spawn Log Run = 101"]);
    cmd(&mut s, &mut fx, b'x');
    assert!(fx.take().is_empty());
    assert_eq!(s.want, Want::Up);
    cmd(&mut s, &mut fx, b't');
    assert_eq!(fx.take(), ["kill 101 SIGTERM"]);
    fx.advance(THROTTLE);
    // The log service's ./finish is not run.
    s.step(Input::Exited(0), &mut fx);
    assert_eq!(fx.take(), ["spawn Log Run = 102"]);
    s.step(Input::Release, &mut fx);
    assert_eq!(s.want, Want::Exit);
    assert_eq!(fx.last().stat_text(), "run, want exit");
}

#[test]
fn fork_failure_counts_as_exit_111() {
    let mut fx = Fake::new();
    fx.finish = true;
    fx.fork_fails = true;
    let mut s = Service::new(Which::Main, Want::Up, fx.wall());
    s.step(Input::Start, &mut fx);
    assert!(matches!(s.phase, Phase::Throttled(_)));
    fx.fork_fails = false;
    fx.take();
    fx.advance(THROTTLE);
    s.step(Input::Tick, &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 101"]);
    fx.fork_fails = true;
    s.step(Input::Exited(0), &mut fx);
    assert_eq!(fx.take(), ["fork failed"]);
    fx.fork_fails = false;
    assert!(matches!(s.phase, Phase::Throttled(_)));
}

#[test]
fn finish_args_from_wait_status() {
    assert_eq!(finish_args(0), (0, 0));
    assert_eq!(finish_args(111 << 8), (111, 0));
    assert_eq!(finish_args(libc::SIGTERM), (-1, libc::SIGTERM));
}

#[test]
fn readiness_of_a_run_that_declares_it() {
    use crate::supervise::readiness::State as R;
    let mut fx = Fake::new();
    fx.declares = true;
    let mut s = Service::new(Which::Main, Want::Up, fx.wall());
    s.step(Input::Start, &mut fx);
    let r = fx.readiness.clone().unwrap();
    assert_eq!((r.state, r.pid), (R::Starting, 101));
    fx.advance(Duration::from_millis(500));
    s.step(Input::Notified(R::Ready), &mut fx);
    let r = fx.readiness.clone().unwrap();
    assert_eq!(r.state, R::Ready);
    assert_eq!(r.since, fx.wall());
    // A second notification changes nothing.
    let published = fx.published.len();
    s.step(Input::Notified(R::Ready), &mut fx);
    assert_eq!(fx.published.len(), published);
    // The run ends: no readiness until the next run, which starts not ready.
    s.step(Input::Exited(0), &mut fx);
    assert_eq!(fx.readiness, None);
    assert_eq!(s.readiness(), None);
    s.step(Input::Notified(R::Ready), &mut fx);
    assert_eq!(fx.readiness, None);
    fx.advance(THROTTLE);
    s.step(Input::Tick, &mut fx);
    let r = fx.readiness.clone().unwrap();
    assert_eq!((r.state, r.pid), (R::Starting, 102));
}

#[test]
fn no_readiness_without_declaring_it() {
    use crate::supervise::readiness::State as R;
    let mut fx = Fake::new();
    let mut s = Service::new(Which::Main, Want::Up, fx.wall());
    s.step(Input::Start, &mut fx);
    s.step(Input::Notified(R::Ready), &mut fx);
    assert_eq!(fx.readiness, None);
    assert_eq!(fx.last().state, State::Run);
}

#[test]
fn reloading_and_stopping_and_status_text() {
    use crate::supervise::readiness::State as R;
    let mut fx = Fake::new();
    fx.declares = true;
    let mut s = Service::new(Which::Main, Want::Up, fx.wall());
    s.step(Input::Start, &mut fx);
    // Reloading means something only once ready.
    s.step(Input::Notified(R::Reloading), &mut fx);
    assert_eq!(fx.readiness.as_ref().unwrap().state, R::Starting);
    s.step(Input::Notified(R::Ready), &mut fx);
    s.step(Input::Notified(R::Reloading), &mut fx);
    assert_eq!(fx.readiness.as_ref().unwrap().state, R::Reloading);
    s.status_text("reading\nconfig", &mut fx);
    assert_eq!(fx.readiness.as_ref().unwrap().text, "reading config");
    s.step(Input::Notified(R::Ready), &mut fx);
    assert_eq!(fx.readiness.as_ref().unwrap().state, R::Ready);
    assert_eq!(fx.readiness.as_ref().unwrap().text, "reading config");
    s.step(Input::Notified(R::Stopping), &mut fx);
    assert_eq!(fx.readiness.as_ref().unwrap().state, R::Stopping);
}

#[test]
fn down_signal_then_cont_and_timeout_kill() {
    let mut fx = Fake::new();
    fx.policy.down_signal = Some(Signal::SIGINT);
    fx.policy.timeout_kill = Some(Duration::from_millis(3000));
    let mut s = running(&mut fx);
    // `sv term` still sends TERM and arms nothing.
    cmd(&mut s, &mut fx, b't');
    assert_eq!(fx.take(), ["kill 101 SIGTERM"]);
    assert_eq!(s.deadline(), None);
    cmd(&mut s, &mut fx, b'd');
    assert_eq!(fx.take(), ["kill 101 SIGINT", "kill 101 SIGCONT"]);
    assert_eq!(s.deadline(), Some(fx.now() + Duration::from_millis(3000)));
    fx.advance(Duration::from_millis(2999));
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty());
    fx.advance(Duration::from_millis(1));
    s.step(Input::Tick, &mut fx);
    let said = fx.take();
    assert_eq!(said[1], "kill 101 SIGKILL", "{said:?}");
    assert!(said[0].contains("outlived its time limit"), "{said:?}");
    // Once: no second KILL.
    fx.advance(Duration::from_secs(10));
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty());
    s.step(Input::Exited(9), &mut fx);
    assert_eq!(s.phase, Phase::Down);
    assert_eq!(fx.runs.last.map(|(w, _)| w), Some(9));
}

#[test]
fn a_control_d_script_still_runs_with_a_down_signal() {
    let mut fx = Fake::new();
    fx.policy.down_signal = Some(Signal::SIGQUIT);
    fx.customs = vec![(b'd', true)];
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'd');
    assert_eq!(fx.take(), ["kill 101 SIGQUIT", "kill 101 SIGCONT", "control/d"]);
    // control/t, when it exits 0, replaces the signal as it replaces TERM.
    let mut fx = Fake::new();
    fx.policy.down_signal = Some(Signal::SIGQUIT);
    fx.customs = vec![(b't', true)];
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'x');
    assert_eq!(fx.take(), ["control/t", "kill 101 SIGCONT"]);
}

#[test]
fn restart_letter_stops_by_policy_and_keeps_want_up() {
    let mut fx = Fake::new();
    fx.policy.down_signal = Some(Signal::SIGUSR1);
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'r');
    assert_eq!(fx.take(), ["kill 101 SIGUSR1", "kill 101 SIGCONT"]);
    fx.advance(Duration::from_secs(5));
    s.step(Input::Exited(0), &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 102"]);
    assert_eq!(fx.runs.restarts, 1);
}

#[test]
fn timeout_finish_kills_finish() {
    let mut fx = Fake::new();
    fx.finish = true;
    fx.policy.timeout_finish = Some(Duration::from_millis(500));
    let mut s = running(&mut fx);
    fx.advance(Duration::from_secs(5));
    s.step(Input::Exited(0), &mut fx);
    fx.take();
    fx.advance(Duration::from_millis(500));
    s.step(Input::Tick, &mut fx);
    assert_eq!(fx.take().last().map(String::as_str), Some("kill 102 SIGKILL"));
    s.step(Input::Exited(9), &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 103"]);
}

#[test]
fn finish_125_holds_the_service_down_until_asked() {
    let mut fx = Fake::new();
    fx.finish = true;
    let mut s = running(&mut fx);
    fx.advance(Duration::from_secs(5));
    s.step(Input::Exited(1 << 8), &mut fx);
    fx.take();
    s.step(Input::Exited(125 << 8), &mut fx);
    let said = fx.take();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("./finish exited 125"), "{said:?}");
    assert_eq!((s.phase, s.want), (Phase::Down, Want::Down));
    assert_eq!(fx.runs.failed, Some(Failed::Finish));
    fx.advance(Duration::from_secs(5));
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty());
    cmd(&mut s, &mut fx, b'u');
    assert_eq!(fx.take(), ["spawn Main Run = 103"]);
    assert_eq!(fx.runs.failed, None);
}

/// Runs that die at once, `n` times; returns the waits between them.
fn quick_deaths(s: &mut Service, fx: &mut Fake, n: usize) -> Vec<Duration> {
    let mut waits = Vec::new();
    for _ in 0..n {
        s.step(Input::Exited(1 << 8), fx);
        let Some(t) = s.deadline() else { break };
        let wait = t - fx.now();
        waits.push(wait);
        fx.advance(wait);
        s.step(Input::Tick, fx);
    }
    waits
}

#[test]
fn backoff_doubles_up_to_the_max_and_up_starts_at_once() {
    let mut fx = Fake::new();
    fx.policy.delay_max = Some(Duration::from_millis(5000));
    let mut s = running(&mut fx);
    let secs = |v: Vec<Duration>| v.iter().map(|d| d.as_millis()).collect::<Vec<_>>();
    assert_eq!(secs(quick_deaths(&mut s, &mut fx, 5)), [1000, 2000, 4000, 5000, 5000]);
    // `sv up` during the delay starts at once.
    s.step(Input::Exited(1 << 8), &mut fx);
    assert!(matches!(s.phase, Phase::Throttled(_)));
    fx.take();
    cmd(&mut s, &mut fx, b'u');
    assert_eq!(fx.take().last().map(|l| l.starts_with("spawn Main Run")), Some(true));
    // A run that lasts longer than the max starts the series again.
    fx.advance(Duration::from_millis(5001));
    assert_eq!(secs(quick_deaths(&mut s, &mut fx, 1)), Vec::<u128>::new());
    assert_eq!(secs(quick_deaths(&mut s, &mut fx, 2)), [1000, 2000]);
}

#[test]
fn without_a_backoff_the_throttle_is_runits_second() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    let waits = quick_deaths(&mut s, &mut fx, 4);
    assert!(waits.iter().all(|&w| w == THROTTLE), "{waits:?}");
    assert_eq!(fx.runs.restarts, 4);
}

#[test]
fn the_restart_limit_gives_up_once_and_up_resets_it() {
    let mut fx = Fake::new();
    fx.policy.limit = Some((3, Duration::from_secs(10)));
    let mut s = running(&mut fx);
    assert_eq!(quick_deaths(&mut s, &mut fx, 3).len(), 3);
    fx.take();
    s.step(Input::Exited(1 << 8), &mut fx);
    let said = fx.take();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("./run ended 4 times within 10000 ms"), "{said:?}");
    assert_eq!((s.phase, s.want), (Phase::Down, Want::Down));
    assert_eq!(fx.runs.failed, Some(Failed::Limit));
    fx.advance(Duration::from_secs(60));
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty());
    cmd(&mut s, &mut fx, b'o');
    assert_eq!(fx.runs.failed, None);
    assert_eq!(fx.take().last().map(|l| l.starts_with("spawn Main Run")), Some(true));
    // Deaths spread wider than the interval never add up.
    let mut fx = Fake::new();
    fx.policy.limit = Some((2, Duration::from_secs(10)));
    let mut s = running(&mut fx);
    for _ in 0..6 {
        fx.advance(Duration::from_secs(6));
        s.step(Input::Exited(1 << 8), &mut fx);
        assert_eq!(s.want, Want::Up);
    }
}

#[test]
fn backoff_and_limit_together() {
    let mut fx = Fake::new();
    fx.policy.delay_max = Some(Duration::from_secs(4));
    fx.policy.limit = Some((3, Duration::from_secs(60)));
    let mut s = running(&mut fx);
    let waits = quick_deaths(&mut s, &mut fx, 5);
    assert_eq!(waits, [1, 2, 4].map(Duration::from_secs));
    assert_eq!(fx.runs.failed, Some(Failed::Limit));
}

#[test]
fn a_contained_run_is_over_once_its_tree_is_empty() {
    let mut fx = Fake::new();
    fx.finish = true;
    let mut s = running(&mut fx);
    cmd(&mut s, &mut fx, b'd');
    assert_eq!(fx.take(), ["kill 101 SIGTERM", "kill 101 SIGCONT"]);
    // ./run ended, a daemon it forked is still in the tree.
    fx.tree = 1;
    s.step(Input::Exited(15), &mut fx);
    assert_eq!(fx.take(), ["tree SIGTERM", "tree SIGCONT"]);
    assert_eq!(s.phase, Phase::Drain(Pid::from_raw(101), After::Run(15)));
    assert_eq!(fx.last().state, State::Run, "not down while the tree holds a process");
    assert_eq!(fx.last().pid, 101);
    assert!(!s.is_down());
    // Commands work meanwhile; nothing starts.
    cmd(&mut s, &mut fx, b'u');
    assert!(fx.take().is_empty());
    // The daemon ignores TERM: KILL to the whole tree after the default 7 s.
    fx.advance(TREE_GRACE);
    s.step(Input::Tick, &mut fx);
    let said = fx.take();
    assert_eq!(said.last().map(String::as_str), Some("tree kill"), "{said:?}");
    // Empty: ./finish runs (in the tree too) with run's status, and drains likewise.
    fx.tree = 0;
    s.step(Input::Tick, &mut fx);
    assert_eq!(fx.take(), ["spawn Main Finish(-1, 15) = 102"]);
    s.step(Input::Exited(0), &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 103"], "wanted up again by the u meanwhile");
}

#[test]
fn a_tree_that_never_empties_is_said_once_and_keeps_the_service_down() {
    let mut fx = Fake::new();
    let mut s = running(&mut fx);
    fx.tree = 1;
    s.step(Input::Exited(0), &mut fx);
    fx.take();
    fx.advance(TREE_GRACE);
    s.step(Input::Tick, &mut fx);
    fx.advance(TREE_GRACE);
    s.step(Input::Tick, &mut fx);
    let said = fx.take();
    assert_eq!(said.iter().filter(|l| l.contains("does not empty")).count(), 1, "{said:?}");
    assert_eq!(s.deadline(), None, "nothing more is due: runsv waits for the tree's events");
    fx.advance(TREE_GRACE * 10);
    s.step(Input::Tick, &mut fx);
    assert!(fx.take().is_empty(), "said once, no restart");
    // sv k still reaches the tree; once it empties the service restarts.
    cmd(&mut s, &mut fx, b'k');
    assert_eq!(fx.take(), ["tree kill"]);
    fx.tree = 0;
    s.step(Input::Tick, &mut fx);
    assert_eq!(fx.take(), ["spawn Main Run = 102"]);
}

#[test]
fn the_tree_of_a_run_that_crashed_gets_the_down_signal_of_the_policy() {
    let mut fx = Fake::new();
    fx.policy.down_signal = Some(Signal::SIGUSR1);
    fx.policy.timeout_kill = Some(Duration::from_millis(500));
    let mut s = running(&mut fx);
    fx.tree = 2;
    s.step(Input::Exited(11), &mut fx);
    assert_eq!(fx.take(), ["tree SIGUSR1", "tree SIGCONT"]);
    assert_eq!(s.deadline(), Some(fx.now() + Duration::from_millis(500)));
    cmd(&mut s, &mut fx, b'k');
    assert_eq!(fx.take(), ["tree kill"], "sv k kills what is left at once");
}
