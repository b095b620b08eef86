//! `sv`: controls and reports services supervised by runsv; the work is in `runit::sv`.

use std::os::unix::ffi::OsStrExt;

use crate::cli;

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
    answered.unwrap_or_else(|| crate::sv::run(&argv))
}
