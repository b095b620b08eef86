//! The fd bookkeeping every event loop keeps the same way (poll, kqueue, event ports; epoll
//! keeps its table in the kernel): one registration per fd, and one queued event per kind.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;

use crate::platform::{Event, Interest};

/// Queues `ev` unless it is already waiting: a loop reports each kind of event once until it is
/// taken.
pub fn push_once(pending: &mut VecDeque<Event>, ev: Event) {
    if !pending.contains(&ev) {
        pending.push_back(ev);
    }
}

/// EEXIST when `fd` is registered already: an fd is watched for one interest at a time.
pub fn check_new_fd(fds: &[(RawFd, Interest)], fd: RawFd) -> io::Result<()> {
    if fds.iter().any(|(f, _)| *f == fd) {
        return Err(io::Error::from_raw_os_error(libc::EEXIST));
    }
    Ok(())
}

/// Takes `fd` off the registered fds and returns what it was watched for; ENOENT when it was
/// not registered.
pub fn take_fd(fds: &mut Vec<(RawFd, Interest)>, fd: RawFd) -> io::Result<Interest> {
    let Some(pos) = fds.iter().position(|(f, _)| *f == fd) else {
        return Err(io::Error::from_raw_os_error(libc::ENOENT));
    };
    Ok(fds.remove(pos).1)
}
