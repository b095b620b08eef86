//! `runsv`: starts and monitors one service and its optional log service (all Unix).

use crate::cli;
use crate::fail::{self, exit};
use crate::supervise::runsv::{label, Runsv, LOCK_WAIT_ENV};

/// Runs runsv; returns its exit code: 0 when told to exit, 111 on a fatal error, 1 on a usage
/// error (as C).
pub fn main() -> i32 {
    let mut args = std::env::args_os();
    let prog = args.next();
    let first = args.next();
    if let Some(code) = cli::answer_prerendered("runsv", cli::RUNSV_HELP, first.as_deref()) {
        return code;
    }
    let (Some(dir), None) = (first, args.next()) else {
        fail::usage(prog.as_deref(), "runsv", " dir");
        return exit::USAGE_1;
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
