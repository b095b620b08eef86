//! One vocabulary for failure (all OSes): [`Failure`], what was tried and the system's answer,
//! printed in runit's words (`errstr`); [`line`], the one way a program writes
//! `<prefix>warning: ...` or `<prefix>fatal: ...`, in one write so that lines of many writers
//! sharing a pipe never interleave; and [`exit`], every exit code by name.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

use crate::errstr;

/// A failed step: what was tried ("unable to open supervise/control"), and the system's
/// answer when there was one.
#[derive(Debug)]
pub struct Failure {
    pub what: String,
    pub err: Option<io::Error>,
}

impl Failure {
    /// A step the system refused.
    pub fn sys(what: impl Into<String>, err: io::Error) -> Failure {
        Failure { what: what.into(), err: Some(err) }
    }

    /// A step that failed without a system error.
    pub fn plain(what: impl Into<String>) -> Failure {
        Failure { what: what.into(), err: None }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.err {
            Some(e) => because(&self.what, e).fmt(f),
            None => f.write_str(&self.what),
        }
    }
}

/// `<what>: <the error in runit's words>`, for an error that is only borrowed.
pub fn because<'a>(what: &'a str, err: &'a io::Error) -> impl fmt::Display + 'a {
    Because { what, err }
}

struct Because<'a> {
    what: &'a str,
    err: &'a io::Error,
}

impl fmt::Display for Because<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, errstr::describe(self.err))
    }
}

/// How bad a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// No word: `- runit: system reboot.`, a usage line.
    Plain,
    /// `info: ` (svlogd's verbose lines).
    Info,
    Warning,
    Fatal,
}

impl Level {
    fn word(self) -> &'static [u8] {
        match self {
            Level::Plain => b"",
            Level::Info => b"info: ",
            Level::Warning => b"warning: ",
            Level::Fatal => b"fatal: ",
        }
    }
}

/// The bytes of one line: `<prefix><level word><text>\n`. The prefix names the writer as C
/// runit does (`runsv svc: `, `runsvdir /service: `, `svlogd: `, `- runit: `).
pub fn line(prefix: &[u8], level: Level, text: &dyn fmt::Display) -> Vec<u8> {
    let mut buf = head(prefix, level);
    let _ = write!(buf, "{text}");
    buf.push(b'\n');
    buf
}

/// `<prefix><level word>`: the start of a line that is finished elsewhere (by a child that
/// cannot start, in one `writev`).
pub fn head(prefix: &[u8], level: Level) -> Vec<u8> {
    let mut buf = Vec::with_capacity(prefix.len() + 96);
    buf.extend_from_slice(prefix);
    buf.extend_from_slice(level.word());
    buf
}

/// Writes one line to stderr in one write. A failure is ignored on purpose: stderr may be a
/// full non-blocking pipe or closed, and a supervisor must not die over a lost message.
pub fn say(prefix: &[u8], level: Level, text: &dyn fmt::Display) {
    let _ = io::stderr().lock().write_all(&line(prefix, level, text));
}

/// `<prefix>warning: <text>` on stderr.
pub fn warn(prefix: &[u8], text: &dyn fmt::Display) {
    say(prefix, Level::Warning, text);
}

/// `<prefix>fatal: <text>` on stderr.
pub fn fatal(prefix: &[u8], text: &dyn fmt::Display) {
    say(prefix, Level::Fatal, text);
}

/// What runit's programs print for `-V` before their usage line: runit's `$Id$` line, naming
/// our version.
pub const ID: &str = concat!("$Id: runit-rs ", env!("CARGO_PKG_VERSION"), " $");

/// `usage: <prog><rest>` and an empty line on stderr, in one write, as C runit prints its usage:
/// `prog` is argv[0] as given (`name` when there is none).
pub fn usage(argv0: Option<&OsStr>, name: &str, rest: &str) {
    let mut buf = b"usage: ".to_vec();
    buf.extend_from_slice(argv0.map_or(name.as_bytes(), OsStr::as_bytes));
    buf.extend_from_slice(rest.as_bytes());
    buf.extend_from_slice(b"\n\n");
    let _ = io::stderr().lock().write_all(&buf);
}

/// Every exit code, by name. The programs' own codes are C runit's, per program (they differ
/// for bad usage); they are chosen in `src/cmd/*` only. The rest are the codes of runit's
/// protocol between programs: what a stage's or a child's exit code means.
pub mod exit {
    /// Done, or told to stop.
    pub const OK: i32 = 0;
    /// A failure, maybe temporary (runit's 111).
    pub const FAILURE: i32 = 111;
    /// Bad usage of sv, chpst and chpst's personalities (C runit's codes for bad usage differ
    /// per program; the scripts of runit's own test suite check each).
    pub const USAGE: i32 = 100;
    /// Bad usage of runsv, runsvdir, runsvchdir and utmpset.
    pub const USAGE_1: i32 = 1;
    /// Bad usage of svlogd (its usage is a fatal error, runit's 111).
    pub const SVLOGD_USAGE: i32 = 111;
    /// runsvdir cannot set itself up (C runsvdir's fatal code).
    pub const RUNSVDIR_FATAL: i32 = 100;
    /// Bad usage of runit-init, which prints the usage and exits 0 (runit-init(8)).
    pub const RUNIT_INIT_USAGE: i32 = 0;
    /// Bad usage of sv called as an init script (LSB).
    pub const LSB_USAGE: i32 = 2;
    /// sv's failures are counted in its exit code up to this many.
    pub const SV_MAX_FAILURES: i32 = 99;
    /// LSB `status`: the service runs.
    pub const LSB_RUNNING: i32 = 0;
    /// LSB `status`: the service does not run.
    pub const LSB_NOT_RUNNING: i32 = 3;
    /// LSB `status`: its state is unknown.
    pub const LSB_UNKNOWN: i32 = 4;

    /// Stage 1 exited so: skip stage 2, go to stage 3 (runit(8)).
    pub const STAGE1_TO_STAGE3: i32 = 100;
    /// Stage 2 exited so: run it again (runit(8)).
    pub const STAGE2_AGAIN: i32 = 111;
    /// A child of runsv that could not start exits so; runsv reads it as "./run exited 111"
    /// (runsv(8)).
    pub const RUNSV_CHILD_FAILED: i32 = 111;
    /// A child of runsvdir that could not exec runsv exits so (runit's fatal code).
    pub const RUNSVDIR_CHILD_FAILED: i32 = 100;
    /// PID 1's halter exits so when the kernel refused to halt.
    pub const HALT_REFUSED: i32 = 111;
    /// A child that could not exec and reported that to its parent.
    pub const EXEC_FAILED: i32 = 127;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_runits_words() {
        let f = Failure::sys("unable to open x", io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(f.to_string(), "unable to open x: file does not exist");
        assert_eq!(
            line(b"runsv a: ", Level::Warning, &f),
            b"runsv a: warning: unable to open x: file does not exist\n"
        );
        assert_eq!(
            line(b"svlogd: ", Level::Fatal, &"no functional log directories."),
            b"svlogd: fatal: no functional log directories.\n"
        );
        assert_eq!(
            line(b"- runit: ", Level::Plain, &Failure::plain("system halt.")),
            b"- runit: system halt.\n"
        );
    }
}
