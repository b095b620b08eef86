//! runit in Rust: the portable core shared by every program. Each program's entry point lives in
//! `cmd`; the kernel-facing parts live behind `platform`.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod child;
pub mod chpst;
pub mod cli;
pub mod cmd;
pub mod errstr;
pub mod fail;
pub mod flavour;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod getopt;
pub mod init;
pub mod platform;
pub mod supervise;
pub mod sv;
pub mod svdir;
pub mod svlogd;
pub mod sys;
pub mod tai;
