//! The lifecycle of one supervised service (the service or its log), as one exhaustive match
//! over (phase, input). Everything it does to the world goes through [`Effects`], so tests drive
//! it with a fake (all OSes).
//!
//! It follows runit's runsv: commands act on a running `./run` only (never on `./finish`), custom
//! `control/<c>` scripts are asked first, `d`/`x`/`t` stop through `control/t`, TERM and CONT, and
//! a run that ended within a second of its start is restarted no sooner than a second later. That
//! second is a deadline here, not runit's blocking sleep, so commands keep working meanwhile.

use std::time::{Duration, Instant};

use crate::child::Pid;
use crate::fail::exit;
use crate::platform::Signal;
use crate::supervise::protocol::Letter;
use crate::supervise::readiness::{self, Readiness};
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
}

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
    /// Whether the run of `who` just spawned declared readiness (a notification channel is
    /// open to it).
    fn declares_readiness(&mut self, who: Which) -> bool;
    /// Records the status of `who` (supervise/status, stat, pid), and its readiness
    /// (supervise/readiness; None removes it) before it.
    fn publish(&mut self, who: Which, status: &Status, ready: Option<&Readiness>);
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
        }
    }

    /// The pid of the running run or finish.
    pub fn pid(&self) -> Option<Pid> {
        match self.phase {
            Phase::Run(p) | Phase::Finish(p) => Some(p),
            Phase::Down | Phase::Throttled(_) => None,
        }
    }

    /// The pid of the running `./run` (not of `./finish`).
    pub fn running(&self) -> Option<Pid> {
        match self.phase {
            Phase::Run(p) => Some(p),
            Phase::Down | Phase::Throttled(_) | Phase::Finish(_) => None,
        }
    }

    /// Whether no process runs.
    pub fn is_down(&self) -> bool {
        self.pid().is_none()
    }

    /// When a throttle ends, if one is in force.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Throttled(t) => Some(t),
            Phase::Down | Phase::Run(_) | Phase::Finish(_) => None,
        }
    }

    /// The readiness of the current run, if it declared readiness.
    pub fn readiness(&self) -> Option<&Readiness> {
        self.ready.as_ref()
    }

    /// The status record as published.
    pub fn status(&self) -> Status {
        Status {
            since: self.since,
            // The record's 0 is "no process"; a pid is always positive.
            pid: self.pid().map_or(0, |p| p.as_raw().unsigned_abs()),
            paused: self.paused,
            want: self.want,
            term_sent: self.term_sent,
            state: match self.phase {
                Phase::Down | Phase::Throttled(_) => State::Down,
                Phase::Run(_) => State::Run,
                Phase::Finish(_) => State::Finish,
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
                Phase::Down | Phase::Throttled(_) | Phase::Run(_) | Phase::Finish(_),
                Input::Start,
            ) => {}
            (Phase::Run(_), Input::Exited(wstat)) => self.run_ended(wstat, fx),
            (Phase::Finish(_), Input::Exited(_)) => self.ended(fx),
            // Nothing runs, so nothing of ours can have exited.
            (Phase::Down | Phase::Throttled(_), Input::Exited(_)) => {}
            (Phase::Throttled(t), Input::Tick) if fx.now() >= t => {
                self.phase = Phase::Down;
                if self.want == Want::Up || self.once_pending {
                    self.start(fx);
                }
            }
            (Phase::Down | Phase::Throttled(_) | Phase::Run(_) | Phase::Finish(_), Input::Tick) => {
            }
            (Phase::Run(_), Input::Notified(state)) => self.notified(state, fx),
            // A notification from a run that is over, or from finish: nobody's readiness.
            (Phase::Down | Phase::Throttled(_) | Phase::Finish(_), Input::Notified(_)) => {}
        }
    }

    /// A control command, as runsv(8) describes it.
    fn command(&mut self, cmd: Cmd, fx: &mut impl Effects) {
        let running = match self.phase {
            Phase::Run(pid) => Some(pid),
            Phase::Down | Phase::Throttled(_) | Phase::Finish(_) => None,
        };
        match cmd {
            Cmd::Up => self.set_want(Want::Up, false, fx),
            Cmd::Once => self.set_want(Want::Down, true, fx),
            Cmd::Down => self.set_want(Want::Down, false, fx),
            // The log service keeps running until runsv closes its pipe.
            Cmd::Exit if self.who == Which::Log => {}
            Cmd::Exit => self.set_want(Want::Exit, false, fx),
            Cmd::Term => {
                if let Some(pid) = running {
                    self.stop(pid, fx);
                }
            }
            Cmd::Kill => {
                if let Some(pid) = running {
                    self.send(pid, b'k', Signal::SIGKILL, fx);
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
        self.publish(fx);
        let start = want == Want::Up || once;
        match self.phase {
            Phase::Down if start => self.start(fx),
            Phase::Down => {}
            // The start waits for the end of the throttle.
            Phase::Throttled(_) => self.once_pending = once,
            Phase::Run(pid) if !start => self.stop(pid, fx),
            Phase::Run(_) | Phase::Finish(_) => {}
        }
    }

    /// Sends `sig` unless `control/<letter>` exists and exits 0.
    fn send(&mut self, pid: Pid, letter: u8, sig: Signal, fx: &mut impl Effects) {
        if !self.custom(letter, fx) {
            fx.signal(pid, sig);
        }
    }

    /// runit's stopservice: TERM (unless `control/t` says no), then for `d`/`x` CONT and
    /// `control/d` or `control/x`, whose exit status does not matter.
    fn stop(&mut self, pid: Pid, fx: &mut impl Effects) {
        if !self.custom(b't', fx) {
            fx.signal(pid, Signal::SIGTERM);
            self.term_sent = true;
            self.publish(fx);
        }
        let letter = match self.want {
            Want::Up => return,
            Want::Down => b'd',
            Want::Exit => b'x',
        };
        fx.signal(pid, Signal::SIGCONT);
        self.custom(letter, fx);
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

    /// `./run` exited: `./finish` if there is one, else down.
    fn run_ended(&mut self, wstat: i32, fx: &mut impl Effects) {
        self.wstat = wstat;
        self.term_sent = false;
        self.ready = None;
        if self.who == Which::Log || !fx.has_finish() {
            return self.ended(fx);
        }
        let (code, sig) = finish_args(wstat);
        self.paused = false;
        match fx.spawn(self.who, Prog::Finish(code, sig)) {
            Some(pid) => {
                self.phase = Phase::Finish(pid);
                self.publish(fx);
            }
            None => self.ended(fx),
        }
    }

    /// Run (and finish) are over: down, restarted now or after the throttle if wanted up.
    fn ended(&mut self, fx: &mut impl Effects) {
        self.term_sent = false;
        let now = fx.now();
        let quick = self.started.is_some_and(|s| now < s + THROTTLE);
        self.since = fx.wall();
        self.phase = if quick { Phase::Throttled(now + THROTTLE) } else { Phase::Down };
        self.publish(fx);
        if !quick && self.want == Want::Up {
            self.start(fx);
        }
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
        fx.publish(self.who, &st, self.ready.as_ref());
    }
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
