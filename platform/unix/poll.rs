//! The portable event loop for any POSIX system: poll(2) over the registered fds and a self-pipe
//! that a signal handler writes to. Built on every OS (as `platform::Portable`); it is the event
//! loop under `--cfg runit_portable` and on OSes without a backend of their own.
//!
//! Directory watching is **emulated**: no kernel notification is used. While at least one
//! directory is watched, the loop wakes about once per second and `stat()`s each one, reporting
//! [`Event::DirChanged`] when its device, inode, mtime or ctime changed (an entry was created,
//! removed or renamed, the directory itself was replaced, or went away). Attribute changes of the
//! entries themselves do not touch the directory and go unseen. With nothing watched the loop
//! never wakes on its own.
//!
//! A `stat()` taken within a timestamp tick of the directory's last change is "racy": a second
//! change in that same tick would leave the times equal. The rescan after a racy `stat()`
//! reports a change whatever it finds, so the caller reads the directory again (C runsvdir
//! does the same with its whole-second times).
//!
//! [`Interest::Gone`] relies on poll(2) reporting POLLERR/POLLHUP on the write end of a FIFO whose
//! readers all closed. Linux does (pipes and FIFOs share `pipe_poll`); many systems do not. The
//! first request probes a real FIFO once and answers `Unsupported` where poll stays silent.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::fds::{check_new_fd, push_once, take_fd};
use super::selfpipe::SelfPipe;
use crate::platform::{unsupported, Event, Interest, Platform, Signal, WatchId};
use crate::sys::cvt;

/// How often watched directories are `stat()`ed.
const RESCAN: Duration = Duration::from_secs(1);

pub struct Native {
    signals: SelfPipe,
    fds: Vec<(RawFd, Interest)>,
    dirs: Vec<DirWatch>,
    next_watch: u32,
    next_scan: Option<Instant>,
    pending: VecDeque<Event>,
    /// Reused poll set: the self-pipe first, then `fds` in order.
    pollfds: Vec<libc::pollfd>,
}

struct DirWatch {
    id: WatchId,
    path: PathBuf,
    stamp: Option<Stamp>,
    /// The stamp was taken too soon after the change it shows to be trusted as "no change".
    racy: bool,
}

/// What a `stat()` of a directory tells about its entries having changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Platform for Native {
    fn new(signals: &[Signal]) -> io::Result<Self> {
        Ok(Native {
            signals: SelfPipe::new(signals)?,
            fds: Vec::new(),
            dirs: Vec::new(),
            next_watch: 0,
            next_scan: None,
            pending: VecDeque::new(),
            pollfds: Vec::new(),
        })
    }

    fn add_fd(&mut self, fd: RawFd, interest: Interest) -> io::Result<()> {
        check_new_fd(&self.fds, fd)?;
        if interest == Interest::Gone && !poll_reports_gone() {
            return Err(unsupported("noticing that a FIFO lost its readers (poll stays silent)"));
        }
        self.fds.push((fd, interest));
        Ok(())
    }

    fn remove_fd(&mut self, fd: RawFd) -> io::Result<()> {
        take_fd(&mut self.fds, fd)?;
        self.pending.retain(|e| !matches!(e, Event::Readable(f) | Event::Gone(f) if *f == fd));
        Ok(())
    }

    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId> {
        let wall = SystemTime::now();
        let stamp = stamp(path)?;
        if let Some(w) = self.dirs.iter().find(|w| w.stamp.is_some_and(|s| same_dir(&s, &stamp))) {
            return Ok(w.id);
        }
        let id = WatchId(self.next_watch);
        self.next_watch = self.next_watch.wrapping_add(1);
        let racy = is_racy(&stamp, wall);
        self.dirs.push(DirWatch { id, path: path.to_path_buf(), stamp: Some(stamp), racy });
        self.next_scan.get_or_insert_with(|| Instant::now() + RESCAN);
        Ok(id)
    }

    fn unwatch_dir(&mut self, id: WatchId) -> io::Result<()> {
        self.dirs.retain(|w| w.id != id);
        self.pending.retain(|e| *e != Event::DirChanged(id));
        if self.dirs.is_empty() {
            self.next_scan = None;
        }
        Ok(())
    }

    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            self.rescan_if_due(Instant::now());
            if !self.pending.is_empty() {
                continue;
            }
            // Poll even when the deadline is due, so a due deadline cannot starve events.
            let wake = match (deadline, self.next_scan) {
                (Some(d), Some(s)) => Some(d.min(s)),
                (d, s) => d.or(s),
            };
            self.poll_once(timeout_ms(wake))?;
            if self.pending.is_empty() && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Event::Timeout);
            }
        }
    }
}

impl Native {
    /// One poll(2); queues what it found.
    fn poll_once(&mut self, timeout: libc::c_int) -> io::Result<()> {
        self.pollfds.clear();
        self.pollfds.push(pollfd(self.signals.fd(), libc::POLLIN));
        for (fd, interest) in &self.fds {
            // An empty event set still reports POLLERR/POLLHUP, without waking for writability.
            let events = match interest {
                Interest::Read => libc::POLLIN,
                Interest::Gone => 0,
                Interest::Changed => libc::POLLPRI,
            };
            self.pollfds.push(pollfd(*fd, events));
        }
        let n = self.pollfds.len() as libc::nfds_t;
        // SAFETY: the pointer and length describe `pollfds`, alive for the whole call.
        match cvt(unsafe { libc::poll(self.pollfds.as_mut_ptr(), n, timeout) }) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        // The self-pipe comes first, then one entry per watched fd.
        let Some((selfpipe, fds)) = self.pollfds.split_first() else { return Ok(()) };
        if selfpipe.revents != 0 {
            let pending = &mut self.pending;
            self.signals.take(|s| push_once(pending, Event::Signal(s)))?;
        }
        for (p, (fd, interest)) in fds.iter().zip(&self.fds) {
            if let Some(ev) = fd_event(*fd, *interest, p.revents) {
                self.pending.push_back(ev);
            }
        }
        Ok(())
    }

    /// `stat()`s every watched directory once its rescan time came.
    fn rescan_if_due(&mut self, now: Instant) {
        let Some(due) = self.next_scan else { return };
        if now < due {
            return;
        }
        // Read before the stat()s, so a change between the two only makes a stamp racy.
        let wall = SystemTime::now();
        for w in &mut self.dirs {
            let now_stamp = stamp(&w.path).ok();
            if now_stamp != w.stamp || w.racy {
                w.stamp = now_stamp;
                push_once(&mut self.pending, Event::DirChanged(w.id));
            }
            w.racy = now_stamp.is_some_and(|s| is_racy(&s, wall));
        }
        self.next_scan = Some(now + RESCAN);
    }
}

/// What poll's `revents` mean for a registered fd. POLLHUP without POLLIN is EOF on a pipe, and
/// POLLNVAL (closed without `remove_fd`) is reported so the caller's read fails loudly.
fn fd_event(fd: RawFd, interest: Interest, revents: libc::c_short) -> Option<Event> {
    let any = libc::POLLIN | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;
    match interest {
        Interest::Read if revents & any != 0 => Some(Event::Readable(fd)),
        Interest::Gone if revents & (libc::POLLHUP | libc::POLLERR) != 0 => Some(Event::Gone(fd)),
        Interest::Changed if revents & (libc::POLLPRI | libc::POLLERR | libc::POLLNVAL) != 0 => {
            Some(Event::Readable(fd))
        }
        _ => None,
    }
}

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd { fd, events, revents: 0 }
}

/// Milliseconds until `wake` for poll(2), rounded up so the wait never ends just before it;
/// -1 (forever) without one.
fn timeout_ms(wake: Option<Instant>) -> libc::c_int {
    let Some(w) = wake else { return -1 };
    let left = w.saturating_duration_since(Instant::now());
    left.as_micros().div_ceil(1000).min(libc::c_int::MAX as u128) as libc::c_int
}

fn stamp(path: &Path) -> io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    if !m.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    Ok(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

/// Whether a stamp read at `wall` could miss a change made in the same timestamp tick as the
/// newest time it holds. File systems that keep whole seconds (nanoseconds 0) may be 2 s coarse
/// (FAT); the others stamp with the clock tick, 10 ms at worst, given a tenth of a second here.
/// A clock behind the stamp counts as racy.
fn is_racy(s: &Stamp, wall: SystemTime) -> bool {
    let (secs, nanos) = s.mtime.max(s.ctime);
    let margin = if nanos == 0 { Duration::from_secs(2) } else { Duration::from_millis(100) };
    let since_epoch = Duration::new(
        u64::try_from(secs).unwrap_or(0),
        u32::try_from(nanos).unwrap_or(0).min(999_999_999),
    );
    // A time too far ahead to add to is ahead of the clock too.
    UNIX_EPOCH
        .checked_add(since_epoch)
        .and_then(|t| t.checked_add(margin))
        .map_or(true, |t| wall < t)
}

fn same_dir(a: &Stamp, b: &Stamp) -> bool {
    a.dev == b.dev && a.ino == b.ino
}

/// Whether poll(2) reports POLLERR/POLLHUP on the write end of a FIFO once its reader closed,
/// and nothing before. Probed once per process on a real FIFO in a private temp directory.
fn poll_reports_gone() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| probe_fifo_gone().unwrap_or(false))
}

fn probe_fifo_gone() -> io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!("runit-probe-{}-{nanos}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir(&dir)?;
    let fifo = dir.join("fifo");
    let result = (|| {
        crate::sys::mkfifo(&fifo, 0o600)?;
        let open = |write: bool| {
            std::fs::OpenOptions::new()
                .read(!write)
                .write(write)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo)
        };
        let reader = open(false)?;
        let writer = open(true)?;
        let quiet = poll_now(&writer)? == 0;
        drop(reader);
        let gone = poll_now(&writer)? & (libc::POLLERR | libc::POLLHUP) != 0;
        Ok(quiet && gone)
    })();
    let _ = std::fs::remove_file(&fifo);
    let _ = std::fs::remove_dir(&dir);
    result
}

/// poll(2) with an empty event set and no timeout: the `revents` the kernel reports anyway.
fn poll_now(fd: &impl std::os::fd::AsRawFd) -> io::Result<libc::c_short> {
    let mut p = [pollfd(fd.as_raw_fd(), 0)];
    // SAFETY: one live pollfd.
    cvt(unsafe { libc::poll(p.as_mut_ptr(), 1, 0) })?;
    Ok(p[0].revents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: i64) -> Stamp {
        Stamp { dev: 1, ino: 2, mtime: (secs, nanos), ctime: (secs, nanos) }
    }

    fn wall(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn a_stamp_is_racy_within_a_tick_of_its_change() {
        assert!(is_racy(&at(1000, 5_000_000), wall(1000, 50)));
        assert!(!is_racy(&at(1000, 5_000_000), wall(1000, 200)));
        // Whole seconds: the file system may be that coarse, or coarser.
        assert!(is_racy(&at(1000, 0), wall(1001, 900)));
        assert!(!is_racy(&at(1000, 0), wall(1002, 1)));
        // The newer of mtime and ctime counts.
        let s = Stamp { ctime: (1000, 5_000_000), ..at(900, 1) };
        assert!(is_racy(&s, wall(1000, 50)));
    }

    #[test]
    fn odd_times_are_racy_or_not_without_panicking() {
        assert!(is_racy(&at(2000, 1), wall(1000, 0)), "a clock behind the stamp");
        assert!(is_racy(&at(i64::MAX, 999_999_999), wall(1000, 0)));
        assert!(!is_racy(&at(-5, 1), wall(1000, 0)));
    }
}
