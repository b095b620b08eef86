//! `sv`: controls and reports services supervised by runsv; the work is in `runit::sv`.

use std::os::unix::ffi::OsStrExt;

use crate::cli;
use crate::fail::exit;
use crate::sv::{LsbStatus, Outcome};

/// Entry point: the exit code of sv(8).
pub fn main() -> i32 {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let first = argv.get(1).map(|a| a.as_os_str());
    let prog = crate::sv::args::base_name(argv.first().map_or(b"sv".as_slice(), |a| a.as_bytes()));
    let answered = if prog == b"sv" {
        cli::answer("sv", first)
    } else {
        // Called as an init script: help for that script.
        cli::answer_with(first, || Some(cli::sv_lsb(&String::from_utf8_lossy(&prog))))
    };
    answered.unwrap_or_else(|| code(crate::sv::run(&argv)))
}

/// sv(8)'s exit codes: 100 on bad usage (2 as an init script); otherwise the number of
/// services that failed, at most 99; LSB `status` answers 0, 3 or 4.
fn code(outcome: Outcome) -> i32 {
    match outcome {
        Outcome::Usage { lsb: false } => exit::USAGE,
        Outcome::Usage { lsb: true } => exit::LSB_USAGE,
        Outcome::Done { failures } => {
            i32::try_from(failures).unwrap_or(i32::MAX).min(exit::SV_MAX_FAILURES)
        }
        Outcome::Lsb(LsbStatus::Running) => exit::LSB_RUNNING,
        Outcome::Lsb(LsbStatus::NotRunning) => exit::LSB_NOT_RUNNING,
        Outcome::Lsb(LsbStatus::Unknown) => exit::LSB_UNKNOWN,
    }
}
