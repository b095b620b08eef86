//! Tests of chpst, its daemontools personalities and utmpset. Differential: the same command
//! line against Debian's C chpst (runit 2.1.2, reached through the same personality links),
//! daemontools' setlock, envdir and softlimit, and C utmpset on the same utmp/wtmp files in a
//! private mount namespace. Where we follow runit 2.3.0 or daemontools instead of 2.1.2, the
//! test says so and checks our behaviour alone.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{self, TempDir};

/// Prints the variables the envdir fixtures touch; `unset` tells a removed one from an empty one.
const SHOW: &str = "echo \"A=[${A-unset}] B=[${B-unset}] C=[${C-unset}] E=[${E-unset}] \
G=[${G-unset}] H=[${H-unset}] X=[${X-unset}]\"";
/// Says whether the shell leads its own session and process group.
const SESSION: &str = "read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; \
[ $pgrp = $$ ] && [ $sid = $$ ] && echo leader || echo member";

const PERSONALITIES: [&str; 7] =
    ["chpst", "envdir", "envuidgid", "pgrphack", "setuidgid", "setlock", "softlimit"];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn exec(prog: &Path, args: &[&str], cwd: &Path) -> Out {
    let out = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .env("B", "preset")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// C runit 2.1.2 lacks `-C` in the usage line (2.3.0 has it), and `-F` and `-I` (added after
/// 2.3.0); version ids differ.
fn normalize(mut o: Out) -> Out {
    o.stderr = o
        .stderr
        .replace("[-/ root] [-n nice]", "[-/ root] [-C pwd] [-n nice]")
        .replace("[-vVP012] ", "[-vVP012FI] ")
        .split_inclusive('\n')
        .map(|l| if l.starts_with("$Id:") { "$Id$\n" } else { l })
        .collect();
    o
}

/// A fixture directory with our chpst and the C one linked under every personality name, and
/// envdir, lock and chroot fixtures. Every command runs with the fixture as working directory.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Option<Fixture> {
        let c = util::peer("runit", "usr/bin/chpst")?;
        let dir = TempDir::new("chpst");
        // A link (or copy) of each binary inside the fixture, so that nobody can run it too
        // (the build directory may be private to root); the personalities link to it.
        for (side, target) in [("ours", util::bin("chpst")), ("c", c)] {
            let bin = dir.join(format!("bin/{side}"));
            fs::create_dir_all(&bin).unwrap();
            if fs::hard_link(&target, bin.join("chpst")).is_err() {
                util::copy_exec(&target, &bin.join("chpst"));
            }
            for name in &PERSONALITIES[1..] {
                symlink("chpst", bin.join(name)).unwrap();
            }
        }
        let f = Fixture { dir };
        f.envdirs();
        Some(f)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, content: &[u8]) {
        let p = self.dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn envdirs(&self) {
        self.write("env/A", b"hello  \t \nsecond line\n");
        self.write("env/B", b"");
        self.write("env/C", b"a\0b\n");
        self.write("env/E", b"no newline at end");
        self.write("env/G", b" \t \n");
        self.write("env/H", b"\n");
        self.write("env/.hidden", b"skipped");
        self.write("env_sub/X", b"x\n");
        fs::create_dir_all(self.dir.join("env_sub/sub")).unwrap();
        self.write("env_eq/D=E", b"x\n");
        self.write("env_path/PATH", format!("{}\n", self.dir.join("extra").display()).as_bytes());
        util::script(&self.dir.join("extra/myprog"), "#!/bin/sh\necho found\n");
        self.write("env_unreadable/K", b"secret\n");
        let k = self.dir.join("env_unreadable/K");
        fs::set_permissions(k, fs::Permissions::from_mode(0o000)).unwrap();
    }

    /// A minimal root directory: /bin/sh (dash) with the libraries it links, nothing else.
    fn chroot(&self) -> PathBuf {
        let root = self.dir.join("chroot");
        if root.exists() {
            return root;
        }
        util::shell_root(&root);
        fs::create_dir_all(root.join("sub")).unwrap();
        root
    }

    /// Runs personality `name` of one side; `{bin}` in an argument becomes that side's
    /// directory of personality links, for chains like `setuidgid nobody {bin}/envdir ...`.
    fn side(&self, side: &str, name: &str, args: &[&str]) -> Out {
        let bin = self.dir.join(format!("bin/{side}"));
        let args: Vec<String> =
            args.iter().map(|a| a.replace("{bin}", bin.to_str().unwrap())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        normalize(exec(&bin.join(name), &args, self.path()))
    }

    fn ours(&self, name: &str, args: &[&str]) -> Out {
        self.side("ours", name, args)
    }

    fn c(&self, name: &str, args: &[&str]) -> Out {
        self.side("c", name, args)
    }

    /// Runs both, insists on the same exit code, output and messages; returns ours.
    fn same(&self, name: &str, args: &[&str]) -> Out {
        let ours = self.ours(name, args);
        let c = self.c(name, args);
        assert_eq!(ours, c, "{name} {args:?}: ours (left) differs from C runit (right)");
        ours
    }
}

/// Holds an exclusive flock on a file until dropped (closing the file releases it), as
/// another process would.
struct Held {
    _file: fs::File,
}

fn hold(path: &Path) -> Held {
    let f = fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    // SAFETY: flock on an fd this test owns.
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) }, 0);
    Held { _file: f }
}

/// Whether process `pid` is blocked waiting for a flock (`/proc/locks` lists waiters with `->`).
fn waits_for_flock(pid: u32) -> bool {
    let locks = fs::read_to_string("/proc/locks").unwrap_or_default();
    locks.lines().any(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        w.get(1) == Some(&"->")
            && w.get(2) == Some(&"FLOCK")
            && w.get(5) == Some(&&*pid.to_string())
    })
}

#[test]
fn usage_and_bad_options_as_c() {
    let Some(f) = Fixture::new() else { return };
    for args in [
        &[][..],
        &["-x", "true"],
        &["-u"],
        &["-V", "true"],
        &["-m", "12k", "true"],
        &["-d", "-1", "true"],
        &["-n", "x", "nice"],
        &["-n", "+-3", "nice"],
        &["-l", "a", "-L", "b", "true"],
        &["-v"],
    ] {
        let out = f.same("chpst", args);
        assert_eq!(out.code, 100, "{args:?}");
    }
    // Our usage line is 2.3.0's, word for word, with -F and -I.
    let out = f.ours("chpst", &[]);
    assert_eq!(
        out.stderr,
        "usage: chpst [-vVP012FI] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] \
         [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] \
         [-t n] prog\n\n"
    );
}

#[test]
fn running_programs_as_c() {
    let Some(f) = Fixture::new() else { return };
    for args in [&["nosuchprog"][..], &["/nonexist/x"], &["./"], &["bin"]] {
        assert_eq!(f.same("chpst", args).code, 111, "{args:?}");
    }
    let out = f.same("chpst", &["--", "sh", "-c", "echo $# $0 $1", "zero", "one"]);
    assert_eq!(out.stdout, "1 zero one\n");
    let out = f.same("chpst", &["-b", "renamed", "sh", "-c", "echo $0"]);
    assert_eq!(out.stdout, "renamed\n");
    // Options stop at the program name: the program's own options pass through.
    let out = f.same("chpst", &["-v", "echo", "-u", "x", "-P"]);
    assert_eq!(out.stdout, "-u x -P\n");
    let out = f.same("chpst", &["-vP0", "sh", "-c", "echo bundled"]);
    assert_eq!(out.stdout, "bundled\n");
}

#[test]
fn users_and_groups_as_c() {
    let Some(f) = Fixture::new() else { return };
    if !util::root_or_skip("changing users") {
        return;
    }
    let cases: [(&[&str], i32); 12] = [
        (&["-u", "nobody", "id"], 0),
        (&["-unobody", "id"], 0),
        (&["-u", "nobody:daemon:adm", "id"], 0),
        (&["-u", ":1000:50:60", "id"], 0),
        (&["-u", ":1000", "id"], 111),
        (&["-u", ":abc:1", "id"], 111),
        (&["-u", "nosuchuser", "true"], 111),
        (&["-u", "nobody:nosuchgroup", "true"], 111),
        (&["-U", "nobody:daemon", "sh", "-c", "echo $UID $GID"], 0),
        (&["-U", ":5:6", "sh", "-c", "echo $UID $GID"], 0),
        (&["-U", "nobody", "-u", "daemon", "sh", "-c", "echo $UID $GID; id -u"], 0),
        (&["-U", "nosuchuser", "true"], 111),
    ];
    for (args, code) in cases {
        assert_eq!(f.same("chpst", args).code, code, "{args:?}");
    }
    let out = f.ours("chpst", &["-u", ":1000:50:60", "id", "-G"]);
    assert_eq!(out.stdout, "50 60\n");
}

#[test]
fn envdir_as_c() {
    let Some(f) = Fixture::new() else { return };
    let out = f.same("chpst", &["-e", "env", "sh", "-c", SHOW]);
    assert_eq!(
        out.stdout,
        "A=[hello] B=[unset] C=[a\nb] E=[no newline at end] G=[] H=[] X=[unset]\n"
    );
    // A subdirectory is skipped by chpst -e (a warning with -v), fatal for envdir.
    let out = f.same("chpst", &["-e", "env_sub", "sh", "-c", SHOW]);
    assert!(out.stdout.contains("X=[x]"), "{out:?}");
    let out = f.same("chpst", &["-v", "-e", "env_sub", "true"]);
    assert_eq!(out.stderr, "chpst: warning: unable to read env_sub/sub: is a directory\n");
    assert_eq!(f.same("envdir", &["env_sub", "true"]).code, 111);
    for args in [&["-e", "nodir", "true"][..], &["-e", "env/A", "true"]] {
        assert_eq!(f.same("chpst", args).code, 111, "{args:?}");
    }
    // The program is looked up along chpst's own $PATH, not the one the envdir sets.
    let out = f.same("chpst", &["-e", "env_path", "myprog"]);
    assert_eq!(out.stderr, "chpst: fatal: unable to run: myprog: file does not exist\n");
    let out = f.same("envdir", &["env", "sh", "-c", SHOW]);
    assert!(out.stdout.starts_with("A=[hello] B=[unset]"), "{out:?}");
    for args in [&[][..], &["env"], &["nodir", "true"]] {
        let out = f.same("envdir", args);
        assert!(out.code == 100 || out.code == 111, "{args:?}");
    }
}

#[test]
fn envdir_unreadable_file_as_c() {
    let Some(f) = Fixture::new() else { return };
    if !util::root_or_skip("reading an envdir as nobody") {
        return;
    }
    let out = f.same("setuidgid", &["nobody", "{bin}/envdir", "env_unreadable", "true"]);
    assert_eq!(out.code, 111);
    assert_eq!(out.stderr, "chpst: fatal: unable to read env_unreadable/K: access denied\n");
}

#[test]
fn envdir_refuses_names_with_equals() {
    // C runit would set D to "E=x"; a name with `=` cannot be a variable, so we refuse it.
    let Some(f) = Fixture::new() else { return };
    for (name, args) in [("chpst", &["-e", "env_eq", "true"][..]), ("envdir", &["env_eq", "true"])]
    {
        let out = f.ours(name, args);
        assert_eq!(out.code, 111);
        assert_eq!(
            out.stderr,
            "chpst: fatal: unable to read env_eq/D=E: variable name contains =\n"
        );
    }
}

#[test]
fn chroot_and_chdir() {
    let Some(f) = Fixture::new() else { return };
    if !util::root_or_skip("chroot") {
        return;
    }
    f.chroot();
    let out = f.same("chpst", &["-/", "chroot", "/bin/sh", "-c", "pwd; echo *"]);
    assert_eq!(out.stdout, "/\nbin lib lib64 sub\n");
    assert_eq!(f.same("chpst", &["-/", "/nonexist", "true"]).code, 111);
    // `true` does not exist inside the new root.
    assert_eq!(f.same("chpst", &["-/", "chroot", "true"]).code, 111);
    // Users are looked up inside the new root (which has no passwd file).
    assert_eq!(f.same("chpst", &["-/", "chroot", "-u", "nobody", "/bin/sh", "-c", "id"]).code, 111);
    // -C is 2.3.0's (not in 2.1.2): after the chroot, relative to the new root.
    let out = f.ours("chpst", &["-/", "chroot", "-C", "/sub", "/bin/sh", "-c", "pwd"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "/sub\n"));
    let out = f.ours("chpst", &["-C", "/", "pwd"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "/\n"));
    let out = f.ours("chpst", &["-C", "/nonexist", "true"]);
    assert_eq!(out.code, 111);
    assert_eq!(
        out.stderr,
        "chpst: fatal: unable to change directory: /nonexist: file does not exist\n"
    );
}

#[test]
fn session_nice_and_stdio_as_c() {
    let Some(f) = Fixture::new() else { return };
    assert_eq!(f.same("chpst", &["sh", "-c", SESSION]).stdout, "member\n");
    assert_eq!(f.same("chpst", &["-P", "sh", "-c", SESSION]).stdout, "leader\n");
    assert_eq!(f.same("pgrphack", &["sh", "-c", SESSION]).stdout, "leader\n");
    assert_eq!(f.same("pgrphack", &[]).code, 100);
    for (fd, args) in [
        (0, &["-0", "sh", "-c", "[ -e /proc/self/fd/0 ] && echo open || echo closed"][..]),
        (1, &["-1", "sh", "-c", "[ -e /proc/self/fd/1 ] && echo open >&2 || echo closed >&2"]),
        (2, &["-2", "sh", "-c", "[ -e /proc/self/fd/2 ] && echo open || echo closed"]),
    ] {
        let out = f.same("chpst", args);
        assert!(out.stdout.contains("closed") || out.stderr.contains("closed"), "fd {fd}: {out:?}");
    }
    let base = f.same("chpst", &["nice"]).stdout.trim().parse::<i32>().unwrap();
    let out = f.same("chpst", &["-n", "5", "nice"]);
    assert_eq!(out.stdout.trim().parse::<i32>().unwrap(), (base + 5).min(19));
    f.same("chpst", &["-n", "+2", "nice"]);
    if util::root_or_skip("lowering the nice value") {
        let out = f.same("chpst", &["-n", "-3", "nice"]);
        assert_eq!(out.stdout.trim().parse::<i32>().unwrap(), (base - 3).max(-20));
    }
}

/// The soft value of one line of /proc/self/limits.
fn soft_limit(limits: &str, what: &str) -> String {
    let line = limits.lines().find(|l| l.starts_with(what)).unwrap();
    line[what.len()..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn limits_as_c() {
    let Some(f) = Fixture::new() else { return };
    let cat = ["cat", "/proc/self/limits"];
    let cases: [(&str, &str, &str); 8] = [
        ("-d", "50000000", "Max data size"),
        ("-o", "77", "Max open files"),
        ("-p", "999", "Max processes"),
        ("-f", "123456", "Max file size"),
        ("-c", "0", "Max core file size"),
        ("-r", "4096000", "Max resident set"),
        ("-t", "30", "Max cpu time"),
        ("-o", "99999999999999999999", "Max open files"),
    ];
    for (opt, value, line) in cases {
        let args: Vec<&str> = [opt, value].iter().chain(&cat).copied().collect();
        let out = f.same("chpst", &args);
        let hard_capped = value.len() > 10;
        if !hard_capped {
            assert_eq!(soft_limit(&out.stdout, line), value, "{opt}");
        }
    }
    // -m is every memory limit: data, stack, locked memory, address space.
    let out = f.same("chpst", &["-m", "300000000", "cat", "/proc/self/limits"]);
    for line in ["Max data size", "Max stack size", "Max locked memory", "Max address space"] {
        let soft = soft_limit(&out.stdout, line);
        // Capped at the hard limit where that is lower (locked memory often is).
        assert!(soft == "300000000" || soft.parse::<u64>().unwrap() < 300000000, "{line}: {soft}");
    }
    let out = f.same("softlimit", &["-m", "300000000", "cat", "/proc/self/limits"]);
    assert_eq!(soft_limit(&out.stdout, "Max address space"), "300000000");
    f.same("softlimit", &["-a", "=", "-s", "=", "-l", "=", "-d", "=", "cat", "/proc/self/limits"]);
    let all = ["-o", "50", "-p", "100", "-f", "4096", "-c", "0", "-r", "8192000", "-t", "20"];
    let args: Vec<&str> = all.iter().chain(&cat).copied().collect();
    f.same("softlimit", &args);
    for args in [&[][..], &["-z", "1", "true"], &["-m"], &["-m", "1"]] {
        assert_eq!(f.same("softlimit", args).code, 100, "{args:?}");
    }
}

#[test]
fn softlimit_and_envdir_as_daemontools() {
    let Some(f) = Fixture::new() else { return };
    let Some(dt) = util::peer("daemontools", "usr/bin/softlimit") else { return };
    let Some(dt_envdir) = util::peer("daemontools", "usr/bin/envdir") else { return };
    let args = ["-m", "200000000", "-o", "64", "-t", "=", "cat", "/proc/self/limits"];
    assert_eq!(f.ours("softlimit", &args), exec(&dt, &args, f.path()));
    let args = ["env", "sh", "-c", SHOW];
    assert_eq!(f.ours("envdir", &args), exec(&dt_envdir, &args, f.path()));
}

#[test]
fn personalities_as_c() {
    let Some(f) = Fixture::new() else { return };
    if !util::root_or_skip("setuidgid") {
        return;
    }
    let cases: [(&str, &[&str], i32); 10] = [
        ("setuidgid", &["nobody", "id"], 0),
        ("setuidgid", &["nosuch", "true"], 111),
        ("setuidgid", &["nobody:nogroup", "true"], 111),
        ("setuidgid", &[], 100),
        ("setuidgid", &["nobody"], 100),
        ("envuidgid", &["nobody", "sh", "-c", "echo $UID $GID; id -u"], 0),
        ("envuidgid", &["nosuch", "true"], 111),
        ("envuidgid", &["nobody"], 100),
        ("setlock", &[], 100),
        ("setlock", &["-z", "lockfile", "true"], 100),
    ];
    for (name, args, code) in cases {
        assert_eq!(f.same(name, args).code, code, "{name} {args:?}");
    }
}

/// Reads `Key:\tvalue` from a /proc/<pid>/status text.
fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status.lines().find_map(|l| l.strip_prefix(key)).unwrap_or("").trim()
}

#[test]
fn privilege_drop_leaves_no_way_back() {
    let Some(f) = Fixture::new() else { return };
    if !util::root_or_skip("dropping privileges") {
        return;
    }
    // Start with supplementary groups to lose, then drop to nobody.
    let args =
        ["-u", "root:root:adm:daemon", "{bin}/chpst", "-u", "nobody", "cat", "/proc/self/status"];
    let out = f.ours("chpst", &args);
    assert_eq!(out.code, 0, "{out:?}");
    let s = &out.stdout;
    assert_eq!(status_field(s, "Uid:").split_whitespace().collect::<Vec<_>>(), ["65534"; 4]);
    assert_eq!(status_field(s, "Gid:").split_whitespace().collect::<Vec<_>>(), ["65534"; 4]);
    assert_eq!(status_field(s, "Groups:"), "65534");
    for cap in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
        assert_eq!(status_field(s, cap), "0000000000000000", "{cap}");
    }
    // Named groups: exactly those, the first one as gid.
    let out = f.ours("chpst", &["-u", "nobody:daemon:adm", "cat", "/proc/self/status"]);
    assert_eq!(status_field(&out.stdout, "Groups:"), "1 4");
    assert_eq!(status_field(&out.stdout, "Gid:").split_whitespace().collect::<Vec<_>>(), ["1"; 4]);
    let c = f.c("chpst", &["-u", "nobody:daemon:adm", "cat", "/proc/self/status"]);
    for key in ["Uid:", "Gid:", "Groups:", "CapEff:"] {
        assert_eq!(status_field(&out.stdout, key), status_field(&c.stdout, key), "{key}");
    }
    // And no way back: once nobody, becoming root again fails.
    let out = f.ours("chpst", &["-u", "nobody", "{bin}/chpst", "-u", "root", "true"]);
    assert_eq!(out.code, 111);
    assert_eq!(out.stderr, "chpst: fatal: unable to setgroups: permission denied\n");
}

#[test]
fn lock_contention_as_c_and_daemontools() {
    let Some(f) = Fixture::new() else { return };
    let Some(dt) = util::peer("daemontools", "usr/bin/setlock") else { return };
    let lock = f.dir.join("lockfile");
    let held = hold(&lock);
    let out = f.same("chpst", &["-L", "lockfile", "echo", "ran"]);
    assert_eq!(out.code, 111);
    assert_eq!(out.stderr, "chpst: fatal: unable to lock: lockfile: temporary failure\n");
    // setlock -n gives up at once, as daemontools documents (C runit's setlock waits here).
    let ours = f.ours("setlock", &["-n", "lockfile", "echo", "ran"]);
    let theirs = exec(&dt, &["-n", "lockfile", "echo", "ran"], f.path());
    assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout));
    assert_eq!(ours.stderr, "chpst: fatal: unable to lock: lockfile: temporary failure\n");
    for args in
        [&["-nx", "lockfile", "echo", "ran"][..], &["-X", "-x", "-n", "lockfile", "echo", "ran"]]
    {
        let ours = f.ours("setlock", args);
        assert_eq!(ours, exec(&dt, args, f.path()), "{args:?}");
        assert_eq!(ours.code, 0);
    }
    drop(held);
}

#[test]
fn lock_waits_until_free() {
    let Some(f) = Fixture::new() else { return };
    let dt = util::peer("daemontools", "usr/bin/setlock");
    let lock = f.dir.join("lockfile");
    let waiters = [
        (f.dir.join("bin/ours/chpst"), vec!["-l", "lockfile"]),
        (f.dir.join("bin/c/chpst"), vec!["-l", "lockfile"]),
        (f.dir.join("bin/ours/setlock"), vec!["lockfile"]),
        (f.dir.join("bin/ours/setlock"), vec!["-N", "lockfile"]),
    ];
    let dt_waiter = dt.map(|d| (d, vec!["lockfile"]));
    for (prog, mut args) in waiters.into_iter().chain(dt_waiter) {
        let held = hold(&lock);
        args.extend(["echo", "got it"]);
        let child = util::spawn(&prog, &args, f.path());
        let pid = child.id();
        util::wait_for("the lock waiter", Duration::from_secs(10), || waits_for_flock(pid));
        drop(held);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{prog:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "got it\n");
    }
}

#[test]
fn lock_is_held_by_the_program() {
    let Some(f) = Fixture::new() else { return };
    let Some(dt) = util::peer("daemontools", "usr/bin/setlock") else { return };
    let ours = f.dir.join("bin/ours/setlock");
    let inner = ours.to_str().unwrap();
    // The program inherits the locked descriptor: a second lock attempt inside must fail.
    let args = ["lockfile", inner, "-n", "lockfile", "true"];
    assert_eq!(f.ours("setlock", &args).code, 111);
    assert_eq!(exec(&dt, &args, f.path()).code, 111);
    let args = ["-l", "lockfile", "{bin}/chpst", "-L", "lockfile", "true"];
    assert_eq!(f.same("chpst", &args).code, 111);
    // Once the program is gone, so is the lock.
    assert_eq!(f.ours("setlock", &["-n", "lockfile", "true"]).code, 0);
}

#[test]
fn setlock_errors_as_daemontools() {
    let Some(f) = Fixture::new() else { return };
    let Some(dt) = util::peer("daemontools", "usr/bin/setlock") else { return };
    let cases: [(&[&str], i32); 7] = [
        (&["lockfile", "echo", "ran"], 0),
        (&["/nonexist/lk", "true"], 111),
        (&["-x", "/nonexist/lk", "echo", "ran"], 0),
        (&["-n", "-X", "/nonexist/lk", "true"], 111),
        (&["-n", "lockfile", "/nonexist/prog"], 111),
        // -x covers the lock only: a program that cannot run is still an error.
        (&["-x", "lockfile", "/nonexist/prog"], 111),
        (&["lockfile"], 100),
    ];
    for (args, code) in cases {
        let ours = f.ours("setlock", args);
        let theirs = exec(&dt, args, f.path());
        assert_eq!((ours.code, &ours.stdout), (theirs.code, &theirs.stdout), "{args:?}");
        assert_eq!(ours.code, code, "{args:?}");
    }
    let out = f.same("chpst", &["-l", "/nonexist/lock", "true"]);
    assert_eq!(
        out.stderr,
        "chpst: fatal: unable to open lock: /nonexist/lock: file does not exist\n"
    );
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    // Where C runit 2.1.2 takes an empty number for 0 (and -m '' then crashes), we refuse it.
    let Some(f) = Fixture::new() else { return };
    for args in
        [&["-m", "", "true"][..], &["-o", "", "true"], &["-n", "", "true"], &["-n", "-", "true"]]
    {
        assert_eq!(f.ours("chpst", args).code, 100, "{args:?}");
    }
    // C reads the empty gid as 0, the root group; we call it invalid.
    let out = f.ours("chpst", &["-u", ":1000:", "id"]);
    assert_eq!((out.code, out.stderr.as_str()), (111, "chpst: fatal: invalid uid/gids: 1000:\n"));
    // softlimit's own usage for a bad number (C prints chpst's).
    let out = f.ours("softlimit", &["-m", "12k", "true"]);
    assert_eq!(out.code, 100);
    assert!(out.stderr.starts_with("usage: softlimit [-a allbytes]"), "{out:?}");
    // A later failure means the program never ran, even with earlier changes done.
    let out = f.ours("chpst", &["-P", "-e", "env", "-u", "nosuchuser", "echo", "ran"]);
    assert_eq!((out.code, out.stdout.as_str()), (111, ""));
}

// ---- utmpset ----------------------------------------------------------------------------

const UT_LINESIZE: usize = 32;

/// glibc's `struct utmpx` on x86_64, the layout the C peer reads and writes. Declared here rather
/// than taken from `libc` so this crate still type-checks for the other OSes (ci/cross-check),
/// whose `utmpx` differs; these tests only run where the Linux C peers are.
#[repr(C)]
#[allow(dead_code)] // Fields that only give the record its size and offsets.
struct GlibcUtmpx {
    ut_type: i16,
    ut_pid: i32,
    ut_line: [libc::c_char; UT_LINESIZE],
    ut_id: [libc::c_char; 4],
    ut_user: [libc::c_char; 32],
    ut_host: [libc::c_char; 256],
    ut_exit: [i16; 2],
    ut_session: i32,
    ut_tv: GlibcTimeval32,
    ut_addr_v6: [i32; 4],
    reserved: [u8; 20],
}

/// glibc keeps 32-bit times in utmp records even on 64-bit systems.
#[repr(C)]
struct GlibcTimeval32 {
    tv_sec: i32,
    tv_usec: i32,
}

const _: () = assert!(std::mem::size_of::<GlibcUtmpx>() == 384);

// <utmpx.h> record types (glibc).
const LOGIN_PROCESS: i16 = 6;
const USER_PROCESS: i16 = 7;
const DEAD_PROCESS: i16 = 8;

/// A utmp record as glibc lays it out on this machine.
fn record(kind: i16, pid: i32, line: &str, id: &str, user: &str, host: &str) -> Vec<u8> {
    // SAFETY: utmpx is plain old data; zero bytes are a valid empty record.
    let mut r: GlibcUtmpx = unsafe { std::mem::zeroed() };
    r.ut_type = kind;
    r.ut_pid = pid;
    let put = |dst: &mut [libc::c_char], s: &str| {
        for (d, b) in dst.iter_mut().zip(s.bytes()) {
            *d = b as libc::c_char;
        }
    };
    put(&mut r.ut_line, line);
    put(&mut r.ut_id, id);
    put(&mut r.ut_user, user);
    put(&mut r.ut_host, host);
    r.ut_tv.tv_sec = 1_700_000_000;
    r.ut_tv.tv_usec = 123_456;
    // SAFETY: reading the bytes of a fully initialised plain struct.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            &r as *const GlibcUtmpx as *const u8,
            std::mem::size_of::<GlibcUtmpx>(),
        )
    };
    bytes.to_vec()
}

/// Byte offset of ut_tv in the record: times differ between runs and are compared apart.
fn tv_range() -> std::ops::Range<usize> {
    // SAFETY: as in `record`.
    let r: GlibcUtmpx = unsafe { std::mem::zeroed() };
    let base = &r as *const GlibcUtmpx as usize;
    let start = &r.ut_tv as *const _ as usize - base;
    start..start + std::mem::size_of_val(&r.ut_tv)
}

/// Records with their times blanked, and whether every changed time is recent.
fn without_times(data: &[u8]) -> Vec<Vec<u8>> {
    let size = std::mem::size_of::<GlibcUtmpx>();
    data.chunks(size)
        .map(|c| {
            let mut c = c.to_vec();
            c[tv_range()].fill(0);
            c
        })
        .collect()
}

fn sample_utmp() -> Vec<u8> {
    let long = "x".repeat(UT_LINESIZE);
    [
        record(LOGIN_PROCESS, 100, "tty1", "1", "LOGIN", ""),
        record(USER_PROCESS, 200, "tty5", "5", "alice", "remote.example"),
        record(DEAD_PROCESS, 300, "tty6", "6", "", ""),
        record(USER_PROCESS, 400, &long, "7", "bob", ""),
        record(USER_PROCESS, 500, "pts/3", "ts/3", "carol", "10.0.0.1"),
    ]
    .concat()
}

/// Runs `prog args` in a private mount namespace where `dir/run` is /run (so /var/run/utmp is
/// `dir/run/utmp`) and `dir/log` is /var/log.
fn in_namespace(dir: &Path, prog: &Path, args: &[&str]) -> Out {
    let script =
        "mount --bind \"$1/run\" /run && mount --bind \"$1/log\" /var/log && shift && exec \"$@\"";
    let mut all = vec!["--mount", "--propagation", "private", "sh", "-c", script, "sh"];
    let dir_s = dir.to_str().unwrap();
    let prog_s = prog.to_str().unwrap();
    all.extend([dir_s, prog_s]);
    all.extend(args);
    exec(Path::new("unshare"), &all, dir)
}

/// A scratch utmp/wtmp pair: `utmp` (None: no file) and an empty wtmp (unless `wtmp` false).
fn scratch(tag: &str, utmp: Option<&[u8]>, wtmp: bool) -> TempDir {
    let d = TempDir::new(tag);
    fs::create_dir_all(d.join("run")).unwrap();
    fs::create_dir_all(d.join("log")).unwrap();
    if let Some(u) = utmp {
        fs::write(d.join("run/utmp"), u).unwrap();
    }
    if wtmp {
        fs::write(d.join("log/wtmp"), b"").unwrap();
    }
    d
}

/// Our utmpsets (this build, and the static musl one when `RUNIT_STATIC_DIR` names its
/// directory: it has a utmp backend of its own) and C's.
fn utmpset_pair() -> Option<(Vec<PathBuf>, PathBuf)> {
    let c = util::peer("runit", "usr/sbin/utmpset")?;
    if !util::root_or_skip("utmpset in a mount namespace") {
        return None;
    }
    let mut ours = vec![util::bin("utmpset")];
    match std::env::var_os("RUNIT_STATIC_DIR") {
        Some(d) => ours.push(Path::new(&d).join("utmpset")),
        None => eprintln!("RUNIT_STATIC_DIR not set: the static utmpset is not tested here"),
    }
    Some((ours, c))
}

#[test]
fn utmpset_marks_the_line_dead_as_c() {
    let Some((all, c)) = utmpset_pair() else { return };
    for ours in all {
        marks_the_line_dead_as_c(&ours, &c);
    }
}

fn marks_the_line_dead_as_c(ours: &Path, c: &Path) {
    for line in ["tty5", "tty1", "pts/3"] {
        let a = scratch("utmp-ours", Some(&sample_utmp()), true);
        let b = scratch("utmp-c", Some(&sample_utmp()), true);
        let out_a = in_namespace(a.path(), ours, &["-w", line]);
        let out_b = in_namespace(b.path(), c, &["-w", line]);
        assert_eq!(out_a, out_b, "{}: {line}", ours.display());
        assert_eq!(out_a.code, 0, "{line}: {out_a:?}");
        let (ua, ub) =
            (fs::read(a.join("run/utmp")).unwrap(), fs::read(b.join("run/utmp")).unwrap());
        assert_eq!(without_times(&ua), without_times(&ub), "utmp after {line}");
        assert_ne!(ua, sample_utmp(), "{line}: utmp unchanged");
        let (wa, wb) =
            (fs::read(a.join("log/wtmp")).unwrap(), fs::read(b.join("log/wtmp")).unwrap());
        assert_eq!(wa.len(), std::mem::size_of::<GlibcUtmpx>(), "{line}");
        assert_eq!(without_times(&wa), without_times(&wb), "wtmp after {line}");
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let tv = tv_range();
        let sec = i32::from_ne_bytes(wa[tv.start..tv.start + 4].try_into().unwrap()) as u64;
        assert!(now - sec < 60, "wtmp time {sec} vs now {now}");
    }
}

#[test]
fn utmpset_failures_as_c() {
    let Some((all, c)) = utmpset_pair() else { return };
    for ours in all {
        failures_as_c(&ours, &c);
    }
}

fn failures_as_c(ours: &Path, c: &Path) {
    // No entry with a user on the line (a dead one, an unknown one); then no utmp at all.
    for (utmp, args) in [
        (Some(sample_utmp()), &["tty6"][..]),
        (Some(sample_utmp()), &["-w", "tty9"]),
        (None, &["tty5"]),
    ] {
        let a = scratch("utmp-ours", utmp.as_deref(), true);
        let b = scratch("utmp-c", utmp.as_deref(), true);
        let out_a = in_namespace(a.path(), ours, args);
        assert_eq!(out_a, in_namespace(b.path(), c, args), "{}: {args:?}", ours.display());
        assert_eq!(out_a.code, 111);
        assert_eq!(fs::read(a.join("log/wtmp")).unwrap(), b"", "{args:?}: wtmp written");
    }
    // A missing wtmp is created, as C does.
    let a = scratch("utmp-ours", Some(&sample_utmp()), false);
    let out = in_namespace(a.path(), ours, &["-w", "tty5"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fs::read(a.join("log/wtmp")).unwrap().len(), std::mem::size_of::<GlibcUtmpx>());
    // Usage (exit 1) as C, except for the program path in the usage line.
    for args in [&[][..], &["-x", "tty5"]] {
        let o = util::run(ours, args, Path::new("/"));
        let t = util::run(c, args, Path::new("/"));
        assert_eq!((o.0, o.1), (t.0, t.1), "{args:?}");
        assert_eq!(
            o.2.replace(ours.to_str().unwrap(), "utmpset"),
            t.2.replace(c.to_str().unwrap(), "utmpset")
        );
    }
}

#[test]
fn utmpset_line_lengths_as_2_3_0() {
    // 2.3.0 handles a line filling the whole field (2.1.2 finds no entry for it) and refuses a
    // longer one before touching utmp (2.1.2 does not check).
    let Some((all, _)) = utmpset_pair() else { return };
    for ours in all {
        line_lengths_as_2_3_0(&ours);
    }
}

fn line_lengths_as_2_3_0(ours: &Path) {
    let a = scratch("utmp-ours", Some(&sample_utmp()), true);
    let full = "x".repeat(UT_LINESIZE);
    let out = in_namespace(a.path(), ours, &["-w", &full]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let after = without_times(&fs::read(a.join("run/utmp")).unwrap());
    let mut want = without_times(&sample_utmp());
    want[3] = without_times(&record(DEAD_PROCESS, 400, &full, "7", "", ""))[0].clone();
    assert_eq!(after, want);
    let a = scratch("utmp-ours", Some(&sample_utmp()), true);
    let line = "y".repeat(UT_LINESIZE + 1);
    let out = in_namespace(a.path(), ours, &["-w", &line]);
    assert_eq!(out.code, 111);
    assert_eq!(
        out.stderr,
        format!("utmpset: fatal: unable to logout line {line} in utmp: name too long\n")
    );
    assert_eq!(fs::read(a.join("run/utmp")).unwrap(), sample_utmp());
}
