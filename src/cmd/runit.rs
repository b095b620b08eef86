//! `runit`: process no 1, running /etc/runit/1, 2 and 3 (Linux, the BSDs, illumos).

use crate::fail::{self, exit};
use crate::init::say::LABEL;
use crate::init::End;

/// As PID 1 boots the system and, on a machine, never returns; whatever arguments the kernel
/// passed are ignored. Otherwise only answers --help and --version, and refuses to run with C
/// runit's words and exit code.
pub fn main() -> i32 {
    if !crate::platform::SUPPORTS_PID1 && std::env::args_os().len() < 2 {
        // macOS: launchd owns process 1 and cannot be replaced; say so instead of the generic
        // "must be run as process no 1", which would suggest trying harder.
        let os = crate::platform::OS_NAME;
        fail::fatal(LABEL, &format_args!("runit cannot be process 1 on {os}."));
        return exit::FAILURE;
    }
    if std::process::id() == 1 {
        return ended(crate::init::run());
    }
    let arg = std::env::args_os().nth(1);
    crate::cli::answer_prerendered("runit", crate::cli::RUNIT_HELP, arg.as_deref()).unwrap_or_else(
        || {
            fail::fatal(LABEL, &"must be run as process no 1.");
            exit::FAILURE
        },
    )
}

/// PID 1's exit code, in a container (on a machine it never ends).
pub fn ended(end: End) -> i32 {
    match end {
        End::NoEventLoop => exit::FAILURE,
        End::Halted => exit::OK,
    }
}
