//! What an earlier runsv of the same service left running (all Unix; the OS-specific parts are
//! `platform::process_ident` and `platform::exit_fd`).
//!
//! A runsv killed with SIGKILL (or by the OOM killer) leaves its `./run` and its log service
//! running, orphaned. C runsv, started again by runsvdir, starts a second copy beside them. We
//! stop them first, so that exactly one instance runs:
//!
//! - runsv records `<pid> <token>` in `supervise/ident` whenever its process changes. The token
//!   is the OS's account of when that process started (see `platform::process_ident`), so a
//!   recorded pid that was reused by another process, or that comes from before a reboot, never
//!   matches: an unrelated process is never signalled. `status` and `pid` stay as C writes them.
//! - A new runsv that finds the recorded process still alive sends it TERM and CONT (as `sv
//!   down` would), and KILL after [`GRACE`]. The log service's leftover is left alone meanwhile:
//!   it reads the old pipe, which nobody else holds, so it sees end-of-file once the service's
//!   leftover is gone, writes out everything it read and exits: no line is lost. Only if it is
//!   still there [`GRACE`] later (a grandchild of the old service still holds the pipe) it gets
//!   TERM, then KILL.
//! - The exit of a process that is not our child is learnt from `platform::exit_fd` (pidfd,
//!   kqueue NOTE_EXIT) in the event wait; where there is none, by re-checking every
//!   [`RECHECK`]. Only then are the log service and the service started again, on a new pipe.
//!
//! Why stop instead of adopting the running process: runsv could watch an orphan's exit through
//! the same fd, but it could never learn its exit status (it is not our child; the status goes
//! to whoever reaps it), so `./finish` would get made-up arguments; and the orphan writes into
//! the old log pipe, which cannot be taken over portably (only Linux can reopen another
//! process's pipe through /proc), so the first restart would split the service and its log
//! across two pipes. A runsv dying is rare; one clean restart of its service is the honest cost.
//! Why a start-time token rather than a locked fd inherited by the service: the fd would show up
//! in every service and its children, is closed by daemons that close all fds (silently
//! bringing back the duplicate), and would be held on by any grandchild.

use std::fs;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use crate::child::Pid;
use crate::platform;
use crate::supervise::status::{State, Status, Want};
use crate::tai::Tai64n;

use crate::supervise::protocol::Names;

/// How long a leftover gets for each step (TERM, then KILL), as `sv`'s default wait.
pub const GRACE: Duration = Duration::from_secs(7);
/// How often the exit of a leftover is re-checked where the OS cannot report it.
pub const RECHECK: Duration = Duration::from_millis(250);

/// The next step for a leftover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Left alone until the instant (None: until the service's own leftover is gone).
    Drain(Option<Instant>),
    /// TERM was sent; KILL follows at the instant.
    Term(Instant),
    /// KILL was sent; it is given up on at the instant (a process stuck in the kernel).
    Killed(Instant),
}

/// What runsv must do to a leftover now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Nothing,
    Term,
    Kill,
    GiveUp,
}

/// One process left by an earlier runsv.
#[derive(Debug)]
pub struct Leftover {
    pub pid: Pid,
    token: String,
    /// The state it was recorded in (run or finish) and since when.
    pub state: State,
    pub since: Tai64n,
    /// Readable once it exited, where the OS can tell.
    pub exit: Option<OwnedFd>,
    pub step: Step,
}

impl Leftover {
    /// The process recorded in `n.ident`, if it still runs and is still the same process.
    pub fn find(n: &Names) -> Option<Leftover> {
        let text = fs::read_to_string(n.ident).ok()?;
        let (pid, token) = text.trim_end().split_once(' ')?;
        let pid = Pid::from_raw(pid.parse().ok().filter(|&p: &i32| p > 1)?);
        if platform::process_ident(pid).ok()?.as_deref() != Some(token) {
            return None;
        }
        let old = fs::read(n.status).ok().and_then(|b| Status::decode(&b).ok());
        let (state, since) = match old {
            Some(s) if s.pid == pid.as_raw().unsigned_abs() && s.state != State::Down => {
                (s.state, s.since)
            }
            _ => (State::Run, Tai64n::now()),
        };
        let exit = platform::exit_fd(pid).ok();
        let step = Step::Drain(None);
        Some(Leftover { pid, token: token.to_string(), state, since, exit, step })
    }

    /// Whether it still runs (a zombie does not).
    pub fn alive(&self) -> bool {
        match platform::process_ident(self.pid) {
            Ok(Some(t)) => t == self.token,
            // Unknowable now: assume it lives; the deadlines still move things on.
            Err(_) => true,
            Ok(None) => false,
        }
    }

    /// The status shown while it is being stopped.
    pub fn status(&self, want: Want) -> Status {
        Status {
            since: self.since,
            pid: self.pid.as_raw().unsigned_abs(),
            paused: false,
            want,
            term_sent: matches!(self.step, Step::Term(_) | Step::Killed(_)),
            state: self.state,
        }
    }

    /// When something is due, if anything is.
    pub fn deadline(&self) -> Option<Instant> {
        let due = match self.step {
            Step::Drain(t) => t,
            Step::Term(t) | Step::Killed(t) => Some(t),
        };
        if self.exit.is_some() {
            return due;
        }
        let recheck = Instant::now() + RECHECK;
        Some(due.map_or(recheck, |d| d.min(recheck)))
    }

    /// Moves on to the next step if its time has come; says what to do.
    pub fn advance(&mut self, now: Instant) -> Act {
        match self.step {
            Step::Drain(Some(t)) | Step::Term(t) | Step::Killed(t) if now < t => Act::Nothing,
            Step::Drain(None) => Act::Nothing,
            Step::Drain(Some(_)) => self.term(now),
            Step::Term(_) => {
                self.step = Step::Killed(now + GRACE);
                Act::Kill
            }
            Step::Killed(_) => Act::GiveUp,
        }
    }

    /// TERM now, KILL after the grace time.
    pub fn term(&mut self, now: Instant) -> Act {
        self.step = Step::Term(now + GRACE);
        Act::Term
    }

    /// The service's leftover is gone: a log leftover has the grace time to drain and exit.
    pub fn drain_from(&mut self, now: Instant) {
        if self.step == Step::Drain(None) {
            self.step = Step::Drain(Some(now + GRACE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left(step: Step) -> Leftover {
        Leftover {
            pid: Pid::from_raw(5),
            token: String::new(),
            state: State::Run,
            since: Tai64n::now(),
            exit: None,
            step,
        }
    }

    #[test]
    fn term_then_kill_then_give_up() {
        let t0 = Instant::now();
        let mut l = left(Step::Drain(None));
        assert_eq!(l.advance(t0 + GRACE * 10), Act::Nothing, "a log waits for its service");
        assert_eq!(l.term(t0), Act::Term);
        assert!(l.status(Want::Up).term_sent);
        assert_eq!(l.advance(t0 + GRACE / 2), Act::Nothing);
        assert_eq!(l.advance(t0 + GRACE), Act::Kill);
        assert_eq!(l.advance(t0 + GRACE + GRACE / 2), Act::Nothing);
        assert_eq!(l.advance(t0 + GRACE * 2), Act::GiveUp);
    }

    #[test]
    fn a_log_leftover_drains_before_term() {
        let t0 = Instant::now();
        let mut l = left(Step::Drain(None));
        l.drain_from(t0);
        assert!(!l.status(Want::Up).term_sent);
        assert_eq!(l.advance(t0 + GRACE / 2), Act::Nothing);
        assert_eq!(l.advance(t0 + GRACE), Act::Term);
        assert_eq!(l.advance(t0 + GRACE * 2), Act::Kill);
    }

    #[test]
    fn without_an_exit_fd_it_is_rechecked() {
        let l = left(Step::Drain(None));
        assert!(l.deadline().is_some_and(|d| d <= Instant::now() + RECHECK));
    }
}
