//! sv's command line (all OSes): the options `-v`, `-w sec`, `-V` parsed the way runit's getopt
//! does (no permutation: options end at the first argument that is not one), and the command
//! word turned into what to send and what to wait for, following the C program's dispatch.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

/// What sv does to each service before (optionally) waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Write the command letters to `supervise/control`.
    Control,
    /// Print the status line (the `status` command).
    Status,
    /// Nothing (`check` only waits).
    Nothing,
}

/// The meaning of a command word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub act: Act,
    /// The letters sent (for `Control`) and checked while waiting. `C` is `check`'s "whatever
    /// state is wanted".
    pub acts: Vec<u8>,
    /// Wait for the letters to take effect, then report.
    pub wait: bool,
    /// On timeout send `k` (the `force-*` verbs).
    pub kill: bool,
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Base name of argv[0]; anything but `sv` means the LSB init-script mode.
    pub prog: Vec<u8>,
    pub lsb: bool,
    pub plan: Plan,
    /// `-w`, or None for the default (`$SVWAIT` or 7).
    pub wait_secs: Option<u64>,
    /// The service names as given (in LSB mode: the program's base name).
    pub services: Vec<OsString>,
}

/// Why the command line was refused. Messages other than the usage line are already printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Print the usage line; `note` (if any) is printed first, on its own line.
    Usage { note: Option<String> },
}

/// Parses argv (including argv[0]).
pub fn parse(argv: &[OsString]) -> (Vec<u8>, bool, Result<Invocation, Refused>) {
    let prog = base_name(argv.first().map_or(b"sv".as_slice(), |a| a.as_bytes()));
    let lsb = prog != b"sv";
    let res = parse_rest(argv, &prog, lsb);
    (prog, lsb, res)
}

fn parse_rest(argv: &[OsString], prog: &[u8], lsb: bool) -> Result<Invocation, Refused> {
    let (opts, optind) = getopt(argv, prog)?;
    let mut rest = argv.iter().skip(optind);
    let action = rest.next().ok_or(Refused::Usage { note: None })?;
    let services: Vec<OsString> = if lsb {
        vec![OsString::from(std::ffi::OsStr::from_bytes(prog))]
    } else {
        rest.cloned().collect()
    };
    if services.is_empty() {
        return Err(Refused::Usage { note: None });
    }
    let plan = plan(action.as_bytes(), lsb, opts.verbose).ok_or(Refused::Usage { note: None })?;
    Ok(Invocation { prog: prog.to_vec(), lsb, plan, wait_secs: opts.wait, services })
}

pub fn base_name(p: &[u8]) -> Vec<u8> {
    let start = p.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
    p[start..].to_vec()
}

#[derive(Debug, Default)]
struct Opts {
    verbose: bool,
    wait: Option<u64>,
}

/// runit's getopt for "w:vV": clustered flags, `-wN` or `-w N`, `--` ends the options, a lone
/// `-` is an argument. Its messages are `<prog>: illegal option -- c` and
/// `<prog>: option requires an argument -- c`.
fn getopt(argv: &[OsString], prog: &[u8]) -> Result<(Opts, usize), Refused> {
    let mut o = Opts::default();
    let mut i = 1;
    while let Some(arg) = argv.get(i).map(|a| a.as_bytes()) {
        if arg == b"--" {
            return Ok((o, i + 1));
        }
        if arg.len() < 2 || arg[0] != b'-' {
            break;
        }
        let mut j = 1;
        while j < arg.len() {
            match arg[j] {
                b'v' => o.verbose = true,
                b'w' => {
                    let val = if j + 1 < arg.len() {
                        arg[j + 1..].to_vec()
                    } else {
                        i += 1;
                        match argv.get(i) {
                            Some(a) => a.as_bytes().to_vec(),
                            None => {
                                return Err(opt_error(prog, "option requires an argument", b'w'))
                            }
                        }
                    };
                    o.wait = Some(parse_secs(&val).ok_or_else(|| bad_wait(prog, &val))?);
                    o.verbose = true;
                    break;
                }
                b'V' => {
                    eprintln!("$Id: runit-rs {} $", env!("CARGO_PKG_VERSION"));
                    return Err(Refused::Usage { note: None });
                }
                c => return Err(opt_error(prog, "illegal option", c)),
            }
            j += 1;
        }
        i += 1;
    }
    Ok((o, i))
}

fn opt_error(prog: &[u8], what: &str, c: u8) -> Refused {
    let note = format!("{}: {what} -- {}", String::from_utf8_lossy(prog), char::from(c));
    Refused::Usage { note: Some(note) }
}

/// C takes whatever digits lead the value (so `-w abc` meant "no wait at all"); a value that is
/// not a number is refused here instead, as a typo should not turn into a zero timeout.
fn bad_wait(prog: &[u8], val: &[u8]) -> Refused {
    let note = format!(
        "{}: bad number of seconds for option -- w: {}",
        String::from_utf8_lossy(prog),
        String::from_utf8_lossy(val)
    );
    Refused::Usage { note: Some(note) }
}

/// A whole decimal number of seconds; absurdly large values saturate (they mean "forever").
fn parse_secs(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0'))))
}

/// `$SVWAIT` is read as C's scan_ulong reads it: the leading digits, 0 if there are none.
pub fn scan_ulong(s: &[u8]) -> u64 {
    s.iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')))
}

fn p(act: Act, acts: &[u8], wait: bool, kill: bool) -> Option<Plan> {
    Some(Plan { act, acts: acts.to_vec(), wait, kill })
}

/// The command word's meaning, as in runit's sv.c: mostly only the first character counts;
/// the LSB verbs and `check` are matched whole. `-v` makes the plain commands wait.
pub fn plan(action: &[u8], lsb: bool, verbose: bool) -> Option<Plan> {
    use Act::Control as C;
    let first = *action.first()?;
    match first {
        b'x' | b'e' => p(C, b"x", verbose, false),
        b'X' | b'E' => p(C, b"x", true, true),
        b'D' => p(C, b"d", true, true),
        b'T' => p(C, b"tc", true, true),
        b't' if action == b"try-restart" => p(C, b"tc", true, false),
        b'c' if action == b"check" => p(Act::Nothing, b"C", true, false),
        b'u' | b'd' | b'o' | b'p' | b'h' | b'a' | b'i' | b'k' | b'q' | b'1' | b'2' | b't'
        | b'c' => p(C, &[first], verbose, false),
        b's' => match action {
            b"shutdown" => p(C, b"x", true, false),
            b"start" => p(C, b"u", true, false),
            b"stop" => p(C, b"d", true, false),
            _ if lsb && action != b"status" => None,
            _ => p(Act::Status, b"s", false, false),
        },
        b'r' => match action {
            b"restart" => p(C, b"tcu", true, false),
            b"reload" => p(C, b"h", true, false),
            _ => None,
        },
        b'f' => match action {
            b"force-reload" => p(C, b"tc", true, true),
            b"force-restart" => p(C, b"tcu", true, true),
            b"force-shutdown" => p(C, b"x", true, true),
            b"force-stop" => p(C, b"d", true, true),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn commands() {
        assert_eq!(plan(b"up", false, false).unwrap().acts, b"u");
        assert_eq!(plan(b"upper", false, false).unwrap().acts, b"u");
        assert_eq!(
            plan(b"term", false, true).unwrap(),
            Plan { act: Act::Control, acts: b"t".to_vec(), wait: true, kill: false }
        );
        assert_eq!(plan(b"try-restart", false, false).unwrap().acts, b"tc");
        assert_eq!(plan(b"check", false, false).unwrap().act, Act::Nothing);
        assert_eq!(plan(b"cont", false, false).unwrap().acts, b"c");
        assert_eq!(plan(b"sfoo", false, false).unwrap().act, Act::Status);
        assert_eq!(plan(b"sfoo", true, false), None);
        assert_eq!(plan(b"status", true, false).unwrap().act, Act::Status);
        assert_eq!(plan(b"restart", false, false).unwrap().acts, b"tcu");
        assert_eq!(plan(b"rfoo", false, false), None);
        assert!(plan(b"force-stop", false, false).unwrap().kill);
        assert_eq!(plan(b"force-foo", false, false), None);
        assert_eq!(plan(b"", false, false), None);
        assert_eq!(plan(b"zap", false, false), None);
        assert!(plan(b"X", false, false).unwrap().kill);
    }

    #[test]
    fn options() {
        let (_, lsb, r) = parse(&args(&["/bin/sv", "-vw5", "up", "a", "b"]));
        let inv = r.unwrap();
        assert!(!lsb);
        assert_eq!(inv.wait_secs, Some(5));
        assert!(inv.plan.wait);
        assert_eq!(inv.services, args(&["a", "b"]));
        let inv = parse(&args(&["sv", "-w", "3", "--", "down", "-v"])).2.unwrap();
        assert_eq!(inv.wait_secs, Some(3));
        assert_eq!(inv.services, args(&["-v"]));
        // Options end at the first argument that is not one.
        let inv = parse(&args(&["sv", "status", "-v"])).2.unwrap();
        assert_eq!(inv.services, args(&["-v"]));
    }

    #[test]
    fn refusals() {
        for bad in [
            &["sv"][..],
            &["sv", "up"],
            &["sv", "-w"],
            &["sv", "-w", "x1", "up", "a"],
            &["sv", "-w", "", "up", "a"],
            &["sv", "-x", "up", "a"],
            &["sv", "frob", "a"],
        ] {
            assert!(parse(&args(bad)).2.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lsb_mode() {
        let (prog, lsb, r) = parse(&args(&["/etc/init.d/foo", "start", "ignored"]));
        assert_eq!(prog, b"foo");
        assert!(lsb);
        let inv = r.unwrap();
        assert_eq!(inv.services, args(&["foo"]));
        assert!(parse(&args(&["/etc/init.d/foo"])).2.is_err());
        assert!(parse(&args(&["/etc/init.d/foo", "stat"])).2.is_err());
    }

    #[test]
    fn svwait() {
        assert_eq!(scan_ulong(b"12x"), 12);
        assert_eq!(scan_ulong(b"x"), 0);
    }
}
