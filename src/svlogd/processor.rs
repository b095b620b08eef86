//! Running a log directory's `!processor` on a rotated file (all OSes), as svlogd(8) says:
//! `sh -c processor` in the log directory with the rotated `@x.u` on fd 0, `@x.t` on fd 1,
//! `state` on fd 4 and `newstate` on fd 5. On success `@x.t` becomes `@x.s` (mode 0744),
//! `@x.u` is removed and `newstate` becomes `state`; on failure `@x.t` is removed and the
//! processor runs again.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::dirfd::{high_fd, Dir};
use crate::errstr::describe;
use crate::platform::{self, Signal};

/// Where a directory's processor stands. `base` is the rotated file's name without its suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proc {
    Idle,
    Running {
        pid: i32,
        base: String,
    },
    /// It failed (or could not start): run it again at `at`.
    Retry {
        base: String,
        at: Instant,
    },
}

impl Proc {
    /// The file being processed, which must never be pruned.
    pub fn busy_base(&self) -> Option<&str> {
        match self {
            Proc::Idle => None,
            Proc::Running { base, .. } | Proc::Retry { base, .. } => Some(base),
        }
    }
}

/// Opens `state` for reading, creating it empty first if needed.
fn open_state(dir: &Dir) -> io::Result<File> {
    match dir.open_file("state", libc::O_RDONLY, 0) {
        // Missing, or a symlink (never followed: it is replaced by an empty state).
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) || dir.is_symlink("state") => {
            drop(dir.open_file("state", libc::O_WRONLY | libc::O_CREAT, 0o644)?);
            dir.open_file("state", libc::O_RDONLY, 0)
        }
        r => r,
    }
}

/// Starts the processor on `base.u`; returns its pid.
pub fn spawn(dir: &Dir, base: &str, cmd: &[u8], signals: &'static [Signal]) -> io::Result<i32> {
    let trunc = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    let input = dir.open_file(&format!("{base}.u"), libc::O_RDONLY, 0)?;
    let output = dir.open_file(&format!("{base}.t"), trunc, 0o644)?;
    let state = high_fd(open_state(dir)?.as_raw_fd())?;
    let newstate = high_fd(dir.open_file("newstate", trunc, 0o644)?.as_raw_fd())?;
    let cwd = dir.dup_high()?;
    let (state_fd, newstate_fd, cwd_fd) =
        (state.as_raw_fd(), newstate.as_raw_fd(), cwd.as_raw_fd());
    let mut c = Command::new("/bin/sh");
    c.arg0("sh").arg("-c").arg(OsStr::from_bytes(cmd));
    c.stdin(Stdio::from(OwnedFd::from(input))).stdout(Stdio::from(OwnedFd::from(output)));
    // SAFETY: the closure only makes async-signal-safe calls (sigaction/sigprocmask, fchdir,
    // dup2) on descriptors that stay open in the parent until spawn returns.
    unsafe {
        c.pre_exec(move || {
            platform::reset_child_signals(signals)?;
            crate::sys::cvt(libc::fchdir(cwd_fd))?;
            crate::sys::cvt(libc::dup2(state_fd, 4))?;
            crate::sys::cvt(libc::dup2(newstate_fd, 5))?;
            Ok(())
        });
    }
    let child = c.spawn()?;
    drop((state, newstate, cwd));
    // The pid is reaped by the event loop's waitpid(-1) on SIGCHLD, not through `child`.
    Ok(child.id() as i32)
}

/// Commits a successful run. A failure to rename the output means the work is lost: the
/// caller runs the processor again.
pub fn commit(dir: &Dir, base: &str) -> io::Result<Vec<String>> {
    let s = format!("{base}.s");
    dir.rename(&format!("{base}.t"), &s)?;
    let mut warnings = Vec::new();
    if let Err(e) = dir.chmod(&s, 0o744) {
        warnings.push(format!("unable to set mode of processed {s}: {}", describe(&e)));
    }
    if let Err(e) = dir.unlink(&format!("{base}.u")) {
        warnings.push(format!("unable to unlink {base}.u: {}", describe(&e)));
    }
    if let Err(e) = dir.rename("newstate", "state") {
        warnings.push(format!("unable to rename newstate to state: {}", describe(&e)));
    }
    Ok(warnings)
}

/// Cleans up after a failed run: its partial output goes.
pub fn discard(dir: &Dir, base: &str) {
    let _ = dir.unlink(&format!("{base}.t"));
}

/// Whether a wait status means success. A processor killed by a signal failed (C counts it as
/// success and throws the unprocessed file away).
pub fn succeeded(status: i32) -> bool {
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}
