//! Process trees on FreeBSD: runsv makes itself the reaper of its descendants
//! (`procctl(PROC_REAP_ACQUIRE)`), so what a contained run leaves behind, daemons that called
//! setsid() included, is re-parented to runsv instead of init and stays in the run's subtree
//! (see `platform::Tree`). `PROC_REAP_KILL` with `REAPER_KILL_SUBTREE` signals that subtree,
//! `PROC_REAP_GETPIDS` tells whether any of it lives. FreeBSD has no cgroups: limits are
//! refused. Each orphan's exit reaches runsv as SIGCHLD (it is their parent now), and runsv
//! also looks again on a short deadline while a tree drains.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;

use crate::child::Pid;
use crate::platform::{unsupported, Signal};

/// Limits need cgroups: `cgroup/` files are refused here.
pub const LIMITS: bool = false;

/// The subtree of one contained service: the descendants of the run it started last.
#[derive(Debug, Default)]
pub struct Tree {
    subtree: Option<Pid>,
}

/// Nothing for the child to do: being runsv's descendant puts it in the subtree.
#[derive(Debug, Clone, Copy)]
pub struct Join;

// sys/procctl.h
#[repr(C)]
struct ReaperStatus {
    rs_flags: libc::c_uint,
    rs_children: libc::c_uint,
    rs_descendants: libc::c_uint,
    rs_reaper: libc::pid_t,
    rs_pid: libc::pid_t,
    rs_pad0: [libc::c_uint; 15],
}

#[repr(C)]
#[derive(Clone, Copy)]
struct ReaperPidInfo {
    pi_pid: libc::pid_t,
    pi_subtree: libc::pid_t,
    pi_flags: libc::c_uint,
    pi_pad0: [libc::c_uint; 15],
}

#[repr(C)]
struct ReaperPids {
    rp_count: libc::c_uint,
    rp_pad0: [libc::c_uint; 15],
    rp_pids: *mut ReaperPidInfo,
}

#[repr(C)]
struct ReaperKill {
    rk_sig: libc::c_int,
    rk_flags: libc::c_uint,
    rk_subtree: libc::pid_t,
    rk_killed: libc::c_uint,
    rk_fpid: libc::pid_t,
    rk_pad0: [libc::c_uint; 15],
}

const REAPER_KILL_SUBTREE: libc::c_uint = 0x2;
const REAPER_PIDINFO_VALID: libc::c_uint = 0x1;
const REAPER_PIDINFO_ZOMBIE: libc::c_uint = 0x8;

/// procctl on this process.
fn procctl<T>(cmd: libc::c_int, data: *mut T) -> io::Result<()> {
    // SAFETY: `data` points at a live struct of the layout `cmd` expects (or is null for
    // PROC_REAP_ACQUIRE); the kernel writes within it only.
    let r = unsafe { libc::procctl(libc::P_PID, libc::getpid() as libc::id_t, cmd, data.cast()) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Tree {
    /// Makes runsv the reaper of its descendants (once; again is no error).
    pub fn open(_name: &str, _which: &str, controllers: &[&str]) -> io::Result<Tree> {
        if let Some(c) = controllers.first() {
            return Err(unsupported(&format!("the {c} controller (limits need cgroups)")));
        }
        match procctl(libc::PROC_REAP_ACQUIRE, std::ptr::null_mut::<libc::c_void>()) {
            Err(e) if e.raw_os_error() != Some(libc::EBUSY) => Err(e),
            _ => Ok(Tree::default()),
        }
    }

    /// Nothing is recorded here, so there is nothing to take over.
    pub fn reopen(_path: &Path) -> io::Result<Option<Tree>> {
        Ok(None)
    }

    pub fn path(&self) -> Option<&Path> {
        None
    }

    pub fn limit(&self, file: &str, _value: &[u8]) -> io::Result<()> {
        Err(unsupported(&format!("the limit {file} (limits need cgroups)")))
    }

    pub fn killed(&self) -> bool {
        false
    }

    pub fn set_killed(&self) {}

    pub fn join(&self) -> Join {
        Join
    }

    /// The run `pid` heads the subtree now.
    pub fn started(&mut self, pid: Pid) {
        self.subtree = Some(pid);
    }

    /// Whether a process of the subtree lives (zombies, which runsv reaps, do not count).
    pub fn busy(&self) -> io::Result<bool> {
        let Some(sub) = self.subtree else { return Ok(false) };
        Ok(!self.members_of(sub)?.is_empty())
    }

    fn members_of(&self, sub: Pid) -> io::Result<Vec<Pid>> {
        let mut st = ReaperStatus {
            rs_flags: 0,
            rs_children: 0,
            rs_descendants: 0,
            rs_reaper: 0,
            rs_pid: 0,
            rs_pad0: [0; 15],
        };
        procctl(libc::PROC_REAP_STATUS, &mut st)?;
        // Room for some more that may appear meanwhile; they are seen at the next look.
        let room = st.rs_descendants as usize + 16;
        let empty = ReaperPidInfo { pi_pid: 0, pi_subtree: 0, pi_flags: 0, pi_pad0: [0; 15] };
        let mut infos = vec![empty; room];
        let mut req = ReaperPids {
            rp_count: room as libc::c_uint,
            rp_pad0: [0; 15],
            rp_pids: infos.as_mut_ptr(),
        };
        procctl(libc::PROC_REAP_GETPIDS, &mut req)?;
        Ok(infos
            .iter()
            .filter(|i| i.pi_flags & REAPER_PIDINFO_VALID != 0)
            .filter(|i| i.pi_flags & REAPER_PIDINFO_ZOMBIE == 0 && i.pi_subtree == sub.as_raw())
            .map(|i| Pid::from_raw(i.pi_pid))
            .collect())
    }

    pub fn change_fd(&self) -> Option<RawFd> {
        None
    }

    /// Signals the whole subtree; how many processes got it.
    pub fn signal(&self, sig: Signal) -> io::Result<usize> {
        let Some(sub) = self.subtree else { return Ok(0) };
        let mut k = ReaperKill {
            rk_sig: sig as libc::c_int,
            rk_flags: REAPER_KILL_SUBTREE,
            rk_subtree: sub.as_raw(),
            rk_killed: 0,
            rk_fpid: 0,
            rk_pad0: [0; 15],
        };
        match procctl(libc::PROC_REAP_KILL, &mut k) {
            Ok(()) => Ok(k.rk_killed as usize),
            // Nobody left to signal.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(0),
            Err(e) => Err(e),
        }
    }

    pub fn members(&self) -> io::Result<Vec<Pid>> {
        match self.subtree {
            Some(sub) => self.members_of(sub),
            None => Ok(Vec::new()),
        }
    }

    pub fn kill(&self) -> io::Result<()> {
        self.signal(Signal::SIGKILL).map(drop)
    }

    pub fn remove(&self) -> io::Result<()> {
        Ok(())
    }
}

/// A plain fork.
pub fn fork(_join: Option<&Join>) -> (libc::pid_t, bool) {
    // SAFETY: fork has no memory-safety preconditions; the caller's child keeps to
    // async-signal-safe calls.
    (unsafe { libc::fork() }, true)
}

/// Nothing to do in the child.
pub fn enter(_join: &Join) -> io::Result<()> {
    Ok(())
}
