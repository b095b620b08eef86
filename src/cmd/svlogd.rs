//! `svlogd`: runit's service logger (all OSes). See svlogd(8) and `crate::svlogd`.

use crate::errstr::describe;
use crate::platform::Native;
use crate::svlogd::options::{Options, USAGE};
use crate::svlogd::run::{Fatal, Svlogd};

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
            eprintln!("svlogd: fatal: {}; {USAGE}", e.0);
            return 100;
        }
    };
    let result = Svlogd::<Native>::new(&opts).and_then(|mut s| s.run());
    match result {
        Ok(()) => 0,
        Err(Fatal::NoDirs) => {
            eprintln!("svlogd: fatal: no functional log directories.");
            111
        }
        Err(Fatal::Io(what, e)) => {
            eprintln!("svlogd: fatal: {what}: {}", describe(&e));
            111
        }
    }
}
