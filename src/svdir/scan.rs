//! Reading the services directory (all OSes): which entries are service directories, identified
//! by device and inode as runit does, so that a renamed entry keeps its runsv and two names for
//! one directory get one runsv.
//!
//! A quick scan (after a directory event) reads the entries and only stats the names that are
//! new, whose directory entry changed (another inode behind the name: `ln -sfn`, `mv`), or that
//! failed last time. A full scan stats every name: it is the safety net for changes that make
//! no event in the directory, such as a retargeted symlink further down a chain.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

/// A service directory: (device, inode).
pub type Key = (u64, u64);

/// What a name in the directory stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Service(Key),
    /// Exists but is no directory (a regular file, ...): skipped silently, as runit does.
    NotDir,
    /// stat failed with this errno (a dangling symlink: ENOENT).
    Failed(i32),
}

struct Known {
    d_ino: u64,
    target: Target,
}

/// The outcome of one scan.
#[derive(Debug, Default)]
pub struct Scan {
    /// Each service directory with the first name (in directory order) that leads to it.
    pub services: HashMap<Key, OsString>,
    /// Names that started to fail (or fail differently) in this scan: report them once.
    pub new_failures: Vec<(OsString, io::Error)>,
}

/// Remembers what each name stood for, to keep quick scans quick and reports single.
#[derive(Default)]
pub struct Scanner {
    known: HashMap<OsString, Known>,
}

impl Scanner {
    /// Forgets everything (the services directory itself was replaced).
    pub fn clear(&mut self) {
        self.known.clear();
    }

    /// The target `name` had at the last scan.
    pub fn target_of(&self, name: &OsStr) -> Option<Target> {
        self.known.get(name).map(|k| k.target)
    }

    /// Reads the directory open as `dir`; `full` stats every name again.
    pub fn scan<Fd: AsFd>(&mut self, dir: &Fd, full: bool) -> io::Result<Scan> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let mut stream = Dir::openat(dir.as_fd(), ".", flags, Mode::empty())?;
        let mut out = Scan::default();
        let mut seen = HashSet::new();
        for entry in stream.iter() {
            let entry = entry?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name.as_bytes().first() == Some(&b'.') {
                continue;
            }
            let target = self.lookup(dir, name, entry.ino(), full, &mut out);
            if let Target::Service(key) = target {
                out.services.entry(key).or_insert_with(|| name.to_owned());
            }
            seen.insert(name.to_owned());
        }
        self.known.retain(|name, _| seen.contains(name));
        Ok(out)
    }

    fn lookup<Fd: AsFd>(
        &mut self,
        dir: &Fd,
        name: &OsStr,
        d_ino: u64,
        full: bool,
        out: &mut Scan,
    ) -> Target {
        if let Some(k) = self.known.get(name) {
            let settled = !matches!(k.target, Target::Failed(_));
            if !full && settled && k.d_ino == d_ino {
                return k.target;
            }
        }
        let target = stat_target(dir, name);
        let before = self.known.insert(name.to_owned(), Known { d_ino, target });
        if let Target::Failed(code) = target {
            if before.map(|k| k.target) != Some(target) {
                out.new_failures.push((name.to_owned(), io::Error::from_raw_os_error(code)));
            }
        }
        target
    }
}

/// The key of a directory from its stat.
// The field types differ between OSes (st_dev is 32-bit on some BSDs): the casts are needed.
#[allow(clippy::unnecessary_cast)]
pub fn key_of(st: &nix::sys::stat::FileStat) -> Key {
    (st.st_dev as u64, st.st_ino as u64)
}

/// The mode bits of a stat, as u32 on every OS (mode_t is 16-bit on BSDs).
#[allow(clippy::unnecessary_cast)]
pub fn mode_of(st: &nix::sys::stat::FileStat) -> u32 {
    st.st_mode as u32
}

/// What `name` (followed through symlinks) is.
pub fn stat_target<Fd: AsFd>(dir: &Fd, name: &OsStr) -> Target {
    match fstatat(dir.as_fd(), name, AtFlags::empty()) {
        Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR => {
            Target::Service(key_of(&st))
        }
        Ok(_) => Target::NotDir,
        Err(e) => Target::Failed(e as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(tag: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("runit-scan-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn open(p: &std::path::Path) -> std::fs::File {
        std::fs::File::open(p).unwrap()
    }

    #[test]
    fn finds_dirs_and_links_skips_dots_and_files() {
        let d = tmp("kinds");
        std::fs::create_dir(d.join("a")).unwrap();
        std::fs::create_dir(d.join(".hidden")).unwrap();
        std::fs::write(d.join("file"), b"").unwrap();
        symlink(d.join("a"), d.join("alias")).unwrap();
        symlink(d.join("missing"), d.join("dangling")).unwrap();
        let mut s = Scanner::default();
        let out = s.scan(&open(&d), false).unwrap();
        assert_eq!(out.services.len(), 1, "a and alias are one directory");
        assert_eq!(out.new_failures.len(), 1);
        assert_eq!(out.new_failures[0].0, "dangling");
        // A second scan reports the dangling link no more.
        let out = s.scan(&open(&d), true).unwrap();
        assert!(out.new_failures.is_empty());
        assert_eq!(s.target_of(OsStr::new("file")), Some(Target::NotDir));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn quick_scan_sees_retargeted_link() {
        let d = tmp("retarget");
        std::fs::create_dir(d.join("x")).unwrap();
        std::fs::create_dir(d.join(".y")).unwrap();
        symlink(d.join("x"), d.join("svc")).unwrap();
        let mut s = Scanner::default();
        let first = s.scan(&open(&d), false).unwrap();
        // Replace the link atomically, as `ln -sfn` does.
        symlink(d.join(".y"), d.join(".tmp")).unwrap();
        std::fs::rename(d.join(".tmp"), d.join("svc")).unwrap();
        let second = s.scan(&open(&d), false).unwrap();
        let k1: Vec<_> = first.services.keys().collect();
        let k2: Vec<_> = second.services.keys().collect();
        assert_eq!(k1.len(), 1, "x, and svc -> x, are one directory");
        assert_eq!(k2.len(), 2, "svc -> .y is another one");
        assert!(s.target_of(OsStr::new("svc")) != s.target_of(OsStr::new("x")));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
