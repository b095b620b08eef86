//! A log directory held open by descriptor (all OSes): every file operation is relative to it
//! (`openat`, `renameat`, ...), so svlogd never changes its working directory and a directory
//! renamed under it keeps working.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::sys::{cstr, cvt};

#[derive(Debug)]
pub struct Dir(OwnedFd);

fn name(n: &str) -> io::Result<CString> {
    CString::new(n).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

impl Dir {
    /// Opens a directory (close-on-exec).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = cstr(path)?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: `c` is a valid C string for the duration of the call.
        let fd = cvt(unsafe { libc::open(c.as_ptr(), flags) })?;
        // SAFETY: `fd` was just returned by open and is owned by nobody else.
        Ok(Dir(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// `openat` with close-on-exec added; `mode` matters only with O_CREAT. Never through a
    /// symlink: svlogd works only on files it made itself, and a link planted in the log
    /// directory must not send its writes (or the processor's reads) elsewhere. A link found
    /// where a file is to be written is removed and the file made anew; reading one fails.
    /// Only `config` may be a link ([`Dir::open_following`]).
    pub fn open_file(&self, n: &str, flags: i32, mode: u32) -> io::Result<File> {
        let flags = flags | libc::O_NOFOLLOW;
        match self.openat(n, flags, mode) {
            // The errno for a symlink under O_NOFOLLOW differs between OSes: look instead.
            Err(e) if flags & (libc::O_WRONLY | libc::O_RDWR) != 0 && self.is_symlink(n) => {
                self.unlink(n).map_err(|_| e)?;
                self.openat(n, flags, mode)
            }
            r => r,
        }
    }

    /// Opens `n` for reading, following a symlink (for `config`, which may be shared).
    pub fn open_following(&self, n: &str) -> io::Result<File> {
        self.openat(n, libc::O_RDONLY, 0)
    }

    /// Whether entry `n` is a symbolic link.
    pub fn is_symlink(&self, n: &str) -> bool {
        let Ok(c) = name(n) else { return false };
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        let flags = libc::AT_SYMLINK_NOFOLLOW;
        // SAFETY: valid dir fd and C string; `st` is only read after fstatat succeeded, which
        // means the kernel filled it in.
        unsafe {
            libc::fstatat(self.fd(), c.as_ptr(), st.as_mut_ptr(), flags) == 0
                && st.assume_init().st_mode & libc::S_IFMT == libc::S_IFLNK
        }
    }

    fn openat(&self, n: &str, flags: i32, mode: u32) -> io::Result<File> {
        let c = name(n)?;
        let fl = flags | libc::O_CLOEXEC;
        // SAFETY: valid dir fd and C string; the mode is passed as the variadic argument.
        let fd = cvt(unsafe { libc::openat(self.fd(), c.as_ptr(), fl, mode as libc::c_uint) })?;
        // SAFETY: `fd` is new and ours.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Opens for appending, creating it with `mode` (then forced, whatever the umask).
    pub fn open_append(&self, n: &str, mode: u32) -> io::Result<File> {
        let f = self.open_file(n, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT, mode)?;
        fchmod(&f, mode)?;
        Ok(f)
    }

    pub fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (a, b) = (name(from)?, name(to)?);
        // SAFETY: valid dir fd and C strings.
        cvt(unsafe { libc::renameat(self.fd(), a.as_ptr(), self.fd(), b.as_ptr()) }).map(drop)
    }

    pub fn unlink(&self, n: &str) -> io::Result<()> {
        let c = name(n)?;
        // SAFETY: valid dir fd and C string.
        cvt(unsafe { libc::unlinkat(self.fd(), c.as_ptr(), 0) }).map(drop)
    }

    /// Changes the mode of a file, not of what a symlink in its place points to (the file is
    /// opened with O_NOFOLLOW and changed through its descriptor).
    pub fn chmod(&self, n: &str, mode: u32) -> io::Result<()> {
        let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW;
        fchmod(&self.open_file(n, flags, 0)?, mode)
    }

    /// `Some((size, mode))` of an entry, `None` if it does not exist.
    pub fn stat(&self, n: &str) -> io::Result<Option<(u64, u32)>> {
        let c = name(n)?;
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: valid dir fd and C string; `st` is written by the kernel on success.
        match cvt(unsafe { libc::fstatat(self.fd(), c.as_ptr(), st.as_mut_ptr(), 0) }) {
            // SAFETY: fstatat succeeded, so `st` is initialised.
            Ok(_) => {
                let st = unsafe { st.assume_init() };
                // mode_t is 16 bits on the BSDs and macOS, 32 on Linux.
                #[allow(clippy::unnecessary_cast)]
                Ok(Some((st.st_size as u64, st.st_mode as u32)))
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the directory itself was removed (its link count dropped to zero).
    pub fn is_removed(&self) -> bool {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: valid fd; `st` is written on success.
        if unsafe { libc::fstat(self.fd(), st.as_mut_ptr()) } != 0 {
            return false;
        }
        // SAFETY: fstat succeeded.
        unsafe { st.assume_init() }.st_nlink == 0
    }

    /// The names in the directory.
    pub fn names(&self) -> io::Result<Vec<Vec<u8>>> {
        let f = self.open_file(".", libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
        let fd: OwnedFd = f.into();
        // SAFETY: fdopendir takes ownership of a valid directory fd on success.
        let d = unsafe { libc::fdopendir(fd.as_raw_fd()) };
        if d.is_null() {
            return Err(io::Error::last_os_error());
        }
        std::mem::forget(fd); // now owned by the DIR stream, closed by closedir
        let mut out = Vec::new();
        loop {
            // SAFETY: `d` is a valid DIR stream until closedir below.
            let e = unsafe { libc::readdir(d) };
            if e.is_null() {
                break;
            }
            // SAFETY: readdir returned a non-null entry, valid until the next readdir or closedir
            // on `d`; its d_name is NUL-terminated, and the bytes are copied out right here.
            let n = unsafe { std::ffi::CStr::from_ptr((*e).d_name.as_ptr()) };
            out.push(n.to_bytes().to_vec());
        }
        // SAFETY: `d` is valid and closed exactly once.
        unsafe { libc::closedir(d) };
        Ok(out)
    }

    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// A duplicate at fd 10 or above (see [`high_fd`]).
    pub fn dup_high(&self) -> io::Result<OwnedFd> {
        high_fd(self.fd())
    }
}

/// `fchmod` on an open file.
pub fn fchmod(f: &File, mode: u32) -> io::Result<()> {
    // SAFETY: fchmod on an fd we own.
    cvt(unsafe { libc::fchmod(f.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// A close-on-exec duplicate numbered 10 or more, so that a child can `dup2` it onto the low
/// numbers (0, 1, 4, 5) without clobbering another one it still needs.
pub fn high_fd(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor.
    let n = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) })?;
    // SAFETY: `n` is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// A path for messages.
pub fn show(p: &Path) -> String {
    String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned()
}
