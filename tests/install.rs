//! Tests of ci/install: install the already built binaries into a temporary DESTDIR, check the
//! tree, uninstall, check that exactly what was installed is gone (all OSes with bash).

use crate::util::{bin, TempDir};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: [&str; 5] = ["chpst", "runsv", "runsvdir", "sv", "svlogd"];
const SBIN: [&str; 4] = ["runsvchdir", "utmpset", "runit", "runit-init"];
const LINKS: [&str; 6] = ["envdir", "envuidgid", "pgrphack", "setlock", "setuidgid", "softlimit"];
const PAGES: [&str; 9] =
    ["runit", "runit-init", "sv", "runsvdir", "runsvchdir", "runsv", "svlogd", "chpst", "utmpset"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs ci/install with the given DESTDIR and arguments, PREFIX=/usr: (exit code, stderr).
fn install(destdir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new("bash")
        .arg(repo().join("ci/install"))
        .args(args)
        .env("DESTDIR", destdir)
        .env("PREFIX", "/usr")
        .env_remove("BINDIR")
        .env_remove("SBINDIR")
        .env_remove("INITDIR")
        .env_remove("MANDIR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every path below `root`, relative to it, sorted.
fn tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Number of regular files below `dir` (0 if it does not exist).
fn count_files(dir: &Path) -> usize {
    if !dir.is_dir() {
        return 0;
    }
    let mut n = 0;
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        n += if p.is_dir() { count_files(&p) } else { 1 };
    }
    n
}

/// The files in completions/ that ci/install knows where to put: everything under bash/, zsh/
/// and fish/, and at the top level `*.bash`, `*.fish` and `_*`.
fn completion_sources() -> usize {
    let dir = repo().join("completions");
    let shells: usize = ["bash", "zsh", "fish"].iter().map(|s| count_files(&dir.join(s))).sum();
    let Ok(entries) = fs::read_dir(&dir) else { return shells };
    let top = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".bash") || name.ends_with(".fish") || name.starts_with('_')
        })
        .count();
    shells + top
}

fn built_dir() -> PathBuf {
    bin("sv").parent().unwrap().to_path_buf()
}

fn check_installed(usr: &Path) {
    for (dir, progs) in [("bin", &BIN[..]), ("sbin", &SBIN[..])] {
        for p in progs {
            let path = usr.join(dir).join(p);
            let meta = fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(meta.is_file(), "{} is no file", path.display());
            assert_eq!(
                meta.permissions().mode() & 0o111,
                0o111,
                "{} not executable",
                path.display()
            );
            assert_eq!(
                fs::read(&path).unwrap(),
                fs::read(built_dir().join(p)).unwrap(),
                "{p} differs"
            );
        }
    }
    let chpst = fs::canonicalize(usr.join("bin/chpst")).unwrap();
    for l in LINKS {
        let link = usr.join("bin").join(l);
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "{l} is no symlink");
        assert_eq!(fs::canonicalize(&link).unwrap(), chpst, "{l} does not resolve to chpst");
    }
    for p in PAGES {
        let page = usr.join(format!("share/man/man8/{p}.8"));
        let want = fs::read(repo().join(format!("man/{p}.8"))).unwrap();
        assert_eq!(fs::read(&page).unwrap(), want, "{} differs from man/{p}.8", page.display());
    }
    let completions = ["share/bash-completion", "share/zsh", "share/fish"]
        .iter()
        .map(|d| count_files(&usr.join(d)))
        .sum::<usize>();
    assert_eq!(completions, completion_sources(), "completions installed");
    assert!(usr.join("share/runit-rs/install.manifest").is_file(), "no manifest");
}

#[test]
fn install_then_uninstall_leaves_nothing() {
    let dest = TempDir::new("install");
    let built = built_dir();
    let (rc, err) =
        install(dest.path(), &["--flavour", "upstream", "--no-build", built.to_str().unwrap()]);
    assert_eq!(rc, 0, "install failed: {err}");
    check_installed(&dest.join("usr"));

    // Installing again over the same tree works and changes nothing.
    let before = tree(dest.path());
    let (rc, err) =
        install(dest.path(), &["--flavour", "upstream", "--no-build", built.to_str().unwrap()]);
    assert_eq!(rc, 0, "second install failed: {err}");
    assert_eq!(tree(dest.path()), before);

    let (rc, err) = install(dest.path(), &["--uninstall"]);
    assert_eq!(rc, 0, "uninstall failed: {err}");
    assert_eq!(tree(dest.path()), Vec::<String>::new(), "left behind after uninstall");

    // Nothing left to uninstall: an error, not a silent success.
    let (rc, err) = install(dest.path(), &["--uninstall"]);
    assert_eq!(rc, 111, "{err}");
}

#[test]
fn uninstall_keeps_what_it_did_not_install() {
    let dest = TempDir::new("install-foreign");
    let built = built_dir();
    let (rc, err) =
        install(dest.path(), &["--flavour", "upstream", "--no-build", built.to_str().unwrap()]);
    assert_eq!(rc, 0, "install failed: {err}");
    let foreign = dest.join("usr/bin/other-tool");
    fs::write(&foreign, "keep me").unwrap();

    let (rc, err) = install(dest.path(), &["--uninstall"]);
    assert_eq!(rc, 0, "uninstall failed: {err}");
    assert_eq!(tree(dest.path()), vec!["usr", "usr/bin", "usr/bin/other-tool"]);
}

#[test]
fn missing_binary_installs_nothing() {
    let dest = TempDir::new("install-missing");
    let partial = TempDir::new("install-partial");
    for p in BIN {
        fs::copy(bin(p), partial.join(p)).unwrap();
    }
    let (rc, err) = install(
        dest.path(),
        &["--flavour", "upstream", "--no-build", partial.path().to_str().unwrap()],
    );
    assert_eq!(rc, 111, "{err}");
    assert!(err.contains("install: fatal:"), "{err}");
    assert_eq!(tree(dest.path()), Vec::<String>::new(), "something was installed");
}

#[test]
fn bad_usage_exits_100() {
    let dest = TempDir::new("install-usage");
    let (rc, err) = install(dest.path(), &["--bogus"]);
    assert_eq!(rc, 100, "{err}");
    let (rc, err) = install(dest.path(), &["--uninstall", "--static"]);
    assert_eq!(rc, 100, "{err}");
    assert_eq!(tree(dest.path()), Vec::<String>::new());
}

#[test]
fn undetectable_flavour_changes_nothing() {
    let dest = TempDir::new("install-noflavour");
    let built = built_dir();
    let (rc, err) = install(dest.path(), &["--no-build", built.to_str().unwrap()]);
    assert_eq!(rc, 100, "{err}");
    assert!(err.contains("cannot tell the flavour") && err.contains("--flavour"), "{err}");
    assert!(err.contains("/etc/debian_version") && err.contains("ID=void"), "{err}");
    assert_eq!(tree(dest.path()), Vec::<String>::new(), "something was installed");
}

#[test]
fn detected_flavour_must_match_the_binaries() {
    let dest = TempDir::new("install-flavour");
    let built = built_dir();
    // A Debian root: this build is upstream's, so it is refused before anything is written.
    fs::create_dir_all(dest.join("etc")).unwrap();
    fs::write(dest.join("etc/debian_version"), "12.8\n").unwrap();
    let (rc, err) = install(dest.path(), &["--no-build", built.to_str().unwrap()]);
    assert_eq!(rc, 111, "{err}");
    assert!(err.contains("flavour debian") && err.contains("not debian"), "{err}");
    assert_eq!(tree(dest.path()), vec!["etc", "etc/debian_version"]);
    // A root with /etc/runit and no distribution marker is upstream's.
    fs::remove_file(dest.join("etc/debian_version")).unwrap();
    fs::create_dir(dest.join("etc/runit")).unwrap();
    let (rc, err) = install(dest.path(), &["--no-build", built.to_str().unwrap()]);
    assert_eq!(rc, 0, "{err}");
    assert!(err.contains("install: flavour upstream (detected under"), "{err}");
    check_installed(&dest.join("usr"));
}

#[test]
fn replace_is_for_debian_only_and_changes_nothing_elsewhere() {
    let dest = TempDir::new("install-replace");
    let built = built_dir();
    let args = ["--replace", "--flavour", "upstream", "--no-build", built.to_str().unwrap()];
    let (rc, err) = install(dest.path(), &args);
    assert_eq!(rc, 111, "{err}");
    assert!(err.contains("--replace replaces Debian's runit"), "{err}");
    assert_eq!(tree(dest.path()), Vec::<String>::new(), "something was installed");
    let (rc, err) = install(dest.path(), &["--uninstall", "--replace"]);
    assert_eq!(rc, 100, "{err}");
}
