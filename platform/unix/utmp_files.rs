//! The checks around the C library's utmp and wtmp calls, which report no error of their own:
//! shared by every utmp backend (glibc Linux, the BSDs, macOS, illumos).

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;

use crate::platform::UtmpError;

/// The mode OpenOptions creates files with unless told otherwise (before the umask).
// Read by the utmpx backend on illumos and the libutil one on OpenBSD and NetBSD.
#[cfg_attr(not(any(target_os = "openbsd", target_os = "netbsd", solarish)), allow(dead_code))]
pub const DEFAULT_MODE: u32 = 0o666;

/// Opens utmp for reading and writing (and closes it again), so that a missing or read-only
/// database is reported, as C runit reports it, before library calls that would say nothing.
// The Linux backend without glibc opens utmp itself, keeping the descriptor for its writes.
#[cfg_attr(all(target_os = "linux", not(target_env = "gnu")), allow(dead_code))]
pub fn check_utmp(path: &'static str) -> Result<(), UtmpError> {
    OpenOptions::new().read(true).write(true).open(path).map_err(|e| UtmpError::Open(path, e))?;
    Ok(())
}

/// Appends a record to wtmp with `append`, creating wtmp with `mode` if it is missing (as C
/// runit does; the library calls skip a missing file). They report nothing either, so the file
/// is kept open and must grow by at least `min` bytes.
// FreeBSD and macOS keep no wtmp of their own to append to.
#[cfg_attr(any(target_os = "freebsd", target_os = "dragonfly", apple), allow(dead_code))]
pub fn append_wtmp(
    path: &'static str,
    mode: u32,
    min: u64,
    append: impl FnOnce(),
) -> Result<(), UtmpError> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .open(path)
        .map_err(|e| UtmpError::Open(path, e))?;
    let before = file.metadata().map_err(UtmpError::Io)?.len();
    append();
    let after = file.metadata().map_err(UtmpError::Io)?.len();
    if after < before + min {
        return Err(UtmpError::Io(io::Error::other("record not written")));
    }
    Ok(())
}
