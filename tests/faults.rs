//! Faults the supervisors must survive (issue 8, points 1-5): a runsv or runsvdir killed with
//! SIGKILL, fork/fd/disk exhaustion, svlogd killed or stopped under runsv, and a hostile stage 2
//! under runit as PID 1 of a PID namespace. Each test injects the fault into the real programs
//! and checks the state afterwards: how many instances of a service run, what the status files
//! say, which log lines arrived, how much CPU a supervisor used meanwhile (a state, not a
//! speed). Root-only tests skip with a reason otherwise.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use runit::supervise::status::{State, Status};

use crate::util::procs::{procs, Proc};
use crate::util::tmpfs::{fill, Mount};
use crate::util::{self, bin, script, wait_for, Reaper, TempDir};

const LIMIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Processes, from /proc.

/// Whether Linux's /proc is there: these tests observe processes through it (which run, in
/// which directory, how much CPU they used). Prints why a test is skipped otherwise.
fn procfs_or_skip() -> bool {
    let ok = Path::new("/proc/self/stat").exists();
    if !ok {
        eprintln!("skipped: the fault tests watch processes through Linux's /proc");
    }
    ok
}

/// Whether `pid` lives (a zombie does not).
fn alive(pid: i32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit(')').next().and_then(|s| s.split_whitespace().next());
    matches!(state, Some(s) if s != "Z" && s != "X")
}

/// Processes running in `dir` whose arguments start with `args`.
fn running_in(dir: &Path, args: &[&str]) -> Vec<i32> {
    matching(&procs(), dir, args).iter().map(|p| p.pid).collect()
}

/// Those of `all` running in `dir` whose arguments start with `args`.
fn matching<'a>(all: &'a [Proc], dir: &Path, args: &[&str]) -> Vec<&'a Proc> {
    let dir = fs::canonicalize(dir).unwrap();
    all.iter()
        .filter(|p| p.cwd == dir && p.args.len() >= args.len())
        .filter(|p| p.args.iter().zip(args).all(|(a, b)| a == b || a.ends_with(&format!("/{b}"))))
        .collect()
}

/// The instances of a service whose `./run` is a shell script. The script's own children look
/// like the script between their fork and their exec: they are not instances.
fn instances(svc: &Path) -> Vec<i32> {
    let all = procs();
    let run = matching(&all, svc, &["/bin/sh", "./run"]);
    run.iter().filter(|p| !run.iter().any(|q| q.pid == p.ppid)).map(|p| p.pid).collect()
}

/// Whether `pid` ignores `sig` (its SigIgn mask in /proc).
fn ignores(pid: i32, sig: i32) -> bool {
    let st = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = st.lines().find_map(|l| l.strip_prefix("SigIgn:")).map(str::trim);
    mask.and_then(|m| u64::from_str_radix(m, 16).ok()).is_some_and(|m| m & (1 << (sig - 1)) != 0)
}

/// CPU time (user + system) used by `pid` so far, in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit(')').next().unwrap();
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the line, 12 and 13 after the command name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no memory arguments.
    u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap()
}

/// CPU time `pids` use over `window`, in milliseconds. The window is the observation itself:
/// a spinning supervisor would use all of it, a sleeping one next to nothing.
fn cpu_ms_over(pids: &[i32], window: Duration) -> u64 {
    let before: u64 = pids.iter().map(|p| cpu_ticks(*p)).sum();
    std::thread::sleep(window);
    let after: u64 = pids.iter().map(|p| cpu_ticks(*p)).sum();
    (after - before) * 1000 / ticks_per_second()
}

/// Asserts that `pids` stayed (nearly) idle for three seconds, and prints the figure.
fn assert_no_spin(what: &str, pids: &[i32]) {
    let window = Duration::from_secs(3);
    let ms = cpu_ms_over(pids, window);
    eprintln!("faults: {what}: {ms} ms CPU in {} ms", window.as_millis());
    // A supervisor retrying once a second needs a few ms; a spinning one all 3000.
    assert!(ms <= 150, "{what}: {ms} ms of CPU in 3 s: it spins");
}

fn kill(pid: i32, sig: i32) {
    // SAFETY: kill has no memory arguments.
    unsafe { libc::kill(pid, sig) };
}

/// Whether util-linux's prlimit(1) is there to change a running process's limits.
fn have_prlimit() -> bool {
    let ok = Command::new("prlimit").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: prlimit(1) is missing");
    }
    ok
}

/// Sets the soft limit `what` (`nproc`, `nofile`) of a running process.
fn set_limit(pid: i32, what: &str, soft: u64) {
    let st = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--{what}={soft}:"))
        .status()
        .unwrap();
    assert!(st.success(), "prlimit --{what}={soft}: for {pid}");
}

/// Gives `dir` and everything below it to `uid`.
fn chown_tree(dir: &Path, uid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid)).unwrap();
    if fs::symlink_metadata(dir).unwrap().is_dir() {
        for e in fs::read_dir(dir).unwrap().flatten() {
            chown_tree(&e.path(), uid);
        }
    }
}

/// The lowest fd number `pid` has free: with RLIMIT_NOFILE set to it, its next open fails.
fn lowest_free_fd(pid: i32) -> u64 {
    let used: Vec<u64> = fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
        .collect();
    (0..).find(|n| !used.contains(n)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Services and supervisors.

/// A directory of tools for `$PATH`: runsvdir finds `runsv` there, as installed.
fn tools(t: &TempDir) -> PathBuf {
    let dir = t.join("bin");
    fs::create_dir_all(&dir).unwrap();
    for tool in ["runsv", "svlogd", "sv", "chpst"] {
        let _ = std::os::unix::fs::symlink(bin(tool), dir.join(tool));
    }
    dir
}

/// Like `tools`, but copies, for programs run as another user (who cannot reach the build
/// directory under /root).
fn tools_copied(t: &TempDir) -> PathBuf {
    let dir = t.join("bin");
    fs::create_dir_all(&dir).unwrap();
    for tool in ["runsv", "runsvdir", "chpst"] {
        fs::copy(bin(tool), dir.join(tool)).unwrap();
    }
    dir
}

/// On drop, KILLs every process still working in the test's directory, so a failing test (or
/// a supervisor killed on purpose) leaves no service running behind.
struct Cleanup(PathBuf);

impl Cleanup {
    fn new(t: &TempDir) -> Cleanup {
        Cleanup(fs::canonicalize(t.path()).unwrap())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for _ in 0..3 {
            let left: Vec<i32> =
                procs().into_iter().filter(|p| p.cwd.starts_with(&self.0)).map(|p| p.pid).collect();
            if left.is_empty() {
                return;
            }
            left.iter().for_each(|p| kill(*p, libc::SIGKILL));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn path_env(tools: &Path) -> String {
    format!("{}:/usr/bin:/bin", tools.display())
}

/// Starts `prog args` in `cwd` with stderr going to `err` (a file: no pipe to fill up).
fn start(prog: &Path, args: &[&str], cwd: &Path, env_path: &str, err: &Path) -> Reaper {
    let child = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .env("PATH", env_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(err).unwrap())
        .spawn()
        .unwrap();
    Reaper(child)
}

fn text(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_default()
}

fn wait_text(p: &Path, needle: &str) {
    wait_for(&format!("{needle:?} in {}", p.display()), LIMIT, || text(p).contains(needle));
}

/// The decoded `supervise/status` of `svc`, if it can be read.
fn status(svc: &Path) -> Option<Status> {
    fs::read(svc.join("supervise/status")).ok().and_then(|b| Status::decode(&b).ok())
}

/// Waits until `svc` runs with a pid other than `not`, and returns it.
fn wait_running(svc: &Path, not: u32) -> u32 {
    let mut pid = 0;
    wait_for(&format!("{} running (not pid {not})", svc.display()), LIMIT, || {
        pid = status(svc).filter(|s| s.state == State::Run).map_or(0, |s| s.pid);
        pid != 0 && pid != not && alive(pid as i32)
    });
    pid
}

fn control(svc: &Path, cmd: &str) {
    let mut f = fs::OpenOptions::new().write(true).open(svc.join("supervise/control")).unwrap();
    f.write_all(cmd.as_bytes()).unwrap();
}

/// The runsv children of `parent` supervising `name`.
fn runsv_of(parent: i32, name: &str) -> Vec<i32> {
    procs()
        .into_iter()
        .filter(|p| p.ppid == parent && p.args.len() == 2 && p.args[1] == name)
        .filter(|p| p.args[0] == "runsv" || p.args[0].ends_with("/runsv"))
        .map(|p| p.pid)
        .collect()
}

fn wait_exit(c: &mut Child) -> std::process::ExitStatus {
    util::wait_exit("a supervisor", LIMIT, c)
}

/// A service that logs numbered lines, `<pid> line <n>`, and `<pid> bye <n>` on TERM: each
/// instance's lines must arrive numbered 1.. without a gap, ending in its `bye`.
const COUNTER: &str = "#!/bin/sh\n\
    i=0\n\
    trap 'echo \"$$ bye $i\"; exit 0' TERM\n\
    while :; do i=$((i+1)); echo \"$$ line $i\"; sleep 0.05; done\n";

/// A service `name` in `svdir` running COUNTER, logged by our svlogd into `log/main`.
fn counter_service(svdir: &Path, name: &str) -> PathBuf {
    let s = svdir.join(name);
    script(&s.join("run"), COUNTER);
    script(&s.join("log/run"), &format!("#!/bin/sh\nexec {} ./main\n", bin("svlogd").display()));
    fs::create_dir_all(s.join("log/main")).unwrap();
    s
}

fn log_lines(svc: &Path) -> Vec<String> {
    let dir = svc.join("log/main");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('@') || n == "current")
        .collect();
    // TAI64N names sort by time; `current` is the newest.
    names.sort_by_key(|n| (n == "current", n.clone()));
    let mut lines = Vec::new();
    for n in &names {
        let mut body = text(&dir.join(n));
        // The end of `current` without its newline is still being written (or waits for disk
        // space); an old file cut short (svlogd killed) keeps its torn last line.
        if n == "current" {
            body.truncate(body.rfind('\n').map_or(0, |end| end + 1));
        }
        lines.extend(body.lines().map(String::from));
    }
    lines
}

/// Checks COUNTER's lines: per instance 1, 2, ... without a gap or a repeat, and a `bye` for
/// each instance in `stopped`. Returns the number of instances seen and of lines checked.
fn check_counter_lines(svc: &Path, stopped: &[u32]) -> (usize, usize) {
    let lines = log_lines(svc);
    let mut last: std::collections::BTreeMap<u32, (u32, bool)> = Default::default();
    for l in &lines {
        let w: Vec<&str> = l.split(' ').collect();
        assert_eq!(w.len(), 3, "a malformed or split line: {l:?}");
        let pid: u32 = w[0].parse().unwrap();
        let n: u32 = w[2].parse().unwrap();
        let e = last.entry(pid).or_insert((0, false));
        assert!(!e.1, "a line after the bye of {pid}: {l:?}");
        match w[1] {
            "line" => {
                assert_eq!(n, e.0 + 1, "lost or repeated lines of {pid} before {l:?}");
                e.0 = n;
            }
            "bye" => {
                assert_eq!(n, e.0, "lines of {pid} lost before its bye");
                e.1 = true;
            }
            other => panic!("unexpected line {other:?}"),
        }
    }
    for pid in stopped {
        let seen = last.get(pid).copied().unwrap_or_default();
        assert!(seen.1, "the bye of {pid} (its last lines) did not arrive: {seen:?}");
    }
    (last.len(), lines.len())
}

/// Asserts that exactly one instance of `svc` and one of its log service run, for a second
/// (checked repeatedly: a duplicate started late would show up).
fn assert_single(svc: &Path) {
    let has_log = svc.join("log").exists();
    // The service's instances and its log's (none looked for without a log).
    let counts = || {
        let log = if has_log { running_in(&svc.join("log"), &["svlogd"]) } else { Vec::new() };
        (instances(svc), log)
    };
    let single =
        |(run, log): &(Vec<i32>, Vec<i32>)| run.len() == 1 && log.len() == usize::from(has_log);
    // runsv records a start as soon as it forked, before the child has executed ./run (or the
    // log's svlogd): first wait for the one instance to be there.
    wait_for(&format!("one instance of {}", svc.display()), LIMIT, || single(&counts()));
    let end = Instant::now() + Duration::from_secs(1);
    while Instant::now() < end {
        let now = counts();
        assert!(single(&now), "instances of {} and of its log: {now:?}", svc.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// 1. A runsv killed with SIGKILL: runsvdir starts a new one, which stops what the old one left
// running before it starts the service again, so one instance runs; the old instance's last
// lines still reach the log.

#[test]
fn killed_runsv_leaves_exactly_one_instance() {
    if !procfs_or_skip() {
        return;
    }
    let t = TempDir::new("f-runsv-kill");
    let _clean = Cleanup::new(&t);
    let svdir = t.join("service");
    let s = counter_service(&svdir, "s");
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    let mut rd = start(&bin("runsvdir"), &[svdir.to_str().unwrap()], t.path(), &env_path, &err);
    let rd_pid = rd.0.id() as i32;
    let old = wait_running(&s, 0);
    let old_log = wait_running(&s.join("log"), 0);
    wait_for("lines in the log", LIMIT, || log_lines(&s).len() >= 5);
    let runsv = runsv_of(rd_pid, "s");
    assert_eq!(runsv.len(), 1);

    kill(runsv[0], libc::SIGKILL);
    let new = wait_running(&s, old);
    let new_log = wait_running(&s.join("log"), old_log);
    assert!(!alive(old as i32) && !alive(old_log as i32), "the leftovers are gone");
    assert_single(&s);
    assert_ne!(runsv_of(rd_pid, "s"), runsv, "runsvdir started a new runsv");
    let e = text(&err);
    assert!(e.contains(&format!("stopping ./run left by an earlier runsv (pid {old})")), "{e}");

    // Stop everything (runsvdir's HUP: TERM to each runsv), then read the whole log.
    kill(rd_pid, libc::SIGHUP);
    assert_eq!(wait_exit(&mut rd.0).code(), Some(111));
    let (seen, lines) = check_counter_lines(&s, &[old, new]);
    assert_eq!(seen, 2, "two instances, one after the other");
    eprintln!("faults: runsv SIGKILL: {lines} lines from 2 instances, 0 lost, 1 instance after");
    let _ = new_log;
}

/// A leftover that ignores TERM gets KILL after the grace time.
#[test]
fn leftover_ignoring_term_is_killed() {
    if !procfs_or_skip() {
        return;
    }
    let t = TempDir::new("f-runsv-stubborn");
    let _clean = Cleanup::new(&t);
    let s = t.join("s");
    script(&s.join("run"), "#!/bin/sh\ntrap '' TERM\nwhile :; do sleep 1; done\n");
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    let first = start(&bin("runsv"), &["s"], t.path(), &env_path, &err);
    let old = wait_running(&s, 0);
    // The run is recorded at the fork; the leftover must have got to its trap first.
    wait_for("./run to ignore TERM", LIMIT, || ignores(old as i32, libc::SIGTERM));
    kill(first.0.id() as i32, libc::SIGKILL);
    drop(first);
    let _second = start(&bin("runsv"), &["s"], t.path(), &env_path, &err);
    wait_text(&err, &format!("stopping ./run left by an earlier runsv (pid {old})"));
    // Meanwhile the status shows the leftover, TERM sent.
    let st = status(&s).unwrap();
    assert_eq!((st.pid, st.state), (old, State::Run));
    let new = wait_running(&s, old);
    assert!(!alive(old as i32));
    assert!(text(&err).contains("ignored TERM: KILL"), "{}", text(&err));
    assert_single(&s);
    let _ = new;
}

/// A recorded pid that now belongs to another process (pid reused, or recorded before a
/// reboot) is left alone.
#[test]
fn a_reused_pid_is_not_signalled() {
    if !procfs_or_skip() {
        return;
    }
    let t = TempDir::new("f-runsv-reuse");
    let _clean = Cleanup::new(&t);
    let s = t.join("s");
    script(&s.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    fs::create_dir_all(s.join("supervise")).unwrap();
    let bystander = Reaper(Command::new("sleep").arg("1000").spawn().unwrap());
    let pid = bystander.0.id();
    let token =
        runit::platform::process_ident(runit::child::Pid::from_raw(pid as i32)).unwrap().unwrap();
    let (boot, ticks) = token.split_once(':').unwrap();
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    // Another boot's id with the same start time, then a start time that does not match.
    let other_boot = if boot.starts_with('f') { "e" } else { "f" };
    let other_boot = format!("{other_boot}{}", &boot[1..]);
    for forged in [format!("{pid} {other_boot}:{ticks}\n"), format!("{pid} {boot}:1\n")] {
        fs::write(s.join("supervise/ident"), &forged).unwrap();
        let mut runsv = start(&bin("runsv"), &["s"], t.path(), &env_path, &err);
        wait_running(&s, 0);
        assert!(alive(pid as i32), "the bystander was signalled ({forged:?})");
        kill(runsv.0.id() as i32, libc::SIGTERM);
        wait_exit(&mut runsv.0);
    }
    assert!(!text(&err).contains("left by an earlier runsv"), "{}", text(&err));
    // The record runsv leaves names the process it ran, which is gone by now.
    let rec = text(&s.join("supervise/ident"));
    assert_eq!(rec, "", "ident after the service stopped");
}

// ---------------------------------------------------------------------------------------------
// 2. runsvdir killed with SIGKILL: its runsv processes and services run on; a new runsvdir's
// runsv waits (quietly, without being restarted) for the old runsv, and takes over when it ends.

#[test]
fn killed_runsvdir_is_replaced_without_duplicates() {
    if !procfs_or_skip() {
        return;
    }
    let t = TempDir::new("f-runsvdir-kill");
    let _clean = Cleanup::new(&t);
    let svdir = t.join("service");
    let s = counter_service(&svdir, "s");
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    let mut first = start(&bin("runsvdir"), &[svdir.to_str().unwrap()], t.path(), &env_path, &err);
    let old = wait_running(&s, 0);
    let old_runsv = runsv_of(first.0.id() as i32, "s");
    assert_eq!(old_runsv.len(), 1);
    kill(first.0.id() as i32, libc::SIGKILL);
    wait_exit(&mut first.0);
    assert!(alive(old_runsv[0]) && alive(old as i32), "services keep running");

    let err2 = t.join("stderr2");
    let mut second =
        start(&bin("runsvdir"), &[svdir.to_str().unwrap()], t.path(), &env_path, &err2);
    let rd = second.0.id() as i32;
    wait_text(&err2, "supervise/lock is held by another runsv: waiting for it to exit");
    let waiting = runsv_of(rd, "s");
    assert_eq!(waiting.len(), 1);
    assert_no_spin("runsvdir and its waiting runsv", &[rd, waiting[0]]);
    assert_eq!(runsv_of(rd, "s"), waiting, "the waiting runsv was not restarted");
    assert_eq!(text(&err2).lines().count(), 1, "one message: {}", text(&err2));
    assert_eq!(status(&s).unwrap().pid, old);
    assert_single(&s);

    // The old runsv dies: the waiting one takes over, stopping the leftovers first.
    kill(old_runsv[0], libc::SIGKILL);
    let new = wait_running(&s, old);
    assert!(!alive(old as i32));
    assert_single(&s);
    assert_eq!(runsv_of(rd, "s"), waiting, "the same runsv took over");
    kill(rd, libc::SIGHUP);
    assert_eq!(wait_exit(&mut second.0).code(), Some(111));
    let (seen, lines) = check_counter_lines(&s, &[old, new]);
    assert_eq!(seen, 2);
    eprintln!("faults: runsvdir SIGKILL: {lines} lines from 2 instances, 0 lost");
}

// ---------------------------------------------------------------------------------------------
// 3. Resource exhaustion: fork failing (RLIMIT_NPROC of an unprivileged user), no fd left
// (RLIMIT_NOFILE lowered under the running supervisor), the disk holding `supervise/` full.
// Each gives a warning and a retry; the last good status stays readable; no spinning; and once
// the resource is back, the supervisor carries on by itself.

/// A user id of its own per test: RLIMIT_NPROC counts every process of a user.
const UID_RUNSV_NPROC: u32 = 64_991;
const UID_RUNSVDIR_NPROC: u32 = 64_992;

/// A service `name` in `dir` whose run is a plain long sleep.
fn sleeper(dir: &Path, name: &str) -> PathBuf {
    let s = dir.join(name);
    script(&s.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    s
}

/// How many processes (zombies too) `uid` has: they all count against its RLIMIT_NPROC.
fn processes_of(uid: u32) -> u64 {
    let mut n = 0;
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(st) = fs::read_to_string(e.path().join("status")) else { continue };
        let real =
            st.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1));
        if real == Some(uid.to_string().as_str()) {
            n += 1;
        }
    }
    n
}

/// Starts a process of `uid` that takes one of its process slots until it is killed.
fn blocker(t: &TempDir, uid: u32) -> Reaper {
    let user = format!(":{uid}:{uid}");
    let child = Command::new(bin("chpst"))
        .args(["-u", &user, "sleep", "1000"])
        .current_dir(t.path())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    wait_for("the blocker to run as its user", LIMIT, || {
        fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.contains(&uid.to_string())))
            && util::comm(pid) == "sleep"
    });
    Reaper(child)
}

#[test]
fn runsv_fork_failure_is_retried() {
    if !procfs_or_skip() {
        return;
    }
    if !util::root_or_skip("the fork-failure test (runs runsv as another user)") {
        return;
    }
    let t = TempDir::new("f-runsv-nproc");
    let _clean = Cleanup::new(&t);
    let s = sleeper(t.path(), "s");
    chown_tree(&s, UID_RUNSV_NPROC);
    let err = t.join("stderr");
    let tools = tools_copied(&t);
    let user = format!(":{UID_RUNSV_NPROC}:{UID_RUNSV_NPROC}");
    // Room for runsv and the blocker (and whatever else the user has). Every fork of runsv
    // fails until the blocker goes.
    let block = blocker(&t, UID_RUNSV_NPROC);
    let cap = (processes_of(UID_RUNSV_NPROC) + 1).to_string();
    let prog = tools.join("runsv");
    let args = ["-u", &user, "-p", &cap, prog.to_str().unwrap(), "s"];
    let mut runsv = start(&bin("chpst"), &args, t.path(), &path_env(&tools), &err);
    let pid = runsv.0.id() as i32;
    wait_text(&err, "unable to fork for ./run: temporary failure");
    let st = status(&s).expect("a readable status while forks fail");
    assert_eq!((st.state, st.pid), (State::Down, 0));
    assert_no_spin("runsv without fork", &[pid]);
    drop(block);
    let svc = wait_running(&s, 0);
    // Recorded at the fork: the instance is a sleep once the run has executed.
    wait_for("the one instance", LIMIT, || instances_of_sleep(&s) == vec![svc as i32]);
    let failures = text(&err).matches("unable to fork").count();
    eprintln!("faults: runsv fork failure: {failures} failed forks retried, then running");
    kill(pid, libc::SIGTERM);
    assert_eq!(wait_exit(&mut runsv.0).code(), Some(0));
}

fn instances_of_sleep(svc: &Path) -> Vec<i32> {
    running_in(svc, &["sleep", "1000"])
}

#[test]
fn runsvdir_fork_failure_is_retried() {
    if !procfs_or_skip() {
        return;
    }
    if !util::root_or_skip("the fork-failure test (runs runsvdir as another user)") {
        return;
    }
    let t = TempDir::new("f-runsvdir-nproc");
    let _clean = Cleanup::new(&t);
    let svdir = t.join("service");
    let s = sleeper(&svdir, "s");
    chown_tree(&svdir, UID_RUNSVDIR_NPROC);
    let err = t.join("stderr");
    let tools = tools_copied(&t);
    let user = format!(":{UID_RUNSVDIR_NPROC}:{UID_RUNSVDIR_NPROC}");
    // Room for three (runsvdir, runsv, the service), two of them taken by blockers.
    let blocks = [blocker(&t, UID_RUNSVDIR_NPROC), blocker(&t, UID_RUNSVDIR_NPROC)];
    let cap = (processes_of(UID_RUNSVDIR_NPROC) + 1).to_string();
    let prog = tools.join("runsvdir");
    let args = ["-u", &user, "-p", &cap, prog.to_str().unwrap(), svdir.to_str().unwrap()];
    let mut rd = start(&bin("chpst"), &args, t.path(), &path_env(&tools), &err);
    let pid = rd.0.id() as i32;
    wait_text(&err, "unable to fork for s: temporary failure");
    assert_no_spin("runsvdir without fork", &[pid]);
    drop(blocks);
    wait_running(&s, 0);
    let failures = text(&err).matches("unable to fork").count();
    eprintln!("faults: runsvdir fork failure: {failures} failed forks retried, then running");
    kill(pid, libc::SIGHUP);
    assert_eq!(wait_exit(&mut rd.0).code(), Some(111));
}

#[test]
fn runsv_without_fds_keeps_the_last_status_and_retries() {
    if !procfs_or_skip() {
        return;
    }
    if !have_prlimit() {
        return;
    }
    let t = TempDir::new("f-runsv-nofile");
    let _clean = Cleanup::new(&t);
    let s = sleeper(t.path(), "s");
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    let mut runsv = start(&bin("runsv"), &["s"], t.path(), &env_path, &err);
    let pid = runsv.0.id() as i32;
    let svc = wait_running(&s, 0);
    let up = status(&s).unwrap();
    set_limit(pid, "nofile", lowest_free_fd(pid));
    control(&s, "d");
    wait_text(&err, "process cannot open more files");
    wait_for("the service to stop", LIMIT, || !alive(svc as i32));
    // Down now, but the record cannot say so: the last one written stands, whole.
    assert_eq!(status(&s), Some(up));
    assert_no_spin("runsv without fds", &[pid]);
    assert_eq!(text(&err).matches("process cannot open more files").count(), 1, "reported once");
    set_limit(pid, "nofile", 1024);
    wait_for("the down status", LIMIT, || status(&s).is_some_and(|st| st.state == State::Down));
    assert_eq!(text(&s.join("supervise/stat")), "down\n");
    kill(pid, libc::SIGTERM);
    assert_eq!(wait_exit(&mut runsv.0).code(), Some(0));
}

#[test]
fn runsvdir_without_fds_retries_the_scan() {
    if !procfs_or_skip() {
        return;
    }
    if !have_prlimit() {
        return;
    }
    let t = TempDir::new("f-runsvdir-nofile");
    let _clean = Cleanup::new(&t);
    let svdir = t.join("service");
    let a = sleeper(&svdir, "a");
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    let mut rd = start(&bin("runsvdir"), &[svdir.to_str().unwrap()], t.path(), &env_path, &err);
    let pid = rd.0.id() as i32;
    wait_running(&a, 0);
    set_limit(pid, "nofile", lowest_free_fd(pid));
    // A new service: runsvdir cannot even open its directory to see it.
    let b = sleeper(t.path(), "b-staged");
    fs::rename(&b, svdir.join("b")).unwrap();
    let b = svdir.join("b");
    wait_text(&err, "process cannot open more files");
    assert_no_spin("runsvdir without fds", &[pid]);
    set_limit(pid, "nofile", 1024);
    wait_running(&b, 0);
    assert_eq!(text(&err).matches("process cannot open more files").count(), 1, "reported once");
    kill(pid, libc::SIGHUP);
    wait_exit(&mut rd.0);
}

#[test]
fn runsv_on_a_full_disk_keeps_the_last_status_and_retries() {
    if !procfs_or_skip() {
        return;
    }
    if !util::root_or_skip("the disk-full test (mounts a tmpfs)") {
        return;
    }
    let t = TempDir::new("f-runsv-enospc");
    let _clean = Cleanup::new(&t);
    let Some(mnt) = Mount::tmpfs(&t.join("mnt"), "64k") else { return };
    let s = sleeper(t.path(), "s");
    fs::write(s.join("down"), "").unwrap();
    std::os::unix::fs::symlink(mnt.0.join("s"), s.join("supervise")).unwrap();
    let err = t.join("stderr");
    let env_path = path_env(&tools(&t));
    let mut runsv = start(&bin("runsv"), &["s"], t.path(), &env_path, &err);
    let pid = runsv.0.id() as i32;
    wait_for("the first status", LIMIT, || status(&s).is_some());
    let down = status(&s).unwrap();
    fill(&mnt.0.join("filler"));
    control(&s, "u");
    wait_text(&err, "out of disk space");
    wait_for("the service", LIMIT, || instances_of_sleep(&s).len() == 1);
    // Up now, but the record cannot say so: the last one written stands, whole.
    assert_eq!(status(&s), Some(down));
    assert_no_spin("runsv on a full disk", &[pid]);
    assert_eq!(text(&err).matches("out of disk space").count(), 1, "reported once");
    fs::remove_file(mnt.0.join("filler")).unwrap();
    let svc = wait_running(&s, 0);
    assert_eq!(instances_of_sleep(&s), vec![svc as i32]);
    assert_eq!(text(&s.join("supervise/stat")), "run\n");
    kill(pid, libc::SIGTERM);
    assert_eq!(wait_exit(&mut runsv.0).code(), Some(0));
}

// ---------------------------------------------------------------------------------------------
// 4. svlogd as a log service under runsv: killed, stopped, or facing a full disk. The service
// is `cat` of a FIFO the test writes numbered lines into, so the test knows every line sent.

/// A service copying `t/feed` (a FIFO) to its log, logged by our svlogd into `log/main`, and
/// the FIFO opened for writing (held open: cat never sees end-of-file while the test runs).
fn feed_service(t: &TempDir) -> (PathBuf, fs::File) {
    let feed = t.join("feed");
    let c = std::ffi::CString::new(feed.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // Read and write, so the open does not wait for a reader.
    let w = fs::OpenOptions::new().read(true).write(true).open(&feed).unwrap();
    let s = t.join("s");
    script(&s.join("run"), "#!/bin/sh\nexec cat ../feed\n");
    script(&s.join("log/run"), &format!("#!/bin/sh\nexec {} ./main\n", bin("svlogd").display()));
    fs::create_dir_all(s.join("log/main")).unwrap();
    (s, w)
}

fn feed_line(i: usize) -> String {
    format!("line {i:06} ..............................\n")
}

/// Writes lines `from..to`, one write each (atomic in a FIFO).
fn feed(w: &mut fs::File, from: usize, to: usize) {
    for i in from..to {
        w.write_all(feed_line(i).as_bytes()).unwrap();
    }
}

/// The numbers of the whole lines that arrived, and how many arrived torn (cut short).
fn fed_lines_torn(s: &Path) -> (Vec<usize>, usize) {
    let (mut whole, mut torn) = (Vec::new(), 0);
    for l in log_lines(s) {
        let n = l.get(5..11).and_then(|d| d.parse().ok());
        match n {
            Some(n) if format!("{l}\n") == feed_line(n) => whole.push(n),
            _ => {
                assert!(feed_line(0).len() > l.len() + 1, "a line that was never sent: {l:?}");
                torn += 1;
            }
        }
    }
    (whole, torn)
}

/// The numbers of the lines that arrived, each of them whole.
fn fed_lines(s: &Path) -> Vec<usize> {
    let (whole, torn) = fed_lines_torn(s);
    assert_eq!(torn, 0, "torn lines");
    whole
}

/// Stops runsv with `x` (the service gets TERM, the log end-of-file) and waits for it.
fn stop_runsv(s: &Path, runsv: &mut Reaper) {
    control(s, "x");
    assert_eq!(wait_exit(&mut runsv.0).code(), Some(0));
}

/// Bytes read so far by `pid` (its stdin, for svlogd).
fn bytes_read(pid: u32) -> u64 {
    let io = fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let line = io.lines().find(|l| l.starts_with("rchar:")).unwrap_or("rchar: 0");
    line[6..].trim().parse().unwrap()
}

/// How much svlogd reads from its input at once: what a SIGKILL may lose.
const SVLOGD_READ: usize = 128 * 1024;

#[test]
fn svlogd_killed_under_runsv_loses_at_most_its_buffer() {
    if !procfs_or_skip() {
        return;
    }
    let t = TempDir::new("f-svlogd-kill");
    let _clean = Cleanup::new(&t);
    let (s, mut w) = feed_service(&t);
    let err = t.join("stderr");
    let mut runsv = start(&bin("runsv"), &["s"], t.path(), &path_env(&tools(&t)), &err);
    wait_running(&s, 0);
    let log = wait_running(&s.join("log"), 0);
    feed(&mut w, 0, 3000);
    kill(log as i32, libc::SIGKILL);
    let log2 = wait_running(&s.join("log"), log);
    // Lines written after the restart: every one must arrive.
    feed(&mut w, 3000, 5000);
    wait_for("the last line", LIMIT, || fed_lines_torn(&s).0.last() == Some(&4999));
    stop_runsv(&s, &mut runsv);
    let (got, torn) = fed_lines_torn(&s);
    assert!(torn <= 1, "{torn} torn lines: only the one being written may be");
    assert!(got.windows(2).all(|p| p[0] < p[1]), "lines out of order or repeated");
    let missing: Vec<usize> = (0..5000).filter(|i| got.binary_search(i).is_err()).collect();
    assert!(missing.iter().all(|&i| i < 3000), "a line written after the restart was lost");
    assert!(missing.windows(2).all(|p| p[1] == p[0] + 1), "more than one gap: {missing:?}");
    let lost_bytes: usize = missing.iter().map(|&i| feed_line(i).len()).sum();
    assert!(lost_bytes <= SVLOGD_READ, "lost {lost_bytes} bytes, more than one read");
    eprintln!(
        "faults: svlogd SIGKILL: {} of 5000 lines lost ({lost_bytes} bytes, {torn} torn), \
         new svlogd {log2}",
        missing.len()
    );
}

#[test]
fn svlogd_stopped_under_runsv_loses_nothing() {
    if !procfs_or_skip() {
        return;
    }
    let t = TempDir::new("f-svlogd-term");
    let _clean = Cleanup::new(&t);
    let (s, mut w) = feed_service(&t);
    let err = t.join("stderr");
    let mut runsv = start(&bin("runsv"), &["s"], t.path(), &path_env(&tools(&t)), &err);
    wait_running(&s, 0);
    let mut log = wait_running(&s.join("log"), 0);
    let rounds = 4;
    for round in 0..rounds {
        feed(&mut w, round * 1000, round * 1000 + 1000);
        kill(log as i32, libc::SIGTERM);
        log = wait_running(&s.join("log"), log);
    }
    // TERM while svlogd holds half a line: it reads on to the end of that line first, so the
    // line is neither split nor lost.
    let n = rounds * 1000;
    let line = feed_line(n);
    let (head, tail) = line.split_at(12);
    let before = bytes_read(log);
    w.write_all(head.as_bytes()).unwrap();
    wait_for("svlogd to read half a line", LIMIT, || bytes_read(log) >= before + 12);
    kill(log as i32, libc::SIGTERM);
    w.write_all(tail.as_bytes()).unwrap();
    wait_running(&s.join("log"), log);
    feed(&mut w, n + 1, n + 1000);
    wait_for("the last line", LIMIT, || fed_lines(&s).last() == Some(&(n + 999)));
    stop_runsv(&s, &mut runsv);
    assert_eq!(fed_lines(&s), (0..n + 1000).collect::<Vec<_>>(), "every line, once, in order");
    eprintln!("faults: svlogd TERM x{}: {} lines, 0 lost", rounds + 1, n + 1000);
}

#[test]
fn svlogd_on_a_full_disk_under_runsv_loses_nothing() {
    if !procfs_or_skip() {
        return;
    }
    if !util::root_or_skip("the log disk-full test (mounts a tmpfs)") {
        return;
    }
    let t = TempDir::new("f-svlogd-enospc");
    let _clean = Cleanup::new(&t);
    let Some(mnt) = Mount::tmpfs(&t.join("mnt"), "256k") else { return };
    let (s, mut w) = feed_service(&t);
    fs::remove_dir(s.join("log/main")).unwrap();
    fs::create_dir(mnt.0.join("main")).unwrap();
    std::os::unix::fs::symlink(mnt.0.join("main"), s.join("log/main")).unwrap();
    fs::write(mnt.0.join("main/config"), "s30000\nn1000\n").unwrap();
    let err = t.join("stderr");
    let mut runsv = start(&bin("runsv"), &["s"], t.path(), &path_env(&tools(&t)), &err);
    wait_running(&s.join("log"), 0);
    feed(&mut w, 0, 10);
    wait_for("the first lines", LIMIT, || fed_lines(&s).len() == 10);
    fill(&mnt.0.join("filler"));
    feed(&mut w, 10, 3000);
    wait_text(&err, "out of disk space");
    fs::remove_file(mnt.0.join("filler")).unwrap();
    wait_for("the last line", LIMIT, || fed_lines(&s).last() == Some(&2999));
    stop_runsv(&s, &mut runsv);
    assert_eq!(fed_lines(&s), (0..3000).collect::<Vec<_>>(), "every line, once, in order");
    eprintln!("faults: svlogd disk full under runsv: 3000 lines, 0 lost");
}

// ---------------------------------------------------------------------------------------------
// 5. runit as PID 1 of a PID namespace with a hostile stage 2: a fork bomb (capped by its
// user's process limit) whose processes ignore TERM, and a stage 2 that ignores TERM itself.
// runit still halts: stage 2 gets KILL after its grace time, and after stage 3 whatever is left
// gets TERM (a well-behaved leftover saves its state), then KILL.

#[cfg(pid_namespaces)]
const UID_PID1_BOMB: u32 = 64_993;

#[cfg(pid_namespaces)]
/// Boots our runit as PID 1 of a new PID and mount namespace, with `t/etc` as /etc/runit and
/// `t/console` (a plain file) as /dev/console, so the transcript can be read.
fn boot(t: &TempDir) -> Reaper {
    let dir = t.path().display().to_string();
    for d in ["up/runit", "work", "out", "etc"] {
        fs::create_dir_all(t.join(d)).unwrap();
    }
    fs::write(t.join("console"), "").unwrap();
    fs::write(t.join("etc/nosync"), "").unwrap();
    let setup = format!(
        "set -e\n\
         [ -d /etc/runit ] || mount -t overlay overlay -o lowerdir=/etc,upperdir={dir}/up,workdir={dir}/work /etc\n\
         mount --bind {dir}/etc /etc/runit\n\
         mount -t tmpfs tmpfs /dev\n\
         mknod -m 666 /dev/null c 1 3\n\
         touch /dev/console\n\
         mount --bind {dir}/console /dev/console\n\
         exec {}\n",
        bin("runit").display()
    );
    let child = Command::new("unshare")
        .args(["--pid", "--mount", "--fork", "--kill-child", "--mount-proc", "sh", "-c", &setup])
        .stdin(Stdio::null())
        .stdout(fs::File::create(t.join("out/stderr")).unwrap())
        .stderr(fs::File::create(t.join("out/stderr2")).unwrap())
        .spawn()
        .unwrap();
    Reaper(child)
}

#[test]
#[cfg(pid_namespaces)]
fn pid_1_halts_despite_a_hostile_stage_2() {
    use std::os::unix::process::ExitStatusExt;
    if !procfs_or_skip() {
        return;
    }
    if !util::root_or_skip("booting runit in a PID namespace") {
        return;
    }
    let t = TempDir::new("f-pid1");
    let _clean = Cleanup::new(&t);
    let dir = t.path().display().to_string();
    let stage = |n: &str, body: &str| {
        let text =
            format!("#!/bin/sh\nT={dir}\nexport T\nPATH={}:$PATH\n{body}\n", tools(&t).display());
        script(&t.join(format!("etc/{n}")), &text);
    };
    stage("1", "exit 0");
    let cap = processes_of(UID_PID1_BOMB) + 20;
    stage(
        "2",
        &format!(
            "# A well-behaved leftover: saves its state on TERM. Started first: a shell cannot\n\
             # trap what was ignored when it started.\n\
             sh -c 'trap \"echo saved >$T/out/polite; exit 0\" TERM; touch $T/out/polite-up; \
               while :; do sleep 0.1; done' &\n\
             trap '' TERM\n\
             # A fork bomb as an unprivileged user, capped at {cap} processes, deaf to TERM.\n\
             chpst -u :{UID_PID1_BOMB}:{UID_PID1_BOMB} -p {cap} sh -c \
               'b() {{ b & b & exec sleep 1000; }}; b' 2>/dev/null &\n\
             while [ ! -e $T/out/polite-up ]; do sleep 0.1; done\n\
             # The bomb under way: 10 of its processes, or 20 s.\n\
             n=0; while [ $n -lt 200 ] && [ $(ps -o pid= -u {UID_PID1_BOMB} | wc -l) -lt 10 ]; do\n\
               sleep 0.1; n=$((n+1)); done\n\
             ps -o pid= -u {UID_PID1_BOMB} | wc -l >$T/out/bomb\n\
             printf '#!/bin/sh\\n' >/etc/runit/stopit; chmod 755 /etc/runit/stopit\n\
             kill -CONT 1\n\
             while :; do sleep 1; done"
        ),
    );
    stage("3", "touch $T/out/stage3\nexit 0");
    let mut ns = boot(&t);
    let status = wait_exit(&mut ns.0);
    let console = text(&t.join("console"));
    let err = text(&t.join("out/stderr")) + &text(&t.join("out/stderr2"));
    assert_eq!(status.signal(), Some(libc::SIGINT), "halted? {status:?}\n{console}\n{err}");
    assert!(t.join("out/stage3").exists(), "stage 3 ran");
    assert_eq!(text(&t.join("out/polite")), "saved\n", "TERM came before KILL:\n{console}");
    let order = [
        "- runit: warning: stage 2 not terminated, sending sigkill...",
        "- runit: leave stage: /etc/runit/3",
        "- runit: sending TERM signal to all processes...",
        "- runit: sending KILL signal to all processes...",
    ];
    let mut at = 0;
    for want in order {
        let found = console[at..].find(want);
        assert!(found.is_some(), "console lacks {want:?} (in order):\n{console}");
        at += found.unwrap_or(0) + want.len();
    }
    let bomb: u64 = text(&t.join("out/bomb")).trim().parse().unwrap_or(0);
    eprintln!("faults: PID 1: halted past a stage 2 deaf to TERM and {bomb} bomb processes");
    assert!(bomb >= 10, "the bomb ran: {bomb} processes");
}
