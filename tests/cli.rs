//! `--help`, `--version`, bad usage and the shell completions of every program and chpst
//! personality (all OSes). The completions in `completions/` are generated from
//! `runit::cli::command` by `completions_are_current` below: with `RUNIT_BLESS_COMPLETIONS=1`
//! (what `ci/completions` sets) it writes them, otherwise it fails when a committed file differs
//! from a fresh one.

use crate::util::{bin, TempDir};
use clap_complete::Shell;
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use runit::cli::{command, PERSONALITIES, PROGRAMS};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The second line of `--version`: the build's flavour and the paths it uses.
const FLAVOUR_LINE: &str = concat!(
    env!("RUNIT_FLAVOUR_NAME"),
    " paths: SVDIR ",
    env!("RUNIT_FLAVOUR_SVDIR"),
    ", stopit ",
    env!("RUNIT_FLAVOUR_STOPIT"),
    ", reboot ",
    env!("RUNIT_FLAVOUR_REBOOT"),
    ", runit ",
    env!("RUNIT_FLAVOUR_RUNIT"),
);

/// Every name a user types: the programs and the personalities.
fn names() -> impl Iterator<Item = &'static str> {
    PROGRAMS.iter().chain(PERSONALITIES.iter()).copied()
}

/// Runs program `name` (a personality through chpst, under its name as argv[0], as the links
/// installed by ci/install do): (exit code, stdout, stderr).
fn run_as(name: &str, args: &[&str]) -> (i32, String, String) {
    let exe = if PERSONALITIES.contains(&name) { bin("chpst") } else { bin(name) };
    let out = Command::new(exe)
        .arg0(name)
        .args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn every_program_answers_help_on_stdout() {
    for name in names() {
        let (code, out, err) = run_as(name, &["--help"]);
        assert_eq!((code, err.as_str()), (0, ""), "{name} --help");
        assert!(out.starts_with(&format!("usage: {name} ")), "{name} --help: {out}");
        assert!(out.contains("--version"), "{name} --help lists no --version: {out}");
        // Every option clap knows is in the help text.
        for arg in command(name).unwrap().get_arguments() {
            if let Some(c) = arg.get_short() {
                assert!(out.contains(&format!("  -{c}")), "{name} --help lacks -{c}: {out}");
            }
        }
    }
}

#[test]
fn every_program_answers_version() {
    for name in names() {
        let (code, out, err) = run_as(name, &["--version"]);
        assert_eq!((code, err.as_str()), (0, ""), "{name} --version");
        assert_eq!(
            out,
            format!("{name} (runit-rs) {VERSION}\n{FLAVOUR_LINE}\n"),
            "{name} --version"
        );
    }
}

/// Bad usage for each program: the arguments, the exit code its man page documents.
const BAD_USAGE: [(&str, &[&str], i32); 16] = [
    ("runsv", &[], 1),
    ("runsvdir", &[], 1),
    ("runsvchdir", &[], 1),
    ("sv", &["-x", "up", "./svc"], 100),
    ("svlogd", &["-x", "dir"], 111),
    ("chpst", &["-x", "true"], 100),
    ("utmpset", &["-x", "tty5"], 1),
    ("runit-init", &["5"], 0),
    ("envdir", &["dir"], 100),
    ("envuidgid", &["root"], 100),
    ("setuidgid", &[], 100),
    ("pgrphack", &[], 100),
    ("setlock", &["-z", "file", "true"], 100),
    ("softlimit", &["-m", "lots", "true"], 100),
    // runit's own way of saying "-V": the version, then the usage, and failure.
    ("sv", &["-V"], 100),
    ("chpst", &["-V", "true"], 100),
];

#[test]
fn bad_usage_keeps_the_documented_exit_code_and_the_help_usage_line() {
    for (name, args, want) in BAD_USAGE {
        let (code, out, err) = run_as(name, args);
        assert_eq!(code, want, "{name} {args:?}: {err}");
        assert_eq!(out, "", "{name} {args:?}: nothing on stdout");
        let lines: Vec<&str> = err.lines().filter(|l| !l.is_empty()).collect();
        assert!((1..=2).contains(&lines.len()), "{name} {args:?}: {err}");
        // The usage line is the one --help starts with (svlogd puts it after its complaint).
        let usage = lines.last().unwrap();
        let usage = &usage[usage.find("usage: ").unwrap_or(0)..];
        let (_, help, _) = run_as(name, &["--help"]);
        assert_eq!(Some(usage), help.lines().next(), "{name} {args:?}");
    }
}

/// `runit-init 0 --help` is `runit-init 0`: it arms the halt and signals process 1. Run in a
/// PID and mount namespace of its own, with fresh /etc and /run, so that the process 1 it
/// signals is a shell that records the signal, never the machine's.
#[test]
fn help_after_the_runlevel_is_not_help() {
    if !crate::util::root_or_skip("runit-init in a PID and mount namespace") {
        return;
    }
    let script = r#"trap 'echo "pid 1 got CONT"' CONT
"$0" 0 --help; echo "exit $?"
ls -l /etc/runit/stopit /run/runit.stopit 2>/dev/null | cut -c1-10"#;
    let out = crate::util::runit_init_in_namespaces(script);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}{err}");
    assert!(text.contains("exit 0\n"), "{text}{err}");
    assert!(text.contains("pid 1 got CONT"), "{text}{err}");
    assert!(text.contains("---x------"), "stopit armed: {text}{err}");
}

/// What runit's own check scripts (src/*.check in runit's source) expect of a program called
/// by its bare name with bad arguments: the exact text and exit code.
const AS_RUNITS_CHECKS: [(&str, &[&str], &str, i32); 7] = [
    ("runsv", &[], "usage: runsv dir\n\n", 1),
    ("runsvdir", &[], "usage: runsvdir [-P] dir\n\n", 1),
    ("runsvchdir", &[], "usage: runsvchdir dir\n\n", 1),
    ("svlogd", &[], "usage: svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n", 111),
    ("utmpset", &[], "usage: utmpset [-w] line\n\n", 1),
    ("runit-init", &[], "usage: runit-init 0|6\n\n", 0),
    ("sv", &[], "usage: sv [-v] [-w sec] command service ...\n\n", 100),
];

#[test]
fn bad_usage_as_runits_own_checks_expect() {
    for (name, args, want_err, want_code) in AS_RUNITS_CHECKS {
        let (code, out, err) = run_as(name, args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (want_code, "", want_err),
            "{name} {args:?}"
        );
    }
}

/// Bad usage side by side with C runit (Debian's 2.1.2; the texts are those of 2.3.0 too), the
/// same argv[0] for both: stdout, stderr and exit code byte for byte. Two known lines differ:
/// the `$Id$` line of `-V` names the version, and chpst lists `-C`, which 2.3.0 added, and
/// `-F` and `-I`, added after it.
#[test]
fn bad_usage_matches_c() {
    #[rustfmt::skip]
    let cases: [(&str, &str, &[&str]); 22] = [
        ("runsv", "usr/bin/runsv", &[]), ("runsv", "usr/bin/runsv", &["a", "b"]),
        ("runsvdir", "usr/bin/runsvdir", &[]), ("runsvdir", "usr/bin/runsvdir", &["-P"]),
        ("runsvchdir", "usr/sbin/runsvchdir", &[]),
        ("svlogd", "usr/bin/svlogd", &[]), ("svlogd", "usr/bin/svlogd", &["-Z", "d"]),
        ("svlogd", "usr/bin/svlogd", &["-V", "d"]), ("svlogd", "usr/bin/svlogd", &["-l"]),
        ("svlogd", "usr/bin/svlogd", &["-r", "ab", "d"]),
        ("svlogd", "usr/bin/svlogd", &["-l", "2000", "d"]),
        ("svlogd", "usr/bin/svlogd", &["-t", "-b", "5", "d"]),
        ("utmpset", "usr/sbin/utmpset", &[]), ("utmpset", "usr/sbin/utmpset", &["-Z", "x"]),
        ("utmpset", "usr/sbin/utmpset", &["-V"]),
        ("runit-init", "lib/runit/runit-init", &[]), ("runit-init", "lib/runit/runit-init", &["5"]),
        ("sv", "usr/bin/sv", &[]), ("sv", "usr/bin/sv", &["-V"]), ("sv", "usr/bin/sv", &["-w"]),
        ("chpst", "usr/bin/chpst", &[]), ("chpst", "usr/bin/chpst", &["-n"]),
    ];
    let known = |s: String| {
        let s = s.replace(" [-C pwd]", "").replace("[-vVP012FI]", "[-vVP012]");
        s.lines()
            .map(|l| if l.starts_with("$Id: ") { "$Id$" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for (name, rel, args) in cases {
        let Some(c) = crate::util::peer("runit", rel) else { return };
        let mut cmd = Command::new(c);
        let out = cmd.arg0(name).args(args).current_dir("/").stdin(Stdio::null()).output().unwrap();
        let text = |b: &[u8]| known(String::from_utf8_lossy(b).into_owned());
        let theirs = (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr));
        let (code, o, e) = run_as(name, args);
        assert_eq!((code, known(o), known(e)), theirs, "{name} {args:?}");
    }
}

#[test]
fn help_is_only_the_first_argument() {
    // After the program's name it belongs to the program.
    let (code, out, _) = run_as("chpst", &["-v", "printf", "%s", "--help"]);
    assert_eq!((code, out.as_str()), (0, "--help"));
    let (code, out, _) = run_as("envdir", &["/nonexistent", "printf", "%s", "--version"]);
    assert_eq!((code, out.as_str()), (111, ""), "the directory is still read first");
    let (code, out, _) = run_as("pgrphack", &["printf", "%s", "--version"]);
    assert_eq!((code, out.as_str()), (0, "--version"));
    // Elsewhere it is what it is to runit's getopt: a word starting with `--` ends the options
    // (here leaving no command: the usage line, as C sv prints it), or an operand after `--`.
    let (code, out, err) = run_as("sv", &["-v", "--help"]);
    assert_eq!((code, out.as_str()), (100, ""), "{err}");
    assert!(err.starts_with("usage: sv [-v] [-w sec] command service ...\n"), "{err}");
    let (code, out, err) = run_as("sv", &["--", "--help", "./svc"]);
    assert_eq!((code, out.as_str()), (100, ""), "--help after -- is sv's command word: {err}");
    let (code, _, err) = run_as("svlogd", &["-t", "--version"]);
    assert_eq!(code, 111, "{err}");
    let (code, out, _) = run_as("utmpset", &["--", "--help"]);
    assert_ne!(code, 0);
    assert_eq!(out, "");
    // A word that merely starts like it is no request for help.
    let (code, out, _) = run_as("runsv", &["--helpme", "x"]);
    assert_eq!((code, out.as_str()), (1, ""));
}

#[test]
fn sv_as_an_init_script_helps_with_its_own_name() {
    let tmp = TempDir::new("cli-lsb");
    let script = tmp.join("sshd");
    std::os::unix::fs::symlink(bin("sv"), &script).unwrap();
    let out = Command::new(&script).arg("--help").stdin(Stdio::null()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.starts_with("usage: sshd [-w sec] command\n"), "{text}");
    let out = Command::new(&script).arg("--version").stdin(Stdio::null()).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("sshd (runit-rs) {VERSION}\n{FLAVOUR_LINE}\n")
    );
}

#[test]
fn unwritable_stdout_is_a_failure() {
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    let out = Command::new(bin("sv")).arg("--help").stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(111));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("sv: fatal: unable to write"));
}

// ---- completions ------------------------------------------------------------------------------

const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

fn completions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions")
}

/// Where ci/install expects each shell's file (see its header).
fn completion_file(shell: Shell, name: &str) -> PathBuf {
    let rel = match shell {
        Shell::Bash => format!("bash/{name}"),
        Shell::Zsh => format!("zsh/_{name}"),
        _ => format!("fish/{name}.fish"),
    };
    completions_dir().join(rel)
}

fn generate(shell: Shell, name: &str) -> String {
    let mut cmd = command(name).unwrap();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    String::from_utf8(buf).unwrap()
}

fn bless() -> bool {
    std::env::var_os("RUNIT_BLESS_COMPLETIONS").is_some_and(|v| v == "1")
}

#[test]
fn completions_are_current() {
    let mut stale = Vec::new();
    let mut expected = BTreeSet::new();
    for shell in SHELLS {
        for name in names() {
            let path = completion_file(shell, name);
            let fresh = generate(shell, name);
            if bless() {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, &fresh).unwrap();
            } else if fs::read_to_string(&path).ok().as_deref() != Some(fresh.as_str()) {
                stale.push(path.display().to_string());
            }
            expected.insert(path);
        }
    }
    // Nothing else lies there (a program's completion left behind after it was renamed).
    let mut extra = Vec::new();
    for shell in ["bash", "zsh", "fish"] {
        for e in fs::read_dir(completions_dir().join(shell)).unwrap() {
            let p = e.unwrap().path();
            if !expected.contains(&p) {
                extra.push(p.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty() && extra.is_empty(),
        "completions/ is out of date (run ci/completions): stale {stale:?}, extra {extra:?}"
    );
}

/// How each shell's completion names option `-c` / `--long`.
fn mentions(shell: Shell, text: &str, short: Option<char>, long: Option<&str>) -> bool {
    let s = short.map(|c| match shell {
        Shell::Fish => format!("-s {c}"),
        _ => format!("-{c}"),
    });
    let l = long.map(|l| match shell {
        Shell::Fish => format!("-l {l}"),
        _ => format!("--{l}"),
    });
    s.into_iter().chain(l).all(|w| text.contains(&w))
}

#[test]
fn completions_mention_every_option() {
    for shell in SHELLS {
        for name in names() {
            let text = fs::read_to_string(completion_file(shell, name)).unwrap();
            for arg in command(name).unwrap().get_arguments() {
                let (s, l) = (arg.get_short(), arg.get_long());
                if s.is_none() && l.is_none() {
                    continue;
                }
                assert!(mentions(shell, &text, s, l), "{shell} {name}: no {s:?} {l:?}");
            }
        }
    }
    // sv completes its commands.
    let sv = fs::read_to_string(completion_file(Shell::Bash, "sv")).unwrap();
    assert!(sv.contains("force-restart"), "{sv}");
}

/// Each file is valid for its shell, where that shell is installed.
#[test]
fn completions_parse_in_their_shells() {
    for (shell, prog, args) in [
        (Shell::Bash, "bash", &["-n"][..]),
        (Shell::Zsh, "zsh", &["-n"]),
        (Shell::Fish, "fish", &["-n"]),
    ] {
        if !have(prog) {
            eprintln!("skipped: {prog} not installed, its completions are not parsed");
            continue;
        }
        for name in names() {
            let path = completion_file(shell, name);
            let out = Command::new(prog).args(args).arg(&path).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success() && err.is_empty(), "{}: {err}", path.display());
        }
    }
}

/// Bash, given sv's completion, offers sv's commands and options.
#[test]
fn bash_completes_sv() {
    if !have("bash") {
        eprintln!("skipped: bash not installed");
        return;
    }
    let file = completion_file(Shell::Bash, "sv");
    let script = format!(
        "source {}; COMP_WORDS=(sv re); COMP_CWORD=1; COMP_LINE='sv re'; COMP_POINT=5; \
         _sv sv re sv; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = Command::new("bash").args(["--norc", "-c", &script]).output().unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    let words: BTreeSet<&str> = words.lines().collect();
    assert_eq!(
        words,
        BTreeSet::from(["reload", "restart"]),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fish, given chpst's completion, offers chpst's options, `-/` included.
#[test]
fn fish_completes_chpst() {
    if !have("fish") {
        eprintln!("skipped: fish not installed");
        return;
    }
    let file = completion_file(Shell::Fish, "chpst");
    let script = format!("source {}; complete -C 'chpst -'", file.display());
    let out = Command::new("fish").args(["--no-config", "-c", &script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let offered: BTreeSet<&str> = text.lines().filter_map(|l| l.split('\t').next()).collect();
    for want in ["-/", "-u", "-U", "-e", "-P", "-0", "-2", "-V"] {
        assert!(offered.contains(want), "{want} not offered: {text}");
    }
}

fn have(prog: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
