//! The process-state changes chpst was asked for, and applying them in C runit's order:
//! new session, envdir, chroot, chdir, nice, new namespaces, envuidgid, setuidgid, lock,
//! closing stdio, limits, exec. The namespaces come where C runit's chpst puts them: before
//! the privileges are dropped (unshare needs CAP_SYS_ADMIN) and before the lock and the limits,
//! which are the program's and not those of the processes that stay chpst. Every argument was checked while parsing, so a failure here is a system
//! failure and the program is never started with only part of the changes (all OSes).

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;

use super::envdir::{self, EnvEdit, Subdirs};
use super::ids::{self, Ids};
use super::limits::Limits;
use super::namespace::{self, Namespace};
use super::{Failure, Stop};
use crate::child::pathexec;

/// Whose identity to take or announce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSpec {
    /// chpst's `user[:group...]` or `:uid:gid[:gid...]`.
    Extended(OsString),
    /// The personalities' plain account name.
    Account(OsString),
}

/// A lock to hold across exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub path: OsString,
    /// Wait for the lock (`-l`, setlock's default) or fail at once (`-L`, setlock -n).
    pub wait: bool,
    /// setlock -x: if the lock cannot be opened or taken, exit 0 silently.
    pub exit_zero_on_failure: bool,
}

/// Everything chpst or a personality was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub verbose: bool,
    pub new_session: bool,
    pub envdir: Option<(OsString, Subdirs)>,
    pub root: Option<OsString>,
    pub chdir: Option<OsString>,
    pub nice: i32,
    /// `-F` or `-I`: new PID and mount namespaces.
    pub namespace: Option<Namespace>,
    pub env_user: Option<IdSpec>,
    pub set_user: Option<IdSpec>,
    pub lock: Option<Lock>,
    /// Close stdin, stdout, stderr.
    pub close: [bool; 3],
    pub limits: Limits,
    pub argv0: Option<OsString>,
}

impl Plan {
    /// Applies the plan and execs `prog` (its first element names the program). Returns only
    /// when something failed. Warnings go to `warn`.
    pub fn run(&self, prog: &[OsString], warn: &mut dyn FnMut(String)) -> Stop {
        match self.apply(prog, warn) {
            Ok(never) => match never {},
            Err(stop) => stop,
        }
    }

    fn apply(
        &self,
        prog: &[OsString],
        warn: &mut dyn FnMut(String),
    ) -> Result<std::convert::Infallible, Stop> {
        // chpst's own $PATH finds the program, whatever the envdir sets (as pathexec does).
        let path = std::env::var_os("PATH");
        let mut edits = Vec::new();
        if self.new_session {
            // Fails only for a process group leader, which already has a group of its own.
            // SAFETY: setsid has no memory preconditions.
            unsafe { libc::setsid() };
        }
        if let Some((dir, subdirs)) = &self.envdir {
            // chpst -e warns about skipped subdirectories when -v was given anywhere.
            let subdirs = match subdirs {
                Subdirs::Skip { .. } => Subdirs::Skip { warn: self.verbose },
                Subdirs::Failure => Subdirs::Failure,
            };
            edits.extend(envdir::read(dir, subdirs, warn)?);
        }
        self.change_root_and_dir()?;
        self.renice()?;
        if let Some(how) = self.namespace {
            namespace::enter(how, self.root.is_some(), self.verbose, warn)?;
        }
        if let Some(spec) = &self.env_user {
            edits.extend(ids::env_edits(&resolve(spec)?));
        }
        if let Some(spec) = &self.set_user {
            ids::become_ids(&resolve(spec)?)?;
        }
        if let Some(lock) = &self.lock {
            take_lock(lock)?;
        }
        self.close_stdio()?;
        self.limits.apply(self.verbose, warn)?;
        Err(self.exec(prog, &edits, path.as_deref()))
    }

    fn change_root_and_dir(&self) -> Result<(), Failure> {
        if let Some(root) = &self.root {
            std::env::set_current_dir(root).map_err(|e| {
                Failure::sys(format!("unable to change directory: {}", root.to_string_lossy()), e)
            })?;
            let dot = CString::new(".").unwrap_or_default();
            // SAFETY: `dot` is a valid C string; chroot only reads it.
            if unsafe { libc::chroot(dot.as_ptr()) } == -1 {
                return Err(Failure::sys(
                    "unable to change root directory",
                    io::Error::last_os_error(),
                ));
            }
        }
        if let Some(dir) = &self.chdir {
            std::env::set_current_dir(dir).map_err(|e| {
                Failure::sys(format!("unable to change directory: {}", dir.to_string_lossy()), e)
            })?;
        }
        Ok(())
    }

    fn renice(&self) -> Result<(), Failure> {
        if self.nice == 0 {
            return Ok(());
        }
        // nice(2) may legitimately return -1: only errno tells failure.
        nix::errno::Errno::clear();
        // SAFETY: nice has no memory preconditions.
        if unsafe { libc::nice(self.nice) } == -1 && nix::errno::Errno::last_raw() != 0 {
            return Err(Failure::sys("unable to set nice level", io::Error::last_os_error()));
        }
        Ok(())
    }

    fn close_stdio(&self) -> Result<(), Failure> {
        const NAMES: [&str; 3] = ["stdin", "stdout", "stderr"];
        for ((fd, name), close) in (0..).zip(NAMES).zip(self.close) {
            // SAFETY: closing one of the standard descriptors (0, 1 or 2), which nothing here
            // uses again (messages after closing stderr are lost, as with C runit). close(2)
            // takes no pointer, so no memory can be touched.
            if close && unsafe { libc::close(fd) } == -1 {
                return Err(Failure::sys(
                    format!("unable to close {name}"),
                    io::Error::last_os_error(),
                ));
            }
        }
        Ok(())
    }

    fn exec(&self, prog: &[OsString], edits: &[EnvEdit], path: Option<&OsStr>) -> Stop {
        let Some(file) = prog.first() else {
            return Stop::Fatal(Failure::plain("no program given"));
        };
        let mut env: Vec<OsString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut e = k;
                e.push("=");
                e.push(v);
                e
            })
            .collect();
        envdir::apply(&mut env, edits);
        let mut argv = prog.to_vec();
        if let (Some(a0), Some(first)) = (&self.argv0, argv.first_mut()) {
            first.clone_from(a0);
        }
        let e = pathexec(file, &argv, &env, path);
        let shown = argv.first().unwrap_or(file).to_string_lossy();
        Stop::Fatal(Failure::sys(format!("unable to run: {shown}"), e))
    }
}

fn resolve(spec: &IdSpec) -> Result<Ids, Failure> {
    match spec {
        IdSpec::Extended(s) => ids::resolve_extended(s),
        IdSpec::Account(s) => ids::resolve_account(s),
    }
}

/// Opens (creating it, mode 0600) and flocks the lock file. The descriptor stays open and
/// inheritable, so the program holds the lock until it exits.
fn take_lock(lock: &Lock) -> Result<(), Stop> {
    let fail = |what: &str, e: io::Error| {
        if lock.exit_zero_on_failure {
            Stop::LockBusy
        } else {
            Stop::Fatal(Failure::sys(format!("{what}: {}", lock.path.to_string_lossy()), e))
        }
    };
    let path =
        CString::new(lock.path.as_bytes()).map_err(|e| fail("unable to open lock", e.into()))?;
    // Not O_CLOEXEC: the program inherits the lock. O_NONBLOCK keeps a FIFO from hanging us.
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NONBLOCK;
    // SAFETY: `path` is a valid C string for the call.
    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o600 as libc::c_uint) };
    if fd == -1 {
        return Err(fail("unable to open lock", io::Error::last_os_error()));
    }
    let op = if lock.wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
    loop {
        // SAFETY: flock on the descriptor just opened.
        if unsafe { libc::flock(fd, op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(fail("unable to lock", e));
        }
    }
}
