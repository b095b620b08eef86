//! Waiting for commands to take effect (all OSes): the checks of runit's sv.c, evaluated
//! whenever something may have changed instead of every 420 ms.
//!
//! A service is re-read when its `supervise/` directory changes, when its runsv goes away, or
//! on a deadline: the overall timeout, a `./check` script's retry (it says "not yet" without an
//! event to announce "now": retried after 25 ms, doubling up to 250 ms), or a short poll where
//! the platform cannot watch.
//!
//! A crash loop. C's sv looks every 420 ms, so a `./run` that dies at once is never seen
//! running and C's `start`, `restart` and `-w up` end in `timeout:` and exit 1; tools that
//! drive sv (vsv, the configuration-management modules) report the failure from that. Events
//! would catch every brief run, so without a `./check` a new run counts as up only once it has
//! lasted [`STAYS_UP`]: a run that dies sooner is never reported up, however often it is
//! restarted. Measured against C (runs that die after d ms, `sv -w 3 start`): C answers
//! `timeout:` for d = 0, either verdict by the phase of its polls for d = 100-300, and `ok:` from
//! d = 500; this rule answers `timeout:` below 250 and `ok:` above, every time.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use super::events::{self, Events};
use super::out::{self, KILL, OK, TIMEOUT};
use super::svc::{self, Ctx, Got, Service};
use crate::child::{self, Dir, Spec};
use crate::platform::Signal;
use crate::supervise::protocol::{Goal, Letter, Plan};
use crate::supervise::readiness;
use crate::supervise::status::{State, Status, Want};
use crate::tai::Tai64n;

const FIRST_RETRY: Duration = Duration::from_millis(25);
const MAX_RETRY: Duration = Duration::from_millis(250);
/// The shortest wait: C looks once more 420 ms after its first look before it gives up, even
/// with `-w 0`; that keeps meaning what it meant.
const MIN_WAIT: Duration = Duration::from_millis(420);
/// How long past a service's `timeout-kill` a `force-` command waits for runsv's KILL to
/// take effect before sending its own.
const KILL_GRACE: Duration = Duration::from_secs(1);
/// A `./check` started at or after the deadline still gets this long to answer.
const CHECK_GRACE: Duration = Duration::from_secs(1);
/// How long a new run must have lasted to count as up when there is no `./check` (see the
/// module's header): below C's first look at 420 ms, so that a service that stays up is still
/// reported sooner than C reports it, with room for a busy machine; above the start-up time
/// of what typically crash-loops (a missing binary, a bad config, an interpreter failing at
/// import).
pub const STAYS_UP: Duration = Duration::from_millis(250);

/// A service still being waited for.
struct Pending {
    svc: Service,
    /// When sv gives up on it.
    deadline: Option<Instant>,
    /// Watching it was attempted.
    armed: bool,
    /// Events wake sv up for it; otherwise it is polled.
    watched: bool,
    /// When to evaluate it again without an event.
    next: Option<Instant>,
    retry: Duration,
    /// The record last seen: a `./check` is re-run at once when it changes.
    last: Option<Status>,
}

enum Verdict {
    Done,
    Failed,
    NotYet,
}

/// Waits until every service reached what `plan` asked for, reporting each as it does, or
/// until `limit` passed (then `timeout:`/`kill:`).
pub fn wait_all(ctx: &mut Ctx, plan: &Plan, services: Vec<Service>, limit: Duration) {
    let mut ev = Events::new();
    let start = Instant::now();
    let mut live: Vec<Pending> = services
        .into_iter()
        .map(|svc| Pending {
            deadline: start.checked_add(own_limit(plan, &svc, limit).max(MIN_WAIT)),
            svc,
            armed: false,
            watched: false,
            next: None,
            retry: FIRST_RETRY,
            last: None,
        })
        .collect();
    while !live.is_empty() {
        // As in C, a round that starts after the deadline checks once more, then gives up.
        let now = Instant::now();
        live.retain_mut(|p| {
            let expired = p.deadline.is_some_and(|d| now >= d);
            let deadline = p.deadline;
            !settle(ctx, plan, p, &mut ev, expired, deadline)
        });
        if live.is_empty() {
            break;
        }
        // Watches are only set up for what still has to be waited for (tearing an inotify
        // instance down costs the kernel a grace period, ~10 ms, that sv would make its caller
        // wait for). What changed between the reading and the watch is caught by reading again
        // before sleeping.
        if arm(&mut ev, &mut live) {
            continue;
        }
        let until = live.iter().flat_map(|p| [p.next, p.deadline]).flatten().min();
        ev.wait(until);
    }
    ev.finish();
}

/// How long sv waits for `svc`: `limit`, except that a `force-` command does not kill a
/// service before its own `timeout-kill` has passed and [`KILL_GRACE`] more: runsv's KILL
/// comes first then, and sv's only if that did not help.
fn own_limit(plan: &Plan, svc: &Service, limit: Duration) -> Duration {
    if !plan.kill {
        return limit;
    }
    let prefix = format!("{}/", svc.dir.display());
    let policy = crate::supervise::runsv::policy::read(&prefix, &mut |_| {});
    policy.timeout_kill.map_or(limit, |t| limit.max(t + KILL_GRACE))
}

/// Watches the services not watched yet; true if there were any.
fn arm(ev: &mut Events, live: &mut [Pending]) -> bool {
    let mut any = false;
    for p in live.iter_mut().filter(|p| !p.armed) {
        p.armed = true;
        p.watched = ev.watch_service(&p.svc.dir);
        if !p.watched {
            p.next = Some(events::soonest(p.next, Instant::now() + events::POLL));
        }
        any = true;
    }
    any
}

/// Evaluates one service; true when it is finished with (reported either way).
fn settle(
    ctx: &mut Ctx,
    plan: &Plan,
    p: &mut Pending,
    ev: &mut Events,
    expired: bool,
    deadline: Option<Instant>,
) -> bool {
    let mut script = Script {
        ev,
        deadline,
        may_run: expired,
        wanted: false,
        ran: false,
        result: None,
        old_enough_at: None,
    };
    match check(ctx, plan, p, &mut script) {
        Verdict::Done | Verdict::Failed => true,
        Verdict::NotYet if expired => {
            timeout(ctx, plan, &p.svc);
            true
        }
        Verdict::NotYet => {
            let now = Instant::now();
            if script.ran && script.result == Some(false) {
                p.next = Some(now + p.retry);
                p.retry = (p.retry * 2).min(MAX_RETRY);
            } else if script.ran || !script.wanted {
                // Waiting on the record alone: only an event (or the deadline) helps.
                p.next = None;
            }
            if let Some(t) = script.old_enough_at {
                p.next = Some(events::soonest(p.next, t));
            }
            if p.armed && !p.watched {
                p.next = Some(events::soonest(p.next, now + events::POLL));
            }
            false
        }
    }
}

/// C's check(): whether each letter has taken effect; reports `ok:` with the status line.
fn check(ctx: &mut Ctx, plan: &Plan, p: &mut Pending, script: &mut Script) -> Verdict {
    let st = match svc::get(ctx, &p.svc.dir, &p.svc.name) {
        Got::Record(st) => st,
        Got::NotRunning if plan.letters.first() == Some(&Letter::Exit) => return Verdict::Done,
        Got::NotRunning | Got::Trouble => return Verdict::Failed,
    };
    let due = p.next.map_or(true, |t| Instant::now() >= t);
    script.may_run |= due || p.last != Some(st);
    p.last = Some(st);
    for &goal in &plan.goals {
        if !reached(ctx, &st, goal, &p.svc, script) {
            return Verdict::NotYet;
        }
    }
    if ctx.out.json {
        let line = super::json::service(ctx, &p.svc.name, &p.svc.dir, super::json::Result::Ok, &st);
        ctx.out.object(&line);
        return Verdict::Done;
    }
    ctx.out.puts(OK);
    svc::print(ctx, &st, &p.svc.dir, &p.svc.name, &p.svc.name);
    ctx.out.puts(b"\n");
    ctx.out.flush();
    Verdict::Done
}

/// Whether one command letter has taken effect, by the rules of runit's sv.c.
fn reached(ctx: &mut Ctx, st: &Status, goal: Goal, svc: &Service, script: &mut Script) -> bool {
    let pid = st.pid != 0;
    // The record holds `u` or `d` (an exit is recorded as `d`).
    let wants_down = st.want != Want::Up;
    // runit 2.3.0: `check` waits for the state that is wanted (2.1.2 only ran ./check when
    // there was a process, and reported a down service as fine).
    let letter = match goal {
        Goal::Wanted if wants_down => Letter::Down,
        Goal::Wanted => Letter::Up,
        Goal::Done(l) => l,
    };
    // Deviation: C compares whole seconds, so a record written earlier in the second sv
    // started counts as new, and `restart` could report success before runsv even got the
    // command. The record's full timestamp is compared here.
    let old = st.since < ctx.start;
    match letter {
        Letter::Exit => false,
        Letter::Up => pid && st.state == State::Run && script.ready(svc, st),
        Letter::Down => !pid && st.state == State::Down,
        Letter::Term | Letter::Kill | Letter::Restart => {
            (!pid && wants_down) || (!old && pid && !st.term_sent && script.ready(svc, st))
        }
        Letter::Once => (pid || !old) && (!pid || wants_down),
        Letter::Pause => !pid || st.paused,
        Letter::Cont => !pid || !st.paused,
        Letter::Hup if ctx.reload_waits => reloaded(svc, st, ctx.start),
        Letter::Hup | Letter::Alarm | Letter::Int | Letter::Quit | Letter::Usr1 | Letter::Usr2 => {
            true
        }
    }
}

/// `sv -w N reload` of a service that speaks sd_notify (`notification-socket`): done once it
/// said READY=1 after sv started (RELOADING=1 first, if it sends that). Any other service is
/// done at once, as with C.
fn reloaded(svc: &Service, st: &Status, since: Tai64n) -> bool {
    if !svc.dir.join("notification-socket").exists() {
        return true;
    }
    match svc::readiness(&svc.dir, st) {
        Some(r) => r.state == readiness::State::Ready && r.since >= since,
        None => true,
    }
}

/// Runs `./check` at most once per evaluation, and only when it is due.
struct Script<'a> {
    ev: &'a mut Events,
    deadline: Option<Instant>,
    /// Whether running `./check` now is due (else the last "not yet" stands).
    may_run: bool,
    /// A letter needed the script's verdict.
    wanted: bool,
    ran: bool,
    result: Option<bool>,
    /// A run too young to count as up will be old enough then.
    old_enough_at: Option<Instant>,
}

impl Script<'_> {
    /// Whether the running service is ready: `./check` says so, or without one, the run has
    /// lasted [`STAYS_UP`] (else `old_enough_at` says when it will have).
    fn ready(&mut self, svc: &Service, st: &Status) -> bool {
        let has_check = !matches!(fs::metadata(svc.dir.join("check")),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT));
        // A run that declares readiness is ready when it says so (and `./check` agrees, if
        // there is one); the notification's file changing wakes sv up.
        if let Some(r) = svc::readiness(&svc.dir, st) {
            return r.state == readiness::State::Ready && (!has_check || self.ok(svc));
        }
        if has_check {
            return self.ok(svc);
        }
        let left = STAYS_UP.saturating_sub(st.since.until(Tai64n::now()));
        if left.is_zero() {
            return true;
        }
        self.old_enough_at = Some(events::soonest(self.old_enough_at, Instant::now() + left));
        false
    }

    fn ok(&mut self, svc: &Service) -> bool {
        self.wanted = true;
        if let Some(r) = self.result {
            return r;
        }
        if !self.may_run {
            return false;
        }
        let r = self.run(svc);
        self.ran = true;
        self.result = Some(r);
        r
    }

    /// C's checkscript(): no `check` file means ready; otherwise its exit code decides.
    fn run(&mut self, svc: &Service) -> bool {
        match fs::metadata(svc.dir.join("check")) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return true,
            Err(e) => {
                out::warn_stderr("unable to stat", &svc.name, "check", &e);
                return false;
            }
        }
        // SIGCHLD must be taken over before the child can exit, or its exit could go unseen.
        self.ev.prepare();
        let Ok(dir) = CString::new(svc.dir.as_os_str().as_bytes()) else {
            let e = std::io::Error::from_raw_os_error(libc::EINVAL);
            return spawn_failed(svc, &e);
        };
        let pid = match child::spawn(&Spec {
            dir: Some(Dir::Path(&dir)),
            // Standard output is closed, as C does.
            close: &[1],
            signals: &events::SIGNALS,
            ..Spec::new(c"./check", &[c"./check"])
        }) {
            Ok(pid) => pid,
            Err(e) => return spawn_failed(svc, &e),
        };
        let until = self.deadline.map(|d| d.max(Instant::now() + CHECK_GRACE));
        match self.ev.wait_child(pid, until) {
            // Deviation: C's wait_exitcode() reads a death by signal as exit code 0, ready.
            Some(st) => st.success(),
            None => {
                let _ = child::kill(pid, Signal::SIGKILL);
                let _ = child::wait(pid);
                false
            }
        }
    }
}

/// C forks, then the child warns if exec fails and exits 0, which reads as "ready"; a failed
/// fork is "not ready".
fn spawn_failed(svc: &Service, e: &std::io::Error) -> bool {
    let fork = child::transient(e);
    let what = if fork { "unable to fork for" } else { "unable to run" };
    out::warn_stderr(what, &svc.name, "check", e);
    !fork
}

/// Reports a service that did not get there in time; the `force-*` verbs then send `k`.
fn timeout(ctx: &mut Ctx, plan: &Plan, svc: &Service) {
    if ctx.out.json {
        let result =
            if plan.kill { super::json::Result::Kill } else { super::json::Result::Timeout };
        if let Got::Record(st) = svc::get(ctx, &svc.dir, &svc.name) {
            let line = super::json::service(ctx, &svc.name, &svc.dir, result, &st);
            ctx.out.object(&line);
        }
        ctx.out.failures += 1;
        if plan.kill {
            svc::control(ctx, svc, &[Letter::Kill]);
        }
        return;
    }
    ctx.out.puts(if plan.kill { KILL } else { TIMEOUT });
    if let Got::Record(st) = svc::get(ctx, &svc.dir, &svc.name) {
        svc::print(ctx, &st, &svc.dir, &svc.name, &svc.name);
        ctx.out.failures += 1;
    }
    ctx.out.puts(b"\n");
    ctx.out.flush();
    if plan.kill {
        svc::control(ctx, svc, &[Letter::Kill]);
    }
}
