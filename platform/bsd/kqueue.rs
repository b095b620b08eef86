//! kqueue event loop for FreeBSD, OpenBSD, NetBSD and macOS: one kqueue carries the signals
//! (EVFILT_SIGNAL), the fds (EVFILT_READ; EVFILT_WRITE for `Interest::Gone`) and the watched
//! directories (EVFILT_VNODE). Used by `platform/bsd` and, through `#[path]`, `platform/macos`.
//!
//! Signals: kqueue records a signal when it is delivered, also when its disposition is SIG_IGN,
//! so the taken signals are set to SIG_IGN (no handler runs, none is lost, none kills us) --
//! except SIGCHLD, which stays SIG_DFL: ignoring it would make the kernel reap children itself
//! and skip the notification. See kqueue(2), EVFILT_SIGNAL.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::event::{EvFlags, EventFilter, FilterFlag, KEvent, Kqueue};
use nix::sys::signal::{
    sigaction, sigprocmask, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow,
};
use nix::sys::time::TimeSpec;

use crate::platform::unix::fds::{check_new_fd, take_fd};
use crate::platform::{unsupported, Event, Interest, Platform, Signal, WatchId};
use crate::sys::set_cloexec;

/// macOS: O_EVTONLY opens for notifications only, so a watch never keeps a volume busy.
#[cfg(apple)]
const DIR_FLAGS: libc::c_int = libc::O_DIRECTORY | libc::O_EVTONLY;
#[cfg(not(apple))]
const DIR_FLAGS: libc::c_int = libc::O_DIRECTORY;

/// Entry changes of a directory: NOTE_WRITE covers create/remove/rename of entries, NOTE_LINK a
/// subdirectory coming or going, DELETE/RENAME the directory itself.
fn dir_notes() -> FilterFlag {
    FilterFlag::NOTE_WRITE
        | FilterFlag::NOTE_EXTEND
        | FilterFlag::NOTE_LINK
        | FilterFlag::NOTE_DELETE
        | FilterFlag::NOTE_RENAME
}

pub struct Native {
    kq: Kqueue,
    previous: Vec<(Signal, SigAction)>,
    fds: Vec<(RawFd, Interest)>,
    dirs: Vec<DirWatch>,
    next_watch: u32,
    pending: VecDeque<Event>,
}

/// A watched directory: the open fd the vnode filter is attached to (closing it ends the watch).
struct DirWatch {
    _file: File,
    id: WatchId,
    dev: u64,
    ino: u64,
}

impl Platform for Native {
    fn new(signals: &[Signal]) -> io::Result<Self> {
        let kq = Kqueue::new()?;
        set_cloexec(kq.as_fd().as_raw_fd(), true)?;
        let mut me = Native {
            kq,
            previous: Vec::new(),
            fds: Vec::new(),
            dirs: Vec::new(),
            next_watch: 0,
            pending: VecDeque::new(),
        };
        for s in signals {
            me.take_signal(*s)?;
        }
        let mut set = SigSet::empty();
        signals.iter().for_each(|s| set.add(*s));
        sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&set), None)?;
        Ok(me)
    }

    fn add_fd(&mut self, fd: RawFd, interest: Interest) -> io::Result<()> {
        check_new_fd(&self.fds, fd)?;
        // Gone: edge-triggered write readiness fires once at registration (ignored, no EV_EOF)
        // and then only when the pipe's state changes; EV_EOF marks the readers gone. Nobody
        // writes to the FIFOs watched this way, so there are no busy wakeups.
        let (filter, flags) = match interest {
            Interest::Changed => return Err(unsupported("watching a kernel status file")),
            Interest::Read => (EventFilter::EVFILT_READ, EvFlags::EV_ADD),
            Interest::Gone => (EventFilter::EVFILT_WRITE, EvFlags::EV_ADD | EvFlags::EV_CLEAR),
        };
        self.change(fd as usize, filter, flags, FilterFlag::empty(), 0)?;
        self.fds.push((fd, interest));
        Ok(())
    }

    fn remove_fd(&mut self, fd: RawFd) -> io::Result<()> {
        let interest = take_fd(&mut self.fds, fd)?;
        self.pending.retain(|e| !matches!(e, Event::Readable(f) | Event::Gone(f) if *f == fd));
        let filter = match interest {
            // Never registered (add_fd refuses it).
            Interest::Read | Interest::Changed => EventFilter::EVFILT_READ,
            Interest::Gone => EventFilter::EVFILT_WRITE,
        };
        self.change(fd as usize, filter, EvFlags::EV_DELETE, FilterFlag::empty(), 0)
    }

    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId> {
        let file = std::fs::OpenOptions::new().read(true).custom_flags(DIR_FLAGS).open(path)?;
        let meta = file.metadata()?;
        if let Some(w) = self.dirs.iter().find(|w| w.dev == meta.dev() && w.ino == meta.ino()) {
            return Ok(w.id);
        }
        let id = WatchId(self.next_watch);
        let fd = file.as_raw_fd() as usize;
        let flags = EvFlags::EV_ADD | EvFlags::EV_CLEAR;
        self.change(fd, EventFilter::EVFILT_VNODE, flags, dir_notes(), id.0 as isize)?;
        self.next_watch = self.next_watch.wrapping_add(1);
        self.dirs.push(DirWatch { _file: file, id, dev: meta.dev(), ino: meta.ino() });
        Ok(id)
    }

    fn unwatch_dir(&mut self, id: WatchId) -> io::Result<()> {
        // Closing the directory fd removes its knote.
        self.dirs.retain(|w| w.id != id);
        self.pending.retain(|e| *e != Event::DirChanged(id));
        Ok(())
    }

    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            // Collect what is ready even when the deadline is due, so it cannot starve events.
            self.poll_once(timeout_until(deadline))?;
            if self.pending.is_empty() && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Event::Timeout);
            }
        }
    }
}

impl Native {
    /// Registers EVFILT_SIGNAL for `sig`, then sets the disposition kqueue needs.
    fn take_signal(&mut self, sig: Signal) -> io::Result<()> {
        let flags = EvFlags::EV_ADD;
        self.change(sig as usize, EventFilter::EVFILT_SIGNAL, flags, FilterFlag::empty(), 0)?;
        let handler = if sig == Signal::SIGCHLD { SigHandler::SigDfl } else { SigHandler::SigIgn };
        let action = SigAction::new(handler, SaFlags::empty(), SigSet::empty());
        // SAFETY: SIG_IGN/SIG_DFL install no code.
        let old = unsafe { sigaction(sig, &action) }?;
        self.previous.push((sig, old));
        Ok(())
    }

    /// Applies one change to the kqueue; with no room for events kevent reports errors directly.
    fn change(
        &self,
        ident: usize,
        filter: EventFilter,
        flags: EvFlags,
        fflags: FilterFlag,
        udata: isize,
    ) -> io::Result<()> {
        let ev = KEvent::new(ident, filter, flags, fflags, 0, udata);
        let zero = *TimeSpec::new(0, 0).as_ref();
        self.kq.kevent(&[ev], &mut [], Some(zero))?;
        Ok(())
    }

    /// One kevent wait; queues what it found.
    fn poll_once(&mut self, timeout: Option<libc::timespec>) -> io::Result<()> {
        let blank =
            KEvent::new(0, EventFilter::EVFILT_READ, EvFlags::empty(), FilterFlag::empty(), 0, 0);
        let mut evs = [blank; 16];
        let n = match self.kq.kevent(&[], &mut evs, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for ev in evs.iter().take(n) {
            if let Some(e) = event_of(ev) {
                if !self.pending.contains(&e) {
                    self.pending.push_back(e);
                }
            }
        }
        Ok(())
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        for (s, old) in self.previous.drain(..) {
            // SAFETY: puts back the disposition that was in force before `new`.
            let _ = unsafe { sigaction(s, &old) };
        }
    }
}

/// What a returned kevent means; None for the write-readiness edge of a Gone watch and errors.
fn event_of(ev: &KEvent) -> Option<Event> {
    if ev.flags().contains(EvFlags::EV_ERROR) {
        return None;
    }
    let fd = ev.ident() as RawFd;
    match ev.filter().ok()? {
        EventFilter::EVFILT_SIGNAL => Signal::try_from(ev.ident() as i32).ok().map(Event::Signal),
        EventFilter::EVFILT_READ => Some(Event::Readable(fd)),
        EventFilter::EVFILT_WRITE if ev.flags().contains(EvFlags::EV_EOF) => Some(Event::Gone(fd)),
        EventFilter::EVFILT_VNODE => Some(Event::DirChanged(WatchId(ev.udata() as u32))),
        _ => None,
    }
}

/// The time left until `deadline` for kevent; None blocks.
fn timeout_until(deadline: Option<Instant>) -> Option<libc::timespec> {
    let left = deadline?.saturating_duration_since(Instant::now());
    Some(*TimeSpec::from_duration(left).as_ref())
}
