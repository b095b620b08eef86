//! Running a log directory's `!processor` on a rotated file (all OSes), as svlogd(8) says:
//! `sh -c processor` in the log directory with the rotated `@x.u` on fd 0, `@x.t` on fd 1,
//! `state` on fd 4 and `newstate` on fd 5. On success `@x.t` becomes `@x.s` (mode 0744),
//! `@x.u` is removed and `newstate` becomes `state`; on failure `@x.t` is removed and the
//! processor runs again.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

use super::dirfd::{high_fd, Dir};
use crate::child::{self, Pid, Spec};
use crate::errstr::describe;
use crate::platform::Signal;

/// Where a directory's processor stands. `base` is the rotated file's name without its suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proc {
    Idle,
    Running {
        pid: Pid,
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

/// Starts the processor on `base.u`; returns its pid. A processor that cannot be started
/// comes back as the error. The pid is reaped by the event loop on SIGCHLD.
pub fn spawn(dir: &Dir, base: &str, cmd: &[u8], signals: &'static [Signal]) -> io::Result<Pid> {
    let trunc = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC;
    // All out of the way of 0, 1, 4 and 5, so placing one never overwrites another.
    let input = high_fd(dir.open_file(&format!("{base}.u"), libc::O_RDONLY, 0)?.as_raw_fd())?;
    let output = high_fd(dir.open_file(&format!("{base}.t"), trunc, 0o644)?.as_raw_fd())?;
    let state = high_fd(open_state(dir)?.as_raw_fd())?;
    let newstate = high_fd(dir.open_file("newstate", trunc, 0o644)?.as_raw_fd())?;
    let cwd = dir.dup_high()?;
    let script = CString::new(cmd).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let argv = [c"sh", c"-c", script.as_c_str()];
    let fds = [
        (input.as_raw_fd(), 0),
        (output.as_raw_fd(), 1),
        (state.as_raw_fd(), 4),
        (newstate.as_raw_fd(), 5),
    ];
    child::spawn(&Spec {
        dir: Some(child::Dir::Fd(cwd.as_raw_fd())),
        fds: &fds,
        signals,
        ..Spec::new(c"/bin/sh", &argv)
    })
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
