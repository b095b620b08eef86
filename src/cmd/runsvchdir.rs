//! `runsvchdir dir`: switches the runlevel, i.e. the `current` symlink in `$RUNSVDIR` (default
//! `/etc/runit/runsvdir`) that runsvdir's services directory leads to (all OSes).

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use crate::fail::{self, exit};
use crate::svdir::runlevel::{switch, Outcome};

const LABEL: &[u8] = b"runsvchdir: ";

/// Where the runlevels live unless `$RUNSVDIR` says otherwise (runit 2.2.0+).
const DEFAULT_DIR: &str = "/etc/runit/runsvdir";

pub fn main() -> i32 {
    let mut args = std::env::args_os();
    let prog = args.next();
    let first = args.next();
    if let Some(code) = crate::cli::answer("runsvchdir", first.as_deref()) {
        return code;
    }
    let Some(new) = first else {
        fail::usage(prog.as_deref(), "runsvchdir", " dir");
        return exit::USAGE_1;
    };
    let dir = std::env::var_os("RUNSVDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DIR), PathBuf::from);
    if new.as_encoded_bytes().first() == Some(&b'.') {
        fail::fatal(LABEL, &format_args!("{}: must not start with a dot.", new.to_string_lossy()));
        return exit::FAILURE;
    }
    // As runit: work inside the directory, so a relative `dir` argument is found there.
    if let Err(e) = std::env::set_current_dir(&dir) {
        let what = format!("unable to chdir: {}", dir.display());
        fail::fatal(LABEL, &fail::because(&what, &e));
        return exit::FAILURE;
    }
    match switch(std::path::Path::new("."), &new) {
        Ok(outcome) => report(&new, outcome),
        Err(f) => {
            fail::fatal(LABEL, &f);
            exit::FAILURE
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
    exit::OK
}
