//! `runsvchdir dir`: switches the runlevel, i.e. the `current` symlink in `$RUNSVDIR` (default
//! `/etc/runit/runsvdir`) that runsvdir's services directory leads to (all OSes).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use crate::errstr;
use crate::svdir::runlevel::{switch, Outcome};
use crate::svdir::say;

/// Where the runlevels live unless `$RUNSVDIR` says otherwise (runit 2.2.0+).
const DEFAULT_DIR: &str = "/etc/runit/runsvdir";

pub fn main() -> i32 {
    let first = std::env::args_os().nth(1);
    if let Some(code) = crate::cli::answer("runsvchdir", first.as_deref()) {
        return code;
    }
    // Exit 100 as runsvchdir(8) says and as every runit-rs program on bad usage (C exits 1).
    let Some(new) = first else {
        say("usage: runsvchdir dir\n");
        return 100;
    };
    let dir = std::env::var_os("RUNSVDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
    if new.as_encoded_bytes().first() == Some(&b'.') {
        say(&format!("runsvchdir: fatal: {}: must not start with a dot.", new.to_string_lossy()));
        return 111;
    }
    // As runit: work inside the directory, so a relative `dir` argument is found there.
    if let Err(e) = std::env::set_current_dir(&dir) {
        let err = errstr::describe(&e);
        say(&format!("runsvchdir: fatal: unable to chdir: {}: {err}", dir.display()));
        return 111;
    }
    match switch(std::path::Path::new("."), &new) {
        Ok(outcome) => report(&new, outcome),
        Err(f) => {
            match f.err {
                Some(e) => say(&format!("runsvchdir: fatal: {}: {}", f.what, errstr::describe(&e))),
                None => say(&format!("runsvchdir: fatal: {}", f.what)),
            }
            111
        }
    }
}

fn report(new: &OsString, outcome: Outcome) -> i32 {
    let what = match outcome {
        Outcome::AlreadyCurrent => "current.",
        Outcome::Switched => "now current.",
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "runsvchdir: {}: {what}", new.to_string_lossy());
    let _ = out.flush();
    0
}
