//! Containment (`cgroup/` in a service directory) under our runsv on this machine's cgroup2:
//! the whole process tree stops with the service, before `./finish` and before a restart; `sv
//! k` kills the tree; the tree is removed at `sv x` and taken over after a killed runsv; what
//! cannot be had is said and, when limits were asked for, keeps the service down. Without
//! `cgroup/` a forked daemon survives, as under C runit.
//!
//! They need root and a cgroup2 mount (a hybrid system's `unified` one does: no limits there,
//! but `cgroup.kill` and `cgroup.events`); limits themselves are tested in the qemu boot.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{self, Runsv, TempDir};

const LIMIT: Duration = Duration::from_secs(20);

/// Whether the tests can run here; prints why not.
fn cgroup2_or_skip(what: &str) -> bool {
    if !util::root_or_skip(what) {
        return false;
    }
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    if !info.lines().any(|l| l.contains(" - cgroup2 ")) {
        eprintln!("skipping {what}: no cgroup2 file system is mounted");
        return false;
    }
    true
}

/// A service `s` in `tmp` with `run`, contained (an empty `cgroup/`) when `contained`.
fn service(tmp: &TempDir, run: &str, contained: bool) -> PathBuf {
    let dir = tmp.path().join("s");
    fs::create_dir(&dir).unwrap();
    util::script(&dir.join("run"), run);
    if contained {
        fs::create_dir(dir.join("cgroup")).unwrap();
    }
    dir
}

/// Kills and removes what a test left in the trees of service `dir` (declared before the
/// runsv, so it is dropped after it), and checks that nothing else lives on.
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for rec in ["supervise/cgroup", "log/supervise/cgroup"] {
            let Ok(text) = fs::read_to_string(self.0.join(rec)) else { continue };
            let cg = PathBuf::from(text.trim());
            let _ = fs::write(cg.join("cgroup.kill"), "1");
            for _ in 0..200 {
                if !populated(&cg) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = fs::remove_dir(&cg);
            if let Some(p) = cg.parent() {
                let _ = fs::remove_dir(p);
            }
        }
    }
}

fn populated(cg: &Path) -> bool {
    fs::read_to_string(cg.join("cgroup.events")).is_ok_and(|e| e.contains("populated 1"))
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_default()
}

fn sv(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(util::bin("sv")).args(args).arg(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether `pid` lives (a zombie, which only waits for its new parent to reap it, does not).
fn alive(pid: &str) -> bool {
    let status = fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
    status.lines().any(|l| l.starts_with("State:") && !l.contains("Z (zombie)"))
}

/// The pid a run wrote to `file`, once it is there.
fn pid_in(dir: &Path, file: &str) -> String {
    util::wait_for(file, LIMIT, || read(dir, file).ends_with('\n'));
    read(dir, file).trim().to_string()
}

/// Starts a daemon that leaves the run's session and ignores TERM, its pid in `daemon`, then
/// runs in the foreground.
const FORKS_A_DAEMON: &str = "#!/bin/sh\n\
    setsid sh -c 'trap \"\" TERM; echo $$ >daemon.tmp; mv daemon.tmp daemon; exec sleep 1000' &\n\
    exec sleep 1000\n";

/// The start of a run that records in `runs` whether the daemon of the run before still lives
/// (`overlap`) or not (`clean`), then starts a daemon of its own.
const CHECKS_AND_FORKS: &str = "#!/bin/sh\n\
        if [ -e daemon ]; then d=$(cat daemon); if [ -e /proc/$d ] && ! grep -q '^State:.*Z' /proc/$d/status; then echo overlap >>runs; else echo clean >>runs; fi; fi\n\
        setsid sh -c 'echo $$ >daemon.tmp; mv daemon.tmp daemon; exec sleep 1000' &\n\
";

#[test]
fn without_cgroup_a_forked_daemon_survives_sv_down_as_under_c_runit() {
    if !cgroup2_or_skip("a service without cgroup/") {
        return;
    }
    let tmp = TempDir::new("contain-none");
    let dir = service(&tmp, FORKS_A_DAEMON, false);
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let daemon = pid_in(&dir, "daemon");
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!(code, 0, "{out}");
    assert!(alive(&daemon), "a service that did not ask for containment keeps C's behaviour");
    assert!(!dir.join("supervise/cgroup").exists());
    let (_, json, _) = util::run(&util::bin("sv"), &["-j", "status", "./s"], tmp.path());
    assert!(json.contains("\"cgroup\":null"), "{json}");
    drop(r);
    util::run(Path::new("/bin/kill"), &["-KILL", &daemon], tmp.path());
}

#[test]
fn sv_down_stops_the_whole_tree_before_finish_runs() {
    if !cgroup2_or_skip("stopping a contained service") {
        return;
    }
    let tmp = TempDir::new("contain-down");
    let dir = service(&tmp, FORKS_A_DAEMON, true);
    fs::write(dir.join("timeout-kill"), "300\n").unwrap();
    // ./finish says whether the daemon still lived when it started.
    util::script(
        &dir.join("finish"),
        "#!/bin/sh\nd=$(cat daemon)\nif grep -q '^State:.*Z' /proc/$d/status 2>/dev/null || ! [ -e /proc/$d ]; then echo gone >finished; else echo alive >finished; fi\n",
    );
    let _clean = Cleanup(dir.clone());
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let daemon = pid_in(&dir, "daemon");
    let cg = PathBuf::from(read(&dir, "supervise/cgroup").trim());
    assert!(cg.ends_with("main"), "{cg:?}");
    let procs = read(&cg, "cgroup.procs");
    assert!(procs.lines().any(|l| l == daemon), "the daemon is in the tree: {procs}");
    let (_, json, _) = util::run(&util::bin("sv"), &["-j", "status", "./s"], tmp.path());
    // JSON writes the escapes' backslashes doubled.
    let json_path = cg.display().to_string().replace('\\', "\\\\");
    assert!(
        json.contains(&format!(
            "\"cgroup\":{{\"path\":\"{json_path}\",\"processes\":2,\"populated\":true}}"
        )),
        "{json}"
    );
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!(code, 0, "{out}");
    assert!(!alive(&daemon), "the daemon that ignored TERM got the tree's KILL");
    assert_eq!(read(&dir, "finished"), "gone\n", "./finish ran only once the tree was empty");
    assert!(!populated(&cg));
    assert!(r.stderr().contains("killing them all"), "{}", r.stderr());
    // sv status prints exactly what it prints for any service.
    let (_, status) = sv(&dir, &["status"]);
    assert!(status.starts_with("down: "), "{status}");
    assert!(!status.contains("cgroup"), "{status}");
}

#[test]
fn a_run_that_crashes_is_restarted_only_once_its_tree_is_empty() {
    if !cgroup2_or_skip("the restart of a contained service") {
        return;
    }
    let tmp = TempDir::new("contain-crash");
    // Each run checks that no daemon of the run before lives, starts one, and crashes.
    let run = format!("{CHECKS_AND_FORKS}while ! [ -e daemon ]; do sleep 0.01; done\nexit 3\n");
    let dir = service(&tmp, &run, true);
    let _clean = Cleanup(dir.clone());
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    util::wait_for("three restarts", LIMIT, || read(&dir, "runs").lines().count() >= 3);
    sv(&dir, &["-w", "10", "down"]);
    let runs = read(&dir, "runs");
    assert!(runs.lines().all(|l| l == "clean"), "a run overlapped an earlier one's daemon: {runs}");
}

#[test]
fn sv_k_kills_the_whole_tree() {
    if !cgroup2_or_skip("sv k on a contained service") {
        return;
    }
    let tmp = TempDir::new("contain-kill");
    let dir = service(&tmp, FORKS_A_DAEMON, true);
    fs::write(dir.join("down"), "").unwrap();
    let _clean = Cleanup(dir.clone());
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "once"]).0, 0);
    let daemon = pid_in(&dir, "daemon");
    let cg = PathBuf::from(read(&dir, "supervise/cgroup").trim());
    let (code, out) = sv(&dir, &["kill"]);
    assert_eq!(code, 0, "{out}");
    util::wait_for("the tree to be empty", LIMIT, || !populated(&cg));
    assert!(!alive(&daemon));
    util::wait_for("the service to be down", LIMIT, || {
        sv(&dir, &["status"]).1.starts_with("down:")
    });
    // The next start into the tree that was killed runs (a cgroup killed once must not kill
    // the children cloned into it later).
    fs::remove_file(dir.join("daemon")).unwrap();
    assert_eq!(sv(&dir, &["-w", "10", "up"]).0, 0);
    let again = pid_in(&dir, "daemon");
    let run = read(&dir, "supervise/pid");
    assert!(alive(&again) && alive(&run), "the new run and its daemon live");
}

#[test]
fn the_tree_is_removed_at_exit_and_taken_over_after_a_killed_runsv() {
    if !cgroup2_or_skip("taking over a contained service") {
        return;
    }
    let tmp = TempDir::new("contain-takeover");
    let run = format!("{CHECKS_AND_FORKS}exec sleep 1000\n");
    let dir = service(&tmp, &run, true);
    fs::create_dir(dir.join("log")).unwrap();
    util::script(&dir.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    fs::create_dir(dir.join("log/cgroup")).unwrap();
    let _clean = Cleanup(dir.clone());
    let mut first = Runsv::start(&util::bin("runsv"), &dir);
    let daemon = pid_in(&dir, "daemon");
    let cg = PathBuf::from(read(&dir, "supervise/cgroup").trim());
    let log_cg = PathBuf::from(read(&dir, "log/supervise/cgroup").trim());
    assert_eq!(cg.parent(), log_cg.parent(), "one subtree for the service and its log");
    assert!(log_cg.ends_with("log"), "{log_cg:?}");
    // SIGKILL: the run, its daemon and the log service live on, orphaned.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    std::mem::forget(first);
    assert!(alive(&daemon));
    fs::remove_file(dir.join("daemon")).unwrap();
    let second = Runsv::start(&util::bin("runsv"), &dir);
    let new_daemon = pid_in(&dir, "daemon");
    assert!(!alive(&daemon), "the old daemon was stopped before the new run");
    assert_ne!(daemon, new_daemon);
    assert_eq!(read(&dir, "supervise/cgroup").trim(), cg.to_str().unwrap(), "the same tree");
    let members = read(&cg, "cgroup.procs");
    assert_eq!(members.lines().count(), 2, "only the new run and its daemon: {members}");
    assert!(second.stderr().contains("left in"), "{}", second.stderr());
    // sv x: down, the log let go, the trees removed.
    let (code, out) = sv(&dir, &["-w", "15", "exit"]);
    assert_eq!(code, 0, "{out}");
    let mut second = second;
    util::wait_exit("runsv after sv x", LIMIT, &mut second.child);
    assert!(!cg.exists() && !log_cg.exists(), "{}", second.stderr());
    assert!(!cg.parent().unwrap().exists(), "the service's subtree is gone too");
    assert!(!dir.join("supervise/cgroup").exists());
}

#[test]
fn limits_that_cannot_be_applied_keep_the_service_down_and_are_said_per_start() {
    if !cgroup2_or_skip("refused limits") {
        return;
    }
    let tmp = TempDir::new("contain-refused");
    let dir = service(&tmp, "#!/bin/sh\necho started >>runs\nexec sleep 1000\n", true);
    // The kernel refuses the value of a file every cgroup has.
    fs::write(dir.join("cgroup/cgroup.max.descendants"), "lots\n").unwrap();
    let _clean = Cleanup(dir.clone());
    let r = Runsv::start(&util::bin("runsv"), &dir);
    util::wait_for("two refused starts", LIMIT, || {
        r.stderr().matches("unable to apply ./cgroup/cgroup.max.descendants").count() >= 2
    });
    assert!(!dir.join("runs").exists(), "never started with its limits missing");
    // A controller this system's cgroup2 does not have, named in the message.
    fs::remove_file(dir.join("cgroup/cgroup.max.descendants")).unwrap();
    fs::write(dir.join("cgroup/nosuch.max"), "1\n").unwrap();
    util::wait_for("the missing controller said", LIMIT, || {
        r.stderr().contains("the nosuch controller is not available")
    });
    assert!(!dir.join("runs").exists());
    // Fixed: the next start goes through.
    fs::remove_file(dir.join("cgroup/nosuch.max")).unwrap();
    fs::write(dir.join("cgroup/cgroup.max.descendants"), "5\n").unwrap();
    util::wait_for("the start with a good limit", LIMIT, || dir.join("runs").exists());
    let cg = PathBuf::from(read(&dir, "supervise/cgroup").trim());
    assert_eq!(read(&cg, "cgroup.max.descendants"), "5\n");
    let line =
        r.stderr().lines().find(|l| l.contains("cgroup.max.descendants")).unwrap().to_string();
    assert!(line.starts_with("runsv ") && line.contains(": warning: "), "{line}");
}

#[test]
fn without_cgroup2_an_empty_cgroup_dir_starts_uncontained_and_limits_do_not_start() {
    if !cgroup2_or_skip("a system without cgroup2") {
        return;
    }
    let tmp = TempDir::new("contain-nocgroup2");
    let dir = service(&tmp, "#!/bin/sh\necho started >>runs\nexec sleep 1000\n", true);
    let limited = tmp.path().join("l");
    fs::create_dir_all(limited.join("cgroup")).unwrap();
    util::script(&limited.join("run"), "#!/bin/sh\necho started >>runs\nexec sleep 1000\n");
    fs::write(limited.join("cgroup/pids.max"), "10\n").unwrap();
    // Every cgroup2 mount hidden in a mount namespace of its own; both runsv run there.
    let script = format!(
        "grep ' - cgroup2 ' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read m; do umount -l \"$m\" || exit 9; done\n\
         grep -q ' - cgroup2 ' /proc/self/mountinfo && exit 8\n\
         {runsv} {s} 2>{s}.err & {runsv} {l} 2>{l}.err &\n\
         i=0; while [ $i -lt 400 ]; do [ -e {s}/runs ] && [ $(grep -c 'not starting' {l}.err) -ge 2 ] && break; sleep 0.05; i=$((i+1)); done\n\
         {sv} -w 10 exit {s} {l} >/dev/null; wait\n",
        runsv = util::bin("runsv").display(),
        sv = util::bin("sv").display(),
        s = dir.display(),
        l = limited.display(),
    );
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let s_err = fs::read_to_string(dir.with_extension("err")).unwrap();
    let l_err = fs::read_to_string(limited.with_extension("err")).unwrap();
    assert!(
        s_err.contains("no cgroup2 file system is mounted")
            && s_err.contains("starting ./run uncontained"),
        "{s_err}"
    );
    assert!(dir.join("runs").exists());
    assert!(
        l_err.contains("no cgroup2 file system is mounted") && l_err.contains("not starting ./run"),
        "{l_err}"
    );
    assert!(!limited.join("runs").exists(), "limits asked for and not applied: not started");
    assert!(!dir.join("supervise/cgroup").exists());
}

#[test]
fn runsvdir_removing_a_contained_service_stops_its_tree_and_removes_it() {
    if !cgroup2_or_skip("runsvdir with a contained service") {
        return;
    }
    let tmp = TempDir::new("contain-runsvdir");
    fs::create_dir(tmp.join("sv")).unwrap();
    let dir = service(&tmp, FORKS_A_DAEMON, true);
    let real = tmp.join("sv/s");
    fs::rename(&dir, &real).unwrap();
    fs::create_dir(tmp.join("service")).unwrap();
    std::os::unix::fs::symlink(&real, tmp.join("service/s")).unwrap();
    let _clean = Cleanup(real.clone());
    let bin = util::bin("runsv");
    let path = format!("{}:/usr/bin:/bin", bin.parent().unwrap().display());
    let runsvdir = Command::new(util::bin("runsvdir"))
        .arg(tmp.join("service"))
        .env("PATH", path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _reaper = util::Reaper(runsvdir);
    let daemon = pid_in(&real, "daemon");
    let cg = PathBuf::from(read(&real, "supervise/cgroup").trim());
    assert!(populated(&cg));
    // The link goes: runsvdir's TERM makes runsv stop the service, its whole tree, and exit.
    fs::remove_file(tmp.join("service/s")).unwrap();
    util::wait_for("the tree removed", LIMIT, || !cg.exists());
    assert!(!alive(&daemon), "the daemon went with its service");
    assert!(!real.join("supervise/cgroup").exists());
}
