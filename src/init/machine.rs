//! The PID-1 loop: one phase at a time (a stage runs, a pause, stage 2 being stopped, the
//! end), driven by child exits, signals and deadlines from the platform's event wait. It sleeps
//! without a timeout whenever no deadline is pending, so an idle PID 1 never wakes up (all OSes).

use std::time::{Duration, Instant};

use crate::child::Pid;

use super::effects::{Effects, Native, Reaped};
use super::finale::{self, Finale};
use super::spawn::{self, Tty};
use super::stage::{self, Ended, Next, Stage};
use super::{files, say};
use crate::platform::{self, Event, How, Platform, ShutdownSignal, Signal};

/// C runit's pause before running a crashed stage 2 again, or retrying a failed fork.
const PAUSE: Duration = Duration::from_secs(5);
/// How long stage 2 may take to exit after TERM before it gets KILL (C: five one-second polls),
/// and after KILL before stage 3 starts anyway (C would wait forever).
const GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A stage script runs.
    Running { stage: Stage, pid: Pid },
    /// The stage starts at `until`: after stage 2 crashed (`restart`), or after a failed fork.
    Pause { stage: Stage, until: Instant, restart: bool },
    /// Stage 2 got TERM (then KILL) for a shutdown; stage 3 follows once it is gone.
    Stopping { pid: Pid, until: Instant, killed: bool },
    /// Stage 3 is over and what it left running got TERM: KILL and the halt follow once all
    /// of it is gone, or at `until`.
    Draining { until: Instant },
    /// Stage 3 is over; `halter` asks the kernel to halt, or the fork is retried at `retry`.
    Final { halter: Option<Pid>, retry: Option<Instant> },
}

pub(super) struct Init<E: Effects> {
    pub(super) fx: E,
    phase: Phase,
    /// /etc/runit/ctrlaltdel while it runs.
    cad: Option<Pid>,
    finale: Finale,
    /// A shutdown signal that came during stage 1: stage 2 is skipped.
    pending: Option<How>,
    /// Set when PID 1 should end (only in a container whose kernel refused to halt).
    end: Option<End>,
}

/// Why PID 1's run ended; on a machine it never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The signals could not be taken over: nothing was started.
    NoEventLoop,
    /// The container halted (its kernel refused the halt, which is how a container ends).
    Halted,
}

/// Runs the system; returns only in a container that cannot be halted by the kernel.
pub fn run() -> End {
    // Our own session, away from whatever started us (the kernel, runit-init, a test).
    let _ = nix::unistd::setsid();
    spawn::attach_stdio();
    let signals = signal_set();
    let Some(plat) = event_loop(&signals) else { return End::NoEventLoop };
    let fx = Native::new(plat, signals);
    // Ctrl-alt-del becomes SIGINT to us instead of an immediate reboot. A child PID namespace
    // answers EINVAL and a container without CAP_SYS_BOOT EPERM: there is no keyboard to route
    // there, so the answer is ignored, as C runit ignores it.
    let _ = platform::set_ctrl_alt_del(true);
    say::info(&["runit-rs ", env!("CARGO_PKG_VERSION"), ": booting."]);
    let mut init = Init::boot(fx);
    loop {
        let event = init.fx.wait(init.deadline());
        if let Some(end) = init.step(event) {
            say::info(&["exit."]);
            return end;
        }
    }
}

/// SIGCHLD to reap, SIGCONT and SIGINT as runit(8) says, and the OS's shutdown signals.
fn signal_set() -> Vec<Signal> {
    let mut set = vec![Signal::SIGCHLD, Signal::SIGCONT, Signal::SIGINT];
    for s in platform::shutdown_signals() {
        if !set.contains(&s.signal) {
            set.push(s.signal);
        }
    }
    set
}

/// Sets up the event wait, retrying on a shortage as C runit retries its self-pipe; gives up
/// only where the OS backend cannot do it at all.
fn event_loop(signals: &[Signal]) -> Option<platform::Native> {
    loop {
        match platform::Native::new(signals) {
            Ok(p) => return Some(p),
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                say::warn_err(&["unable to wait for events: "], &e);
                return None;
            }
            Err(e) => {
                say::warn_err(&["unable to set up the event wait, pausing: "], &e);
                nix::unistd::sleep(5);
            }
        }
    }
}

impl<E: Effects> Init<E> {
    /// Starts stage 1.
    pub(super) fn boot(fx: E) -> Init<E> {
        let mut init = Init {
            fx,
            phase: Phase::Final { halter: None, retry: None },
            cad: None,
            finale: Finale::ByFile,
            pending: None,
            end: None,
        };
        init.start(Stage::One);
        init
    }

    /// Handles one wakeup; Some when PID 1 is to end (only in a container whose kernel
    /// refused to halt).
    pub(super) fn step(&mut self, event: std::io::Result<Event>) -> Option<End> {
        // Reap first, on every wakeup: SIGCHLDs coalesce, and a stage that ended decides what a
        // signal arriving with its exit means.
        let childless = self.reap();
        // Every process is a descendant of PID 1: without children, nothing is left.
        if childless && matches!(self.phase, Phase::Draining { .. }) {
            self.halt();
        }
        match event {
            Ok(Event::Signal(sig)) => self.on_signal(sig),
            Ok(Event::Timeout) => self.on_deadline(),
            Ok(Event::Readable(_) | Event::Gone(_) | Event::DirChanged(_)) => {}
            Err(e) => {
                // Not expected from a working kernel; pause rather than spin, as C does.
                self.fx.warn(&["unable to wait for events, pausing: "], Some(&e));
                self.fx.pause();
            }
        }
        self.end
    }

    fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Pause { until, .. }
            | Phase::Stopping { until, .. }
            | Phase::Draining { until } => Some(until),
            Phase::Final { retry, .. } => retry,
            Phase::Running { .. } => None,
        }
    }

    /// Collects every child that ended: stages, ctrl-alt-del, the halter and orphans alike.
    /// Returns true when no child at all is left.
    fn reap(&mut self) -> bool {
        loop {
            match self.fx.reap() {
                Reaped::Child(pid, ended) => self.on_exit(pid, ended),
                Reaped::NoneNow => return false,
                Reaped::Childless => return true,
            }
        }
    }

    fn on_exit(&mut self, pid: Pid, ended: Ended) {
        if self.cad == Some(pid) {
            self.cad = None;
            if let Ended::Crash(_) = ended {
                self.fx.warn(&["child crashed: ", files::CTRLALTDEL], None);
            }
            self.fx.info(&["leave stage: ", files::CTRLALTDEL]);
            if self.in_stage_two() {
                self.on_cont();
            }
            return;
        }
        match self.phase {
            Phase::Running { stage, pid: p } if p == pid => {
                self.stage_ended(stage, Some(pid), ended)
            }
            Phase::Stopping { pid: p, .. } if p == pid => {
                self.leave(Stage::Two);
                self.start(Stage::Three);
            }
            Phase::Final { halter: Some(p), .. } if p == pid => self.halter_ended(),
            // An orphan (or a stage 2 given up on): reaping it was all there was to do.
            Phase::Running { .. } | Phase::Stopping { .. } | Phase::Final { .. } => {}
            Phase::Draining { .. } => {}
            Phase::Pause { .. } => {}
        }
    }

    fn stage_ended(&mut self, stage: Stage, pid: Option<Pid>, ended: Ended) {
        if let Some(text) = stage::complaint(ended) {
            self.fx.warn(&[text, stage.path()], None);
        }
        match (stage::next(stage, ended), stage) {
            (Next::SkipStage2, _) => {
                self.leave(stage);
                self.take_pending();
                self.fx.warn(&["skipping stage 2..."], None);
                self.start(Stage::Three);
            }
            (Next::RestartStage2, _) => {
                self.fx.warn(&["killing all processes in stage 2..."], None);
                if let Some(pid) = pid {
                    // Stage 2 leads its own session and process group.
                    self.fx.kill(Pid::from_raw(-pid.as_raw()), Signal::SIGKILL);
                }
                let until = self.fx.now() + PAUSE;
                self.phase = Phase::Pause { stage: Stage::Two, until, restart: true };
            }
            (Next::Following, Stage::One) => {
                self.leave(stage);
                if self.take_pending() {
                    self.fx.warn(&["skipping stage 2..."], None);
                    self.start(Stage::Three);
                } else {
                    self.start(Stage::Two);
                }
            }
            (Next::Following, Stage::Two) => {
                self.leave(stage);
                self.start(Stage::Three);
            }
            (Next::Following, Stage::Three) => {
                self.leave(stage);
                self.drain();
            }
        }
    }

    /// Turns a shutdown signal received during stage 1 into the finale; true if there was one.
    fn take_pending(&mut self) -> bool {
        match self.pending.take() {
            Some(how) => {
                self.finale = Finale::Exactly(how);
                true
            }
            None => false,
        }
    }

    fn leave(&mut self, stage: Stage) {
        self.fx.info(&["leave stage: ", stage.path()]);
    }

    fn start(&mut self, stage: Stage) {
        let path = stage.path();
        self.fx.info(&["enter stage: ", path]);
        let tty = if stage == Stage::One { Tty::Console } else { Tty::Detached };
        match self.fx.spawn(path, tty) {
            Ok(pid) => self.phase = Phase::Running { stage, pid },
            Err(e) if crate::child::transient(&e) => {
                self.fx.warn(&["unable to fork for \"", path, "\" pausing: "], Some(&e));
                let until = self.fx.now() + PAUSE;
                self.phase = Phase::Pause { stage, until, restart: false };
            }
            Err(e) => {
                // C runit's child reports the failed exec and exits 0: the stage counts as
                // done and the next one follows.
                self.fx.warn(&["unable to start child: ", path, ": "], Some(&e));
                self.stage_ended(stage, None, Ended::Exit(0));
            }
        }
    }

    fn on_deadline(&mut self) {
        let now = self.fx.now();
        match self.phase {
            Phase::Pause { stage, until, restart } if now >= until => {
                if restart {
                    self.fx.warn(&["restarting."], None);
                }
                self.start(stage);
            }
            Phase::Stopping { pid, until, killed: false } if now >= until => {
                self.fx.warn(&["stage 2 not terminated, sending sigkill..."], None);
                self.fx.kill(pid, Signal::SIGKILL);
                let until = now + GRACE;
                self.phase = Phase::Stopping { pid, until, killed: true };
            }
            Phase::Stopping { until, killed: true, .. } if now >= until => {
                self.fx.warn(&["stage 2 still there after sigkill, going on."], None);
                self.leave(Stage::Two);
                self.start(Stage::Three);
            }
            Phase::Final { halter: None, retry: Some(at) } if now >= at => self.halt(),
            Phase::Draining { until } if now >= until => self.halt(),
            // Woken early (the deadline moved): nothing is due.
            Phase::Pause { .. } | Phase::Stopping { .. } | Phase::Final { .. } => {}
            Phase::Draining { .. } => {}
            Phase::Running { .. } => {}
        }
    }

    fn on_signal(&mut self, sig: Signal) {
        match sig {
            Signal::SIGCHLD => {}
            Signal::SIGCONT => self.on_cont(),
            Signal::SIGINT => self.on_ctrl_alt_del(),
            other => {
                let found = self.fx.shutdown_signals().iter().find(|s| s.signal == other);
                if let Some(s) = found {
                    self.on_shutdown(*s);
                }
            }
        }
    }

    fn in_stage_two(&self) -> bool {
        matches!(
            self.phase,
            Phase::Running { stage: Stage::Two, .. } | Phase::Pause { stage: Stage::Two, .. }
        )
    }

    /// runit(8): signals only work in stage 2. After the end there is nobody to tell.
    fn not_now(&mut self) {
        if !matches!(self.phase, Phase::Final { .. }) {
            self.fx.warn(&["signals only work in stage 2."], None);
        }
    }

    /// SIGCONT: shut down if /etc/runit/stopit is owner-executable.
    fn on_cont(&mut self) {
        if !self.in_stage_two() {
            return self.not_now();
        }
        if !self.fx.owner_exec(files::STOPIT) {
            return;
        }
        self.fx.disarm_stopit();
        self.stop_stage_two(Finale::ByFile);
    }

    /// SIGINT: run /etc/runit/ctrlaltdel (without waiting for it here), then act as on SIGCONT.
    fn on_ctrl_alt_del(&mut self) {
        if !self.in_stage_two() {
            return self.not_now();
        }
        if self.cad.is_some() || !self.fx.owner_exec(files::CTRLALTDEL) {
            return;
        }
        self.fx.info(&["ctrl-alt-del request..."]);
        self.fx.info(&["enter stage: ", files::CTRLALTDEL]);
        match self.fx.spawn(files::CTRLALTDEL, Tty::Detached) {
            Ok(pid) => self.cad = Some(pid),
            Err(e) => {
                self.fx.warn(&["unable to start child: ", files::CTRLALTDEL, ": "], Some(&e));
                self.fx.info(&["leave stage: ", files::CTRLALTDEL]);
                self.on_cont();
            }
        }
    }

    /// SIGPWR, SIGTERM in a container, the BSDs' SIGUSR1/2: an orderly shutdown, no stopit
    /// needed; during stage 1 it is kept for when stage 1 is over.
    fn on_shutdown(&mut self, s: ShutdownSignal) {
        if s.container_only && !self.fx.in_container() {
            return;
        }
        match self.phase {
            Phase::Running { stage: Stage::One, .. } | Phase::Pause { stage: Stage::One, .. } => {
                self.fx.info(&["shutdown request (", s.signal.as_str(), ") after stage 1..."]);
                self.pending = Some(s.how);
            }
            Phase::Running { stage: Stage::Two, .. } | Phase::Pause { stage: Stage::Two, .. } => {
                self.fx.info(&["shutdown request (", s.signal.as_str(), ")..."]);
                self.stop_stage_two(Finale::Exactly(s.how));
            }
            Phase::Running { stage: Stage::Three, .. }
            | Phase::Pause { stage: Stage::Three, .. } => self.not_now(),
            Phase::Stopping { .. } | Phase::Draining { .. } | Phase::Final { .. } => self.not_now(),
        }
    }

    /// Leaves stage 2 for stage 3: TERM to stage 2 (only its leader, as C runit: runsvdir then
    /// exits and leaves the services to stage 3), KILL after the grace time.
    fn stop_stage_two(&mut self, finale: Finale) {
        self.finale = finale;
        match self.phase {
            Phase::Running { stage: Stage::Two, pid } => {
                self.fx.kill(pid, Signal::SIGTERM);
                let until = self.fx.now() + GRACE;
                self.phase = Phase::Stopping { pid, until, killed: false };
            }
            Phase::Pause { stage: Stage::Two, .. } => {
                self.leave(Stage::Two);
                self.start(Stage::Three);
            }
            Phase::Running { .. } | Phase::Pause { .. } | Phase::Stopping { .. } => {}
            Phase::Draining { .. } | Phase::Final { .. } => {}
        }
    }

    /// After stage 3: TERM to whatever is left (stage 3 should have stopped everything; what
    /// it missed gets the chance to save its data), then KILL and the halt once it is all gone
    /// or the grace time is over. Nothing left: straight on, as C runit.
    fn drain(&mut self) {
        if self.fx.term_all() {
            self.phase = Phase::Draining { until: self.fx.now() + GRACE };
        } else {
            self.halt();
        }
    }

    /// KILL to all, then a child halts or reboots.
    fn halt(&mut self) {
        self.fx.kill_all();
        let how = finale::choose(self.finale, self.fx.owner_exec(files::REBOOT));
        match self.fx.start_halter(how) {
            Ok(pid) => self.phase = Phase::Final { halter: Some(pid), retry: None },
            Err(e) => {
                self.fx.warn(&["unable to fork for halting, pausing: "], Some(&e));
                let retry = Some(self.fx.now() + PAUSE);
                self.phase = Phase::Final { halter: None, retry };
            }
        }
    }

    /// The kernel refused to halt (it returned to the child). On a machine PID 1 must not
    /// exit, so it stays, reaping; in a container (no CAP_SYS_BOOT, e.g. Docker) ending PID 1
    /// is how the container halts.
    fn halter_ended(&mut self) {
        self.phase = Phase::Final { halter: None, retry: None };
        if self.fx.in_container() {
            self.end = Some(End::Halted);
        }
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
