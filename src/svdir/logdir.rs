//! A `log/` directory added to a service that is already supervised (all OSes).
//!
//! runsv connects a service's stdout to its log service only when runsv starts, so using a new
//! `log/` means restarting that service's runsv, and with it the service. runsvdir does so only
//! when nobody can tell the difference apart from the restart itself:
//! - it waits until `log/run` is executable (an admin typically runs `mkdir log` first and
//!   writes the script afterwards: starting earlier would leave the service's output pipe
//!   without a reader);
//! - it does nothing when the log is already supervised (`log/supervise/ok` has a reader);
//! - it restarts only when a fresh runsv would put the service in the state it is in now:
//!   wanted up and no `down` file (the restart then looks like `sv restart`), or down, wanted
//!   down and a `down` file (nothing visible happens). A service stopped by `sv down` without a
//!   `down` file, or started by `sv up` despite one, or paused, is left alone: a fresh runsv
//!   would change its state. That is reported once and checked again on later events.
//!
//! The restart is a TERM to runsv, which runsv treats as `x`: stop the service, then exit;
//! runsvdir starts it again at once.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

use crate::supervise::protocol::{self, Probe, LOG, MAIN};
use crate::supervise::status::{State, Status, Want, STATUS_LEN};

/// Where a service's log stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDir {
    /// No `log` directory.
    Absent,
    /// `log/` exists, `log/run` is not executable yet.
    Incomplete,
    /// `log/run` is executable.
    Ready,
}

fn join(name: &OsStr, rel: &str) -> std::path::PathBuf {
    Path::new(name).join(rel)
}

fn stat_mode<Fd: AsFd>(dir: &Fd, path: &Path) -> Option<u32> {
    fstatat(dir.as_fd(), path, AtFlags::empty()).ok().map(|st| crate::svdir::scan::mode_of(&st))
}

fn is_kind(mode: u32, kind: SFlag) -> bool {
    SFlag::from_bits_truncate(mode as _) & SFlag::S_IFMT == kind
}

/// The state of `<name>/log` in `dir`.
pub fn log_dir<Fd: AsFd>(dir: &Fd, name: &OsStr) -> LogDir {
    match stat_mode(dir, &join(name, "log")) {
        Some(m) if is_kind(m, SFlag::S_IFDIR) => {}
        _ => return LogDir::Absent,
    }
    match stat_mode(dir, &join(name, "log/run")) {
        Some(m) if is_kind(m, SFlag::S_IFREG) && m & 0o111 != 0 => LogDir::Ready,
        _ => LogDir::Incomplete,
    }
}

/// Whether a runsv supervises `<name>/log` now (it holds `log/supervise/ok` open for reading;
/// opening it for writing without blocking fails with ENXIO otherwise, as sv relies on).
pub fn log_supervised<Fd: AsFd>(dir: &Fd, name: &OsStr) -> bool {
    matches!(protocol::probe_at(dir, &join(name, LOG.ok)), Probe::Running)
}

/// Whether restarting the runsv of `name` leaves the service as it is now (see above); None
/// while its status cannot be read (a runsv that has just started has not written it yet).
pub fn restart_is_transparent<Fd: AsFd>(dir: &Fd, name: &OsStr) -> Option<bool> {
    let st = read_status(dir, name)?;
    let down_file = stat_mode(dir, &join(name, "down")).is_some();
    Some(match st.want {
        _ if st.paused => false,
        Want::Up => !down_file,
        Want::Down => down_file && st.state == State::Down,
        Want::Exit => false,
    })
}

fn read_status<Fd: AsFd>(dir: &Fd, name: &OsStr) -> Option<Status> {
    let path = join(name, MAIN.status);
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    let fd: OwnedFd = openat(dir.as_fd(), &path, flags, Mode::empty()).ok()?;
    let mut buf = Vec::with_capacity(STATUS_LEN);
    File::from(fd).take(STATUS_LEN as u64).read_to_end(&mut buf).ok()?;
    Status::decode(&buf).ok()
}
