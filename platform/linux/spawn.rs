//! Linux: starting a program in a given directory with posix_spawnp(3). glibc and musl run it
//! as clone(CLONE_VM|CLONE_VFORK): no page tables are copied, which matters for runsvdir
//! starting thousands of runsv at once (fork's copy_page_range dominated its CPU time).
//! Needs `posix_spawn_file_actions_addfchdir_np` (glibc 2.29, musl 1.1.24).

use std::ffi::{c_char, c_int, CString};
use std::io;
use std::os::fd::RawFd;

use nix::unistd::Pid;

use crate::platform::Signal;

/// glibc (2.26+) and musl value; the libc crate does not define it for Linux.
const POSIX_SPAWN_SETSID: c_int = 0x80;

extern "C" {
    static environ: *const *mut c_char;
}

fn check(rc: c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

pub fn spawn_in_dir(
    dir: RawFd,
    argv: &[CString],
    new_session: bool,
    reset: &[Signal],
) -> io::Result<Pid> {
    let Some(prog) = argv.first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty argv"));
    };
    let mut ptrs: Vec<*mut c_char> = argv.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    ptrs.push(std::ptr::null_mut());
    // SAFETY: the attribute and action objects are initialised before use and destroyed on
    // every path; `ptrs` is a NULL-terminated array of strings that outlive the call; environ
    // is the process environment (runsvdir never changes it).
    unsafe {
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        check(libc::posix_spawn_file_actions_init(&mut fa))?;
        let mut at: libc::posix_spawnattr_t = std::mem::zeroed();
        if let Err(e) = check(libc::posix_spawnattr_init(&mut at)) {
            libc::posix_spawn_file_actions_destroy(&mut fa);
            return Err(e);
        }
        let r = setup(&mut fa, &mut at, dir, new_session, reset).and_then(|()| {
            let mut pid: libc::pid_t = 0;
            let rc = libc::posix_spawnp(&mut pid, prog.as_ptr(), &fa, &at, ptrs.as_ptr(), environ);
            check(rc).map(|()| Pid::from_raw(pid))
        });
        libc::posix_spawnattr_destroy(&mut at);
        libc::posix_spawn_file_actions_destroy(&mut fa);
        r
    }
}

/// # Safety
/// `fa` and `at` must be initialised.
unsafe fn setup(
    fa: &mut libc::posix_spawn_file_actions_t,
    at: &mut libc::posix_spawnattr_t,
    dir: RawFd,
    new_session: bool,
    reset: &[Signal],
) -> io::Result<()> {
    // SAFETY: the caller initialised both objects; the sigsets are plain values set up here.
    unsafe {
        check(libc::posix_spawn_file_actions_addfchdir_np(fa, dir))?;
        let mut dfl: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut dfl);
        for s in reset {
            libc::sigaddset(&mut dfl, *s as c_int);
        }
        check(libc::posix_spawnattr_setsigdefault(at, &dfl))?;
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        check(libc::posix_spawnattr_setsigmask(at, &none))?;
        let mut flags = libc::POSIX_SPAWN_SETSIGDEF | libc::POSIX_SPAWN_SETSIGMASK;
        if new_session {
            flags |= POSIX_SPAWN_SETSID;
        }
        check(libc::posix_spawnattr_setflags(at, flags as libc::c_short))
    }
}
