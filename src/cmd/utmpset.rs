//! `utmpset [-w] line`: marks the user on terminal `line` as logged out in utmp and, with
//! `-w`, appends a logout record to wtmp. Exit codes as C runit: 1 for usage, 111 for failure.
//! The databases are reached through the platform layer: the C library's utmpx or libutil
//! calls, or on musl Linux the glibc-format files read and written directly.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

use crate::errstr::describe;
use crate::fail::{self, exit};
use crate::getopt::{Getopt, Opt};

const LABEL: &[u8] = b"utmpset: ";
use crate::platform::{self, UtmpError};

fn say(line: &str) {
    // Nothing better to do when stderr itself fails.
    let _ = io::stderr().write_all(line.as_bytes());
}

fn usage(prog: &str) -> i32 {
    fail::usage(Some(OsStr::new(prog)), "utmpset", " [-w] line");
    exit::USAGE_1
}

pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    let prog = args.first().map(|a| a.to_string_lossy().into_owned()).unwrap_or_default();
    let base = prog.rsplit('/').next().unwrap_or_default().to_string();
    let rest = args.get(1..).unwrap_or_default();
    if let Some(code) = crate::cli::answer("utmpset", rest.first().map(|a| a.as_os_str())) {
        return code;
    }
    let mut wtmp = false;
    let mut g = Getopt::new(rest, "wV");
    for o in g.by_ref() {
        match o {
            Opt::Flag(b'w') => wtmp = true,
            Opt::Flag(_) => {
                say(&format!("{}\n", fail::ID));
                return usage(&prog);
            }
            bad => {
                say(&format!("{}\n", bad.complaint(&base).unwrap_or_default()));
                return usage(&prog);
            }
        }
    }
    let Some(line) = g.rest().first() else { return usage(&prog) };
    logout(line.as_bytes(), wtmp)
}

fn logout(line: &[u8], wtmp: bool) -> i32 {
    let shown = String::from_utf8_lossy(line);
    match platform::utmp_logout(line) {
        Ok(true) => {}
        Ok(false) => {
            let what = format!("unable to logout line {shown} in utmp: no such entry");
            fail::warn(LABEL, &what);
            return exit::FAILURE;
        }
        Err(e) => {
            fail::fatal(LABEL, &failure(&e, &shown, "utmp"));
            return exit::FAILURE;
        }
    }
    if !wtmp {
        return exit::OK;
    }
    match platform::wtmp_logout(line) {
        Ok(()) => exit::OK,
        Err(e @ UtmpError::Open(..)) => {
            fail::fatal(LABEL, &failure(&e, &shown, "wtmp"));
            exit::FAILURE
        }
        // C runit words a failed wtmp write as a warning, still exiting 111.
        Err(e) => {
            fail::warn(LABEL, &failure(&e, &shown, "wtmp"));
            exit::FAILURE
        }
    }
}

fn failure(e: &UtmpError, line: &str, db: &str) -> String {
    match e {
        UtmpError::NameTooLong => format!("unable to logout line {line} in {db}: name too long"),
        UtmpError::Open(path, err) => format!("unable to open {path}: {}", describe(err)),
        UtmpError::Io(err) => format!("unable to logout line {line} in {db}: {}", describe(err)),
    }
}
