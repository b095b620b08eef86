//! illumos event loop: one event port (port_create(3C)) carrying the fds (PORT_SOURCE_FD), a
//! self-pipe for signals (event ports have no signal source) and the watched directories
//! (PORT_SOURCE_FILE).
//!
//! Associations are one-shot: an fd fires once and must be associated again. To keep the
//! level-triggered contract an fd is re-associated when the loop next blocks, after the caller
//! has handled the event (re-associating at once would fire again for data not yet read). A
//! directory is re-`stat()`ed and re-associated at once instead: a file association fires when
//! the times it carries differ from the file's, so a change made after that `stat()` -- even while
//! the caller is still rescanning -- fires again and is never lost.

use std::collections::VecDeque;
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use nix::sys::time::TimeSpec;

use crate::platform::unix::fds::{check_new_fd, push_once, take_fd};
use crate::platform::unix::selfpipe::SelfPipe;
use crate::platform::{unsupported, Event, Interest, Platform, Signal, WatchId};
use crate::sys::{cstr, cvt, set_cloexec};

// <sys/port.h> file events, missing from the libc crate. MODIFIED/ATTRIB are asked for; DELETE
// and the RENAMEs are exception events, always reported.
const FILE_MODIFIED: libc::c_int = 0x2;
const FILE_ATTRIB: libc::c_int = 0x4;

/// `file_obj_t` from <sys/port.h>: the times from stat(2) the kernel compares against, and the
/// path. The kernel keeps a pointer to it while associated, so it lives in a Box.
#[repr(C)]
struct FileObj {
    fo_atime: libc::timespec,
    fo_mtime: libc::timespec,
    fo_ctime: libc::timespec,
    fo_pad: [libc::uintptr_t; 3],
    fo_name: *mut libc::c_char,
}

struct DirWatch {
    id: WatchId,
    obj: Box<FileObj>,
    /// Owns the bytes `obj.fo_name` points to.
    name: CString,
    dev: u64,
    ino: u64,
}

pub struct Native {
    port: OwnedFd,
    signals: SelfPipe,
    fds: Vec<(RawFd, Interest)>,
    /// fds that fired and wait to be associated again.
    rearm: Vec<RawFd>,
    dirs: Vec<DirWatch>,
    next_watch: u32,
    pending: VecDeque<Event>,
}

impl Platform for Native {
    fn new(signals: &[Signal]) -> io::Result<Self> {
        // SAFETY: port_create has no arguments; the fd is owned from here on.
        let port = unsafe { OwnedFd::from_raw_fd(cvt(libc::port_create())?) };
        set_cloexec(port.as_raw_fd(), true)?;
        let me = Native {
            port,
            signals: SelfPipe::new(signals)?,
            fds: Vec::new(),
            rearm: Vec::new(),
            dirs: Vec::new(),
            next_watch: 0,
            pending: VecDeque::new(),
        };
        me.associate_fd(me.signals.fd())?;
        Ok(me)
    }

    fn add_fd(&mut self, fd: RawFd, interest: Interest) -> io::Result<()> {
        check_new_fd(&self.fds, fd)?;
        if interest == Interest::Changed {
            return Err(unsupported("watching a kernel status file"));
        }
        if interest == Interest::Gone {
            // fifo_poll reports nothing on a FIFO's write end when the readers leave.
            return Err(unsupported("noticing that a FIFO lost its readers"));
        }
        self.associate_fd(fd)?;
        self.fds.push((fd, interest));
        Ok(())
    }

    fn remove_fd(&mut self, fd: RawFd) -> io::Result<()> {
        take_fd(&mut self.fds, fd)?;
        self.rearm.retain(|f| *f != fd);
        self.pending.retain(|e| !matches!(e, Event::Readable(f) if *f == fd));
        // SAFETY: dissociates an fd object; ENOENT means it already fired and is not associated.
        let ret = unsafe { libc::port_dissociate(self.port(), libc::PORT_SOURCE_FD, fd as usize) };
        ignore_enoent(cvt(ret).map(drop))
    }

    fn watch_dir(&mut self, path: &Path) -> io::Result<WatchId> {
        let meta = dir_meta(path)?;
        if let Some(w) = self.dirs.iter().find(|w| w.dev == meta.dev() && w.ino == meta.ino()) {
            return Ok(w.id);
        }
        let name = cstr(path)?;
        let zero = timespec(0, 0);
        let mut obj = Box::new(FileObj {
            fo_atime: zero,
            fo_mtime: zero,
            fo_ctime: zero,
            fo_pad: [0; 3],
            fo_name: name.as_ptr().cast_mut(),
        });
        set_times(&mut obj, &meta);
        let id = WatchId(self.next_watch);
        associate_dir(self.port(), &mut obj, id)?;
        self.next_watch = self.next_watch.wrapping_add(1);
        self.dirs.push(DirWatch { id, obj, name, dev: meta.dev(), ino: meta.ino() });
        Ok(id)
    }

    fn unwatch_dir(&mut self, id: WatchId) -> io::Result<()> {
        let Some(pos) = self.dirs.iter().position(|w| w.id == id) else { return Ok(()) };
        let w = self.dirs.remove(pos);
        self.pending.retain(|e| *e != Event::DirChanged(id));
        let obj = std::ptr::addr_of!(*w.obj) as usize;
        // SAFETY: dissociates the file object before its Box is freed at the end of this scope.
        let ret = unsafe { libc::port_dissociate(self.port(), libc::PORT_SOURCE_FILE, obj) };
        ignore_enoent(cvt(ret).map(drop))
    }

    fn wait(&mut self, deadline: Option<Instant>) -> io::Result<Event> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                return Ok(ev);
            }
            for fd in std::mem::take(&mut self.rearm) {
                self.associate_fd(fd)?;
            }
            // Collect what is ready even when the deadline is due, so it cannot starve events.
            self.get_once(timeout_until(deadline))?;
            if self.pending.is_empty() && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Event::Timeout);
            }
        }
    }
}

impl Native {
    fn port(&self) -> RawFd {
        self.port.as_raw_fd()
    }

    fn associate_fd(&self, fd: RawFd) -> io::Result<()> {
        let (port, src, obj) = (self.port(), libc::PORT_SOURCE_FD, fd as usize);
        // SAFETY: an fd object carries no pointer; the user value is unused for fds.
        let ret = unsafe {
            libc::port_associate(port, src, obj, libc::POLLIN.into(), std::ptr::null_mut())
        };
        cvt(ret).map(drop)
    }

    /// One port_getn; queues what it found.
    fn get_once(&mut self, timeout: Option<libc::timespec>) -> io::Result<()> {
        // SAFETY: port_event is plain data; all-zero is a valid (ignored) value.
        let mut evs: [libc::port_event; 16] = unsafe { std::mem::zeroed() };
        let mut nget: libc::c_uint = 1;
        let mut ts = timeout;
        let tsp = ts.as_mut().map_or(std::ptr::null_mut(), |t| t as *mut libc::timespec);
        // SAFETY: the list, count and timeout point to live locals for the whole call.
        let ret = unsafe { libc::port_getn(self.port(), evs.as_mut_ptr(), 16, &mut nget, tsp) };
        if let Err(e) = cvt(ret) {
            // ETIME and EINTR still report in `nget` the events already taken off the port.
            if !matches!(e.raw_os_error(), Some(libc::ETIME) | Some(libc::EINTR)) {
                return Err(e);
            }
        }
        let n = (nget as usize).min(evs.len());
        for ev in evs.iter().take(n) {
            self.dispatch(ev)?;
        }
        Ok(())
    }

    fn dispatch(&mut self, ev: &libc::port_event) -> io::Result<()> {
        match libc::c_int::from(ev.portev_source) {
            libc::PORT_SOURCE_FD => self.fd_fired(ev.portev_object as RawFd),
            libc::PORT_SOURCE_FILE => self.dir_fired(WatchId(ev.portev_user as usize as u32)),
            _ => Ok(()),
        }
    }

    fn fd_fired(&mut self, fd: RawFd) -> io::Result<()> {
        if fd == self.signals.fd() {
            let pending = &mut self.pending;
            self.signals.take(|s| push_once(pending, Event::Signal(s)))?;
            // Drained: associating again now only fires for a new signal.
            return self.associate_fd(fd);
        }
        if self.fds.iter().any(|(f, _)| *f == fd) {
            push_once(&mut self.pending, Event::Readable(fd));
            self.rearm.push(fd);
        }
        Ok(())
    }

    /// Re-stats the directory and associates it again at once (see the module comment). A
    /// directory that is gone ends its watch, as on the other systems.
    fn dir_fired(&mut self, id: WatchId) -> io::Result<()> {
        let port = self.port();
        let Some(w) = self.dirs.iter_mut().find(|w| w.id == id) else { return Ok(()) };
        push_once(&mut self.pending, Event::DirChanged(id));
        let Ok(meta) = dir_meta(Path::new(OsStr::from_bytes(w.name.as_bytes()))) else {
            return Ok(());
        };
        set_times(&mut w.obj, &meta);
        (w.dev, w.ino) = (meta.dev(), meta.ino());
        associate_dir(port, &mut w.obj, id)
    }
}

fn associate_dir(port: RawFd, obj: &mut FileObj, id: WatchId) -> io::Result<()> {
    let ptr = std::ptr::addr_of_mut!(*obj) as usize;
    let user = id.0 as usize as *mut libc::c_void;
    let events = FILE_MODIFIED | FILE_ATTRIB;
    // SAFETY: `obj` is boxed in `Native::dirs` (stable address) with its name alive, and stays
    // there until unwatch_dir dissociates it.
    let ret = unsafe { libc::port_associate(port, libc::PORT_SOURCE_FILE, ptr, events, user) };
    cvt(ret).map(drop)
}

/// Copies the times of a fresh stat(2) into the file object: the kernel fires when they differ.
fn set_times(obj: &mut FileObj, meta: &std::fs::Metadata) {
    obj.fo_atime = timespec(meta.atime(), meta.atime_nsec());
    obj.fo_mtime = timespec(meta.mtime(), meta.mtime_nsec());
    obj.fo_ctime = timespec(meta.ctime(), meta.ctime_nsec());
}

fn dir_meta(path: &Path) -> io::Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    Ok(meta)
}

fn timespec(sec: i64, nsec: i64) -> libc::timespec {
    *TimeSpec::new(sec as libc::time_t, nsec as _).as_ref()
}

fn ignore_enoent(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
}

/// The time left until `deadline` for port_getn; None blocks.
fn timeout_until(deadline: Option<Instant>) -> Option<libc::timespec> {
    let left = deadline?.saturating_duration_since(Instant::now());
    Some(*TimeSpec::from_duration(left).as_ref())
}
