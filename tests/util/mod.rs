//! Test helpers: temp dirs, the built binaries, the C peers, and waiting on state.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let base = std::env::var_os("RUNIT_TEST_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("runit-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Path of one of our built programs.
pub fn bin(name: &str) -> PathBuf {
    let exe = match name {
        "runsv" => env!("CARGO_BIN_EXE_runsv"),
        "sv" => env!("CARGO_BIN_EXE_sv"),
        "svlogd" => env!("CARGO_BIN_EXE_svlogd"),
        "chpst" => env!("CARGO_BIN_EXE_chpst"),
        "runsvdir" => env!("CARGO_BIN_EXE_runsvdir"),
        "runsvchdir" => env!("CARGO_BIN_EXE_runsvchdir"),
        "runit" => env!("CARGO_BIN_EXE_runit"),
        "runit-init" => env!("CARGO_BIN_EXE_runit-init"),
        "utmpset" => env!("CARGO_BIN_EXE_utmpset"),
        other => panic!("unknown program {other}"),
    };
    PathBuf::from(exe)
}

/// Where `ci/peers` unpacked the C programs (Debian's runit 2.1.2, daemontools, s6).
pub fn peers_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("RUNIT_PEERS") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| "/root".into());
    home.join(".cache/runit-rs/peers")
}

/// A C program from the peers, e.g. `peer("runit", "usr/bin/runsv")`. When the peers are
/// missing the test is skipped with a message, unless `RUNIT_REQUIRE_PEERS=1` (set by `ci/test`)
/// makes that a failure.
pub fn peer(pkg: &str, rel: &str) -> Option<PathBuf> {
    let p = peers_dir().join(pkg).join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("RUNIT_REQUIRE_PEERS").is_some_and(|v| v == "1") {
        panic!("C peer {} missing: run ci/peers", p.display());
    }
    eprintln!("skipped: C peer {} missing (run ci/peers)", p.display());
    None
}

/// Whether we run as root; prints why a test is skipped otherwise.
pub fn root_or_skip(what: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("skipped: {what} needs root");
    }
    root
}

/// Waits until `cond` holds, checking whenever `probe_every` passes, up to `limit`. Panics with
/// `what` on timeout. Used where no event can be waited on from a test (another process's state).
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return;
        }
        if Instant::now() > end {
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits up to `limit` for `child` to exit and returns how it ended.
pub fn wait_exit(what: &str, limit: Duration, child: &mut Child) -> std::process::ExitStatus {
    let mut st = None;
    wait_for(&format!("{what} to exit"), limit, || {
        st = child.try_wait().unwrap();
        st.is_some()
    });
    st.unwrap()
}

/// The exit code of a child that `wait_exit` saw end (-1 when a signal ended it).
pub fn code(st: std::process::ExitStatus) -> i32 {
    st.code().unwrap_or(-1)
}

/// The command name of process `pid` (empty once it is gone).
pub fn comm(pid: impl std::fmt::Display) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

/// Writes an executable script.
///
/// The file is written by a child process, never through an fd of this (multi-threaded) test
/// process: a test thread forking at that moment would carry the write fd until its exec, and
/// executing the script meanwhile fails with ETXTBSY ("text busy").
pub fn script(path: &Path, body: &str) {
    use std::io::Write;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    let mut child = Command::new("sh")
        .args(["-c", "cat >\"$1.tmp\" && chmod 755 \"$1.tmp\" && mv -f \"$1.tmp\" \"$1\"", "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "writing {}", path.display());
}

/// Copies an executable, in a child process for the reason given at [`script`].
pub fn copy_exec(from: &Path, to: &Path) {
    let ok = Command::new("cp").arg("-f").arg(from).arg(to).status().unwrap().success();
    assert!(ok, "cp {} {}", from.display(), to.display());
}

/// Spawns a program with stdin closed-ish (null) and stdout/stderr captured.
pub fn spawn(prog: &Path, args: &[&str], cwd: &Path) -> Child {
    Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs a program to completion: (exit code, stdout, stderr).
pub fn run(prog: &Path, args: &[&str], cwd: &Path) -> (i32, String, String) {
    let out = Command::new(prog).args(args).current_dir(cwd).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Kills and reaps a child on drop, so a failing test leaves no supervisor behind.
pub struct Reaper(pub Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub mod procs;
pub mod tmpfs;

/// Fills `root` with the least a chroot needs to run a shell: /bin/sh and the libraries it
/// links (as ldd lists them), nothing else.
pub fn shell_root(root: &Path) {
    let sh = std::fs::canonicalize("/bin/sh").unwrap();
    let ldd = Command::new("ldd").arg(&sh).output().unwrap();
    let libs = String::from_utf8_lossy(&ldd.stdout).into_owned();
    let mut files = vec![(sh, PathBuf::from("bin/sh"))];
    for word in libs.split_whitespace().filter(|w| w.starts_with('/')) {
        files.push((PathBuf::from(word), PathBuf::from(&word[1..])));
    }
    for (from, to) in files {
        let dest = root.join(to);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        copy_exec(&from, &dest);
    }
}

/// Runs `script` with `sh -c` in new PID and mount namespaces, `$0` being our runit-init, over
/// tmpfs on /etc and /run with an empty /etc/runit of root's: runit-init can arm its flags and
/// signal process 1 (the shell) without touching the machine's own.
pub fn runit_init_in_namespaces(script: &str) -> std::process::Output {
    let script = format!(
        "mount -t tmpfs tmpfs /etc && mount -t tmpfs tmpfs /run && mkdir /etc/runit || exit 9\n{script}"
    );
    Command::new("unshare")
        .args(["--pid", "--mount", "--fork", "--kill-child", "sh", "-c", &script])
        .arg(bin("runit-init"))
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A runsv (ours or C's) on one service directory, its stderr kept in `<dir>.err`; on drop it,
/// its service and its log service are killed.
pub struct Runsv {
    pub child: Child,
    dir: PathBuf,
}

impl Runsv {
    /// Starts `runsv` on `dir` and waits until it reads `supervise/ok`.
    pub fn start(runsv: &Path, dir: &Path) -> Runsv {
        Runsv::start_in(runsv, dir, None)
    }

    /// The same with `path` put first in `$PATH`.
    pub fn start_with_path(runsv: &Path, dir: &Path, path: &Path) -> Runsv {
        Runsv::start_in(runsv, dir, Some(path))
    }

    fn start_in(runsv: &Path, dir: &Path, path: Option<&Path>) -> Runsv {
        let err = std::fs::File::create(dir.with_extension("err")).unwrap();
        let mut cmd = Command::new(runsv);
        cmd.arg(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(err);
        if let Some(p) = path {
            let search = format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default());
            cmd.env("PATH", search);
        }
        let child = cmd.spawn().unwrap();
        let ok = dir.join("supervise/ok");
        let r = Runsv { child, dir: dir.to_path_buf() };
        wait_for("runsv to open supervise/ok", Duration::from_secs(20), || reader_present(&ok));
        r
    }

    /// What runsv wrote to its standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("err")).unwrap_or_default()
    }
}

impl Drop for Runsv {
    fn drop(&mut self) {
        for pidfile in ["supervise/pid", "log/supervise/pid"] {
            let pid = std::fs::read_to_string(self.dir.join(pidfile)).unwrap_or_default();
            if let Ok(pid) = pid.trim().parse::<i32>() {
                // SAFETY: kill(2) with a pid read from runsv's pid file; no memory involved.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether somebody holds the FIFO open for reading (runsv does, for `supervise/ok`).
pub fn reader_present(fifo: &Path) -> bool {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(fifo).is_ok()
}
