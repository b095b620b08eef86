//! The stop and restart policy files (`down-signal`, `timeout-kill`, `timeout-finish`,
//! `./finish` exiting 125, `restart-delay-max`, `restart-limit-count`/`-interval`) under our
//! runsv, driven by our sv and, where it matters, by C's.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{self, Runsv, TempDir};

const LIMIT: Duration = Duration::from_secs(20);

/// A service `s` in `tmp`, wanted down, with `files` (name, contents) beside `run`.
fn service(tmp: &TempDir, run: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = tmp.path().join("s");
    fs::create_dir(&dir).unwrap();
    util::script(&dir.join("run"), run);
    fs::write(dir.join("down"), "").unwrap();
    for (name, text) in files {
        fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn sv_with(sv: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(sv).args(args).arg(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sv(dir: &Path, args: &[&str]) -> (i32, String) {
    sv_with(&util::bin("sv"), dir, args)
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_default()
}

/// Records each signal it gets in `sigs` (after its traps are set: `trapped.<pid>` exists).
/// Not INT or QUIT: a shell started with them ignored (a test run in the background) cannot
/// trap them.
const RECORDS: &str = "#!/bin/sh\n\
    for s in TERM USR1 USR2 HUP; do trap \"echo $s >>sigs; [ $s = TERM ] && exit 0; [ -e die-on-$s ] && exit 0\" $s; done\n\
    : >trapped.$$\nwhile :; do sleep 0.05; done\n";

/// Waits until the current run set its traps (it says so in `trapped` or `trapped.<pid>`).
fn wait_trapped(dir: &Path) {
    util::wait_for("./run to set its traps", LIMIT, || {
        let pid = read(dir, "supervise/pid");
        let pid = pid.trim();
        !pid.is_empty()
            && (dir.join(format!("trapped.{pid}")).exists() || dir.join("trapped").exists())
    });
}

#[test]
fn down_signal_replaces_term_for_down_but_not_for_term() {
    let tmp = TempDir::new("policy-down-signal");
    let dir = service(&tmp, RECORDS, &[("down-signal", "SIGUSR1\n"), ("die-on-USR1", "")]);
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    // `sv term` is TERM still; the run exits on it and is restarted (wanted up).
    let (code, out) = sv(&dir, &["-w", "10", "term"]);
    assert_eq!(code, 0, "{out}");
    util::wait_for("TERM recorded", LIMIT, || read(&dir, "sigs").contains("TERM"));
    wait_trapped(&dir);
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(read(&dir, "sigs"), "TERM\nUSR1\n");
}

#[test]
fn timeout_kill_ends_a_run_that_ignores_its_down_signal() {
    let tmp = TempDir::new("policy-timeout-kill");
    let dir = service(
        &tmp,
        "#!/bin/sh\ntrap '' TERM HUP\n: >trapped\nexec sleep 1000\n",
        &[("down-signal", "HUP"), ("timeout-kill", "400")],
    );
    let r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!((code, out.starts_with("ok: down: ")), (0, true), "{out}");
    assert!(r.stderr().contains("outlived its time limit: sending KILL"), "{}", r.stderr());
    assert!(
        read(&dir, "supervise/runs").contains(" last=signal:9 "),
        "{}",
        read(&dir, "supervise/runs")
    );
}

#[test]
fn without_timeout_kill_runsv_never_kills() {
    let tmp = TempDir::new("policy-no-kill");
    let dir = service(&tmp, "#!/bin/sh\ntrap '' TERM\n: >trapped\nexec sleep 1000\n", &[]);
    let r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    let (code, out) = sv(&dir, &["-w", "1", "down"]);
    assert_eq!((code, out.starts_with("timeout: run: ")), (1, true), "{out}");
    assert!(!r.stderr().contains("KILL"), "{}", r.stderr());
}

#[test]
fn force_stop_waits_for_the_services_own_timeout_kill() {
    let tmp = TempDir::new("policy-force-stop");
    let dir = service(
        &tmp,
        "#!/bin/sh\ntrap '' TERM\n: >trapped\nexec sleep 1000\n",
        &[("timeout-kill", "2500")],
    );
    let r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    // -w 1 is shorter than the service's 2.5 s: sv does not kill it first; runsv does, and
    // sv reports it down.
    let (code, out) = sv(&dir, &["-w", "1", "force-stop"]);
    assert_eq!((code, out.starts_with("ok: down: ")), (0, true), "{out}");
    assert!(r.stderr().contains("outlived its time limit"), "{}", r.stderr());
}

#[test]
fn restart_stops_with_the_down_signal_and_cs_sv_sends_term() {
    let tmp = TempDir::new("policy-restart");
    let dir = service(&tmp, RECORDS, &[("down-signal", "usr2"), ("die-on-USR2", "")]);
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    let pid = read(&dir, "supervise/pid");
    let (code, out) = sv(&dir, &["-w", "10", "restart"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(read(&dir, "supervise/pid"), pid);
    assert_eq!(read(&dir, "sigs"), "USR2\n");
    let Some(c_sv) = util::peer("runit", "usr/bin/sv") else { return };
    wait_trapped(&dir);
    let (code, out) = sv_with(&c_sv, &dir, &["-w", "10", "restart"]);
    assert_eq!(code, 0, "{out}");
    // C's sv knows no stop policy: its restart is TERM, as it always was. (C's sv may answer
    // before the signal arrived: it compares whole seconds.)
    util::wait_for("TERM", LIMIT, || read(&dir, "sigs").len() > "USR2\n".len());
    assert_eq!(read(&dir, "sigs"), "USR2\nTERM\n");
}

#[test]
fn timeout_finish_kills_a_finish_that_hangs() {
    let tmp = TempDir::new("policy-timeout-finish");
    let dir = service(&tmp, "#!/bin/sh\nexec sleep 1000\n", &[("timeout-finish", "300")]);
    util::script(&dir.join("finish"), "#!/bin/sh\necho >>finished\nexec sleep 1000\n");
    let r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!((code, out.starts_with("ok: down: ")), (0, true), "{out}");
    assert!(r.stderr().contains("./finish (pid"), "{}", r.stderr());
}

#[test]
fn finish_125_keeps_it_down_until_asked() {
    let tmp = TempDir::new("policy-finish-125");
    let dir = service(&tmp, "#!/bin/sh\n[ -e ran ] && exec sleep 1000\n: >ran\nexit 3\n", &[]);
    util::script(&dir.join("finish"), "#!/bin/sh\n[ \"$1\" = 3 ] && exit 125\nexit 0\n");
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    util::wait_for("the hold", LIMIT, || sv(&dir, &["status"]).1.contains("held down"));
    let (_, out) = sv(&dir, &["status"]);
    assert!(
        out.starts_with("down: ") && out.trim_end().ends_with(", held down by ./finish (125)"),
        "{out}"
    );
    assert!(r.stderr().contains("./finish exited 125"), "{}", r.stderr());
    let (code, out) = sv(&dir, &["-w", "10", "up"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("held down"), "{out}");
}

#[test]
fn backoff_and_limit_give_up_and_up_starts_afresh() {
    let tmp = TempDir::new("policy-limit");
    let dir = service(
        &tmp,
        "#!/bin/sh\necho >>runs\nexit 1\n",
        &[
            ("restart-delay-max", "2000"),
            ("restart-limit-count", "2"),
            ("restart-limit-interval", "60000"),
        ],
    );
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    util::wait_for("runsv to give up", LIMIT, || sv(&dir, &["status"]).1.contains(", failed: "));
    let (_, out) = sv(&dir, &["status"]);
    assert!(out.trim_end().ends_with(", failed: restarted too often"), "{out}");
    // The first run and two restarts.
    assert_eq!(read(&dir, "runs").lines().count(), 3);
    let runs = read(&dir, "supervise/runs");
    assert!(
        runs.starts_with("restarts=2 last=exit:1 ") && runs.ends_with(" failed=limit\n"),
        "{runs}"
    );
    let err = r.stderr();
    assert_eq!(err.matches("not restarting until told to").count(), 1, "{err}");
    // `sv up` starts it at once, and counting starts again.
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    util::wait_for("the mark to go", LIMIT, || {
        read(&dir, "supervise/runs").ends_with(" failed=no\n")
    });
    util::wait_for("the fourth run", LIMIT, || read(&dir, "runs").lines().count() >= 4);
}

#[test]
fn bad_files_are_named_once_per_use_and_cs_behaviour_stands() {
    let tmp = TempDir::new("policy-bad");
    let dir = service(
        &tmp,
        RECORDS,
        &[
            ("down-signal", "999"),
            ("timeout-kill", "-5"),
            ("timeout-finish", "soon"),
            ("restart-delay-max", "99999999999999999999"),
            ("restart-limit-count", "x"),
        ],
    );
    let r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!(code, 0, "{out}");
    // Stopped with TERM, as C.
    assert_eq!(read(&dir, "sigs"), "TERM\n");
    let err = r.stderr();
    for (file, text) in [
        ("down-signal", "\"999\""),
        ("timeout-kill", "\"-5\""),
        ("timeout-finish", "\"soon\""),
        ("restart-delay-max", "\"99999999999999999999\""),
        ("restart-limit-count", "\"x\""),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("./{file}: ")))
            .unwrap_or_else(|| panic!("{file}: {err}"));
        assert!(line.contains(text), "{line}");
    }
    assert!(
        err.lines().all(|l| l.starts_with(&format!("runsv {}: warning: ", dir.display()))),
        "{err}"
    );
}

#[test]
fn a_directory_without_the_files_is_supervised_as_by_c() {
    let tmp = TempDir::new("policy-none");
    let dir = service(&tmp, "#!/bin/sh\nexit 1\n", &[]);
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    // Restarted once a second, forever: never given up.
    util::wait_for("five restarts", LIMIT, || {
        read(&dir, "supervise/runs")
            .split(' ')
            .next()
            .and_then(|f| f.strip_prefix("restarts="))
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 5)
    });
    assert!(!sv(&dir, &["status"]).1.contains("failed"));
    assert_eq!(r.stderr(), "");
}

#[test]
fn example_game_server_saves_on_its_down_signal_and_holds_on_a_bad_config() {
    let tmp = TempDir::new("example-game");
    let dir = tmp.path().join("game-server");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/services/game-server");
    assert!(Command::new("cp").arg("-R").arg(&from).arg(&dir).status().unwrap().success());
    fs::write(dir.join("down"), "").unwrap();
    let r = Runsv::start(&util::bin("runsv"), &dir);
    // No configuration: ./run exits 78, ./finish holds it down.
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    util::wait_for("the hold", LIMIT, || {
        sv(&dir, &["status"]).1.contains("held down by ./finish (125)")
    });
    assert!(read(&dir, "supervise/runs").contains(" last=exit:78 "));
    fs::write(dir.join("world.conf"), "").unwrap();
    let (code, out) = sv(&dir, &["-w", "10", "up"]);
    assert_eq!(code, 0, "{out}");
    util::wait_for("serving", LIMIT, || dir.join("serving").exists());
    // Stopped with USR1, it saves and exits by itself, long before two minutes.
    let (code, out) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!((code, out.starts_with("ok: down: ")), (0, true), "{out}");
    assert_eq!(read(&dir, "state"), "saved\n");
    assert!(!r.stderr().contains("KILL"), "{}", r.stderr());
}

#[test]
fn a_control_d_script_with_a_down_signal_under_cs_sv() {
    let Some(c_sv) = util::peer("runit", "usr/bin/sv") else { return };
    let tmp = TempDir::new("policy-control-d");
    let dir = service(&tmp, RECORDS, &[("die-on-HUP", "")]);
    fs::create_dir(dir.join("control")).unwrap();
    util::script(&dir.join("control/d"), "#!/bin/sh\necho control-d >>sigs\n");
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    assert_eq!(sv(&dir, &["-w", "10", "start"]).0, 0);
    wait_trapped(&dir);
    // Declared while the service runs: in force at the next stop.
    fs::write(dir.join("down-signal"), "hup").unwrap();
    let (code, out) = sv_with(&c_sv, &dir, &["-w", "10", "down"]);
    assert_eq!(code, 0, "{out}");
    util::wait_for("the run to end", LIMIT, || read(&dir, "sigs").contains("HUP"));
    util::wait_for("control/d", LIMIT, || read(&dir, "sigs").contains("control-d"));
    let sigs = read(&dir, "sigs");
    assert!(sigs == "HUP\ncontrol-d\n" || sigs == "control-d\nHUP\n", "{sigs}");
    // Removed: TERM again at the next stop.
    fs::remove_file(dir.join("down-signal")).unwrap();
    fs::write(dir.join("sigs"), "").unwrap();
    assert_eq!(sv(&dir, &["-w", "10", "up"]).0, 0);
    wait_trapped(&dir);
    assert_eq!(sv_with(&c_sv, &dir, &["-w", "10", "down"]).0, 0);
    util::wait_for("TERM", LIMIT, || read(&dir, "sigs").contains("TERM"));
}
