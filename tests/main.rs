//! Black-box tests: they run the built binaries in temporary service directories and wait on
//! state, never on fixed sleeps. Differential tests compare with the C programs unpacked by
//! `ci/peers`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod chpst;
mod faults;
mod install;
mod platform;
mod runit;
mod runsv;
mod runsvdir;
mod sv;
mod svlogd;
