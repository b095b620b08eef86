//! State-machine tests against a fake world that records what the machine does.

use super::*;

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
    fn publish(&mut self, _who: Which, status: &Status, ready: Option<&Readiness>) {
        self.published.push(*status);
        self.readiness = ready.cloned();
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
