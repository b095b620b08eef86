//! utmp and wtmp on OpenBSD and NetBSD through libutil's logout(3) and logwtmp(3), which keep the
//! old fixed-size utmp records that login, who and last read there. NetBSD keeps the utmpx
//! databases beside them, so logoutx/logwtmpx update those too.

use std::ffi::CString;
use std::io;

use crate::platform::UtmpError;

use crate::platform::unix::utmp_files as files;

/// <utmp.h> UT_LINESIZE: logout(3) compares at most this many bytes of the line.
const UT_LINESIZE: usize = 8;
const UTMP: &str = "/var/run/utmp";
const WTMP: &str = "/var/log/wtmp";

#[link(name = "util")]
extern "C" {
    /// Returns 1 when a record of `line` was marked logged out (the libc crate types it void).
    #[link_name = "logout"]
    fn util_logout(line: *const libc::c_char) -> libc::c_int;
    #[link_name = "logwtmp"]
    fn util_logwtmp(
        line: *const libc::c_char,
        name: *const libc::c_char,
        host: *const libc::c_char,
    );
}

cfg_if::cfg_if! {
    if #[cfg(target_os = "netbsd")] {
        /// <utmpx.h> DEAD_PROCESS on NetBSD (missing from the libc crate).
        const DEAD_PROCESS: libc::c_int = 8;

        #[link(name = "util")]
        extern "C" {
            #[link_name = "logoutx"]
            fn util_logoutx(line: *const libc::c_char, status: libc::c_int, kind: libc::c_int)
                -> libc::c_int;
        }

        /// The utmpx side of a logout; whether a record was found there.
        fn logout_x(line: &CString) -> bool {
            // SAFETY: `line` is a valid C string for the call.
            unsafe { util_logoutx(line.as_ptr(), 0, DEAD_PROCESS) == 1 }
        }

        fn logwtmp_x(line: &CString) {
            // SAFETY: all three are valid C strings for the call.
            unsafe { libc::logwtmpx(line.as_ptr(), c"".as_ptr(), c"".as_ptr(), 0, DEAD_PROCESS) };
        }
    } else {
        fn logout_x(_line: &CString) -> bool {
            false
        }

        fn logwtmp_x(_line: &CString) {}
    }
}

fn c_line(line: &[u8]) -> Result<CString, UtmpError> {
    if line.len() > UT_LINESIZE {
        return Err(UtmpError::NameTooLong);
    }
    CString::new(line).map_err(|e| UtmpError::Io(io::Error::new(io::ErrorKind::InvalidInput, e)))
}

pub fn utmp_logout(line: &[u8]) -> Result<bool, UtmpError> {
    let c = c_line(line)?;
    // logout(3) returns 0 alike for "no such line" and "cannot open utmp".
    files::check_utmp(UTMP)?;
    // SAFETY: `c` is a valid C string for the call.
    let old = unsafe { util_logout(c.as_ptr()) } == 1;
    let new = logout_x(&c);
    Ok(old || new)
}

/// Appends a logout record to wtmp with logwtmp(3), which reports nothing: the file must grow.
pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
    let c = c_line(line)?;
    files::append_wtmp(WTMP, files::DEFAULT_MODE, 1, || {
        // SAFETY: all three are valid C strings for the call.
        unsafe { util_logwtmp(c.as_ptr(), c"".as_ptr(), c"".as_ptr()) };
        logwtmp_x(&c);
    })
}
