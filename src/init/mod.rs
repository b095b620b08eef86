//! runit as process no 1: the three stages of /etc/runit, shutdown requests by signal, and
//! reaping of every orphan (Linux, the BSDs, illumos; macOS compiles it but launchd is PID 1).

mod effects;
pub mod files;
pub mod finale;
mod machine;
pub mod say;
pub mod spawn;
pub mod stage;

pub use machine::{run, End};
