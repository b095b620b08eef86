//! Tests of svlogd: differential runs against Debian's C svlogd (same input and config, same
//! files, sizes and contents, timestamps aside), disk-full recovery on a tiny tmpfs, processors,
//! UDP, signals and bad config.

use std::io::Write;
use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::tmpfs::{fill, Mount};
use crate::util::{self, bin, peer, wait_for, Reaper, TempDir};

const LONG: Duration = Duration::from_secs(20);

fn c_svlogd() -> Option<PathBuf> {
    peer("runit", "usr/bin/svlogd")
}

/// Runs `prog args` in `cwd` with `input` as stdin (a regular file, read to the end).
fn run_file(prog: &Path, args: &[&str], cwd: &Path, input: &[u8]) -> (i32, String) {
    let inp = cwd.join(format!("input-{}", std::process::id()));
    std::fs::write(&inp, input).unwrap();
    let out = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(std::fs::File::open(&inp).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    std::fs::remove_file(&inp).unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Starts `prog args` with a pipe as stdin and stderr into `cwd/stderr`.
fn start(prog: &Path, args: &[&str], cwd: &Path) -> Reaper {
    let err = std::fs::File::create(cwd.join("stderr")).unwrap();
    let child = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    Reaper(child)
}

fn stdin(c: &mut Child) -> &mut std::process::ChildStdin {
    c.stdin.as_mut().unwrap()
}

fn stderr_of(cwd: &Path) -> String {
    std::fs::read_to_string(cwd.join("stderr")).unwrap_or_default()
}

fn signal(c: &Child, sig: i32) {
    // SAFETY: kill on the pid of a child we own.
    assert_eq!(unsafe { libc::kill(c.id() as i32, sig) }, 0);
}

/// Bytes still in the pipe (Linux answers FIONREAD on the write end too).
fn unread(w: &impl std::os::fd::AsRawFd) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    assert_eq!(unsafe { libc::ioctl(w.as_raw_fd(), libc::FIONREAD, &mut n) }, 0);
    n
}

fn wait_exit(c: &mut Child) -> i32 {
    util::code(util::wait_exit("svlogd", LONG, c))
}

/// The files of a log directory in order (rotated files by name, then `current`, `lock`...),
/// with the rotated names reduced to their suffix: (name, mode, contents).
fn snapshot(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter(|n| n != "config")
        .map(|n| {
            let p = dir.join(&n);
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
            let shown = if n.starts_with('@') { format!("@.{}", &n[n.len() - 1..]) } else { n };
            (shown, mode, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Blanks the 25 timestamp bytes at the start of every line of the concatenated log, so runs
/// at different times compare equal; the file sizes still have to match.
fn blank_stamps(files: &mut [(String, u32, Vec<u8>)]) {
    let logs: Vec<usize> = (0..files.len())
        .filter(|&i| files[i].0.starts_with('@') || files[i].0 == "current")
        .collect();
    let mut all: Vec<u8> = logs.iter().flat_map(|&i| files[i].2.clone()).collect();
    let mut at_start = true;
    let mut i = 0;
    while i < all.len() {
        if at_start && i + 25 <= all.len() {
            all[i..i + 25].fill(b'T');
            i += 25;
        }
        at_start = all[i.min(all.len() - 1)] == b'\n';
        i += 1;
    }
    let mut off = 0;
    for &i in &logs {
        let n = files[i].2.len();
        files[i].2 = all[off..off + n].to_vec();
        off += n;
    }
}

/// One differential scenario: the same config(s), options and input for C and for us.
struct Case<'a> {
    configs: &'a [&'a str],
    args: &'a [&'a str],
    input: Vec<u8>,
}

impl Case<'_> {
    /// Runs both and compares every directory; returns our stderr and C's.
    fn check(&self, tag: &str) -> Option<(String, String)> {
        let c = c_svlogd()?;
        let t = TempDir::new(tag);
        let mut errs = Vec::new();
        let mut snaps = Vec::new();
        for (who, prog) in [("c", c), ("rs", bin("svlogd"))] {
            let mut args: Vec<String> = self.args.iter().map(|s| s.to_string()).collect();
            for (i, cfg) in self.configs.iter().enumerate() {
                let d = t.join(format!("{who}{i}"));
                std::fs::create_dir(&d).unwrap();
                if !cfg.is_empty() {
                    std::fs::write(d.join("config"), cfg).unwrap();
                }
                args.push(d.to_str().unwrap().to_string());
            }
            let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
            let (code, err) = run_file(&prog, &argv, t.path(), &self.input);
            assert_eq!(code, 0, "{who} failed: {err}");
            errs.push(err);
            let mut s: Vec<_> =
                (0..self.configs.len()).map(|i| snapshot(&t.join(format!("{who}{i}")))).collect();
            if self.args.iter().any(|a| a.starts_with("-t")) {
                s.iter_mut().for_each(|f| blank_stamps(f));
            }
            snaps.push(s);
        }
        for (i, (c, r)) in snaps[0].iter().zip(&snaps[1]).enumerate() {
            let brief = |v: &Vec<(String, u32, Vec<u8>)>| {
                v.iter().map(|(n, m, b)| format!("{n} {m:o} {}", b.len())).collect::<Vec<_>>()
            };
            assert_eq!(brief(c), brief(r), "{tag}: directory {i} differs in files or sizes");
            for (a, b) in c.iter().zip(r) {
                assert!(a.2 == b.2, "{tag}: directory {i}, file {} differs", a.0);
            }
        }
        let r = errs.pop().unwrap();
        Some((r, errs.pop().unwrap()))
    }
}

/// Lines of varying length (0 to `max` bytes) with a running number.
fn lines(n: usize, max: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        let len = (i * 7919) % (max + 1);
        let mut l = format!("{i:06} ");
        while l.len() < len {
            l.push((b'a' + (l.len() % 26) as u8) as char);
        }
        l.truncate(len.max(7));
        v.extend_from_slice(l.as_bytes());
        v.push(b'\n');
    }
    v
}

#[test]
fn diff_size_rotation_and_n() {
    Case { configs: &["s2000\nn3\n"], args: &[], input: lines(400, 120) }.check("size");
    Case { configs: &["s5000\nn0\n"], args: &[], input: lines(300, 200) }.check("n0");
    Case { configs: &["s0\n"], args: &[], input: lines(300, 200) }.check("s0");
    Case { configs: &[""], args: &[], input: lines(30000, 90) }.check("defaults");
}

#[test]
fn diff_numbers_followed_by_text() {
    // C svlogd takes the number and ignores what follows it (we also warn).
    let configs = &["s300 # note\nn3x\n", "s1k\nn2 \r\n", "s100\nn1k\n", "s200q\nN1x\nn4\n"];
    Case { configs, args: &[], input: lines(400, 60) }.check("num-text");
}

#[test]
fn diff_tiny_sizes_split_lines() {
    // Sizes below -l: C cuts lines at the size limit and never rotates after a newline.
    Case { configs: &["s7\nn50\n"], args: &[], input: lines(40, 20) }.check("s7");
    Case { configs: &["s100\nn50\n"], args: &["-l", "30", "-b", "64"], input: lines(200, 60) }
        .check("l30");
}

#[test]
fn diff_long_lines() {
    let mut input = lines(50, 100);
    for i in 0..20 {
        input.extend(std::iter::repeat(b'a' + i as u8).take(700 * (i + 1)));
        input.push(b'\n');
    }
    input.extend(lines(50, 100));
    Case { configs: &["s3000\nn100\n"], args: &[], input: input.clone() }.check("long");
    Case { configs: &["s3000\nn100\n"], args: &["-tt"], input: input.clone() }.check("long-tt");
    Case { configs: &["s100000\nn100\n"], args: &["-l", "100"], input }.check("long-l");
}

#[test]
fn diff_patterns_and_stderr() {
    let cfg = "-*\n+*: info: *\ne*: warn*\n+*warn*\nE*: warn: skip*\n";
    let mut input = Vec::new();
    for i in 0..200 {
        let kind = ["info", "warn", "debug", "warn: skip"][i % 4];
        input.extend(format!("prog{i}: {kind}: message {i}\n").as_bytes());
    }
    let (ours, theirs) = Case { configs: &[cfg, "+*\n-*debug*\n", ""], args: &[], input }
        .check("patterns")
        .unwrap_or_default();
    assert_eq!(ours, theirs, "stderr differs");
    // Plus and star quirks, exercised on messages written against them.
    let cfg = "-*\n+a+b*\n+x*y\n+*\n-q+\n";
    let input = b"aab1\naaa\nab\nxzzy\nxzyzy\nqqq\nq\n".to_vec();
    Case { configs: &[cfg], args: &[], input }.check("plus-star");
}

#[test]
fn diff_prefix_and_several_dirs() {
    let input = lines(500, 80);
    Case { configs: &["pPFX: \ns3000\n", "s1000\nn2\n", "p>\n"], args: &["-ttt"], input }
        .check("prefix");
}

#[test]
fn diff_replacement_and_nul_bytes() {
    let mut input = Vec::new();
    for i in 0u32..300 {
        let mut l: Vec<u8> = (0..(i % 50))
            .map(|j| ((i * 31 + j * 17) % 256) as u8)
            .filter(|&b| b != b'\n')
            .collect();
        l.push(b'\n');
        input.extend(l);
    }
    Case { configs: &["s4000\n"], args: &[], input: input.clone() }.check("raw-binary");
    Case { configs: &["s4000\n"], args: &["-r", "#"], input: input.clone() }.check("r");
    Case { configs: &["s4000\n"], args: &["-R", "aeiou", "-l", "20"], input }.check("R");
}

#[test]
fn diff_timestamps_tai64n() {
    Case { configs: &["s1000\n"], args: &["-t"], input: lines(100, 60) }.check("tai64n");
}

#[test]
fn last_line_without_newline_is_kept() {
    let t = TempDir::new("svlogd-partial");
    std::fs::create_dir(t.join("d")).unwrap();
    let (code, _) = run_file(&bin("svlogd"), &["d"], t.path(), b"one\ntwo");
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(t.join("d/current")).unwrap(), b"one\ntwo\n");
    let mode = std::fs::metadata(t.join("d/current")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o744, "a closed current is marked complete");
}

#[test]
fn no_usable_directory_exits_111() {
    let t = TempDir::new("svlogd-nodir");
    let (code, err) = run_file(&bin("svlogd"), &["missing1", "missing2"], t.path(), b"x\n");
    assert_eq!(code, 111);
    assert!(err.contains("unable to open log directory: missing1"), "{err}");
    assert!(err.contains("fatal: no functional log directories"), "{err}");
    let (code, err) = run_file(&bin("svlogd"), &["-r", "ab", "d"], t.path(), b"");
    assert_eq!(code, 111, "bad usage, as C");
    assert!(err.starts_with("usage: ") && err.ends_with(" dir ...\n\n"), "{err}");
}

#[test]
fn diff_udp_only_then_u() {
    // A `U` line makes the directory UDP-only even when a `u` line follows it.
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let configs = &[&*format!("U127.0.0.1:{port}\nu127.0.0.1:{port}\n"), "s100\n"];
    Case { configs, args: &[], input: lines(20, 30) }.check("U-then-u");
}

#[test]
fn diff_unprocessed_files_are_kept() {
    // Old `.u` files (a processor never finished them) are neither counted for `n` nor removed.
    let Some(c) = c_svlogd() else { return };
    let t = TempDir::new("svlogd-keep-u");
    let mut snaps = Vec::new();
    for (who, prog) in [("c", c), ("rs", bin("svlogd"))] {
        let d = t.join(who);
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("config"), "s50\nn2\n").unwrap();
        std::fs::write(d.join("@400000000000000000000001.u"), "first\n").unwrap();
        std::fs::write(d.join("@400000000000000000000002.s"), "second\n").unwrap();
        std::fs::write(d.join("@400000000000000000000003.u"), "third\n").unwrap();
        std::fs::write(d.join("@400000000000000000000004.t"), "leftover\n").unwrap();
        let (code, err) = run_file(&prog, &[who], t.path(), &lines(12, 20));
        assert_eq!(code, 0, "{who}: {err}");
        snaps.push(snapshot(&d));
    }
    let names = |v: &Vec<(String, u32, Vec<u8>)>| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&snaps[1]), names(&snaps[0]));
    assert_eq!(snaps[1], snaps[0]);
    assert_eq!(snaps[0].iter().filter(|f| f.0 == "@.u").count(), 2, "C keeps both .u files");
}

/// Runs C's svlogd (`c`) and ours, each in its own directory under `t` made ready by `setup`,
/// with `args` and `input`; both must exit 0. Their standard error, C's first.
fn stderr_of_both(
    t: &TempDir,
    c: PathBuf,
    setup: impl Fn(&Path),
    args: &[&str],
    input: &[u8],
) -> Vec<String> {
    let mut errs = Vec::new();
    for (who, prog) in [("c", c), ("rs", bin("svlogd"))] {
        let cwd = t.join(who);
        std::fs::create_dir_all(&cwd).unwrap();
        setup(&cwd);
        let (code, err) = run_file(&prog, args, &cwd, input);
        assert_eq!(code, 0, "{who}: {err}");
        errs.push(err);
    }
    errs
}

#[test]
fn diff_warning_texts() {
    // Error texts are C runit's words ("file does not exist"), not the system's.
    let Some(c) = c_svlogd() else { return };
    let t = TempDir::new("svlogd-warntext");
    let setup = |cwd: &Path| {
        std::fs::create_dir_all(cwd.join("d/config")).unwrap();
        std::fs::create_dir(cwd.join("e")).unwrap();
    };
    let errs = stderr_of_both(&t, c, setup, &["missing", "d", "e", "e"], b"x\n");
    assert!(errs[0].contains("file does not exist"), "C's words: {}", errs[0]);
    assert_eq!(errs[1], errs[0]);
}

fn without_stamps(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 24 {
            out.push('X');
            rest = &rest[24..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn diff_verbose_info_lines() {
    // -v: the same info lines as C, `read: <dir>/config` only where a config file exists, a
    // rotation and a prune included.
    let Some(c) = c_svlogd() else { return };
    let t = TempDir::new("svlogd-verbose");
    let setup = |cwd: &Path| {
        std::fs::create_dir_all(cwd.join("cfg")).unwrap();
        std::fs::create_dir_all(cwd.join("bare")).unwrap();
        std::fs::write(cwd.join("cfg/config"), "s100\nn2\n").unwrap();
    };
    // Rotated files are named by the time: `@` and 24 hex digits become `@X`.
    let errs: Vec<Vec<String>> =
        stderr_of_both(&t, c, setup, &["-v", "cfg", "bare"], &lines(40, 30))
            .iter()
            .map(|err| err.lines().map(without_stamps).collect())
            .collect();
    assert!(errs[0].iter().any(|l| l == "svlogd: info: read: cfg/config"), "{:?}", errs[0]);
    assert!(!errs[0].iter().any(|l| l.starts_with("svlogd: info: read: bare")), "{:?}", errs[0]);
    assert!(
        errs[0].iter().any(|l| l == "svlogd: info: rename: cfg/current @X.s 100"),
        "{:?}",
        errs[0]
    );
    assert!(errs[0].iter().any(|l| l == "svlogd: info: delete: cfg/@X.s"), "{:?}", errs[0]);
    assert_eq!(errs[1], errs[0]);
}

#[test]
fn bad_config_lines_are_named_and_the_rest_applies() {
    let t = TempDir::new("svlogd-badcfg");
    std::fs::create_dir(t.join("d")).unwrap();
    let cfg = "s100\nbogus line\nn99999999999999999999999\nu300.1.2.3\nU1.2.3.4:0\nt5x\npP:\n";
    std::fs::write(t.join("d/config"), cfg).unwrap();
    let (code, err) = run_file(&bin("svlogd"), &["d"], t.path(), &lines(50, 30));
    assert_eq!(code, 0, "{err}");
    for n in [
        "line 2: unknown configuration line: bogus line",
        "line 3: number too large",
        "line 4: ",
        "line 5: ",
        "line 6: ",
    ] {
        assert!(err.contains(&format!("d/config: {n}")), "missing warning {n:?} in {err}");
    }
    let rotated = snapshot(&t.join("d")).iter().filter(|f| f.0 == "@.s").count();
    assert!(rotated >= 5, "s100 still applies");
    let want: Vec<String> =
        String::from_utf8(lines(50, 30)).unwrap().lines().map(|l| format!("P:{l}")).collect();
    assert_eq!(all_lines(&t.join("d")), want, "the prefix still applies, and U did not take");
}

/// All log lines of a directory, oldest first, joined across files (a small `s` cuts lines).
fn all_lines(dir: &Path) -> Vec<String> {
    String::from_utf8_lossy(&all_bytes(dir)).lines().map(str::to_string).collect()
}

/// The concatenated log files of a directory, oldest first.
fn all_bytes(dir: &Path) -> Vec<u8> {
    log_bytes(dir, |n| n.starts_with('@') || n == "current")
}

/// The concatenated files of a directory whose names `pick` takes, in name order.
fn log_bytes(dir: &Path, pick: impl Fn(&str) -> bool) -> Vec<u8> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| pick(n))
        .collect();
    names.sort();
    names.into_iter().flat_map(|n| std::fs::read(dir.join(n)).unwrap_or_default()).collect()
}

#[test]
fn signals_alrm_hup_term() {
    let t = TempDir::new("svlogd-signals");
    std::fs::create_dir(t.join("d")).unwrap();
    // -v: its "sigterm received." tells when TERM was handled.
    let mut s = start(&bin("svlogd"), &["-v", "d"], t.path());
    writeln!(stdin(&mut s.0), "first").unwrap();
    wait_for("first line", LONG, || {
        std::fs::read(t.join("d/current")).is_ok_and(|c| c == b"first\n")
    });
    signal(&s.0, libc::SIGALRM);
    wait_for("rotation on ALRM", LONG, || {
        all_lines(&t.join("d")) == ["first"]
            && std::fs::read(t.join("d/current")).is_ok_and(|c| c.is_empty())
    });
    std::fs::write(t.join("d/config"), "pnew: \n").unwrap();
    signal(&s.0, libc::SIGHUP);
    wait_for("config reread", LONG, || {
        writeln!(stdin(&mut s.0), "probe").unwrap();
        std::fs::read_to_string(t.join("d/current")).is_ok_and(|c| c.contains("new: probe"))
    });
    write!(stdin(&mut s.0), "no newline").unwrap();
    stdin(&mut s.0).flush().unwrap();
    wait_for("partial line read", LONG, || unread(stdin(&mut s.0)) == 0);
    // TERM in the middle of a line: svlogd reads on to the end of that line (as C svlogd,
    // which then drops it; we keep it), and nothing beyond it.
    signal(&s.0, libc::SIGTERM);
    wait_for("TERM handled", LONG, || stderr_of(t.path()).contains("sigterm received"));
    write!(stdin(&mut s.0), ", then the rest\nnot for this svlogd\n").unwrap();
    stdin(&mut s.0).flush().unwrap();
    assert_eq!(wait_exit(&mut s.0), 0);
    let lines = all_lines(&t.join("d"));
    assert_eq!(lines.last().map(String::as_str), Some("new: no newline, then the rest"));
}

#[test]
fn time_rotation() {
    let t = TempDir::new("svlogd-t");
    std::fs::create_dir(t.join("d")).unwrap();
    std::fs::write(t.join("d/config"), "t1\n").unwrap();
    let mut s = start(&bin("svlogd"), &["d"], t.path());
    writeln!(stdin(&mut s.0), "aging").unwrap();
    // The line has to be found in a rotated file: an empty current alone could be read before
    // svlogd wrote the line there.
    wait_for("t1 rotation", LONG, || {
        log_bytes(&t.join("d"), |n| n.starts_with('@')) == b"aging\n"
            && std::fs::read(t.join("d/current")).is_ok_and(|c| c.is_empty())
    });
    drop(s.0.stdin.take());
    assert_eq!(wait_exit(&mut s.0), 0);
    let rotated: Vec<_> =
        snapshot(&t.join("d")).into_iter().filter(|f| f.0.starts_with('@')).collect();
    assert_eq!(rotated.len(), 1, "an empty current is not rotated again");
    assert_eq!(rotated[0].1, 0o744);
}

#[test]
fn processor_with_state_and_retry() {
    let t = TempDir::new("svlogd-proc");
    std::fs::create_dir(t.join("d")).unwrap();
    // Fails on its first run; uppercases otherwise and counts its runs in state (fd 4 -> 5).
    let p = "!if [ ! -e ../failed ]; then touch ../failed; exit 1; fi; tr a-z A-Z; cat <&4 >&5; echo run >&5";
    std::fs::write(t.join("d/config"), format!("s60\nn100\n{p}\n")).unwrap();
    let mut s = start(&bin("svlogd"), &["d"], t.path());
    for i in 0..10 {
        writeln!(stdin(&mut s.0), "line number {i:02} of the log").unwrap();
    }
    drop(s.0.stdin.take());
    assert_eq!(wait_exit(&mut s.0), 0);
    let snap = snapshot(&t.join("d"));
    assert!(
        snap.iter().all(|f| f.0 != "@.u" && f.0 != "@.t"),
        "nothing left unprocessed: {:?}",
        snap.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let done: Vec<_> = snap.iter().filter(|f| f.0 == "@.s").collect();
    assert_eq!(done.len(), 4, "60-byte files of 29-byte lines");
    assert!(done.iter().all(|f| f.1 == 0o744 && f.2.len() == 60));
    let text = String::from_utf8(all_bytes(&t.join("d"))).unwrap();
    assert!(text.starts_with("LINE NUMBER 00 OF THE LOG\nLINE NUMBER 01"), "{text}");
    let state = std::fs::read_to_string(t.join("d/state")).unwrap();
    assert_eq!(state, "run\n".repeat(4));
    assert!(stderr_of(t.path()).contains("processor failed, restart: d"));
    let want: String = (0..10).map(|i| format!("LINE NUMBER {i:02} OF THE LOG\n")).collect();
    assert_eq!(text.to_uppercase(), want);
    assert!(text.ends_with("of the log\n"), "current is not processed yet: {text}");
}

#[test]
fn udp_v4_and_v6() {
    let t = TempDir::new("svlogd-udp");
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(LONG)).unwrap();
    let rx6 = UdpSocket::bind("[::1]:0").ok();
    std::fs::create_dir(t.join("d")).unwrap();
    std::fs::create_dir(t.join("only")).unwrap();
    std::fs::write(
        t.join("d/config"),
        format!("u127.0.0.1:{}\npP \n", rx.local_addr().unwrap().port()),
    )
    .unwrap();
    let only = match &rx6 {
        Some(r) => format!("U[::1]:{}\n", r.local_addr().unwrap().port()),
        None => {
            eprintln!("skipped: IPv6 part of the UDP test: no ::1");
            format!("U127.0.0.1:{}\n", rx.local_addr().unwrap().port())
        }
    };
    std::fs::write(t.join("only/config"), only).unwrap();
    let (code, err) =
        run_file(&bin("svlogd"), &["-l", "8", "d", "only"], t.path(), b"hello\nlong line here\n");
    assert_eq!(code, 0, "{err}");
    let mut buf = [0u8; 100];
    let mut got = Vec::new();
    let n = if rx6.is_some() { 2 } else { 4 };
    for _ in 0..n {
        let k = rx.recv(&mut buf).unwrap();
        got.push(buf[..k].to_vec());
    }
    if let Some(r) = &rx6 {
        r.set_read_timeout(Some(LONG)).unwrap();
        for _ in 0..2 {
            let k = r.recv(&mut buf).unwrap();
            got.push(buf[..k].to_vec());
        }
    }
    for want in [&b"P hello\n"[..], b"P long lin...\n", b"hello\n", b"long lin...\n"] {
        assert!(
            got.iter().any(|g| g == want),
            "missing {:?} in {got:?}",
            String::from_utf8_lossy(want)
        );
    }
    assert_eq!(std::fs::read(t.join("d/current")).unwrap(), b"P hello\nP long line here\n");
    assert_eq!(std::fs::read(t.join("only/current")).unwrap(), b"", "U: UDP only");
}

#[test]
fn lost_directory_does_not_stop_the_others() {
    let t = TempDir::new("svlogd-lost");
    for d in ["a", "b"] {
        std::fs::create_dir(t.join(d)).unwrap();
        std::fs::write(t.join(d).join("config"), "s200\nn1000\n").unwrap();
    }
    let mut s = start(&bin("svlogd"), &["a", "b"], t.path());
    writeln!(stdin(&mut s.0), "before").unwrap();
    wait_for("first line in b", LONG, || all_lines(&t.join("b")) == ["before"]);
    std::fs::remove_dir_all(t.join("a")).unwrap();
    for i in 0..100 {
        writeln!(stdin(&mut s.0), "after {i:03} ....................").unwrap();
    }
    drop(s.0.stdin.take());
    assert_eq!(wait_exit(&mut s.0), 0);
    let b = all_lines(&t.join("b"));
    assert_eq!(b.len(), 101);
    assert_eq!(b[100], "after 099 ....................");
    assert!(stderr_of(t.path()).contains("log directory lost: a"), "{}", stderr_of(t.path()));
}

#[test]
fn disk_full_keeps_every_line_in_order() {
    if !util::root_or_skip("the disk-full test (mounts a tmpfs)") {
        return;
    }
    let t = TempDir::new("svlogd-full");
    let Some(fs) = Mount::tmpfs(&t.join("mnt"), "256k") else { return };
    let d = fs.0.join("log");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("config"), "s20000\nn1000\n").unwrap();
    let mut s = start(&bin("svlogd"), &[d.to_str().unwrap()], t.path());
    writeln!(stdin(&mut s.0), "line 00000 before the disk filled up").unwrap();
    wait_for("first line", LONG, || all_lines(&d).len() == 1);
    fill(&fs.0.join("filler"));
    let total = 3000;
    for i in 1..total {
        writeln!(stdin(&mut s.0), "line {i:05} while the disk is full....").unwrap();
    }
    wait_for("a disk-full warning", LONG, || stderr_of(t.path()).contains("out of disk space"));
    std::fs::remove_file(fs.0.join("filler")).unwrap();
    drop(s.0.stdin.take());
    assert_eq!(wait_exit(&mut s.0), 0);
    let got = all_lines(&d);
    assert_eq!(got.len(), total, "every line arrived");
    for (i, l) in got.iter().enumerate() {
        assert!(l.starts_with(&format!("line {i:05} ")), "line {i} out of order: {l}");
    }
    assert!(stderr_of(t.path()).contains("writing again"));
}

#[test]
fn disk_full_with_min_files_prunes_old_ones() {
    if !util::root_or_skip("the disk-full N test (mounts a tmpfs)") {
        return;
    }
    let t = TempDir::new("svlogd-fullN");
    let Some(fs) = Mount::tmpfs(&t.join("mnt"), "128k") else { return };
    let d = fs.0.join("log");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("config"), "s8000\nn100\nN2\n").unwrap();
    // 100 KiB of lines into 128 KiB: old files must go to make room, down to N=2.
    let (code, err) = run_file(&bin("svlogd"), &[d.to_str().unwrap()], t.path(), &lines(8000, 60));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("out of disk space, delete"), "{err}");
    let got = all_lines(&d);
    let last = got.last().unwrap();
    assert!(last.starts_with("007999"), "the newest line is there: {last}");
    let files = snapshot(&d).iter().filter(|f| f.0.starts_with('@')).count();
    assert!(files >= 2, "N2 keeps two old files: {files}");
}
