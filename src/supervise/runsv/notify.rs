//! Readiness notification through `notification-fd`, as s6 means it (all Unix): the file holds
//! a descriptor number N; `./run` gets the write end of a pipe as fd N, and the first newline
//! written there makes the run ready. Bytes before it are ignored; the pipe closed without one
//! means the run never becomes ready.

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
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            fail::warn(label, &Failure::sys(format!("unable to read ./{file}"), e));
            return None;
        }
    };
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
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(FD_MAX, |(soft, _)| soft)
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

#[cfg(test)]
mod tests {
    use super::*;

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
