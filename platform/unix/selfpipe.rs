//! Signals into a poll-style event loop through a self-pipe (the portable backend on any OS, and
//! the illumos event-port backend): a `sigaction` handler marks the signal pending and writes one
//! byte to a non-blocking pipe that the loop watches.
//!
//! The pending flags, not the bytes, say which signals came: a full pipe drops bytes but never a
//! signal, because a full pipe is already readable. The reader drains the pipe *before* taking
//! the flags, so a signal landing in between is either seen now or leaves a byte for the next
//! wakeup. Only one loop per process can own the handlers (they are process-wide).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{
    sigaction, sigprocmask, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow,
};

use crate::platform::Signal;
use crate::sys::cvt;

/// Larger than every signal number `nix::sys::signal::Signal` can name on any supported OS.
const MAX_SIG: usize = 128;

/// Set by the handler, cleared by [`SelfPipe::take`].
static PENDING: [AtomicBool; MAX_SIG] = [const { AtomicBool::new(false) }; MAX_SIG];
/// Write end of the owning loop's pipe, -1 when no loop owns the handlers.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// Pid of the owner: a forked child that has not exec'ed yet runs the inherited handler, and
/// must not wake (and fool) its parent through the shared pipe.
static OWNER: AtomicI32 = AtomicI32::new(0);

/// The pending flag of signal number `sig` (every signal nix names has one).
fn pending(sig: libc::c_int) -> Option<&'static AtomicBool> {
    usize::try_from(sig).ok().and_then(|i| PENDING.get(i))
}

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work here: atomics, getpid, write; errno is preserved for the code
    // the signal interrupted.
    let saved = Errno::last_raw();
    if let Some(flag) = pending(sig) {
        flag.store(true, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    // SAFETY: getpid has no preconditions.
    if fd >= 0 && unsafe { libc::getpid() } == OWNER.load(Ordering::SeqCst) {
        let byte = sig as u8;
        // SAFETY: write(2) reads one byte from a live stack variable and nothing else; a full
        // pipe (EAGAIN) is fine, and a stale fd number could only receive a stray byte.
        unsafe { libc::write(fd, std::ptr::addr_of!(byte).cast(), 1) };
    }
    Errno::set_raw(saved);
}

/// The read end of the self-pipe plus the dispositions to restore when the loop goes away.
pub struct SelfPipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Whether this loop owns the process-wide handlers (it was given signals).
    owner: bool,
    previous: Vec<(Signal, SigAction)>,
}

impl SelfPipe {
    /// Installs the handler for `signals` and unblocks them. With no signals it installs
    /// nothing, so any number of such loops can coexist.
    pub fn new(signals: &[Signal]) -> io::Result<SelfPipe> {
        let (read, write) = pipe()?;
        let mut me = SelfPipe { read, write, owner: false, previous: Vec::new() };
        if signals.is_empty() {
            return Ok(me);
        }
        let fd = me.write.as_raw_fd();
        if WAKE_FD.compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "another event loop of this process already receives signals",
            ));
        }
        me.owner = true;
        // SAFETY: getpid has no preconditions.
        OWNER.store(unsafe { libc::getpid() }, Ordering::SeqCst);
        for s in signals {
            if let Some(flag) = pending(*s as libc::c_int) {
                flag.store(false, Ordering::SeqCst);
            }
            let action = SigAction::new(
                SigHandler::Handler(on_signal),
                SaFlags::SA_RESTART,
                SigSet::empty(),
            );
            // SAFETY: the handler only touches atomics and calls async-signal-safe functions.
            let old = unsafe { sigaction(*s, &action) }?;
            me.previous.push((*s, old));
        }
        let mut set = SigSet::empty();
        signals.iter().for_each(|s| set.add(*s));
        sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None)?;
        Ok(me)
    }

    /// The fd to poll for readability.
    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Drains the pipe, then calls `found` for each of our signals that arrived since last time.
    pub fn take(&self, mut found: impl FnMut(Signal)) -> io::Result<()> {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reads into a live stack buffer of the given length.
            let n = unsafe { libc::read(self.fd(), buf.as_mut_ptr().cast(), buf.len()) };
            match cvt(n) {
                Ok(n) if n as usize == buf.len() => continue,
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        for (s, _) in &self.previous {
            if pending(*s as libc::c_int).is_some_and(|f| f.swap(false, Ordering::SeqCst)) {
                found(*s);
            }
        }
        Ok(())
    }
}

impl Drop for SelfPipe {
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        for (s, old) in self.previous.drain(..) {
            // SAFETY: puts back the disposition that was in force before `new`.
            let _ = unsafe { sigaction(s, &old) };
        }
        let fd = self.write.as_raw_fd();
        let _ = WAKE_FD.compare_exchange(fd, -1, Ordering::SeqCst, Ordering::SeqCst);
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    crate::platform::nonblocking_pipe()
}
