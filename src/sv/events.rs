//! What wakes sv up while it waits (all OSes, through the platform layer): a change in a
//! service's `supervise/` directory (runsv replaces `status` by rename, so every state change is
//! a directory event), runsv going away (sv holds `supervise/ok` open for writing; the backend
//! reports when the last reader closed it), a `./check` child exiting (SIGCHLD), or a deadline.
//!
//! Where the backend cannot watch something it answers `Unsupported`; the service is then
//! marked unwatched and the caller re-checks it on a short deadline instead. When the event
//! loop cannot be set up at all (no fd left for it, or it broke down) waiting degrades to
//! sleeping until the next deadline, the only place sv sleeps.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::child::{self, Pid};
use crate::platform::{Event, Interest, Native, Platform, Signal};

use crate::supervise::protocol::{self, open_fifo_write};

/// The signals sv takes over while waiting; check children get them back at default.
pub const SIGNALS: [Signal; 1] = [Signal::SIGCHLD];

/// How often a service is re-read when nothing can wake sv up for it.
pub const POLL: Duration = Duration::from_millis(100);

pub struct Events {
    /// Created on first use; None once it failed or broke down.
    native: Option<Native>,
    tried: bool,
    /// `supervise/ok` of each watched service, held open for writing.
    held: Vec<OwnedFd>,
    /// Events were consumed while a check child ran: re-evaluate before sleeping again.
    dirty: bool,
}

impl Events {
    /// An event loop set up on first use: sv only needs one when it has to wait.
    pub fn new() -> Events {
        Events { native: None, tried: false, held: Vec::new(), dirty: false }
    }

    /// The event loop, if the platform has one; without it everything is re-checked on
    /// deadlines.
    fn native(&mut self) -> Option<&mut Native> {
        if !self.tried {
            self.tried = true;
            self.native = Native::new(&SIGNALS).ok();
        }
        self.native.as_mut()
    }

    /// Gives the event loop up as sv ends (see [`Platform::release`]); the held `ok` FIFOs
    /// are closed.
    pub fn finish(mut self) {
        if let Some(n) = self.native.take() {
            n.release();
        }
    }

    /// Sets the event loop up now (before starting a child whose exit is to be waited for).
    pub fn prepare(&mut self) {
        let _ = self.native();
    }

    /// Arranges to be woken up when the service in `dir` changes state or its runsv exits.
    /// False when that cannot be watched and the caller must re-check on a deadline.
    pub fn watch_service(&mut self, dir: &Path) -> bool {
        let Some(n) = self.native() else { return false };
        if n.watch_dir(&dir.join("supervise")).is_err() {
            return false;
        }
        let f = match open_fifo_write(&dir.join(protocol::MAIN.ok)) {
            Ok(f) => OwnedFd::from(f),
            // No runsv: the check that follows reports it; nothing to wait for.
            Err(_) => return true,
        };
        if n.add_fd(f.as_raw_fd(), Interest::Gone).is_err() {
            return false;
        }
        self.held.push(f);
        true
    }

    /// Sleeps until something may have changed, or `until`.
    pub fn wait(&mut self, until: Option<Instant>) {
        if std::mem::take(&mut self.dirty) {
            return;
        }
        let Some(n) = self.native() else {
            sleep_until(until);
            return;
        };
        match n.wait(until) {
            Ok(ev) => self.handle(ev),
            // The loop broke down: fall back to deadlines rather than fail the command.
            Err(_) => self.native = None,
        }
    }

    fn handle(&mut self, ev: Event) {
        if let Event::Gone(fd) = ev {
            self.release(fd);
        }
    }

    /// Stops watching a `supervise/ok` whose reader went away (the event is level-triggered).
    fn release(&mut self, fd: RawFd) {
        if let Some(n) = self.native.as_mut() {
            let _ = n.remove_fd(fd);
        }
        self.held.retain(|f| f.as_raw_fd() != fd);
    }

    /// Waits for child `pid` to exit, until `until`; None on timeout. Other events seen meanwhile
    /// are remembered so the next `wait` does not sleep through them.
    pub fn wait_child(&mut self, pid: Pid, until: Option<Instant>) -> Option<child::Status> {
        loop {
            if let Ok(Some(st)) = child::try_wait(pid) {
                return Some(st);
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return None;
            }
            match self.native() {
                Some(n) => match n.wait(until) {
                    Ok(Event::Signal(_)) | Ok(Event::Timeout) => {}
                    Ok(ev) => {
                        self.dirty = true;
                        self.handle(ev);
                    }
                    Err(_) => self.native = None,
                },
                // No SIGCHLD to wait on: look again shortly.
                None => sleep_until(Some(soonest(until, Instant::now() + CHILD_POLL))),
            }
        }
    }
}

impl Default for Events {
    fn default() -> Self {
        Events::new()
    }
}

const CHILD_POLL: Duration = Duration::from_millis(10);

/// The earlier of an optional deadline and a definite one.
pub fn soonest(a: Option<Instant>, b: Instant) -> Instant {
    a.map_or(b, |a| a.min(b))
}

/// The fallback wait without an event loop: a deadline, at most `POLL` away.
fn sleep_until(until: Option<Instant>) {
    let now = Instant::now();
    let end = soonest(until, now + POLL);
    std::thread::sleep(end.saturating_duration_since(now));
}
