//! The platform layer: what runit needs from the kernel, behind one contract (all OSes).
//!
//! This file holds the contract, the types it speaks in, and the one choice of backend. Each
//! backend, `platform/<os>/mod.rs`, exports the same modules: `event` (the event loop, type
//! `Native`), `os` (the OS services below), `proc` (other processes), `utmp`, `proctitle` and
//! `ns` (chpst's namespaces; Linux's own, `Unsupported` elsewhere).
//! What every Unix does alike lives once in `platform/unix/` (the fd bookkeeping of the loops,
//! the self-pipe, the portable poll loop, the resource-limit table, utmpx, the generic POSIX
//! services), and the backends re-export it.
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
//!   [`nonblocking_pipe`] makes the close-on-exec, non-blocking pipes the loops read.
//! - **Directories.** [`Platform::watch_dir`] reports [`Event::DirChanged`] after an entry of the
//!   directory was created, removed, renamed or had its attributes changed. It is a hint to
//!   rescan, may coalesce, and carries no detail. Backends that cannot watch answer
//!   `Unsupported`; callers then rescan on a deadline.
//! - **Time.** `wait(Some(deadline))` returns [`Event::Timeout`] once the deadline passed and
//!   nothing else is pending; `wait(None)` sleeps until an event. No backend wakes up on its own.
//! - **Children** are not an event source of their own: subscribe to SIGCHLD and reap with
//!   `child::reap` until it reports none, on every wakeup (signals coalesce).
//! - **Other processes** (runsv stops what an earlier runsv of its service left running):
//!   [`process_ident`] names one incarnation of a pid, [`exit_fd`] becomes readable when it
//!   exits.
//! - **PID 1**: [`reboot`], [`set_ctrl_alt_del`], [`shutdown_signals`] (the kernel's or a
//!   container manager's requests to init), [`in_container`], [`set_controlling_tty`], and
//!   [`SUPPORTS_PID1`].
//! - **Resource limits** for chpst: [`get_rlimit`], [`set_rlimit`], [`rlimit_supported`], over
//!   the limits named by [`Resource`] (unlimited is `u64::MAX` everywhere).
//! - **Namespaces** for chpst -F and -I (Linux only): [`namespaces_supported`],
//!   [`unshare_pid_and_mounts`], [`make_mounts_private`], [`mount_fresh_proc`].
//! - **utmp and wtmp** for utmpset: [`utmp_logout`], [`wtmp_logout`].
//! - **The process title** (runsvdir's log window): [`ProcTitle`].
//! - **Hints that cost nothing when absent**: [`start_writeback`] (svlogd), [`trim_heap`]
//!   (runsvdir and runsv after start-up).
//!
//! What an OS lacks answers `io::ErrorKind::Unsupported` with the OS named in the message,
//! never a silent success. Errors are `io::Error`; errno is matched by value (`raw_os_error`),
//! never by text.
//!
//! # Backends
//!
//! | OS | event loop | directories | `Interest::Gone` | other processes | PID 1 |
//! | --- | --- | --- | --- | --- | --- |
//! | Linux | signalfd + epoll | inotify | EPOLLERR | /proc, pidfd | yes |
//! | FreeBSD | kqueue | EVFILT_VNODE | EVFILT_WRITE EV_EOF | sysctl, EVFILT_PROC | yes |
//! | OpenBSD, NetBSD | kqueue | EVFILT_VNODE | EVFILT_WRITE EV_EOF | sysctl, EVFILT_PROC | yes |
//! | macOS | kqueue | EVFILT_VNODE | EVFILT_WRITE EV_EOF | proc_pidinfo, EVFILT_PROC | no (launchd) |
//! | illumos | event ports + self-pipe | PORT_SOURCE_FILE | no | psinfo, no exit fd | yes |
//! | portable | poll + self-pipe | `stat()` once a second | if poll reports it | OS's | OS's |
//!
//! The backend is chosen here and only here (with `build.rs` and `platform/**`, the only places
//! that name a `target_os`). The `runit_portable` cfg makes each backend's `event` the portable
//! poll loop, so its code paths can be tested on Linux too; the OS services stay native.

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::path::Path;
use std::time::Instant;

pub use nix::sys::signal::Signal;

use crate::child::Pid;

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
    /// A kernel status file (a cgroup's `cgroup.events`) changed since it was last read:
    /// reported as [`Event::Readable`] until the file is read again from its start. Linux
    /// only; elsewhere `Unsupported`.
    Changed,
}

/// What [`reboot`] should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Reboot,
    Halt,
    PowerOff,
}

/// The event source of one single-threaded supervisor. The programs use [`Native`]; the state
/// machines that decide reach it only through their own `Effects` traits, whose unit tests
/// need no platform at all. The trait holds every backend to one contract, and the backend
/// tests (`tests/platform.rs`) run against each: the OS's own and [`Portable`].
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
    /// Gives the event source up in a single-threaded process that is about to exit, without
    /// making it wait for the kernel's teardown of it (see the Linux backend, where that wait
    /// is measurable); elsewhere the same as dropping it.
    fn release(self) {
        drop(self);
    }
}

/// A signal that asks PID 1 for an orderly shutdown, beyond runit's own CONT and INT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownSignal {
    pub signal: Signal,
    /// What the sender asks for.
    pub how: How,
    /// Honoured only when PID 1 runs in a container; on a machine the signal means something
    /// else or nothing (the kernel's SIGTERM to every process spares init anyway).
    pub container_only: bool,
}

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

// The one choice of backend.
cfg_if::cfg_if! {
    if #[cfg(target_os = "linux")] {
        #[path = "../platform/linux/mod.rs"]
        mod backend;
    } else if #[cfg(apple)] {
        #[path = "../platform/macos/mod.rs"]
        mod backend;
    } else if #[cfg(bsd)] {
        #[path = "../platform/bsd/mod.rs"]
        mod backend;
    } else if #[cfg(solarish)] {
        #[path = "../platform/solaris/mod.rs"]
        mod backend;
    } else {
        #[path = "../platform/portable/mod.rs"]
        mod backend;
    }
}

// What every Unix backend shares (and the portable poll loop, built everywhere so tests can
// compare it with the native one).
#[path = "../platform/unix/mod.rs"]
mod unix;

use backend::os;

/// The event loop this build uses: the OS's own backend, or [`Portable`] under
/// `--cfg runit_portable`.
pub type Native = backend::event::Native;

/// The portable event loop (poll, a self-pipe, `stat()` rescans), available on every OS.
pub type Portable = unix::poll::Native;

/// Whether runit may run as PID 1 here (not on macOS, where launchd is PID 1).
pub const SUPPORTS_PID1: bool = os::SUPPORTS_PID1;

/// The name of the OS, for messages about what it lacks.
pub const OS_NAME: &str = std::env::consts::OS;

/// The error a backend returns for what its OS cannot do, naming the OS.
pub(crate) fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, format!("{what} is not supported on {OS_NAME}"))
}

/// Resets, in a freshly forked child, what [`Platform::new`] changed about `signals`: default
/// dispositions and an empty signal mask. Async-signal-safe; called by `child::spawn` in the child.
pub fn reset_child_signals(signals: &[Signal]) -> io::Result<()> {
    os::reset_child_signals(signals)
}

/// A non-blocking, close-on-exec pipe; atomically with pipe2 where it exists, so a fork in
/// another thread cannot inherit it (macOS lacks pipe2: flags are set right after).
pub fn nonblocking_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    os::nonblocking_pipe()
}

/// Names one incarnation of process `pid`: a token derived from when it started (clock ticks
/// since boot plus the boot's id on Linux, the absolute start time on the BSDs, macOS and
/// illumos), so that a pid reused by another process, or recorded before a reboot, never
/// matches. `Ok(None)` when no such process lives (a zombie counts as gone); `Unsupported`
/// where the OS gives no way to tell.
pub fn process_ident(pid: Pid) -> io::Result<Option<String>> {
    backend::proc::ident(pid)
}

/// An fd that becomes readable once process `pid`, child or not, has exited: a pidfd on Linux,
/// a kqueue holding EVFILT_PROC NOTE_EXIT on the BSDs and macOS. `Unsupported` elsewhere (the
/// caller re-checks [`process_ident`] on a deadline).
pub fn exit_fd(pid: Pid) -> io::Result<OwnedFd> {
    backend::proc::exit_fd(pid)
}

/// Reboots, halts or powers off now. Only returns on failure. Callers fork first: on Linux a
/// halt ends the calling process.
pub fn reboot(how: How) -> io::Result<()> {
    os::reboot(how)
}

/// Whether ctrl-alt-del should reach PID 1 as a signal (`true`) or reboot at once (`false`).
pub fn set_ctrl_alt_del(to_signal: bool) -> io::Result<()> {
    os::set_ctrl_alt_del(to_signal)
}

/// The signals PID 1 turns into a shutdown on this OS.
pub fn shutdown_signals() -> &'static [ShutdownSignal] {
    os::SHUTDOWN_SIGNALS
}

/// Whether this process runs in a container of its own (a child PID namespace on Linux; never
/// elsewhere: jails and zones have no init of their own to stop).
pub fn in_container() -> bool {
    os::in_container()
}

/// Makes the terminal `fd` the controlling terminal of the calling session leader, without
/// stealing it from another session. Async-signal-safe (the stage-1 child calls it after
/// `setsid()`).
pub fn set_controlling_tty(fd: RawFd) -> io::Result<()> {
    os::set_controlling_tty(fd)
}

/// Whether this OS has limit `r`.
pub fn rlimit_supported(r: Resource) -> bool {
    unix::rlimit::supported(r)
}

/// Reads limit `r` (getrlimit(2)).
pub fn get_rlimit(r: Resource) -> io::Result<RLimit> {
    unix::rlimit::get(r)
}

/// Sets limit `r` (setrlimit(2)).
pub fn set_rlimit(r: Resource, lim: RLimit) -> io::Result<()> {
    unix::rlimit::set(r, lim)
}

/// Whether this OS has PID and mount namespaces (chpst -F and -I): `Unsupported`, naming the
/// OS, everywhere but Linux.
pub fn namespaces_supported() -> io::Result<()> {
    backend::ns::supported()
}

/// unshare(CLONE_NEWPID | CLONE_NEWNS): the caller moves into a mount namespace of its own at
/// once, and its next child becomes PID 1 of a new PID namespace (the caller stays where it
/// is). Needs CAP_SYS_ADMIN.
pub fn unshare_pid_and_mounts() -> io::Result<()> {
    backend::ns::unshare_pid_and_mounts()
}

/// Makes every mount of the caller's mount namespace private, recursively (MS_REC|MS_PRIVATE on
/// `/`), so that nothing mounted or unmounted here reaches the namespace it was copied from,
/// nor the other way round. EINVAL when `/` is no mount point (after a chroot).
pub fn make_mounts_private() -> io::Result<()> {
    backend::ns::make_mounts_private()
}

/// Replaces `/proc` (lazily unmounting the inherited one) with a proc of the caller's PID
/// namespace, so that `ps` sees only that namespace's processes. Call it from the namespace's
/// PID 1, after [`make_mounts_private`]. `Ok(false)` when there is no `/proc` to mount on (a
/// bare chroot).
pub fn mount_fresh_proc() -> io::Result<bool> {
    backend::ns::mount_fresh_proc()
}

/// Marks the utmp record of terminal `line` as logged out: dead process, no user, no host, the
/// current time. `Ok(false)` when no record with a user is open on `line`.
pub fn utmp_logout(line: &[u8]) -> Result<bool, UtmpError> {
    backend::utmp::utmp_logout(line)
}

/// Appends a logout record for terminal `line` to wtmp, creating wtmp if it is missing.
pub fn wtmp_logout(line: &[u8]) -> Result<(), UtmpError> {
    backend::utmp::wtmp_logout(line)
}

/// The datagram socket a service's sd_notify messages arrive on (`notification-socket`):
/// `NotifySocket::open(tag)`, `address()` (what `NOTIFY_SOCKET` says), `fd()` to watch, and
/// `recv(buf)`, which gives each datagram's full length and, where the OS tells (Linux), its
/// sender's pid. `notify_sender_belongs(sender, run)`: whether that sender is the run or one
/// of its descendants. Linux uses an abstract name and the sender's credentials; elsewhere
/// the socket is a file under `$TMPDIR` whose random name only the service is told.
pub use backend::notify::{belongs_to as notify_sender_belongs, Socket as NotifySocket};

/// The process tree of a contained service (a service directory with `cgroup/`).
///
/// - Linux: a cgroup v2 of its own (`platform/linux/cgroup.rs`): `Tree::open(name, which,
///   controllers)` makes `<cgroup2 mount><own cgroup>/runit/<name>/<which>` with the
///   controllers enabled; `limit(file, value)` writes one of its files; a child spawned with
///   its `join()` is inside it from its first instruction; `busy()` reads `cgroup.events`,
///   whose `change_fd()` reports [`Interest::Changed`]; `signal` reaches every member, `kill`
///   writes `cgroup.kill`; `remove` deletes it; `reopen(path)` takes over the tree an earlier
///   runsv recorded.
/// - Elsewhere: the process group a contained run leads (`platform/unix/pgroup.rs`), without
///   limits (`TREE_LIMITS` is false, `open` with controllers and `limit` answer
///   `Unsupported`) and without a change fd (the caller re-checks `busy` on a deadline).
pub use backend::tree::{Join as TreeJoin, Tree, LIMITS as TREE_LIMITS};

/// Forks a child of tree `join` (see [`Tree`]): fork(2)'s result, and whether the child is in
/// the tree already (otherwise it calls [`enter_tree`] first thing).
pub fn fork_into(join: Option<&TreeJoin>) -> (libc::pid_t, bool) {
    backend::tree::fork(join)
}

/// In a freshly forked child: enters tree `join`. Async-signal-safe.
pub fn enter_tree(join: &TreeJoin) -> io::Result<()> {
    backend::tree::enter(join)
}

/// One command-line argument of this process, rewritable in place so that `ps` shows new text
/// there: `ProcTitle::for_arg(i)` (0 is the program name), `len()`, and `set(text)` (cut to the
/// argument's length). Where the OS offers no way, `for_arg` answers `Unsupported`.
pub use backend::proctitle::ProcTitle;

/// Starts writing a file's dirty pages to disk without waiting for it (Linux
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)`); elsewhere a no-op, the kernel's own writeback
/// does it a little later. A hint for durability that costs no latency; errors are ignored.
pub fn start_writeback(fd: RawFd) {
    os::start_writeback(fd)
}

/// Hands the free pages inside the heap back to the kernel. glibc's malloc keeps what a
/// program once used until the top of the heap is free (a long-running supervisor's start-up
/// peaks stay resident for good); other C libraries return memory on their own.
pub fn trim_heap() {
    os::trim_heap()
}
