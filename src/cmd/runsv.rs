//! `runsv`: starts and monitors one service and its optional log service (all Unix).

use std::io::Write;

use crate::cli;
use crate::fail::{self, exit};
use crate::supervise::runsv::{label, Runsv, LOCK_WAIT_ENV};

/// Runs runsv; returns its exit code: 0 when told to exit, 111 on a fatal error, 100 on a
/// usage error.
pub fn main() -> i32 {
    let mut args = std::env::args_os().skip(1);
    let first = args.next();
    if let Some(code) = cli::answer_prerendered("runsv", cli::RUNSV_HELP, first.as_deref()) {
        return code;
    }
    let (Some(dir), None) = (first, args.next()) else {
        let _ = std::io::stderr().write_all(b"usage: runsv dir\n");
        return exit::USAGE;
    };
    // Meant for this runsv only, not for the services it starts.
    let wait_lock = std::env::var_os(LOCK_WAIT_ENV).is_some();
    std::env::remove_var(LOCK_WAIT_ENV);
    let result = Runsv::setup(&dir, wait_lock).and_then(|mut r| r.run());
    match result {
        Ok(()) => exit::OK,
        Err(p) => {
            fail::fatal(&label(&dir), &p);
            exit::FAILURE
        }
    }
}
