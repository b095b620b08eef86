//! `runit`: process no 1, running /etc/runit/1, 2 and 3 (Linux, the BSDs, illumos).

use std::io::Write;

/// Refuses to run as anything but PID 1, with C runit's words and exit code; otherwise boots
/// the system and, on a machine, never returns.
pub fn main() -> i32 {
    if std::process::id() != 1 {
        let _ = writeln!(std::io::stderr(), "- runit: fatal: must be run as process no 1.");
        return 111;
    }
    crate::init::run()
}
