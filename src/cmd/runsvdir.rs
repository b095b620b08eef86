//! `runsvdir [-P] dir [log]`: starts and watches one runsv per service directory in `dir`
//! (all OSes; directory events where the platform has them). See `runit::svdir`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Instant;

use crate::fail::{self, exit, Level};
use crate::platform::{Native, Platform, ProcTitle};
use crate::svdir::effects::System;
use crate::svdir::rplog::{Rplog, MIN_LEN};
use crate::svdir::spawn::Spawner;
use crate::svdir::supervisor::{Log, Stop, Supervisor, DOT_EVERY, SIGNALS};
use crate::svdir::{redirect_stderr_to_pipe, show};

/// What the command line asked for.
struct Args {
    new_session: bool,
    svdir: PathBuf,
    /// Index (in argv) and text of the log argument.
    log: Option<(usize, OsString)>,
}

/// Parses as runit does: only the first argument may be an option; `-P` and `--` are taken
/// (anything after the `P` ignored), any other word starting with `-` is the directory.
fn parse(args: &[OsString]) -> Option<Args> {
    let mut i = 1;
    let mut new_session = false;
    let first = args.get(i)?.as_bytes();
    if first.first() == Some(&b'-') {
        match first.get(1) {
            Some(b'P') => {
                new_session = true;
                i += 1;
            }
            Some(b'-') => i += 1,
            _ => {}
        }
    }
    let svdir = PathBuf::from(args.get(i)?);
    let log = args.get(i + 1).map(|l| (i + 1, l.clone()));
    Some(Args { new_session, svdir, log })
}

pub fn main() -> i32 {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let first = argv.get(1).map(|a| a.as_os_str());
    if let Some(code) = crate::cli::answer_prerendered("runsvdir", crate::cli::RUNSVDIR_HELP, first)
    {
        return code;
    }
    let Some(args) = parse(&argv) else {
        // C's words, which leave the log argument out (runsvdir(8) and --help name it).
        fail::usage(argv.first().map(|a| a.as_os_str()), "runsvdir", " [-P] dir");
        return exit::USAGE_1;
    };
    let label = format!("runsvdir {}: ", show(args.svdir.as_os_str()));
    let label = label.as_bytes();
    // Our runsv then waits for a service still held by another runsv (one left by a runsvdir
    // that was killed) instead of failing and being restarted every second.
    std::env::set_var(crate::supervise::runsv::LOCK_WAIT_ENV, "1");
    let p = match Native::new(&SIGNALS) {
        Ok(p) => p,
        Err(e) => {
            fail::fatal(label, &fail::because("unable to set up signals", &e));
            return exit::RUNSVDIR_FATAL;
        }
    };
    let log = args.log.and_then(|(index, text)| setup_log(label, index, &text));
    let spawner = Spawner {
        new_session: args.new_session,
        signals: &SIGNALS,
        fatal: fail::head(label, Level::Fatal),
    };
    let fx = System::new(p, spawner, label.to_vec());
    let mut sup = Supervisor::new(fx, args.svdir, log);
    match sup.run() {
        Ok(Stop::Term) => exit::OK,
        Ok(Stop::Halted) => exit::FAILURE,
        Err(e) => {
            fail::fatal(label, &fail::because("unable to wait for events", &e));
            exit::FAILURE
        }
    }
}

/// The readproctitle log: stderr into a pipe, its newest bytes shown in argument `index`.
fn setup_log(label: &[u8], index: usize, text: &OsString) -> Option<Log> {
    if text.len() < MIN_LEN {
        fail::warn(label, &"log must have at least seven characters.");
        fail::warn(label, &"log service disabled.");
        return None;
    }
    // Found before stderr moves, so a failure can still be read on the old stderr.
    let title = match ProcTitle::for_arg(index) {
        Ok(t) => Some(t),
        Err(e) => {
            fail::warn(label, &fail::because("unable to show the log in the process title", &e));
            None
        }
    };
    match redirect_stderr_to_pipe() {
        Ok(pipe) => {
            let mut window = Rplog::new(text.as_bytes(), title);
            // The first dot goes up before any runsv exists, so it never lands after a
            // service's first words (runit writes it right after its first scan).
            window.push(b".");
            Some(Log { pipe, window, dot_at: Instant::now() + DOT_EVERY })
        }
        Err(e) => {
            fail::warn(label, &fail::because("unable to create pipe for log", &e));
            fail::warn(label, &"log service disabled.");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_like_runit() {
        assert!(parse(&a(&["runsvdir"])).is_none());
        assert!(parse(&a(&["runsvdir", "-P"])).is_none());
        let x = parse(&a(&["runsvdir", "-P", "/s", "log: ......."])).unwrap();
        assert!(x.new_session);
        assert_eq!(x.svdir, PathBuf::from("/s"));
        assert_eq!(x.log.unwrap().0, 3);
        let x = parse(&a(&["runsvdir", "-X"])).unwrap();
        assert_eq!(x.svdir, PathBuf::from("-X"));
        let x = parse(&a(&["runsvdir", "--", "-s"])).unwrap();
        assert!(!x.new_session);
        assert_eq!(x.svdir, PathBuf::from("-s"));
    }
}
