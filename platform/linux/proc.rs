//! Other processes, on Linux: who a pid is (its start time in clock ticks since boot, from
//! `/proc/<pid>/stat`, with the boot's random id), and an fd that tells when it exits
//! (pidfd_open(2), Linux 5.3), for processes that are not our children.

use std::fs;
use std::io::{self, Read};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::OnceLock;

/// `boot-id:start-ticks`, or None when `pid` is gone or a zombie.
pub fn ident(pid: crate::child::Pid) -> io::Result<Option<String>> {
    let stat = match read_small(&format!("/proc/{pid}/stat")) {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Without /proc mounted nothing can be told about any process.
            fs::metadata("/proc/self/stat")?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let Some(start) = start_ticks(&stat) else { return Ok(None) };
    Ok(Some(format!("{}:{start}", boot_id()?)))
}

/// The boot's random id, read once: runsv asks at every start of its service, and the id
/// cannot change while this process lives.
fn boot_id() -> io::Result<&'static str> {
    static BOOT: OnceLock<String> = OnceLock::new();
    if let Some(b) = BOOT.get() {
        return Ok(b);
    }
    let read = fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
    Ok(BOOT.get_or_init(|| read.trim().to_string()))
}

/// Reads a /proc file of a few hundred bytes with one or two read(2) calls on a stack buffer
/// (`fs::read` sizes its buffer from st_size, which is 0 there, and grows it step by step).
fn read_small(path: &str) -> io::Result<Vec<u8>> {
    let mut file = fs::File::open(path)?;
    let mut buf = [0u8; 1024];
    let mut out = Vec::new();
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Field 22 of `/proc/<pid>/stat` (starttime), None for a zombie or dead process. The command
/// name (field 2) may hold spaces and parentheses, so fields are counted after the last `)`.
fn start_ticks(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // Field 3, the state: Z (zombie) and X (dead) have exited already.
    if matches!(fields.next(), Some("Z" | "X") | None) {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// A pidfd: readable once `pid` exited (also when it is a zombie nobody reaps).
pub fn exit_fd(pid: crate::child::Pid) -> io::Result<OwnedFd> {
    let pid = pid.as_raw();
    // SAFETY: pidfd_open takes two integers and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::ENOSYS) {
            crate::platform::unsupported("pidfd_open")
        } else {
            e
        });
    }
    let fd = i32::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this fd (close-on-exec by design); nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_field() {
        let line = b"42 (a) b) (c) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987 0 0";
        assert_eq!(start_ticks(line), Some(987));
        assert_eq!(start_ticks(b"42 (x) Z 1 42 42 0 -1 4 1 0 0 0 0 0 0 0 20 0 1 0 987"), None);
        assert_eq!(start_ticks(b"garbage"), None);
    }

    #[test]
    fn own_process_is_known_and_stable() {
        let me = crate::child::Pid::this();
        let a = ident(me).unwrap().unwrap();
        assert_eq!(ident(me).unwrap(), Some(a));
        assert_eq!(ident(crate::child::Pid::from_raw(i32::MAX / 2)).unwrap(), None);
    }
}
