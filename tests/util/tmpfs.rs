//! File systems mounted for a test (root only, Linux mount(8)): a size-limited tmpfs for the
//! disk-full tests, and filling it up; an ext2 that keeps whole-second times.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A file system mounted on a directory, unmounted on drop.
pub struct Mount(pub PathBuf);

impl Mount {
    /// A tmpfs of `size` mounted on `dir`.
    pub fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        let args = ["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"];
        Mount::run(&args, dir, "cannot mount a tmpfs here")
    }

    /// An ext2 with 128-byte inodes, which keep whole-second times, made in the image `img` and loop-mounted on `dir`
    /// (needs mke2fs).
    pub fn coarse(img: &Path, dir: &Path) -> Option<Mount> {
        std::fs::File::create(img).unwrap().set_len(16 << 20).unwrap();
        let made = Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext2", "-I", "128"])
            .arg(img)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!("skipped: no mke2fs to make a file system with whole-second times");
            return None;
        }
        Mount::run(&["-o", "loop", &img.display().to_string()], dir, "cannot loop-mount here")
    }

    /// Runs `mount <args> <dir>`; prints why the test is skipped if it fails.
    fn run(args: &[&str], dir: &Path, skip: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount").args(args).arg(dir).status().is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: {skip}");
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
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
