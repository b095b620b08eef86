//! sv: reports and changes the state of services supervised by runsv (all OSes). Drop-in for
//! runit's sv, messages and exit codes included (runit 2.3.0 where it fixed 2.1.2), but waiting
//! is driven by events from the platform layer rather than by polling every 420 ms.
//!
//! Flow, as in C: every service gets the command first (or has its status printed), then, when
//! the command waits, all of them are watched together until each reached the wanted state or
//! the timeout passed. Exit code: +1 per failing service (at most 99), 100 on usage errors; in
//! the LSB init-script mode (called by another name) 2 on usage errors and 0/3/4 for `status`.
//!
//! Where this differs from C runit 2.1.2 on purpose (each marked where it happens):
//! - runit 2.3.0's fixes: `check` waits for the wanted state; the LSB `status` exit code is the
//!   service's, not its log service's.
//! - `t`/`k`/`o` compare the status timestamp with sv's start in full, not in whole seconds.
//! - `-w` with a value that is not a number is a usage error (C read it as 0).
//! - 18-byte daemontools status records are read; a killed `./check` is "not ready"; a
//!   `./check` that outlives the timeout (by at least a second) is killed.
//! - When a log service's record cannot be read, C printed the previous record again as the
//!   log's; only the warning is printed.
//! - When several services are waited for, each is reported as soon as it is done (C reports
//!   in argument order within each 420 ms round).

pub mod args;
pub mod events;
pub mod json;
pub mod out;
pub mod svc;
pub mod wait;
pub mod watch;

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use args::Refused;
use out::Out;
use svc::{Ctx, Sent, Service};

use crate::supervise::protocol::Act;
use crate::tai::Tai64n;

/// Where service names are looked up unless `$SVDIR` says otherwise.
pub const DEFAULT_SVDIR: &str = crate::flavour::SVDIR;
/// Seconds to wait unless `$SVWAIT` or `-w` say otherwise.
pub const DEFAULT_WAIT: u64 = 7;

/// How sv ended, for its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Bad usage (the usage line was printed); `lsb` when called as an init script.
    Usage { lsb: bool },
    /// Every service was handled; this many failed.
    Done { failures: u32 },
    /// The LSB `status` of the one service.
    Lsb(LsbStatus),
}

/// What LSB `status` says of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LsbStatus {
    Running,
    NotRunning,
    Unknown,
}

/// Runs sv with this argv (argv[0] included).
pub fn run(argv: &[OsString]) -> Outcome {
    let (prog, lsb, parsed) = args::parse(argv);
    let inv = match parsed {
        Ok(inv) => inv,
        Err(Refused::Usage { note }) => {
            usage(&prog, lsb, note.as_deref());
            return Outcome::Usage { lsb };
        }
    };
    let svdir = std::env::var_os("SVDIR").unwrap_or_else(|| OsString::from(DEFAULT_SVDIR));
    let secs = inv
        .wait_secs
        .or_else(|| std::env::var_os("SVWAIT").map(|v| args::scan_ulong(v.as_bytes())))
        .unwrap_or(DEFAULT_WAIT);
    let plan = inv.plan;
    let mut ctx = Ctx {
        out: Out::default(),
        lsb,
        first: plan.letters.first().copied(),
        start: Tai64n::now(),
        reload_waits: inv.wait_secs.is_some()
            && plan.letters == [crate::supervise::protocol::Letter::Hup],
    };
    ctx.out.json = inv.json || plan.act == Act::Watch;
    let mut pending = Vec::new();
    for name in &inv.services {
        let Some(svc) = locate(&mut ctx, &svdir, name) else { continue };
        match plan.act {
            Act::Control => match svc::control(&mut ctx, &svc, &plan.letters) {
                Sent::Failed => continue,
                // Without a wait, C prints nothing; `-j` says what was done, and the status.
                sent if ctx.out.json && !plan.wait => {
                    let result =
                        if sent == Sent::Sent { json::Result::Sent } else { json::Result::Ok };
                    svc::emit(&mut ctx, &svc, result);
                }
                Sent::Sent | Sent::NotNeeded => {}
            },
            Act::Status => {
                if let Some(status) = svc::status(&mut ctx, &svc) {
                    return Outcome::Lsb(status);
                }
            }
            Act::Nothing | Act::Watch => {}
        }
        pending.push(svc);
    }
    if plan.act == Act::Watch {
        watch::watch(&mut ctx, pending, inv.wait_secs.map(Duration::from_secs));
        ctx.out.flush();
        return Outcome::Done { failures: ctx.out.failures };
    }
    if plan.wait && !pending.is_empty() {
        wait::wait_all(&mut ctx, &plan, pending, Duration::from_secs(secs));
    }
    ctx.out.flush();
    Outcome::Done { failures: ctx.out.failures }
}

fn locate(ctx: &mut Ctx, svdir: &OsStr, name: &OsStr) -> Option<Service> {
    let shown = name.as_bytes().to_vec();
    match svc::locate(svdir, name) {
        Ok(dir) => Some(Service { name: shown, dir }),
        Err(e) => {
            ctx.out.fail(&shown, "unable to change to service directory", Some(&e));
            None
        }
    }
}

/// The usage line (followed by an empty line, as C's strerr adds one); in the LSB mode it
/// names no services.
fn usage(prog: &[u8], lsb: bool, note: Option<&str>) {
    let mut e = Vec::new();
    if let Some(n) = note {
        e.extend_from_slice(n.as_bytes());
        e.push(b'\n');
    }
    e.extend_from_slice(b"usage: ");
    e.extend_from_slice(prog);
    if lsb {
        e.extend_from_slice(b" [-w sec] command\n\n");
    } else {
        e.extend_from_slice(b" [-v] [-w sec] command service ...\n\n");
    }
    let _ = std::io::stderr().lock().write_all(&e);
}
