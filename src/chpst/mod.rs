//! chpst and its daemontools personalities (envdir, envuidgid, pgrphack, setuidgid, setlock,
//! softlimit): a [`Plan`] of process-state changes, applied in C runit's order, then exec
//! (all OSes; resource limits go through the platform layer).

pub mod envdir;
pub mod getopt;
pub mod ids;
pub mod limits;
pub mod plan;

pub use plan::{IdSpec, Lock, Plan};

use std::io;

/// A fatal error: the text after `chpst: fatal: `; the program exits 111.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal(pub String);

impl Fatal {
    pub fn new(msg: String) -> Fatal {
        Fatal(msg)
    }

    /// `what: <error in C runit's words>`.
    pub fn sys(what: &str, e: &io::Error) -> Fatal {
        Fatal(format!("{what}: {}", crate::errstr::describe(e)))
    }
}

/// Why [`Plan::run`] did not exec the program.
#[derive(Debug)]
pub enum Stop {
    /// Print the message and exit 111.
    Fatal(Fatal),
    /// Exit with this code without a word (setlock -x when the lock is not to be had).
    Exit(i32),
}

impl From<Fatal> for Stop {
    fn from(f: Fatal) -> Stop {
        Stop::Fatal(f)
    }
}
