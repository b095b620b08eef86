//! Reading the services directory (all OSes): which entries are service directories, identified
//! by device and inode as runit does, so that a renamed entry keeps its runsv and two names for
//! one directory get one runsv. The bookkeeping of what each name led to is in `table`; the
//! scan itself, which starts new services as it finds them (as runit does), in `services`.

use std::ffi::OsStr;
use std::os::fd::AsFd;

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

/// A new stream over the entries of the directory open as `dir` (read from its start).
pub fn entries<Fd: AsFd>(dir: &Fd) -> nix::Result<Dir> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    Dir::openat(dir.as_fd(), ".", flags, Mode::empty())
}

/// Names whose stat failed in the last scan, so that each failure is reported once.
#[derive(Default)]
pub struct Failures {
    /// Name, errno, and whether it failed again in the current scan.
    list: Vec<(Box<OsStr>, i32, bool)>,
}

impl Failures {
    /// Forgets everything (the services directory itself was replaced).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Starts a scan.
    pub fn begin(&mut self) {
        self.list.iter_mut().for_each(|e| e.2 = false);
    }

    /// `name` failed with `code` in this scan: whether that is news to report.
    pub fn note(&mut self, name: &OsStr, code: i32) -> bool {
        match self.list.iter_mut().find(|e| *e.0 == *name) {
            Some(e) => {
                e.2 = true;
                std::mem::replace(&mut e.1, code) != code
            }
            None => {
                self.list.push((name.into(), code, true));
                true
            }
        }
    }

    /// Ends a complete scan: a name that stopped failing is reported again if it fails later.
    pub fn end(&mut self) {
        self.list.retain(|e| e.2);
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

    #[test]
    fn targets_of_dirs_links_files_and_dangling_links() {
        let d = tmp("kinds");
        std::fs::create_dir(d.join("a")).unwrap();
        std::fs::write(d.join("file"), b"").unwrap();
        symlink(d.join("a"), d.join("alias")).unwrap();
        symlink(d.join("missing"), d.join("dangling")).unwrap();
        let dir = std::fs::File::open(&d).unwrap();
        let t = |n: &str| stat_target(&dir, OsStr::new(n));
        assert!(matches!(t("a"), Target::Service(_)));
        assert_eq!(t("a"), t("alias"), "a and alias are one directory");
        assert_eq!(t("file"), Target::NotDir);
        assert_eq!(t("dangling"), Target::Failed(libc::ENOENT));
        let mut names: Vec<String> = (entries(&dir).unwrap().iter())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".", "..", "a", "alias", "dangling", "file"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn failures_are_news_once() {
        let mut f = Failures::default();
        let x = OsStr::new("x");
        f.begin();
        assert!(f.note(x, libc::ENOENT));
        f.end();
        f.begin();
        assert!(!f.note(x, libc::ENOENT), "same failure again: no news");
        assert!(f.note(x, libc::EACCES), "another errno: news");
        f.end();
        f.begin();
        f.end(); // x did not fail in this scan
        f.begin();
        assert!(f.note(x, libc::EACCES), "failing again after a good scan: news");
    }
}
