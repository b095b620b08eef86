//! Malformed service directories: `run` unusable in every way, `supervise` and `log` not what
//! they should be, service names with spaces, newlines and leading dashes. Each case runs
//! under our programs and the C ones side by side: runsv must keep running and retrying where
//! C does (with a warning), and fail with the same message where C fails; sv and runsvdir must
//! treat odd names as names.
//!
//! Deliberate difference: C runsv's child reports a failed exec of `./run` as `fatal` (the
//! child dies; runsv goes on); ours says `warning`, as runsv itself goes on.

use std::fs;
use std::os::unix::fs::{symlink, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{self, bin, peer, script, wait_for, TempDir};

const LIMIT: Duration = Duration::from_secs(10);
const SLEEPER: &str = "#!/bin/sh\nexec sleep 1000\n";

/// A supervisor started in its own process group, stderr to a file; dropping it kills the
/// group.
pub struct Proc {
    child: Option<Child>,
    errfile: PathBuf,
}

impl Proc {
    /// Starts `prog args` in `cwd`.
    pub fn start(prog: &Path, args: &[&str], cwd: &Path, tag: &str) -> Proc {
        let mut cmd = Command::new(prog);
        cmd.args(args);
        Proc::spawn(cmd, cwd, tag)
    }

    /// Starts a prepared command in `cwd`, stdin and stdout on /dev/null.
    pub fn spawn(mut cmd: Command, cwd: &Path, tag: &str) -> Proc {
        let errfile = cwd.join(format!(".{tag}.stderr"));
        let err = fs::File::create(&errfile).unwrap();
        cmd.current_dir(cwd).stdin(Stdio::null()).stdout(Stdio::null()).stderr(err);
        let child = cmd.process_group(0).spawn().unwrap();
        Proc { child: Some(child), errfile }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.errfile).unwrap_or_default()
    }

    pub fn running(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    /// Waits for the exit code.
    pub fn wait_exit(&mut self) -> i32 {
        util::code(util::wait_exit("the program", LIMIT, self.child.as_mut().unwrap()))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kills the process group made for this program.
            unsafe { libc::kill(-(c.id() as i32), libc::SIGKILL) };
            let _ = c.wait();
        }
    }
}

/// Our runsv and, when the peers are there, C's: (label, program).
fn runsvs() -> Vec<(&'static str, PathBuf)> {
    let mut v = vec![("ours", bin("runsv"))];
    if let Some(c) = peer("runit", "usr/bin/runsv") {
        v.push(("C", c));
    }
    v
}

/// Writes command bytes to the service's control FIFO (never blocks).
pub fn control(svc: &Path, cmds: &[u8]) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(svc.join("supervise/control"))
        .unwrap();
    f.write_all(cmds).unwrap();
}

pub fn stat(svc: &Path) -> String {
    fs::read_to_string(svc.join("supervise/stat")).unwrap_or_default().trim().to_string()
}

pub fn wait_stat(svc: &Path, want: &str) {
    wait_for(&format!("{} stat {want:?}", svc.display()), LIMIT, || stat(svc) == want);
}

/// A broken `./run`: how to break it, and the error the exec meets.
const BROKEN_RUN: [(&str, &str); 5] = [
    ("directory", "access denied"),
    ("dangling-symlink", "file does not exist"),
    ("empty", "exec format error"),
    ("no-shebang", "exec format error"),
    ("symlink-loop", "symbolic link loop"),
];

fn break_run(svc: &Path, how: &str) {
    fs::create_dir_all(svc).unwrap();
    let run = svc.join("run");
    match how {
        "directory" => fs::create_dir(&run).unwrap(),
        "dangling-symlink" => symlink("/nonexistent/run", &run).unwrap(),
        "empty" => script(&run, ""),
        "no-shebang" => script(&run, "echo hello\nexec sleep 1000\n"),
        _ => symlink("run", &run).unwrap(),
    }
}

#[test]
fn broken_run_is_retried_with_a_warning_until_fixed() {
    let t = TempDir::new("malformed-run");
    let mut all = Vec::new();
    for (label, prog) in runsvs() {
        for (how, err) in BROKEN_RUN {
            let svc = t.join(format!("{label}-{how}"));
            break_run(&svc, how);
            let name = svc.file_name().unwrap().to_str().unwrap().to_string();
            let p = Proc::start(&prog, &[&name], t.path(), &name);
            all.push((label, how, err, svc, name, p));
        }
    }
    for (label, how, err, svc, name, p) in &mut all {
        let word = if *label == "C" { "fatal" } else { "warning" };
        let line = format!("runsv {name}: {word}: unable to start ./run: {err}\n");
        // Twice: the failure is retried, not given up on.
        wait_for(&format!("{label} {how}: two warnings"), LIMIT, || {
            p.stderr().matches(&line).count() >= 2
        });
        assert!(p.running(), "{label} runsv gave up on a broken ./run ({how})");
        let err = p.stderr();
        let unexpected: Vec<&str> = err.lines().filter(|l| *l != line.trim_end()).collect();
        assert!(unexpected.is_empty(), "{label} {how}: {unexpected:?}");
        // Between the failed starts the service is down (and never stays "run").
        wait_stat(svc, "down");
    }
    // Once ./run is fixed, the next retry starts it.
    for (_, how, _, svc, _, _) in &all {
        let run = svc.join("run");
        if *how == "directory" {
            fs::remove_dir(&run).unwrap();
        } else {
            fs::remove_file(&run).unwrap();
        }
        script(&run, SLEEPER);
    }
    for (label, how, _, svc, _, p) in &mut all {
        wait_for(&format!("{label} {how}: started once fixed"), LIMIT, || stat(svc) == "run");
        assert!(p.running());
    }
}

/// Ways to make `supervise` (or `log/supervise`) unusable; runsv cannot work without it.
fn break_supervise(svc: &Path, how: &str) {
    script(&svc.join("run"), SLEEPER);
    let sup = svc.join("supervise");
    match how {
        "file" => fs::write(&sup, "").unwrap(),
        "symlink-to-nowhere" => symlink("/proc/nonexistent/supervise", &sup).unwrap(),
        "symlink-loop" => symlink("supervise", &sup).unwrap(),
        "symlink-to-a-file" => {
            fs::write(svc.join("elsewhere"), "").unwrap();
            symlink("elsewhere", &sup).unwrap();
        }
        "lock-is-a-directory" => fs::create_dir_all(sup.join("lock")).unwrap(),
        "control-is-a-directory" => fs::create_dir_all(sup.join("control")).unwrap(),
        _ => {
            script(&svc.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
            fs::write(svc.join("log/supervise"), "").unwrap();
        }
    }
}

#[test]
fn unusable_supervise_is_fatal_with_cs_message() {
    let Some(c) = peer("runit", "usr/bin/runsv") else { return };
    let t = TempDir::new("malformed-supervise");
    for how in [
        "file",
        "symlink-to-nowhere",
        "symlink-loop",
        "symlink-to-a-file",
        "lock-is-a-directory",
        "control-is-a-directory",
        "log-supervise-is-a-file",
    ] {
        let mut seen = Vec::new();
        for (label, prog) in [("ours", bin("runsv")), ("C", c.clone())] {
            // Each side gets its own copy, named `s`, so the messages compare as they are.
            let parent = t.join(format!("{how}-{label}"));
            let svc = parent.join("s");
            break_supervise(&svc, how);
            let mut p = Proc::start(&prog, &["s"], &parent, label);
            let code = p.wait_exit();
            seen.push((code, p.stderr()));
        }
        let (ours, c) = (&seen[0], &seen[1]);
        assert_eq!(ours.0, 111, "{how}: {ours:?}");
        assert!(ours.1.starts_with("runsv s: fatal: "), "{how}: {ours:?}");
        assert_eq!(ours.1.lines().count(), 1, "{how}: {ours:?}");
        if how == "control-is-a-directory" {
            // C: "unable to open supervise/control: is a directory" after mkfifo; ours says
            // what is wrong with it.
            assert_eq!(c.0, 111, "{how}: C {c:?}");
            assert_eq!(ours.1, "runsv s: fatal: supervise/control exists but is not a fifo\n");
        } else {
            assert_eq!(ours, c, "{how}: ours (left) and C (right) differ");
        }
    }
}

#[test]
fn log_that_is_not_a_directory_is_reported_and_ignored() {
    let t = TempDir::new("malformed-log");
    for (label, prog) in runsvs() {
        let svc = t.join(label);
        script(&svc.join("run"), SLEEPER);
        fs::write(svc.join("log"), "").unwrap();
        let p = Proc::start(&prog, &[label], t.path(), label);
        wait_stat(&svc, "run");
        let want = format!("runsv {label}: warning: ./log: not a directory.\n");
        wait_for("the warning", LIMIT, || p.stderr() == want);
        assert!(!svc.join("log/supervise").exists());
    }
}

/// Names a shell or a getopt could trip over.
const ODD_NAMES: [&str; 6] = ["a b", "new\nline", "-x", "--", "-", " lead"];

fn odd_services(root: &Path) {
    for n in ODD_NAMES {
        script(&root.join(n).join("run"), SLEEPER);
    }
}

#[test]
fn odd_names_under_runsv_and_sv() {
    let t = TempDir::new("malformed-names");
    let sv = t.join("sv");
    odd_services(&sv);
    let mut procs = Vec::new();
    for n in ODD_NAMES {
        procs.push(Proc::start(&bin("runsv"), &[n], &sv, &format!("{}", procs.len())));
    }
    for n in ODD_NAMES {
        wait_stat(&sv.join(n), "run");
    }
    let c_sv = peer("runit", "usr/bin/sv");
    for n in ODD_NAMES {
        let pid = fs::read_to_string(sv.join(n).join("supervise/pid")).unwrap();
        for prog in std::iter::once(bin("sv")).chain(c_sv.clone()) {
            // Options end at the command word, so a name after it is a name even with a dash.
            let out = Command::new(&prog)
                .args(["status", n])
                .env("SVDIR", &sv)
                .current_dir(t.path())
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let want = format!("run: {n}: (pid {}) ", pid.trim());
            assert!(text.starts_with(&want), "{} status {n:?}: {text:?}", prog.display());
            assert_eq!(out.status.code(), Some(0));
        }
    }
    // Control works too: stop the one named "-x" and only it.
    let out = Command::new(bin("sv")).args(["-w", "5", "down", "-x"]).env("SVDIR", &sv).output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    wait_stat(&sv.join("-x"), "down");
    assert_eq!(stat(&sv.join("--")), "run");
    // An empty name is refused like a missing directory, as C does.
    let ours = Command::new(bin("sv")).args(["status", ""]).env("SVDIR", &sv).output().unwrap();
    assert_eq!(ours.status.code(), Some(1));
    if let Some(c) = c_sv {
        let theirs = Command::new(c).args(["status", ""]).env("SVDIR", &sv).output().unwrap();
        assert_eq!(ours.stdout, theirs.stdout);
        assert_eq!(ours.status.code(), theirs.status.code());
    }
}

#[test]
fn odd_entries_under_runsvdir() {
    let mut progs = vec![("ours", bin("runsvdir"))];
    if let Some(c) = peer("runit", "usr/bin/runsvdir") {
        progs.insert(0, ("C", c));
    }
    for (label, prog) in progs {
        let t = TempDir::new("malformed-runsvdir");
        let sv = t.join("sv");
        odd_services(&sv);
        fs::write(sv.join("plain-file"), "").unwrap();
        symlink("/nonexistent", sv.join("dangling")).unwrap();
        symlink("plain-file", sv.join("link-to-file")).unwrap();
        fs::create_dir(sv.join("no-run")).unwrap();
        script(&sv.join(".hidden/run"), SLEEPER);
        // runsvdir starts `runsv`, found on PATH: the one of the same implementation.
        let path = format!("{}:/usr/bin:/bin", prog.parent().unwrap().display());
        let mut cmd = Command::new(&prog);
        cmd.arg("sv").current_dir(t.path()).env("PATH", path).process_group(0);
        let mut p = Proc {
            child: Some(cmd.stdin(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()),
            errfile: t.join("none"),
        };
        for n in ODD_NAMES {
            wait_stat(&sv.join(n), "run");
        }
        assert!(p.running(), "{label} runsvdir died");
        assert!(!sv.join(".hidden/supervise").exists(), "{label} started a dot entry");
        wait_for("no-run/supervise", LIMIT, || sv.join("no-run/supervise/stat").exists());
        // HUP: runsvdir sends TERM to each runsv (they run in sessions of their own, out of
        // reach of the group kill on drop) and exits 111.
        // SAFETY: kill has no memory effects.
        unsafe { libc::kill(p.pid() as i32, libc::SIGHUP) };
        assert_eq!(p.wait_exit(), 111, "{label}");
        for n in ODD_NAMES.iter().chain(&["no-run"]) {
            let ok = sv.join(n).join("supervise/ok");
            wait_for(&format!("{label}: runsv of {n:?} gone"), LIMIT, || {
                fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(&ok).is_err()
            });
        }
    }
}
