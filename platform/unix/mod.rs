//! The pieces every Unix backend shares, kept once: the fd bookkeeping of the event loops, the
//! self-pipe, the portable poll loop, the resource-limit table, the utmpx calls and the checks
//! around them, and the generic POSIX versions of the OS services (`generic`). Each backend in
//! `platform/<os>/` re-exports what it takes from here under the module names of the contract.

pub mod fds;
pub mod generic;
// Linux has a notification socket of its own (abstract names, sender credentials).
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub mod notify;
// Linux contains services in cgroups, FreeBSD with a reaper.
#[cfg_attr(any(target_os = "linux", target_os = "freebsd"), allow(dead_code))]
pub mod pgroup;
pub mod poll;
pub mod rlimit;
pub mod selfpipe;
pub mod utmp_files;

// The POSIX utmpx API, where the C library keeps the databases that login, who and last use.
#[cfg(any(
    all(target_os = "linux", target_env = "gnu"),
    target_os = "freebsd",
    target_os = "dragonfly",
    apple,
    solarish
))]
pub mod utmpx;

/// PID and mount namespaces are Linux's: elsewhere chpst -F and -I are refused.
#[cfg(not(target_os = "linux"))]
pub mod no_namespaces {
    use std::io;

    use crate::platform::unsupported;

    const WHAT: &str = "a new PID namespace";

    pub fn supported() -> io::Result<()> {
        Err(unsupported(WHAT))
    }
    pub fn unshare_pid_and_mounts() -> io::Result<()> {
        Err(unsupported(WHAT))
    }
    pub fn make_mounts_private() -> io::Result<()> {
        Err(unsupported(WHAT))
    }
    pub fn mount_fresh_proc() -> io::Result<bool> {
        Err(unsupported(WHAT))
    }
}

/// The process title where no way to rewrite it is done yet (the BSDs have setproctitle(3)).
#[cfg(not(target_os = "linux"))]
pub mod no_proctitle {
    pub struct ProcTitle;

    impl ProcTitle {
        pub fn for_arg(_index: usize) -> std::io::Result<ProcTitle> {
            Err(crate::platform::unsupported("rewriting the process title"))
        }
        pub fn len(&self) -> usize {
            0
        }
        pub fn is_empty(&self) -> bool {
            true
        }
        pub fn set(&mut self, _text: &[u8]) {}
    }
}
