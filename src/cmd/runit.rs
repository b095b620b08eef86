//! `runit`: process no 1, running /etc/runit/1, 2 and 3 (Linux, the BSDs, illumos).

use std::io::Write;

/// As PID 1 boots the system and, on a machine, never returns; whatever arguments the kernel
/// passed are ignored. Otherwise only answers --help and --version, and refuses to run with C
/// runit's words and exit code.
pub fn main() -> i32 {
    if !crate::platform::SUPPORTS_PID1 && std::env::args_os().len() < 2 {
        // macOS: launchd owns process 1 and cannot be replaced; say so instead of the generic
        // "must be run as process no 1", which would suggest trying harder.
        let os = crate::platform::OS_NAME;
        let _ = writeln!(std::io::stderr(), "- runit: fatal: runit cannot be process 1 on {os}.");
        return 111;
    }
    if std::process::id() == 1 {
        return crate::init::run();
    }
    let arg = std::env::args_os().nth(1);
    crate::cli::answer_prerendered("runit", crate::cli::RUNIT_HELP, arg.as_deref()).unwrap_or_else(
        || {
            let _ = writeln!(std::io::stderr(), "- runit: fatal: must be run as process no 1.");
            111
        },
    )
}
