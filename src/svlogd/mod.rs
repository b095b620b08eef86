//! svlogd, runit's logger: reads log lines from stdin and writes them to rotated log
//! directories (all OSes; the event loop comes from `platform`).
//!
//! The modules split the work the way data flows: `options` and `config` say what to do,
//! `feed` cuts stdin into lines and decides per directory what each line becomes, `outq` holds
//! each directory's bytes and the points where C svlogd would rotate, `logdir` owns the files of
//! one directory, `processor` runs `!processor` programs, and `run` is the event loop.

/// `svlogd: `, the start of every line svlogd writes.
pub const LABEL: &[u8] = b"svlogd: ";

pub mod config;
pub mod dirfd;
pub mod feed;
pub mod logdir;
pub mod options;
pub mod outq;
pub mod pattern;
pub mod processor;
pub mod run;
pub mod stamp;
pub mod udp;
