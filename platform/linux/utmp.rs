//! utmp and wtmp on Linux without glibc: musl keeps no utmp at all (its functions are no-ops),
//! so both calls fail with a clear error. glibc Linux has the utmpx backend, `platform/utmpx.rs`.

use std::io;

use crate::platform::UtmpError;

fn none() -> UtmpError {
    UtmpError::Io(io::Error::new(
        io::ErrorKind::Unsupported,
        "this libc keeps no utmp/wtmp (musl's utmp functions do nothing)",
    ))
}

pub fn utmp_logout(_line: &[u8]) -> Result<bool, UtmpError> {
    Err(none())
}

pub fn wtmp_logout(_line: &[u8]) -> Result<(), UtmpError> {
    Err(none())
}
