//! `sv`: controls and reports services supervised by runsv; the work is in `runit::sv`.

/// Entry point: the exit code of sv(8).
pub fn main() -> i32 {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    crate::sv::run(&argv)
}
