//! The sd_notify socket where the OS gives no sender credentials on datagrams (or has no
//! abstract socket names): a socket file in a directory of its own under `$TMPDIR` (else
//! `/tmp`), both named by 64 random bits. The directory is mode 0711, so nobody can list it,
//! and the socket 0666, so a service that dropped its privileges can still send: what keeps
//! others out is that only the service's processes were told the name (in `NOTIFY_SOCKET`,
//! which other users cannot read from a process's environment). Root can always find it.
//!
//! On FreeBSD each datagram also carries its sender's credentials (LOCAL_CREDS_PERSISTENT),
//! and only the run and its descendants are heard, as on Linux.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::child::Pid;

/// One service's notification socket; removed from the file system when dropped.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    address: OsString,
    dir: PathBuf,
}

impl Socket {
    /// A new socket for one service; `tag` goes into the names, for whoever looks.
    pub fn open(tag: &str) -> io::Result<Socket> {
        let base = std::env::var_os("TMPDIR").filter(|d| !d.is_empty()).unwrap_or("/tmp".into());
        Socket::open_in(Path::new(&base), tag)
    }

    /// The same under directory `base`.
    fn open_in(base: &Path, tag: &str) -> io::Result<Socket> {
        let dir = base.join(format!("runit-rs-notify.{tag}.{}", random_hex()?));
        let path = dir.join(random_hex()?);
        let addr = sockaddr(path.as_os_str())?;
        fs::DirBuilder::new().mode(0o711).create(&dir)?;
        // The mode asked for is cut by the umask.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o711))?;
        let made = bind(&addr).and_then(|fd| {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o666))?;
            Ok(fd)
        });
        match made {
            Ok(fd) => Ok(Socket { fd, address: path.into_os_string(), dir }),
            Err(e) => {
                let _ = fs::remove_file(&path);
                let _ = fs::remove_dir(&dir);
                Err(e)
            }
        }
    }

    /// What `NOTIFY_SOCKET` says.
    pub fn address(&self) -> &OsStr {
        &self.address
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// One datagram into `buf`: its full length (more than `buf` holds when it was cut) and
    /// its sender's pid. None when nothing is waiting.
    #[cfg(target_os = "freebsd")]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, Option<Pid>)>> {
        freebsd::recv(self.fd.as_raw_fd(), buf)
    }

    /// One datagram into `buf`: its full length (more than `buf` holds when it was cut) and
    /// the sender, which this OS does not tell. None when nothing is waiting.
    #[cfg(not(target_os = "freebsd"))]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, Option<Pid>)>> {
        // SAFETY: recv into a buffer of its length.
        let n = unsafe {
            libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT)
        };
        // A datagram that filled the buffer may have been cut: counted as longer.
        Ok(received(n)?.map(|n| (if n >= buf.len() { n + 1 } else { n }, None)))
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.address);
        let _ = fs::remove_dir(&self.dir);
    }
}

/// Where the OS names no sender, nothing can be said of one.
#[cfg(not(target_os = "freebsd"))]
pub fn belongs_to(sender: Pid, run: Pid) -> bool {
    sender == run
}

/// Whether `sender` is `run` or one of its descendants (by the parent links sysctl gives).
#[cfg(target_os = "freebsd")]
pub fn belongs_to(sender: Pid, run: Pid) -> bool {
    let mut p = sender;
    // A chain this long is no service's; it also bounds a loop on changing records.
    for _ in 0..64 {
        if p == run {
            return true;
        }
        match crate::platform::backend::proc::parent(p) {
            Some(pp) if pp.as_raw() > 1 => p = pp,
            _ => return false,
        }
    }
    false
}

/// FreeBSD's sender credentials on a datagram socket.
#[cfg(target_os = "freebsd")]
mod freebsd {
    use std::io;
    use std::os::fd::RawFd;

    use crate::child::Pid;

    /// Asks for a `sockcred2` with every datagram (FreeBSD 13 and later).
    pub fn ask_for_credentials(fd: RawFd) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: setsockopt with a pointer to an int and its size; level 0 is SOL_LOCAL.
        let r = unsafe {
            libc::setsockopt(
                fd,
                0,
                libc::LOCAL_CREDS_PERSISTENT,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// recvmsg with room for the credentials (and a few descriptors, closed at once, which
    /// is what sd_notify's BARRIER=1 waits for).
    pub fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<(usize, Option<Pid>)>> {
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        let mut cmsg = [0u64; 64];
        // SAFETY: msghdr is plain data; all zeroes is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cmsg.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cmsg) as libc::socklen_t;
        // SAFETY: recvmsg with buffers that outlive the call.
        let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) };
        let Some(n) = super::received(n)? else { return Ok(None) };
        let cut = msg.msg_flags & libc::MSG_TRUNC != 0;
        let mut sender = None;
        super::walk_control(&msg, |level, kind, data| {
            if (level, kind) == (libc::SOL_SOCKET, libc::SCM_CREDS2)
                && data.len() >= std::mem::size_of::<libc::sockcred2>()
            {
                // SAFETY: the message holds a whole sockcred2 (checked); read unaligned.
                let cred: libc::sockcred2 =
                    unsafe { std::ptr::read_unaligned(data.as_ptr().cast()) };
                sender = (cred.sc_pid > 0).then(|| Pid::from_raw(cred.sc_pid));
            }
        });
        Ok(Some((if cut { buf.len() + 1 } else { n }, sender)))
    }
}

/// A recv(2) or recvmsg(2) result: the length, None when nothing was waiting, or the error.
pub(crate) fn received(n: isize) -> io::Result<Option<usize>> {
    if n >= 0 {
        return Ok(Some(n.unsigned_abs()));
    }
    let e = io::Error::last_os_error();
    match e.kind() {
        io::ErrorKind::WouldBlock => Ok(None),
        _ => Err(e),
    }
}

/// Walks the control messages recvmsg(2) filled into `msg`: closes every descriptor passed
/// (SCM_RIGHTS: sd_notify's BARRIER=1 waits for that, and keeping them would let any sender
/// fill runsv's descriptor table), and hands every other message, as level, type and data, to
/// `each`.
#[allow(dead_code)] // used where credentials come as control messages (Linux, FreeBSD)
pub(crate) fn walk_control(
    msg: &libc::msghdr,
    mut each: impl FnMut(libc::c_int, libc::c_int, &[u8]),
) {
    // SAFETY: the CMSG macros walk the control buffer recvmsg filled, within msg_controllen;
    // each message's data lies within it, and descriptors are read unaligned, as packed.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            let data = libc::CMSG_DATA(c);
            let len = ((*c).cmsg_len as usize).saturating_sub(data.offset_from(c.cast()) as usize);
            let (level, kind) = ((*c).cmsg_level, (*c).cmsg_type);
            if (level, kind) == (libc::SOL_SOCKET, libc::SCM_RIGHTS) {
                for i in 0..len / std::mem::size_of::<libc::c_int>() {
                    libc::close(std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i)));
                }
            } else {
                each(level, kind, std::slice::from_raw_parts(data, len));
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
}

/// 16 hex digits from the system's random source.
fn random_hex() -> io::Result<String> {
    let mut b = [0u8; 8];
    fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// A `sockaddr_un` for `path`; an error naming the limit when it is too long.
fn sockaddr(path: &OsStr) -> io::Result<libc::sockaddr_un> {
    // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    let bytes = path.as_bytes();
    if bytes.len() >= addr.sun_path.len() {
        let text = format!(
            "{} is {} bytes, longer than a socket address holds ({})",
            path.to_string_lossy(),
            bytes.len(),
            addr.sun_path.len() - 1
        );
        return Err(io::Error::new(io::ErrorKind::InvalidInput, text));
    }
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(addr)
}

/// A non-blocking, close-on-exec datagram socket bound to `addr`.
fn bind(addr: &libc::sockaddr_un) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) only creates a descriptor.
    let raw = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` was just created and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    crate::sys::set_cloexec(fd.as_raw_fd(), true)?;
    crate::sys::set_nonblock(&fd, true)?;
    #[cfg(target_os = "freebsd")]
    freebsd::ask_for_credentials(fd.as_raw_fd())?;
    let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
    // SAFETY: bind with a pointer to a sockaddr_un and its size.
    let r = unsafe { libc::bind(fd.as_raw_fd(), (addr as *const libc::sockaddr_un).cast(), len) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::UnixDatagram;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("runit-notify-test-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        d
    }

    #[test]
    fn a_socket_in_a_private_directory_removed_when_dropped() {
        let base = scratch("ok");
        let s = Socket::open_in(&base, "main").unwrap();
        let path = PathBuf::from(s.address());
        let dir = path.parent().unwrap().to_path_buf();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o711);
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o666);
        let mut buf = [0u8; 16];
        assert!(s.recv(&mut buf).unwrap().is_none());
        UnixDatagram::unbound().unwrap().send_to(b"READY=1", &path).unwrap();
        assert_eq!(s.recv(&mut buf).unwrap(), Some((7, None)));
        UnixDatagram::unbound().unwrap().send_to(&[b'x'; 16], &path).unwrap();
        assert_eq!(s.recv(&mut buf).unwrap().map(|(n, _)| n > buf.len()), Some(true));
        drop(s);
        assert!(!path.exists() && !dir.exists());
        fs::remove_dir(&base).unwrap();
    }

    #[test]
    fn a_path_too_long_is_refused_with_the_limit() {
        let base = scratch("long");
        let deep = base.join("d".repeat(100));
        fs::create_dir(&deep).unwrap();
        let e = Socket::open_in(&deep, "main").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("longer than a socket address holds"), "{e}");
        // Nothing was left behind.
        assert_eq!(fs::read_dir(&deep).unwrap().count(), 0);
        fs::remove_dir_all(&base).unwrap();
    }
}
