//! svlogd's event loop (all OSes, through `platform`): one thread sleeping in
//! [`Platform::wait`] for stdin, ALRM/HUP/TERM/CHLD and the deadlines of `t` rotation, write
//! retries and processor restarts. Input is read in large chunks and each directory gets one
//! write per chunk; when a directory cannot keep up (disk full, processor busy) reading stops
//! until its queue shrinks, so memory stays bounded and nothing read is dropped.

use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use super::feed::Feeder;
use super::logdir::{Drain, LogDir};
use super::options::Options;
use super::processor::Proc;
use super::LABEL;
use crate::child::{self, Reaped};
use crate::fail::{self, Failure, Level};
use crate::platform::{Event, Interest, Native, Platform, Signal};

/// The signals svlogd acts on.
pub static SIGNALS: [Signal; 4] =
    [Signal::SIGALRM, Signal::SIGHUP, Signal::SIGTERM, Signal::SIGCHLD];

/// How much is read from stdin at once.
const READ_SIZE: usize = 128 * 1024;
/// Reading pauses while a directory has this much queued.
const QUEUE_LIMIT: usize = 1024 * 1024;

const STDIN: RawFd = 0;

/// Why svlogd stopped early.
#[derive(Debug)]
pub enum Fatal {
    NoDirs,
    Io(Failure),
}

pub struct Svlogd {
    plat: Native,
    dirs: Vec<LogDir>,
    feeder: Feeder,
    buf: Vec<u8>,
    verbose: bool,
    /// stdin can be waited on (a pipe); a regular file is simply always readable.
    pollable: bool,
    watching: bool,
    /// EOF or TERM: no more input; finish writing, then exit.
    exiting: bool,
    /// TERM came in the middle of a line: read on, one byte at a time, to its end (as C
    /// svlogd), so the line is neither cut in two nor is anything after it taken from the
    /// next svlogd on the same pipe.
    to_line_end: bool,
}

impl Svlogd {
    pub fn new(o: &Options) -> Result<Svlogd, Fatal> {
        let plat = Native::new(&SIGNALS)
            .map_err(|e| Fatal::Io(Failure::sys("unable to set up signals", e)))?;
        let dirs = o
            .dirs
            .iter()
            .map(|d| LogDir::new(PathBuf::from(d), o.linemax, o.verbose, &SIGNALS))
            .collect();
        let mut s = Svlogd {
            plat,
            dirs,
            feeder: Feeder::new(o, o.dirs.len()),
            buf: vec![0; READ_SIZE],
            verbose: o.verbose,
            pollable: true,
            watching: false,
            exiting: false,
            to_line_end: false,
        };
        s.open_all()?;
        Ok(s)
    }

    fn info(&self, msg: &str) {
        if self.verbose {
            fail::say(LABEL, Level::Info, &msg);
        }
    }

    fn open_all(&mut self) -> Result<(), Fatal> {
        let now = Instant::now();
        let mut any = false;
        for d in &mut self.dirs {
            d.close();
            match d.open(now) {
                Ok(()) => any = true,
                Err(msg) => {
                    fail::warn(LABEL, &msg);
                    if d.q.discard() > 0 {
                        fail::warn(LABEL, &format_args!("data queued for {} is lost", d.name()));
                    }
                }
            }
        }
        if any {
            Ok(())
        } else {
            Err(Fatal::NoDirs)
        }
    }

    /// Runs until input ended and everything is written.
    pub fn run(&mut self) -> Result<(), Fatal> {
        crate::sys::set_nonblock(&std::io::stdin(), true)
            .map_err(|e| Fatal::Io(Failure::sys("unable to read standard input", e)))?;
        loop {
            self.pump();
            if self.finished() {
                break;
            }
            let want = !self.exiting && self.has_room();
            self.watch_stdin(want);
            let busy = want && !self.pollable;
            let syncs = self.dirs.iter().any(LogDir::has_unsynced);
            let deadline = if busy || syncs { Some(Instant::now()) } else { self.deadline() };
            let ev = self
                .plat
                .wait(deadline)
                .map_err(|e| Fatal::Io(Failure::sys("unable to wait for events", e)))?;
            match ev {
                Event::Readable(STDIN) => self.read_input(),
                Event::Timeout if busy => self.read_input(),
                // Nothing to do right now: time for the fsyncs that rotation put off.
                Event::Timeout if syncs => self.dirs.iter_mut().for_each(LogDir::sync_rotated),
                Event::Signal(sig) => self.signal(sig)?,
                // Woken for the deadline of a timer (handled below), by a fd other than stdin
                // (none is registered), or by events svlogd never asks for.
                Event::Timeout | Event::Readable(_) | Event::Gone(_) | Event::DirChanged(_) => {}
            }
            self.timers();
        }
        for d in &mut self.dirs {
            d.close();
        }
        Ok(())
    }

    /// Writes what each directory has queued, unless it waits for a retry.
    fn pump(&mut self) {
        let now = Instant::now();
        for i in 0..self.dirs.len() {
            let Some(d) = self.dirs.get_mut(i) else { continue };
            if !d.is_open() || d.retry_at.is_some() {
                continue;
            }
            if let Drain::Failed { lost: true } = d.drain(now) {
                let others = self.dirs.iter().enumerate().any(|(j, o)| j != i && o.is_open());
                // With no other directory left, keep the data and keep trying.
                if let (true, Some(d)) = (others, self.dirs.get_mut(i)) {
                    d.lose("removed or not writable");
                }
            }
        }
    }

    fn finished(&self) -> bool {
        self.exiting
            && self.dirs.iter().all(|d| !d.is_open() || (d.q.is_idle() && d.proc == Proc::Idle))
    }

    fn has_room(&self) -> bool {
        self.dirs.iter().all(|d| d.q.pending() < QUEUE_LIMIT)
    }

    fn deadline(&self) -> Option<Instant> {
        self.dirs.iter().filter_map(LogDir::next_deadline).min()
    }

    fn timers(&mut self) {
        let now = Instant::now();
        for d in self.dirs.iter_mut().filter(|d| d.is_open()) {
            d.timers(now);
        }
    }

    /// Starts or stops waiting for stdin.
    fn watch_stdin(&mut self, want: bool) {
        if !self.pollable || want == self.watching {
            return;
        }
        if want {
            match self.plat.add_fd(STDIN, Interest::Read) {
                Ok(()) => self.watching = true,
                // epoll refuses regular files (EPERM): they are always readable anyway.
                Err(_) => self.pollable = false,
            }
        } else {
            let _ = self.plat.remove_fd(STDIN);
            self.watching = false;
        }
    }

    fn read_input(&mut self) {
        let len = if self.to_line_end { 1 } else { self.buf.len() };
        // SAFETY: reading into our own buffer, at most its length.
        let n = unsafe { libc::read(STDIN, self.buf.as_mut_ptr().cast(), len) };
        match crate::sys::cvt(n) {
            Ok(0) => self.end_input(),
            Ok(n) => {
                // read(2) returns at most the length it was given.
                let chunk = self.buf.get_mut(..n as usize).unwrap_or_default();
                self.feeder.feed(chunk, &mut self.dirs, SystemTime::now());
                if self.to_line_end && !self.feeder.mid_line() {
                    self.end_input();
                }
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EINTR)) => {}
            Err(e) => {
                fail::warn(LABEL, &fail::because("unable to read standard input", &e));
                self.end_input();
            }
        }
    }

    fn end_input(&mut self) {
        self.feeder.finish(&mut self.dirs);
        self.exiting = true;
        self.watch_stdin(false);
    }

    fn signal(&mut self, sig: Signal) -> Result<(), Fatal> {
        match sig {
            Signal::SIGTERM => {
                self.info("sigterm received.");
                if self.exiting {
                } else if self.feeder.mid_line() {
                    self.to_line_end = true;
                } else {
                    self.end_input();
                }
            }
            Signal::SIGALRM => {
                self.info("sigalarm received.");
                for d in self.dirs.iter_mut().filter(|d| d.is_open()) {
                    d.q.rotate_now();
                }
            }
            Signal::SIGHUP => {
                self.info("sighangup received.");
                self.pump();
                self.open_all()?;
            }
            Signal::SIGCHLD => {
                self.info("sigchild received.");
                self.reap();
            }
            // Only the signals of SIGNALS are delivered as events.
            _ => {}
        }
        Ok(())
    }

    /// Collects every exited child and tells its directory.
    fn reap(&mut self) {
        while let Reaped::Child(pid, status) = child::reap() {
            let running =
                |d: &&mut LogDir| matches!(d.proc, Proc::Running { pid: p, .. } if p == pid);
            if let Some(d) = self.dirs.iter_mut().find(running) {
                d.processor_exited(status);
            }
        }
    }
}
