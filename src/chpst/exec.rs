//! Running the program: execve along `$PATH` the way djb's pathexec does it (all OSes). The
//! search uses chpst's own `$PATH`, not the one an envdir may set for the program; an empty
//! `$PATH` entry means the current directory; without `$PATH`, `/bin:/usr/bin`.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::ptr;

/// Replaces the process with `file` run as `argv` in environment `env`. Returns only on
/// failure, with the error that best explains it (a permission problem wins over "not found").
pub fn pathexec(
    file: &OsStr,
    argv: &[OsString],
    env: &[OsString],
    path: Option<&OsStr>,
) -> io::Error {
    let (Ok(argv), Ok(env)) = (cstrings(argv), cstrings(env)) else {
        return io::Error::from_raw_os_error(libc::EINVAL);
    };
    let argv_ptrs = null_terminated(&argv);
    let env_ptrs = null_terminated(&env);
    let exec = |prog: &[u8]| -> io::Error {
        let Ok(prog) = CString::new(prog) else {
            return io::Error::from_raw_os_error(libc::ENOENT);
        };
        // Rust ignores SIGPIPE for itself; the program gets the default back, as from a shell.
        // SAFETY: resetting a disposition to SIG_DFL installs no handler code.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
        // SAFETY: all three pointers point to NUL-terminated strings and NULL-terminated arrays
        // that stay alive across the call; execve only returns on failure.
        unsafe { libc::execve(prog.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr()) };
        io::Error::last_os_error()
    };
    let file = file.as_bytes();
    if file.contains(&b'/') {
        return exec(file);
    }
    search(file, path.map_or(b"/bin:/usr/bin".as_slice(), |p| p.as_bytes()), exec)
}

/// Tries each `$PATH` entry in turn. Like pathexec_run: ENOENT moves on silently; EACCES,
/// EPERM and EISDIR are remembered and move on; any other error stops the search.
fn search(file: &[u8], path: &[u8], mut exec: impl FnMut(&[u8]) -> io::Error) -> io::Error {
    let mut saved: Option<io::Error> = None;
    for dir in path.split(|&b| b == b':') {
        let mut prog = if dir.is_empty() { b".".to_vec() } else { dir.to_vec() };
        prog.push(b'/');
        prog.extend_from_slice(file);
        let e = exec(&prog);
        match e.raw_os_error() {
            Some(libc::ENOENT) => {}
            Some(libc::EACCES | libc::EPERM | libc::EISDIR) => saved = Some(e),
            _ => return e,
        }
    }
    saved.unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
}

fn cstrings(v: &[OsString]) -> Result<Vec<CString>, std::ffi::NulError> {
    v.iter().map(|s| CString::new(s.as_bytes())).collect()
}

fn null_terminated(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter().map(|s| s.as_ptr()).chain([ptr::null()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_and_errors() {
        let mut tried = Vec::new();
        let e = search(b"prog", b"/a::/b", |p| {
            tried.push(String::from_utf8(p.to_vec()).unwrap());
            match p {
                b"/a/prog" => io::Error::from_raw_os_error(libc::EACCES),
                _ => io::Error::from_raw_os_error(libc::ENOENT),
            }
        });
        assert_eq!(tried, ["/a/prog", "./prog", "/b/prog"]);
        assert_eq!(e.raw_os_error(), Some(libc::EACCES));
        let e = search(b"prog", b"/a:/b", |_| io::Error::from_raw_os_error(libc::ENOEXEC));
        assert_eq!(e.raw_os_error(), Some(libc::ENOEXEC));
    }
}
