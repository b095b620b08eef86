//! Linux: rewriting one command-line argument in place, so `ps` (which reads
//! `/proc/<pid>/cmdline`, i.e. the argv strings on the initial stack) shows new text there.
//!
//! The argv area is found through fields 48 and 49 (`arg_start`, `arg_end`) of
//! `/proc/self/stat` (Linux 3.5+, proc(5)); no `/proc` means nobody can read the title either.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;

/// The bytes of one argument of this process (its terminating NUL excluded).
pub struct ProcTitle {
    ptr: *mut u8,
    len: usize,
}

impl ProcTitle {
    /// Locates argument `index` (0 is the program name) in the argv area and checks that the
    /// area still holds exactly the arguments std saw, so nothing else gets overwritten.
    pub fn for_arg(index: usize) -> io::Result<ProcTitle> {
        let args: Vec<OsString> = std::env::args_os().collect();
        let Some(arg) = args.get(index) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no such argument"));
        };
        let mut expected = Vec::new();
        for a in &args {
            expected.extend_from_slice(a.as_bytes());
            expected.push(0);
        }
        let (start, end) = arg_area()?;
        if end.checked_sub(start) != Some(expected.len()) {
            return Err(io::Error::other("the argument area does not hold the arguments"));
        }
        // SAFETY: the kernel reports [start, end) as this process's argv strings; they stay
        // mapped for the life of the process and nothing in the program borrows them (std copies
        // arguments out when asked).
        let area = unsafe { std::slice::from_raw_parts(start as *const u8, expected.len()) };
        if area != expected.as_slice() {
            return Err(io::Error::other("the argument area was changed"));
        }
        let offset: usize = args[..index].iter().map(|a| a.len() + 1).sum();
        Ok(ProcTitle { ptr: (start + offset) as *mut u8, len: arg.len() })
    }

    /// How many bytes the argument has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the argument is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `text` over the argument, cut to its length; the terminating NUL stays, so the
    /// kernel keeps reading exactly the argv area.
    pub fn set(&mut self, text: &[u8]) {
        let n = text.len().min(self.len);
        // SAFETY: `ptr..ptr+len` lies inside the argv area checked in `for_arg`, owned by this
        // process; `ProcTitle` is not Send, and no Rust reference to that memory exists.
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), self.ptr, n) };
    }
}

/// `arg_start` and `arg_end` from `/proc/self/stat`.
fn arg_area() -> io::Result<(usize, usize)> {
    let stat = std::fs::read("/proc/self/stat")?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let close = stat.iter().rposition(|&b| b == b')').ok_or_else(bad_stat)?;
    let rest = std::str::from_utf8(&stat[close + 1..]).map_err(|_| bad_stat())?;
    let mut fields = rest.split_ascii_whitespace().skip(45); // field 3 is the first one here
    let mut next = || fields.next().and_then(|f| f.parse::<usize>().ok()).ok_or_else(bad_stat);
    let start = next()?;
    let end = next()?;
    Ok((start, end))
}

fn bad_stat() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/self/stat format")
}
