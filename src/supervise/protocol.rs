//! How runsv, sv and runsvdir speak through a service's `supervise/` directory (all OSes), in
//! one place: the file names, the control letters, sv's verbs, and the "is a runsv there"
//! probe. The status record and `Want` are in [`super::status`].
//!
//! The probe is runit's: runsv holds `supervise/ok` (a FIFO) open for reading as long as it
//! lives, so opening it for writing without blocking succeeds while a runsv is there and fails
//! with ENXIO once none is.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

use crate::platform::Signal;

/// The paths of one supervise directory, relative to the service directory (`MAIN`) or to
/// its parent's (`LOG`, the log service's).
#[derive(Debug)]
pub struct Names {
    /// The directory holding `supervise` (`.` or `log`).
    pub base: &'static str,
    pub dir: &'static str,
    pub lock: &'static str,
    pub control: &'static str,
    pub ok: &'static str,
    pub status: &'static str,
    pub status_new: &'static str,
    pub stat: &'static str,
    pub stat_new: &'static str,
    pub pid: &'static str,
    pub pid_new: &'static str,
    /// `<pid> <start token>` of the running process, so a later runsv can tell it is still
    /// the same process (see `runsv::leftover`); empty when down. Not part of C runit.
    pub ident: &'static str,
    pub ident_new: &'static str,
    /// The readiness of the current run (see `super::readiness`); only for services that
    /// declare readiness. Not part of C runit.
    pub readiness: &'static str,
    pub readiness_new: &'static str,
    /// Restarts, the last run's end, and whether the policy holds the service down (see
    /// `super::runs`). Not part of C runit.
    pub runs: &'static str,
    pub runs_new: &'static str,
    /// The path of the service's process tree (its cgroup), for a contained service (see
    /// `runsv::contain`). Not part of C runit.
    pub cgroup: &'static str,
    pub cgroup_new: &'static str,
}

pub const MAIN: Names = Names {
    base: ".",
    dir: "supervise",
    lock: "supervise/lock",
    control: "supervise/control",
    ok: "supervise/ok",
    status: "supervise/status",
    status_new: "supervise/status.new",
    stat: "supervise/stat",
    stat_new: "supervise/stat.new",
    pid: "supervise/pid",
    pid_new: "supervise/pid.new",
    ident: "supervise/ident",
    ident_new: "supervise/ident.new",
    readiness: "supervise/readiness",
    readiness_new: "supervise/readiness.new",
    runs: "supervise/runs",
    runs_new: "supervise/runs.new",
    cgroup: "supervise/cgroup",
    cgroup_new: "supervise/cgroup.new",
};

pub const LOG: Names = Names {
    base: "log",
    dir: "log/supervise",
    lock: "log/supervise/lock",
    control: "log/supervise/control",
    ok: "log/supervise/ok",
    status: "log/supervise/status",
    status_new: "log/supervise/status.new",
    stat: "log/supervise/stat",
    stat_new: "log/supervise/stat.new",
    pid: "log/supervise/pid",
    pid_new: "log/supervise/pid.new",
    ident: "log/supervise/ident",
    ident_new: "log/supervise/ident.new",
    readiness: "log/supervise/readiness",
    readiness_new: "log/supervise/readiness.new",
    runs: "log/supervise/runs",
    runs_new: "log/supervise/runs.new",
    cgroup: "log/supervise/cgroup",
    cgroup_new: "log/supervise/cgroup.new",
};

/// One control letter, as written to `supervise/control` (runsv(8)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Letter {
    Up,
    Down,
    Once,
    Exit,
    Pause,
    Cont,
    Hup,
    Alarm,
    Int,
    Quit,
    Usr1,
    Usr2,
    Term,
    Kill,
    /// `r` (ours): stop the current run the way `d` does (the service's `down-signal` and
    /// `timeout-kill`) but keep what is wanted, so that it is started again: the stop half of
    /// sv's `restart` for services that declare a stop policy. C's runsv ignores it.
    Restart,
}

/// Each letter and its byte.
const LETTERS: [(Letter, u8); 15] = [
    (Letter::Up, b'u'),
    (Letter::Down, b'd'),
    (Letter::Once, b'o'),
    (Letter::Exit, b'x'),
    (Letter::Pause, b'p'),
    (Letter::Cont, b'c'),
    (Letter::Hup, b'h'),
    (Letter::Alarm, b'a'),
    (Letter::Int, b'i'),
    (Letter::Quit, b'q'),
    (Letter::Usr1, b'1'),
    (Letter::Usr2, b'2'),
    (Letter::Term, b't'),
    (Letter::Kill, b'k'),
    (Letter::Restart, b'r'),
];

impl Letter {
    /// The letter of a control byte; other bytes are no command (runsv ignores them).
    pub fn from_byte(b: u8) -> Option<Letter> {
        LETTERS.iter().find(|(_, byte)| *byte == b).map(|(l, _)| *l)
    }

    pub fn byte(self) -> u8 {
        LETTERS.iter().find(|(l, _)| *l == self).map_or(b'?', |(_, b)| *b)
    }

    /// The signal a letter of `h a i q 1 2` passes on to the service (after `control/<c>`).
    pub fn passed_signal(self) -> Option<Signal> {
        Some(match self {
            Letter::Hup => Signal::SIGHUP,
            Letter::Alarm => Signal::SIGALRM,
            Letter::Int => Signal::SIGINT,
            Letter::Quit => Signal::SIGQUIT,
            Letter::Usr1 => Signal::SIGUSR1,
            Letter::Usr2 => Signal::SIGUSR2,
            _ => return None,
        })
    }
}

/// The bytes of `letters`, for one write to `supervise/control`.
pub fn bytes(letters: &[Letter]) -> Vec<u8> {
    letters.iter().map(|l| l.byte()).collect()
}

/// What the probe of `supervise/ok` found.
#[derive(Debug)]
pub enum Probe {
    /// A runsv holds the service.
    Running,
    /// Nobody reads `supervise/ok`: no runsv.
    NotRunning,
    /// The FIFO could not be opened for another reason (missing, permissions).
    Failed(io::Error),
}

/// Opens a FIFO for writing without blocking: ENXIO when nobody reads it.
pub fn open_fifo_write(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Whether a runsv supervises the service whose `supervise/ok` is at `ok`.
pub fn probe(ok: &Path) -> Probe {
    classify(open_fifo_write(ok).map(OwnedFd::from))
}

/// [`probe`] of `ok` relative to the directory `dir` (runsvdir, which holds the services
/// directory open).
pub fn probe_at<Fd: AsFd>(dir: &Fd, ok: &Path) -> Probe {
    let flags = OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
    classify(openat(dir.as_fd(), ok, flags, Mode::empty()).map_err(io::Error::from))
}

/// Whether an open failure means "nobody reads the FIFO".
pub fn nobody_reads(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENXIO)
}

fn classify(opened: io::Result<OwnedFd>) -> Probe {
    match opened {
        Ok(_) => Probe::Running,
        Err(e) if nobody_reads(&e) => Probe::NotRunning,
        Err(e) => Probe::Failed(e),
    }
}

/// A verb's meaning for sv: what it does to each service and what it then waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub act: Act,
    /// The letters sent (for [`Act::Control`]), in one write.
    pub letters: Vec<Letter>,
    /// The states waited for, each in turn, when `wait` is set.
    pub goals: Vec<Goal>,
    /// Wait for the goals, then report.
    pub wait: bool,
    /// On timeout send `k` (the `force-*` verbs).
    pub kill: bool,
}

/// What sv does to each service before (optionally) waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Write the letters to `supervise/control`.
    Control,
    /// Print the status line (the `status` command).
    Status,
    /// Nothing (`check` only waits).
    Nothing,
    /// `sv watch` (ours): report every change until told to stop.
    Watch,
}

/// One state sv waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// That the letter has taken effect.
    Done(Letter),
    /// `check`: whatever state the record says is wanted.
    Wanted,
}

fn plan(act: Act, letters: &[Letter], wait: bool, kill: bool) -> Option<Plan> {
    let goals = letters.iter().map(|&l| Goal::Done(l)).collect();
    Some(Plan { act, letters: letters.to_vec(), goals, wait, kill })
}

/// The verb's meaning, as in runit's sv.c: mostly only the first character counts; the LSB
/// verbs and `check` are matched whole. `-v` (`verbose`) makes the plain commands wait.
pub fn verb(action: &[u8], lsb: bool, verbose: bool) -> Option<Plan> {
    use Act::Control as C;
    use Letter::{Cont, Down, Exit, Hup, Term, Up};
    let first = *action.first()?;
    match first {
        b'x' | b'e' => plan(C, &[Exit], verbose, false),
        b'X' | b'E' => plan(C, &[Exit], true, true),
        b'D' => plan(C, &[Down], true, true),
        b'T' => plan(C, &[Term, Cont], true, true),
        b't' if action == b"try-restart" => plan(C, &[Term, Cont], true, false),
        b'c' if action == b"check" => Some(Plan {
            act: Act::Nothing,
            letters: vec![],
            goals: vec![Goal::Wanted],
            wait: true,
            kill: false,
        }),
        b's' => match action {
            b"shutdown" => plan(C, &[Exit], true, false),
            b"start" => plan(C, &[Up], true, false),
            b"stop" => plan(C, &[Down], true, false),
            _ if lsb && action != b"status" => None,
            _ => plan(Act::Status, &[], false, false),
        },
        b'r' => match action {
            b"restart" => plan(C, &[Term, Cont, Up], true, false),
            b"reload" => plan(C, &[Hup], true, false),
            _ => None,
        },
        b'w' if action == b"watch" && !lsb => {
            Some(Plan { act: Act::Watch, letters: vec![], goals: vec![], wait: false, kill: false })
        }
        b'f' => match action {
            b"force-reload" => plan(C, &[Term, Cont], true, true),
            b"force-restart" => plan(C, &[Term, Cont, Up], true, true),
            b"force-shutdown" => plan(C, &[Exit], true, true),
            b"force-stop" => plan(C, &[Down], true, true),
            _ => None,
        },
        // The single letters (`x` was taken above): `u`, `d`, `o`, `p`, `c`, `h`, `a`, `i`,
        // `q`, `1`, `2`, `t`, `k`.
        _ => Letter::from_byte(first).and_then(|l| plan(C, &[l], verbose, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_and_others_are_no_command() {
        for (l, b) in LETTERS {
            assert_eq!(Letter::from_byte(b), Some(l));
            assert_eq!(l.byte(), b);
        }
        for b in [b's', b'C', b'e', b'U', 0, b'\n'] {
            assert_eq!(Letter::from_byte(b), None, "{b}");
        }
        assert_eq!(Letter::Usr2.passed_signal(), Some(Signal::SIGUSR2));
        assert_eq!(Letter::Term.passed_signal(), None);
        assert_eq!(bytes(&[Letter::Term, Letter::Cont, Letter::Up]), b"tcu");
    }

    #[test]
    fn verbs() {
        use Letter::*;
        let letters = |v: &[u8]| verb(v, false, false).unwrap().letters;
        assert_eq!(letters(b"up"), [Up]);
        assert_eq!(letters(b"upper"), [Up]);
        assert_eq!(letters(b"exit"), [Exit]);
        assert_eq!(letters(b"2"), [Usr2]);
        assert_eq!(
            verb(b"term", false, true).unwrap(),
            Plan {
                act: Act::Control,
                letters: vec![Term],
                goals: vec![Goal::Done(Term)],
                wait: true,
                kill: false
            }
        );
        assert_eq!(letters(b"try-restart"), [Term, Cont]);
        assert_eq!(letters(b"cont"), [Cont]);
        let check = verb(b"check", false, false).unwrap();
        assert_eq!((check.act, check.goals), (Act::Nothing, vec![Goal::Wanted]));
        assert_eq!(verb(b"sfoo", false, false).unwrap().act, Act::Status);
        assert_eq!(verb(b"sfoo", true, false), None);
        assert_eq!(verb(b"status", true, false).unwrap().act, Act::Status);
        assert_eq!(letters(b"restart"), [Term, Cont, Up]);
        assert_eq!(verb(b"rfoo", false, false), None);
        assert!(verb(b"force-stop", false, false).unwrap().kill);
        assert_eq!(verb(b"force-foo", false, false), None);
        assert_eq!(verb(b"", false, false), None);
        assert_eq!(verb(b"zap", false, false), None);
        assert_eq!(verb(b"s", false, false).unwrap().act, Act::Status);
        assert_eq!(verb(b"C", false, false), None);
    }

    #[test]
    fn probe_tells_a_reader_from_none() {
        let dir = std::env::temp_dir().join(format!("protocol-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = dir.join("ok");
        let _ = std::fs::remove_file(&ok);
        assert!(matches!(probe(&ok), Probe::Failed(e) if e.kind() == io::ErrorKind::NotFound));
        crate::sys::mkfifo(&ok, 0o600).unwrap();
        assert!(matches!(probe(&ok), Probe::NotRunning));
        let reader = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&ok);
        let reader = reader.unwrap();
        assert!(matches!(probe(&ok), Probe::Running));
        let d = File::open(&dir).unwrap();
        assert!(matches!(probe_at(&d, Path::new("ok")), Probe::Running));
        drop(reader);
        assert!(matches!(probe_at(&d, Path::new("ok")), Probe::NotRunning));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
