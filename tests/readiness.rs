//! Readiness through `notification-fd`: runsv records it in `supervise/readiness`, sv waits for
//! it and shows it; a service that declares nothing (or declares it badly) behaves as under C.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{self, Runsv, TempDir};

const LIMIT: Duration = Duration::from_secs(20);
/// Ready (a newline on fd 3, after some other bytes) once the file `go` exists.
const READY_ON_GO: &str =
    "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\nprintf 'hello\\n' >&3\nexec sleep 1000\n";

fn service(tmp: &TempDir, run: &str, fd: Option<&str>) -> PathBuf {
    let dir = tmp.path().join("s");
    fs::create_dir(&dir).unwrap();
    util::script(&dir.join("run"), run);
    fs::write(dir.join("down"), "").unwrap();
    if let Some(fd) = fd {
        fs::write(dir.join("notification-fd"), fd).unwrap();
    }
    dir
}

fn sv(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(util::bin("sv")).args(args).arg(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What follows `, ready <N>s` in a status line (the age is whatever second it is).
fn after_ready(out: &str) -> Option<&str> {
    let rest = &out[out.find(", ready ")? + ", ready ".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then_some(())?;
    rest[digits..].strip_prefix('s')
}

fn readiness(dir: &Path) -> String {
    fs::read_to_string(dir.join("supervise/readiness")).unwrap_or_default()
}

/// Waits until the current run has lasted `secs` whole seconds (by the status record).
fn wait_up_for(dir: &Path, secs: u64) {
    util::wait_for("the run to last", LIMIT, || {
        let (_, out) = sv(dir, &["status"]);
        out.split(") ")
            .nth(1)
            .and_then(|r| r.split('s').next()?.parse::<u64>().ok())
            .is_some_and(|age| age >= secs)
    });
}

#[test]
fn start_waits_for_the_notification() {
    let tmp = TempDir::new("ready-start");
    let dir = service(&tmp, READY_ON_GO, Some("3\n"));
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let mut waiting = Command::new(util::bin("sv"))
        .args(["-w", "20", "start"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Up for a second and more, long past the rule for services without readiness: still
    // waited for, and shown as starting.
    wait_up_for(&dir, 1);
    assert!(readiness(&dir).starts_with("starting "), "{}", readiness(&dir));
    let (code, out) = sv(&dir, &["status"]);
    assert_eq!(code, 0);
    assert!(out.contains("s, starting, normally down"), "{out}");
    let (code, out) = sv(&dir, &["-w", "0", "check"]);
    assert_eq!((code, out.starts_with("timeout: ")), (1, true), "{out}");
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "sv start returned before the service was ready"
    );
    fs::write(dir.join("go"), "").unwrap();
    let st = util::wait_exit("sv start", LIMIT, &mut waiting);
    let mut out = String::new();
    std::io::Read::read_to_string(waiting.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(util::code(st), 0, "{out}");
    assert!(out.starts_with("ok: run: ") && after_ready(&out).is_some(), "{out}");
    let r = readiness(&dir);
    let pid = fs::read_to_string(dir.join("supervise/pid")).unwrap();
    assert_eq!(r.split(' ').nth(2), Some(pid.trim()), "{r}");
    assert!(r.starts_with("ready "), "{r}");
    let (code, out) = sv(&dir, &["-w", "1", "check"]);
    assert_eq!((code, out.starts_with("ok: ")), (0, true), "{out}");
}

#[test]
fn each_run_starts_not_ready() {
    let tmp = TempDir::new("ready-restart");
    let dir = service(&tmp, READY_ON_GO, Some("3"));
    fs::write(dir.join("go"), "").unwrap();
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "10", "start"]);
    assert_eq!(code, 0, "{out}");
    fs::remove_file(dir.join("go")).unwrap();
    let (code, out) = sv(&dir, &["-w", "1", "restart"]);
    assert_eq!((code, out.starts_with("timeout: ")), (1, true), "{out}");
    // The new run (after runsv's one-second throttle) is starting, and stays so.
    util::wait_for("the new run", LIMIT, || readiness(&dir).starts_with("starting "));
    fs::write(dir.join("go"), "").unwrap();
    let (code, out) = sv(&dir, &["-w", "10", "check"]);
    assert_eq!(code, 0, "{out}");
    // Down: no readiness file, and status as C prints it.
    let (code, _) = sv(&dir, &["-w", "10", "down"]);
    assert_eq!(code, 0);
    assert!(!dir.join("supervise/readiness").exists());
}

#[test]
fn never_ready_times_out_as_c_does() {
    let tmp = TempDir::new("ready-never");
    // The pipe closed without a newline: never ready for this run.
    let dir = service(
        &tmp,
        "#!/bin/sh\nprintf 'no newline' >&3\nexec 3>&-\nexec sleep 1000\n",
        Some("3"),
    );
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "1", "start"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("timeout: run: "), "{out}");
    // runsv is not held up by it.
    let (code, out) = sv(&dir, &["-w", "5", "down"]);
    assert_eq!((code, out.starts_with("ok: down: ")), (0, true), "{out}");
}

#[test]
fn bad_declarations_run_without_readiness() {
    let run = "#!/bin/sh\nexec sleep 1000\n";
    for bad in ["x", "0", "1", "2", "-3", "", "99999999"] {
        let tmp = TempDir::new("ready-bad");
        let dir = service(&tmp, run, Some(bad));
        let r = Runsv::start(&util::bin("runsv"), &dir);
        let (code, out) = sv(&dir, &["-w", "5", "start"]);
        assert_eq!(code, 0, "{bad:?}: {out}");
        assert!(!out.contains(", ready") && !out.contains(", starting"), "{bad:?}: {out}");
        assert!(!dir.join("supervise/readiness").exists(), "{bad:?}");
        let (code, _) = sv(&dir, &["-w", "5", "restart"]);
        assert_eq!(code, 0);
        let err = r.stderr();
        let lines: Vec<&str> = err.lines().filter(|l| l.contains("notification-fd")).collect();
        // Once per start, one line each.
        assert_eq!(lines.len(), 2, "{bad:?}: {err}");
        assert!(lines[0].contains("starting without readiness"), "{bad:?}: {err}");
    }
}

#[test]
fn undeclared_service_is_shown_exactly_as_by_c() {
    let Some(c_sv) = util::peer("runit", "usr/bin/sv") else { return };
    let tmp = TempDir::new("ready-none");
    let dir = service(&tmp, "#!/bin/sh\nexec sleep 1000\n", None);
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["-w", "5", "start"]);
    assert_eq!(code, 0);
    assert!(!dir.join("supervise/readiness").exists());
    let ours = sv(&dir, &["status"]);
    let out = Command::new(c_sv).arg("status").arg(&dir).output().unwrap();
    let theirs =
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned());
    // The same line but for the age, which two calls may see in different seconds.
    let age_free = |(code, line): (i32, String)| {
        let (head, tail) = line.split_once(") ").unwrap_or((&line, ""));
        let tail = tail.trim_start_matches(|c: char| c.is_ascii_digit());
        (code, format!("{head}) N{tail}"))
    };
    assert_eq!(age_free(ours), age_free(theirs));
}

#[test]
fn run_waits_for_a_log_that_declares_readiness() {
    let tmp = TempDir::new("ready-log");
    let dir = service(&tmp, "#!/bin/sh\necho started\nexec sleep 1000\n", None);
    fs::remove_file(dir.join("down")).unwrap();
    fs::create_dir(dir.join("log")).unwrap();
    util::script(
        &dir.join("log/run"),
        "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\necho >&4\nexec cat >out\n",
    );
    fs::write(dir.join("log/notification-fd"), "4\n").unwrap();
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    util::wait_for("the log to start", LIMIT, || {
        fs::read_to_string(dir.join("log/supervise/readiness"))
            .is_ok_and(|r| r.starts_with("starting "))
    });
    wait_up_for(&dir.join("log"), 1);
    let (_, out) = sv(&dir, &["status"]);
    assert!(out.starts_with("down: "), "./run started before its log was ready: {out}");
    fs::write(dir.join("log/go"), "").unwrap();
    util::wait_for("./run's line in the log", LIMIT, || {
        fs::read_to_string(dir.join("log/out")).is_ok_and(|o| o == "started\n")
    });
    let (_, out) = sv(&dir, &["status"]);
    assert!(
        out.starts_with("run: ") && out.contains("; run: log: ") && out.contains(", ready "),
        "{out}"
    );
}

#[test]
fn run_starts_anyway_when_the_log_is_never_ready() {
    let tmp = TempDir::new("ready-log-never");
    let dir = service(&tmp, "#!/bin/sh\nexec sleep 1000\n", None);
    fs::remove_file(dir.join("down")).unwrap();
    fs::create_dir(dir.join("log")).unwrap();
    util::script(&dir.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    fs::write(dir.join("log/notification-fd"), "4").unwrap();
    let r = Runsv::start(&util::bin("runsv"), &dir);
    util::wait_for("./run to start after the wait", Duration::from_secs(30), || {
        sv(&dir, &["status"]).1.starts_with("run: ")
    });
    assert!(
        r.stderr().contains("./log/run is not ready after 10 s: starting ./run anyway"),
        "{}",
        r.stderr()
    );
}

/// Debian's systemd-notify (the sd_notify client most run scripts would use); required when
/// `RUNIT_REQUIRE_PEERS=1`, as the C peers are.
fn systemd_notify() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/systemd-notify");
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("RUNIT_REQUIRE_PEERS").is_some_and(|v| v == "1") {
        panic!("{} missing: ci/test installs the systemd package", p.display());
    }
    eprintln!("skipped: {} missing", p.display());
    None
}

fn socket_service(tmp: &TempDir, run: &str) -> PathBuf {
    let dir = service(tmp, run, None);
    fs::write(dir.join("notification-socket"), "").unwrap();
    dir
}

/// The value of `name` in the environment of the service's current run.
fn run_env(dir: &Path, name: &str) -> Option<String> {
    let pid = fs::read_to_string(dir.join("supervise/pid")).ok()?;
    let env = fs::read(format!("/proc/{}/environ", pid.trim())).ok()?;
    env.split(|&b| b == 0).find_map(|kv| {
        let kv = String::from_utf8_lossy(kv);
        kv.strip_prefix(&format!("{name}=")).map(str::to_owned)
    })
}

#[test]
fn sd_notify_ready_and_status_text() {
    let Some(_) = systemd_notify() else { return };
    let tmp = TempDir::new("sdnotify");
    let dir = socket_service(
        &tmp,
        "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\n\
         systemd-notify --ready --status='serving on :80'\nexec sleep 1000\n",
    );
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let mut waiting = Command::new(util::bin("sv"))
        .args(["-w", "20", "start"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    util::wait_for("the run to get NOTIFY_SOCKET", LIMIT, || {
        run_env(&dir, "NOTIFY_SOCKET").is_some()
    });
    let addr = run_env(&dir, "NOTIFY_SOCKET").unwrap();
    // An abstract name where there are such (nothing in the file system), else a path.
    assert!(addr.starts_with("@runit-rs/notify/") || addr.starts_with('/'), "{addr}");
    assert!(readiness(&dir).starts_with("starting "));
    assert!(waiting.try_wait().unwrap().is_none());
    fs::write(dir.join("go"), "").unwrap();
    let st = util::wait_exit("sv start", LIMIT, &mut waiting);
    let mut out = String::new();
    std::io::Read::read_to_string(waiting.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(util::code(st), 0, "{out}");
    assert_eq!(after_ready(&out), Some(", \"serving on :80\", normally down\n"), "{out}");
}

#[test]
fn only_the_service_can_make_itself_ready() {
    let Some(notify) = systemd_notify() else { return };
    if !util::root_or_skip("the outsider as nobody") {
        return;
    }
    let tmp = TempDir::new("sdnotify-outsider");
    // Says one status text from inside once told to: every datagram sent before it has been
    // handled by then (one socket, one queue).
    let dir = socket_service(
        &tmp,
        "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\n\
         systemd-notify --status=inside\nexec sleep 1000\n",
    );
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    util::wait_for("the run to get NOTIFY_SOCKET", LIMIT, || {
        run_env(&dir, "NOTIFY_SOCKET").is_some()
    });
    let addr = run_env(&dir, "NOTIFY_SOCKET").unwrap();
    // Root from outside the service, and nobody.
    let st = Command::new(&notify)
        .arg("--ready")
        .arg("--status=outsider")
        .env("NOTIFY_SOCKET", &addr)
        .status()
        .unwrap();
    assert!(st.success());
    let st = Command::new(util::bin("chpst"))
        .args(["-u", "nobody"])
        .arg(&notify)
        .arg("--ready")
        .env("NOTIFY_SOCKET", &addr)
        .status()
        .unwrap();
    assert!(st.success());
    fs::write(dir.join("go"), "").unwrap();
    util::wait_for("the service's own status text", LIMIT, || {
        readiness(&dir).ends_with(" inside\n")
    });
    assert!(readiness(&dir).starts_with("starting "), "{}", readiness(&dir));
}

#[test]
fn a_service_that_drops_privileges_still_notifies() {
    let Some(_) = systemd_notify() else { return };
    if !util::root_or_skip("chpst -u nobody") {
        return;
    }
    let tmp = TempDir::new("sdnotify-nobody");
    let chpst = util::bin("chpst");
    let dir = socket_service(
        &tmp,
        &format!(
            "#!/bin/sh\nexec {} -u nobody sh -c 'systemd-notify --ready; exec sleep 1000'\n",
            chpst.display()
        ),
    );
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "10", "start"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(", ready "), "{out}");
}

#[test]
fn watchdog_missed_is_a_crash_and_pings_keep_it_alive() {
    let Some(_) = systemd_notify() else { return };
    let tmp = TempDir::new("sdnotify-watchdog");
    let dir = socket_service(
        &tmp,
        "#!/bin/sh\necho \"$WATCHDOG_USEC $WATCHDOG_PID $$\" >>wd.env\nsystemd-notify --ready\nexec sleep 1000\n",
    );
    fs::write(dir.join("timeout-watchdog"), "300\n").unwrap();
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "10", "start"]);
    assert_eq!(code, 0, "{out}");
    // No pings: ABRT after 300 ms, then runsv restarts it as after any crash.
    util::wait_for("a second run", LIMIT, || {
        fs::read_to_string(dir.join("wd.env")).is_ok_and(|t| t.lines().count() >= 2)
    });
    let env = fs::read_to_string(dir.join("wd.env")).unwrap();
    for line in env.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[0], "300000", "{env}");
        assert_eq!(f[1], f[2], "WATCHDOG_PID is not the run's pid: {env}");
    }
    assert!(
        r.stderr().contains("missed its watchdog deadline (300 ms): sending ABRT"),
        "{}",
        r.stderr()
    );
    drop(r);

    let tmp = TempDir::new("sdnotify-pings");
    let dir = socket_service(
        &tmp,
        "#!/bin/sh\nsystemd-notify --ready\nwhile :; do systemd-notify WATCHDOG=1; sleep 0.1; done\n",
    );
    fs::write(dir.join("timeout-watchdog"), "1000").unwrap();
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "10", "start"]);
    assert_eq!(code, 0, "{out}");
    let pid = fs::read_to_string(dir.join("supervise/pid")).unwrap();
    wait_up_for(&dir, 3);
    assert_eq!(fs::read_to_string(dir.join("supervise/pid")).unwrap(), pid);
    assert!(!r.stderr().contains("watchdog"), "{}", r.stderr());
}

#[cfg(abstract_sockets)]
#[test]
fn a_socket_that_cannot_be_made_still_starts_the_service() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let tmp = TempDir::new("sdnotify-taken");
    let dir = socket_service(&tmp, "#!/bin/sh\nexec sleep 1000\n");
    let r = Runsv::start(&util::bin("runsv"), &dir);
    // Takes the name runsv will ask for.
    let name = format!("runit-rs/notify/{}/main", r.child.id());
    let _squatter =
        UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    let (code, out) = sv(&dir, &["-w", "5", "start"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(", starting"), "{out}");
    assert_eq!(run_env(&dir, "NOTIFY_SOCKET"), None);
    let err = r.stderr();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "unable to make the socket for ./notification-socket: starting without NOTIFY_SOCKET"
        ),
        "{err}"
    );
}

/// runsv's resident memory in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn garbage_and_floods_are_ignored() {
    let Some(_) = systemd_notify() else { return };
    let tmp = TempDir::new("sdnotify-garbage");
    let big = "x".repeat(5000);
    // Two floods of junk, each followed by a status text that says it is over: keys nobody
    // knows, values that mean nothing, a key without a value, a datagram too long to keep,
    // and MAINPID= (ignored, said once).
    let flood = |n: u32, end: &str| {
        format!(
            "i=0\nwhile [ $i -lt {n} ]; do systemd-notify \"JUNK$i=1\" 'READY=0' 'STATUS' \
             \"MAINPID=$i\" || exit 9; systemd-notify \"STATUS={big}\" || exit 9; i=$((i+1)); done\n\
             systemd-notify --status={end} || exit 9\n"
        )
    };
    let dir = socket_service(
        &tmp,
        &format!(
            "#!/bin/sh\n{}while [ ! -e go1 ]; do sleep 0.02; done\n{}\
             while [ ! -e go ]; do sleep 0.02; done\nsystemd-notify --ready\nexec sleep 1000\n",
            flood(50, "warm"),
            flood(300, "after")
        ),
    );
    let r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    util::wait_for("the text after the first flood", LIMIT, || {
        readiness(&dir).ends_with(" warm\n")
    });
    let before = rss_kb(r.child.id());
    fs::write(dir.join("go1"), "").unwrap();
    util::wait_for("the text after the second flood", Duration::from_secs(60), || {
        readiness(&dir).ends_with(" after\n")
    });
    let after = rss_kb(r.child.id());
    assert!(after <= before + 16, "runsv grew from {before} to {after} kB over 600 datagrams");
    assert!(readiness(&dir).starts_with("starting "));
    let err = r.stderr();
    assert_eq!(err.matches("MAINPID= is ignored").count(), 1, "{err}");
    fs::write(dir.join("go"), "").unwrap();
    let (code, out) = sv(&dir, &["-w", "10", "check"]);
    assert_eq!(code, 0, "{out}");
}

/// A copy of `examples/services/<name>` in `tmp`, wanted down.
fn example(tmp: &TempDir, name: &str) -> PathBuf {
    let dir = tmp.path().join(name);
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/services").join(name);
    let st = Command::new("cp").arg("-R").arg(&from).arg(&dir).status().unwrap();
    assert!(st.success());
    fs::write(dir.join("down"), "").unwrap();
    dir
}

#[test]
fn example_slow_start_is_ready_when_it_says_so() {
    let tmp = TempDir::new("example-slow");
    let dir = example(&tmp, "slow-start");
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "20", "start"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(after_ready(&out), Some(", normally down\n"), "{out}");
    // Its start-up takes two seconds, all of which sv waited.
    assert!(out.contains("(pid ") && !out.contains(") 0s"), "{out}");
}

/// examples/services/rsyslog with Debian's rsyslogd from the peers (a daemon that sends
/// READY=1 once it serves); `rsyslogd` in `$PATH` is a wrapper that gives it its libraries,
/// its modules and a configuration of the test's own.
#[test]
fn example_rsyslog_a_real_daemon_notifies_when_it_serves() {
    let (Some(rsyslogd), Some(estr), Some(json)) = (
        util::peer("rsyslog", "usr/sbin/rsyslogd"),
        util::peer("libestr0", "usr/lib/x86_64-linux-gnu"),
        util::peer("libfastjson4", "usr/lib/x86_64-linux-gnu"),
    ) else {
        return;
    };
    let modules = rsyslogd.parent().unwrap().parent().unwrap().join("lib/x86_64-linux-gnu/rsyslog");
    let tmp = TempDir::new("example-rsyslog");
    let dir = example(&tmp, "rsyslog");
    let sock = tmp.path().join("log.sock");
    let conf = tmp.path().join("rsyslog.conf");
    let messages = tmp.path().join("messages");
    fs::write(
        &conf,
        format!(
            "module(load=\"imuxsock\" SysSock.Name=\"{}\")\n*.* {}\n",
            sock.display(),
            messages.display()
        ),
    )
    .unwrap();
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    util::script(
        &bin.join("rsyslogd"),
        &format!(
            "#!/bin/sh\nLD_LIBRARY_PATH={}:{} exec {} -f {} -M {} \"$@\"\n",
            estr.display(),
            json.display(),
            rsyslogd.display(),
            conf.display(),
            modules.display()
        ),
    );
    let _r = Runsv::start_with_path(&util::bin("runsv"), &dir, &bin);
    let (code, out) = sv(&dir, &["-w", "20", "start"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(", ready "), "{out}");
    // Ready means serving: its log socket is there.
    assert!(sock.exists(), "rsyslogd said READY=1 before it made {}", sock.display());
}

/// A process of an earlier run that outlived it cannot make the next run ready.
#[test]
fn a_leftover_of_an_earlier_run_is_not_heard() {
    let Some(_) = systemd_notify() else { return };
    let tmp = TempDir::new("sdnotify-leftover");
    // The first run leaves a child behind that notifies once the second run is there.
    let dir = socket_service(
        &tmp,
        "#!/bin/sh\nif [ -e first ]; then echo $$ >second; exec sleep 1000; fi\n: >first\n\
         (while [ ! -e second ]; do sleep 0.02; done; systemd-notify --ready --status=leftover; : >sent) &\n\
         exit 0\n",
    );
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, _) = sv(&dir, &["up"]);
    assert_eq!(code, 0);
    // systemd-notify returns once runsv has read its datagram (BARRIER=1).
    util::wait_for("the leftover to have sent", LIMIT, || dir.join("sent").exists());
    let r = readiness(&dir);
    assert!(r.starts_with("starting ") && !r.contains("leftover"), "{r}");
    let second = fs::read_to_string(dir.join("second")).unwrap();
    assert_eq!(r.split(' ').nth(2), Some(second.trim()), "{r}");
}

/// `sv -w N reload` waits for READY=1 after the HUP from a service that speaks sd_notify;
/// without `-w` it does not wait, as C's.
#[test]
fn reload_with_w_waits_for_ready_again() {
    let Some(_) = systemd_notify() else { return };
    let tmp = TempDir::new("sdnotify-reload");
    let dir = socket_service(
        &tmp,
        "#!/bin/sh\ntrap 'systemd-notify RELOADING=1; while [ ! -e reloaded ]; do sleep 0.02; done; \
         systemd-notify --ready --status=reloaded' HUP\nsystemd-notify --ready\n: >trapped\n\
         while :; do sleep 0.02; done\n",
    );
    let _r = Runsv::start(&util::bin("runsv"), &dir);
    let (code, out) = sv(&dir, &["-w", "10", "start"]);
    assert_eq!(code, 0, "{out}");
    util::wait_for("the trap", LIMIT, || dir.join("trapped").exists());
    let mut waiting = Command::new(util::bin("sv"))
        .args(["-w", "20", "reload"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    util::wait_for("reloading", LIMIT, || readiness(&dir).starts_with("reloading "));
    let (_, out) = sv(&dir, &["status"]);
    assert!(out.contains(", reloading"), "{out}");
    assert!(waiting.try_wait().unwrap().is_none(), "sv reload returned while reloading");
    fs::write(dir.join("reloaded"), "").unwrap();
    let st = util::wait_exit("sv reload", LIMIT, &mut waiting);
    let mut out = String::new();
    std::io::Read::read_to_string(waiting.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(util::code(st), 0, "{out}");
    assert!(out.starts_with("ok: run: ") && out.contains("\"reloaded\""), "{out}");
    // Without -w: at once, whatever the service does.
    fs::remove_file(dir.join("reloaded")).unwrap();
    let (code, out) = sv(&dir, &["reload"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: run: "), "{out}");
    fs::write(dir.join("reloaded"), "").unwrap();
}
