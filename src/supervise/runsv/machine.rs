//! The lifecycle of one supervised service (the service or its log), as one exhaustive match
//! over (phase, input). Everything it does to the world goes through [`Effects`], so tests drive
//! it with a fake (all OSes).
//!
//! It follows runit's runsv: commands act on a running `./run` only (never on `./finish`), custom
//! `control/<c>` scripts are asked first, `d`/`x`/`t` stop through `control/t`, TERM and CONT, and
//! a run that ended within a second of its start is restarted no sooner than a second later. That
//! second is a deadline here, not runit's blocking sleep, so commands keep working meanwhile.
//!
//! The service's stop and restart policy ([`Policy`], read through [`Effects::policy`] at each
//! stop and end) adds what C runit lacks: a stop signal of its own, KILL after `timeout-kill`,
//! a bound on `./finish`, backoff after quick deaths, giving up after too many restarts, and
//! `./finish` exiting 125 to keep the service down. Without the files, nothing of it applies.
//!
//! A contained service (one with `cgroup/`, see [`Effects::tree_busy`]) is over only once its
//! whole process tree is: after `./run` or `./finish` ended, what is left of the tree gets the
//! down signal and CONT, then KILL after `timeout-kill` (7 s unless the file says otherwise), and
//! the service stays in [`Phase::Drain`] until the tree is empty, so two runs never overlap.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::child::Pid;
use crate::fail::exit;
use crate::platform::Signal;
use crate::supervise::protocol::Letter;
use crate::supervise::readiness::{self, Readiness};
use crate::supervise::runs::{Failed, Runs};
use crate::supervise::runsv::policy::Policy;
use crate::supervise::status::{State, Status, Want};
use crate::tai::Tai64n;

/// How long a run must have lasted for its restart to be immediate.
pub const THROTTLE: Duration = Duration::from_secs(1);

/// Which of the two services of a runsv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Main,
    Log,
}

/// What the service is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing runs.
    Down,
    /// Nothing runs; no start before the instant (the restart throttle).
    Throttled(Instant),
    /// `./run` runs with this pid.
    Run(Pid),
    /// `./finish` runs with this pid.
    Finish(Pid),
    /// The run or finish with this pid ended, but its process tree still holds processes:
    /// what happens next waits until it is empty.
    Drain(Pid, After),
}

/// What a drained tree lets happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// `./run` ended with this wait status: `./finish`, or down.
    Run(i32),
    /// `./finish` ended with this wait status: down.
    Finish(i32),
}

/// How long what is left of a contained service's tree gets before `cgroup.kill`, without a
/// `timeout-kill` file; and how long after the KILL runsv waits before it says the tree does
/// not empty.
pub const TREE_GRACE: Duration = Duration::from_secs(7);

/// A control command (one byte written to `supervise/control`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Up,
    Down,
    Once,
    Exit,
    Term,
    Kill,
    Pause,
    Cont,
    /// `h a i q 1 2`: the signal and the letter (for `control/<letter>`).
    Signal(Signal, u8),
    /// `r`: the stop half of a restart, with the service's stop policy.
    Restart,
}

impl Cmd {
    /// The command of a control byte; other bytes are not commands and are ignored.
    pub fn parse(b: u8) -> Option<Cmd> {
        let letter = Letter::from_byte(b)?;
        Some(match letter {
            Letter::Up => Cmd::Up,
            Letter::Down => Cmd::Down,
            Letter::Once => Cmd::Once,
            Letter::Exit => Cmd::Exit,
            Letter::Term => Cmd::Term,
            Letter::Kill => Cmd::Kill,
            Letter::Restart => Cmd::Restart,
            Letter::Pause => Cmd::Pause,
            Letter::Cont => Cmd::Cont,
            Letter::Hup
            | Letter::Alarm
            | Letter::Int
            | Letter::Quit
            | Letter::Usr1
            | Letter::Usr2 => Cmd::Signal(letter.passed_signal()?, b),
        })
    }
}

/// What happens to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// runsv starts up: start if wanted up.
    Start,
    /// A control command.
    Cmd(Cmd),
    /// The current process exited with this wait status.
    Exited(i32),
    /// Time passed: a throttle deadline may be over.
    Tick,
    /// runsv is leaving: want exit without stopping anything (the log, once the service is down).
    Release,
    /// The current run told its readiness (a newline on its notification pipe, or an
    /// sd_notify READY=1, RELOADING=1 or STOPPING=1).
    Notified(readiness::State),
}

/// Which program to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prog {
    Run,
    /// `./finish` with run's exit code (-1 if it did not exit) and the low byte of its status.
    Finish(i32, i32),
}

/// The outside world of the state machine.
pub trait Effects {
    /// Monotonic time, for the throttle.
    fn now(&mut self) -> Instant;
    /// Wall-clock time, for the status record.
    fn wall(&mut self) -> Tai64n;
    /// Starts a program of `who`; None when it could not even be forked (already reported).
    fn spawn(&mut self, who: Which, prog: Prog) -> Option<Pid>;
    /// Sends a signal.
    fn signal(&mut self, pid: Pid, sig: Signal);
    /// Runs `control/<c>` if it is executable and waits for it: true if it exited 0.
    fn custom(&mut self, c: u8) -> bool;
    /// Whether the service has a `./finish` to run.
    fn has_finish(&mut self) -> bool;
    /// The stop and restart policy of `who`, as its files say now.
    fn policy(&mut self, who: Which) -> Policy;
    /// One line of runsv's own (a warning), for what the policy made it do.
    fn say(&mut self, text: &str);
    /// Whether the run of `who` just spawned declared readiness (a notification channel is
    /// open to it).
    fn declares_readiness(&mut self, who: Which) -> bool;
    /// Whether `who` is contained and its process tree still holds a process.
    fn tree_busy(&mut self, who: Which) -> bool;
    /// Sends `sig` to every process in the tree of `who` (when it is contained).
    fn tree_signal(&mut self, who: Which, sig: Signal);
    /// Kills every process in the tree of `who` at once (when it is contained).
    fn tree_kill(&mut self, who: Which);
    /// Records the status of `who` (supervise/status, stat, pid), and before it its readiness
    /// (supervise/readiness; None removes it) and its runs (supervise/runs).
    fn publish(&mut self, who: Which, status: &Status, ready: Option<&Readiness>, runs: &Runs);
}

/// The supervision state of one service.
#[derive(Debug, Clone)]
pub struct Service {
    pub who: Which,
    pub phase: Phase,
    pub want: Want,
    /// `o` arrived during the throttle: start once when it ends.
    once_pending: bool,
    paused: bool,
    term_sent: bool,
    /// Time of the last state change, as published.
    since: Tai64n,
    /// When `./run` was last started, for the throttle.
    started: Option<Instant>,
    /// How `./run` last ended, for `./finish`'s arguments.
    wstat: i32,
    /// The readiness of the current run, when it declared readiness.
    ready: Option<Readiness>,
    /// When the run told to stop gets KILL (`timeout-kill`).
    kill_at: Option<Instant>,
    /// When `./finish` gets KILL (`timeout-finish`).
    finish_kill_at: Option<Instant>,
    /// The wait before the next start after a quick death, under `restart-delay-max`.
    backoff: Duration,
    /// The automatic restarts within `restart-limit-interval`.
    recent: VecDeque<Instant>,
    /// What is recorded of the runs (supervise/runs).
    runs: Runs,
    /// While draining: when the tree gets KILL, and when, after that, runsv says it does not
    /// empty.
    drain_kill_at: Option<Instant>,
    drain_stuck_at: Option<Instant>,
}

impl Service {
    pub fn new(who: Which, want: Want, since: Tai64n) -> Service {
        Service {
            who,
            phase: Phase::Down,
            want,
            once_pending: false,
            paused: false,
            term_sent: false,
            since,
            started: None,
            wstat: 0,
            ready: None,
            kill_at: None,
            finish_kill_at: None,
            backoff: THROTTLE,
            recent: VecDeque::new(),
            runs: Runs::default(),
            drain_kill_at: None,
            drain_stuck_at: None,
        }
    }

    /// The pid of the running run or finish.
    pub fn pid(&self) -> Option<Pid> {
        match self.phase {
            Phase::Run(p) | Phase::Finish(p) => Some(p),
            Phase::Down | Phase::Throttled(_) | Phase::Drain(..) => None,
        }
    }

    /// The pid of the running `./run` (not of `./finish`).
    pub fn running(&self) -> Option<Pid> {
        match self.phase {
            Phase::Run(p) => Some(p),
            Phase::Down | Phase::Throttled(_) | Phase::Finish(_) | Phase::Drain(..) => None,
        }
    }

    /// Whether no process runs (a tree that drains still holds some).
    pub fn is_down(&self) -> bool {
        matches!(self.phase, Phase::Down | Phase::Throttled(_))
    }

    /// The next moment something is due: the end of a throttle, or a KILL of the policy.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Throttled(t) => Some(t),
            Phase::Run(_) => self.kill_at,
            Phase::Finish(_) => self.finish_kill_at,
            Phase::Drain(..) => self.drain_kill_at.or(self.drain_stuck_at),
            Phase::Down => None,
        }
    }

    /// What is recorded of the runs.
    pub fn runs(&self) -> &Runs {
        &self.runs
    }

    /// The readiness of the current run, if it declared readiness.
    pub fn readiness(&self) -> Option<&Readiness> {
        self.ready.as_ref()
    }

    /// The status record as published.
    pub fn status(&self) -> Status {
        Status {
            since: self.since,
            // The record's 0 is "no process"; a pid is always positive. A draining service
            // shows the run (or finish) whose tree it waits for: it is not down yet.
            pid: match self.phase {
                Phase::Drain(p, _) => p.as_raw().unsigned_abs(),
                _ => self.pid().map_or(0, |p| p.as_raw().unsigned_abs()),
            },
            paused: self.paused,
            want: self.want,
            term_sent: self.term_sent,
            state: match self.phase {
                Phase::Down | Phase::Throttled(_) => State::Down,
                Phase::Run(_) | Phase::Drain(_, After::Run(_)) => State::Run,
                Phase::Finish(_) | Phase::Drain(_, After::Finish(_)) => State::Finish,
            },
        }
    }

    /// The lifecycle.
    pub fn step(&mut self, input: Input, fx: &mut impl Effects) {
        match (self.phase, input) {
            (_, Input::Cmd(cmd)) => self.command(cmd, fx),
            (_, Input::Release) => {
                self.want = Want::Exit;
                self.once_pending = false;
                self.publish(fx);
            }
            (Phase::Down, Input::Start) if self.want == Want::Up => self.start(fx),
            (
                Phase::Down
                | Phase::Throttled(_)
                | Phase::Run(_)
                | Phase::Finish(_)
                | Phase::Drain(..),
                Input::Start,
            ) => {}
            (Phase::Run(pid), Input::Exited(wstat)) => self.drain(pid, After::Run(wstat), fx),
            (Phase::Finish(pid), Input::Exited(wstat)) => self.drain(pid, After::Finish(wstat), fx),
            // Nothing runs, so nothing of ours can have exited.
            (Phase::Down | Phase::Throttled(_) | Phase::Drain(..), Input::Exited(_)) => {}
            (Phase::Drain(_, after), Input::Tick) => self.drain_tick(after, fx),
            (Phase::Throttled(t), Input::Tick) if fx.now() >= t => {
                self.phase = Phase::Down;
                if self.want == Want::Up || self.once_pending {
                    self.start(fx);
                }
            }
            (Phase::Run(pid), Input::Tick) if self.kill_at.is_some_and(|t| fx.now() >= t) => {
                self.kill_at = None;
                self.say_killed("./run", pid, fx);
            }
            (Phase::Finish(pid), Input::Tick)
                if self.finish_kill_at.is_some_and(|t| fx.now() >= t) =>
            {
                self.finish_kill_at = None;
                self.say_killed("./finish", pid, fx);
            }
            (Phase::Down | Phase::Throttled(_) | Phase::Run(_) | Phase::Finish(_), Input::Tick) => {
            }
            (Phase::Run(_), Input::Notified(state)) => self.notified(state, fx),
            // A notification from a run that is over, or from finish: nobody's readiness.
            (
                Phase::Down | Phase::Throttled(_) | Phase::Finish(_) | Phase::Drain(..),
                Input::Notified(_),
            ) => {}
        }
    }

    /// A control command, as runsv(8) describes it.
    fn command(&mut self, cmd: Cmd, fx: &mut impl Effects) {
        let running = self.running();
        match cmd {
            Cmd::Up => self.set_want(Want::Up, false, fx),
            Cmd::Once => self.set_want(Want::Down, true, fx),
            Cmd::Down => self.set_want(Want::Down, false, fx),
            // The log service keeps running until runsv closes its pipe.
            Cmd::Exit if self.who == Which::Log => {}
            Cmd::Exit => self.set_want(Want::Exit, false, fx),
            Cmd::Term => {
                if let Some(pid) = running {
                    self.stop(pid, Stop::Term, fx);
                }
            }
            Cmd::Restart => {
                if let Some(pid) = running {
                    self.stop(pid, Stop::Policy, fx);
                }
            }
            Cmd::Kill => {
                if let Some(pid) = running {
                    self.send(pid, b'k', Signal::SIGKILL, fx);
                }
                // The whole tree, also what is left of a run that ended.
                let live = running.is_some() || matches!(self.phase, Phase::Drain(..));
                if live && fx.tree_busy(self.who) {
                    fx.tree_kill(self.who);
                }
            }
            Cmd::Pause => {
                if let Some(pid) = running {
                    self.send(pid, b'p', Signal::SIGSTOP, fx);
                }
                self.paused = true;
                self.publish(fx);
            }
            Cmd::Cont => {
                if let Some(pid) = running {
                    self.send(pid, b'c', Signal::SIGCONT, fx);
                }
                self.paused = false;
                self.publish(fx);
            }
            Cmd::Signal(sig, letter) => {
                if let Some(pid) = running {
                    self.send(pid, letter, sig, fx);
                }
            }
        }
    }

    /// `u`, `o`, `d`, `x`: record what is wanted, then start (`u`, `o`) a service that is down
    /// or stop (`d`, `x`) a running one. `o` leaves a running service alone.
    fn set_want(&mut self, want: Want, once: bool, fx: &mut impl Effects) {
        self.want = want;
        let start = want == Want::Up || once;
        if start {
            // Asked for: whatever held the service down no longer does, and the count of
            // restarts towards the limit starts afresh.
            self.runs.failed = None;
            self.recent.clear();
        }
        self.publish(fx);
        match self.phase {
            Phase::Down if start => self.start(fx),
            Phase::Down => {}
            // Under a backoff, asking is starting at once; runit's one second is kept.
            Phase::Throttled(_) if start && fx.policy(self.who).delay_max.is_some() => {
                self.phase = Phase::Down;
                self.start(fx);
            }
            Phase::Throttled(_) => self.once_pending = once,
            Phase::Run(pid) if !start => self.stop(pid, Stop::Policy, fx),
            Phase::Run(_) | Phase::Finish(_) | Phase::Drain(..) => {}
        }
    }

    /// Sends `sig` unless `control/<letter>` exists and exits 0.
    fn send(&mut self, pid: Pid, letter: u8, sig: Signal, fx: &mut impl Effects) {
        if !self.custom(letter, fx) {
            fx.signal(pid, sig);
        }
    }

    /// runit's stopservice: TERM (unless `control/t` says no; `down-signal` instead of TERM
    /// for a stop by policy), then for `d`/`x` CONT and `control/d` or `control/x`, whose exit
    /// status does not matter. A stop by policy arms `timeout-kill`.
    fn stop(&mut self, pid: Pid, how: Stop, fx: &mut impl Effects) {
        let policy = match how {
            Stop::Term => Policy::default(),
            Stop::Policy => fx.policy(self.who),
        };
        if !self.custom(b't', fx) {
            fx.signal(pid, policy.stop_signal());
            self.term_sent = true;
            self.publish(fx);
        }
        if let Some(t) = policy.timeout_kill {
            self.kill_at = Some(fx.now() + t);
        }
        let letter = match (self.want, how) {
            (Want::Up, Stop::Term) => return,
            // A restart's stop: CONT, so that a stopped process sees its stop signal.
            (Want::Up, Stop::Policy) => {
                fx.signal(pid, Signal::SIGCONT);
                return;
            }
            (Want::Down, _) => b'd',
            (Want::Exit, _) => b'x',
        };
        fx.signal(pid, Signal::SIGCONT);
        self.custom(letter, fx);
    }

    /// KILL to a process that outlived its policy's time, said in one line.
    fn say_killed(&mut self, name: &str, pid: Pid, fx: &mut impl Effects) {
        fx.say(&format!("{name} (pid {pid}) outlived its time limit: sending KILL"));
        fx.signal(pid, Signal::SIGKILL);
    }

    /// The log service's control cannot be customised.
    fn custom(&mut self, letter: u8, fx: &mut impl Effects) -> bool {
        self.who == Which::Main && fx.custom(letter)
    }

    /// Starts `./run` (after `control/u`, whose result does not matter).
    fn start(&mut self, fx: &mut impl Effects) {
        self.once_pending = false;
        self.custom(b'u', fx);
        self.started = Some(fx.now());
        self.since = fx.wall();
        self.paused = false;
        self.term_sent = false;
        match fx.spawn(self.who, Prog::Run) {
            Some(pid) => {
                self.phase = Phase::Run(pid);
                let raw = pid.as_raw().unsigned_abs();
                self.ready =
                    fx.declares_readiness(self.who).then(|| Readiness::starting(raw, self.since));
                self.publish(fx);
            }
            // Could not fork: as if ./run had exited 111 at once (runsv(8)).
            None => self.run_ended(exit::RUNSV_CHILD_FAILED << 8, fx),
        }
    }

    /// The run or finish `pid` ended: what follows happens now if its tree is empty (always
    /// for a service that is not contained), else once it is. What is left gets the down
    /// signal and CONT now, and KILL after `timeout-kill`.
    fn drain(&mut self, pid: Pid, after: After, fx: &mut impl Effects) {
        self.kill_at = None;
        self.finish_kill_at = None;
        if !fx.tree_busy(self.who) {
            return self.drained(after, fx);
        }
        let policy = fx.policy(self.who);
        fx.tree_signal(self.who, policy.stop_signal());
        fx.tree_signal(self.who, Signal::SIGCONT);
        self.drain_kill_at = Some(fx.now() + policy.timeout_kill.unwrap_or(TREE_GRACE));
        self.drain_stuck_at = None;
        self.phase = Phase::Drain(pid, after);
        self.ready = None;
        self.publish(fx);
    }

    /// While draining: on once the tree is empty, KILL when its time is up, and one word if
    /// even that does not empty it (a process in uninterruptible sleep); the service stays
    /// down meanwhile and every command still works.
    fn drain_tick(&mut self, after: After, fx: &mut impl Effects) {
        if !fx.tree_busy(self.who) {
            (self.drain_kill_at, self.drain_stuck_at) = (None, None);
            return self.drained(after, fx);
        }
        let now = fx.now();
        if self.drain_kill_at.is_some_and(|t| now >= t) {
            self.drain_kill_at = None;
            self.drain_stuck_at = Some(now + TREE_GRACE);
            fx.say("processes are left in the service's tree after it ended: killing them all");
            fx.tree_kill(self.who);
        } else if self.drain_stuck_at.is_some_and(|t| now >= t) {
            self.drain_stuck_at = None;
            fx.say("the service's tree does not empty after KILL: it stays down until it does");
        }
    }

    /// The tree is empty: what the end of run or finish leads to.
    fn drained(&mut self, after: After, fx: &mut impl Effects) {
        match after {
            After::Run(wstat) => self.run_ended(wstat, fx),
            After::Finish(wstat) => self.finish_ended(wstat, fx),
        }
    }

    /// `./run` exited: `./finish` if there is one, else down.
    fn run_ended(&mut self, wstat: i32, fx: &mut impl Effects) {
        self.wstat = wstat;
        self.term_sent = false;
        self.ready = None;
        self.kill_at = None;
        self.runs.last = Some((wstat, fx.wall()));
        if self.who == Which::Log || !fx.has_finish() {
            return self.ended(fx);
        }
        let (code, sig) = finish_args(wstat);
        self.paused = false;
        match fx.spawn(self.who, Prog::Finish(code, sig)) {
            Some(pid) => {
                self.phase = Phase::Finish(pid);
                self.finish_kill_at = fx.policy(self.who).timeout_finish.map(|t| fx.now() + t);
                self.publish(fx);
            }
            None => self.ended(fx),
        }
    }

    /// `./finish` ended: exit code 125 (s6's meaning) keeps the service down until asked.
    fn finish_ended(&mut self, wstat: i32, fx: &mut impl Effects) {
        self.finish_kill_at = None;
        if crate::child::Status(wstat).exit_code() == Some(FINISH_HOLDS) && self.want == Want::Up {
            self.want = Want::Down;
            self.runs.failed = Some(Failed::Finish);
            fx.say("./finish exited 125: not restarting until told to (sv up, once or restart)");
        }
        self.ended(fx);
    }

    /// Run (and finish) are over: down, restarted now or after the throttle (or the backoff)
    /// if wanted up, unless the restart limit is reached.
    fn ended(&mut self, fx: &mut impl Effects) {
        self.term_sent = false;
        let now = fx.now();
        let lasted = self.started.map_or(Duration::MAX, |s| now.saturating_duration_since(s));
        let policy = fx.policy(self.who);
        let gave_up = self.want == Want::Up && !self.may_restart(now, &policy, fx);
        if gave_up {
            self.want = Want::Down;
        }
        // Given up, nothing is to start: no throttle either.
        let wait = if gave_up { None } else { self.wait_before_restart(lasted, &policy) };
        self.since = fx.wall();
        self.phase = match wait {
            Some(d) => Phase::Throttled(now + d),
            None => Phase::Down,
        };
        if self.want == Want::Up {
            self.runs.restarts = self.runs.restarts.saturating_add(1);
        }
        self.publish(fx);
        if wait.is_none() && self.want == Want::Up {
            self.start(fx);
        }
    }

    /// runit's second after a run that ended within a second, or under `restart-delay-max`
    /// 1 s, 2 s, 4 s, ... up to it (a run that lasted longer than it starts the series again).
    fn wait_before_restart(&mut self, lasted: Duration, policy: &Policy) -> Option<Duration> {
        let quick = lasted < THROTTLE;
        let Some(max) = policy.delay_max else {
            return quick.then_some(THROTTLE);
        };
        if lasted > max {
            self.backoff = THROTTLE;
        }
        if !quick {
            return None;
        }
        let wait = self.backoff.min(max.max(THROTTLE));
        self.backoff = (wait * 2).min(max.max(THROTTLE));
        Some(wait)
    }

    /// Counts an automatic restart against `restart-limit-count`; false (said once) when one
    /// more would pass it: the service is then marked failed.
    fn may_restart(&mut self, now: Instant, policy: &Policy, fx: &mut impl Effects) -> bool {
        let Some((count, window)) = policy.limit else { return true };
        while self.recent.front().is_some_and(|&t| now.saturating_duration_since(t) > window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= count as usize {
            self.runs.failed = Some(Failed::Limit);
            fx.say(&format!(
                "./run ended {} times within {} ms: not restarting until told to (sv up, once or restart)",
                self.recent.len() + 1,
                window.as_millis()
            ));
            self.recent.clear();
            return false;
        }
        self.recent.push_back(now);
        true
    }

    /// A run that declared readiness told a new state: ready (again, after reloading),
    /// reloading (only once ready) or stopping. A repeat changes nothing.
    fn notified(&mut self, state: readiness::State, fx: &mut impl Effects) {
        use readiness::State as R;
        let Some(r) = self.ready.as_mut() else { return };
        let takes = match state {
            R::Ready | R::Stopping => r.state != state,
            R::Reloading => r.state == R::Ready,
            R::Starting => false,
        };
        if takes {
            r.state = state;
            r.since = fx.wall();
            self.publish(fx);
        }
    }

    /// The run's STATUS= text, shown by sv (when it declared readiness).
    pub fn status_text(&mut self, text: &str, fx: &mut impl Effects) {
        let Some(r) = self.ready.as_mut() else { return };
        let text = readiness::one_line(text);
        if r.text != text {
            r.text = text;
            self.publish(fx);
        }
    }

    /// Records the current status.
    pub fn publish(&mut self, fx: &mut impl Effects) {
        let st = self.status();
        fx.publish(self.who, &st, self.ready.as_ref(), &self.runs);
    }
}

/// `./finish`'s exit code that keeps the service down (s6's).
pub const FINISH_HOLDS: i32 = 125;

/// How a running `./run` is told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `t`: TERM, as C runit.
    Term,
    /// `d`, `x`, `r`: the service's `down-signal` and `timeout-kill`.
    Policy,
}

/// `./finish`'s two arguments from run's wait status: the exit code (-1 when it did not exit
/// normally) and the low byte of the status (the signal number).
pub fn finish_args(wstat: i32) -> (i32, i32) {
    let code = crate::child::Status(wstat).exit_code().unwrap_or(-1);
    (code, wstat & 0xff)
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
