//! `sv -j`: JSON Lines for machines, against our runsv and C's, with the exit codes of the same
//! command without `-j`.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{self, Runsv, TempDir};

const LIMIT: Duration = Duration::from_secs(20);

fn sv(args: &[&str]) -> (i32, String) {
    let out = Command::new(util::bin("sv")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every line is one JSON object, as a JSON parser (Python's, where there is one) reads it.
fn assert_json_lines(out: &str) {
    assert!(
        out.ends_with('\n') && out.lines().all(|l| l.starts_with('{') && l.ends_with('}')),
        "{out}"
    );
    let Ok(mut py) = Command::new("python3")
        .args(["-c", "import json,sys\nfor l in sys.stdin: json.loads(l)"])
        .stdin(Stdio::piped())
        .spawn()
    else {
        eprintln!("note: no python3 here: JSON checked by shape only");
        return;
    };
    std::io::Write::write_all(py.stdin.as_mut().unwrap(), out.as_bytes()).unwrap();
    drop(py.stdin.take());
    assert!(py.wait().unwrap().success(), "not JSON: {out}");
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &line[at..];
    let end = if rest.starts_with('{') {
        rest.find('}')? + 1
    } else if let Some(r) = rest.strip_prefix('"') {
        r.find('"')? + 2
    } else {
        rest.find([',', '}'])?
    };
    Some(&rest[..end])
}

fn logged_service(tmp: &TempDir) -> PathBuf {
    let dir = tmp.path().join("web");
    fs::create_dir(&dir).unwrap();
    util::script(&dir.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    fs::create_dir(dir.join("log")).unwrap();
    util::script(&dir.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    fs::write(dir.join("down"), "").unwrap();
    dir
}

#[test]
fn status_and_waiting_commands_print_one_object_each() {
    let tmp = TempDir::new("json-status");
    let dir = logged_service(&tmp);
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let d = dir.to_str().unwrap();
    let (code, out) = sv(&["-j", "status", d]);
    assert_eq!(code, 0);
    assert_json_lines(&out);
    for (k, v) in [
        ("schema", "1"),
        ("result", "null"),
        ("state", "\"down\""),
        ("pid", "null"),
        ("normally", "\"down\""),
        ("want", "null"),
        ("ready", "null"),
        ("restarts", "0"),
        ("last_exit", "null"),
        ("failed", "false"),
        ("cgroup", "null"),
    ] {
        assert_eq!(field(&out, k), Some(v), "{k}: {out}");
    }
    assert_eq!(field(&out, "service"), Some(format!("\"{d}\"").as_str()));
    let (code, out) = sv(&["-j", "-w", "5", "start", d]);
    assert_eq!(code, 0, "{out}");
    assert_json_lines(&out);
    assert_eq!(field(&out, "result"), Some("\"ok\""));
    assert_eq!(field(&out, "state"), Some("\"run\""));
    let pid = fs::read_to_string(dir.join("supervise/pid")).unwrap();
    assert_eq!(field(&out, "pid"), Some(pid.trim()));
    let log = field(&out, "log").unwrap();
    assert_eq!(field(log, "state"), Some("\"run\""), "{log}");
    // Without -w, `cont` is sent and the status after it printed.
    let (code, out) = sv(&["-j", "cont", d]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(field(&out, "result"), Some("\"sent\""));
    // A restart: the last exit is recorded.
    let (code, out) = sv(&["-j", "-w", "5", "restart", d]);
    assert_eq!(code, 0, "{out}");
    let last = field(&out, "last_exit").unwrap();
    assert_eq!(field(last, "signal"), Some("15"), "{out}");
    assert_eq!(field(&out, "restarts"), Some("1"), "{out}");
}

#[test]
fn errors_are_objects_and_exit_codes_are_svs() {
    let tmp = TempDir::new("json-errors");
    let dir = logged_service(&tmp);
    let d = dir.to_str().unwrap();
    let missing = tmp.path().join("nope");
    let m = missing.to_str().unwrap();
    // No runsv, and no directory: one object each, exit code 2 as without -j.
    let (code, out) = sv(&["-j", "status", d, m]);
    let (text_code, _) = sv(&["status", d, m]);
    assert_eq!(code, text_code);
    assert_eq!(code, 2);
    assert_json_lines(&out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        field(lines[0], "error").unwrap().starts_with("\"unable to open supervise/ok"),
        "{out}"
    );
    assert!(field(lines[1], "error")
        .unwrap()
        .starts_with("\"unable to change to service directory"));
    // A timeout: the object says so, exit 1.
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    util::script(&dir.join("check"), "#!/bin/sh\nexit 1\n");
    let (code, out) = sv(&["-j", "-w", "1", "start", d]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(field(&out, "result"), Some("\"timeout\""), "{out}");
    // `exit`: the result and the status after it.
    let (code, out) = sv(&["-j", "exit", d]);
    assert_eq!(code, 0, "{out}");
    assert_json_lines(&out);
    assert_eq!(field(&out, "result"), Some("\"sent\""), "{out}");
}

#[test]
fn c_runsv_gives_nulls_for_what_it_does_not_record() {
    let Some(c_runsv) = util::peer("runit", "usr/bin/runsv") else { return };
    let tmp = TempDir::new("json-c");
    let dir = logged_service(&tmp);
    let _r = Runsv::start(&c_runsv, &dir);
    let d = dir.to_str().unwrap();
    let (code, out) = sv(&["-j", "-w", "5", "start", d]);
    assert_eq!(code, 0, "{out}");
    assert_json_lines(&out);
    assert_eq!(field(&out, "state"), Some("\"run\""));
    for k in ["restarts", "last_exit", "failed", "ready"] {
        assert_eq!(field(&out, k), Some("null"), "{k}: {out}");
    }
}

/// `sv watch`'s lines as they come.
struct Lines {
    read: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    seen: Vec<String>,
}

impl Lines {
    fn of(child: &mut Child) -> Lines {
        use std::io::BufRead;
        Lines {
            read: std::io::BufReader::new(child.stdout.take().unwrap()).lines(),
            seen: Vec::new(),
        }
    }

    /// Reads `n` lines.
    fn take(&mut self, n: usize) {
        for _ in 0..n {
            let line = self.read.next().expect("sv watch ended early").unwrap();
            self.seen.push(line);
        }
    }

    /// Reads lines until one satisfies `want` (panics at the end of the output).
    fn until(&mut self, what: &str, want: impl Fn(&str) -> bool) {
        for line in self.read.by_ref() {
            let line = line.unwrap();
            let hit = want(&line);
            self.seen.push(line);
            if hit {
                return;
            }
        }
        panic!("sv watch ended before {what}: {:?}", self.seen);
    }
}

#[test]
fn watch_reports_changes_until_the_runsv_is_gone() {
    let tmp = TempDir::new("json-watch");
    let a = logged_service(&tmp);
    let b = tmp.path().join("b");
    fs::create_dir(&b).unwrap();
    util::script(&b.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    let ra = Runsv::start(&util::bin("runsv"), &a);
    let _rb = Runsv::start(&util::bin("runsv"), &b);
    let (da, db) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(sv(&["-w", "5", "check", db]).0, 0);
    let gone = tmp.path().join("gone");
    fs::create_dir(&gone).unwrap();
    let mut w = Command::new(util::bin("sv"))
        .args(["-w", "60", "watch", da, db, gone.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::of(&mut w);
    let is = |svc: &str, text: &str, l: &str| {
        l.contains(&format!("\"service\":\"{svc}\"")) && l.contains(text)
    };
    // One line per service first, in any order.
    lines.take(3);
    assert!(lines.seen.iter().any(|l| is(db, "\"state\":\"run\"", l)), "{:?}", lines.seen);
    assert!(lines.seen.iter().any(|l| is(da, "\"state\":\"down\"", l)), "{:?}", lines.seen);
    // `gone` has no runsv (no supervise at all): an error object.
    assert_eq!(
        lines.seen.iter().filter(|l| l.contains("\"error\":")).count(),
        1,
        "{:?}",
        lines.seen
    );
    assert_eq!(sv(&["-w", "5", "up", da]).0, 0);
    lines.until("A running", |l| is(da, "\"state\":\"run\"", l));
    // A's runsv goes away, and comes back: picked up while B keeps the watch going.
    fs::write(a.join("down"), "").unwrap();
    assert_eq!(sv(&["-w", "5", "exit", da]).0, 0);
    drop(ra);
    lines.until("A's runsv gone", |l| is(da, "runsv not running", l));
    let _ra = Runsv::start(&util::bin("runsv"), &a);
    lines.until("A's new runsv", |l| is(da, "\"result\":\"watch\"", l));
    // B's runsv goes too: nothing is left, and watch ends by itself.
    assert_eq!(sv(&["-w", "5", "exit", da, db]).0, 0);
    for line in lines.read.by_ref() {
        lines.seen.push(line.unwrap());
    }
    let st = util::wait_exit("sv watch", LIMIT, &mut w);
    let all: String = lines.seen.iter().map(|l| format!("{l}\n")).collect();
    assert_json_lines(&all);
    assert!(st.code().is_some(), "{all}");
    assert!(lines.seen.last().is_some_and(|l| l.contains("runsv not running")), "{all}");
}

#[test]
fn watch_a_directory_that_goes_away_is_one_error_and_the_rest_go_on() {
    let tmp = TempDir::new("json-watch-gone");
    let a = logged_service(&tmp);
    let b = tmp.path().join("b");
    fs::create_dir(&b).unwrap();
    util::script(&b.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    let ra = Runsv::start(&util::bin("runsv"), &a);
    let _rb = Runsv::start(&util::bin("runsv"), &b);
    let (da, db) = (a.to_str().unwrap(), b.to_str().unwrap());
    assert_eq!(sv(&["-w", "5", "check", db]).0, 0);
    let mut w = Command::new(util::bin("sv"))
        .args(["-w", "60", "watch", da, db])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Lines::of(&mut w);
    lines.take(2);
    assert_eq!(sv(&["-w", "5", "exit", da]).0, 0);
    drop(ra);
    fs::remove_dir_all(&a).unwrap();
    lines.until("A's runsv gone", |l| l.contains(da) && l.contains("runsv not running"));
    // B still watched: its change is reported.
    assert_eq!(sv(&["-w", "5", "down", db]).0, 0);
    lines.until("B down", |l| l.contains(db) && l.contains("\"state\":\"down\""));
    assert_eq!(sv(&["-w", "5", "exit", db]).0, 0);
    for line in lines.read.by_ref() {
        lines.seen.push(line.unwrap());
    }
    util::wait_exit("sv watch", LIMIT, &mut w);
    let errors: Vec<&String> =
        lines.seen.iter().filter(|l| l.contains(da) && l.contains("\"error\"")).collect();
    // Gone, then (at the next look) the directory: each said once.
    assert!(errors.len() <= 2 && !errors.is_empty(), "{:?}", lines.seen);
    let lost = lines.seen.iter().filter(|l| l.contains("unable to change to service directory"));
    assert!(lost.count() <= 1, "{:?}", lines.seen);
}

/// examples/services/change-log: `sv watch` as a service, its lines in its svlogd log.
#[test]
fn example_change_log_records_changes_in_its_log() {
    let tmp = TempDir::new("json-change-log");
    let services = tmp.path().join("service");
    let web = services.join("web");
    fs::create_dir_all(&web).unwrap();
    util::script(&web.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    fs::write(web.join("down"), "").unwrap();
    let _w = Runsv::start(&util::bin("runsv"), &web);
    let example = tmp.path().join("change-log");
    let from =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/services/change-log");
    assert!(Command::new("cp").arg("-R").arg(&from).arg(&example).status().unwrap().success());
    // The example's sv and svlogd are ours, found in $PATH; its $SVDIR is this tree.
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    for p in ["sv", "svlogd"] {
        std::os::unix::fs::symlink(util::bin(p), bin.join(p)).unwrap();
    }
    let _c = {
        let r = Command::new(util::bin("runsv"))
            .arg(&example)
            .env("SVDIR", &services)
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        KillOnDrop(r, example.clone())
    };
    let current = example.join("log/main/current");
    util::wait_for("the first line", LIMIT, || {
        fs::read_to_string(&current).is_ok_and(|t| t.contains("\"state\":\"down\""))
    });
    assert_eq!(sv(&["-w", "5", "up", web.to_str().unwrap()]).0, 0);
    util::wait_for("the change", LIMIT, || {
        fs::read_to_string(&current).is_ok_and(|t| t.contains("\"state\":\"run\""))
    });
    let text = fs::read_to_string(&current).unwrap();
    assert!(text.lines().all(|l| l.contains(" {\"schema\":1,\"service\":\"./web/\"")), "{text}");
}

/// A runsv started by hand with its own environment; killed with its service and log.
struct KillOnDrop(Child, PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ =
            Command::new(util::bin("sv")).args(["-w", "5", "force-shutdown"]).arg(&self.1).output();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
