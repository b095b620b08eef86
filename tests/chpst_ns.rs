//! chpst -F and -I: the program in new PID and mount namespaces, under chpst's own PID 1 (-F)
//! or as PID 1 itself (-I). Every test needs root (CAP_SYS_ADMIN for unshare), signals only
//! the chpst it started, and finds the namespace's processes on the host by their parents.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::util::{self, procs, Reaper};

const LIMIT: Duration = Duration::from_secs(10);

fn chpst(args: &[&str]) -> (i32, String, String) {
    util::run(&util::bin("chpst"), args, std::path::Path::new("/"))
}

/// Starts chpst with `args`; its stdout is to be read with [`line`].
fn start(args: &[&str]) -> (Reaper, BufReader<ChildStdout>) {
    let mut child = Command::new(util::bin("chpst"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    (Reaper(child), out)
}

/// The next line the program printed: it has got that far.
fn line(out: &mut BufReader<ChildStdout>) -> String {
    let mut l = String::new();
    out.read_line(&mut l).unwrap();
    l.trim_end().to_string()
}

/// The host pids of every live descendant of `pid`.
fn descendants(pid: i32) -> Vec<i32> {
    let all = procs::procs();
    let mut found = vec![pid];
    let mut i = 0;
    while let Some(&p) = found.get(i) {
        found.extend(all.iter().filter(|q| q.ppid == p).map(|q| q.pid));
        i += 1;
    }
    found.remove(0);
    found
}

fn alive(pid: i32) -> bool {
    !util::comm(pid).is_empty()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill on the pid of our own child, which is not reaped yet.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// How many times /proc is mounted in this (the host's) mount namespace.
fn proc_mounts() -> usize {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines().filter(|l| l.split(' ').nth(4) == Some("/proc")).count()
}

#[test]
fn f_runs_the_program_as_pid_2_with_its_own_proc() {
    if !util::root_or_skip("chpst -F (unshare)") {
        return;
    }
    let before = proc_mounts();
    // ps reads /proc: the namespace's own shows PID 1 (chpst), the shell and ps.
    let (code, out, err) =
        chpst(&["-F", "sh", "-c", "echo $$; ps -e -o pid=,comm=; cat /proc/1/comm"]);
    assert_eq!(code, 0, "{err}");
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(words, ["2", "1", "chpst", "2", "sh", "3", "ps", "chpst"], "{out}");
    // Nothing of it reached the host's mounts.
    assert_eq!(proc_mounts(), before);
}

#[test]
fn i_runs_the_program_as_pid_1() {
    if !util::root_or_skip("chpst -I (unshare)") {
        return;
    }
    // The namespace's own /proc names the shell as process 1.
    let (code, out, err) = chpst(&["-I", "sh", "-c", "echo $$; cat /proc/1/comm"]);
    assert_eq!((code, out.as_str()), (0, "1\nsh\n"), "{err}");
    // -I wins over -F, as in C runit; the exit code is the program's.
    let (code, out, _) = chpst(&["-I", "-F", "sh", "-c", "echo $$; exit 7"]);
    assert_eq!((code, out.as_str()), (7, "1\n"));
}

#[test]
fn f_passes_the_exit_code_on() {
    if !util::root_or_skip("chpst -F (unshare)") {
        return;
    }
    assert_eq!(chpst(&["-F", "sh", "-c", "exit 5"]).0, 5);
    // Killed by a signal: 128 + its number, at both levels.
    assert_eq!(chpst(&["-F", "sh", "-c", "kill -USR1 $$"]).0, 128 + libc::SIGUSR1);
    // The other options still apply, to the program: -u after the namespaces.
    let (code, out, _) = chpst(&["-F", "-u", "nobody", "-n", "1", "sh", "-c", "id -un; echo $$"]);
    assert_eq!((code, out.as_str()), (0, "nobody\n2\n"));
}

#[test]
fn f_outlives_the_program_until_its_orphans_end() {
    if !util::root_or_skip("chpst -F (unshare)") {
        return;
    }
    let (mut chpst, mut out) = start(&["-F", "sh", "-c", "sleep 1000 & echo started; exit 3"]);
    assert_eq!(line(&mut out), "started");
    let outer = chpst.0.id() as i32;
    // The shell is gone and its sleep is PID 1's: the namespace lives on.
    let mut sleeper = 0;
    util::wait_for("the orphan under pid 1", LIMIT, || {
        let all = procs::procs();
        let pid1: Vec<i32> = all.iter().filter(|p| p.ppid == outer).map(|p| p.pid).collect();
        let orphans: Vec<&procs::Proc> = all.iter().filter(|p| pid1.contains(&p.ppid)).collect();
        match orphans.as_slice() {
            [only] if only.args == ["sleep", "1000"] => {
                sleeper = only.pid;
                true
            }
            _ => false,
        }
    });
    assert!(chpst.0.try_wait().unwrap().is_none(), "chpst exited with an orphan left");
    // TERM (sv down) reaches the orphan; then chpst exits as the program did.
    signal(&chpst.0, libc::SIGTERM);
    let st = util::wait_exit("chpst", LIMIT, &mut chpst.0);
    assert_eq!(util::code(st), 3);
    assert!(!alive(sleeper), "the orphan {sleeper} survived");
}

#[test]
fn quit_kills_the_whole_namespace() {
    if !util::root_or_skip("chpst -F (unshare)") {
        return;
    }
    for opt in ["-F", "-I"] {
        // Everything ignores TERM, and a grandchild runs in a session of its own.
        let script = "trap '' TERM; setsid sleep 1000 & sleep 1000 & echo started; wait";
        let (mut chpst, mut out) = start(&[opt, "sh", "-c", script]);
        assert_eq!(line(&mut out), "started");
        let outer = chpst.0.id() as i32;
        let mut inside = Vec::new();
        util::wait_for("both sleepers", LIMIT, || {
            inside = descendants(outer);
            let all = procs::procs();
            let sleeping = all.iter().filter(|p| inside.contains(&p.pid));
            sleeping.filter(|p| p.args == ["sleep", "1000"]).count() == 2
        });
        signal(&chpst.0, libc::SIGTERM);
        signal(&chpst.0, libc::SIGQUIT);
        let st = util::wait_exit("chpst", LIMIT, &mut chpst.0);
        // PID 1 was KILLed (the program itself, with -I), and so was the rest.
        assert_eq!(util::code(st), 128 + libc::SIGKILL, "{opt}");
        util::wait_for("the namespace's processes to go", LIMIT, || {
            inside.iter().all(|&p| !alive(p))
        });
    }
}
