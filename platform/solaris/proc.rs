//! Other processes, on illumos and Solaris: who a pid is (its absolute start time, `pr_start`
//! of `/proc/<pid>/psinfo`). There is no descriptor that tells when a process that is not our
//! child exits, so `exit_fd` answers `Unsupported` and the caller re-checks on a deadline.
//!
//! psinfo_t is read at fixed offsets of its 64-bit layout (<sys/procfs.h>): `pr_nlwp` at 4,
//! `pr_pid` at 8, `pr_start` (seconds, nanoseconds) at 88. The record names its own pid, so a
//! layout that is not the one expected shows as a pid that does not match, and the answer is
//! then `Unsupported` rather than a wrong identity.

use std::io::{self, Read};
use std::os::fd::OwnedFd;

use crate::platform::unsupported;

const NLWP: usize = 4;
const PID: usize = 8;
const START: usize = 88;
/// Enough of the record for the fields above.
const NEED: usize = START + 16;

/// `seconds.nanoseconds` of the start, or None when `pid` is gone or a zombie (no LWP left).
pub fn ident(pid: crate::child::Pid) -> io::Result<Option<String>> {
    let mut buf = [0u8; NEED];
    let mut f = match std::fs::File::open(format!("/proc/{pid}/psinfo")) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Err(e) = f.read_exact(&mut buf) {
        // A process that ended between the open and the read.
        return if e.raw_os_error() == Some(libc::ENOENT) { Ok(None) } else { Err(e) };
    }
    if i32_at(&buf, PID) != Some(pid.as_raw()) {
        return Err(unsupported("reading psinfo of this layout"));
    }
    if i32_at(&buf, NLWP) == Some(0) {
        return Ok(None);
    }
    match (i64_at(&buf, START), i64_at(&buf, START + 8)) {
        (Some(sec), Some(nsec)) => Ok(Some(format!("{sec}.{nsec:09}"))),
        _ => Err(unsupported("reading psinfo of this layout")),
    }
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn i64_at(b: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

pub fn exit_fd(_pid: crate::child::Pid) -> io::Result<OwnedFd> {
    Err(unsupported("waiting for a process that is not a child"))
}
