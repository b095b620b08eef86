//! A size-limited tmpfs for the disk-full tests (root only, Linux mount(8)), and filling it up.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on `dir`, unmounted on drop.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here");
            return None;
        }
        Some(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `path` until it refuses more.
pub fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![b'F'; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

/// An ext2 file system with 128-byte inodes, which keep whole-second times, loop-mounted on
/// `dir` from the image `img` (root only; needs mke2fs). Unmounted on drop.
pub struct CoarseFs(pub PathBuf);

impl CoarseFs {
    pub fn mount(img: &Path, dir: &Path) -> Option<CoarseFs> {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::File::create(img).unwrap().set_len(16 << 20).unwrap();
        let made = Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext2", "-I", "128"])
            .arg(img)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: no mke2fs to make a file system with whole-second times");
            return None;
        }
        let ok = Command::new("mount")
            .args(["-o", "loop"])
            .arg(img)
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot loop-mount a file system here");
            return None;
        }
        Some(CoarseFs(dir.to_path_buf()))
    }
}

impl Drop for CoarseFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
