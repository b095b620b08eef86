//! utmp and wtmp on Linux. glibc: the utmpx API for /var/run/utmp (it takes glibc's own record
//! locks, which getty, login and who honour) and `updwtmpx` for /var/log/wtmp. musl keeps no
//! utmp at all (its functions are no-ops), so there both calls fail with a clear error.

#[cfg(target_env = "gnu")]
pub use glibc::{utmp_logout, wtmp_logout};
#[cfg(not(target_env = "gnu"))]
pub use nolibc::{utmp_logout, wtmp_logout};

#[cfg(not(target_env = "gnu"))]
mod nolibc {
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
}

#[cfg(target_env = "gnu")]
mod glibc {
    use std::ffi::CString;
    use std::fs::OpenOptions;
    use std::io;
    use std::os::unix::fs::OpenOptionsExt;
    use std::time::{SystemTime, UNIX_EPOCH};

    use crate::platform::UtmpError;

    /// glibc's _PATH_UTMP and _PATH_WTMP.
    const UTMP: &str = "/var/run/utmp";
    const WTMP: &str = "/var/log/wtmp";

    extern "C" {
        // glibc has it (utmpx.h); the libc crate does not declare it for Linux.
        fn updwtmpx(wtmpx_file: *const libc::c_char, utmpx: *const libc::utmpx);
    }

    /// An all-zero record with `line` in its line field (unterminated when it fills the field,
    /// as utmp(5) allows).
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
        // setutxent silently falls back to read-only (or to nothing): open the file first so
        // a missing or read-only utmp is reported the way C runit reports it.
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(UTMP)
            .map_err(|e| UtmpError::Open(UTMP, e))?;
        let path = CString::new(UTMP).map_err(|e| UtmpError::Io(e.into()))?;
        // SAFETY: utmpxname copies the path; setutxent/endutxent only touch glibc's own state.
        // utmpset is single-threaded, so nobody else uses that state meanwhile.
        unsafe {
            libc::utmpxname(path.as_ptr());
            libc::setutxent();
        }
        let res = kill_first_login(&key);
        // SAFETY: as above.
        unsafe { libc::endutxent() };
        res
    }

    /// Finds the first login or user record on the key's line that has a user (as C runit
    /// skips records without one) and rewrites it as a dead process.
    fn kill_first_login(key: &libc::utmpx) -> Result<bool, UtmpError> {
        loop {
            // SAFETY: errno is thread-local; clearing it tells "no entry" from a read error.
            unsafe { *libc::__errno_location() = 0 };
            // SAFETY: `key` is a valid record; the result points to glibc's static buffer.
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
                // glibc hands back its cached entry when asked again unless the buffer is
                // cleared first (getutent(3), NOTES).
                // SAFETY: `found` is glibc's writable static record.
                unsafe { std::ptr::write_bytes(found, 0, 1) };
                continue;
            }
            rec.ut_user.fill(0);
            rec.ut_host.fill(0);
            mark_dead(&mut rec);
            // SAFETY: `rec` is a valid record; glibc rewrites the entry it just returned.
            if unsafe { libc::pututxline(&rec) }.is_null() {
                return Err(UtmpError::Io(io::Error::last_os_error()));
            }
            return Ok(true);
        }
    }

    pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
        let mut rec = record_for(line)?;
        mark_dead(&mut rec);
        // C runit creates a missing wtmp; updwtmpx would skip it silently, and it reports no
        // error at all: keep the file open to see the record arrive.
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(WTMP)
            .map_err(|e| UtmpError::Open(WTMP, e))?;
        let before = file.metadata().map_err(UtmpError::Io)?.len();
        let path = CString::new(WTMP).map_err(|e| UtmpError::Io(e.into()))?;
        // SAFETY: both pointers are valid for the call; updwtmpx copies the record.
        unsafe { updwtmpx(path.as_ptr(), &rec) };
        let after = file.metadata().map_err(UtmpError::Io)?.len();
        if after < before + std::mem::size_of::<libc::utmpx>() as u64 {
            return Err(UtmpError::Io(io::Error::other("record not written")));
        }
        Ok(())
    }
}
