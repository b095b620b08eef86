//! Permissions and privilege: the modes runsv and svlogd give their files (as C does, whatever
//! the umask), a user other than root cannot control a root service, planted symlinks never
//! make runsv or svlogd write (or read) elsewhere while the documented ones are followed, and
//! chpst's privilege drop and bounded envdir reads.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use runit::supervise::status::Status;

use crate::malformed::{stat, wait_stat, Proc};
use crate::util::{self, bin, peer, script, wait_for, TempDir};

const LIMIT: Duration = Duration::from_secs(10);
const SLEEPER: &str = "#!/bin/sh\nexec sleep 1000\n";

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// A command whose process gets `umask` (set in the child only: the umask is process-wide,
/// and the other tests run in threads of this process).
fn with_umask(prog: &Path, umask: libc::mode_t) -> Command {
    let mut cmd = Command::new(prog);
    // SAFETY: umask(2) only sets an attribute of the child; nothing else runs after the fork.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(umask);
            Ok(())
        })
    };
    cmd
}

/// The modes of everything in the service's and its log's supervise directories.
fn supervise_modes(svc: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for sub in ["supervise", "log/supervise"] {
        let dir = svc.join(sub);
        out.push((sub.to_string(), mode(&dir)));
        // `*.new` exist only for a moment, while a status is being replaced.
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".new"))
            .collect();
        names.sort();
        for n in names {
            out.push((format!("{sub}/{n}"), mode(&dir.join(&n))));
        }
    }
    out
}

#[test]
fn supervise_modes_as_c_whatever_the_umask() {
    let Some(c) = peer("runit", "usr/bin/runsv") else { return };
    let t = TempDir::new("sec-modes");
    for umask in [0o022, 0o000, 0o077] {
        let mut seen = Vec::new();
        for (label, prog) in [("ours", bin("runsv")), ("C", c.clone())] {
            let svc = t.join(format!("{label}-{umask:o}"));
            script(&svc.join("run"), SLEEPER);
            script(&svc.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
            let name = svc.file_name().unwrap().to_str().unwrap().to_string();
            let mut cmd = with_umask(&prog, umask);
            cmd.arg(&name);
            let _p = Proc::spawn(cmd, t.path(), &name);
            wait_stat(&svc, "run");
            wait_for("log run", LIMIT, || stat(&svc.join("log")) == "run");
            seen.push(supervise_modes(&svc));
        }
        let ours: std::collections::HashMap<_, _> = seen[0].iter().cloned().collect();
        // Every file C makes, with C's mode; ours adds `ident` (which process the pid is)
        // and `runs` (restarts, the last end), published like `pid`.
        for (name, c_mode) in &seen[1] {
            assert_eq!(ours.get(name), Some(c_mode), "umask {umask:o}: {name}: ours vs C");
        }
        for (name, m) in seen[0].iter().filter(|e| !seen[1].contains(e)) {
            let base = name.rsplit_once('/').map_or(name.as_str(), |(d, _)| d);
            assert!(
                name.ends_with("/ident") || name.ends_with("/runs"),
                "umask {umask:o}: C has no {name}"
            );
            let pid = format!("{base}/pid");
            assert_eq!(Some(m), ours.get(&pid), "umask {umask:o}: {name} vs {pid}");
        }
        for sub in ["supervise", "log/supervise"] {
            assert_eq!(ours[sub], 0o700, "{sub}");
            assert_eq!(ours[&format!("{sub}/control")], 0o600, "{sub}/control");
            assert_eq!(ours[&format!("{sub}/ok")], 0o600, "{sub}/ok");
        }
    }
}

/// Our sv and chpst (and C's sv) copied where `nobody` can run them: the build directory may
/// be private to root.
fn public_bin(t: &TempDir) -> PathBuf {
    let dir = t.join("bin");
    fs::create_dir_all(dir.join("c")).unwrap();
    for p in ["sv", "chpst"] {
        fs::copy(bin(p), dir.join(p)).unwrap();
    }
    if let Some(c) = peer("runit", "usr/bin/sv") {
        fs::copy(c, dir.join("c/sv")).unwrap();
    }
    for d in [t.path(), &dir, &dir.join("c")] {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn as_nobody(bindir: &Path, cwd: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bindir.join("chpst"))
        .args(["-u", "nobody"])
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn nobody_cannot_control_a_root_service() {
    if !util::root_or_skip("a service owned by root") {
        return;
    }
    let t = TempDir::new("sec-nobody");
    let bindir = public_bin(&t);
    let svc = t.join("s");
    script(&svc.join("run"), SLEEPER);
    let _r = Proc::start(&bin("runsv"), &["s"], t.path(), "runsv");
    wait_stat(&svc, "run");
    let pid = fs::read_to_string(svc.join("supervise/pid")).unwrap();
    let svs = [bindir.join("sv"), bindir.join("c/sv")];
    for cmd in ["status", "down", "exit", "kill", "term", "pause", "once", "up", "force-stop"] {
        for sv in svs.iter().filter(|p| p.exists()) {
            let sv = sv.to_str().unwrap();
            let (code, text) = as_nobody(&bindir, t.path(), &[sv, "-w", "1", cmd, "./s"]);
            assert_eq!(code, 1, "{sv} {cmd}: {text}");
            assert_eq!(text, "warning: ./s: unable to open supervise/ok: access denied\n", "{sv}");
        }
    }
    // Straight at the FIFOs and files, without sv.
    for f in ["control", "ok", "status", "lock"] {
        let shell = format!("printf x > s/supervise/{f}");
        let (code, text) = as_nobody(&bindir, t.path(), &["/bin/sh", "-c", &shell]);
        assert_ne!(code, 0, "{f}: {text}");
        assert!(text.contains("Permission denied"), "{f}: {text}");
    }
    // Nothing reached runsv: same process, still running, not paused.
    assert_eq!(stat(&svc), "run");
    assert_eq!(fs::read_to_string(svc.join("supervise/pid")).unwrap(), pid);
    let (code, text) = as_nobody(&bindir, t.path(), &["/bin/kill", "-0", pid.trim()]);
    assert_ne!(code, 0, "nobody may signal the service: {text}");
}

/// Modes of svlogd's files by kind (`@….s` stands for every rotated file).
fn log_modes(dir: &Path) -> BTreeSet<(String, u32)> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let n = e.file_name().to_string_lossy().into_owned();
            let kind = if n.starts_with('@') { format!("@….{}", &n[n.len() - 1..]) } else { n };
            (kind, mode(&e.path()))
        })
        .collect()
}

#[test]
fn svlogd_modes_as_c_whatever_the_umask() {
    let Some(c) = peer("runit", "usr/bin/svlogd") else { return };
    let t = TempDir::new("sec-svlogd-modes");
    for umask in [0o022, 0o077, 0o000] {
        let mut seen = Vec::new();
        for (label, prog) in [("ours", bin("svlogd")), ("C", c.clone())] {
            let dir = t.join(format!("{label}-{umask:o}"));
            fs::create_dir(&dir).unwrap();
            fs::write(dir.join("config"), "s100\n!cat\n").unwrap();
            fs::set_permissions(dir.join("config"), fs::Permissions::from_mode(0o644)).unwrap();
            let mut child = with_umask(&prog, umask)
                .arg(&dir)
                .stdin(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut input = child.stdin.take().unwrap();
            input.write_all(b"first line\n").unwrap();
            wait_for("current written", LIMIT, || {
                fs::metadata(dir.join("current")).is_ok_and(|m| m.len() > 0)
            });
            let running = log_modes(&dir);
            for i in 0..40 {
                writeln!(input, "line {i} with some padding").unwrap();
            }
            drop(input);
            child.wait().unwrap();
            seen.push((running, log_modes(&dir)));
        }
        assert_eq!(seen[0], seen[1], "umask {umask:o}: ours (left) and C (right) differ");
        assert!(seen[0].0.contains(&("current".to_string(), 0o644)), "{:?}", seen[0].0);
        assert!(seen[0].1.contains(&("@….s".to_string(), 0o744)), "{:?}", seen[0].1);
        assert!(seen[0].1.contains(&("lock".to_string(), 0o600)), "{:?}", seen[0].1);
    }
}

/// A file outside the directory that a planted symlink points to, and what it must keep.
struct Victim {
    path: PathBuf,
    content: Vec<u8>,
    mode: u32,
}

impl Victim {
    fn new(dir: &Path, name: &str) -> Victim {
        let path = dir.join(format!("victim-{name}"));
        let content = format!("precious {name}\n").into_bytes();
        fs::write(&path, &content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        Victim { path, content, mode: 0o600 }
    }

    fn untouched(&self) {
        assert_eq!(fs::read(&self.path).unwrap(), self.content, "{}", self.path.display());
        assert_eq!(mode(&self.path), self.mode, "{}", self.path.display());
    }
}

#[test]
fn runsv_never_writes_through_planted_links() {
    let t = TempDir::new("sec-runsv-links");
    let svc = t.join("s");
    script(&svc.join("run"), SLEEPER);
    fs::create_dir(svc.join("supervise")).unwrap();
    let names =
        ["status", "stat", "pid", "ident", "status.new", "stat.new", "pid.new", "ident.new"];
    let victims: Vec<Victim> = names.iter().map(|n| Victim::new(t.path(), n)).collect();
    for (n, v) in names.iter().zip(&victims) {
        symlink(&v.path, svc.join("supervise").join(n)).unwrap();
    }
    let _r = Proc::start(&bin("runsv"), &["s"], t.path(), "runsv");
    wait_stat(&svc, "run");
    // Published through rename: the links were replaced, not followed.
    for n in ["status", "stat", "pid", "ident"] {
        let m = fs::symlink_metadata(svc.join("supervise").join(n)).unwrap();
        assert!(m.file_type().is_file(), "supervise/{n} is still a link");
    }
    assert!(Status::decode(&fs::read(svc.join("supervise/status")).unwrap()).is_ok());
    // Writes after startup too (a command changes the status).
    crate::malformed::control(&svc, b"p");
    wait_stat(&svc, "run, paused");
    victims.iter().for_each(Victim::untouched);
}

#[test]
fn runsv_refuses_a_control_link_to_a_regular_file() {
    let t = TempDir::new("sec-runsv-control");
    let svc = t.join("s");
    script(&svc.join("run"), SLEEPER);
    fs::create_dir(svc.join("supervise")).unwrap();
    let v = Victim::new(t.path(), "control");
    symlink(&v.path, svc.join("supervise/control")).unwrap();
    let mut r = Proc::start(&bin("runsv"), &["s"], t.path(), "runsv");
    assert_eq!(r.wait_exit(), 111);
    assert_eq!(r.stderr(), "runsv s: fatal: supervise/control exists but is not a fifo\n");
    v.untouched();
}

/// Runs svlogd on `dir` with `lines`, to the end of its input.
fn svlogd(dir: &Path, lines: &str) -> (i32, String) {
    let mut child = Command::new(bin("svlogd"))
        .arg(dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Everything svlogd kept in `dir`: `current` and the rotated files, in name order.
fn logged(dir: &Path) -> String {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with('@')
        })
        .collect();
    names.sort();
    names.push(dir.join("current"));
    names.iter().map(|p| fs::read_to_string(p).unwrap()).collect()
}

#[test]
fn svlogd_never_writes_or_reads_through_planted_links() {
    let t = TempDir::new("sec-svlogd-links");
    let lines: String = (0..6).map(|i| format!("line {i} padding padding\n")).collect();
    for planted in ["current", "lock", "state", "newstate", "@400000000000000000000000.t"] {
        let dir = t.join(format!("log-{}", planted.trim_start_matches('@')));
        fs::create_dir(&dir).unwrap();
        // A processor, so state, newstate and .t files are in play.
        fs::write(dir.join("config"), "s60\n!cat\n").unwrap();
        let v = Victim::new(t.path(), planted);
        symlink(&v.path, dir.join(planted)).unwrap();
        let (code, err) = svlogd(&dir, &lines);
        assert_eq!(code, 0, "{planted}: {err}");
        v.untouched();
        let kept = logged(&dir);
        assert_eq!(kept, lines, "{planted}: lines lost, or the victim read into the log");
        let m = fs::symlink_metadata(dir.join("current")).unwrap();
        assert!(m.file_type().is_file(), "{planted}");
    }
}

#[test]
fn documented_links_are_followed() {
    let t = TempDir::new("sec-follow");
    // runsv: `log` may be a link to the log service's directory.
    let svc = t.join("s");
    script(&svc.join("run"), "#!/bin/sh\necho hello\nexec sleep 1000\n");
    let logsvc = t.join("elsewhere/log-s");
    script(&logsvc.join("run"), "#!/bin/sh\nexec cat > out\n");
    symlink(&logsvc, svc.join("log")).unwrap();
    let _r = Proc::start(&bin("runsv"), &["s"], t.path(), "runsv");
    wait_stat(&svc, "run");
    wait_for("log/supervise in the link's target", LIMIT, || {
        stat(&logsvc) == "run"
            && fs::read_to_string(logsvc.join("out")).unwrap_or_default() == "hello\n"
    });
    // svlogd: the log directory and its config may be links.
    let real = t.join("real-log");
    fs::create_dir(&real).unwrap();
    fs::write(t.join("shared-config"), "s40\n").unwrap();
    symlink(t.join("shared-config"), real.join("config")).unwrap();
    symlink(&real, t.join("log-link")).unwrap();
    let lines: String = (0..4).map(|i| format!("line {i} padding padding\n")).collect();
    let (code, err) = svlogd(&t.join("log-link"), &lines);
    assert_eq!(code, 0, "{err}");
    assert_eq!(logged(&real), lines);
    let rotated = fs::read_dir(&real)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('@'));
    assert!(rotated.count() >= 2, "the linked config (s40) was not applied");
    assert!(fs::symlink_metadata(real.join("config")).unwrap().file_type().is_symlink());
}

/// A minimal root directory: /bin/sh with the libraries it links, and perl-free.
fn chroot_dir(t: &TempDir) -> PathBuf {
    let root = t.join("root");
    util::shell_root(&root);
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    root
}

#[test]
fn chpst_chroots_before_dropping_privileges() {
    if !util::root_or_skip("chroot") {
        return;
    }
    let t = TempDir::new("sec-chroot");
    let root = chroot_dir(&t);
    // Only root may chroot: the program runs inside the new root, so the chroot came first;
    // it cannot write to the root-owned `/` there, so the uid was dropped afterwards. Numeric
    // ids, as the new root has no passwd file.
    let out = Command::new(bin("chpst"))
        .args(["-/", root.to_str().unwrap(), "-u", ":65534:65534"])
        .args(["/bin/sh", "-c", "pwd; echo x > /probe || echo refused"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "/\nrefused\n", "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!root.join("probe").exists());
}

#[test]
fn chpst_uid_and_groups_cannot_be_regained() {
    if !util::root_or_skip("dropping privileges") {
        return;
    }
    // perl (Debian's essential perl-base) tries setuid(0), setgid(0) and setgroups(0) itself.
    let probe = r#"
        use POSIX;
        print "$< $> ", (split / /, $()[0], " ", (split / /, $))[0], " groups=", join(",", sort { $a <=> $b } split(/ /, $))), "\n";
        print POSIX::setuid(0) ? "uid regained\n" : "uid refused\n";
        print POSIX::setgid(0) ? "gid regained\n" : "gid refused\n";
        $! = 0;
        $) = "0 0";
        print $! ? "groups refused\n" : "groups regained\n";
    "#;
    // Called with supplementary groups (root, adm, daemon), which must all be gone.
    let out = Command::new(bin("chpst"))
        .args(["-u", "root:root:adm:daemon", bin("chpst").to_str().unwrap(), "-u", "nobody"])
        .args(["perl", "-e", probe])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "65534 65534 65534 65534 groups=65534,65534\nuid refused\ngid refused\ngroups refused\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `prog args` in `cwd` with its data segment (heap included) capped at `limit` bytes:
/// (exit code, stderr).
fn run_capped(prog: &Path, args: &[&str], cwd: &Path, limit: u64) -> (i32, String) {
    let mut cmd = Command::new(prog);
    let rl = libc::rlimit { rlim_cur: limit as libc::rlim_t, rlim_max: limit as libc::rlim_t };
    // SAFETY: setrlimit(2) reads a struct owned by the closure and changes only the child.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_DATA, &rl) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    let out = cmd.args(args).current_dir(cwd).stdin(Stdio::null()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// An envdir file of 10 MB: only its first line is read, and at most 1 MiB of it, so chpst
/// works with a heap far smaller than the file (C runit reads the whole file and cannot).
#[test]
fn envdir_with_a_huge_file_stays_small() {
    let t = TempDir::new("sec-envdir-big");
    let ten_mb = 10_000_000;
    fs::create_dir_all(t.join("one-line")).unwrap();
    fs::write(t.join("one-line/BIG"), vec![b'x'; ten_mb]).unwrap();
    fs::create_dir_all(t.join("short-first-line")).unwrap();
    let mut big = b"short\n".to_vec();
    big.resize(ten_mb, b'y');
    fs::write(t.join("short-first-line/BIG"), big).unwrap();
    const CAP: u64 = 6_000_000;
    let short = ["-e", "short-first-line", "/bin/sh", "-c", "test \"$BIG\" = short"];

    let chpst = bin("chpst");
    let (code, err) = run_capped(&chpst, &["-e", "one-line", "true"], t.path(), CAP);
    let msg = "chpst: fatal: unable to read one-line/BIG: first line longer than 1048576 bytes\n";
    assert_eq!((code, err.as_str()), (111, msg));
    let (code, err) = run_capped(&chpst, &short, t.path(), CAP);
    assert_eq!((code, err.as_str()), (0, ""));
    // The cap is tight enough to matter: C runit's chpst fails under it.
    if let Some(c) = peer("runit", "usr/bin/chpst") {
        let (code, err) = run_capped(&c, &short, t.path(), CAP);
        assert_eq!(code, 111, "{err}");
        assert!(err.contains("out of memory"), "{err}");
    }
}

/// `status-group` lets that group read the status (our sv, C's sv), not control; `admin-group`
/// lets it control too; a user outside the group gains nothing; without the files, C's modes.
#[test]
fn status_and_admin_groups_open_what_they_say_and_nothing_more() {
    if !util::root_or_skip("a service owned by root") {
        return;
    }
    let t = TempDir::new("sec-groups");
    let bindir = public_bin(&t);
    let svc = t.join("s");
    script(&svc.join("run"), SLEEPER);
    script(&svc.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    // nobody's primary group on Debian.
    fs::write(svc.join("status-group"), "nogroup\n").unwrap();
    let _r = Proc::start(&bin("runsv"), &["s"], t.path(), "runsv");
    wait_stat(&svc, "run");
    assert_eq!(mode(&svc.join("supervise")), 0o750);
    assert_eq!(mode(&svc.join("supervise/ok")), 0o620);
    assert_eq!(mode(&svc.join("supervise/control")), 0o600);
    let sv = bindir.join("sv");
    let sv = sv.to_str().unwrap();
    let (code, text) = as_nobody(&bindir, t.path(), &[sv, "status", "./s"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("run: ./s: (pid ") && text.contains("; run: log: "), "{text}");
    let (code, text) = as_nobody(&bindir, t.path(), &[sv, "-j", "status", "./s"]);
    assert_eq!(code, 0, "{text}");
    // sv watch, bounded by -w: the first object, then the end of its time.
    let (code, text) = as_nobody(&bindir, t.path(), &[sv, "-w", "1", "watch", "./s"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.starts_with("{\"schema\":1,\"service\":\"./s\"")
            && text.contains("\"result\":\"watch\""),
        "{text}"
    );
    if peer("runit", "usr/bin/sv").is_some() {
        let c_sv = bindir.join("c/sv");
        let (code, text) = as_nobody(&bindir, t.path(), &[c_sv.to_str().unwrap(), "status", "./s"]);
        assert_eq!(code, 0, "C sv: {text}");
    }
    if let Some(svstat) = peer("daemontools", "usr/bin/svstat") {
        let copy = bindir.join("svstat");
        fs::copy(svstat, &copy).unwrap();
        let (code, text) = as_nobody(&bindir, t.path(), &[copy.to_str().unwrap(), "./s"]);
        assert_eq!(code, 0, "svstat: {text}");
        assert!(text.contains(": up (pid "), "svstat: {text}");
    }
    // Not control.
    let (code, text) = as_nobody(&bindir, t.path(), &[sv, "-w", "1", "down", "./s"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("unable to open supervise/control: access denied"), "{text}");
    // A user outside the group: nothing, as before.
    let (code, text) = Command::new(bindir.join("chpst"))
        .args(["-u", "daemon", sv, "status", "./s"])
        .current_dir(t.path())
        .output()
        .map(|o| (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned()))
        .unwrap();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("access denied"), "{text}");
    // admin-group: control too, from the next start on.
    fs::write(svc.join("admin-group"), "nogroup").unwrap();
    let (code, _, _) = util::run(&bin("sv"), &["-w", "5", "restart", "./s"], t.path());
    assert_eq!(code, 0);
    assert_eq!(mode(&svc.join("supervise/control")), 0o620);
    let (code, text) = as_nobody(&bindir, t.path(), &[sv, "-w", "5", "down", "./s"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(stat(&svc), "down");
    // Both files gone: C's modes again at the next start.
    fs::remove_file(svc.join("admin-group")).unwrap();
    fs::remove_file(svc.join("status-group")).unwrap();
    let (code, _, _) = util::run(&bin("sv"), &["-w", "5", "up", "./s"], t.path());
    assert_eq!(code, 0);
    assert_eq!(mode(&svc.join("supervise")), 0o700);
    assert_eq!(mode(&svc.join("supervise/ok")), 0o600);
    assert_eq!(mode(&svc.join("supervise/control")), 0o600);
    let (code, _) = as_nobody(&bindir, t.path(), &[sv, "status", "./s"]);
    assert_eq!(code, 1);
}

#[test]
fn an_unknown_group_is_said_and_cs_modes_stay() {
    let t = TempDir::new("sec-nogroup");
    let svc = t.join("s");
    script(&svc.join("run"), SLEEPER);
    fs::write(svc.join("status-group"), "no-such-group-here").unwrap();
    let out = t.join("runsv.err");
    let err = fs::File::create(&out).unwrap();
    let mut child =
        Command::new(bin("runsv")).arg("s").current_dir(t.path()).stderr(err).spawn().unwrap();
    wait_stat(&svc, "run");
    assert_eq!(mode(&svc.join("supervise")), 0o700);
    assert_eq!(mode(&svc.join("supervise/ok")), 0o600);
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.contains("./status-group: no such group (\"no-such-group-here\")"), "{text}");
    let _ = util::run(&bin("sv"), &["-w", "5", "exit", "./s"], t.path());
    let _ = child.wait();
}

/// node_exporter's runit collector, run as `nobody`, sees a service with a `status-group` that
/// `nobody` is in, and nothing of one without.
#[test]
fn node_exporter_as_nobody_reads_a_status_group_service() {
    let Some(exporter) = peer("prometheus-node-exporter", "usr/bin/prometheus-node-exporter")
    else {
        return;
    };
    if !util::root_or_skip("node_exporter as nobody") {
        return;
    }
    if Command::new("curl").arg("--version").output().is_err() {
        panic!("curl missing: ci/test installs it");
    }
    let t = TempDir::new("sec-exporter");
    let bindir = public_bin(&t);
    let copy = bindir.join("node_exporter");
    fs::copy(&exporter, &copy).unwrap();
    let services = t.join("service");
    for name in ["open", "closed"] {
        script(&services.join(name).join("run"), SLEEPER);
    }
    fs::write(services.join("open/status-group"), "nogroup").unwrap();
    fs::set_permissions(&services, fs::Permissions::from_mode(0o755)).unwrap();
    let _a = Proc::start(&bin("runsv"), &["service/open"], t.path(), "runsv");
    let _b = Proc::start(&bin("runsv"), &["service/closed"], t.path(), "runsv");
    wait_stat(&services.join("open"), "run");
    wait_stat(&services.join("closed"), "run");
    let metrics = scrape(&bindir, &copy, &services, "nobody");
    assert!(
        metrics.contains("node_service_state{service=\"open\",supervisor=\"runit\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("service=\"closed\""), "{metrics}");
}

/// One scrape of node_exporter's runit collector over `services`, run as `user`.
fn scrape(bindir: &Path, exporter: &Path, services: &Path, user: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut ne = Command::new(bindir.join("chpst"))
        .args(["-u", user, exporter.to_str().unwrap(), "--collector.disable-defaults"])
        .arg("--collector.runit")
        .arg(format!("--collector.runit.servicedir={}", services.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut metrics = String::new();
    wait_for("node_exporter to answer", LIMIT, || {
        let out = Command::new("curl").args(["-s", &url]).output().unwrap();
        metrics = String::from_utf8_lossy(&out.stdout).into_owned();
        metrics.contains("node_scrape_collector_success{collector=\"runit\"}")
    });
    let _ = ne.kill();
    let _ = ne.wait();
    metrics
}

/// node_exporter reports the same values for a service under our runsv as under C's, up and
/// down.
#[test]
fn node_exporter_sees_ours_as_it_sees_cs() {
    let (Some(exporter), Some(c_runsv)) = (
        peer("prometheus-node-exporter", "usr/bin/prometheus-node-exporter"),
        peer("runit", "usr/bin/runsv"),
    ) else {
        return;
    };
    if !util::root_or_skip("node_exporter") {
        return;
    }
    let t = TempDir::new("sec-exporter-diff");
    let bindir = public_bin(&t);
    let services = t.join("service");
    for name in ["ours", "c"] {
        script(&services.join(name).join("run"), SLEEPER);
    }
    let _a = Proc::start(&bin("runsv"), &["service/ours"], t.path(), "runsv");
    let _b = Proc::start(&c_runsv, &["service/c"], t.path(), "runsv");
    let values = |metrics: &str, svc: &str| -> Vec<String> {
        ["node_service_state", "node_service_desired_state", "node_service_normal_state"]
            .iter()
            .map(|m| {
                let key = format!("{m}{{service=\"{svc}\",supervisor=\"runit\"}} ");
                metrics.lines().find_map(|l| l.strip_prefix(&key)).unwrap_or("missing").to_owned()
            })
            .collect()
    };
    for (act, want) in [(None, "run"), (Some("down"), "down")] {
        for name in ["ours", "c"] {
            if let Some(a) = act {
                let svc = format!("./service/{name}");
                let (code, _, _) = util::run(&bin("sv"), &["-w", "5", a, &svc], t.path());
                assert_eq!(code, 0);
            }
            wait_stat(&services.join(name), want);
        }
        let metrics = scrape(&bindir, &exporter, &services, "root");
        let (ours, c) = (values(&metrics, "ours"), values(&metrics, "c"));
        assert!(!ours.contains(&"missing".to_owned()), "{metrics}");
        assert_eq!(ours, c, "{want}: {metrics}");
    }
}
