//! Tests of sv: black-box runs of our sv against Debian's C runsv, and differential runs where
//! the same scenario is played with the C sv and with ours (each on a fresh copy of the same
//! service tree, each with its own runsv processes: C runsv, then ours) and the normalized
//! transcripts compared.
//!
//! Where runit 2.3.0 changed 2.1.2's behaviour (`check`, the LSB exit code of `status`) the C
//! peer is 2.1.2, so those cases are tested against the 2.3.0 behaviour on their own.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{self, Runsv, TempDir};

const RUN: &str = "#!/bin/sh\ntrap '' HUP INT QUIT USR1 USR2 ALRM\nexec sleep 1000\n";
const STUBBORN: &str = "#!/bin/sh\ntrap '' TERM HUP INT QUIT USR1 USR2 ALRM\nexec sleep 1000\n";
const LOG_RUN: &str = "#!/bin/sh\nexec cat >/dev/null\n";
/// Records each run (in `ran`), so a test can tell it was consulted.
const CHECK: &str = "#!/bin/sh\necho >>ran\ntest -e ready\n";
const LIMIT: Duration = Duration::from_secs(20);

fn c_runsv() -> Option<PathBuf> {
    util::peer("runit", "usr/bin/runsv")
}

fn c_sv() -> Option<PathBuf> {
    util::peer("runit", "usr/bin/sv")
}

/// Whether the binary status record reads as `want` in `supervise/stat` wording. The record, not
/// the `stat` file: runsv writes `stat` first, so `stat` may be ahead of what sv reads.
fn stat_is(dir: &Path, want: &str) -> bool {
    let Ok(b) = fs::read(dir.join("supervise/status")) else { return false };
    runit::supervise::status::Status::decode(&b).is_ok_and(|st| st.stat_text() == want)
}

fn wait_stat(dir: &Path, want: &str) {
    util::wait_for(&format!("{} to be {want}", dir.display()), LIMIT, || stat_is(dir, want));
}

/// Waits until the service's ./run (RUN or STUBBORN) set its traps: it execs sleep after them.
/// runsv records "run" as soon as it forked, so a signal sent on that alone can come first.
fn wait_trapped(dir: &Path) {
    util::wait_for(&format!("{}/run past its traps", dir.display()), LIMIT, || {
        let pid = fs::read_to_string(dir.join("supervise/pid")).unwrap_or_default();
        !pid.trim().is_empty() && util::comm(pid.trim()) == "sleep"
    });
}

fn wait_aged(dir: &Path) {
    let b = fs::read(dir.join("supervise/status")).unwrap();
    let since = runit::supervise::status::Status::decode(&b).unwrap().since.secs;
    util::wait_for("the status to age a second", LIMIT, || runit::tai::Tai64n::now().secs > since);
}

fn mkfifo(p: &Path) {
    runit::sys::mkfifo(p, 0o600).unwrap();
}

/// The service tree every scenario starts from, in `root`.
fn fixture(root: &Path) {
    for name in ["svc", "logged", "normdown", "checked", "trunc", "logfile", "nosup"] {
        util::script(&root.join(name).join("run"), RUN);
    }
    util::script(&root.join("stubborn/run"), STUBBORN);
    util::script(&root.join("logged/log/run"), LOG_RUN);
    util::script(&root.join("checked/check"), CHECK);
    fs::write(root.join("normdown/down"), "").unwrap();
    fs::write(root.join("trunc/down"), "").unwrap();
    fs::write(root.join("logfile/log"), "not a directory\n").unwrap();
    fs::write(root.join("afile"), "").unwrap();
    // A service whose runsv is gone: the FIFOs exist, nobody reads them.
    fs::create_dir_all(root.join("dead/supervise")).unwrap();
    mkfifo(&root.join("dead/supervise/ok"));
    mkfifo(&root.join("dead/supervise/control"));
}

/// Starts C runsv on the supervised part of the tree and waits until each is settled.
fn supervise(root: &Path, runsv: &Path) -> Vec<Runsv> {
    let mut all = Vec::new();
    for name in ["svc", "logged", "normdown", "checked", "trunc", "logfile", "stubborn"] {
        all.push(Runsv::start(runsv, &root.join(name)));
    }
    for name in ["svc", "logged", "checked", "logfile", "stubborn"] {
        wait_stat(&root.join(name), "run");
        wait_trapped(&root.join(name));
    }
    wait_stat(&root.join("logged/log"), "run");
    wait_stat(&root.join("normdown"), "down");
    wait_stat(&root.join("trunc"), "down");
    // A record cut short, as a crash in the middle of a write would leave it.
    let st = root.join("trunc/supervise/status");
    let b = fs::read(&st).unwrap();
    fs::write(&st, &b[..7]).unwrap();
    all
}

/// One step of a scenario.
enum Step {
    /// Run sv with these arguments (`@` stands for the fixture root in SVDIR).
    Sv(&'static [&'static str]),
    /// Run sv with an environment variable set.
    SvEnv(&'static str, &'static str, &'static [&'static str]),
    /// Run the LSB personality: sv symlinked as `init.d/<name>`, SVDIR = the fixture root.
    Lsb(&'static str, &'static [&'static str]),
    /// Wait until the service's status record reads as this (in `supervise/stat` wording).
    Stat(&'static str, &'static str),
    /// Wait until the service's last change is at least one whole second old, so that C's
    /// whole-second comparisons (`t`, `k`, `o`) cannot mistake the old state for the new one.
    Aged(&'static str),
    /// Wait until the service's ./run set its traps (after a start, before a trapped signal).
    Trapped(&'static str),
    /// Wait until the service's runsv is gone.
    Gone(&'static str),
    /// Create a file.
    Touch(&'static str),
    /// Remove a file.
    Remove(&'static str),
}

/// Plays `steps` with the sv at `sv` in a fresh tree; returns the normalized transcript.
fn play(sv: &Path, runsv: &Path, steps: &[Step]) -> String {
    let tmp = TempDir::new("sv-diff");
    let root = tmp.path();
    fixture(root);
    fs::create_dir(root.join("init.d")).unwrap();
    let _sup = supervise(root, runsv);
    let mut t = String::new();
    for step in steps {
        match step {
            Step::Sv(args) => t += &invoke(sv, args, root, None),
            Step::SvEnv(k, v, args) => {
                let v = v.replace('@', &root.display().to_string());
                t += &invoke(sv, args, root, Some((k, &v)));
            }
            Step::Lsb(name, args) => {
                let link = root.join("init.d").join(name);
                if !link.exists() {
                    symlink(sv, &link).unwrap();
                }
                t += &invoke(&link, args, root, Some(("SVDIR", &root.display().to_string())));
            }
            Step::Stat(dir, want) => wait_stat(&root.join(dir), want),
            Step::Aged(dir) => wait_aged(&root.join(dir)),
            Step::Trapped(dir) => wait_trapped(&root.join(dir)),
            Step::Gone(dir) => {
                let ok = root.join(dir).join("supervise/ok");
                util::wait_for("runsv to exit", LIMIT, || !util::reader_present(&ok));
            }
            Step::Touch(f) => fs::write(root.join(f), "").unwrap(),
            Step::Remove(f) => fs::remove_file(root.join(f)).unwrap(),
        }
    }
    t
}

fn invoke(prog: &Path, args: &[&str], cwd: &Path, env: Option<(&str, &str)>) -> String {
    let mut cmd = Command::new(prog);
    cmd.args(args).current_dir(cwd).stdin(Stdio::null()).env_remove("SVWAIT");
    cmd.env("SVDIR", "/nonexistent-svdir/");
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let name = prog.file_name().unwrap().to_string_lossy();
    format!(
        "$ {name} {}\n{}{}rc={}\n",
        args.join(" "),
        normalize(&String::from_utf8_lossy(&out.stdout)),
        tagged("stderr", &String::from_utf8_lossy(&out.stderr)),
        out.status.code().unwrap_or(-1)
    )
}

fn tagged(tag: &str, s: &str) -> String {
    s.lines().map(|l| format!("[{tag}] {l}\n")).collect()
}

/// Replaces what differs between runs: pids and ages in seconds.
fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("(pid ") {
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("(pid N");
                rest = &after[digits..];
                continue;
            }
        }
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let prev = out.chars().last();
        if digits > 0 && prev == Some(' ') && rest[digits..].starts_with('s') {
            let next = rest[digits + 1..].chars().next();
            if next.map_or(true, |n| n == ',' || n == ';' || n == '\n') {
                out.push_str("Ns");
                rest = &rest[digits + 1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Plays a scenario with the C sv and with ours and compares, once with C runsv supervising
/// and once with our runsv (so the C sv is shown to drive our runsv as well).
fn differential(steps: &[Step]) {
    let (Some(csv), Some(runsv)) = (c_sv(), c_runsv()) else { return };
    if !util::root_or_skip("sv differential tests (C runsv supervising)") {
        return;
    }
    for supervisor in [runsv, util::bin("runsv")] {
        let theirs = play(&csv, &supervisor, steps);
        let ours = play(&util::bin("sv"), &supervisor, steps);
        if theirs != ours {
            let diff: Vec<String> = theirs
                .lines()
                .zip(ours.lines())
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("  C:    {a}\n  ours: {b}"))
                .collect();
            panic!(
                "transcripts differ under {}:\n{}\n--- C:\n{theirs}\n--- ours:\n{ours}",
                supervisor.display(),
                diff.join("\n")
            );
        }
        assert!(theirs.contains("rc="), "scenario produced no transcript");
    }
}

#[test]
fn normalize_replaces_pids_and_ages() {
    assert_eq!(
        normalize("run: ./a: (pid 123) 45s, want down; down: log: 7s\nok: ./x: 9s\n"),
        "run: ./a: (pid N) Ns, want down; down: log: Ns\nok: ./x: Ns\n"
    );
    assert_eq!(normalize("fail: ./1s: 2s"), "fail: ./1s: Ns");
}

#[test]
fn diff_commands_and_signals() {
    use Step::*;
    differential(&[
        Sv(&["status", "./svc", "./logged", "./normdown"]),
        Sv(&["-v", "down", "./svc"]),
        Sv(&["status", "./svc"]),
        Sv(&["-v", "up", "./svc"]),
        Trapped("svc"),
        Sv(&["-v", "pause", "./svc"]),
        Sv(&["status", "./svc"]),
        Sv(&["-v", "cont", "./svc"]),
        Sv(&["-v", "hup", "./svc"]),
        Sv(&["-v", "alarm", "./svc"]),
        Sv(&["-v", "interrupt", "./svc"]),
        Sv(&["-v", "quit", "./svc"]),
        Sv(&["-v", "1", "./svc"]),
        Sv(&["-v", "2", "./svc"]),
        Aged("svc"),
        Sv(&["-v", "term", "./svc"]),
        Aged("svc"),
        Sv(&["-v", "kill", "./svc"]),
        Aged("svc"),
        Sv(&["-v", "once", "./svc"]),
        Sv(&["-v", "down", "./svc"]),
        Sv(&["u", "./svc"]),
        Stat("svc", "run"),
        Sv(&["d", "./svc"]),
        Stat("svc", "down"),
        Aged("svc"),
        Sv(&["-v", "o", "./svc"]),
        Aged("svc"),
        Sv(&["-v", "t", "./svc"]),
        Sv(&["status", "./svc"]),
        Sv(&["-v", "up", "./normdown"]),
        Sv(&["status", "./normdown"]),
        Sv(&["-vw", "3", "d", "./normdown"]),
        Sv(&["-v", "up", "./svc"]),
        Sv(&["-v", "up", "./svc", "./logged"]),
        Sv(&["-v", "down", "./missing", "./nosup", "./dead", "./trunc"]),
    ]);
}

#[test]
fn diff_lsb_verbs() {
    use Step::*;
    differential(&[
        Sv(&["stop", "./svc"]),
        Sv(&["start", "./svc"]),
        Aged("svc"),
        Sv(&["restart", "./svc"]),
        Aged("svc"),
        Sv(&["try-restart", "./svc"]),
        Sv(&["reload", "./svc"]),
        Aged("svc"),
        Sv(&["force-reload", "./svc"]),
        Aged("svc"),
        Sv(&["force-restart", "./svc"]),
        Sv(&["force-stop", "./svc"]),
        Sv(&["status", "./svc"]),
        Sv(&["start", "./svc"]),
        Sv(&["check", "./svc", "./normdown"]),
        Sv(&["status", "./logged"]),
        Sv(&["stop", "./logged"]),
        Sv(&["status", "./logged"]),
        Sv(&["shutdown", "./logged"]),
        Sv(&["status", "./logged"]),
        Sv(&["force-shutdown", "./svc"]),
        Sv(&["status", "./svc"]),
        Sv(&["start", "./svc"]),
        Sv(&["-v", "exit", "./svc"]),
        Sv(&["exit", "./svc"]),
    ]);
}

#[test]
fn diff_timeouts_kill_and_check_scripts() {
    use Step::*;
    differential(&[
        Sv(&["-w", "1", "down", "./stubborn"]),
        Sv(&["status", "./stubborn"]),
        Sv(&["-w", "1", "force-stop", "./stubborn"]),
        Stat("stubborn", "down"),
        Sv(&["status", "./stubborn"]),
        Sv(&["-v", "up", "./stubborn"]),
        Trapped("stubborn"),
        Sv(&["-w", "1", "force-shutdown", "./stubborn"]),
        Gone("stubborn"),
        Sv(&["status", "./stubborn"]),
        // ./check decides readiness: without the `ready` file the service is not available.
        Sv(&["-w", "1", "start", "./checked"]),
        Sv(&["-w", "1", "check", "./checked"]),
        Aged("checked"),
        Sv(&["-w", "1", "restart", "./checked"]),
        Stat("checked", "run"),
        Touch("checked/ready"),
        Sv(&["check", "./checked"]),
        Aged("checked"),
        Sv(&["restart", "./checked"]),
        Sv(&["start", "./checked"]),
        Remove("checked/ready"),
        Sv(&["-w", "0", "up", "./checked"]),
        SvEnv("SVWAIT", "1", &["start", "./checked"]),
        SvEnv("SVWAIT", "junk", &["start", "./checked"]),
        // Up but not ready (no `ready` file): a timeout whatever the machine's load, where a
        // `down` would race the service's exit against the shortest wait.
        SvEnv("SVWAIT", "1", &["-w", "0", "-v", "up", "./checked"]),
    ]);
}

#[test]
fn diff_errors_and_lookup() {
    use Step::*;
    differential(&[
        Sv(&["status", "./missing"]),
        Sv(&["-v", "up", "./missing"]),
        Sv(&["status", "missing"]),
        Sv(&["status", "./afile"]),
        Sv(&["status", "./nosup"]),
        Sv(&["up", "./nosup"]),
        Sv(&["-v", "up", "./nosup"]),
        Sv(&["status", "./dead"]),
        Sv(&["up", "./dead"]),
        Sv(&["-v", "up", "./dead"]),
        Sv(&["exit", "./dead"]),
        Sv(&["-v", "exit", "./dead"]),
        Sv(&["shutdown", "./dead"]),
        Sv(&["check", "./dead"]),
        Sv(&["status", "./trunc"]),
        Sv(&["-v", "up", "./trunc"]),
        Sv(&["status", "./logfile"]),
        Sv(&["status", "./svc", "./missing", "./dead", "./nosup", "./svc", "./afile"]),
        Sv(&["status", ""]),
        SvEnv("SVDIR", "@", &["status", "svc", "logged", "missing"]),
        SvEnv("SVDIR", "@/", &["-v", "up", "svc"]),
        SvEnv("SVDIR", "@/afile", &["status", "svc"]),
        SvEnv("SVDIR", "@", &["status", "svc/"]),
        SvEnv("SVDIR", "/", &["status", "./svc"]),
    ]);
}

#[test]
fn diff_usage() {
    use Step::*;
    differential(&[
        Sv(&[]),
        Sv(&["up"]),
        Sv(&["frob", "./svc"]),
        Sv(&["", "./svc"]),
        Sv(&["rfoo", "./svc"]),
        Sv(&["force-frob", "./svc"]),
        Sv(&["-x", "up", "./svc"]),
        Sv(&["-w"]),
        Sv(&["-v"]),
        Sv(&["--", "status", "./svc"]),
        Sv(&["status", "-v"]),
        Sv(&["sfoo", "./svc"]),
        Sv(&["-", "./svc"]),
    ]);
}

#[test]
fn diff_lsb_mode() {
    use Step::*;
    differential(&[
        Lsb("svc", &["status"]),
        Lsb("svc", &["stop"]),
        Lsb("svc", &["status"]),
        Lsb("svc", &["start"]),
        Lsb("svc", &["status", "ignored", "args"]),
        Aged("svc"),
        Lsb("svc", &["restart"]),
        Lsb("svc", &["reload"]),
        Lsb("svc", &["foo"]),
        Lsb("svc", &["stat"]),
        Lsb("svc", &[]),
        Lsb("svc", &["-w"]),
        Lsb("svc", &["-x", "status"]),
        Lsb("svc", &["-w", "1", "up"]),
        Lsb("missing", &["status"]),
        Lsb("missing", &["start"]),
        Lsb("dead", &["status"]),
        Lsb("dead", &["start"]),
        Lsb("nosup", &["start"]),
        Lsb("nosup", &["status"]),
        Lsb("logged", &["status"]),
        Lsb("normdown", &["status"]),
        Lsb("svc", &["shutdown"]),
        Gone("svc"),
        Lsb("svc", &["status"]),
    ]);
}

/// Runs our sv; (exit code, stdout, stderr).
fn ours(args: &[&str], cwd: &Path) -> (i32, String, String) {
    util::run(&util::bin("sv"), args, cwd)
}

/// A fake supervisor: a `supervise/` with a status record and `ok` held open by the test, so
/// record formats C runsv never writes can be fed to sv.
struct FakeSupervise {
    _ok: fs::File,
}

fn fake(dir: &Path, record: &[u8]) -> FakeSupervise {
    use std::os::unix::fs::OpenOptionsExt;
    fs::create_dir_all(dir.join("supervise")).unwrap();
    mkfifo(&dir.join("supervise/ok"));
    let ok = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(dir.join("supervise/ok"))
        .unwrap();
    fs::write(dir.join("supervise/status"), record).unwrap();
    FakeSupervise { _ok: ok }
}

fn record(pid: u32, want: u8, state: u8) -> Vec<u8> {
    let now = runit::tai::Tai64n::now();
    let mut b = now.to_bytes().to_vec();
    b.extend_from_slice(&pid.to_le_bytes());
    b.extend_from_slice(&[0, want, 0, state]);
    b
}

#[test]
fn daemontools_record_and_corrupt_records() {
    let tmp = TempDir::new("sv-records");
    let r = tmp.path();
    let full = record(4242, b'u', 1);
    let _a = fake(&r.join("dt"), &full[..18]);
    let (rc, out, err) = ours(&["status", "./dt"], r);
    assert_eq!((rc, normalize(&out).as_str(), err.as_str()), (0, "run: ./dt: (pid N) Ns\n", ""));
    let _b = fake(&r.join("badstate"), &record(1, b'u', 7));
    let _c = fake(&r.join("short"), &full[..19]);
    let _d = fake(&r.join("empty"), b"");
    let (rc, out, _) = ours(&["status", "./badstate", "./short", "./empty", "./dt"], r);
    assert_eq!(rc, 3);
    let bad = "unable to read supervise/status: bad format";
    assert_eq!(
        normalize(&out),
        format!(
            "warning: ./badstate: {bad}\nwarning: ./short: {bad}\nwarning: ./empty: {bad}\n\
             run: ./dt: (pid N) Ns\n"
        )
    );
}

#[test]
fn check_waits_for_the_wanted_state() {
    // runit 2.3.0's `check`: a service that wants up but is down is not "ok" (2.1.2 said it
    // was); one that wants down but still runs is waited for too.
    let tmp = TempDir::new("sv-check");
    let r = tmp.path();
    let _a = fake(&r.join("wantup"), &record(0, b'u', 0));
    let (rc, out, _) = ours(&["-w", "0", "check", "./wantup"], r);
    assert_eq!(
        (rc, normalize(&out).as_str()),
        (1, "timeout: down: ./wantup: Ns, normally up, want up\n")
    );
    let _b = fake(&r.join("wantdown"), &record(77, b'd', 1));
    let (rc, out, _) = ours(&["-w", "0", "check", "./wantdown"], r);
    assert_eq!(
        (rc, normalize(&out).as_str()),
        (1, "timeout: run: ./wantdown: (pid N) Ns, want down\n")
    );
    let _c = fake(&r.join("fine"), &record(0, b'd', 0));
    let (rc, out, _) = ours(&["check", "./fine"], r);
    assert_eq!((rc, normalize(&out).as_str()), (0, "ok: down: ./fine: Ns, normally up\n"));
}

#[test]
fn lsb_status_reflects_the_service_not_its_log() {
    // runit 2.3.0: exit 3 for a down service even when its log service runs (2.1.2 said 0).
    let (Some(runsv), true) = (c_runsv(), util::root_or_skip("lsb status")) else { return };
    let tmp = TempDir::new("sv-lsb3");
    let r = tmp.path();
    fixture(r);
    let _s = Runsv::start(&runsv, &r.join("logged"));
    wait_stat(&r.join("logged"), "run");
    wait_stat(&r.join("logged/log"), "run");
    let (rc, _, _) = ours(&["-v", "down", "./logged"], r);
    assert_eq!(rc, 0);
    fs::create_dir(r.join("init.d")).unwrap();
    symlink(util::bin("sv"), r.join("init.d/logged")).unwrap();
    let out = Command::new(r.join("init.d/logged")).arg("status").env("SVDIR", r).output().unwrap();
    assert_eq!(
        normalize(&String::from_utf8_lossy(&out.stdout)),
        "down: logged: Ns, normally up; run: log: (pid N) Ns\n"
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn bad_wait_value_is_a_usage_error() {
    let tmp = TempDir::new("sv-usage");
    for args in [&["-w", "abc", "up", "./x"][..], &["-w", "", "up", "./x"], &["-w5x", "up", "./x"]]
    {
        let (rc, out, err) = ours(args, tmp.path());
        assert_eq!(rc, 100, "{args:?}");
        assert_eq!(out, "");
        assert!(err.starts_with("sv: bad number of seconds for option -- w: "), "{err}");
        assert!(err.ends_with("usage: sv [-v] [-w sec] command service ...\n\n"), "{err}");
    }
    let (rc, _, err) = ours(&["-V"], tmp.path());
    assert_eq!(rc, 100);
    assert!(err.starts_with("$Id: runit-rs "), "{err}");
}

#[test]
fn up_returns_as_soon_as_the_service_runs() {
    // Event-driven waiting: `sv -w 60 up` must notice the state change by itself (a poll would
    // also notice, so this checks the result; the latency is measured by ci/bench-sv).
    let (Some(runsv), true) = (c_runsv(), util::root_or_skip("sv up")) else { return };
    let tmp = TempDir::new("sv-up");
    let r = tmp.path();
    fixture(r);
    let _s = Runsv::start(&runsv, &r.join("normdown"));
    wait_stat(&r.join("normdown"), "down");
    let (rc, out, _) = ours(&["-w", "60", "up", "./normdown"], r);
    assert_eq!(
        (rc, normalize(&out).as_str()),
        (0, "ok: run: ./normdown: (pid N) Ns, normally down\n")
    );
    // Waiting for runsv itself to go away (exit) ends through the held-open supervise/ok.
    let (rc, out, _) = ours(&["-w", "60", "exit", "./normdown"], r);
    assert_eq!((rc, out.as_str()), (0, "ok: ./normdown: runsv not running\n"));
}

#[test]
fn check_script_becoming_ready_is_noticed() {
    let (Some(runsv), true) = (c_runsv(), util::root_or_skip("sv check")) else { return };
    let tmp = TempDir::new("sv-ready");
    let r = tmp.path();
    fixture(r);
    let _s = Runsv::start(&runsv, &r.join("checked"));
    wait_stat(&r.join("checked"), "run");
    let mut waiter = util::spawn(&util::bin("sv"), &["-w", "60", "check", "./checked"], r);
    // Once ./check said "not yet" twice, sv is known to be waiting; then make it ready.
    let ran = r.join("checked/ran");
    util::wait_for("./check to run twice", LIMIT, || fs::read(&ran).is_ok_and(|b| b.len() >= 2));
    assert!(waiter.try_wait().unwrap().is_none(), "sv gave up instead of waiting");
    fs::write(r.join("checked/ready"), "").unwrap();
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        normalize(&String::from_utf8_lossy(&out.stdout)),
        "ok: run: ./checked: (pid N) Ns\n"
    );
}

#[test]
fn exit_code_counts_failures_up_to_99() {
    let Some(csv) = c_sv() else { return };
    let tmp = TempDir::new("sv-rc");
    let names: Vec<String> = (0..120).map(|i| format!("./missing{i}")).collect();
    let mut args = vec!["status"];
    args.extend(names.iter().map(String::as_str));
    let theirs = util::run(&csv, &args, tmp.path());
    let ours = ours(&args, tmp.path());
    assert_eq!(ours.0, 99);
    assert_eq!(ours.1.lines().count(), 120);
    assert_eq!(ours, theirs);
}

/// A `./run` that dies at once (a crash loop): every waiting verb ends in `timeout:` with exit
/// 1, with C's sv and runsv, with ours, and with our sv on C's runsv. Event-driven waiting alone
/// would catch one of the loop's brief runs and answer `ok:`.
#[test]
fn crash_loop_ends_in_timeout_as_with_c() {
    let (Some(c_runsv), Some(c_sv), true) = (c_runsv(), c_sv(), util::root_or_skip("crash loop"))
    else {
        return;
    };
    let ours_sv = util::bin("sv");
    let ours_runsv = util::bin("runsv");
    let pairs =
        [(&c_sv, &c_runsv, "C/C"), (&ours_sv, &ours_runsv, "ours"), (&ours_sv, &c_runsv, "ours/C")];
    let verbs: [&[&str]; 5] = [
        &["-w", "2", "start"],
        &["-w", "2", "restart"],
        &["-w", "2", "try-restart"],
        &["-w", "2", "up"],
        &["-v", "-w", "2", "start"],
    ];
    for (sv, runsv, tag) in pairs {
        let tmp = TempDir::new("sv-crash");
        let dir = tmp.path().join("s");
        fs::create_dir(&dir).unwrap();
        util::script(&dir.join("run"), "#!/bin/sh\nexit 1\n");
        fs::write(dir.join("down"), "").unwrap();
        let _s = Runsv::start(runsv, &dir);
        for args in verbs {
            let args: Vec<&str> = args.iter().copied().chain(["./s"]).collect();
            let out = Command::new(sv).args(&args).current_dir(tmp.path()).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{tag} sv {args:?}: {text}");
            assert!(text.starts_with("timeout: "), "{tag} sv {args:?}: {text}");
        }
    }
}
