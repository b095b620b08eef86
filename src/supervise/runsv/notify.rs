//! Readiness notification (all Unix).
//!
//! `notification-fd`, as s6 means it: the file holds a descriptor number N; `./run` gets the
//! write end of a pipe as fd N, and the first newline written there makes the run ready.
//! Bytes before it are ignored; the pipe closed without one means the run never becomes ready.
//!
//! `notification-socket` (an empty file): sd_notify. runsv makes a datagram socket for the
//! service (`platform::NotifySocket`) and tells `./run` its address in `NOTIFY_SOCKET`; each
//! datagram is parsed by [`parse_datagram`]. `timeout-watchdog` (milliseconds) adds
//! `WATCHDOG_USEC` and `WATCHDOG_PID`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::fail::{self, Failure};

/// The largest number accepted before asking the system (what `dup2` could ever give).
const FD_MAX: u64 = 1 << 20;

/// What a read of a notification pipe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A newline: ready. The pipe is done with.
    Ready,
    /// End of file without a newline: never ready for this run. The pipe is done with.
    Closed,
    /// Nothing that decides yet.
    Nothing,
}

/// The descriptor number `file` (`notification-fd` or `log/notification-fd`) declares, or
/// None when there is no such file or it declares nothing usable; the latter is said once
/// per start, in one line, and the run then goes without readiness.
pub fn declared(file: &str, label: &[u8]) -> Option<RawFd> {
    let text = read_declaration(file, label)?;
    match parse(&text) {
        Ok(n) => Some(n),
        Err(why) => {
            let shown = String::from_utf8_lossy(text.trim_ascii());
            let text = format!("./{file}: {why} ({shown:?}): starting without readiness");
            fail::warn(label, &Failure::plain(text));
            None
        }
    }
}

/// The contents of the service's file `file`; None when there is none (and, said in one
/// line, when it cannot be read).
fn read_declaration(file: &str, label: &[u8]) -> Option<Vec<u8>> {
    match std::fs::read(file) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => {
            fail::warn(label, &Failure::sys(format!("unable to read ./{file}"), e));
            None
        }
    }
}

/// A descriptor number of 3 or more that this process could open, from the file's text
/// (digits, then optional white space).
fn parse(text: &[u8]) -> Result<RawFd, String> {
    let digits = text.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 9 {
        return Err("not a descriptor number".into());
    }
    let n: u64 = digits.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0'));
    if n < 3 {
        return Err("0, 1 and 2 are the service's standard input, output and error".into());
    }
    let limit = open_files_limit().min(FD_MAX);
    if n >= limit {
        return Err(format!("above this system's limit of {limit} open files"));
    }
    RawFd::try_from(n).map_err(|_| "not a descriptor number".into())
}

/// The soft limit on open files (a child cannot be given a descriptor at or above it).
fn open_files_limit() -> u64 {
    crate::platform::get_rlimit(crate::platform::Resource::OpenFiles).map_or(FD_MAX, |l| l.soft)
}

/// The pipe of one run: runsv keeps the read end and watches it.
#[derive(Debug)]
pub struct Channel {
    read: OwnedFd,
}

impl Channel {
    /// A new pipe for a run that gets it as fd `n`: the channel, and the write end for the
    /// child, numbered above `n` (so placing the child's fds in order cannot overwrite it) and
    /// close-on-exec until the child places it.
    pub fn open(n: RawFd) -> io::Result<(Channel, OwnedFd)> {
        let (read, write) = crate::platform::nonblocking_pipe()?;
        // The service's end blocks, as any pipe a program is handed.
        crate::sys::set_nonblock(&write, false)?;
        // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor.
        let high = unsafe { libc::fcntl(write.as_raw_fd(), libc::F_DUPFD_CLOEXEC, n + 1) };
        if high < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `high` was just created and is owned by nobody else.
        let write = unsafe { OwnedFd::from_raw_fd(high) };
        Ok((Channel { read }, write))
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Reads what is there (a bounded amount per call, so a flood cannot hold runsv).
    pub fn read(&self) -> Heard {
        let mut buf = [0u8; 512];
        for _ in 0..8 {
            // SAFETY: read into a local buffer of its length.
            let n =
                unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            match n {
                0 => return Heard::Closed,
                n if n > 0 => {
                    let got = buf.get(..n.unsigned_abs()).unwrap_or_default();
                    if got.contains(&b'\n') {
                        return Heard::Ready;
                    }
                }
                _ => {
                    let e = io::Error::last_os_error();
                    if e.kind() == io::ErrorKind::Interrupted {
                        continue;
                    }
                    // EAGAIN: nothing more now; anything else will not get better.
                    return if e.kind() == io::ErrorKind::WouldBlock {
                        Heard::Nothing
                    } else {
                        Heard::Closed
                    };
                }
            }
        }
        Heard::Nothing
    }
}

/// The longest datagram read; a longer one is ignored whole (sd_notify's are a few lines).
pub const DATAGRAM_MAX: usize = 4096;

/// What one sd_notify datagram says: `KEY=VALUE` lines; unknown keys, and lines that are not
/// UTF-8 or have no `=`, are ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub ready: bool,
    pub reloading: bool,
    pub stopping: bool,
    pub watchdog: bool,
    /// MAINPID= was given (runsv supervises the process it started and ignores it).
    pub mainpid: bool,
    /// The last STATUS= text.
    pub status: Option<&'a str>,
}

/// Parses one datagram (at most [`DATAGRAM_MAX`] bytes; nothing here allocates).
pub fn parse_datagram(d: &[u8]) -> Message<'_> {
    let mut m = Message::default();
    for line in d.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else { continue };
        let Some((key, value)) = line.split_once('=') else { continue };
        match (key, value) {
            ("READY", "1") => m.ready = true,
            ("RELOADING", "1") => m.reloading = true,
            ("STOPPING", "1") => m.stopping = true,
            ("WATCHDOG", "1") => m.watchdog = true,
            ("MAINPID", _) => m.mainpid = true,
            ("STATUS", text) => m.status = Some(text),
            _ => {}
        }
    }
    m
}

/// The milliseconds `timeout-watchdog` declares (a positive number); None without the file,
/// and, said in one line, for anything else.
pub fn watchdog(file: &str, label: &[u8]) -> Option<std::time::Duration> {
    let text = read_declaration(file, label)?;
    let digits = text.trim_ascii();
    let ms = std::str::from_utf8(digits)
        .ok()
        .and_then(|t| t.parse::<u64>().ok())
        .filter(|&m| m > 0 && m <= 1 << 40 && digits.iter().all(u8::is_ascii_digit));
    if ms.is_none() {
        let shown = String::from_utf8_lossy(digits);
        let text = format!("./{file}: not a number of milliseconds ({shown:?}): no watchdog");
        fail::warn(label, &Failure::plain(text));
    }
    ms.map(std::time::Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams() {
        let m = parse_datagram(b"READY=1\nSTATUS=serving on :80\nX_NEW=1\nMAINPID=7");
        assert!(m.ready && m.mainpid && !m.reloading && !m.stopping && !m.watchdog);
        assert_eq!(m.status, Some("serving on :80"));
        let m = parse_datagram(b"RELOADING=1\nMONOTONIC_USEC=1\nSTATUS=a\nSTATUS=b\n");
        assert!(m.reloading && !m.ready);
        assert_eq!(m.status, Some("b"));
        assert_eq!(parse_datagram(b"READY=0\nREADY\n\xff\xfe=1\n"), Message::default());
        assert!(parse_datagram(b"WATCHDOG=1").watchdog && parse_datagram(b"STOPPING=1").stopping);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse(b"3\n"), Ok(3));
        assert_eq!(parse(b" 7 \n"), Ok(7));
        for bad in [&b""[..], b"\n", b"x", b"-3", b"3x", b"0", b"1", b"2", b"1234567890"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(format!("{}", open_files_limit().min(FD_MAX)).as_bytes()).is_err());
    }

    #[test]
    fn newline_makes_ready_and_eof_never() {
        let (ch, w) = Channel::open(5).unwrap();
        assert!(w.as_raw_fd() > 5);
        assert_eq!(ch.read(), Heard::Nothing);
        let mut f = std::fs::File::from(w);
        io::Write::write_all(&mut f, b"starting up").unwrap();
        assert_eq!(ch.read(), Heard::Nothing);
        io::Write::write_all(&mut f, b"\n").unwrap();
        assert_eq!(ch.read(), Heard::Ready);
        let (ch, w) = Channel::open(3).unwrap();
        let mut f = std::fs::File::from(w);
        io::Write::write_all(&mut f, b"no newline").unwrap();
        drop(f);
        assert_eq!(ch.read(), Heard::Closed);
    }
}
