//! The event-loop contract of `runit::platform`, checked the same way against the native backend
//! of the build (epoll, kqueue or event ports) and the portable one (poll + self-pipe + `stat()`
//! rescans), so every OS that runs the suite checks both.
//!
//! Signal dispositions are process-wide, so these tests take one lock. Signals are sent with
//! `raise` (to the calling thread): a test binary has many threads, and only the calling thread
//! blocks the signals on Linux.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use runit::platform::{self, Event, Interest, Platform, Signal};

use crate::util::tmpfs::Mount;
use crate::util::TempDir;

static LOCK: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn soon(ms: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_millis(ms))
}

/// Long enough for the portable backend's once-a-second rescan, with margin.
const DIR_LIMIT_MS: u64 = 5000;

fn raise(sig: Signal) {
    nix::sys::signal::raise(sig).unwrap();
}

/// Puts the thread's mask back after a backend that blocks signals (Linux signalfd).
fn unblock(sigs: &[Signal]) {
    let mut set = nix::sys::signal::SigSet::empty();
    sigs.iter().for_each(|s| set.add(*s));
    nix::sys::signal::pthread_sigmask(nix::sys::signal::SigmaskHow::SIG_UNBLOCK, Some(&set), None)
        .unwrap();
}

/// Every event until the loop has been quiet for `quiet_ms`.
fn drain<P: Platform>(p: &mut P, quiet_ms: u64) -> Vec<Event> {
    let mut evs = Vec::new();
    loop {
        match p.wait(soon(quiet_ms)).unwrap() {
            Event::Timeout => return evs,
            ev => evs.push(ev),
        }
    }
}

/// A connected pair standing in for a pipe (readable with data, EOF when the peer closes).
/// std creates it close-on-exec: a plain pipe(2) here would leak into the programs that other
/// tests spawn meanwhile, and on into their services.
fn pipe() -> (UnixStream, UnixStream) {
    UnixStream::pair().unwrap()
}

fn signals_coalesce_but_are_not_lost<P: Platform>() {
    let _g = lock();
    let sigs = [Signal::SIGUSR1, Signal::SIGUSR2];
    {
        let mut p = P::new(&sigs).unwrap();
        // Arrive while the loop is busy elsewhere, twice for USR1.
        raise(Signal::SIGUSR1);
        raise(Signal::SIGUSR2);
        raise(Signal::SIGUSR1);
        let mut got = drain(&mut p, 200);
        got.sort_by_key(|e| format!("{e:?}"));
        assert_eq!(got, vec![Event::Signal(Signal::SIGUSR1), Event::Signal(Signal::SIGUSR2)]);
        // And again after a wait: the loop keeps receiving.
        raise(Signal::SIGUSR2);
        assert_eq!(p.wait(soon(5000)).unwrap(), Event::Signal(Signal::SIGUSR2));
        assert_eq!(p.wait(soon(50)).unwrap(), Event::Timeout);
    }
    unblock(&sigs);
}

fn fd_readiness_is_level_triggered<P: Platform>() {
    let _g = lock();
    let mut p = P::new(&[]).unwrap();
    let (mut r, mut w) = pipe();
    let fd = r.as_raw_fd();
    p.add_fd(fd, Interest::Read).unwrap();
    assert!(p.add_fd(fd, Interest::Read).is_err(), "adding an fd twice must fail");
    assert_eq!(p.wait(soon(50)).unwrap(), Event::Timeout);
    w.write_all(b"x").unwrap();
    assert_eq!(p.wait(soon(5000)).unwrap(), Event::Readable(fd));
    // Not read yet: reported again.
    assert_eq!(p.wait(soon(5000)).unwrap(), Event::Readable(fd));
    let mut buf = [0u8; 8];
    assert_eq!(r.read(&mut buf).unwrap(), 1);
    assert_eq!(p.wait(soon(50)).unwrap(), Event::Timeout);
    // EOF is readable too.
    drop(w);
    assert_eq!(p.wait(soon(5000)).unwrap(), Event::Readable(fd));
    p.remove_fd(fd).unwrap();
    assert!(p.remove_fd(fd).is_err(), "removing an unknown fd must fail");
    assert_eq!(p.wait(soon(50)).unwrap(), Event::Timeout);
}

fn deadlines_are_kept<P: Platform>() {
    let _g = lock();
    let mut p = P::new(&[]).unwrap();
    let deadline = Instant::now() + Duration::from_millis(120);
    assert_eq!(p.wait(Some(deadline)).unwrap(), Event::Timeout);
    assert!(Instant::now() >= deadline, "woke up before the deadline");
    // A deadline already past still reports what is ready first.
    let (r, mut w) = pipe();
    p.add_fd(r.as_raw_fd(), Interest::Read).unwrap();
    w.write_all(b"x").unwrap();
    let past = Instant::now();
    assert_eq!(p.wait(Some(past)).unwrap(), Event::Readable(r.as_raw_fd()));
    p.remove_fd(r.as_raw_fd()).unwrap();
    assert_eq!(p.wait(Some(past)).unwrap(), Event::Timeout);
}

fn dir_changes_are_reported<P: Platform>() {
    let _g = lock();
    let dir = TempDir::new("platform-dir");
    let mut p = P::new(&[]).unwrap();
    let id = p.watch_dir(dir.path()).unwrap();
    assert_eq!(p.watch_dir(dir.path()).unwrap(), id, "one directory, one watch");
    File::create(dir.join("file")).unwrap();
    assert!(p.watch_dir(&dir.join("file")).is_err(), "a file is not a directory");
    assert!(p.watch_dir(&dir.join("missing")).is_err());
    let step = |p: &mut P, what: &str| {
        assert_eq!(p.wait(soon(DIR_LIMIT_MS)).unwrap(), Event::DirChanged(id), "{what}");
        // Leftovers of the same change must not answer for the next step.
        assert!(drain(p, 20).iter().all(|e| *e == Event::DirChanged(id)));
    };
    step(&mut p, "create");
    std::fs::rename(dir.join("file"), dir.join("renamed")).unwrap();
    step(&mut p, "rename");
    std::fs::create_dir(dir.join("sub")).unwrap();
    step(&mut p, "mkdir");
    std::fs::remove_file(dir.join("renamed")).unwrap();
    step(&mut p, "remove");
    p.unwatch_dir(id).unwrap();
    File::create(dir.join("after")).unwrap();
    assert_eq!(p.wait(soon(1500)).unwrap(), Event::Timeout, "event after unwatch");
}

fn gone_reports_a_fifo_losing_its_reader<P: Platform>() {
    let _g = lock();
    let dir = TempDir::new("platform-fifo");
    let path = dir.join("ok");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let open = |write: bool| {
        OpenOptions::new()
            .read(!write)
            .write(write)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap()
    };
    let reader = open(false);
    let writer = open(true);
    let fd = writer.as_raw_fd();
    let mut p = P::new(&[]).unwrap();
    match p.add_fd(fd, Interest::Gone) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            assert_ne!(platform::OS_NAME, "linux", "Linux can tell: {e}");
            assert!(e.to_string().contains(platform::OS_NAME), "{e}");
            eprintln!("skipped: {e}");
            return;
        }
        Err(e) => panic!("add_fd(Gone): {e}"),
    }
    // Nothing to report while the reader is there: no wakeups for writability.
    assert_eq!(p.wait(soon(100)).unwrap(), Event::Timeout);
    drop(reader);
    assert_eq!(p.wait(soon(5000)).unwrap(), Event::Gone(fd));
    p.remove_fd(fd).unwrap();
}

/// A child spawned after the loop took SIGUSR1 must get it back at its default (kqueue sets
/// SIG_IGN, which exec keeps): `kill -USR1 $$` then kills the shell.
fn children_get_default_signals<P: Platform>() {
    let _g = lock();
    let sigs = [Signal::SIGUSR1];
    {
        let _p = P::new(&sigs).unwrap();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "kill -USR1 $$; echo survived"]);
        // SAFETY: reset_child_signals only makes async-signal-safe calls.
        unsafe { cmd.pre_exec(move || platform::reset_child_signals(&sigs)) };
        let out = cmd.output().unwrap();
        assert_eq!(out.status.signal(), Some(libc::SIGUSR1), "{out:?}");
    }
    unblock(&sigs);
}

/// The portable loop owns process-wide handlers: a second one asking for signals is refused
/// while the first lives, and may take them once it is gone.
#[test]
fn portable_signal_owner_is_unique() {
    let _g = lock();
    let sigs = [Signal::SIGUSR1];
    let first = platform::Portable::new(&sigs).unwrap();
    let second = platform::Portable::new(&sigs);
    assert_eq!(second.err().map(|e| e.kind()), Some(std::io::ErrorKind::AlreadyExists));
    assert!(platform::Portable::new(&[]).is_ok(), "a loop without signals may coexist");
    drop(first);
    let mut third = platform::Portable::new(&sigs).unwrap();
    raise(Signal::SIGUSR1);
    assert_eq!(third.wait(soon(5000)).unwrap(), Event::Signal(Signal::SIGUSR1));
}

/// A forked child runs the inherited handler until exec: its signal is its own, and must not show
/// up as an event of the parent's loop.
#[test]
fn portable_child_signal_before_exec_is_not_the_parents() {
    let _g = lock();
    let sigs = [Signal::SIGUSR1];
    let mut p = platform::Portable::new(&sigs).unwrap();
    let (r, w) = pipe();
    // SAFETY: the child only makes async-signal-safe calls (raise, write, _exit).
    match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Child => {
            let _ = nix::sys::signal::raise(Signal::SIGUSR1);
            let _ = nix::unistd::write(&w, b"k");
            // SAFETY: leaves the forked child without running the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(w);
            let mut r = r;
            let mut b = [0u8; 1];
            assert_eq!(r.read(&mut b).unwrap(), 1, "child finished");
            nix::sys::wait::waitpid(child, None).unwrap();
        }
    }
    assert_eq!(p.wait(soon(100)).unwrap(), Event::Timeout);
}

/// On a file system that keeps whole seconds, a change made in the same second as the watch's
/// last look leaves the directory's times as they were; it must be reported all the same.
fn same_second_changes_are_reported<P: Platform>() {
    use std::os::unix::fs::MetadataExt;
    let _g = lock();
    if !crate::util::root_or_skip("mounting a file system with whole-second times") {
        return;
    }
    let t = TempDir::new("platform-coarse");
    let Some(fs) = Mount::coarse(&t.join("img"), &t.join("mnt")) else { return };
    let mtime = |p: &std::path::Path| std::fs::metadata(p).unwrap().mtime();
    // Each attempt needs two changes within one second; a loaded machine may need another go.
    for attempt in 0..5 {
        let d = fs.0.join(format!("d{attempt}"));
        std::fs::create_dir(&d).unwrap();
        // The start of a second, so both changes fit in it.
        crate::util::wait_for("the start of a second", Duration::from_secs(2), || {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .is_ok_and(|t| t.subsec_millis() < 200)
        });
        File::create(d.join(".seen")).unwrap();
        let mut p = P::new(&[]).unwrap();
        let id = p.watch_dir(&d).unwrap();
        File::create(d.join("new")).unwrap();
        if mtime(&d) != mtime(&d.join(".seen")) {
            continue;
        }
        assert_eq!(
            p.wait(soon(DIR_LIMIT_MS)).unwrap(),
            Event::DirChanged(id),
            "same-second change"
        );
        return;
    }
    panic!("no two changes within one second in 5 attempts");
}

macro_rules! backend_tests {
    ($name:ident, $ty:ty) => {
        mod $name {
            #[test]
            fn signals_coalesce_but_are_not_lost() {
                super::signals_coalesce_but_are_not_lost::<$ty>()
            }
            #[test]
            fn fd_readiness_is_level_triggered() {
                super::fd_readiness_is_level_triggered::<$ty>()
            }
            #[test]
            fn deadlines_are_kept() {
                super::deadlines_are_kept::<$ty>()
            }
            #[test]
            fn same_second_changes_are_reported() {
                super::same_second_changes_are_reported::<$ty>()
            }
            #[test]
            fn dir_changes_are_reported() {
                super::dir_changes_are_reported::<$ty>()
            }
            #[test]
            fn gone_reports_a_fifo_losing_its_reader() {
                super::gone_reports_a_fifo_losing_its_reader::<$ty>()
            }
            #[test]
            fn children_get_default_signals() {
                super::children_get_default_signals::<$ty>()
            }
        }
    };
}

backend_tests!(native, runit::platform::Native);
backend_tests!(portable, runit::platform::Portable);
