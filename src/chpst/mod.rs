//! chpst and its daemontools personalities (envdir, envuidgid, pgrphack, setuidgid, setlock,
//! softlimit): a [`Plan`] of process-state changes, applied in C runit's order, then exec
//! (all OSes; resource limits and -F/-I's namespaces go through the platform layer).

pub mod envdir;
pub mod ids;
pub mod limits;
pub mod namespace;
pub mod plan;

pub use namespace::Namespace;
pub use plan::{IdSpec, Lock, Plan};

pub use crate::child::Status;
pub use crate::fail::Failure;

/// Why [`Plan::run`] did not exec the program.
#[derive(Debug)]
pub enum Stop {
    /// Print the message (`chpst: fatal: `) and fail.
    Fatal(Failure),
    /// `setlock -x` and the lock is not to be had: exit 0 without a word.
    LockBusy,
    /// chpst -F or -I, in a process that stays chpst (the one outside the namespaces, or -F's
    /// PID 1): the process it waited for (PID 1, or -F's program) ended so; exit as it did.
    Ended(Status),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Fatal(f)
    }
}
