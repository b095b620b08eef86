//! Other processes, where no way is known to tell a pid's incarnation or to wait for a process
//! that is not a child (systems not known to this project): both answer `Unsupported`, and
//! runsv then leaves a process of an earlier runsv alone, as C runsv does.

use std::io;
use std::os::fd::OwnedFd;

use crate::platform::unsupported;

pub fn ident(_pid: crate::child::Pid) -> io::Result<Option<String>> {
    Err(unsupported("telling processes apart by start time"))
}

pub fn exit_fd(_pid: crate::child::Pid) -> io::Result<OwnedFd> {
    Err(unsupported("waiting for a process that is not a child"))
}
