//! svlogd's command line (all OSes): `[-tttv] [-r c] [-R xyz] [-l len] [-b buflen] dir...`,
//! parsed by runit's getopt (`crate::getopt`).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::getopt::{Getopt, Opt};

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// 0 none, 1 `-t` (TAI64N), 2 `-tt` (`YYYY-MM-DD_HH:MM:SS.xxxxx`), 3 `-ttt` (ISO 8601 `T`).
    pub timestamp: u8,
    pub verbose: bool,
    /// `-r c`, or `_` once `-R` was given.
    pub repl: Option<u8>,
    /// `-R xyz`: bytes replaced in addition to the non-printable ones.
    pub replace: Vec<u8>,
    /// `-l len`: how much of a line patterns, stderr and UDP see.
    pub linemax: usize,
    /// `-b buflen`: C's buffer size. Only checked against `-l`; our buffers are sized for speed.
    pub buflen: usize,
    pub dirs: Vec<OsString>,
}

/// What follows `usage: <argv[0]>`, as C svlogd prints it (which does not mention `-ttt`).
pub const USAGE: &str = " [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...";

/// The command line was refused; the caller prints the note, if any, then the usage line, as C
/// svlogd does (which says nothing more for a bad `-r` or a `-l` not below `-b`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub Option<String>);

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(args: &[OsString]) -> Result<Options, UsageError> {
        let mut o = Options {
            timestamp: 0,
            verbose: false,
            repl: None,
            replace: Vec::new(),
            linemax: 1000,
            buflen: 1024,
            dirs: Vec::new(),
        };
        let mut g = Getopt::new(args, "tvr:R:l:b:V");
        for opt in g.by_ref() {
            match opt {
                Opt::Flag(b't') => o.timestamp = (o.timestamp + 1).min(3),
                Opt::Flag(b'v') => o.verbose = true,
                // -V: runit's version line, then the usage.
                Opt::Flag(_) => return Err(UsageError(Some(crate::fail::ID.into()))),
                Opt::Arg(c, v) => o.value(c, v.as_bytes())?,
                bad @ (Opt::Missing(_) | Opt::Illegal(_)) => {
                    return Err(UsageError(bad.complaint("svlogd")))
                }
            }
        }
        let rest = g.rest();
        o.dirs = rest.to_vec();
        if o.dirs.is_empty() || o.buflen <= o.linemax {
            return Err(UsageError(None));
        }
        Ok(o)
    }

    fn value(&mut self, opt: u8, val: &[u8]) -> Result<(), UsageError> {
        match opt {
            b'r' => match val {
                &[c] if c != 0 => self.repl = Some(c),
                _ => return Err(UsageError(None)),
            },
            b'R' => {
                self.replace = val.to_vec();
                self.repl.get_or_insert(b'_');
            }
            // As C: a missing or zero number means the default.
            b'l' => self.linemax = number(val)?.unwrap_or(1000),
            _ => self.buflen = number(val)?.unwrap_or(1024),
        }
        Ok(())
    }
}

/// The number C's scan_ulong reads: the leading digits, none meaning 0; `None` for 0 (C's "use
/// the default"), so `-l abc` is the default as in C.
fn number(val: &[u8]) -> Result<Option<usize>, UsageError> {
    let digits = val.iter().take_while(|c| c.is_ascii_digit());
    let n = digits.fold(0usize, |n, d| n.saturating_mul(10).saturating_add(usize::from(d - b'0')));
    // More than 256 MiB per line is a typo, not a log line; refuse it rather than allocate it.
    if n > 1 << 28 {
        return Err(UsageError(None));
    }
    Ok(if n == 0 { None } else { Some(n) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Options, UsageError> {
        let v: Vec<OsString> = a.iter().map(OsString::from).collect();
        Options::parse(&v)
    }

    #[test]
    fn flags_and_values() {
        let o = p(&["-ttv", "-r", "x", "-l50", "-b", "100", "d1", "d2"]).unwrap();
        assert_eq!(o.timestamp, 2);
        assert!(o.verbose);
        assert_eq!(o.repl, Some(b'x'));
        assert_eq!((o.linemax, o.buflen), (50, 100));
        assert_eq!(o.dirs, vec![OsString::from("d1"), OsString::from("d2")]);
        assert_eq!(p(&["-tttt", "d"]).unwrap().timestamp, 3);
        assert_eq!(p(&["-R", "ab", "d"]).unwrap().repl, Some(b'_'));
        assert_eq!(p(&["-rx", "-R", "ab", "d"]).unwrap().repl, Some(b'x'));
        assert_eq!(p(&["--", "-d"]).unwrap().dirs, vec![OsString::from("-d")]);
        // As runit's getopt: any word starting with `--` ends the options and is dropped.
        assert_eq!(p(&["-t", "--foo", "-d"]).unwrap().dirs, vec![OsString::from("-d")]);
        assert_eq!(p(&["-", "d"]).unwrap().dirs, vec![OsString::from("-"), OsString::from("d")]);
    }

    #[test]
    fn refused() {
        assert!(p(&[]).is_err());
        assert!(p(&["-r", "ab", "d"]).is_err());
        assert!(p(&["-l", "2000", "d"]).is_err());
        assert!(p(&["-l", "5", "-b", "5", "d"]).is_err());
        assert!(p(&["-x", "d"]).is_err());
        assert!(p(&["-l"]).is_err());
        assert!(p(&["-l", "1000000000", "-b", "2000000000", "d"]).is_err());
        // As C's scan_ulong: the leading digits, none meaning the default.
        assert_eq!(p(&["-l", "abc", "d"]).unwrap().linemax, 1000);
        assert_eq!(p(&["-l", "50x", "d"]).unwrap().linemax, 50);
        let e = p(&["-x", "d"]).unwrap_err();
        assert_eq!(e.0.as_deref(), Some("svlogd: illegal option -- x"));
    }
}
