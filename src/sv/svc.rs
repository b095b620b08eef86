//! One service as sv sees it (all OSes): where its directory is, whether its runsv runs, its
//! status record and the status line, the `status` command and sending control letters.
//!
//! Texts, their order and what counts as a failure follow runit's sv.c; deviations are marked.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::out::{self, Out};
use super::LsbStatus;
use crate::supervise::protocol::{self, open_fifo_write, Letter, Probe, MAIN};
use crate::supervise::readiness::{self, Readiness};
use crate::supervise::runs::{Failed, Runs};
use crate::supervise::status::{State, Status, Want};
use crate::tai::Tai64n;

/// A service named on the command line whose directory exists.
#[derive(Debug, Clone)]
pub struct Service {
    /// The name as given; every message shows it.
    pub name: Vec<u8>,
    pub dir: PathBuf,
}

/// What sv carries from service to service.
#[derive(Debug)]
pub struct Ctx {
    pub out: Out,
    pub lsb: bool,
    /// The first command letter: for `x`, "runsv not running" is success.
    pub first: Option<Letter>,
    /// When sv started: `t`, `k` and `o` wait for a status record newer than that.
    pub start: Tai64n,
    /// `-w` was given to `reload` (or `hup`): a service that speaks sd_notify is waited for
    /// until it says READY=1 again after the HUP.
    pub reload_waits: bool,
}

/// The outcome of reading a service's state (C's svstatus_get).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    Record(Status),
    /// Nobody holds `supervise/ok` open: no runsv (already reported).
    NotRunning,
    /// Something else went wrong (already reported as a warning).
    Trouble,
}

/// Where a service name points: names not starting with `/` or `.` and not ending in `/` are
/// looked up in `svdir`, everything else relative to the current directory. The error is the
/// one C's chdir() would have met.
pub fn locate(svdir: &OsStr, name: &OsStr) -> io::Result<PathBuf> {
    let n = name.as_bytes();
    let lookup = !matches!(n.first(), None | Some(b'/' | b'.')) && !n.ends_with(b"/");
    if !lookup {
        is_dir(Path::new(name))?;
        return Ok(PathBuf::from(name));
    }
    // C changes into $SVDIR first, so an unusable $SVDIR is what gets reported.
    is_dir(Path::new(svdir))?;
    let path = Path::new(svdir).join(name);
    is_dir(&path)?;
    Ok(path)
}

/// Like chdir(): ENOENT for "", ENOTDIR for anything but a directory (symlinks followed).
pub fn is_dir(p: &Path) -> io::Result<()> {
    if p.as_os_str().is_empty() {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    }
    if fs::metadata(p)?.is_dir() {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(libc::ENOTDIR))
    }
}

/// The service's log subdirectory label in messages, as C's `islog`.
pub fn log_label(name: &[u8]) -> Vec<u8> {
    let mut l = name.to_vec();
    l.extend_from_slice(b"/log");
    l
}

/// Reads the state of the supervisor of `base` (a service or its `log`), reporting problems
/// under `label`.
/// The readiness of the run `st` records, when that run declared readiness. A file that names
/// another process (left by a runsv that was killed, when another runsv, perhaps C's, took
/// over) or that is no readiness record is not this run's: the run then declared nothing.
pub fn readiness(base: &Path, st: &Status) -> Option<Readiness> {
    if st.pid == 0 || st.state != State::Run {
        return None;
    }
    let data = fs::read(base.join(MAIN.readiness)).ok()?;
    Readiness::decode(&data).filter(|r| r.pid == st.pid)
}

pub fn get(ctx: &mut Ctx, base: &Path, label: &[u8]) -> Got {
    match protocol::probe(&base.join(MAIN.ok)) {
        Probe::Running => {}
        Probe::NotRunning => {
            not_running(ctx, label, ctx.first);
            return Got::NotRunning;
        }
        Probe::Failed(e) => {
            ctx.out.warn(label, "unable to open supervise/ok", Some(&e));
            return Got::Trouble;
        }
    }
    match read_record(&base.join(MAIN.status)) {
        Ok(Some(st)) => Got::Record(st),
        // Deviation: C also reports a valid 18-byte daemontools record, and a record whose
        // state byte is not 0, 1 or 2, as "bad format"; here the former is read (state from
        // the pid) and only the latter is refused.
        Ok(None) => {
            ctx.out.warn(label, "unable to read supervise/status: bad format", None);
            Got::Trouble
        }
        Err((what, e)) => {
            ctx.out.warn(label, what, Some(&e));
            Got::Trouble
        }
    }
}

/// Reads up to 20 bytes, as C's single read(); `None` for a record of the wrong size or kind.
fn read_record(path: &Path) -> Result<Option<Status>, (&'static str, io::Error)> {
    let f = File::open(path).map_err(|e| ("unable to open supervise/status", e))?;
    let mut buf = Vec::with_capacity(20);
    f.take(20).read_to_end(&mut buf).map_err(|e| ("unable to read supervise/status", e))?;
    if buf.len() != 20 && buf.len() != 18 {
        return Ok(None);
    }
    Ok(Status::decode(&buf).ok())
}

/// "runsv not running": a success when the letter sent is `x`, a failure otherwise.
fn not_running(ctx: &mut Ctx, label: &[u8], letter: Option<Letter>) {
    if letter == Some(Letter::Exit) {
        ctx.out.ok(label, "runsv not running");
    } else {
        ctx.out.fail(label, "runsv not running", None);
    }
}

/// What [`print`] printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printed {
    /// The line of a record with a process.
    Process,
    /// The line of a record without one.
    NoProcess,
    /// Nothing: the `down` file could not be checked (warned on stderr).
    Nothing,
}

/// Appends the status line of one record (C's svstatus_print).
pub fn print(ctx: &mut Ctx, st: &Status, base: &Path, shown: &[u8], service: &[u8]) -> Printed {
    let normally_up = match fs::metadata(base.join("down")) {
        Ok(_) => false,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => true,
        Err(e) => {
            out::warn_stderr("unable to stat", service, "down", &e);
            return Printed::Nothing;
        }
    };
    let o = &mut ctx.out;
    o.puts(match st.state {
        State::Down => b"down: ",
        State::Run => b"run: ",
        State::Finish => b"finish: ",
    });
    o.puts(shown);
    o.puts(b": ");
    if st.state != State::Down {
        o.puts(format!("(pid {}) ", st.pid).as_bytes());
    }
    let now = Tai64n::now();
    let age = now.secs.saturating_sub(st.since.secs);
    o.puts(format!("{age}s").as_bytes());
    if let Some(r) = readiness(base, st) {
        match r.state {
            readiness::State::Starting => o.puts(b", starting"),
            readiness::State::Reloading => o.puts(b", reloading"),
            readiness::State::Stopping => o.puts(b", stopping"),
            readiness::State::Ready => {
                let age = now.secs.saturating_sub(r.since.secs);
                o.puts(format!(", ready {age}s").as_bytes());
            }
        }
        if !r.text.is_empty() {
            o.puts(format!(", \"{}\"", r.text).as_bytes());
        }
    }
    let pid = st.pid != 0;
    // The record holds `u` or `d` (an exit is recorded as `d`).
    let wants_up = st.want == Want::Up;
    let suffixes: [(bool, &[u8]); 6] = [
        (pid && !normally_up, b", normally down"),
        (!pid && normally_up, b", normally up"),
        (pid && st.paused, b", paused"),
        (!pid && wants_up, b", want up"),
        (pid && !wants_up, b", want down"),
        (pid && st.term_sent, b", got TERM"),
    ];
    for (on, s) in suffixes {
        if on {
            o.puts(s);
        }
    }
    // After C's fields, and only while runsv's policy holds the service down.
    if !pid {
        let runs = fs::read(base.join(MAIN.runs)).ok();
        match runs.as_deref().and_then(Runs::failed_in) {
            Some(Failed::Limit) => o.puts(b", failed: restarted too often"),
            Some(Failed::Finish) => o.puts(b", held down by ./finish (125)"),
            None => {}
        }
    }
    if pid {
        Printed::Process
    } else {
        Printed::NoProcess
    }
}

/// The `status` command for one service: its line, then `; ` and the log service's. Returns
/// the service's status when sv must stop here (LSB mode).
pub fn status(ctx: &mut Ctx, svc: &Service) -> Option<LsbStatus> {
    let st = match get(ctx, &svc.dir, &svc.name) {
        Got::Record(st) => st,
        Got::Trouble if ctx.lsb => return Some(LsbStatus::Unknown),
        Got::Trouble | Got::NotRunning => return None,
    };
    if ctx.out.json {
        let line = super::json::service(ctx, &svc.name, &svc.dir, super::json::Result::Status, &st);
        ctx.out.object(&line);
        return ctx.lsb.then_some(if st.pid != 0 {
            LsbStatus::Running
        } else {
            LsbStatus::NotRunning
        });
    }
    let main = print(ctx, &st, &svc.dir, &svc.name, &svc.name);
    status_log(ctx, svc);
    ctx.out.flush();
    // runit 2.3.0: the LSB exit code reflects the service itself. 2.1.2 let the log service's
    // state overwrite it, so a down service with a running logger read as running (exit 0).
    ctx.lsb.then_some(match main {
        Printed::Process => LsbStatus::Running,
        Printed::NoProcess => LsbStatus::NotRunning,
        Printed::Nothing => LsbStatus::Unknown,
    })
}

fn status_log(ctx: &mut Ctx, svc: &Service) {
    let log = svc.dir.join("log");
    let label = log_label(&svc.name);
    match is_dir(&log) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => ctx.out.puts(b"\n"),
        Err(e) => {
            ctx.out.puts(b"; ");
            ctx.out.warn(&label, "unable to change directory", Some(&e));
        }
        Ok(()) => {
            ctx.out.puts(b"; ");
            // Deviation: when the log's record cannot be read, C goes on to print the
            // previous record again under "log"; that misleading line is left out.
            if let Got::Record(st) = get(ctx, &log, &label) {
                print(ctx, &st, &log, b"log", &svc.name);
                ctx.out.puts(b"\n");
            }
        }
    }
}

/// What [`control`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Sent,
    /// Not needed: the record already wants that.
    NotNeeded,
    /// Failed (reported).
    Failed,
}

/// `-j`: the object of `svc` after a command, with its result; a record that cannot be read
/// has been reported as an error object by [`get`].
pub fn emit(ctx: &mut Ctx, svc: &Service, result: super::json::Result) {
    if let Got::Record(st) = get(ctx, &svc.dir, &svc.name) {
        let line = super::json::service(ctx, &svc.name, &svc.dir, result, &st);
        ctx.out.object(&line);
    }
}

/// The letters to send: those of a restart (`t` then `c`) stop with the service's own policy
/// (`r`) when it declares one (`down-signal`, `timeout-kill`) and our runsv, which keeps
/// `supervise/runs`, serves it; C's runsv would ignore `r`. `sv term` always sends `t`.
fn restart_letters(dir: &Path, letters: &[Letter]) -> Vec<Letter> {
    let restart = letters.len() > 1 && letters.first() == Some(&Letter::Term);
    let declared = ["down-signal", "timeout-kill"].iter().any(|f| dir.join(f).exists());
    if !(restart && declared && dir.join(MAIN.runs).exists()) {
        return letters.to_vec();
    }
    let mut out = letters.to_vec();
    if let Some(first) = out.first_mut() {
        *first = Letter::Restart;
    }
    out
}

/// Sends `letters` to the service's runsv (C's control).
pub fn control(ctx: &mut Ctx, svc: &Service, letters: &[Letter]) -> Sent {
    let Got::Record(st) = get(ctx, &svc.dir, &svc.name) else { return Sent::Failed };
    let already = match letters.first() {
        Some(Letter::Up) => st.want == Want::Up,
        // `d` is still sent when down is wanted but no TERM went out (a service started `once`).
        Some(Letter::Down) => st.want != Want::Up && st.term_sent,
        _ => false,
    };
    if already {
        return Sent::NotNeeded;
    }
    let mut f = match open_fifo_write(&svc.dir.join(MAIN.control)) {
        Ok(f) => f,
        Err(e) if protocol::nobody_reads(&e) => {
            not_running(ctx, &svc.name, letters.first().copied());
            return Sent::Failed;
        }
        Err(e) => {
            ctx.out.warn(&svc.name, "unable to open supervise/control", Some(&e));
            return Sent::Failed;
        }
    };
    // One write, as C: the letters of `restart` (tcu) arrive together.
    let bytes = protocol::bytes(&restart_letters(&svc.dir, letters));
    match f.write(&bytes) {
        Ok(n) if n == bytes.len() => Sent::Sent,
        Ok(_) => {
            ctx.out.warn(&svc.name, "unable to write to supervise/control", None);
            Sent::Failed
        }
        Err(e) => {
            ctx.out.warn(&svc.name, "unable to write to supervise/control", Some(&e));
            Sent::Failed
        }
    }
}

/// The name as given, for messages.
pub fn shown(name: &OsStr) -> Vec<u8> {
    name.as_bytes().to_vec()
}
