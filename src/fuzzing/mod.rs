//! Fuzz harnesses (all OSes): one function per fuzz target, fed arbitrary bytes. Each calls the
//! library code the programs use on untrusted input and checks what must hold whatever the
//! input; a broken property is an `assert!` failure, which the fuzzer reports as a crash.
//!
//! The targets in `fuzz/` (cargo fuzz, built with the `fuzzing` feature) call these, and the
//! unit tests below replay every input kept in `fuzz/regressions/<target>/`, so `cargo test`
//! covers each crash ever found without cargo-fuzz. Compiled only for tests and fuzzing.

mod runsv;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use crate::supervise::status::{State, Status, Want, STATUS_LEN};

/// A harness: takes the fuzzer's bytes, panics when a property breaks.
pub type Harness = fn(&[u8]);

/// Every target: its name (the file in `fuzz/fuzz_targets/` and the regression folder) and its
/// harness.
pub const TARGETS: &[(&str, Harness)] = &[
    ("status_decode", status_decode),
    ("svlogd_config", svlogd_config),
    ("svlogd_pattern", svlogd_pattern),
    ("svlogd_options", svlogd_options),
    ("svlogd_outq", svlogd_outq),
    ("envdir_value", envdir_value),
    ("runsv_control", runsv::control),
    ("sv_args", sv_args),
    ("chpst_args", chpst_args),
    ("chpst_ids", chpst_ids),
    ("runsvdir_rplog", runsvdir_rplog),
    ("notify_datagram", notify_datagram),
];

/// Runs the harness named `target` (a fuzz target's name) on `data`.
pub fn run(target: &str, data: &[u8]) {
    let harness = TARGETS.iter().find(|(name, _)| *name == target).map(|(_, h)| h);
    assert!(harness.is_some(), "unknown fuzz target {target}");
    if let Some(h) = harness {
        h(data);
    }
}

/// `supervise/status` as sv reads it: a record decodes or is refused, never anything else,
/// and what decodes survives a round trip through runsv's encoder.
pub fn status_decode(data: &[u8]) {
    let Ok(st) = Status::decode(data) else {
        assert!(data.len() < 18 || data.get(19).is_some_and(|s| *s > 2));
        return;
    };
    let _ = st.stat_text();
    let again = Status::decode(&st.encode());
    assert_eq!(again, Ok(st), "round trip changed the record");
    if data.len() >= STATUS_LEN {
        assert_eq!(st.encode().get(..12), data.get(..12), "timestamp not kept");
    }
    if st.state == State::Down && data.len() == 18 {
        assert_eq!(st.pid, 0);
    }
    assert!(st.want != Want::Exit, "the binary record cannot say exit");
}

/// A log directory's `config`: every line either applies or is named in a warning.
pub fn svlogd_config(data: &[u8]) {
    let (cfg, warnings) = crate::svlogd::config::Config::parse(data);
    let lines = data.split(|&b| b == b'\n').count();
    assert!(warnings.len() <= lines);
    let pats = data
        .split(|&b| b == b'\n')
        .filter(|l| matches!(l.first(), Some(b'+' | b'-' | b'e' | b'E')));
    assert_eq!(cfg.patterns.len(), pats.count(), "pattern lines lost");
    assert!(!cfg.udponly || cfg.udp.is_some(), "udp-only without an address");
}

/// svlogd's pattern matcher against a transcription of C svlogd's pmatch(): the first byte
/// says where the pattern ends and the message starts.
pub fn svlogd_pattern(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else { return };
    let (pat, msg) = rest.split_at(usize::from(cut).min(rest.len()));
    let ours = crate::svlogd::pattern::matches(pat, msg);
    // C's pattern is a C string: a NUL would end it early, so such patterns are not compared.
    if !pat.contains(&0) {
        assert_eq!(ours, c_pmatch(pat, msg), "differs from C on {pat:?} / {msg:?}");
    }
}

/// runit 2.1.2's pmatch(), transcribed with the byte past the end of the message (which C
/// reads) taken to be one no pattern byte equals.
fn c_pmatch(pat: &[u8], msg: &[u8]) -> bool {
    let (mut p, mut s) = (pat.iter(), msg);
    let at = |s: &[u8]| s.first().copied().map(i32::from).unwrap_or(-1);
    loop {
        let Some(&c) = p.next() else { return s.is_empty() };
        match c {
            b'*' => {
                let Some(&next) = p.clone().next() else { return true };
                loop {
                    if s.is_empty() {
                        return false;
                    }
                    if at(s) == i32::from(next) {
                        break;
                    }
                    s = s.get(1..).unwrap_or_default();
                }
            }
            b'+' => {
                let rep = p.next().map_or(-2, |&r| i32::from(r));
                if rep != at(s) {
                    return false;
                }
                loop {
                    if s.is_empty() {
                        return true;
                    }
                    if at(s) != rep {
                        break;
                    }
                    s = s.get(1..).unwrap_or_default();
                }
            }
            _ => {
                if s.is_empty() || at(s) != i32::from(c) {
                    return false;
                }
                s = s.get(1..).unwrap_or_default();
            }
        }
    }
}

/// Arguments cut from the bytes at each NUL.
fn argv(data: &[u8]) -> Vec<OsString> {
    if data.is_empty() {
        return Vec::new();
    }
    data.split(|&b| b == 0).map(|a| OsString::from_vec(a.to_vec())).collect()
}

/// svlogd's command line.
pub fn svlogd_options(data: &[u8]) {
    let args = argv(data);
    if let Ok(o) = crate::svlogd::options::Options::parse(&args) {
        assert!(!o.dirs.is_empty());
        assert!(o.buflen > o.linemax);
        assert!(o.timestamp <= 3);
        assert!(o.repl != Some(0));
    }
}

/// svlogd's output queue: every byte queued comes out once and in order, and no file grows
/// past `s`. Bytes: `s` (one byte), `-l` (one byte), then operations.
pub fn svlogd_outq(data: &[u8]) {
    use crate::svlogd::outq::{Next, OutQ};
    let [s, l, ops @ ..] = data else { return };
    let sizemax = u64::from(*s);
    let mut q = OutQ::new(sizemax, usize::from(*l));
    let mut queued = Vec::new();
    let mut files: Vec<Vec<u8>> = vec![Vec::new()];
    let mut ops = ops.iter();
    while let Some(&op) = ops.next() {
        let n = usize::from(op & 0x1f);
        let bytes: Vec<u8> = ops.by_ref().take(n).copied().collect();
        match op >> 5 {
            0 => q.append(&bytes),
            1 => q.end_line(),
            2 => q.rotate_now(),
            3 => q.line(&[&bytes, b"|"]),
            _ => drain(&mut q, &mut files, usize::from(op & 7) + 1),
        }
        match op >> 5 {
            0 => queued.extend_from_slice(&bytes),
            1 => queued.push(b'\n'),
            3 => queued.extend(bytes.iter().chain(b"|\n")),
            _ => {}
        }
    }
    drain(&mut q, &mut files, usize::MAX);
    assert!(q.is_idle());
    assert_eq!(files.concat(), queued, "bytes lost, doubled or reordered");
    if sizemax > 0 {
        assert!(files.iter().all(|f| f.len() as u64 <= sizemax), "a file grew past s");
    }

    fn drain(q: &mut OutQ, files: &mut Vec<Vec<u8>>, step: usize) {
        loop {
            match q.next() {
                Next::Idle => return,
                Next::Write(b) => {
                    assert!(!b.is_empty(), "empty write would never end");
                    let n = b.len().min(step);
                    let chunk = b.get(..n).unwrap_or_default().to_vec();
                    if let Some(f) = files.last_mut() {
                        f.extend_from_slice(&chunk);
                    }
                    q.written(n);
                }
                Next::Rotate => {
                    files.push(Vec::new());
                    q.rotated();
                }
            }
        }
    }
}

/// An envdir file's first line: bounded, trimmed, never holding the newline that ended it.
pub fn envdir_value(data: &[u8]) {
    use crate::chpst::envdir::{value_of, VALUE_MAX};
    use std::os::unix::ffi::OsStrExt;
    let line_len = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    match value_of(data) {
        Ok(None) => assert!(data.is_empty()),
        Ok(Some(v)) => {
            let v = v.as_bytes();
            assert!(v.len() <= line_len.min(VALUE_MAX));
            assert!(!matches!(v.last(), Some(b' ' | b'\t')));
            assert!(!v.contains(&0));
            assert!(data.starts_with(
                &v.iter().map(|&b| if b == b'\n' { 0 } else { b }).collect::<Vec<u8>>()
            ));
        }
        Err(_) => assert!(line_len > VALUE_MAX),
    }
}

/// sv's command line, as sv and as an LSB init script (the first byte picks argv[0]).
pub fn sv_args(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let mut args = vec![OsString::from(if pick & 1 == 0 { "sv" } else { "/etc/init.d/foo" })];
    args.extend(argv(rest));
    let (prog, lsb, parsed) = crate::sv::args::parse(&args);
    assert_eq!(lsb, prog != b"sv");
    if let Ok(inv) = parsed {
        assert!(!inv.services.is_empty());
        // Only a control command sends letters, and it sends at least one.
        let control = inv.plan.act == crate::supervise::protocol::Act::Control;
        assert_eq!(control, !inv.plan.letters.is_empty());
        assert!(inv.plan.wait || inv.plan.goals.len() <= 1);
    }
}

/// chpst's command line under each of its names (the first byte picks argv[0]).
pub fn chpst_args(data: &[u8]) {
    const NAMES: [&str; 9] = [
        "chpst",
        "/usr/bin/chpst",
        "envdir",
        "envuidgid",
        "setuidgid",
        "pgrphack",
        "setlock",
        "dsetlock",
        "softlimit",
    ];
    let Some((&pick, rest)) = data.split_first() else { return };
    let name = NAMES.get(usize::from(pick) % NAMES.len()).copied().unwrap_or("chpst");
    let mut args = vec![OsString::from(name)];
    args.extend(argv(rest));
    let inv = crate::cmd::chpst::parse(&args);
    if let crate::cmd::chpst::Parsed::Run(_, prog) = inv.parsed {
        assert!(!prog.is_empty(), "a plan without a program");
    }
}

/// chpst's `-u`/`-U` identity argument (`user:group...`, `:uid:gid...`), looked up in the
/// system's account database.
pub fn chpst_ids(data: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let spec = std::ffi::OsStr::from_bytes(data);
    if let Ok(ids) = crate::chpst::ids::resolve_extended(spec) {
        assert!(!ids.gids.is_empty() && ids.gids.len() <= 60, "{ids:?}");
    }
}

/// runsvdir's scrolling log window: the first byte is the length of the argument it lives in,
/// the rest is cut into writes at each 0xff. The argument keeps its length and its first five
/// bytes, the window holds no NUL, and its end is the newest bytes written.
pub fn runsvdir_rplog(data: &[u8]) {
    use crate::svdir::rplog::{Rplog, KEEP};
    let Some((&len, rest)) = data.split_first() else { return };
    let arg: Vec<u8> =
        b"log: ".iter().copied().chain(std::iter::repeat(b'.')).take(usize::from(len)).collect();
    let mut r = Rplog::new(&arg, None);
    let mut all = Vec::new();
    for write in rest.split(|&b| b == 0xff) {
        r.push(write);
        all.extend(write.iter().copied().filter(|&b| b != 0));
        let text = r.text();
        assert_eq!(text.len(), arg.len());
        assert_eq!(text.get(..KEEP.min(arg.len())), arg.get(..KEEP.min(arg.len())));
        let win = text.get(KEEP..).unwrap_or_default();
        assert!(!win.contains(&0));
        let shown = win.len().min(all.len());
        assert_eq!(
            win.get(win.len() - shown..),
            all.get(all.len() - shown..),
            "not the newest bytes"
        );
    }
}

/// An sd_notify datagram as runsv parses it (whatever a service, or anybody who can reach the
/// socket, sends), and the readiness record runsv then writes and sv reads back: what is
/// parsed comes from the datagram, and the record round-trips whatever the text.
pub fn notify_datagram(data: &[u8]) {
    use crate::supervise::readiness::{self, Readiness};
    use crate::supervise::runsv::notify::{parse_datagram, DATAGRAM_MAX};
    let d = data.get(..DATAGRAM_MAX).unwrap_or(data);
    let m = parse_datagram(d);
    let lines: Vec<&[u8]> = d.split(|&b| b == b'\n').collect();
    assert_eq!(m.ready, lines.contains(&&b"READY=1"[..]));
    assert_eq!(m.watchdog, lines.contains(&&b"WATCHDOG=1"[..]));
    if let Some(text) = m.status {
        let line = [b"STATUS=", text.as_bytes()].concat();
        assert!(lines.contains(&line.as_slice()), "STATUS= text not from a line");
        let since = crate::tai::Tai64n { secs: crate::tai::TAI_EPOCH + 1, nanos: 2 };
        let mut r = Readiness::starting(1, since);
        r.text = readiness::one_line(text);
        assert!(r.text.len() <= readiness::TEXT_MAX);
        assert_eq!(Readiness::decode(r.encode().as_bytes()), Some(r));
    }
    // sv reads supervise/readiness, whoever wrote it.
    if let Some(r) = Readiness::decode(data) {
        assert!(r.since.secs >= crate::tai::TAI_EPOCH);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every input kept under `fuzz/regressions/<target>/` (crashes once found, and seeds).
    #[test]
    fn regressions() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let mut ran = 0;
        for (name, harness) in TARGETS {
            let Ok(dir) = std::fs::read_dir(root.join(name)) else { continue };
            for entry in dir {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                eprintln!("replaying {}", path.display());
                harness(&data);
                ran += 1;
            }
        }
        assert!(ran > 0, "no regression inputs found under {}", root.display());
    }

    #[test]
    fn pmatch_transcription_agrees_on_the_man_page() {
        let m = b"tcpsvd: info: pid 1977 from 10.4.1.14";
        assert!(!c_pmatch(b"*pid*", m));
        assert!(c_pmatch(b"*: *: pid *", m));
        assert!(c_pmatch(b"a+bcd", b"abb"));
        assert!(!c_pmatch(b"a+", b"a"));
    }

    #[test]
    fn every_target_takes_empty_and_small_inputs() {
        for (_, harness) in TARGETS {
            for data in [&b""[..], b"\0", b"\n", b"\xff\xff\xff", &[0u8; 40]] {
                harness(data);
            }
        }
    }
}
