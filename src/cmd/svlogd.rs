//! `svlogd`: runit's service logger (all OSes). See svlogd(8) and `crate::svlogd`.

use crate::fail::{self, exit, Level};
use crate::svlogd::options::{Options, USAGE};
use crate::svlogd::run::{Fatal, Svlogd};
use crate::svlogd::LABEL;

/// Runs svlogd; returns the exit code: 0 after EOF or TERM, 111 for failures and, as in C, for
/// bad usage.
pub fn main() -> i32 {
    let mut args: Vec<_> = std::env::args_os().collect();
    let prog = (!args.is_empty()).then(|| args.remove(0));
    if let Some(code) = crate::cli::answer("svlogd", args.first().map(|a| a.as_os_str())) {
        return code;
    }
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            if let Some(note) = e.0 {
                fail::say(b"", Level::Plain, &note);
            }
            fail::usage(prog.as_deref(), "svlogd", USAGE);
            return exit::SVLOGD_USAGE;
        }
    };
    let result = Svlogd::new(&opts).and_then(|mut s| s.run());
    match result {
        Ok(()) => exit::OK,
        Err(Fatal::NoDirs) => {
            fail::fatal(LABEL, &"no functional log directories.");
            exit::FAILURE
        }
        Err(Fatal::Io(f)) => {
            fail::fatal(LABEL, &f);
            exit::FAILURE
        }
    }
}
