//! The platform layer: what runit needs from the kernel, behind one trait (all OSes).
//!
//! # Contract
//!
//! Every supervisor (runsv, runsvdir, runit, svlogd, and sv while it waits) is a single thread
//! that sleeps in [`Platform::wait`]. A backend provides:
//!
//! - **Signals.** [`Platform::new`] takes over delivery of the given signals: from then on they
//!   arrive as [`Event::Signal`] from `wait`, never as asynchronous handlers in the program.
//!   Signals that arrive while the program is busy are not lost (they may coalesce, as POSIX
//!   signals do). Children spawned afterwards must call [`reset_child_signals`] between fork and
//!   exec (Command's `pre_exec`) so they start with default dispositions and an empty mask.
//! - **File descriptors.** [`Platform::add_fd`] with [`Interest::Read`] reports
//!   [`Event::Readable`] while the fd has data or EOF (level triggered: read it or remove it).
//!   [`Interest::Gone`] reports [`Event::Gone`] once the other end of a pipe or FIFO went away
//!   (sv holds `supervise/ok` open for writing to learn that runsv exited); a backend that
//!   cannot tell answers `Unsupported` and the caller falls back to re-checking on a deadline.
//! - **Directories.** [`Platform::watch_dir`] reports [`Event::DirChanged`] after an entry of the
//!   directory was created, removed, renamed or had its attributes changed. It is a hint to
//!   rescan, may coalesce, and carries no detail. Backends that cannot watch answer
//!   `Unsupported`; callers then rescan on a deadline.
//! - **Time.** `wait(Some(deadline))` returns [`Event::Timeout`] once the deadline passed and
//!   nothing else is pending; `wait(None)` sleeps until an event. No backend wakes up on its own.
//! - **Children** are not an event source of their own: subscribe to SIGCHLD and reap with
//!   `waitpid(-1, WNOHANG)` until it reports none, on every wakeup (signals coalesce).
//! - **OS services**: [`reboot`], [`set_ctrl_alt_del`], [`become_subreaper`]. What an OS lacks
//!   answers `io::ErrorKind::Unsupported` with the OS named in the message, never a silent
//!   success; `supports_*` tell in advance.
//!
//! Errors are `io::Error`; errno is matched by value (`raw_os_error`), never by text.
//!
//! The backend is chosen here and only here (with `build.rs` and `platform/**`, the only places
//! that name a `target_os`). The `runit_portable` cfg selects the portable poll backend on any
//! OS, so its code paths can be tested on Linux too.

use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::time::Instant;

pub use nix::sys::signal::Signal;

/// What woke [`Platform::wait`] up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// One of the signals given to [`Platform::new`] arrived.
    Signal(Signal),
    /// The fd registered with [`Interest::Read`] is readable (data or EOF).
    Readable(RawFd),
    /// The peer of the fd registered with [`Interest::Gone`] went away.
    Gone(RawFd),
    /// Something in the watched directory changed: rescan it.
    DirChanged(WatchId),
    /// The deadline passed.
    Timeout,
}

/// A directory watch, as returned by [`Platform::watch_dir`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WatchId(pub u32);

/// What to watch an fd for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Data (or EOF) can be read.
    Read,
    /// The reading end of the pipe/FIFO this fd writes to was closed by everybody.
    Gone,
}

/// What [`reboot`] should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Reboot,
    Halt,
    PowerOff,
}

/// The event source of one single-threaded supervisor. Static dispatch: the state machines are
/// generic over it, so tests can drive them with a fake.
pub trait Platform: Sized {
    /// Takes over the given signals (see the contract above).
    fn new(signals: &[Signal]) -> io::Result<Self>;
    /// Watches `fd` for `interest` until [`Platform::remove_fd`].
    fn add_fd(&mut self, fd: RawFd, interest: Interest) -> io::Result<()>;
    /// Stops watching `fd`. Call it before closing the fd.
    fn remove_fd(&mut self, fd: RawFd) -> io::Result<()>;
    /// Reports changes of the entries of directory `path` as [`Event::DirChanged`].
    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId>;
    /// Stops a directory watch.
    fn unwatch_dir(&mut self, id: WatchId) -> io::Result<()>;
    /// Sleeps until an event or the deadline.
    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event>;
}

cfg_if::cfg_if! {
    if #[cfg(runit_portable)] {
        #[path = "../platform/portable/mod.rs"]
        mod imp;
    } else if #[cfg(target_os = "linux")] {
        #[path = "../platform/linux/mod.rs"]
        mod imp;
    } else if #[cfg(apple)] {
        #[path = "../platform/macos/mod.rs"]
        mod imp;
    } else if #[cfg(bsd)] {
        #[path = "../platform/bsd/mod.rs"]
        mod imp;
    } else if #[cfg(solarish)] {
        #[path = "../platform/solaris/mod.rs"]
        mod imp;
    } else {
        #[path = "../platform/portable/mod.rs"]
        mod imp;
    }
}

/// The backend of the OS this was built for.
pub type Native = imp::Native;

/// The name of the OS, for messages about what it lacks.
pub const OS_NAME: &str = std::env::consts::OS;

/// Resets, in a freshly forked child, what [`Platform::new`] changed about `signals`: default
/// dispositions and an empty signal mask. Async-signal-safe; meant for `Command::pre_exec`.
pub fn reset_child_signals(signals: &[Signal]) -> io::Result<()> {
    imp::reset_child_signals(signals)
}

/// Reboots, halts or powers off now. Only returns on failure. Callers fork first: on Linux a
/// halt ends the calling process.
pub fn reboot(how: How) -> io::Result<()> {
    imp::reboot(how)
}

/// Whether ctrl-alt-del should reach PID 1 as a signal (`true`) or reboot at once (`false`).
pub fn set_ctrl_alt_del(to_signal: bool) -> io::Result<()> {
    imp::set_ctrl_alt_del(to_signal)
}

/// Makes orphaned descendants be reparented to this process instead of PID 1.
pub fn become_subreaper() -> io::Result<()> {
    imp::become_subreaper()
}

/// Whether [`become_subreaper`] can work here.
pub fn supports_subreaper() -> bool {
    imp::SUPPORTS_SUBREAPER
}

/// Whether [`Platform::watch_dir`] is backed by a kernel notification here.
pub fn supports_dir_watch() -> bool {
    imp::SUPPORTS_DIR_WATCH
}

/// The error a backend returns for what its OS cannot do, naming the OS.
pub fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} is not supported on {OS_NAME}"))
}

// The process title: runsvdir shows its newest log bytes in one of its arguments.
cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        #[path = "../platform/linux/proctitle.rs"]
        mod proctitle;
    } else {
        mod proctitle {
            //! Not yet done on this OS (BSDs have setproctitle(3)): answers Unsupported.
            pub struct ProcTitle;
            impl ProcTitle {
                pub fn for_arg(_index: usize) -> std::io::Result<ProcTitle> {
                    Err(super::unsupported("rewriting the process title"))
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
    }
}

/// One command-line argument of this process, rewritable in place so that `ps` shows new text
/// there: `ProcTitle::for_arg(i)` (0 is the program name), `len()`, and `set(text)` (cut to the
/// argument's length). Where the OS offers no way, `for_arg` answers `Unsupported`.
pub use proctitle::ProcTitle;

// Starting a child in a directory without fork's page-table copy (runsvdir's runsv starts).
cfg_if::cfg_if! {
    if #[cfg(all(target_os = "linux", any(target_env = "gnu", target_env = "musl")))] {
        #[path = "../platform/linux/spawn.rs"]
        mod spawn;
    } else {
        mod spawn {
            //! Not done on this OS yet: callers fall back to fork and exec.
            pub fn spawn_in_dir(
                _dir: std::os::fd::RawFd,
                _argv: &[std::ffi::CString],
                _new_session: bool,
                _reset: &[super::Signal],
            ) -> std::io::Result<nix::unistd::Pid> {
                Err(super::unsupported("posix_spawn with a working directory"))
            }
        }
    }
}

/// Starts `argv[0]`, looked up in `$PATH`, with `argv`, in the directory open as `dir`, with the
/// signals in `reset` at their defaults and an empty signal mask, in a new session if asked.
/// Fails like exec would (ENOENT when not found). `Unsupported` where the OS has no such call:
/// the caller then forks and execs itself.
pub fn spawn_in_dir(
    dir: RawFd,
    argv: &[std::ffi::CString],
    new_session: bool,
    reset: &[Signal],
) -> io::Result<nix::unistd::Pid> {
    spawn::spawn_in_dir(dir, argv, new_session, reset)
}
