//! Program entry points: argument parsing, messages and exit codes (100 usage, 111 failure).

pub mod chpst;
pub mod runit;
pub mod runit_init;
pub mod runsv;
pub mod runsvchdir;
pub mod runsvdir;
pub mod sv;
pub mod svlogd;
pub mod utmpset;
