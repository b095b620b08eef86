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
//!   signals do). Children spawned afterwards get default dispositions and an empty mask back
//!   through [`reset_child_signals`], which `child::spawn` calls between fork and exec.
//!   Dispositions are process-wide: keep one loop that takes signals per process at a time (the
//!   self-pipe backends refuse a second one with `AlreadyExists`; dropping a self-pipe or kqueue
//!   loop restores the previous dispositions, Linux leaves the signals blocked).
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
//!   `child::reap` until it reports none, on every wakeup (signals coalesce).
//! - **OS services**: [`reboot`], [`set_ctrl_alt_del`], [`become_subreaper`]. What an OS lacks
//!   answers `io::ErrorKind::Unsupported` with the OS named in the message, never a silent
//!   success; `supports_*` tell in advance.
//!
//! Errors are `io::Error`; errno is matched by value (`raw_os_error`), never by text.
//!
//! # Backends
//!
//! | OS | event loop | directories | `Interest::Gone` | subreaper | PID 1 |
//! | --- | --- | --- | --- | --- | --- |
//! | Linux | signalfd + epoll | inotify | EPOLLERR | prctl | yes |
//! | FreeBSD | kqueue | EVFILT_VNODE | EVFILT_WRITE EV_EOF | procctl | yes |
//! | OpenBSD, NetBSD | kqueue | EVFILT_VNODE | EVFILT_WRITE EV_EOF | no | yes |
//! | macOS | kqueue | EVFILT_VNODE | EVFILT_WRITE EV_EOF | no | no (launchd) |
//! | illumos | event ports + self-pipe | PORT_SOURCE_FILE | no | no | yes |
//! | portable | poll + self-pipe | `stat()` once a second | if poll reports it | OS's | OS's |
//!
//! The backend is chosen here and only here (with `build.rs` and `platform/**`, the only places
//! that name a `target_os`). The `runit_portable` cfg swaps the event loop for the portable poll
//! backend on any OS, so its code paths can be tested on Linux too; the OS services stay native.

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

// The OS services (reboot, ctrl-alt-del, subreaper, signal reset, ...) always come from the
// target OS's module, named `imp`.
cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
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
        #[path = "../platform/portable/os.rs"]
        mod imp;
    }
}

// The portable event loop is built everywhere (tests compare it with the native one).
#[path = "../platform/portable/mod.rs"]
mod portable;

// The event loop: the OS's own (`imp::event`), or the portable one under `--cfg runit_portable`
// and on OSes without a native backend. Only the event loop is swapped; OS services stay.
cfg_if::cfg_if! {
    if #[cfg(any(runit_portable, not(any(target_os = "linux", apple, bsd, solarish))))] {
        use portable as event;
    } else {
        use imp::event;
    }
}

/// The event loop this build uses: the OS's own backend, or [`Portable`] under
/// `--cfg runit_portable`.
pub type Native = event::Native;

/// The portable event loop (poll, a self-pipe, `stat()` rescans), available on every OS.
pub type Portable = portable::Native;

/// Whether runit may run as PID 1 here (not on macOS, where launchd is PID 1).
pub const SUPPORTS_PID1: bool = imp::SUPPORTS_PID1;

/// The name of the OS, for messages about what it lacks.
pub const OS_NAME: &str = std::env::consts::OS;

/// Resets, in a freshly forked child, what [`Platform::new`] changed about `signals`: default
/// dispositions and an empty signal mask. Async-signal-safe; called by `child::spawn` in the child.
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
    event::SUPPORTS_DIR_WATCH
}

/// The error a backend returns for what its OS cannot do, naming the OS.
pub fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} is not supported on {OS_NAME}"))
}

/// Starts writing a file's dirty pages to disk without waiting for it (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`); elsewhere a no-op, the kernel's own writeback
/// does it a little later. A hint for durability that costs no latency; errors are ignored.
pub fn start_writeback(fd: RawFd) {
    cfg_if::cfg_if! {
        if #[cfg(target_os = "linux")] {
            // SAFETY: sync_file_range only reads the fd number; a bad fd just fails.
            unsafe { libc::sync_file_range(fd, 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
        } else {
            let _ = fd;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resource limits (chpst, softlimit). Which limits exist is a fact of the OS, not of the event
// mechanism, so the table is chosen by target OS even when `runit_portable` picks the poll loop.

/// A per-process resource limit, named by what it limits. An OS lacking one answers
/// [`rlimit_supported`] `false` and `Unsupported` from get/set; chpst then warns and carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The data segment (RLIMIT_DATA).
    Data,
    /// The stack segment (RLIMIT_STACK).
    Stack,
    /// Memory locked into RAM (RLIMIT_MEMLOCK).
    LockedMemory,
    /// All mapped memory (RLIMIT_VMEM where it exists, else RLIMIT_AS).
    AddressSpace,
    /// Open file descriptors (RLIMIT_NOFILE).
    OpenFiles,
    /// Processes of the real user (RLIMIT_NPROC).
    Processes,
    /// Size of a written file (RLIMIT_FSIZE).
    FileSize,
    /// Size of a core dump (RLIMIT_CORE).
    CoreSize,
    /// Resident set size (RLIMIT_RSS).
    ResidentSet,
    /// CPU seconds, SIGXCPU beyond the soft limit (RLIMIT_CPU).
    CpuTime,
}

/// The soft and hard value of a limit; `u64::MAX` means unlimited on every OS (whatever the
/// OS's own RLIM_INFINITY is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RLimit {
    pub soft: u64,
    pub hard: u64,
}

#[path = "../platform/rlimit.rs"]
mod rlimit_os;

/// Whether this OS has limit `r`.
pub fn rlimit_supported(r: Resource) -> bool {
    rlimit_os::supported(r)
}

/// Reads limit `r` (getrlimit(2)).
pub fn get_rlimit(r: Resource) -> io::Result<RLimit> {
    let raw = rlimit_os::get(r).unwrap_or_else(|| Err(unsupported_rlimit(r)))?;
    Ok(RLimit { soft: rlim_from_raw(raw.rlim_cur), hard: rlim_from_raw(raw.rlim_max) })
}

/// Sets limit `r` (setrlimit(2)).
pub fn set_rlimit(r: Resource, lim: RLimit) -> io::Result<()> {
    let raw = libc::rlimit { rlim_cur: rlim_to_raw(lim.soft), rlim_max: rlim_to_raw(lim.hard) };
    rlimit_os::set(r, &raw).unwrap_or_else(|| Err(unsupported_rlimit(r)))
}

fn unsupported_rlimit(r: Resource) -> io::Error {
    unsupported(&format!("the {r:?} resource limit"))
}

// rlim_t is signed on FreeBSD, unsigned elsewhere: the conversion is only useless on some OSes.
#[allow(clippy::useless_conversion)]
fn rlim_from_raw(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        u64::try_from(v).unwrap_or(u64::MAX)
    }
}

/// Values at or above the OS's RLIM_INFINITY (0x7fff... on the BSDs) mean unlimited there.
fn rlim_to_raw(v: u64) -> libc::rlim_t {
    match libc::rlim_t::try_from(v) {
        Ok(raw) if raw < libc::RLIM_INFINITY => raw,
        _ => libc::RLIM_INFINITY,
    }
}

// ---------------------------------------------------------------------------------------------
// utmp and wtmp (utmpset). Chosen by target OS and libc, like the limits.

/// Why a utmp or wtmp update failed.
#[derive(Debug)]
pub enum UtmpError {
    /// The line does not fit the record's line field.
    NameTooLong,
    /// The database file (named) could not be opened.
    Open(&'static str, io::Error),
    /// Reading or writing the database failed, or this system keeps no such database.
    Io(io::Error),
}

cfg_if::cfg_if! {
    if #[cfg(any(
        all(target_os = "linux", target_env = "gnu"),
        target_os = "freebsd",
        target_os = "dragonfly",
        apple,
        solarish
    ))] {
        #[path = "../platform/utmpx.rs"]
        mod utmp_os;
    } else if #[cfg(target_os = "linux")] {
        #[path = "../platform/linux/utmp.rs"]
        mod utmp_os;
    } else if #[cfg(any(target_os = "openbsd", target_os = "netbsd"))] {
        #[path = "../platform/bsd/utmp.rs"]
        mod utmp_os;
    } else {
        #[path = "../platform/portable/utmp.rs"]
        mod utmp_os;
    }
}

/// Marks the utmp record of terminal `line` as logged out: dead process, no user, no host, the
/// current time. `Ok(false)` when no record with a user is open on `line`.
pub fn utmp_logout(line: &[u8]) -> Result<bool, UtmpError> {
    utmp_os::utmp_logout(line)
}

/// Appends a logout record for terminal `line` to wtmp, creating wtmp if it is missing.
pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
    utmp_os::wtmp_logout(line)
}

#[path = "../platform/pid1.rs"]
mod pid1;
pub use pid1::{in_container, set_controlling_tty, shutdown_signals, ShutdownSignal};

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

/// A non-blocking, close-on-exec pipe; atomically with pipe2 where it exists, so a fork in
/// another thread cannot inherit it (macOS lacks pipe2: flags are set right after).
pub fn nonblocking_pipe() -> io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    cfg_if::cfg_if! {
        if #[cfg(apple)] {
            use crate::sys::{cvt, set_cloexec, set_nonblock};
            use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
            let mut fds = [-1; 2];
            // SAFETY: pipe writes two fds into the array.
            cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
            // SAFETY: both fds were just created by pipe and are owned by nobody else.
            let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
            for fd in [&r, &w] {
                set_cloexec(fd.as_raw_fd(), true)?;
                set_nonblock(fd, true)?;
            }
            Ok((r, w))
        } else {
            use nix::fcntl::OFlag;
            Ok(nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK)?)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Processes that are not our children: runsv stops what an earlier runsv of the same service
// left running (see `supervise::runsv::leftover`).

cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        #[path = "../platform/linux/proc.rs"]
        mod proc_os;
    } else if #[cfg(any(bsd, apple))] {
        #[path = "../platform/bsd/proc.rs"]
        mod proc_os;
    } else if #[cfg(solarish)] {
        #[path = "../platform/solaris/proc.rs"]
        mod proc_os;
    } else {
        #[path = "../platform/portable/proc.rs"]
        mod proc_os;
    }
}

/// Names one incarnation of process `pid`: a token derived from when it started (clock ticks
/// since boot plus the boot's id on Linux, the absolute start time on the BSDs, macOS and
/// illumos), so that a pid reused by another process, or recorded before a reboot, never
/// matches. `Ok(None)` when no such process lives (a zombie counts as gone); `Unsupported`
/// where the OS gives no way to tell.
pub fn process_ident(pid: crate::child::Pid) -> io::Result<Option<String>> {
    proc_os::ident(pid)
}

/// An fd that becomes readable once process `pid`, child or not, has exited: a pidfd on Linux,
/// a kqueue holding EVFILT_PROC NOTE_EXIT on the BSDs and macOS. `Unsupported` elsewhere (the
/// caller re-checks [`process_ident`] on a deadline).
pub fn exit_fd(pid: crate::child::Pid) -> io::Result<std::os::fd::OwnedFd> {
    proc_os::exit_fd(pid)
}

/// Hands the free pages inside the heap back to the kernel. glibc's malloc keeps what a
/// program once used until the top of the heap is free (a long-running supervisor's start-up
/// peaks stay resident for good); `malloc_trim` releases every free page. Other C libraries
/// (musl's mallocng) return memory on their own: nothing to do there.
pub fn trim_heap() {
    cfg_if::cfg_if! {
        if #[cfg(all(target_os = "linux", target_env = "gnu"))] {
            // SAFETY: malloc_trim only walks glibc's own free lists; single-threaded caller.
            unsafe { libc::malloc_trim(0) };
        }
    }
}
