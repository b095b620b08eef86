//! utmp and wtmp through the POSIX utmpx API: Linux with glibc, FreeBSD (and DragonFly), macOS
//! and illumos.
//!
//! The logout record is written with `pututxline(DEAD_PROCESS)`. glibc takes its own record
//! locks there, which getty, login and who honour. Where the C library then logs the logout by
//! itself -- FreeBSD appends to `utx.log`, macOS to its wtmpx log -- [`wtmp_logout`] has nothing
//! left to do; glibc and illumos keep wtmp apart and get `updwtmpx`.

use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::errno::Errno;

use crate::platform::UtmpError;

use super::utmp_files as files;

cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        /// glibc's _PATH_UTMP and _PATH_WTMP.
        const UTMP: &str = "/var/run/utmp";
        const WTMP: &str = "/var/log/wtmp";
        /// A wtmp created here is readable by root only.
        const WTMP_MODE: u32 = 0o600;

        extern "C" {
            // glibc has it (utmpx.h); the libc crate does not declare it for Linux.
            fn updwtmpx(wtmpx_file: *const libc::c_char, utmpx: *const libc::utmpx);
        }

        /// Names the file for glibc's utmpx calls: the one [`files::check_utmp`] opened.
        fn select_utmp() -> Result<(), UtmpError> {
            let path = std::ffi::CString::new(UTMP).map_err(|e| UtmpError::Io(e.into()))?;
            // SAFETY: utmpxname copies the path; it only touches glibc's own state, which
            // nobody else uses meanwhile in single-threaded utmpset.
            unsafe { libc::utmpxname(path.as_ptr()) };
            Ok(())
        }
    } else if #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))] {
        /// utx.active: the current logins (utmpx(5) on FreeBSD).
        const UTMP: &str = "/var/run/utx.active";
    } else if #[cfg(apple)] {
        const UTMP: &str = "/var/run/utmpx";
    } else {
        const UTMP: &str = "/var/adm/utmpx";
        const WTMP: &str = "/var/adm/wtmpx";
        const WTMP_MODE: u32 = files::DEFAULT_MODE;

        use libc::updwtmpx;
    }
}

/// The default utmpx database is the one [`files::check_utmp`] opened.
#[cfg(not(target_os = "linux"))]
fn select_utmp() -> Result<(), UtmpError> {
    Ok(())
}

/// An all-zero record with `line` in its line field (unterminated when it fills the field, as
/// utmp(5) allows).
fn record_for(line: &[u8]) -> Result<libc::utmpx, UtmpError> {
    // SAFETY: utmpx is plain old data; all zero bytes is a valid (empty) record.
    let mut rec: libc::utmpx = unsafe { std::mem::zeroed() };
    if line.len() > rec.ut_line.len() {
        return Err(UtmpError::NameTooLong);
    }
    for (dst, src) in rec.ut_line.iter_mut().zip(line) {
        *dst = *src as libc::c_char;
    }
    Ok(rec)
}

fn mark_dead(rec: &mut libc::utmpx) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rec.ut_type = libc::DEAD_PROCESS;
    rec.ut_tv.tv_sec = now.as_secs() as _;
    rec.ut_tv.tv_usec = now.subsec_micros() as _;
}

pub fn utmp_logout(line: &[u8]) -> Result<bool, UtmpError> {
    let key = record_for(line)?;
    files::check_utmp(UTMP)?;
    select_utmp()?;
    // SAFETY: setutxent/endutxent only touch the C library's own state; utmpset is
    // single-threaded, so nobody else uses that state meanwhile.
    unsafe { libc::setutxent() };
    let res = kill_first_login(&key);
    // SAFETY: as above.
    unsafe { libc::endutxent() };
    res
}

/// Finds the first login or user record on the key's line that has a user (C runit skips the
/// others) and rewrites it as a dead process.
fn kill_first_login(key: &libc::utmpx) -> Result<bool, UtmpError> {
    loop {
        // Cleared so that a null result tells "no entry" from a read error.
        Errno::clear();
        // SAFETY: `key` is a valid record; the result points to the library's static buffer.
        let found = unsafe { libc::getutxline(key) };
        if found.is_null() {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(0) | Some(libc::ESRCH) => Ok(false),
                _ => Err(UtmpError::Io(e)),
            };
        }
        // SAFETY: non-null results point to a valid record until the next utmpx call.
        let mut rec = unsafe { *found };
        if rec.ut_user[0] == 0 {
            // glibc and the SysV-style library of illumos hand back the cached entry when asked
            // again unless it is cleared first (getutent(3), NOTES); elsewhere clearing the
            // static buffer is harmless.
            // SAFETY: `found` is the library's writable static record.
            unsafe { std::ptr::write_bytes(found, 0, 1) };
            continue;
        }
        rec.ut_user.fill(0);
        rec.ut_host.fill(0);
        mark_dead(&mut rec);
        // SAFETY: `rec` is a valid record; the library rewrites the entry with the same id.
        if unsafe { libc::pututxline(&rec) }.is_null() {
            return Err(UtmpError::Io(io::Error::last_os_error()));
        }
        return Ok(true);
    }
}

cfg_if::cfg_if! {
    if #[cfg(any(target_os = "linux", solarish))] {
        /// Appends a logout record to wtmp with updwtmpx, which reports nothing: the record's
        /// size must arrive.
        pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
            let mut rec = record_for(line)?;
            mark_dead(&mut rec);
            let path = std::ffi::CString::new(WTMP).map_err(|e| UtmpError::Io(e.into()))?;
            let size = std::mem::size_of::<libc::utmpx>() as u64;
            files::append_wtmp(WTMP, WTMP_MODE, size, || {
                // SAFETY: both pointers are valid for the call; updwtmpx copies the record (illumos
                // types it mutable, glibc const).
                unsafe { updwtmpx(path.as_ptr(), std::ptr::addr_of_mut!(rec)) };
            })
        }
    } else {
        /// pututxline in [`utmp_logout`] already logged the logout (FreeBSD utx.log, macOS
        /// wtmpx), and there is no call to log it alone; only the line is checked.
        pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
            record_for(line).map(drop)
        }
    }
}
