//! Linux event loop: blocked signals read from a signalfd, fds and an inotify instance in one
//! epoll set. Blocked signals are queued by the kernel, so none is lost while the program is busy
//! (this matters for PID 1, whose signals are otherwise dropped when it has no handler).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::time::Instant;

use inotify::{EventMask, Inotify, WatchMask};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::platform::{Event, Interest, Platform, Signal, WatchId};

/// epoll user data of the two fds the backend owns; registered fds use their own number.
const TAG_SIGNALS: u64 = u64::MAX;
const TAG_INOTIFY: u64 = u64::MAX - 1;

/// Entry changes of a directory; `ONLYDIR` refuses to watch a file by mistake. Open/close/modify
/// are left out: readers of the directory (runsvdir's own scan, sv reading `status`) would
/// otherwise wake themselves up forever.
fn dir_mask() -> WatchMask {
    WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::ATTRIB
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
        | WatchMask::ONLYDIR
}

pub struct Native {
    epoll: Epoll,
    signals: SignalFd,
    inotify: Option<Inotify>,
    /// The watch descriptors in use, sorted. A `WatchId` is the descriptor itself: the kernel
    /// hands out each one once (it counts upwards), and a table of 4 bytes per watch is what
    /// runsvdir's thousands of service watches cost here.
    watches: Vec<i32>,
    pending: VecDeque<Event>,
}

impl Platform for Native {
    /// Closing the last reference to an inotify instance waits for an RCU grace period (5 to
    /// 15 ms measured under strace), which a short-lived sv would make its caller wait for
    /// after it has answered. A child that shares the instance, closes its standard fds (so a
    /// pipe reading sv's output sees its end at once) and exits pays that wait instead, while
    /// the caller's copy is closed as a mere reference. If the fork fails, the close is simply
    /// slow.
    fn release(mut self) {
        let Some(inotify) = self.inotify.take() else { return };
        // SAFETY: fork in a single-threaded process (the contract of `release`); the child
        // only closes descriptors and _exits, all async-signal-safe.
        if unsafe { libc::fork() } == 0 {
            // SAFETY: closing the child's own descriptors, then leaving without running any
            // of the parent's exit handlers.
            unsafe {
                libc::close(0);
                libc::close(1);
                libc::close(2);
                libc::_exit(0);
            }
        }
        drop(inotify);
    }

    fn new(signals: &[Signal]) -> io::Result<Self> {
        let mut set = SigSet::empty();
        for s in signals {
            set.add(*s);
        }
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
        let signals = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        epoll.add(signals.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, TAG_SIGNALS))?;
        Ok(Native { epoll, signals, inotify: None, watches: Vec::new(), pending: VecDeque::new() })
    }

    fn add_fd(&mut self, fd: RawFd, interest: Interest) -> io::Result<()> {
        // An empty event set still reports EPOLLERR/EPOLLHUP: for the write end of a FIFO that
        // is exactly "every reader closed", without waking up for writability.
        let flags = match interest {
            Interest::Read => EpollFlags::EPOLLIN,
            Interest::Gone => EpollFlags::empty(),
            // kernfs reports a change as EPOLLPRI (with EPOLLERR) until the file is read.
            Interest::Changed => EpollFlags::EPOLLPRI,
        };
        let tag = fd_tag(fd, interest);
        Ok(self.epoll.add(borrow(fd), EpollEvent::new(flags, tag))?)
    }

    fn remove_fd(&mut self, fd: RawFd) -> io::Result<()> {
        self.pending.retain(|e| !matches!(e, Event::Readable(f) | Event::Gone(f) if *f == fd));
        Ok(self.epoll.delete(borrow(fd))?)
    }

    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId> {
        let ino = self.inotify()?;
        // The same directory watched twice gets the same descriptor, and so the same id.
        let wd = ino.watches().add(path, dir_mask())?.get_watch_descriptor_id();
        if let Err(at) = self.watches.binary_search(&wd) {
            self.watches.insert(at, wd);
        }
        Ok(WatchId(wd as u32))
    }

    fn unwatch_dir(&mut self, id: WatchId) -> io::Result<()> {
        let wd = id.0 as i32;
        let Ok(pos) = self.watches.binary_search(&wd) else {
            return Ok(());
        };
        self.watches.remove(pos);
        self.pending.retain(|e| *e != Event::DirChanged(id));
        match self.inotify.as_ref() {
            // SAFETY: inotify_rm_watch on the inotify fd this backend owns.
            Some(ino) => crate::sys::cvt(unsafe { libc::inotify_rm_watch(ino.as_raw_fd(), wd) })
                .map(drop)
                // EINVAL: the kernel already dropped the watch (directory removed).
                .or_else(ignore_einval),
            None => Ok(()),
        }
    }

    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            let timeout = timeout_until(deadline);
            if timeout == EpollTimeout::ZERO && deadline.is_some() {
                // Still collect what is ready, so a due deadline cannot starve events.
                if self.poll_once(EpollTimeout::ZERO)? == 0 {
                    return Ok(Event::Timeout);
                }
                continue;
            }
            if self.poll_once(timeout)? == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Event::Timeout);
            }
        }
    }
}

impl Native {
    fn inotify(&mut self) -> io::Result<&mut Inotify> {
        if self.inotify.is_none() {
            let ino = Inotify::init()?;
            let ev = EpollEvent::new(EpollFlags::EPOLLIN, TAG_INOTIFY);
            self.epoll.add(ino.as_fd(), ev)?;
            self.inotify = Some(ino);
        }
        self.inotify.as_mut().ok_or_else(|| io::Error::other("inotify"))
    }

    /// One epoll_wait; queues what it found and returns how many fds were ready.
    fn poll_once(&mut self, timeout: EpollTimeout) -> io::Result<usize> {
        let mut evs = [EpollEvent::empty(); 16];
        let n = match self.epoll.wait(&mut evs, timeout) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        for ev in evs.iter().take(n) {
            match ev.data() {
                TAG_SIGNALS => self.drain_signals()?,
                TAG_INOTIFY => self.drain_inotify()?,
                tag => self.pending.push_back(tag_event(tag)),
            }
        }
        Ok(n)
    }

    fn drain_signals(&mut self) -> io::Result<()> {
        while let Some(info) = self.signals.read_signal()? {
            if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                if !self.pending.contains(&Event::Signal(sig)) {
                    self.pending.push_back(Event::Signal(sig));
                }
            }
        }
        Ok(())
    }

    fn drain_inotify(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 4096];
        let Some(ino) = self.inotify.as_mut() else { return Ok(()) };
        let mut changed = Vec::new();
        loop {
            let events = match ino.read_events(&mut buf) {
                Ok(evs) => evs,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            let mut any = false;
            for ev in events {
                any = true;
                let wd = ev.wd.get_watch_descriptor_id();
                if ev.mask.contains(EventMask::Q_OVERFLOW) {
                    // Events were lost: any watched directory may have changed.
                    changed.extend(self.watches.iter().map(|w| WatchId(*w as u32)));
                } else if self.watches.binary_search(&wd).is_ok() {
                    changed.push(WatchId(wd as u32));
                }
            }
            if !any {
                break;
            }
        }
        for id in changed {
            if !self.pending.contains(&Event::DirChanged(id)) {
                self.pending.push_back(Event::DirChanged(id));
            }
        }
        Ok(())
    }
}

/// Registered fds carry their number in the low 32 bits and the interest in bit 32.
fn fd_tag(fd: RawFd, interest: Interest) -> u64 {
    let gone = if interest == Interest::Gone { 1u64 << 32 } else { 0 };
    gone | u64::from(fd as u32)
}

fn tag_event(tag: u64) -> Event {
    let fd = (tag & 0xffff_ffff) as u32 as RawFd;
    if tag >> 32 == 1 {
        Event::Gone(fd)
    } else {
        Event::Readable(fd)
    }
}

/// Milliseconds until `deadline`, rounded up so the wait never ends just before it.
fn timeout_until(deadline: Option<Instant>) -> EpollTimeout {
    let Some(d) = deadline else { return EpollTimeout::NONE };
    let left = d.saturating_duration_since(Instant::now());
    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128);
    EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::MAX)
}

fn borrow<'a>(fd: RawFd) -> BorrowedFd<'a> {
    // SAFETY: the caller registered `fd` and keeps it open until remove_fd; epoll only reads the
    // number during the call.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

fn ignore_einval(e: io::Error) -> io::Result<()> {
    if e.raw_os_error() == Some(libc::EINVAL) {
        Ok(())
    } else {
        Err(e)
    }
}

impl AsRawFd for Native {
    fn as_raw_fd(&self) -> RawFd {
        self.epoll.0.as_raw_fd()
    }
}
