//! utmp and wtmp on Linux without glibc (the static musl build that ci/install installs).
//! musl's utmp functions do nothing, so the files are read and written here, in the record
//! layout glibc uses on Linux: that is what getty, login, who and last on the same machine read
//! and write. Each file is locked with a whole-file fcntl write lock while it is changed, the
//! lock glibc takes, so a concurrent login cannot interleave with us.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::platform::UtmpError;

use crate::platform::unix::utmp_files as files;

/// glibc's _PATH_UTMP and _PATH_WTMP.
const UTMP: &str = "/var/run/utmp";
const WTMP: &str = "/var/log/wtmp";
/// A wtmp created here is readable by root only, as with glibc.
const WTMP_MODE: u32 = 0o600;

// <utmp.h> record types and field sizes (the same on every Linux architecture).
const LOGIN_PROCESS: i16 = 6;
const USER_PROCESS: i16 = 7;
const DEAD_PROCESS: i16 = 8;
const UT_LINESIZE: usize = 32;

/// One record as glibc lays it out on Linux: times are 32-bit even on 64-bit systems. The
/// padding after `ut_type` is a field of its own, so the struct has no hidden padding bytes.
#[repr(C)]
#[derive(Clone, Copy)]
struct Record {
    ut_type: i16,
    pad: i16,
    ut_pid: i32,
    ut_line: [u8; UT_LINESIZE],
    ut_id: [u8; 4],
    ut_user: [u8; 32],
    ut_host: [u8; 256],
    ut_exit: [i16; 2],
    ut_session: i32,
    ut_tv_sec: i32,
    ut_tv_usec: i32,
    ut_addr_v6: [i32; 4],
    reserved: [u8; 20],
}

const SIZE: usize = std::mem::size_of::<Record>();
const _: () = assert!(SIZE == 384);

impl Record {
    fn empty() -> Record {
        Record::from_bytes(&[0; SIZE])
    }

    fn from_bytes(b: &[u8; SIZE]) -> Record {
        // SAFETY: Record is plain old data of exactly SIZE bytes, every bit pattern valid;
        // read_unaligned copes with the byte buffer's alignment.
        unsafe { std::ptr::read_unaligned(b.as_ptr().cast::<Record>()) }
    }

    fn to_bytes(self) -> [u8; SIZE] {
        // SAFETY: Record has no padding (every byte belongs to a field), so all SIZE bytes
        // are initialised.
        unsafe { std::mem::transmute::<Record, [u8; SIZE]>(self) }
    }

    /// Whether the line field holds `line` (NUL-padded, or filling the field).
    fn on_line(&self, line: &[u8]) -> bool {
        let len = self.ut_line.iter().position(|&c| c == 0).unwrap_or(UT_LINESIZE);
        self.ut_line.get(..len) == Some(line)
    }

    fn mark_dead(&mut self) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.ut_type = DEAD_PROCESS;
        // The record's time is 32 bits wide (until 2106 read unsigned, as glibc does).
        self.ut_tv_sec = now.as_secs() as u32 as i32;
        self.ut_tv_usec = now.subsec_micros() as i32;
    }
}

fn check_line(line: &[u8]) -> Result<(), UtmpError> {
    if line.len() > UT_LINESIZE {
        return Err(UtmpError::NameTooLong);
    }
    Ok(())
}

/// Waits for the whole-file write lock glibc's utmp functions take; released on close.
fn lock(f: &File) -> io::Result<()> {
    // SAFETY: flock is plain data; all zero is "whole file from offset 0".
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as _;
    fl.l_whence = libc::SEEK_SET as _;
    loop {
        // SAFETY: a valid descriptor and a valid flock for the call.
        if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETLKW, &fl) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub fn utmp_logout(line: &[u8]) -> Result<bool, UtmpError> {
    check_line(line)?;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(UTMP)
        .map_err(|e| UtmpError::Open(UTMP, e))?;
    lock(&f).map_err(UtmpError::Io)?;
    let mut buf = [0u8; SIZE];
    let mut at = 0u64;
    loop {
        match f.read_exact_at(&mut buf, at) {
            Ok(()) => {}
            // The end, or a torn last record glibc would not read either.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(UtmpError::Io(e)),
        }
        let mut rec = Record::from_bytes(&buf);
        // As getutxline: a login or user record on the line; and as C runit: one with a user.
        let live = rec.ut_type == LOGIN_PROCESS || rec.ut_type == USER_PROCESS;
        if live && rec.on_line(line) && rec.ut_user[0] != 0 {
            rec.ut_user.fill(0);
            rec.ut_host.fill(0);
            rec.mark_dead();
            f.write_all_at(&rec.to_bytes(), at).map_err(UtmpError::Io)?;
            return Ok(true);
        }
        at += SIZE as u64;
    }
}

/// Appends a logout record; `files::append_wtmp` reports a record that did not arrive whole.
pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
    check_line(line)?;
    let mut rec = Record::empty();
    for (d, s) in rec.ut_line.iter_mut().zip(line) {
        *d = *s;
    }
    rec.mark_dead();
    let bytes = rec.to_bytes();
    files::append_wtmp(WTMP, WTMP_MODE, SIZE as u64, || {
        // Failures show as a file that did not grow by a record.
        if let Ok(f) = OpenOptions::new().append(true).open(WTMP) {
            if lock(&f).is_ok() {
                let _ = std::io::Write::write_all(&mut &f, &bytes);
            }
        }
    })
}
