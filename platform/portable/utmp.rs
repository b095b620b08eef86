//! utmp and wtmp on systems without a backend for them (none of the supported OSes): each call
//! answers `Unsupported` naming the OS, so utmpset never reports success for work it did not do.

use crate::platform::{unsupported, UtmpError};

pub fn utmp_logout(_line: &[u8]) -> Result<bool, UtmpError> {
    Err(UtmpError::Io(unsupported("updating utmp")))
}

pub fn wtmp_logout(_line: &[u8]) -> Result<(), UtmpError> {
    Err(UtmpError::Io(unsupported("updating wtmp")))
}
