//! `svlogd`: runit's service logger (all OSes). See svlogd(8) and `crate::svlogd`.

use crate::fail::{self, exit};
use crate::svlogd::options::{Options, USAGE};
use crate::svlogd::run::{Fatal, Svlogd};
use crate::svlogd::LABEL;

/// Runs svlogd; returns the exit code: 0 after EOF or TERM, 100 for usage errors, 111 for
/// failures. C svlogd exits 111 on bad usage too; we keep runit's usual 100/111 split so a caller
/// can tell a typo from a broken system.
pub fn main() -> i32 {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    if let Some(code) = crate::cli::answer("svlogd", args.first().map(|a| a.as_os_str())) {
        return code;
    }
    let opts = match Options::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            fail::fatal(LABEL, &format_args!("{}; {USAGE}", e.0));
            return exit::USAGE;
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
