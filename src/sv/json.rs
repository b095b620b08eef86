//! `sv -j`: one JSON object per service per line (JSON Lines) in place of the text line, for
//! scripts, monitoring and front ends (all OSes). The schema is in sv(8) and keeps its
//! `schema` number until a field changes meaning; fields are only ever added.
//!
//! Everything is read from the files in `supervise/` (and the service directory's `down`), so
//! it works with C's runsv too: what only our runsv records (`ready`, `restarts`, ...) is then
//! null.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::svc::{self, Ctx, Got};
use crate::supervise::protocol::MAIN;
use crate::supervise::readiness;
use crate::supervise::runs::{Failed, Runs};
use crate::supervise::status::{State, Status, Want};
use crate::tai::Tai64n;

/// The schema's version (sv(8), "JSON OUTPUT").
pub const SCHEMA: u32 = 1;

/// What the command came to, for the `result` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Result {
    /// Only the status was asked for.
    Status,
    /// Sent without waiting.
    Sent,
    Ok,
    Timeout,
    Kill,
    /// A line of `sv watch`.
    Watch,
}

impl Result {
    fn word(self) -> Option<&'static str> {
        match self {
            Result::Status => None,
            Result::Sent => Some("sent"),
            Result::Ok => Some("ok"),
            Result::Timeout => Some("timeout"),
            Result::Kill => Some("kill"),
            Result::Watch => Some("watch"),
        }
    }
}

/// The object of one service: `name` as given, its directory `dir`.
pub fn service(ctx: &mut Ctx, name: &[u8], dir: &Path, result: Result, st: &Status) -> String {
    let mut o = Obj::new();
    o.num("schema", SCHEMA);
    o.str("service", &String::from_utf8_lossy(name));
    let path = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    o.str("path", &path.to_string_lossy());
    match result.word() {
        Some(w) => o.str("result", w),
        None => o.null("result"),
    }
    fields(&mut o, dir, st);
    let log = dir.join("log");
    if log.is_dir() {
        // The log's record, read quietly: a log that cannot be read is null here.
        let quiet = ctx.out.quiet(true);
        let got = svc::get(ctx, &log, b"log");
        ctx.out.quiet(quiet);
        match got {
            Got::Record(lst) => {
                let mut l = Obj::new();
                fields(&mut l, &log, &lst);
                tree(&mut l, &log);
                o.raw("log", &l.done());
            }
            Got::NotRunning | Got::Trouble => o.null("log"),
        }
    } else {
        o.null("log");
    }
    tree(&mut o, dir);
    o.done()
}

/// `cgroup`: the process tree a contained service runs in, as runsv records it in
/// `supervise/cgroup` (Linux), with its processes now; null for a service that is not
/// contained (and under C's runsv).
fn tree(o: &mut Obj, dir: &Path) {
    let record = fs::read_to_string(dir.join("supervise/cgroup")).unwrap_or_default();
    let Some(path) = record.lines().next().filter(|l| !l.is_empty()) else {
        return o.null("cgroup");
    };
    let mut c = Obj::new();
    c.str("path", path);
    let cg = Path::new(path);
    match fs::read_to_string(cg.join("cgroup.procs")) {
        Ok(procs) => c.num("processes", procs.lines().count()),
        Err(_) => c.null("processes"),
    }
    match fs::read_to_string(cg.join("cgroup.events")) {
        Ok(ev) => c.bool("populated", ev.lines().any(|l| l == "populated 1")),
        Err(_) => c.null("populated"),
    }
    o.raw("cgroup", &c.done());
}

/// An object for a service that could not be handled.
pub fn error(name: &[u8], message: &str) -> String {
    let mut o = Obj::new();
    o.num("schema", SCHEMA);
    o.str("service", &String::from_utf8_lossy(name));
    o.str("error", message);
    o.done()
}

/// An object for a message that is no failure (`ok: <service>: runsv not running` after `x`).
pub fn message(name: &[u8], message: &str) -> String {
    let mut o = Obj::new();
    o.num("schema", SCHEMA);
    o.str("service", &String::from_utf8_lossy(name));
    o.str("result", "ok");
    o.str("message", message);
    o.done()
}

/// The fields a service and its log service share.
fn fields(o: &mut Obj, dir: &Path, st: &Status) {
    let state = match st.state {
        State::Down => "down",
        State::Run => "run",
        State::Finish => "finish",
    };
    let pid = st.pid != 0;
    o.str("state", state);
    if pid {
        o.num("pid", st.pid);
    } else {
        o.null("pid");
    }
    o.raw("since", &unix(st.since));
    o.num("seconds", Tai64n::now().secs.saturating_sub(st.since.secs));
    let normally_up = !dir.join("down").exists();
    o.str("normally", if normally_up { "up" } else { "down" });
    // As the text's remarks: a want only where it differs from the state.
    let wants_up = st.want == Want::Up;
    match (pid, wants_up) {
        (false, true) => o.str("want", "up"),
        (true, false) => o.str("want", "down"),
        _ => o.null("want"),
    }
    o.bool("paused", pid && st.paused);
    o.bool("got_term", pid && st.term_sent);
    match svc::readiness(dir, st) {
        Some(r) => {
            o.bool("ready", r.state == readiness::State::Ready);
            if r.state == readiness::State::Ready {
                o.raw("ready_since", &unix(r.since));
            } else {
                o.null("ready_since");
            }
            if r.text.is_empty() {
                o.null("status_text");
            } else {
                o.str("status_text", &r.text);
            }
        }
        None => {
            o.null("ready");
            o.null("ready_since");
            o.null("status_text");
        }
    }
    match fs::read(dir.join(MAIN.runs)).ok().as_deref().and_then(Runs::decode) {
        Some(runs) => {
            o.num("restarts", runs.restarts);
            match runs.last {
                Some((wstat, at)) => {
                    let s = crate::child::Status(wstat);
                    let mut l = Obj::new();
                    match s.exit_code() {
                        Some(c) => l.num("code", c),
                        None => l.null("code"),
                    }
                    match s.signal() {
                        Some(n) => l.num("signal", n),
                        None => l.null("signal"),
                    }
                    l.raw("at", &unix(at));
                    o.raw("last_exit", &l.done());
                }
                None => o.null("last_exit"),
            }
            o.bool("failed", runs.failed == Some(Failed::Limit));
            o.bool("held_by_finish", runs.failed == Some(Failed::Finish));
        }
        None => {
            o.null("restarts");
            o.null("last_exit");
            o.null("failed");
            o.null("held_by_finish");
        }
    }
}

/// Unix seconds with the fraction, as a JSON number.
fn unix(t: Tai64n) -> String {
    format!("{}.{:09}", t.unix_secs(), t.nanos)
}

/// A JSON object being written, fields in order.
struct Obj {
    text: String,
}

impl Obj {
    fn new() -> Obj {
        Obj { text: String::from("{") }
    }

    fn key(&mut self, k: &str) {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        quote(&mut self.text, k);
        self.text.push(':');
    }

    fn raw(&mut self, k: &str, v: &str) {
        self.key(k);
        self.text.push_str(v);
    }

    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        quote(&mut self.text, v);
    }

    fn num(&mut self, k: &str, v: impl std::fmt::Display) {
        self.key(k);
        let _ = write!(self.text, "{v}");
    }

    fn bool(&mut self, k: &str, v: bool) {
        self.raw(k, if v { "true" } else { "false" });
    }

    fn null(&mut self, k: &str) {
        self.raw(k, "null");
    }

    fn done(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

/// `s` as a JSON string.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut s = String::new();
        quote(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
        assert_eq!(
            error(b"x\xff", "gone"),
            "{\"schema\":1,\"service\":\"x\u{fffd}\",\"error\":\"gone\"}"
        );
    }
}
