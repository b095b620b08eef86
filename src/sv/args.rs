//! sv's command line (all OSes): the options `-v`, `-w sec`, `-V` parsed the way runit's getopt
//! does (no permutation: options end at the first argument that is not one), and the command
//! word turned into what to send and what to wait for (`protocol::verb`, C's dispatch).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::getopt::{Getopt, Opt};
use crate::supervise::protocol::{verb, Plan};

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
    /// `-j`: JSON Lines instead of the text lines.
    pub json: bool,
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
    let plan = verb(action.as_bytes(), lsb, opts.verbose).ok_or(Refused::Usage { note: None })?;
    Ok(Invocation {
        prog: prog.to_vec(),
        lsb,
        plan,
        wait_secs: opts.wait,
        services,
        json: opts.json,
    })
}

pub fn base_name(p: &[u8]) -> Vec<u8> {
    p.rsplit(|&c| c == b'/').next().unwrap_or_default().to_vec()
}

#[derive(Debug, Default)]
struct Opts {
    verbose: bool,
    wait: Option<u64>,
    json: bool,
}

/// runit's getopt for "w:vV" (`crate::getopt`). Returns the options and the index in `argv`
/// of the first argument after them.
fn getopt(argv: &[OsString], prog: &[u8]) -> Result<(Opts, usize), Refused> {
    let mut o = Opts::default();
    let args = argv.get(1..).unwrap_or_default();
    let mut g = Getopt::new(args, "w:vVj");
    for opt in g.by_ref() {
        match opt {
            Opt::Flag(b'v') => o.verbose = true,
            Opt::Flag(b'j') => o.json = true,
            Opt::Arg(_, val) => {
                o.wait =
                    Some(parse_secs(val.as_bytes()).ok_or_else(|| bad_wait(prog, val.as_bytes()))?);
                o.verbose = true;
            }
            Opt::Flag(_) => {
                return Err(Refused::Usage { note: Some(crate::fail::ID.into()) });
            }
            bad @ (Opt::Illegal(_) | Opt::Missing(_)) => {
                let note = bad.complaint(&String::from_utf8_lossy(prog));
                return Err(Refused::Usage { note });
            }
        }
    }
    Ok((o, argv.len() - g.rest().len()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
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
        // As runit's getopt: a word starting with `--` ends the options and is dropped.
        let inv = parse(&args(&["sv", "--foo", "status", "a"])).2.unwrap();
        assert_eq!(inv.services, args(&["a"]));
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
