//! Child processes, for every program (all Unix): one description of a child ([`Spec`]), one
//! [`spawn`] that forks and execs it, one reaping loop ([`reap`]), one check for a fork that
//! failed for lack of resources ([`transient`]), one pid type ([`Pid`]) and one wait status
//! ([`Status`]).
//!
//! fork+exec by hand, as runit does. Neither `std::process::Command` nor posix_spawn: both make
//! the parent wait for each child to exec, and with a thousand services starting at once that
//! wait is spent queueing for a CPU behind the services already started. Measured with 3000
//! services on 2 cores (ci/bench-runsvdir's tree): all up in 4.7-5.1 s with fork, 5.9-6.1 s
//! with posix_spawn; fork's page-table copy of these small processes costs less than the
//! waits. Children whose start the caller must judge (PID 1's stages, svlogd's processor,
//! sv's `./check`) still get the exec error back, through a close-on-exec pipe
//! ([`Report::ToParent`]); the others report in one line and exit ([`Report::Line`]).
//!
//! Between fork and exec the child only makes async-signal-safe system calls on memory made
//! ready before the fork (argv pointers, message parts), and ends in exec or `_exit`.

use std::ffi::{c_char, CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::ptr;

use crate::errstr::errno_text;
use crate::fail::exit;
use crate::platform::{self, Signal};
use crate::sys::cvt;

/// The one pid type of the crate.
pub use nix::unistd::Pid;

/// A wait status, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub i32);

impl Status {
    /// The exit code, for a child that exited.
    pub fn exit_code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }

    /// The signal that ended the child, for one that was killed.
    pub fn signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }

    /// Exited 0.
    pub fn success(self) -> bool {
        self.exit_code() == Some(0)
    }
}

/// Where the child changes directory before exec.
#[derive(Debug, Clone, Copy)]
pub enum Dir<'a> {
    Path(&'a CStr),
    Fd(RawFd),
}

/// The child's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// The parent's session and process group.
    Inherit,
    /// A session (and process group) of its own, without a controlling terminal.
    New,
    /// A session of its own whose controlling terminal is this terminal, which also becomes
    /// fds 0, 1 and 2. Failures leave the child without it rather than unstarted.
    Terminal(RawFd),
}

/// What the child does when a step before exec, or exec itself, fails.
#[derive(Debug, Clone, Copy)]
pub enum Report<'a> {
    /// [`spawn`] returns the error, and has reaped the child.
    ToParent,
    /// The child writes `<prefix><words><name>: <error>` to fd 2 in one `writev` (a shared log
    /// pipe gets the line whole) and exits `code`; [`spawn`] returns as soon as it forked.
    Line { prefix: &'a [u8], name: &'a [u8], code: i32, words: Words<'a> },
}

/// The words of a [`Report::Line`].
#[derive(Debug, Clone, Copy)]
pub enum Words<'a> {
    /// Words naming the step that failed (runsv's).
    PerStep,
    /// The same words whatever failed (runsvdir's `fatal: unable to start runsv `).
    Always(&'a [u8]),
}

/// One child to start.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    /// The file to exec; with `search`, a name looked up along `$PATH` unless it has a slash.
    pub program: &'a CStr,
    /// The argument vector, `argv[0]` first (at least one entry).
    pub argv: &'a [&'a CStr],
    pub search: bool,
    pub dir: Option<Dir<'a>>,
    /// `(from, to)`: fd `from` becomes the child's fd `to`, in order, without close-on-exec.
    pub fds: &'a [(RawFd, RawFd)],
    /// Fds closed in the child (failures ignored: the fd may not be open).
    pub close: &'a [RawFd],
    pub session: Session,
    /// The signals the parent took over: the child gets them back at their defaults, with
    /// SIGPIPE (ignored by every Rust program) and an empty signal mask.
    pub signals: &'a [Signal],
    pub report: Report<'a>,
    /// The child's environment, in place of the parent's (then `search` is not done).
    pub env: Option<&'a Env>,
    /// The process tree (a contained service's cgroup) the child starts in.
    pub tree: Option<&'a platform::TreeJoin>,
}

impl<'a> Spec<'a> {
    /// `program` run as `argv`, in our directory and session, errors back to the parent.
    pub fn new(program: &'a CStr, argv: &'a [&'a CStr]) -> Spec<'a> {
        Spec {
            program,
            argv,
            search: false,
            dir: None,
            fds: &[],
            close: &[],
            session: Session::Inherit,
            signals: &[],
            report: Report::ToParent,
            env: None,
            tree: None,
        }
    }
}

/// An environment made before the fork: the parent's variables, less those set here, plus
/// those; and optionally one variable whose value the child fills in with its own pid between
/// fork and exec (sd_notify's `WATCHDOG_PID`, which must name the service's own process).
pub struct Env {
    /// Each `NAME=value`, from `CString::into_raw` (freed on drop).
    vars: Vec<*mut c_char>,
    /// `vars` and a NULL, for execve.
    ptrs: Vec<*const c_char>,
    /// Where the child writes its pid's digits (room for 11 and the NUL).
    pid_slot: Option<*mut c_char>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Env({} variables)", self.vars.len())
    }
}

/// The digits a pid takes at most, with its sign.
const PID_DIGITS: usize = 11;

impl Env {
    /// The parent's environment with `set` added (replacing variables of the same names) and,
    /// with `self_pid`, that variable set to the child's pid. A name or value with a NUL is
    /// left out.
    pub fn new(set: &[(&str, &OsStr)], self_pid: Option<&str>) -> Env {
        let replaced = |name: &[u8]| {
            set.iter().any(|(n, _)| n.as_bytes() == name)
                || self_pid.is_some_and(|p| p.as_bytes() == name)
        };
        let mut strings: Vec<Vec<u8>> = std::env::vars_os()
            .filter(|(n, _)| !replaced(n.as_bytes()))
            .map(|(n, v)| [n.as_bytes(), b"=", v.as_bytes()].concat())
            .collect();
        strings.extend(set.iter().map(|(n, v)| [n.as_bytes(), b"=", v.as_bytes()].concat()));
        let mut env = Env { vars: Vec::new(), ptrs: Vec::new(), pid_slot: None };
        for s in strings {
            if let Ok(c) = CString::new(s) {
                env.vars.push(c.into_raw());
            }
        }
        if let Some(name) = self_pid {
            let text = [name.as_bytes(), b"=", &[b'0'; PID_DIGITS]].concat();
            if let Ok(c) = CString::new(text) {
                let raw = c.into_raw();
                // SAFETY: the string is name.len() + 1 + PID_DIGITS bytes long, plus its NUL.
                env.pid_slot = Some(unsafe { raw.add(name.len() + 1) });
                env.vars.push(raw);
            }
        }
        env.ptrs = env.vars.iter().map(|&p| p.cast_const()).chain([ptr::null()]).collect();
        env
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for &p in &self.vars {
            // SAFETY: each pointer came from CString::into_raw and is freed once, here.
            drop(unsafe { CString::from_raw(p) });
        }
    }
}

/// In the child: writes its pid into `slot` (room for [`PID_DIGITS`] and a NUL).
fn write_own_pid(slot: *mut c_char) {
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let mut digits = [0u8; PID_DIGITS];
    let mut n = pid.unsigned_abs();
    let mut len = 0;
    loop {
        if let Some(d) = digits.get_mut(len) {
            *d = b'0' + (n % 10) as u8;
        }
        len += 1;
        n /= 10;
        if n == 0 || len == PID_DIGITS {
            break;
        }
    }
    for i in 0..len {
        let d = digits.get(len - 1 - i).copied().unwrap_or(b'0');
        // SAFETY: i < len <= PID_DIGITS, within the slot; the child's own copy of the memory.
        unsafe { *slot.add(i) = d as c_char };
    }
    // SAFETY: len <= PID_DIGITS, so the NUL lands within the slot.
    unsafe { *slot.add(len) = 0 };
}

/// A step of the child's set-up, for the words of its failure.
#[derive(Debug, Clone, Copy)]
enum Step {
    Fd(RawFd),
    Dir,
    Signals,
    Exec,
    Tree,
}

impl Step {
    fn words(self) -> &'static [u8] {
        match self {
            Step::Fd(0) => b"unable to set up standard input for ",
            Step::Fd(1) => b"unable to set up standard output for ",
            Step::Fd(_) => b"unable to set up a descriptor for ",
            Step::Dir => b"unable to change directory for ",
            Step::Signals => b"unable to reset signals for ",
            Step::Exec => b"unable to start ",
            Step::Tree => b"unable to enter the process tree for ",
        }
    }
}

/// Forks and execs `spec`; returns the child's pid. With [`Report::ToParent`] it returns once
/// the child has exec'd, or the child's error.
pub fn spawn(spec: &Spec) -> io::Result<Pid> {
    if spec.argv.is_empty() {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let argv: Vec<*const c_char> =
        spec.argv.iter().map(|a| a.as_ptr()).chain([ptr::null()]).collect();
    let pipe = match spec.report {
        Report::ToParent => Some(error_pipe()?),
        Report::Line { .. } => None,
    };
    // The child only runs `child`, which keeps to async-signal-safe calls on memory prepared
    // here (argv, the spec's C strings and byte slices) and ends in exec or _exit.
    match platform::fork_into(spec.tree) {
        (-1, _) => Err(io::Error::last_os_error()),
        (0, entered) => {
            let tree = spec.tree.filter(|_| !entered);
            child(spec, tree, &argv, pipe.as_ref().map(|p| p.1.as_raw_fd()))
        }
        (pid, _) => {
            let pid = Pid::from_raw(pid);
            match pipe {
                Some((r, w)) => {
                    drop(w);
                    exec_result(pid, r)
                }
                None => Ok(pid),
            }
        }
    }
}

/// The pipe a [`Report::ToParent`] child reports through: close-on-exec, so a successful
/// exec closes it and the parent reads end of file; blocking on the parent's side. The write
/// end is numbered 10 or more, out of the way of the low fds a spec places (svlogd's 0, 1, 4
/// and 5).
fn error_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = platform::nonblocking_pipe()?;
    crate::sys::set_nonblock(&r, false)?;
    // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor.
    let high = cvt(unsafe { libc::fcntl(w.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) })?;
    // SAFETY: `high` is new and ours.
    Ok((r, unsafe { OwnedFd::from_raw_fd(high) }))
}

/// Reads the child's errno from the pipe: none means it exec'd.
fn exec_result(pid: Pid, r: OwnedFd) -> io::Result<Pid> {
    let mut buf = [0u8; 4];
    let n = loop {
        // SAFETY: read into a local buffer of its length.
        match cvt(unsafe { libc::read(r.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
            Ok(n) => break n,
        }
    };
    if n == 0 {
        return Ok(pid);
    }
    // The child reported and is ending: collect it here, it is nobody else's business.
    let _ = wait(pid);
    Err(io::Error::from_raw_os_error(i32::from_ne_bytes(buf)))
}

/// The forked child: sets itself up as `spec` says and execs; never returns. `tree` is the
/// process tree it still has to enter.
fn child(
    spec: &Spec,
    tree: Option<&platform::TreeJoin>,
    argv: &[*const c_char],
    pipe: Option<RawFd>,
) -> ! {
    if tree.is_some_and(|t| platform::enter_tree(t).is_err()) {
        fail(spec, Step::Tree, pipe);
    }
    session(spec.session);
    for &(from, to) in spec.fds {
        if move_fd(from, to).is_err() {
            fail(spec, Step::Fd(to), pipe);
        }
    }
    for &fd in spec.close {
        // SAFETY: closing one of the child's own descriptors.
        unsafe { libc::close(fd) };
    }
    if let Some(dir) = spec.dir {
        let r = match dir {
            // SAFETY: a valid C string prepared before the fork.
            Dir::Path(p) => unsafe { libc::chdir(p.as_ptr()) },
            // SAFETY: fchdir on a descriptor the spec names.
            Dir::Fd(fd) => unsafe { libc::fchdir(fd) },
        };
        if r == -1 {
            fail(spec, Step::Dir, pipe);
        }
    }
    if reset_signals(spec.signals).is_err() {
        fail(spec, Step::Signals, pipe);
    }
    // SAFETY: `argv` holds pointers to live C strings and ends in NULL; exec only returns on
    // failure. execvp (runsvdir's $PATH lookup) is not on POSIX's async-signal-safe list, but
    // runsvdir is single-threaded, so no lock can be held in the child.
    unsafe {
        if let Some(env) = spec.env {
            if let Some(slot) = env.pid_slot {
                write_own_pid(slot);
            }
            libc::execve(spec.program.as_ptr(), argv.as_ptr(), env.ptrs.as_ptr());
        } else if spec.search {
            libc::execvp(spec.program.as_ptr(), argv.as_ptr());
        } else {
            libc::execv(spec.program.as_ptr(), argv.as_ptr());
        }
    }
    fail(spec, Step::Exec, pipe)
}

/// In the child: the session `s` asks for. Failures are left alone: a stage without its
/// session or terminal still runs, as C runit's does.
fn session(s: Session) {
    if s == Session::Inherit {
        return;
    }
    let _ = nix::unistd::setsid();
    if let Session::Terminal(fd) = s {
        let _ = platform::set_controlling_tty(fd);
        for target in 0..3 {
            // SAFETY: dup2 onto the child's own standard descriptors.
            unsafe { libc::dup2(fd, target) };
        }
    }
}

/// The parent's signals back at their defaults, SIGPIPE too, and an empty mask.
fn reset_signals(signals: &[Signal]) -> io::Result<()> {
    // SAFETY: SIG_DFL is always a valid disposition; no handler code is installed.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    platform::reset_child_signals(signals)
}

/// Makes `src` available as `dst` without close-on-exec.
fn move_fd(src: RawFd, dst: RawFd) -> io::Result<()> {
    if src == dst {
        // dup2 onto itself would keep FD_CLOEXEC; the fd must survive exec.
        return crate::sys::set_cloexec(src, false);
    }
    // SAFETY: dup2 on fds this process owns; the result is checked.
    cvt(unsafe { libc::dup2(src, dst) }).map(drop)
}

/// Reports the failed `step` as the spec says and ends the child.
fn fail(spec: &Spec, step: Step, pipe: Option<RawFd>) -> ! {
    let code = io::Error::last_os_error().raw_os_error().unwrap_or(0);
    let exit = match (spec.report, pipe) {
        (Report::Line { prefix, name, code: exit, words }, _) => {
            let words = match words {
                Words::PerStep => step.words(),
                Words::Always(w) => w,
            };
            let err = errno_text(code).unwrap_or("unknown error");
            write_line(&[prefix, words, name, b": ", err.as_bytes(), b"\n"]);
            exit
        }
        (Report::ToParent, Some(fd)) => {
            let buf = code.to_ne_bytes();
            // SAFETY: writing a local buffer to the pipe the parent reads; 4 bytes into an
            // empty pipe are written whole.
            unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
            exit::EXEC_FAILED
        }
        (Report::ToParent, None) => exit::EXEC_FAILED,
    };
    // SAFETY: _exit ends the child without running the parent's atexit handlers.
    unsafe { libc::_exit(exit) }
}

/// Writes `parts` to fd 2 in one writev.
fn write_line(parts: &[&[u8]; 6]) {
    let iov =
        parts.map(|p| libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() });
    // SAFETY: each iovec points at a live buffer of its length, only read by writev; a failure
    // cannot be reported anywhere.
    unsafe { libc::writev(2, iov.as_ptr(), iov.len() as libc::c_int) };
}

/// Whether a failed start is worth retrying later: no process slot or memory right now.
pub fn transient(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOMEM))
}

/// One answer of [`reap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaped {
    /// This child ended.
    Child(Pid, Status),
    /// Children are left, none has ended.
    NoneNow,
    /// No child at all is left.
    Childless,
}

/// Collects one ended child without waiting (`waitpid(-1, WNOHANG)`). Signals coalesce, so
/// callers loop until it answers `NoneNow` or `Childless`.
pub fn reap() -> Reaped {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status into a local.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            return Reaped::Child(Pid::from_raw(pid), Status(status));
        }
        if pid == 0 {
            return Reaped::NoneNow;
        }
        match io::Error::last_os_error().raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::ECHILD) => return Reaped::Childless,
            _ => return Reaped::NoneNow,
        }
    }
}

/// Waits for child `pid` to end.
pub fn wait(pid: Pid) -> io::Result<Status> {
    loop {
        match waitpid(pid, 0) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r.map(|(_, st)| st),
        }
    }
}

/// Child `pid`'s status if it has ended, without waiting.
pub fn try_wait(pid: Pid) -> io::Result<Option<Status>> {
    loop {
        match waitpid(pid, libc::WNOHANG) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Ok((0, _)) => return Ok(None),
            r => return r.map(|(_, st)| Some(st)),
        }
    }
}

fn waitpid(pid: Pid, flags: libc::c_int) -> io::Result<(libc::pid_t, Status)> {
    let mut status = 0;
    // SAFETY: waitpid writes the status into a local.
    let got = cvt(unsafe { libc::waitpid(pid.as_raw(), &mut status, flags) })?;
    Ok((got, Status(status)))
}

/// Sends `sig` to `pid` (negative: its process group; -1: every process we may signal).
/// `None` sends nothing and only asks whether such a process exists.
pub fn kill(pid: Pid, sig: impl Into<Option<Signal>>) -> io::Result<()> {
    Ok(nix::sys::signal::kill(pid, sig)?)
}

/// Forks a child that runs `body`, a function of ours, instead of a program, and then exits
/// `code` (PID 1's halter, which makes the reboot call from a process other than PID 1).
///
/// # Safety
/// The caller must be single-threaded: the child then is a complete copy of a consistent
/// process (no lock held by a thread that does not exist there), so `body` may run ordinary
/// code, allocation included.
pub unsafe fn fork_with(code: i32, body: impl FnOnce()) -> io::Result<Pid> {
    // SAFETY: the caller promises a single-threaded process (see above).
    match unsafe { fork() }? {
        None => {
            body();
            // SAFETY: _exit ends the forked child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        Some(pid) => Ok(pid),
    }
}

/// Forks: `Some(child)` in the parent, `None` in the child, which goes on running our own code
/// (chpst -F's PID 1, and the process that then becomes the program).
///
/// # Safety
/// As for [`fork_with`]: the caller must be single-threaded.
pub unsafe fn fork() -> io::Result<Option<Pid>> {
    // SAFETY: the caller promises a single-threaded process (see above).
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(Pid::from_raw(pid))),
    }
}

/// Replaces this process with `program` run as `argv`, in our environment. Returns only on
/// failure. The program gets SIGPIPE at its default, as from a shell.
pub fn exec(program: &CStr, argv: &[&CStr]) -> io::Error {
    let argv: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).chain([ptr::null()]).collect();
    // SAFETY: resetting a disposition to SIG_DFL installs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // SAFETY: `argv` points to live C strings and ends in NULL; execv returns only on failure.
    unsafe { libc::execv(program.as_ptr(), argv.as_ptr()) };
    io::Error::last_os_error()
}

/// Replaces this process with `file` run as `argv` in environment `env`, along `$PATH` the way
/// djb's pathexec does it (chpst). The search uses `path` (our own `$PATH`, not the one an
/// envdir may set for the program); an empty entry means the current directory; without
/// `$PATH`, `/bin:/usr/bin`. Returns only on failure, with the error that best explains it (a
/// permission problem wins over "not found").
pub fn pathexec(
    file: &OsStr,
    argv: &[OsString],
    env: &[OsString],
    path: Option<&OsStr>,
) -> io::Error {
    let (Ok(argv), Ok(env)) = (cstrings(argv), cstrings(env)) else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let argv_ptrs = null_terminated(&argv);
    let env_ptrs = null_terminated(&env);
    let exec = |prog: &[u8]| -> io::Error {
        let Ok(prog) = CString::new(prog) else {
            return io::Error::from_raw_os_error(libc::ENOENT);
        };
        // Rust ignores SIGPIPE for itself; the program gets the default back, as from a shell.
        // SAFETY: resetting a disposition to SIG_DFL installs no handler code.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        // SAFETY: all three pointers point to NUL-terminated strings and NULL-terminated arrays
        // that stay alive across the call; execve only returns on failure.
        unsafe { libc::execve(prog.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr()) };
        io::Error::last_os_error()
    };
    let file = file.as_bytes();
    if file.contains(&b'/') {
        return exec(file);
    }
    search(file, path.map_or(b"/bin:/usr/bin".as_slice(), |p| p.as_bytes()), exec)
}

/// Tries each `$PATH` entry in turn. Like pathexec_run: ENOENT moves on silently; EACCES,
/// EPERM and EISDIR are remembered and move on; any other error stops the search.
fn search(file: &[u8], path: &[u8], mut exec: impl FnMut(&[u8]) -> io::Error) -> io::Error {
    let mut saved: Option<io::Error> = None;
    for dir in path.split(|&b| b == b':') {
        let mut prog = if dir.is_empty() { b".".to_vec() } else { dir.to_vec() };
        prog.push(b'/');
        prog.extend_from_slice(file);
        let e = exec(&prog);
        match e.raw_os_error() {
            Some(libc::ENOENT) => {}
            Some(libc::EACCES | libc::EPERM | libc::EISDIR) => saved = Some(e),
            _ => return e,
        }
    }
    saved.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
}

fn cstrings(v: &[OsString]) -> Result<Vec<CString>, std::ffi::NulError> {
    v.iter().map(|s| CString::new(s.as_bytes())).collect()
}

fn null_terminated(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter().map(|s| s.as_ptr()).chain([ptr::null()]).collect()
}

#[cfg(test)]
#[path = "child_tests.rs"]
mod tests;
