//! Process trees on Linux: one cgroup v2 per contained service (see `platform::Tree`).
//!
//! The cgroup2 mount is looked up in `/proc/self/mountinfo` (a pure cgroup2 system mounts it at
//! `/sys/fs/cgroup`, a hybrid one somewhere below it, as `unified`), and the tree of a service
//! is `<mount><runsv's own cgroup>/runit/<name>/<which>`. The `runit` and `<name>` levels hold
//! no process, so the kernel lets controllers be enabled for the leaves below them; only the
//! leaves (`main`, `log`) hold the service's processes. A child enters its leaf from its first
//! instruction with `clone3(CLONE_INTO_CGROUP)` (Linux 5.7), and otherwise moves itself before
//! exec by writing `0` to `cgroup.procs`.
//!
//! clone3 is not used into a cgroup that was killed through `cgroup.kill`: Linux (seen on 6.18)
//! compares the kill count of the parent's cgroup, taken before the target is looked up, with
//! the target's, and so kills every child cloned into a cgroup that was killed once. After a
//! kill (the caller keeps the fact across starts, see [`Tree::set_killed`]) the children of
//! the tree move themselves instead. The cgroup itself stays, with its counters (an admin's
//! `memory.events` keeps counting the OOM kills of every run).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::child::Pid;
use crate::platform::Signal;

/// Whether files of `cgroup/` can be applied as limits here.
pub const LIMITS: bool = true;

/// The cgroup of one contained service.
#[derive(Debug)]
pub struct Tree {
    path: PathBuf,
    /// The directory itself, for `clone3`.
    dir: OwnedFd,
    /// `cgroup.procs`, written by a child that moves itself.
    procs: OwnedFd,
    /// `cgroup.events`, read for `populated` and watched for changes.
    events: File,
    /// `cgroup.kill` was written: children move themselves (see the module's text).
    killed: std::cell::Cell<bool>,
}

/// What a child needs to enter a tree: descriptors only, usable between fork and exec.
#[derive(Debug, Clone, Copy)]
pub struct Join {
    dir: RawFd,
    procs: RawFd,
    /// Whether clone3 may put the child in.
    clone: bool,
}

impl Tree {
    /// The tree `which` of service `name`, made if it is missing, with `controllers` enabled for
    /// it on the way down from runsv's own cgroup. Errors name the file and the reason.
    pub fn open(name: &str, which: &str, controllers: &[&str]) -> io::Result<Tree> {
        let base = own_cgroup()?;
        let service = base.join("runit").join(name);
        let leaf = service.join(which);
        for c in controllers {
            enable(&base, &[Path::new("runit"), Path::new(name)], c)?;
        }
        for dir in [base.join("runit"), service, leaf.clone()] {
            make_dir(&dir)?;
        }
        Tree::at(leaf)
    }

    /// The tree an earlier runsv recorded at `path`, if it still exists.
    pub fn reopen(path: &Path) -> io::Result<Option<Tree>> {
        match Tree::at(path.to_path_buf()) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn at(path: PathBuf) -> io::Result<Tree> {
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&path)
            .map_err(|e| context("unable to open", &path, e))?;
        let procs_path = path.join("cgroup.procs");
        let procs = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_CLOEXEC)
            .open(&procs_path)
            .map_err(|e| context("unable to open", &procs_path, e))?;
        let events_path = path.join("cgroup.events");
        let events =
            File::open(&events_path).map_err(|e| context("unable to open", &events_path, e))?;
        Ok(Tree { path, dir: dir.into(), procs: procs.into(), events, killed: Default::default() })
    }

    /// Where the tree is, for `supervise/cgroup` and messages.
    pub fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }

    /// Writes `value` to the tree's file `file` (a limit such as `pids.max`).
    pub fn limit(&self, file: &str, value: &[u8]) -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).open(self.path.join(file))?;
        f.write_all(value)
    }

    /// The descriptors a child enters the tree with.
    pub fn join(&self) -> Join {
        Join { dir: self.dir.as_raw_fd(), procs: self.procs.as_raw_fd(), clone: !self.killed.get() }
    }

    /// Whether `cgroup.kill` was ever written for this tree (see the module's text).
    pub fn killed(&self) -> bool {
        self.killed.get()
    }

    /// Notes that the tree was killed before (by an earlier `Tree` of the same cgroup).
    pub fn set_killed(&self) {
        self.killed.set(true);
    }

    /// A child entered the tree as `pid` (nothing to note: the cgroup knows its members).
    pub fn started(&mut self, _pid: Pid) {}

    /// Whether any process is left in the tree (`populated 1` in `cgroup.events`). Reading
    /// the file also acknowledges its last change, so its fd stops reporting it.
    pub fn busy(&self) -> io::Result<bool> {
        let mut buf = [0u8; 256];
        let n = self.events.read_at(&mut buf, 0)?;
        let text = buf.get(..n).unwrap_or_default();
        Ok(text.split(|&b| b == b'\n').any(|l| l == b"populated 1"))
    }

    /// An fd that reports [`crate::platform::Interest::Changed`] when the tree's state changes.
    pub fn change_fd(&self) -> Option<RawFd> {
        Some(self.events.as_raw_fd())
    }

    /// Sends `sig` to every process in the tree; how many there were.
    pub fn signal(&self, sig: Signal) -> io::Result<usize> {
        let pids = self.members()?;
        for &pid in &pids {
            let _ = crate::child::kill(pid, sig);
        }
        Ok(pids.len())
    }

    /// The processes in the tree now.
    pub fn members(&self) -> io::Result<Vec<Pid>> {
        let text = fs::read_to_string(self.path.join("cgroup.procs"))?;
        Ok(text.lines().filter_map(|l| l.trim().parse().ok()).map(Pid::from_raw).collect())
    }

    /// Kills every process in the tree at once (`cgroup.kill`, Linux 5.14; KILL to each
    /// member on older kernels).
    pub fn kill(&self) -> io::Result<()> {
        self.killed.set(true);
        match OpenOptions::new().write(true).open(self.path.join("cgroup.kill")) {
            Ok(mut f) => f.write_all(b"1"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.signal(Signal::SIGKILL).map(drop),
            Err(e) => Err(e),
        }
    }

    /// Removes the tree (the kernel refuses while it holds a process), and the service's level
    /// above it once its last tree is gone. The descriptors stay valid until the drop.
    pub fn remove(&self) -> io::Result<()> {
        let path = &self.path;
        fs::remove_dir(path).map_err(|e| context("unable to remove", path, e))?;
        if let Some(service) = path.parent() {
            // The other tree of the service (its log's) may still be there.
            let _ = fs::remove_dir(service);
        }
        Ok(())
    }
}

/// Forks a child that is in the tree of `join` from its first instruction where the kernel can
/// (clone3 with CLONE_INTO_CGROUP); elsewhere a plain fork. Returns fork's result and whether
/// the child is in the tree already.
pub fn fork(join: Option<&Join>) -> (libc::pid_t, bool) {
    let Some(j) = join.filter(|j| j.clone) else {
        // SAFETY: fork has no memory-safety preconditions; the caller's child keeps to
        // async-signal-safe calls.
        return (unsafe { libc::fork() }, false);
    };
    let args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: j.dir as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM or a stack duplicates the process as fork does; the
    // arguments are a live struct of the size given. The caller's child keeps to
    // async-signal-safe calls, as after fork.
    let pid = unsafe {
        libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, std::mem::size_of::<CloneArgs>())
    };
    if pid >= 0 {
        return (pid as libc::pid_t, true);
    }
    // Too old a kernel, a filter that refuses clone3, or a tree clone3 cannot enter: the child
    // moves itself, and reports it if that fails too.
    // SAFETY: as above.
    (unsafe { libc::fork() }, false)
}

/// In a freshly forked child: moves the calling process into the tree. Async-signal-safe.
pub fn enter(join: &Join) -> io::Result<()> {
    // SAFETY: writes one byte from a static buffer to a descriptor the parent opened.
    let n = unsafe { libc::write(join.procs, b"0".as_ptr().cast(), 1) };
    if n == 1 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `struct clone_args` of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// runsv's own cgroup, as a directory of the cgroup2 mount.
fn own_cgroup() -> io::Result<PathBuf> {
    let (mount, root) = cgroup2_mount()?;
    let own = fs::read_to_string("/proc/self/cgroup")?;
    let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "this process is in no cgroup2 cgroup (/proc/self/cgroup)",
        ));
    };
    // Seen from a mount of a subtree (a container's), the path starts with the mount's root.
    let rel = path.strip_prefix(root.as_str()).unwrap_or(path).trim_start_matches('/');
    Ok(mount.join(rel))
}

/// The mount point and root of the cgroup2 file system.
fn cgroup2_mount() -> io::Result<(PathBuf, String)> {
    let info = fs::read("/proc/self/mountinfo")?;
    info.split(|&b| b == b'\n').find_map(parse_mountinfo_line).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "no cgroup2 file system is mounted (/proc/self/mountinfo)",
        )
    })
}

/// The mount point and root of a mountinfo line of type cgroup2.
fn parse_mountinfo_line(line: &[u8]) -> Option<(PathBuf, String)> {
    let text = std::str::from_utf8(line).ok()?;
    let (left, right) = text.split_once(" - ")?;
    if right.split(' ').next()? != "cgroup2" {
        return None;
    }
    let mut fields = left.split(' ');
    let root = fields.nth(3)?;
    let point = fields.next()?;
    Some((PathBuf::from(unescape(point)), unescape(root)))
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&c, tail)) = rest.split_first() {
        match tail.get(..3).and_then(octal).filter(|_| c == b'\\') {
            Some(b) => {
                out.push(b);
                rest = tail.get(3..).unwrap_or_default();
            }
            None => {
                out.push(c);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte of three octal digits.
fn octal(d: &[u8]) -> Option<u8> {
    d.iter().try_fold(0u8, |n, &c| {
        (b'0'..=b'7').contains(&c).then(|| n.wrapping_mul(8).wrapping_add(c - b'0'))
    })
}

/// Enables controller `c` for the trees under the levels `below` `base`: in the
/// `cgroup.subtree_control` of `base` and of each level (the last is the trees' parent).
fn enable(base: &Path, below: &[&Path], c: &str) -> io::Result<()> {
    let available = fs::read_to_string(base.join("cgroup.controllers")).unwrap_or_default();
    if !available.split_whitespace().any(|x| x == c) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("the {c} controller is not available in {}", base.display()),
        ));
    }
    let mut dir = base.to_path_buf();
    let mut levels = vec![dir.clone()];
    for b in below {
        dir = dir.join(b);
        make_dir(&dir)?;
        levels.push(dir.clone());
    }
    for level in levels {
        enable_in(&level, c)?;
    }
    Ok(())
}

/// Writes `+c` to `level`'s `cgroup.subtree_control` unless it is on already (a cgroup that
/// holds processes refuses even a change that changes nothing).
fn enable_in(level: &Path, c: &str) -> io::Result<()> {
    let file = level.join("cgroup.subtree_control");
    let on = fs::read_to_string(&file).map_err(|e| context("unable to read", &file, e))?;
    if on.split_whitespace().any(|x| x == c) {
        return Ok(());
    }
    let write =
        || OpenOptions::new().write(true).open(&file)?.write_all(format!("+{c}").as_bytes());
    write().map_err(|e| {
        let why = format!("unable to enable the {c} controller in {}", file.display());
        io::Error::new(e.kind(), format!("{why}: {}", crate::errstr::describe(&e)))
    })
}

fn make_dir(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(context("unable to create", dir, e)),
    }
}

/// `<what> <path>: <reason>`, keeping the error's kind.
fn context(what: &str, path: &Path, e: io::Error) -> io::Error {
    let text = format!("{what} {}: {}", path.display(), crate::errstr::describe(&e));
    io::Error::new(e.kind(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_lines() {
        let hybrid = b"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw";
        assert_eq!(
            parse_mountinfo_line(hybrid),
            Some((PathBuf::from("/sys/fs/cgroup/unified"), "/".to_string()))
        );
        let v1 = b"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids";
        assert_eq!(parse_mountinfo_line(v1), None);
        let spaced = b"50 1 0:40 /ct /mnt/a\\040b rw shared:1 - cgroup2 none rw";
        assert_eq!(
            parse_mountinfo_line(spaced),
            Some((PathBuf::from("/mnt/a b"), "/ct".to_string()))
        );
    }
}
