//! sv's standard output, buffered and flushed at the same points as the C program's, plus the
//! failure count that becomes the exit code (all OSes).
//!
//! Lines are built from bytes: service names need not be UTF-8.

use std::io::{self, Write};

use crate::errstr::describe;

pub const OK: &[u8] = b"ok: ";
pub const FAIL: &[u8] = b"fail: ";
pub const WARN: &[u8] = b"warning: ";
pub const TIMEOUT: &[u8] = b"timeout: ";
pub const KILL: &[u8] = b"kill: ";

/// Buffered standard output and the number of failures so far.
#[derive(Debug, Default)]
pub struct Out {
    buf: Vec<u8>,
    /// +1 per failure or warning, as C's `rc`.
    pub failures: u32,
    /// `-j`: messages become JSON objects (see `super::json`).
    pub json: bool,
    /// Messages are counted but not printed.
    silent: bool,
}

impl Out {
    /// Appends to the current line.
    pub fn puts(&mut self, s: &[u8]) {
        self.buf.extend_from_slice(s);
    }

    /// Writes out what is buffered. A closed or full stdout is not sv's failure to report.
    pub fn flush(&mut self) {
        let mut o = io::stdout().lock();
        let _ = o.write_all(&self.buf);
        let _ = o.flush();
        self.buf.clear();
    }

    /// One message line about `label` (a service, or `service/log`): `<prefix><label>: <msg>`,
    /// then `: <error>` when there is one.
    pub fn line(&mut self, prefix: &[u8], label: &[u8], msg: &str, err: Option<&io::Error>) {
        if self.silent {
            return;
        }
        if self.json {
            let text = match err {
                Some(e) => format!("{msg}: {}", describe(e)),
                None => msg.to_owned(),
            };
            let line = if prefix == OK {
                super::json::message(label, &text)
            } else {
                super::json::error(label, &text)
            };
            return self.object(&line);
        }
        self.puts(prefix);
        self.puts(label);
        self.puts(b": ");
        self.puts(msg.as_bytes());
        if let Some(e) = err {
            self.puts(b": ");
            self.puts(describe(e).as_bytes());
        }
        self.puts(b"\n");
        self.flush();
    }

    pub fn fail(&mut self, label: &[u8], msg: &str, err: Option<&io::Error>) {
        self.failures += 1;
        self.line(FAIL, label, msg, err);
    }

    pub fn warn(&mut self, label: &[u8], msg: &str, err: Option<&io::Error>) {
        self.failures += 1;
        self.line(WARN, label, msg, err);
    }

    pub fn ok(&mut self, label: &[u8], msg: &str) {
        self.line(OK, label, msg, None);
    }

    /// One JSON object, on its own line.
    pub fn object(&mut self, line: &str) {
        self.puts(line.as_bytes());
        self.puts(b"\n");
        self.flush();
    }

    /// Stops (or resumes) printing messages, which are still counted; returns the old state.
    pub fn quiet(&mut self, on: bool) -> bool {
        std::mem::replace(&mut self.silent, on)
    }
}

/// A warning on standard error, unbuffered (C writes these with its own flush):
/// `warning: unable to <what> <name>/<file>: <error>`.
pub fn warn_stderr(what: &str, name: &[u8], file: &str, err: &io::Error) {
    let mut line = Vec::with_capacity(64);
    line.extend_from_slice(WARN);
    line.extend_from_slice(what.as_bytes());
    line.push(b' ');
    line.extend_from_slice(name);
    line.push(b'/');
    line.extend_from_slice(file.as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(describe(err).as_bytes());
    line.push(b'\n');
    let _ = io::stderr().lock().write_all(&line);
}
