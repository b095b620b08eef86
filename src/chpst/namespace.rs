//! chpst -F and -I: the program in new PID and mount namespaces (Linux; the platform layer
//! refuses elsewhere, and chpst refuses the options before anything runs).
//!
//! unshare(CLONE_NEWPID) moves only the children, so the chpst that runsv started stays
//! outside: it forks the namespace's PID 1, hands it every signal it gets (QUIT as KILL, which
//! ends the whole namespace at once) and exits as PID 1 did (`cmd::chpst` turns a signal into
//! 128 + its number, as C runit's chpst does). runsv thus still supervises its own child, and `sv k` ends the
//! namespace with it. With -F, PID 1 is chpst again: it reaps every process of the namespace,
//! orphans included, hands each signal to all of them (`kill(-1)`), KILLs them all on QUIT,
//! and once none is left exits as the program (PID 2) did. With -I the program itself is PID 1.
//!
//! The signals go through the platform's event loop, as in every other program here: they are
//! taken before the fork, so none is lost while a process is still starting.

use super::{Failure, Stop};
use crate::child::{self, Pid, Reaped, Status};
use crate::platform::{self, Event, Native, Platform, Signal};

/// Who is PID 1 of the new PID namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// `-F`: chpst, reaping and relaying; the program is PID 2.
    WithInit,
    /// `-I`: the program.
    ProgramIsInit,
}

/// CHLD, which tells that a child ended, and the signals handed on: those a supervisor, `sv`
/// or a terminal sends. Not KILL and STOP, which cannot be taken, nor the ones a fault raises
/// in the process itself.
const TAKEN: [Signal; 14] = [
    Signal::SIGCHLD,
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGTERM,
    Signal::SIGCONT,
    Signal::SIGTSTP,
    Signal::SIGTTIN,
    Signal::SIGTTOU,
    Signal::SIGWINCH,
    Signal::SIGURG,
];

/// Enters the namespaces. Returns in the process that goes on to become the program (PID 1 or
/// 2 of the new namespace); the others end in [`Stop::Ended`]. `chrooted`: `-/` was applied.
pub fn enter(
    how: Namespace,
    chrooted: bool,
    verbose: bool,
    warn: &mut dyn FnMut(String),
) -> Result<(), Stop> {
    let events = take_signals()?;
    platform::unshare_pid_and_mounts()
        .map_err(|e| Failure::sys("unable to unshare PID and mount namespaces", e))?;
    let private = private_mounts(chrooted, verbose, warn)?;
    // SAFETY: chpst is single-threaded.
    match unsafe { child::fork() }.map_err(|e| Failure::sys("unable to fork new pid 1", e))? {
        Some(pid1) => Err(Stop::Ended(relay(events, pid1)?)),
        None => {
            // The parent's loop: its signalfd or self-pipe serves the parent alone.
            drop(events);
            new_pid1(how, private)
        }
    }
}

/// Takes the signals over, and makes sure children are kept for us to reap: with CHLD ignored
/// (inherited through exec) the kernel would reap them itself and their status be lost. The
/// program gets CHLD at its default then, as every child of runsv does anyway.
fn take_signals() -> Result<Native, Failure> {
    // SAFETY: SIG_DFL is always a valid disposition; no handler code is installed.
    unsafe { libc::signal(libc::SIGCHLD, libc::SIG_DFL) };
    Native::new(&TAKEN).map_err(|e| Failure::sys("unable to take signals", e))
}

/// Makes the copied mounts private, so that the new /proc (and whatever the program mounts)
/// stays in the namespace. After a chroot to a directory that is no mount point that cannot be
/// done; C runit goes on then, and so do we, but without touching /proc: a mount or unmount
/// could then reach the parent namespace. Whether the mounts are private.
fn private_mounts(
    chrooted: bool,
    verbose: bool,
    warn: &mut dyn FnMut(String),
) -> Result<bool, Failure> {
    const WHAT: &str = "pid1: unable to set root mount propagation";
    match platform::make_mounts_private() {
        Ok(()) => Ok(true),
        Err(e) if chrooted => {
            if verbose {
                warn(format!("{}; /proc is left as it is", Failure::sys(WHAT, e)));
            }
            Ok(false)
        }
        Err(e) => Err(Failure::sys(WHAT, e)),
    }
}

/// The outer chpst: hands each signal to PID 1; how PID 1 ended.
fn relay(mut events: Native, pid1: Pid) -> Result<Status, Failure> {
    loop {
        match next_signal(&mut events)? {
            Signal::SIGCHLD => {
                let ended = child::try_wait(pid1)
                    .map_err(|e| Failure::sys("unable to wait for new pid 1", e))?;
                if let Some(st) = ended {
                    return Ok(st);
                }
            }
            // Killing PID 1 ends every process of its namespace.
            Signal::SIGQUIT => send(pid1, Signal::SIGKILL),
            s => send(pid1, s),
        }
    }
}

/// In the new namespace, as its PID 1.
fn new_pid1(how: Namespace, private: bool) -> Result<(), Stop> {
    // kill(-1) below reaches every process this one may signal: it must be a namespace's init.
    if std::process::id() != 1 {
        return Err(Failure::plain("pid1: not process 1 of a new PID namespace").into());
    }
    if private {
        platform::mount_fresh_proc().map_err(|e| Failure::sys("pid1: unable to mount /proc", e))?;
    }
    match how {
        Namespace::ProgramIsInit => become_program(),
        Namespace::WithInit => {
            let events = take_signals()?;
            // SAFETY: chpst is single-threaded.
            match unsafe { child::fork() }.map_err(|e| Failure::sys("pid1: unable to fork", e))? {
                Some(program) => Err(Stop::Ended(reap_all(events, program)?)),
                None => {
                    drop(events);
                    become_program()
                }
            }
        }
    }
}

/// The process that goes on to the rest of the plan and exec: the signals back at their
/// defaults, as for any child.
fn become_program() -> Result<(), Stop> {
    platform::reset_child_signals(&TAKEN)
        .map_err(|e| Failure::sys("unable to reset signals", e))?;
    Ok(())
}

/// chpst -F's PID 1: reaps everything, relays to everything; once nobody is left, how the
/// program ended.
fn reap_all(mut events: Native, program: Pid) -> Result<Status, Failure> {
    let everyone = Pid::from_raw(-1);
    let mut status = None;
    loop {
        match next_signal(&mut events)? {
            Signal::SIGCHLD => {
                if reap_ended(program, &mut status) {
                    // The program is our child: it was reaped before we were left childless.
                    return status
                        .ok_or_else(|| Failure::plain("pid1: the program's end was lost"));
                }
            }
            Signal::SIGQUIT => send(everyone, Signal::SIGKILL),
            s => send(everyone, s),
        }
    }
}

/// Reaps what has ended, keeping the program's status; whether no process is left.
fn reap_ended(program: Pid, status: &mut Option<Status>) -> bool {
    loop {
        match child::reap() {
            Reaped::Child(pid, st) if pid == program => *status = Some(st),
            Reaped::Child(..) => {}
            Reaped::NoneNow => return false,
            Reaped::Childless => return true,
        }
    }
}

fn next_signal(events: &mut Native) -> Result<Signal, Failure> {
    loop {
        match events.wait(None) {
            Ok(Event::Signal(s)) => return Ok(s),
            // No fd or directory is watched: nothing else can come.
            Ok(_) => {}
            Err(e) => return Err(Failure::sys("unable to wait for a signal", e)),
        }
    }
}

/// A failure means the process is gone already, which its end will tell.
fn send(to: Pid, sig: Signal) {
    let _ = child::kill(to, sig);
}
