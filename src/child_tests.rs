//! The child module against real processes (no root needed). Only specific pids are waited
//! for: the test harness runs tests on threads of one process, so `reap` (any child) is left
//! to the integration tests.

use super::*;
use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;

fn pipe() -> (OwnedFd, OwnedFd) {
    platform::nonblocking_pipe().map(|(r, w)| (blocking(r), w)).unwrap()
}

fn blocking(fd: OwnedFd) -> OwnedFd {
    crate::sys::set_nonblock(&fd, false).unwrap();
    fd
}

/// Everything the read end gets until every writer is gone.
fn drain(r: OwnedFd) -> String {
    let mut s = String::new();
    File::from(r).read_to_string(&mut s).unwrap();
    s
}

#[test]
fn a_child_runs_and_its_exit_code_is_collected() {
    let argv = [c"sh", c"-c", c"exit 3"];
    let pid = spawn(&Spec::new(c"/bin/sh", &argv)).unwrap();
    let st = wait(pid).unwrap();
    assert_eq!(st.exit_code(), Some(3));
    assert_eq!(st.signal(), None);
    assert!(!st.success());
}

#[test]
fn a_killed_child_reports_its_signal() {
    let argv = [c"sh", c"-c", c"kill -9 $$"];
    let pid = spawn(&Spec::new(c"/bin/sh", &argv)).unwrap();
    let st = wait(pid).unwrap();
    assert_eq!((st.exit_code(), st.signal()), (None, Some(libc::SIGKILL)));
}

#[test]
fn a_failed_exec_comes_back_to_the_parent() {
    let argv = [c"missing"];
    let e = spawn(&Spec::new(c"/nonexistent/missing", &argv)).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    let e = spawn(&Spec { dir: Some(Dir::Path(c"/nonexistent")), ..Spec::new(c"/bin/sh", &argv) })
        .unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "a failed chdir too");
}

#[test]
fn a_failed_exec_can_be_one_line_and_an_exit_code() {
    let (r, w) = pipe();
    let fds = [(w.as_raw_fd(), 2)];
    let argv = [c"./run"];
    let report = Report::Line {
        prefix: b"runsv x: warning: ",
        name: b"./run",
        code: 111,
        words: Words::PerStep,
    };
    let spec = Spec { fds: &fds, report, ..Spec::new(c"/nonexistent/run", &argv) };
    let pid = spawn(&spec).unwrap();
    drop(w);
    assert_eq!(wait(pid).unwrap().exit_code(), Some(111));
    assert_eq!(drain(r), "runsv x: warning: unable to start ./run: file does not exist\n");
}

#[test]
fn fixed_words_name_every_failure_the_same() {
    let (r, w) = pipe();
    let fds = [(w.as_raw_fd(), 2)];
    let argv = [c"runsv", c"svc"];
    let words = Words::Always(b"unable to start runsv ");
    let report = Report::Line { prefix: b"runsvdir /s: fatal: ", name: b"svc", code: 100, words };
    let spec = Spec {
        fds: &fds,
        dir: Some(Dir::Path(c"/nonexistent")),
        report,
        ..Spec::new(c"/bin/sh", &argv)
    };
    let pid = spawn(&spec).unwrap();
    drop(w);
    assert_eq!(wait(pid).unwrap().exit_code(), Some(100));
    assert_eq!(drain(r), "runsvdir /s: fatal: unable to start runsv svc: file does not exist\n");
}

#[test]
fn fds_directory_and_search_are_applied() {
    let (r, w) = pipe();
    let fds = [(w.as_raw_fd(), 1)];
    let argv = [c"sh", c"-c", c"pwd"];
    let spec =
        Spec { fds: &fds, dir: Some(Dir::Path(c"/")), search: true, ..Spec::new(c"sh", &argv) };
    let pid = spawn(&spec).unwrap();
    drop(w);
    assert_eq!(drain(r), "/\n");
    assert!(wait(pid).unwrap().success());
}

#[test]
fn a_new_session_leads_its_own() {
    let argv = [c"sleep", c"30"];
    let pid = spawn(&Spec { session: Session::New, ..Spec::new(c"/bin/sleep", &argv) }).unwrap();
    let sid = nix::unistd::getsid(Some(pid));
    assert_eq!(try_wait(pid).unwrap(), None, "still running");
    kill(pid, Signal::SIGKILL).unwrap();
    assert_eq!(wait(pid).unwrap().signal(), Some(libc::SIGKILL));
    assert_eq!(sid.unwrap(), pid);
}

#[test]
fn closed_fds_are_closed_in_the_child() {
    let (r, w) = pipe();
    let fds = [(w.as_raw_fd(), 2)];
    // `echo` to a closed stdout fails, and the shell says so on stderr.
    let argv = [c"sh", c"-c", c"echo x || echo closed >&2"];
    let spec = Spec { fds: &fds, close: &[1], ..Spec::new(c"/bin/sh", &argv) };
    let pid = spawn(&spec).unwrap();
    drop(w);
    assert!(drain(r).ends_with("closed\n"));
    assert!(wait(pid).unwrap().success());
}

#[test]
fn lack_of_resources_is_transient_and_nothing_else_is() {
    assert!(transient(&io::Error::from_raw_os_error(libc::EAGAIN)));
    assert!(transient(&io::Error::from_raw_os_error(libc::ENOMEM)));
    assert!(!transient(&io::Error::from_raw_os_error(libc::ENOENT)));
    assert!(!transient(&io::Error::other("x")));
}

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
