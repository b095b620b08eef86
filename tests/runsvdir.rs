//! Tests of runsvdir and runsvchdir: black-box runs of the built programs on temporary service
//! trees, side by side with Debian's C runsvdir/runsvchdir on identical trees. What is compared
//! is the resulting set of supervised services (each runsv's argument and working directory,
//! relative to the tree) after each step, never timings. Every combination runs that is
//! available: our runsvdir and C's, each with C's runsv and (once it is implemented) ours.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::procs::{procs, Proc};
use crate::util::{self, TempDir};

/// Long enough for C runsvdir, which rescans at most every five seconds and sleeps one more
/// second when the directory changed within the current second.
const LIMIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Processes, from /proc.

fn is_runsv(p: &Proc) -> bool {
    p.args.first().is_some_and(|a| a == "runsv" || a.ends_with("/runsv"))
}

/// The runsv children of `parent`: argument -> (pid, working directory relative to `root`).
fn runsv_children(parent: i32, root: &Path) -> BTreeMap<String, (i32, String)> {
    procs()
        .into_iter()
        .filter(|p| p.ppid == parent && is_runsv(p))
        .map(|p| {
            let rel = p.cwd.strip_prefix(root).map(|r| r.display().to_string());
            let name = p.args.get(1).cloned().unwrap_or_default();
            (name, (p.pid, rel.unwrap_or_else(|_| p.cwd.display().to_string())))
        })
        .collect()
}

/// The normalized state: each runsv's argument and working directory.
fn state(parent: i32, root: &Path) -> Vec<(String, String)> {
    runsv_children(parent, root).into_iter().map(|(n, (_, cwd))| (n, cwd)).collect()
}

/// Waits until runsvdir's runsv set is `want`; returns the set seen.
fn wait_state(
    what: &str,
    parent: i32,
    root: &Path,
    want: &[(&str, &str)],
) -> Vec<(String, String)> {
    let want: Vec<(String, String)> =
        want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let mut last = Vec::new();
    let ok = poll(LIMIT, || {
        last = state(parent, root);
        last == want
    });
    assert!(ok, "{what}: runsv set is {last:?}, expected {want:?}");
    last
}

/// Like util::wait_for, but answers instead of panicking.
fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------------------------------------
// Programs and trees.

/// A runsvdir under test and the runsv it starts (through a PATH directory holding only a
/// `runsv` link).
#[derive(Clone)]
struct Variant {
    label: String,
    runsvdir: PathBuf,
    runsv: PathBuf,
}

fn c_runsv() -> Option<PathBuf> {
    util::peer("runit", "usr/bin/runsv")
}

/// Every available combination of runsvdir (ours, C) and runsv (C, ours).
fn variants() -> Vec<Variant> {
    let mut runsvs = Vec::new();
    if let Some(c) = c_runsv() {
        runsvs.push(("C runsv", c));
    }
    runsvs.push(("our runsv", util::bin("runsv")));
    let mut dirs = vec![("our runsvdir", util::bin("runsvdir"))];
    if let Some(c) = util::peer("runit", "usr/bin/runsvdir") {
        dirs.push(("C runsvdir", c));
    }
    let mut out = Vec::new();
    for (dl, d) in &dirs {
        for (sl, s) in &runsvs {
            out.push(Variant {
                label: format!("{dl} + {sl}"),
                runsvdir: d.clone(),
                runsv: s.clone(),
            });
        }
    }
    out
}

/// A service tree in a temp dir, the runsvdir running on it, and cleanup of every process
/// whose working directory is inside the tree.
struct Tree {
    tmp: TempDir,
    root: PathBuf,
    rsd: Option<Child>,
}

impl Tree {
    fn new(tag: &str, v: &Variant) -> Tree {
        let tmp = TempDir::new(tag);
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        symlink(&v.runsv, root.join("bin/runsv")).unwrap();
        std::fs::create_dir_all(root.join("sv")).unwrap();
        Tree { tmp, root, rsd: None }
    }

    fn sv(&self) -> PathBuf {
        self.root.join("sv")
    }

    /// A service directory at `rel` (relative to the root) running `sleep`.
    fn service(&self, rel: &str) {
        let dir = self.root.join(rel);
        util::script(&dir.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    }

    /// Starts runsvdir with `opts` before the directory; `LOG` among them means a log argument
    /// (200 dots) after it.
    fn start(&mut self, v: &Variant, opts: &[&str], stderr: Stdio) -> i32 {
        let path =
            format!("{}:{}", self.root.join("bin").display(), std::env::var("PATH").unwrap());
        let mut cmd = Command::new(&v.runsvdir);
        cmd.args(opts.iter().filter(|o| **o != "LOG")).arg(self.sv());
        if opts.contains(&"LOG") {
            cmd.arg(format!("log: {}", ".".repeat(200)));
        }
        cmd.env("PATH", path)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        let child = cmd.spawn().unwrap();
        let pid = child.id() as i32;
        self.rsd = Some(child);
        pid
    }

    fn pid(&self) -> i32 {
        self.rsd.as_ref().unwrap().id() as i32
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    fn wait_exit(&mut self) -> i32 {
        let mut child = self.rsd.take().unwrap();
        let mut code = None;
        let ok = poll(LIMIT, || {
            code = child.try_wait().unwrap().map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        if !ok {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runsvdir did not exit");
        }
        code.unwrap()
    }

    /// Processes (other than runsvdir) working inside the tree.
    fn inside(&self) -> Vec<Proc> {
        procs().into_iter().filter(|p| p.cwd.starts_with(&self.root)).collect()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        if let Some(mut c) = self.rsd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // TERM each runsv (it stops its service, then exits), then KILL what is left.
        for p in self.inside().iter().filter(|p| is_runsv(p)) {
            // SAFETY: kill(2) on a process found working in our temp tree.
            unsafe { libc::kill(p.pid, libc::SIGTERM) };
        }
        poll(Duration::from_secs(5), || !self.inside().iter().any(is_runsv));
        for p in self.inside() {
            // SAFETY: as above.
            unsafe { libc::kill(p.pid, libc::SIGKILL) };
        }
        let _ = &self.tmp;
    }
}

/// Runs `f` for every variant in parallel threads; returns each variant's transcript.
fn each_variant(f: fn(&Variant) -> Vec<String>) -> Vec<(String, Vec<String>)> {
    let handles: Vec<_> = variants()
        .into_iter()
        .map(|v| std::thread::spawn(move || (v.label.clone(), f(&v))))
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// All transcripts must be the same (C's is the reference when present).
fn assert_same(results: &[(String, Vec<String>)]) {
    let Some((ref_label, reference)) = results.iter().find(|(l, _)| l.starts_with("C runsvdir"))
    else {
        return;
    };
    for (label, t) in results {
        assert_eq!(t, reference, "{label} differs from {ref_label}");
    }
}

// ---------------------------------------------------------------------------------------------
// runsvdir scenarios.

fn tree_changes(v: &Variant) -> Vec<String> {
    let mut t = Tree::new("rsd-changes", v);
    let mut log = Vec::new();
    t.service("sv/a");
    t.service("sv/b");
    t.service("sv/.hidden");
    t.service("x1");
    t.service("x2");
    std::fs::write(t.root.join("sv/file"), b"not a service").unwrap();
    symlink(t.root.join("nowhere"), t.root.join("sv/dangling")).unwrap();
    symlink("../x1", t.root.join("sv/link")).unwrap();
    let pid = t.start(v, &[], Stdio::null());
    let root = t.root.clone();
    let step = |log: &mut Vec<String>, what: &str, want: &[(&str, &str)]| {
        wait_state(&format!("{}: {what}", v.label), pid, &root, want);
        log.push(format!("{what}: {:?}", state(pid, &root)));
    };
    step(&mut log, "start", &[("a", "sv/a"), ("b", "sv/b"), ("link", "x1")]);

    t.service("sv/c");
    step(&mut log, "add", &[("a", "sv/a"), ("b", "sv/b"), ("c", "sv/c"), ("link", "x1")]);

    std::fs::remove_dir_all(t.root.join("sv/b")).unwrap();
    step(&mut log, "remove", &[("a", "sv/a"), ("c", "sv/c"), ("link", "x1")]);

    let c_pid = runsv_children(pid, &t.root)["c"].0;
    std::fs::rename(t.root.join("sv/c"), t.root.join("sv/c2")).unwrap();
    // The same directory under a new name keeps its runsv (found by device and inode).
    step(&mut log, "rename", &[("a", "sv/a"), ("c", "sv/c2"), ("link", "x1")]);
    assert_eq!(runsv_children(pid, &t.root)["c"].0, c_pid, "{}: rename restarted", v.label);

    symlink("../x2", t.root.join("sv/.newlink")).unwrap();
    std::fs::rename(t.root.join("sv/.newlink"), t.root.join("sv/link")).unwrap();
    step(&mut log, "retarget", &[("a", "sv/a"), ("c", "sv/c2"), ("link", "x2")]);

    // A runsv that dies is started again.
    let a_pid = runsv_children(pid, &t.root)["a"].0;
    // SAFETY: kill(2) on a runsv of this test.
    unsafe { libc::kill(a_pid, libc::SIGKILL) };
    let ok = poll(LIMIT, || runsv_children(pid, &t.root).get("a").is_some_and(|r| r.0 != a_pid));
    assert!(ok, "{}: killed runsv not restarted", v.label);
    step(&mut log, "restart", &[("a", "sv/a"), ("c", "sv/c2"), ("link", "x2")]);
    log
}

#[test]
fn differential_tree_changes() {
    let results = each_variant(tree_changes);
    assert_same(&results);
}

/// A service whose runsv cannot run (its `supervise` is a file) is started again and again;
/// each runsv says why on the stderr it inherited from runsvdir.
fn broken_service(v: &Variant) -> Vec<String> {
    let mut t = Tree::new("rsd-broken", v);
    let errfile = t.root.join("stderr");
    t.service("sv/ok");
    t.service("sv/broken");
    std::fs::write(t.root.join("sv/broken/supervise"), b"").unwrap();
    let pid = t.start(v, &[], Stdio::from(std::fs::File::create(&errfile).unwrap()));
    let complaints = || {
        let err = std::fs::read_to_string(&errfile).unwrap();
        err.lines().filter(|l| l.contains("broken") && l.contains("supervise")).count()
    };
    let ok = poll(LIMIT, || complaints() >= 3);
    assert!(ok, "{}: broken runsv started {} times", v.label, complaints());
    // The set as matched: read again, it could hold the broken runsv of a retry.
    let seen = wait_state(&v.label, pid, &t.root, &[("ok", "sv/ok")]);
    vec![format!("ok: {seen:?}")]
}

#[test]
fn differential_broken_service_restarted() {
    let results = each_variant(broken_service);
    assert_same(&results);
}

/// runsv cannot be executed (the PATH entry is a dangling link and no other runsv is found):
/// C's message from the child, and runsvdir keeps trying.
fn runsv_missing(v: &Variant) -> Vec<String> {
    let mut t = Tree::new("rsd-norunsv", v);
    let errfile = t.root.join("stderr");
    std::fs::remove_file(t.root.join("bin/runsv")).unwrap();
    symlink(t.root.join("nowhere"), t.root.join("bin/runsv")).unwrap();
    t.service("sv/a");
    let _ = t.start(v, &[], Stdio::from(std::fs::File::create(&errfile).unwrap()));
    let tries = || {
        let err = std::fs::read_to_string(&errfile).unwrap();
        err.lines().filter(|l| l.contains("unable to start runsv a")).count()
    };
    let ok = poll(LIMIT, || tries() >= 2);
    assert!(ok, "{}: {} tries", v.label, tries());
    let err = std::fs::read_to_string(&errfile).unwrap();
    let first = err.lines().next().unwrap_or_default();
    vec![first.replace(t.root.to_str().unwrap(), "ROOT")]
}

#[test]
fn differential_runsv_not_found() {
    if Command::new("sh").args(["-c", "command -v runsv"]).output().unwrap().status.success() {
        eprintln!("skipped: a runsv in PATH would be found after the dangling one");
        return;
    }
    // The runsv link is replaced, so the variants differ only in their runsvdir.
    let results = each_variant(runsv_missing);
    assert_same(&results);
    assert!(results[0].1[0].ends_with("fatal: unable to start runsv a: file does not exist"));
}

/// HUP: every runsv is told to stop, runsvdir exits 111. TERM: runsvdir exits 0 at once and
/// the runsv processes keep running.
fn signals(v: &Variant) -> Vec<String> {
    let mut log = Vec::new();
    for (sig, name) in [(libc::SIGHUP, "HUP"), (libc::SIGTERM, "TERM")] {
        let mut t = Tree::new("rsd-signals", v);
        t.service("sv/a");
        t.service("sv/b");
        let pid = t.start(v, &["-P"], Stdio::null());
        wait_state(&v.label, pid, &t.root, &[("a", "sv/a"), ("b", "sv/b")]);
        // -P: each runsv leads its own session.
        for (_, (rp, _)) in runsv_children(pid, &t.root) {
            // SAFETY: getsid(2) on a runsv of this test.
            assert_eq!(unsafe { libc::getsid(rp) }, rp, "{}: -P without setsid", v.label);
        }
        t.signal(sig);
        let code = t.wait_exit();
        let gone = poll(LIMIT, || !t.inside().iter().any(is_runsv));
        let left = t.inside().iter().filter(|p| is_runsv(p)).count();
        log.push(format!("{name}: exit {code}, runsv left: {}", if gone { 0 } else { left }));
    }
    log
}

#[test]
fn differential_hup_and_term() {
    let results = each_variant(signals);
    for (label, t) in &results {
        assert_eq!(t[0], "HUP: exit 111, runsv left: 0", "{label}");
        assert_eq!(t[1], "TERM: exit 0, runsv left: 2", "{label}");
    }
    assert_same(&results);
}

/// With a log argument, what runsv children write to stderr shows in runsvdir's argv.
fn proctitle(v: &Variant) -> Vec<String> {
    let mut t = Tree::new("rsd-title", v);
    util::script(
        &t.root.join("sv/talk/run"),
        "#!/bin/sh\necho marker-from-service >&2\nexec sleep 1000\n",
    );
    let pid = t.start(v, &["LOG"], Stdio::null());
    let mut title = String::new();
    let ok = poll(LIMIT, || {
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        title = String::from_utf8_lossy(&cmd).into_owned();
        title.contains("marker-from-service")
    });
    assert!(ok, "{}: title is {title:?}", v.label);
    let args: Vec<&str> = title.split('\0').filter(|a| !a.is_empty()).collect();
    assert_eq!(args.len(), 3, "{}: argument count changed: {args:?}", v.label);
    assert!(args[2].starts_with("log: "), "{}: {args:?}", v.label);
    assert_eq!(args[2].len(), 205, "{}: log argument length changed", v.label);
    let ends = args[2].trim_end().ends_with("marker-from-service");
    if !ends {
        // Printed with the failure: what came after the service's line.
        eprintln!("{}: title {title:?}", v.label);
    }
    vec![format!("title ends with marker: {ends}")]
}

#[test]
fn differential_log_in_proctitle() {
    let results = each_variant(proctitle);
    assert_same(&results);
}

// ---------------------------------------------------------------------------------------------
// Our runsvdir only: what C runit does not do.

fn ours_with_c_runsv() -> Option<Variant> {
    let runsv = c_runsv().unwrap_or_else(|| util::bin("runsv"));
    Some(Variant { label: "our runsvdir".into(), runsvdir: util::bin("runsvdir"), runsv })
}

/// A dangling symlink is reported once, not at every scan, and no service dir is missed.
#[test]
fn dangling_link_reported_once() {
    let Some(v) = ours_with_c_runsv() else { return };
    let mut t = Tree::new("rsd-once", &v);
    let errfile = t.root.join("stderr");
    symlink(t.root.join("nowhere"), t.root.join("sv/dangling")).unwrap();
    util::script(&t.root.join("sv/we ird\nname/run"), "#!/bin/sh\nexec sleep 1000\n");
    let pid = t.start(&v, &[], Stdio::from(std::fs::File::create(&errfile).unwrap()));
    wait_state("weird name", pid, &t.root, &[("we ird\nname", "sv/we ird\nname")]);
    t.service("sv/a");
    wait_state("a", pid, &t.root, &[("a", "sv/a"), ("we ird\nname", "sv/we ird\nname")]);
    t.service("sv/b");
    let all = [("a", "sv/a"), ("b", "sv/b"), ("we ird\nname", "sv/we ird\nname")];
    wait_state("b", pid, &t.root, &all);
    let err = std::fs::read_to_string(&errfile).unwrap();
    assert_eq!(err.matches("unable to stat dangling: file does not exist").count(), 1, "{err}");
}

/// The services directory removed while running: a warning, no exit; made again: picked up.
#[test]
fn removed_scan_dir_is_waited_for() {
    let Some(v) = ours_with_c_runsv() else { return };
    let mut t = Tree::new("rsd-gone", &v);
    let errfile = t.root.join("stderr");
    t.service("sv/a");
    let pid = t.start(&v, &[], Stdio::from(std::fs::File::create(&errfile).unwrap()));
    wait_state("start", pid, &t.root, &[("a", "sv/a")]);
    std::fs::rename(t.root.join("sv"), t.root.join("old")).unwrap();
    let warned = poll(LIMIT, || {
        std::fs::read_to_string(&errfile).unwrap().contains("unable to open directory")
    });
    assert!(warned, "no warning about the missing directory");
    // Nothing is known to be gone while the directory cannot be read: runsvdir keeps running.
    assert!(t.rsd.as_mut().unwrap().try_wait().unwrap().is_none(), "runsvdir exited");
    t.service("sv/b");
    // `a` is not in the new directory: its runsv is stopped; `b` is started.
    wait_state("recreated", pid, &t.root, &[("b", "sv/b")]);
    let err = std::fs::read_to_string(&errfile).unwrap();
    assert_eq!(err.matches("unable to open directory").count(), 1, "{err}");
}

/// A service linked in is supervised without waiting for a periodic scan (the event path).
#[test]
fn link_is_picked_up_by_event() {
    let Some(v) = ours_with_c_runsv() else { return };
    let mut t = Tree::new("rsd-event", &v);
    t.service("store/a");
    let pid = t.start(&v, &[], Stdio::null());
    wait_state("empty", pid, &t.root, &[]);
    symlink(t.root.join("store/a"), t.root.join("sv/a")).unwrap();
    // Well below the one-minute safety rescan: only the directory event can explain it.
    let ok = poll(Duration::from_secs(10), || state(pid, &t.root).len() == 1);
    assert!(ok, "link not picked up within 10 s");
}

/// A `log/` added to a running service: its runsv is restarted and the log service runs.
#[test]
fn log_dir_added_later_is_used() {
    let Some(v) = ours_with_c_runsv() else { return };
    let mut t = Tree::new("rsd-log", &v);
    util::script(
        &t.root.join("sv/a/run"),
        "#!/bin/sh\nwhile :; do echo line-from-a; sleep 0.2; done\n",
    );
    let pid = t.start(&v, &[], Stdio::null());
    wait_state("start", pid, &t.root, &[("a", "sv/a")]);
    let first = runsv_children(pid, &t.root)["a"].0;
    std::fs::create_dir(t.root.join("sv/a/log")).unwrap();
    let out = t.root.join("logged");
    util::script(
        &t.root.join("sv/a/log/run"),
        &format!("#!/bin/sh\nexec cat >{}\n", out.display()),
    );
    let ok = poll(LIMIT, || std::fs::read_to_string(&out).is_ok_and(|s| s.contains("line-from-a")));
    assert!(ok, "the new log service got no output");
    let now = runsv_children(pid, &t.root)["a"].0;
    assert_ne!(now, first, "runsv was not restarted");
}

/// A `log/` added to a service stopped with `sv down` (and no `down` file) is not used, since
/// a new runsv would start the service; runsv stays.
#[test]
fn log_dir_added_to_downed_service_waits() {
    let Some(v) = ours_with_c_runsv() else { return };
    let Some(sv) = util::peer("runit", "usr/bin/sv") else { return };
    let mut t = Tree::new("rsd-logdown", &v);
    let errfile = t.root.join("stderr");
    t.service("sv/a");
    let pid = t.start(&v, &[], Stdio::from(std::fs::File::create(&errfile).unwrap()));
    wait_state("start", pid, &t.root, &[("a", "sv/a")]);
    let first = runsv_children(pid, &t.root)["a"].0;
    let (code, _, _) = util::run(&sv, &["-w", "10", "down", "./sv/a"], &t.root);
    assert_eq!(code, 0);
    std::fs::create_dir(t.root.join("sv/a/log")).unwrap();
    util::script(&t.root.join("sv/a/log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    let ok = poll(LIMIT, || std::fs::read_to_string(&errfile).unwrap().contains("new log/ unused"));
    assert!(ok, "no report about the unused log/");
    assert_eq!(runsv_children(pid, &t.root)["a"].0, first, "runsv was restarted");
}

// ---------------------------------------------------------------------------------------------
// runsvchdir.

/// Runs C's runsvchdir, which only knows /etc/runit/runsvdir: in a private mount namespace,
/// an overlay on /etc holds `runit/runsvdir` as a link to `dir`.
fn c_runsvchdir(dir: &Path, arg: &str) -> Option<(i32, String, String)> {
    let prog = util::peer("runit", "usr/sbin/runsvchdir")?;
    if !util::root_or_skip("C runsvchdir in a mount namespace") {
        return None;
    }
    let ns = TempDir::new("chdir-ns");
    std::fs::create_dir_all(ns.join("up/runit")).unwrap();
    std::fs::create_dir_all(ns.join("work")).unwrap();
    symlink(dir, ns.join("up/runit/runsvdir")).unwrap();
    let script = format!(
        "mount -t overlay overlay -o lowerdir=/etc,upperdir={0}/up,workdir={0}/work /etc && \
         exec \"$0\" \"$1\"",
        ns.path().display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .arg(&prog)
        .arg(arg)
        .output()
        .unwrap();
    let err =
        String::from_utf8_lossy(&out.stderr).replace(&prog.display().to_string(), "runsvchdir");
    Some((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), err))
}

fn our_runsvchdir(dir: &Path, arg: &str) -> (i32, String, String) {
    let out = Command::new(util::bin("runsvchdir"))
        .arg(arg)
        .env("RUNSVDIR", dir)
        .current_dir("/")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), err)
}

/// The runlevel directory as a listing: names with link targets or kinds.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            match std::fs::read_link(e.path()) {
                Ok(t) => format!(
                    "{n} -> {}",
                    t.display().to_string().replace(&dir.display().to_string(), "$D")
                ),
                Err(_) if e.path().is_dir() => format!("{n}/"),
                Err(_) => n,
            }
        })
        // runit leaves `current.new` behind after a failure; we remove it.
        .filter(|n| !n.starts_with("current.new"))
        .collect();
    v.sort();
    v
}

fn runlevels(tag: &str) -> TempDir {
    let t = TempDir::new(tag);
    std::fs::create_dir(t.join("default")).unwrap();
    std::fs::create_dir(t.join("single")).unwrap();
    std::fs::write(t.join("file"), b"").unwrap();
    symlink("default", t.join("current")).unwrap();
    t
}

#[test]
fn differential_runsvchdir() {
    // Each case: the argument, and a change made to the tree before.
    type Prep = fn(&Path);
    let cases: &[(&str, Prep)] = &[
        ("single", |_| {}),
        ("default", |_| {}),
        ("file", |_| {}),
        ("missing", |_| {}),
        (".hidden", |_| {}),
        ("ABS", |_| {}),
        ("single", |d| std::fs::create_dir(d.join("previous")).unwrap()),
        ("single", |d| {
            std::fs::remove_file(d.join("current")).unwrap();
            std::fs::create_dir(d.join("current")).unwrap();
        }),
    ];
    for (i, (arg, prep)) in cases.iter().enumerate() {
        let ours = runlevels(&format!("chdir-ours-{i}"));
        let theirs = runlevels(&format!("chdir-c-{i}"));
        prep(ours.path());
        prep(theirs.path());
        let a_ours =
            if *arg == "ABS" { ours.join("single").display().to_string() } else { arg.to_string() };
        let a_c = if *arg == "ABS" {
            theirs.join("single").display().to_string()
        } else {
            arg.to_string()
        };
        let Some((c_code, c_out, c_err)) = c_runsvchdir(theirs.path(), &a_c) else { return };
        let (code, out, err) = our_runsvchdir(ours.path(), &a_ours);
        assert_eq!(code, c_code, "case {arg}: exit code; ours {err:?}, C {c_err:?}");
        let norm = |s: &str, d: &Path| s.replace(&d.display().to_string(), "$D");
        assert_eq!(norm(&out, ours.path()), norm(&c_out, theirs.path()), "case {arg}: stdout");
        // runit glues "not a directory." to the name without ": ": we put the separator.
        let c_err =
            norm(&c_err, theirs.path()).replace("filenot a directory", "file: not a directory");
        assert_eq!(norm(&err, ours.path()), c_err, "case {arg}: stderr");
        assert_eq!(listing(ours.path()), listing(theirs.path()), "case {arg}: resulting tree");
    }
}

#[test]
fn runsvchdir_usage_and_missing_dir() {
    let prog = util::bin("runsvchdir");
    let (code, _, err) = util::run(&prog, &[], Path::new("/"));
    assert_eq!((code, err), (1, format!("usage: {} dir\n\n", prog.display())));
    let (code, _, err) = our_runsvchdir(Path::new("/nonexistent-runsvdir"), "x");
    assert_eq!(code, 111);
    assert_eq!(
        err,
        "runsvchdir: fatal: unable to chdir: /nonexistent-runsvdir: file does not exist\n"
    );
}

/// runsvdir on `service -> runlevels/current`: runsvchdir switches the services; a service in
/// both runlevels keeps its runsv.
#[test]
fn runsvchdir_switches_a_running_runsvdir() {
    let Some(v) = ours_with_c_runsv() else { return };
    let mut t = Tree::new("rsd-level", &v);
    std::fs::remove_dir(t.root.join("sv")).unwrap();
    let rl = t.root.join("rl");
    t.service("store/getty");
    t.service("store/web");
    t.service("store/rescue");
    std::fs::create_dir_all(rl.join("default")).unwrap();
    std::fs::create_dir_all(rl.join("single")).unwrap();
    symlink("../../store/getty", rl.join("default/getty")).unwrap();
    symlink("../../store/web", rl.join("default/web")).unwrap();
    symlink("../../store/getty", rl.join("single/getty")).unwrap();
    symlink("../../store/rescue", rl.join("single/rescue")).unwrap();
    symlink("default", rl.join("current")).unwrap();
    symlink("rl/current", t.root.join("sv")).unwrap();
    let pid = t.start(&v, &[], Stdio::null());
    wait_state("default", pid, &t.root, &[("getty", "store/getty"), ("web", "store/web")]);
    let getty = runsv_children(pid, &t.root)["getty"].0;
    let (code, out, err) = our_runsvchdir(&rl, "single");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "runsvchdir: single: now current.\n");
    wait_state("single", pid, &t.root, &[("getty", "store/getty"), ("rescue", "store/rescue")]);
    assert_eq!(runsv_children(pid, &t.root)["getty"].0, getty, "shared service restarted");
}
