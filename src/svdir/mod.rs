//! runsvdir's core (all OSes): one runsv per service directory of a services directory,
//! restarted when it dies, stopped when its entry goes; event-driven through the platform's
//! directory watches, with a slow safety rescan. See `supervisor` for the event loop.

pub mod effects;
pub mod logdir;
pub mod rplog;
pub mod runlevel;
pub mod scan;
mod services;
pub mod spawn;
pub mod supervisor;
mod table;
mod watch;

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// A name as it appears in a one-line message: control bytes (a newline in a directory name)
/// are shown as `\xNN`, so each message stays one line.
pub fn show(name: &OsStr) -> String {
    let mut out = String::new();
    for chunk in String::from_utf8_lossy(name.as_bytes()).chars() {
        if chunk.is_control() {
            out.push_str(&format!("\\x{:02x}", chunk as u32));
        } else {
            out.push(chunk);
        }
    }
    out
}

/// Sends runsvdir's (and so its children's) stderr into a new pipe and returns the reading end.
/// Both ends are non-blocking, as in runit: a writer never blocks on a full log.
pub fn redirect_stderr_to_pipe() -> io::Result<OwnedFd> {
    let (rd, wr) = crate::platform::nonblocking_pipe()?;
    // dup2 clears close-on-exec on fd 2: the runsv children inherit it as their stderr.
    // SAFETY: dup2 onto fd 2, which this process owns as its stderr; `wr` stays valid.
    crate::sys::cvt(unsafe { libc::dup2(wr.as_raw_fd(), 2) })?;
    drop(wr);
    Ok(rd)
}
