//! `sv watch SERVICES...` (all OSes): stays running and prints one JSON object (see
//! `super::json`, result `watch`) for each service at the start and again at every change of
//! its state, readiness, pause, exit or hold, or of its log service's; an error object when
//! its runsv goes away or its directory does. Woken by the same events as sv's waits, never
//! polling where the platform can watch. It ends when it is interrupted, when `-w` seconds
//! have passed, or once no watched service has a runsv; a runsv that comes back while others
//! are still watched is picked up. A new runsv writes its first status before it opens
//! `supervise/ok`, so a change in the directory of a service without runsv is looked at again
//! shortly after (10 ms, doubling, for about a second) rather than only at the next event.

use std::fs;
use std::time::{Duration, Instant};

use super::events::{self, Events};
use super::json;
use super::svc::{self, Ctx, Got, Service};
use crate::supervise::protocol::{self, Probe, MAIN};

/// One service being watched.
struct Watched {
    svc: Service,
    /// The files last printed (status, readiness and runs of the service and its log).
    last: Option<Vec<u8>>,
    /// Its runsv was there at the last look.
    running: bool,
    /// Its directory went away: reported, no longer looked at.
    lost: bool,
    /// Events do not reach it: it is looked at every [`events::POLL`].
    polled: bool,
    /// Without runsv: the files last seen, and when to look again after they changed.
    down_files: Vec<u8>,
    recheck: Option<(Instant, Duration)>,
}

/// The first and the last pause of the re-looks at a service whose runsv may be starting.
const RECHECK_FIRST: Duration = Duration::from_millis(10);
const RECHECK_LAST: Duration = Duration::from_millis(640);

/// Watches `services` until interrupted, until `limit`, or until none has a runsv.
pub fn watch(ctx: &mut Ctx, services: Vec<Service>, limit: Option<Duration>) {
    ctx.out.json = true;
    let mut ev = Events::new();
    let deadline = limit.and_then(|l| Instant::now().checked_add(l));
    let mut all: Vec<Watched> = services
        .into_iter()
        .map(|svc| Watched {
            svc,
            last: None,
            running: false,
            lost: false,
            polled: false,
            down_files: Vec::new(),
            recheck: None,
        })
        .collect();
    loop {
        for w in all.iter_mut().filter(|w| !w.lost) {
            look(ctx, w, &mut ev);
        }
        if !all.iter().any(|w| w.running) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let poll = all.iter().any(|w| w.polled).then(|| Instant::now() + events::POLL);
        let rechecks = all.iter().filter_map(|w| w.recheck.map(|r| r.0));
        let until = [poll, deadline].into_iter().flatten().chain(rechecks).min();
        ev.wait(until);
    }
    ev.finish();
}

/// Looks at one service and prints what changed.
fn look(ctx: &mut Ctx, w: &mut Watched, ev: &mut Events) {
    if let Err(e) = fs::metadata(&w.svc.dir) {
        w.lost = true;
        w.running = false;
        let text =
            format!("unable to change to service directory: {}", crate::errstr::describe(&e));
        ctx.out.object(&json::error(&w.svc.name, &text));
        return;
    }
    let was_running = w.running;
    w.running = matches!(protocol::probe(&w.svc.dir.join(MAIN.ok)), Probe::Running);
    if !w.running {
        recheck(w);
        if was_running || w.last.is_none() {
            ctx.out.object(&json::error(&w.svc.name, "runsv not running"));
            // Printed once until it comes back; a later runsv's first record is new.
            w.last = Some(Vec::new());
        }
        return;
    }
    w.recheck = None;
    if !was_running {
        // (Again) watched: a returning runsv is a new reader of `ok` to wait on.
        w.polled = !ev.watch_service(&w.svc.dir);
    }
    let now = files(&w.svc);
    if w.last.as_ref() == Some(&now) {
        return;
    }
    w.last = Some(now);
    if let Got::Record(st) = svc::get(ctx, &w.svc.dir, &w.svc.name) {
        let line = json::service(ctx, &w.svc.name, &w.svc.dir, json::Result::Watch, &st);
        ctx.out.object(&line);
    }
}

/// For a service without runsv: when its files changed, looks again soon (a runsv may be
/// starting), a few times, each pause twice the last.
fn recheck(w: &mut Watched) {
    let now = Instant::now();
    let files = files(&w.svc);
    if files != w.down_files {
        w.down_files = files;
        w.recheck = Some((now + RECHECK_FIRST, RECHECK_FIRST));
        return;
    }
    w.recheck = match w.recheck {
        Some((at, pause)) if now >= at && pause < RECHECK_LAST => {
            Some((now + pause * 2, pause * 2))
        }
        Some((at, pause)) if now < at => Some((at, pause)),
        _ => None,
    };
}

/// What a change is judged by: the status, readiness and runs files of the service and of
/// its log service, as they are now.
fn files(svc: &Service) -> Vec<u8> {
    let mut all = Vec::new();
    for base in [svc.dir.clone(), svc.dir.join("log")] {
        for name in [MAIN.status, MAIN.readiness, MAIN.runs] {
            all.extend_from_slice(&fs::read(base.join(name)).unwrap_or_default());
            all.push(0);
        }
    }
    all
}
