//! The `supervise/` directory runsv keeps for a service and for its log (all Unix): created
//! mode 0700 (through a `supervise` symlink if there is one), `lock` held with flock, the
//! `control` and `ok` FIFOs held open, and `status`, `stat`, `pid` replaced atomically through
//! `<name>.new` and rename(2), so readers never see half a file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::fail::Failure;
use crate::supervise::protocol::Names;
use crate::supervise::readiness::Readiness;
use crate::supervise::runs::Runs;
use crate::supervise::status::Status;
use crate::sys;

/// Creates the supervise directory (mode 0700). If `supervise` is a symlink whose target is
/// missing (e.g. into a fresh /run), the target is created, parents included.
pub fn make_dir(n: &Names) -> Result<(), Failure> {
    let mut b = fs::DirBuilder::new();
    b.mode(0o700);
    if b.create(n.dir).is_ok() {
        return Ok(());
    }
    let target = match fs::read_link(n.dir) {
        Ok(t) => t,
        // Not a symlink (EINVAL: an existing directory or file) or nothing there at all: the
        // lock file below reports what is wrong.
        Err(e) if sys::is_errno(&e, libc::EINVAL) || sys::is_errno(&e, libc::ENOENT) => {
            return Ok(())
        }
        Err(e) => return Err(Failure::sys(format!("unable to readlink ./{}", n.dir), e)),
    };
    let target: PathBuf = Path::new(n.base).join(target);
    if let Some(parent) = target.parent() {
        let _ = fs::create_dir_all(parent);
    }
    let _ = b.create(&target);
    Ok(())
}

/// Opens and locks `lock`; `wait` decides between failing and waiting when it is taken.
pub fn lock(n: &Names, wait: bool) -> Result<File, Failure> {
    let f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(n.lock)
        .map_err(|e| Failure::sys(format!("unable to open {}", n.lock), e))?;
    let r = if wait { sys::lock_exclusive(&f) } else { sys::try_lock_exclusive(&f) };
    r.map_err(|e| Failure::sys(format!("unable to lock {}", n.lock), e))?;
    Ok(f)
}

/// The control FIFO, opened for reading, plus a writer runsv holds so the reader never sees
/// EOF (which would make it readable forever).
pub fn control(n: &Names) -> Result<(File, File), Failure> {
    let _ = sys::mkfifo(Path::new(n.control), 0o600);
    let meta = fs::metadata(n.control)
        .map_err(|e| Failure::sys(format!("unable to stat {}", n.control), e))?;
    if !meta.file_type().is_fifo() {
        return Err(Failure::plain(format!("{} exists but is not a fifo", n.control)));
    }
    let open = |write: bool| {
        OpenOptions::new()
            .read(!write)
            .write(write)
            .custom_flags(libc::O_NONBLOCK)
            .open(n.control)
            .map_err(|e| Failure::sys(format!("unable to open {}", n.control), e))
    };
    Ok((open(false)?, open(true)?))
}

/// The `ok` FIFO, held open for reading: `sv` tells from ENXIO on open that runsv is gone.
pub fn ok(n: &Names) -> Result<File, Failure> {
    let _ = sys::mkfifo(Path::new(n.ok), 0o600);
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(n.ok)
        .map_err(|e| Failure::sys(format!("unable to read {}", n.ok), e))
}

/// One service's supervise directory, set up and held.
pub struct Supervise {
    names: &'static Names,
    _lock: File,
    control: File,
    _control_writer: File,
    _ok: Option<File>,
    /// The pid last written to `pid`; the file is only rewritten when it changes.
    written_pid: Option<u32>,
    /// The runs last written; likewise.
    written_runs: Runs,
}

impl Supervise {
    pub fn new(names: &'static Names, lock: File, control: (File, File)) -> Supervise {
        Supervise {
            names,
            _lock: lock,
            control: control.0,
            _control_writer: control.1,
            _ok: None,
            written_pid: None,
            // Never what a runsv writes first, so the first publish writes the file.
            written_runs: Runs { restarts: u32::MAX, last: None, failed: None },
        }
    }

    pub fn names(&self) -> &'static Names {
        self.names
    }

    pub fn set_ok(&mut self, ok: File) {
        self._ok = Some(ok);
    }

    pub fn control_fd(&self) -> RawFd {
        self.control.as_raw_fd()
    }

    /// Reads one command byte, if one is there.
    pub fn read_command(&mut self) -> Option<u8> {
        let mut b = [0u8; 1];
        match io::Read::read(&mut self.control, &mut b) {
            Ok(1) => Some(b[0]),
            _ => None,
        }
    }

    /// Writes `ident` and `pid` (when the pid changed), `stat` and `status`, in runit's order.
    /// Each file is tried even when an earlier one failed (a full disk may still take a
    /// rewrite of the same size); the first failure is returned, and what failed keeps its
    /// previous, complete contents.
    pub fn publish(
        &mut self,
        st: &Status,
        ready: Option<&Readiness>,
        runs: &Runs,
    ) -> Result<(), Failure> {
        let n = self.names;
        let mut first = self.publish_readiness(ready);
        if *runs != self.written_runs {
            match replace(n.runs_new, n.runs, runs.encode().as_bytes()) {
                Ok(()) => self.written_runs = *runs,
                Err(p) => first = first.and(Err(p)),
            }
        }
        if self.written_pid != Some(st.pid) {
            let pid_files = write_ident(n, st.pid).and_then(|()| {
                let text = if st.pid == 0 { String::new() } else { format!("{}\n", st.pid) };
                replace(n.pid_new, n.pid, text.as_bytes())
            });
            match pid_files {
                Ok(()) => self.written_pid = Some(st.pid),
                Err(p) => first = first.and(Err(p)),
            }
        }
        let mut line = st.stat_text();
        line.push('\n');
        let stat = replace(n.stat_new, n.stat, line.as_bytes());
        let status = replace(n.status_new, n.status, &st.encode());
        first.and(stat).and(status)
    }

    /// Writes `readiness`, or removes it for a run that declares none (and after a run).
    fn publish_readiness(&mut self, ready: Option<&Readiness>) -> Result<(), Failure> {
        let n = self.names;
        match ready {
            Some(r) => replace(n.readiness_new, n.readiness, r.encode().as_bytes()),
            None => match fs::remove_file(n.readiness) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(Failure::sys(format!("unable to remove {}", n.readiness), e))
                }
                _ => Ok(()),
            },
        }
    }
}

impl Supervise {
    /// Records where the service's process tree is (`supervise/cgroup`), or that it has none.
    pub fn record_tree(&mut self, path: Option<&Path>) -> Result<(), Failure> {
        let n = self.names;
        match path {
            Some(p) => {
                let mut text = p.as_os_str().as_encoded_bytes().to_vec();
                text.push(b'\n');
                replace(n.cgroup_new, n.cgroup, &text)
            }
            None => match fs::remove_file(n.cgroup) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(Failure::sys(format!("unable to remove {}", n.cgroup), e))
                }
                _ => Ok(()),
            },
        }
    }
}

/// The tree an earlier runsv recorded in `supervise/cgroup` (see [`Supervise::record_tree`]).
pub fn recorded_tree(n: &Names) -> Option<PathBuf> {
    let text = fs::read_to_string(n.cgroup).ok()?;
    let line = text.lines().next()?.trim_end();
    (!line.is_empty()).then(|| PathBuf::from(line))
}

/// `<pid> <token>` for a running process, empty when down or when the OS cannot name it.
fn write_ident(n: &Names, pid: u32) -> Result<(), Failure> {
    let pid = i32::try_from(pid).ok().filter(|&p| p > 0).map(crate::child::Pid::from_raw);
    let token = pid.and_then(|p| crate::platform::process_ident(p).ok().flatten());
    let pid = pid.map_or(0, |p| p.as_raw());
    let text = token.map(|t| format!("{pid} {t}\n")).unwrap_or_default();
    replace(n.ident_new, n.ident, text.as_bytes())
}

/// Writes `data` to `tmp` (mode 0644), then renames it over `dst`. Neither is followed if it
/// is a symlink: rename replaces `dst` itself, and `tmp` is opened with O_NOFOLLOW.
fn replace(tmp: &str, dst: &str, data: &[u8]) -> Result<(), Failure> {
    let mut f = open_new(tmp).map_err(|e| Failure::sys(format!("unable to open {tmp}"), e))?;
    if let Err(e) = f.write_all(data) {
        drop(f);
        let _ = fs::remove_file(tmp);
        return Err(Failure::sys(format!("unable to write {tmp}"), e));
    }
    drop(f);
    fs::rename(tmp, dst).map_err(|e| Failure::sys(format!("unable to rename {tmp} to {dst}"), e))
}

/// Creates or truncates `tmp` for writing, never through a symlink: one found there (left by
/// someone else; runsv never makes one) is removed and the file created in its place.
fn open_new(tmp: &str) -> io::Result<File> {
    let open = || {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(tmp)
    };
    match open() {
        // The errno for a symlink under O_NOFOLLOW differs between OSes: ask the file system.
        Err(e) if fs::symlink_metadata(tmp).is_ok_and(|m| m.file_type().is_symlink()) => {
            fs::remove_file(tmp).map_err(|_| e)?;
            open()
        }
        r => r,
    }
}

/// Whether `path` is there and executable by its owner, as runit checks `control/<c>`.
pub fn owner_executable(path: &str) -> io::Result<bool> {
    Ok(fs::metadata(path)?.permissions().mode() & 0o100 != 0)
}
