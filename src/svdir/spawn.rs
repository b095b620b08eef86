//! Starting one `runsv` (all OSes): in the services directory, `runsv <name>` found through
//! `$PATH` as runit does, with the signals runsvdir took over back at their defaults, and a new
//! session with `-P`. A runsv that cannot be exec'd is a child that reports in one line and
//! exits 100, as in runit (`child` has the fork-versus-posix_spawn measurement).

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;

use crate::child::{self, Dir, Pid, Report, Session, Spec, Words};
use crate::fail::exit;
use crate::platform::Signal;

/// How runsv children are started.
pub struct Spawner {
    /// `-P`: a new session and process group for each runsv.
    pub new_session: bool,
    /// The signals to hand back to the default in the child.
    pub signals: &'static [Signal],
    /// Prefix of the child's failure line, `runsvdir <dir>: fatal: `.
    pub fatal: Vec<u8>,
}

impl Spawner {
    /// Starts `runsv <name>` with the working directory `dir`.
    pub fn start<Fd: AsFd>(&self, dir: &Fd, name: &OsStr) -> io::Result<Pid> {
        let arg = CString::new(name.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains NUL"))?;
        let argv = [c"runsv", arg.as_c_str()];
        child::spawn(&Spec {
            search: true,
            dir: Some(Dir::Fd(dir.as_fd().as_raw_fd())),
            session: if self.new_session { Session::New } else { Session::Inherit },
            signals: self.signals,
            report: Report::Line {
                prefix: &self.fatal,
                name: name.as_bytes(),
                code: exit::RUNSVDIR_CHILD_FAILED,
                words: Words::Always(b"unable to start runsv "),
            },
            ..Spec::new(c"runsv", &argv)
        })
    }
}
