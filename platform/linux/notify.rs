//! The sd_notify socket on Linux: a datagram socket with an abstract name (nothing in the file
//! system, so no path to reach, to clean up or to outgrow `sun_path`, and a service that
//! dropped its privileges can still send), and SO_PASSCRED, so that each datagram comes with
//! its sender's pid. runsv accepts a datagram only from the run it started or a descendant of
//! it ([`belongs_to`]): another user, or root from outside the service, cannot make it ready.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::child::Pid;
use crate::platform::unix::notify::{received, walk_control};

/// One service's notification socket.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    address: OsString,
}

impl Socket {
    /// A new socket for one service; `tag` (unique per runsv and service) names it.
    pub fn open(tag: &str) -> io::Result<Socket> {
        let name = format!("runit-rs/notify/{}/{tag}", std::process::id());
        // SAFETY: socket(2) only creates a descriptor.
        let raw = unsafe {
            libc::socket(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let on: libc::c_int = 1;
        // SAFETY: setsockopt with a pointer to an int and its size.
        let r = unsafe {
            libc::setsockopt(
                raw,
                libc::SOL_SOCKET,
                libc::SO_PASSCRED,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // An abstract name: a NUL, then the name (not NUL-terminated; the length says).
        let bytes = name.as_bytes();
        if bytes.len() + 1 > addr.sun_path.len() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "socket name too long"));
        }
        for (d, s) in addr.sun_path.iter_mut().skip(1).zip(bytes) {
            *d = *s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + 1 + bytes.len();
        // SAFETY: bind with a pointer to a sockaddr_un and a length within it.
        let r = unsafe {
            libc::bind(raw, (&addr as *const libc::sockaddr_un).cast(), len as libc::socklen_t)
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Socket { fd, address: format!("@{name}").into() })
    }

    /// What `NOTIFY_SOCKET` says (`@` for the abstract name's NUL, as sd_notify reads it).
    pub fn address(&self) -> &OsStr {
        &self.address
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// One datagram into `buf`: its full length (more than `buf` holds when it was cut) and
    /// its sender's pid. None when nothing is waiting. Descriptors that came with it are
    /// closed at once: that is what sd_notify's BARRIER=1 waits for, and keeping them would
    /// let any sender fill runsv's descriptor table.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, Option<Pid>)>> {
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // Room for the credentials and a few descriptors, aligned for cmsghdr; descriptors
        // beyond that the kernel drops itself (MSG_CTRUNC).
        let mut cmsg = [0u64; 32];
        // SAFETY: msghdr is plain data; all zeroes is a valid value.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1 as _;
        msg.msg_control = cmsg.as_mut_ptr().cast();
        // size_t with glibc, socklen_t with musl; 256 bytes fit either.
        msg.msg_controllen = std::mem::size_of_val(&cmsg) as _;
        let flags = libc::MSG_DONTWAIT | libc::MSG_TRUNC | libc::MSG_CMSG_CLOEXEC;
        // SAFETY: recvmsg with buffers that outlive the call; MSG_TRUNC makes it return the
        // datagram's full length.
        let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, flags) };
        let Some(n) = received(n)? else { return Ok(None) };
        let mut sender = None;
        walk_control(&msg, |level, kind, data| {
            if (level, kind) == (libc::SOL_SOCKET, libc::SCM_CREDENTIALS)
                && data.len() >= std::mem::size_of::<libc::ucred>()
            {
                // SAFETY: the message holds a whole ucred (checked); read unaligned.
                let cred: libc::ucred = unsafe { std::ptr::read_unaligned(data.as_ptr().cast()) };
                sender = (cred.pid > 0).then(|| Pid::from_raw(cred.pid));
            }
        });
        Ok(Some((n, sender)))
    }
}

/// Whether `sender` is `run` or one of its descendants (by the parent links in `/proc`).
pub fn belongs_to(sender: Pid, run: Pid) -> bool {
    let mut p = sender;
    // A chain this long is no service's; it also bounds a loop on a changing /proc.
    for _ in 0..64 {
        if p == run {
            return true;
        }
        match parent(p) {
            Some(pp) if pp.as_raw() > 1 => p = pp,
            _ => return false,
        }
    }
    false
}

/// The parent of `pid`, from `/proc/<pid>/stat` (the field after the state, after the
/// command name's closing parenthesis).
fn parent(pid: Pid) -> Option<Pid> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_whitespace().nth(1)?.parse().ok().map(Pid::from_raw)
}
