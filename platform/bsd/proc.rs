//! Other processes, on FreeBSD, NetBSD, OpenBSD and macOS: who a pid is (its absolute start
//! time, from sysctl KERN_PROC / KERN_PROC2 or macOS's proc_pidinfo), and an fd that tells when
//! it exits (a kqueue of its own holding EVFILT_PROC NOTE_EXIT, which works for any process
//! we may signal; a kqueue fd is itself readable while it has events, so any event loop can
//! wait on it). Other BSDs answer `Unsupported`.

use std::io;
use std::os::fd::OwnedFd;

use nix::sys::event::{EvFlags, EventFilter, FilterFlag, KEvent, Kqueue};

/// `seconds.microseconds` of the start, or None when `pid` is gone or a zombie.
pub fn ident(pid: crate::child::Pid) -> io::Result<Option<String>> {
    Ok(start(pid.as_raw())?.map(|(sec, usec)| format!("{sec}.{usec:06}")))
}

/// A kqueue that becomes readable once `pid` exits.
pub fn exit_fd(pid: crate::child::Pid) -> io::Result<OwnedFd> {
    let kq = Kqueue::new()?;
    let ev = KEvent::new(
        pid.as_raw() as usize,
        EventFilter::EVFILT_PROC,
        EvFlags::EV_ADD | EvFlags::EV_ONESHOT,
        FilterFlag::NOTE_EXIT,
        0,
        0,
    );
    kq.kevent(&[ev], &mut [], None)?;
    Ok(OwnedFd::from(kq))
}

/// The state value of a zombie (SZOMB in <sys/proc.h>, 5 on each of these systems).
const ZOMBIE: i64 = 5;

/// Reads one process record by sysctl into `T`; None when there is no such process.
///
/// # Safety
/// `T` must be the C record the sysctl `mib` fills in.
#[cfg(any(target_os = "freebsd", target_os = "netbsd", target_os = "openbsd"))]
unsafe fn sysctl_record<T>(mib: &mut [libc::c_int]) -> io::Result<Option<T>> {
    let mut rec = std::mem::MaybeUninit::<T>::zeroed();
    let mut len = std::mem::size_of::<T>();
    // SAFETY: the buffer is `len` bytes of `T`, as the caller's mib asks the kernel for.
    let r = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            mib.len() as libc::c_uint,
            rec.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if r == -1 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ESRCH) { Ok(None) } else { Err(e) };
    }
    if len < std::mem::size_of::<T>() {
        return Ok(None);
    }
    // SAFETY: the kernel filled in a whole record (checked just above); zeroed before.
    Ok(Some(unsafe { rec.assume_init() }))
}

// time_t and suseconds_t are 32 bits on some FreeBSD targets, 64 on others.
#[cfg(target_os = "freebsd")]
#[allow(clippy::unnecessary_cast)]
fn start(pid: libc::pid_t) -> io::Result<Option<(i64, i64)>> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid];
    // SAFETY: KERN_PROC_PID fills in one kinfo_proc.
    let Some(kp) = (unsafe { sysctl_record::<libc::kinfo_proc>(&mut mib) })? else {
        return Ok(None);
    };
    if i64::from(kp.ki_stat) == ZOMBIE || kp.ki_pid != pid {
        return Ok(None);
    }
    Ok(Some((kp.ki_start.tv_sec as i64, kp.ki_start.tv_usec as i64)))
}

/// The parent of `pid` (the notification socket's test of who sent a datagram).
#[cfg(target_os = "freebsd")]
pub fn parent(pid: crate::child::Pid) -> Option<crate::child::Pid> {
    let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid.as_raw()];
    // SAFETY: KERN_PROC_PID fills in one kinfo_proc.
    let kp = unsafe { sysctl_record::<libc::kinfo_proc>(&mut mib) }.ok()??;
    (kp.ki_pid == pid.as_raw()).then(|| crate::child::Pid::from_raw(kp.ki_ppid))
}

#[cfg(target_os = "netbsd")]
fn start(pid: libc::pid_t) -> io::Result<Option<(i64, i64)>> {
    let size = std::mem::size_of::<libc::kinfo_proc2>() as libc::c_int;
    let mut mib = [libc::CTL_KERN, libc::KERN_PROC2, libc::KERN_PROC_PID, pid, size, 1];
    // SAFETY: KERN_PROC2 with this element size and count fills in one kinfo_proc2.
    let Some(kp) = (unsafe { sysctl_record::<libc::kinfo_proc2>(&mut mib) })? else {
        return Ok(None);
    };
    if i64::from(kp.p_stat) == ZOMBIE || kp.p_pid != pid {
        return Ok(None);
    }
    Ok(Some((i64::from(kp.p_ustart_sec), i64::from(kp.p_ustart_usec))))
}

#[cfg(target_os = "openbsd")]
#[allow(clippy::unnecessary_cast)]
fn start(pid: libc::pid_t) -> io::Result<Option<(i64, i64)>> {
    let size = std::mem::size_of::<libc::kinfo_proc>() as libc::c_int;
    let mut mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PID, pid, size, 1];
    // SAFETY: KERN_PROC with this element size and count fills in one kinfo_proc.
    let Some(kp) = (unsafe { sysctl_record::<libc::kinfo_proc>(&mut mib) })? else {
        return Ok(None);
    };
    if i64::from(kp.p_stat) == ZOMBIE || kp.p_pid != pid {
        return Ok(None);
    }
    Ok(Some((kp.p_ustart_sec as i64, i64::from(kp.p_ustart_usec))))
}

#[cfg(target_os = "macos")]
#[allow(clippy::unnecessary_cast)]
fn start(pid: libc::pid_t) -> io::Result<Option<(i64, i64)>> {
    let mut info = std::mem::MaybeUninit::<libc::proc_bsdinfo>::zeroed();
    let size = std::mem::size_of::<libc::proc_bsdinfo>() as libc::c_int;
    // SAFETY: PROC_PIDTBSDINFO fills in at most `size` bytes of one proc_bsdinfo.
    let n = unsafe {
        libc::proc_pidinfo(pid, libc::PROC_PIDTBSDINFO, 0, info.as_mut_ptr().cast(), size)
    };
    if n < size {
        let e = io::Error::last_os_error();
        return if n <= 0 && e.raw_os_error() != Some(libc::ESRCH) { Err(e) } else { Ok(None) };
    }
    // SAFETY: the kernel filled in the whole record (n == size); zeroed before.
    let info = unsafe { info.assume_init() };
    if i64::from(info.pbi_status) == ZOMBIE {
        return Ok(None);
    }
    Ok(Some((info.pbi_start_tvsec as i64, info.pbi_start_tvusec as i64)))
}

#[cfg(not(any(
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "macos"
)))]
fn start(_pid: libc::pid_t) -> io::Result<Option<(i64, i64)>> {
    Err(crate::platform::unsupported("telling processes apart by start time"))
}
