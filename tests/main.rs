//! Black-box tests: they run the built binaries in temporary service directories and wait on
//! state, never on fixed sleeps. Differential tests compare with the C programs unpacked by
//! `ci/peers`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod util;

mod chpst;
// chpst -F and -I: PID and mount namespaces.
#[cfg(pid_namespaces)]
mod chpst_ns;
mod cli;
// cgroup v2 exists on Linux only.
#[cfg(cgroups)]
mod containment;
mod faults;
mod install;
mod json;
mod malformed;
mod platform;
mod policy;
mod readiness;
// Boots runit as PID 1 of a PID + mount namespace.
#[cfg(pid_namespaces)]
mod runit;
mod runsv;
mod runsvdir;
mod security;
mod sv;
mod svlogd;
