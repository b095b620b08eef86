//! One log directory (all OSes): its lock, config and `current`, writing the queued bytes,
//! rotating where the queue says, pruning old files and driving the processor.
//!
//! Nothing here blocks or sleeps. A failed write or rotation leaves the bytes queued and sets
//! `retry_at`; the event loop calls [`LogDir::drain`] again then. A rotation that has to wait for
//! a running processor (svlogd(8): the next rotation waits for it) just stops the drain; the
//! processor's exit resumes it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::config::Config;
use super::dirfd::{fchmod, show, Dir};
use super::outq::{Next, OutQ};
use super::processor::{self, Proc};
use super::udp::Udp;
use super::LABEL;
use crate::errstr::describe;
use crate::fail::{self, Level};
use crate::platform::Signal;
use crate::tai::Tai64n;

/// First retry delay after a failure; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// A config file larger than this is not a config file.
const MAX_CONFIG: u64 = 1 << 20;
/// Rotated files remembered for a later fsync; older ones are left to the kernel's writeback.
const MAX_UNSYNCED: usize = 64;

/// The files of an open log directory.
#[derive(Debug)]
struct Files {
    dir: Dir,
    _lock: File,
    cur: File,
}

/// How far [`LogDir::drain`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// Everything queued is written.
    Done,
    /// A rotation waits for the processor.
    Blocked,
    /// An error; retry at `retry_at`. `lost`: the directory was removed or became unwritable.
    Failed { lost: bool },
}

#[derive(Debug)]
pub struct LogDir {
    pub path: PathBuf,
    pub cfg: Config,
    files: Option<Files>,
    pub q: OutQ,
    pub proc: Proc,
    pub udp: Option<Udp>,
    /// When `t` next rotates.
    pub trotate: Option<Instant>,
    /// When to retry writing after a failure.
    pub retry_at: Option<Instant>,
    backoff: Duration,
    proc_backoff: Duration,
    /// The last failure reported, so a persisting one is not repeated every second.
    failing: Option<String>,
    /// A rotation whose rename is done but whose new `current` could not be created yet.
    renamed: Option<String>,
    /// Rotated files not yet fsynced.
    unsynced: Vec<String>,
    verbose: bool,
    signals: &'static [Signal],
}

fn warn(msg: &str) {
    fail::warn(LABEL, &msg);
}

impl LogDir {
    pub fn new(path: PathBuf, linemax: usize, verbose: bool, signals: &'static [Signal]) -> LogDir {
        LogDir {
            path,
            cfg: Config::default(),
            files: None,
            q: OutQ::new(0, linemax),
            proc: Proc::Idle,
            udp: None,
            trotate: None,
            retry_at: None,
            backoff: MIN_BACKOFF,
            proc_backoff: MIN_BACKOFF,
            failing: None,
            renamed: None,
            unsynced: Vec::new(),
            verbose,
            signals,
        }
    }

    pub fn name(&self) -> String {
        show(&self.path)
    }

    fn info(&self, msg: &str) {
        if self.verbose {
            fail::say(LABEL, Level::Info, &msg);
        }
    }

    pub fn is_open(&self) -> bool {
        self.files.is_some()
    }

    /// Opens (or reopens) the directory: lock, config, `current`. On failure the directory is
    /// left closed and the message says why.
    pub fn open(&mut self, now: Instant) -> Result<(), String> {
        let name = self.name();
        let dir = Dir::open(&self.path)
            .map_err(|e| format!("unable to open log directory: {name}: {}", describe(&e)))?;
        let lock = dir
            .open_file("lock", libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT, 0o600)
            .and_then(|l| crate::sys::try_lock_exclusive(&l).map(|()| l))
            .map_err(|e| format!("unable to lock directory: {name}: {}", describe(&e)))?;
        let (cfg, read) = read_config(&dir, &name);
        self.cfg = cfg;
        if read {
            self.info(&format!("read: {name}/config"));
        }
        let size = self
            .recover_current(&dir)
            .map_err(|e| format!("unable to stat current: {name}: {}", describe(&e)))?;
        let cur = dir
            .open_append("current", 0o644)
            .map_err(|e| format!("unable to open current: {name}: {}", describe(&e)))?;
        self.info(&format!("{}: {name}/current", if size > 0 { "append" } else { "new" }));
        self.files = Some(Files { dir, _lock: lock, cur });
        self.q.reconfigure(self.cfg.sizemax, size);
        self.udp = self.cfg.udp.and_then(|a| {
            Udp::new(a)
                .map_err(|e| {
                    warn(&format!("unable to create udp socket: {name}: {}", describe(&e)))
                })
                .ok()
        });
        self.trotate = deadline(now, self.cfg.tmax);
        self.retry_at = None;
        Ok(())
    }

    /// A non-empty `current` without the owner-execute bit was being written when a previous
    /// svlogd died: it is complete now. Returns the size of the `current` to append to.
    fn recover_current(&mut self, dir: &Dir) -> io::Result<u64> {
        // A symlink is no log file of ours: it goes, and a new `current` is made.
        if dir.is_symlink("current") {
            self.info(&format!("unlink: {}/current: a symbolic link", self.name()));
            dir.unlink("current")?;
            return Ok(0);
        }
        let Some((size, mode)) = dir.stat("current")? else { return Ok(0) };
        if size == 0 || mode & 0o100 != 0 {
            return Ok(size);
        }
        // C names it `.u` even without a processor and then never processes it; we process it
        // when there is a processor and call it done otherwise.
        let process = self.cfg.processor.is_some() && self.proc == Proc::Idle;
        let base = unique_base(dir, if process { "u" } else { "s" })?;
        let file = format!("{base}.{}", if process { "u" } else { "s" });
        dir.rename("current", &file)?;
        if !process {
            let _ = dir.chmod(&file, 0o744);
        }
        self.info(&format!("rename: {}/current {file}", self.name()));
        self.rmoldest(dir);
        if process {
            self.start_processor(dir, base);
        }
        Ok(0)
    }

    /// Closes `current` as complete (mode 0744) and releases the lock.
    pub fn close(&mut self) {
        let Some(f) = self.files.take() else { return };
        self.info(&format!("close: {}", self.name()));
        if let Err(e) = f.cur.sync_all() {
            warn(&format!("unable to fsync current logfile: {}: {}", self.name(), describe(&e)));
        }
        if let Err(e) = fchmod(&f.cur, 0o744) {
            warn(&format!("unable to set mode of current: {}: {}", self.name(), describe(&e)));
        }
    }

    /// Whether rotated files wait for their fsync.
    pub fn has_unsynced(&self) -> bool {
        self.is_open() && !self.unsynced.is_empty()
    }

    /// Makes the rotated files durable; called when there is nothing else to do. A file that
    /// was processed or pruned meanwhile is simply skipped.
    pub fn sync_rotated(&mut self) {
        let Some(f) = self.files.as_ref() else { return };
        for name in self.unsynced.drain(..) {
            let name = match f.dir.stat(&name) {
                Ok(Some(_)) => name,
                // A processed `.u` is a `.s` now (and was written by the processor).
                _ => continue,
            };
            if let Ok(file) = f.dir.open_file(&name, libc::O_RDONLY, 0) {
                if let Err(e) = file.sync_all() {
                    warn(&format!("unable to fsync {}/{name}: {}", show(&self.path), describe(&e)));
                }
            }
        }
    }

    /// Gives the directory up (it is gone): what was queued for it cannot go anywhere.
    pub fn lose(&mut self, why: &str) {
        let n = self.q.discard();
        warn(&format!("log directory lost: {}: {why}; {n} bytes not written", self.name()));
        self.close();
        self.retry_at = None;
        self.trotate = None;
    }

    /// Writes what is queued, rotating on the way.
    pub fn drain(&mut self, now: Instant) -> Drain {
        loop {
            let step = match self.q.next() {
                Next::Idle => return self.recovered(),
                Next::Write(b) => {
                    let Some(f) = self.files.as_mut() else { return Drain::Done };
                    f.cur.write(b).map(Some)
                }
                Next::Rotate => match self.rotate(now) {
                    Ok(false) => return Drain::Blocked,
                    Ok(true) => Ok(None),
                    Err(e) => Err(e),
                },
            };
            match step {
                Ok(Some(0)) => return self.fail(&io::ErrorKind::WriteZero.into(), now),
                Ok(Some(n)) => self.q.written(n),
                Ok(None) => self.q.rotated(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && self.prune_for_space() => {}
                Err(e) => return self.fail(&e, now),
            }
        }
    }

    fn recovered(&mut self) -> Drain {
        if self.failing.take().is_some() {
            warn(&format!("{}: writing again", self.name()));
        }
        self.backoff = MIN_BACKOFF;
        Drain::Done
    }

    fn fail(&mut self, e: &io::Error, now: Instant) -> Drain {
        let msg = format!("unable to write to {}: {}", self.name(), describe(e));
        if self.failing.as_deref() != Some(msg.as_str()) {
            warn(&format!("{msg}; keeping the data and retrying"));
            self.failing = Some(msg);
        }
        self.retry_at = Some(now + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        let removed = self.files.as_ref().is_some_and(|f| f.dir.is_removed());
        let denied = matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM | libc::EROFS));
        Drain::Failed { lost: removed || denied }
    }

    /// Rotates `current`: `Ok(false)` if the processor is still busy with the previous file.
    fn rotate(&mut self, now: Instant) -> io::Result<bool> {
        if self.proc != Proc::Idle {
            return Ok(false);
        }
        let Some(f) = self.files.as_mut() else { return Ok(true) };
        let file = match self.renamed.take() {
            Some(file) => file,
            None => {
                // C fsyncs here, paying a disk round trip per rotation. We start the writeback
                // and let the fsync wait until svlogd is idle (`sync_rotated`).
                crate::platform::start_writeback(f.cur.as_raw_fd());
                fchmod(&f.cur, 0o744)?;
                let sfx = if self.cfg.processor.is_some() { "u" } else { "s" };
                let file = format!("{}.{sfx}", unique_base(&f.dir, sfx)?);
                if let Err(e) = f.dir.rename("current", &file) {
                    let _ = fchmod(&f.cur, 0o644);
                    return Err(e);
                }
                file
            }
        };
        match f.dir.open_append("current", 0o644) {
            Ok(cur) => f.cur = cur,
            Err(e) => {
                self.renamed = Some(file);
                return Err(e);
            }
        }
        if self.verbose {
            // As runit, the rotated file's size ends the line; the stat is only paid with -v.
            let size = f.dir.stat(&file).ok().flatten().map_or(0, |(size, _)| size);
            self.info(&format!("rename: {}/current {file} {size}", self.name()));
        }
        if self.unsynced.len() >= MAX_UNSYNCED {
            self.unsynced.remove(0);
        }
        self.unsynced.push(file.clone());
        if let Some(t) = self.trotate.filter(|t| *t <= now) {
            self.trotate = deadline(t.max(now), self.cfg.tmax);
        }
        let Some(f) = self.files.take() else { return Ok(true) };
        self.rmoldest(&f.dir);
        if let Some(base) = file.strip_suffix(".u") {
            self.start_processor(&f.dir, base.to_string());
        }
        self.files = Some(f);
        Ok(true)
    }

    /// Removes processor leftovers (`.t`) and, beyond `n` old files, the oldest one. A `.u`
    /// file, not processed yet, is neither counted nor removed (runit 2.3.0 never prunes the
    /// one being processed; Debian's C svlogd leaves every `.u` alone, and so do we).
    fn rmoldest(&self, dir: &Dir) {
        let busy = self.proc.busy_base().map(str::as_bytes);
        let names = match dir.names() {
            Ok(n) => n,
            Err(e) => {
                return warn(&format!(
                    "unable to read directory: {}: {}",
                    self.name(),
                    describe(&e)
                ))
            }
        };
        let mut count = 0u64;
        let mut oldest: Option<&[u8]> = None;
        for (n, (base, letter)) in names.iter().filter_map(|n| Some((n, old_file(n)?))) {
            let mine = busy == Some(base);
            if letter == b't' {
                if !mine {
                    let _ = dir.unlink(&String::from_utf8_lossy(n));
                }
                continue;
            }
            if letter == b'u' {
                continue;
            }
            count += 1;
            if !mine && oldest.map_or(true, |o| n.as_slice() < o) {
                oldest = Some(n);
            }
        }
        if self.cfg.nmax > 0 && count > self.cfg.nmax {
            if let Some(o) = oldest {
                let o = String::from_utf8_lossy(o);
                self.info(&format!("delete: {}/{o}", self.name()));
                if let Err(e) = dir.unlink(&o) {
                    warn(&format!(
                        "unable to unlink oldest logfile: {}/{o}: {}",
                        self.name(),
                        describe(&e)
                    ));
                }
            }
        }
    }

    /// Disk full and `N` below `n`: removes the oldest file while more than `N` remain.
    fn prune_for_space(&self) -> bool {
        if self.cfg.nmin >= self.cfg.nmax {
            return false;
        }
        let Some(f) = self.files.as_ref() else { return false };
        let Ok(names) = f.dir.names() else { return false };
        let busy = self.proc.busy_base().map(str::as_bytes);
        let old: Vec<(&Vec<u8>, &[u8])> =
            names.iter().filter_map(|n| Some((n, old_file(n)?.0))).collect();
        if old.len() as u64 <= self.cfg.nmin {
            return false;
        }
        let free = old.into_iter().filter(|(_, base)| busy != Some(*base));
        let Some(oldest) = free.map(|(n, _)| n).min() else {
            return false;
        };
        let o = String::from_utf8_lossy(oldest);
        warn(&format!("out of disk space, delete: {}/{o}", self.name()));
        f.dir.unlink(&o).is_ok()
    }

    fn start_processor(&mut self, dir: &Dir, base: String) {
        let Some(cmd) = self.cfg.processor.clone() else { return self.unprocessed(dir, &base) };
        self.info(&format!("processing: {}/{base}.u", self.name()));
        match processor::spawn(dir, &base, &cmd, self.signals) {
            Ok(pid) => self.proc = Proc::Running { pid, base },
            Err(e) => {
                warn(&format!("unable to run processor: {}: {}", self.name(), describe(&e)));
                self.proc = Proc::Retry { base, at: Instant::now() + self.proc_backoff };
                self.proc_backoff = (self.proc_backoff * 2).min(MAX_BACKOFF);
            }
        }
    }

    /// No processor any more (config changed): the rotated file is kept as it is.
    fn unprocessed(&mut self, dir: &Dir, base: &str) {
        let s = format!("{base}.s");
        if let Err(e) = dir.rename(&format!("{base}.u"), &s) {
            warn(&format!("unable to rename {}/{base}.u: {}", self.name(), describe(&e)));
        }
        let _ = dir.chmod(&s, 0o744);
        self.proc = Proc::Idle;
    }

    /// The processor with this pid exited with `status`.
    pub fn processor_exited(&mut self, status: crate::child::Status) {
        let Proc::Running { base, .. } = std::mem::replace(&mut self.proc, Proc::Idle) else {
            return;
        };
        let Some(f) = self.files.take() else {
            return warn(&format!("processor finished, log directory gone: {}", self.name()));
        };
        // A processor killed by a signal failed (C counts it as success and throws the
        // unprocessed file away).
        let ok = status.success();
        match ok.then(|| processor::commit(&f.dir, &base)) {
            Some(Ok(warnings)) => {
                warnings.iter().for_each(|w| warn(&format!("{}: {w}", self.name())));
                self.info(&format!("processed: {}/{base}.s", self.name()));
                self.proc_backoff = MIN_BACKOFF;
            }
            other => {
                if let Some(Err(e)) = other {
                    warn(&format!("unable to rename processed: {}: {}", self.name(), describe(&e)));
                }
                warn(&format!("processor failed, restart: {}", self.name()));
                processor::discard(&f.dir, &base);
                self.proc = Proc::Retry { base, at: Instant::now() + self.proc_backoff };
                self.proc_backoff = (self.proc_backoff * 2).min(MAX_BACKOFF);
            }
        }
        self.files = Some(f);
    }

    /// Runs the processor again once its retry time came.
    pub fn processor_retry(&mut self) {
        let Proc::Retry { base, .. } = std::mem::replace(&mut self.proc, Proc::Idle) else {
            return;
        };
        let Some(f) = self.files.take() else { return };
        self.start_processor(&f.dir, base);
        self.files = Some(f);
    }

    /// Sends a selected line through UDP; failures are logged into the directory, as C does.
    pub fn send_udp(&mut self, msg: &[u8], stamp: &[u8], line: &[u8]) {
        let Some(u) = &self.udp else {
            let parts: [&[u8]; 4] =
                [b"warning: no udp socket available: ", stamp, &self.cfg.prefix, line];
            return self.q.line(&parts);
        };
        if u.send(msg).is_err() {
            let body = msg.strip_suffix(b"\n").unwrap_or(msg);
            self.q.line(&[b"warning: failure sending through udp: ", body]);
        }
    }

    /// The earliest time something is due in this directory.
    pub fn next_deadline(&self) -> Option<Instant> {
        let p = match &self.proc {
            Proc::Retry { at, .. } => Some(*at),
            _ => None,
        };
        [self.trotate, self.retry_at, p].into_iter().flatten().min()
    }

    /// Runs what is due at `now`: time rotation, retries.
    pub fn timers(&mut self, now: Instant) {
        if let Some(t) = self.trotate.filter(|t| *t <= now) {
            self.q.rotate_now();
            self.trotate = deadline(t.max(now), self.cfg.tmax);
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
        }
        if matches!(self.proc, Proc::Retry { at, .. } if at <= now) {
            self.processor_retry();
        }
    }
}

/// An old file's name, `@` + 24 hex digits + `.` + one letter: its base (up to the dot) and
/// its letter.
fn old_file(n: &[u8]) -> Option<(&[u8], u8)> {
    match n.split_first_chunk::<25>()? {
        (base @ [b'@', ..], [b'.', letter]) => Some((base, *letter)),
        _ => None,
    }
}

/// `now + secs`, or none for 0 (or a time too far away to represent).
fn deadline(now: Instant, secs: u64) -> Option<Instant> {
    if secs == 0 {
        return None;
    }
    now.checked_add(Duration::from_secs(secs))
}

/// `@<tai64n now>` such that `<it>.<sfx>` does not exist yet.
fn unique_base(dir: &Dir, sfx: &str) -> io::Result<String> {
    loop {
        let hex = Tai64n::from_system(SystemTime::now()).to_hex();
        let base = format!("@{}", String::from_utf8_lossy(&hex));
        if dir.stat(&format!("{base}.{sfx}"))?.is_none() {
            return Ok(base);
        }
    }
}

/// Reads and parses `config`; a missing file means the defaults. Problems are warnings.
/// Also answers whether a config file was read (for `-v`'s `read:` line).
fn read_config(dir: &Dir, name: &str) -> (Config, bool) {
    let text = match dir.open_following("config") {
        Ok(f) => {
            let mut t = Vec::new();
            match f.take(MAX_CONFIG).read_to_end(&mut t) {
                Ok(_) => Some(t),
                Err(e) => {
                    warn(&format!("unable to read config: {name}: {}", describe(&e)));
                    None
                }
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => None,
        Err(e) => {
            warn(&format!("unable to read config: {name}: {}", describe(&e)));
            None
        }
    };
    let (cfg, warnings) = Config::parse(text.as_deref().unwrap_or_default());
    for w in warnings {
        warn(&format!("{name}/config: {w}"));
    }
    (cfg, text.is_some())
}
