//! Option parsing the way runit's sgetopt does it, for chpst, utmpset, sv and svlogd (all OSes):
//! bundled flags (`-vP`), option arguments attached or separate (`-uroot`, `-u root`); parsing
//! stops at the first argument not starting with `-`, at a lone `-` (kept), and after `--` (dropped;
//! as in sgetopt, any word starting with `--` counts as `--`).

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// One parsed option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// A flag without argument.
    Flag(u8),
    /// An option with its argument.
    Arg(u8, OsString),
    /// A letter not in the spec.
    Illegal(u8),
    /// An option whose argument is missing.
    Missing(u8),
}

impl Opt {
    /// The message sgetopt prints for a bad option, e.g. `chpst: illegal option -- x`.
    pub fn complaint(&self, prog: &str) -> Option<String> {
        match self {
            Opt::Illegal(c) => Some(format!("{prog}: illegal option -- {}", *c as char)),
            Opt::Missing(c) => {
                Some(format!("{prog}: option requires an argument -- {}", *c as char))
            }
            Opt::Flag(_) | Opt::Arg(..) => None,
        }
    }
}

/// Walks `args` (without argv[0]) against a spec like `"u:U:vP"` (a letter followed by `:`
/// takes an argument). After iteration, [`Getopt::rest`] is what follows the options.
pub struct Getopt<'a> {
    args: &'a [OsString],
    spec: &'static [u8],
    ind: usize,
    pos: usize,
    done: bool,
}

impl<'a> Getopt<'a> {
    pub fn new(args: &'a [OsString], spec: &'static str) -> Getopt<'a> {
        Getopt { args, spec: spec.as_bytes(), ind: 0, pos: 0, done: false }
    }

    /// The operands after the options (valid once the iterator returned `None`).
    pub fn rest(&self) -> &'a [OsString] {
        self.args.get(self.ind..).unwrap_or_default()
    }

    /// Whether `c` takes an argument: `Some(true)`, `Some(false)`, or `None` if unknown.
    fn takes_arg(&self, c: u8) -> Option<bool> {
        let i = self.spec.iter().position(|&s| s == c && s != b':')?;
        Some(self.spec.get(i + 1) == Some(&b':'))
    }

    /// Moves to the next word when the current bundle is used up; false at the end of options.
    fn start_word(&mut self) -> bool {
        if self.pos > 0 && self.pos >= self.args.get(self.ind).map_or(0, |w| w.len()) {
            self.ind += 1;
            self.pos = 0;
        }
        if self.pos > 0 {
            return true;
        }
        let Some(word) = self.args.get(self.ind).map(|w| w.as_bytes()) else {
            return false;
        };
        match word {
            [b'-', b'-', ..] => {
                self.ind += 1;
                false
            }
            [b'-', _, ..] => {
                self.pos = 1;
                true
            }
            _ => false,
        }
    }

    fn option_argument(&mut self, c: u8) -> Opt {
        let word = self.args.get(self.ind).map_or(&[][..], |w| w.as_bytes());
        let attached = word.get(self.pos..).unwrap_or_default();
        self.ind += 1;
        self.pos = 0;
        if !attached.is_empty() {
            return Opt::Arg(c, OsStr::from_bytes(attached).to_os_string());
        }
        match self.args.get(self.ind) {
            Some(next) => {
                self.ind += 1;
                Opt::Arg(c, next.clone())
            }
            None => Opt::Missing(c),
        }
    }
}

impl Iterator for Getopt<'_> {
    type Item = Opt;

    fn next(&mut self) -> Option<Opt> {
        if self.done || !self.start_word() {
            self.done = true;
            return None;
        }
        // start_word left `pos` on a byte of the word `ind`.
        let Some(&c) = self.args.get(self.ind).and_then(|w| w.as_bytes().get(self.pos)) else {
            self.done = true;
            return None;
        };
        self.pos += 1;
        match self.takes_arg(c) {
            None => Some(Opt::Illegal(c)),
            Some(false) => Some(Opt::Flag(c)),
            Some(true) => Some(self.option_argument(c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    fn parse(a: &[&str], spec: &'static str) -> (Vec<Opt>, Vec<OsString>) {
        let v = args(a);
        let mut g = Getopt::new(&v, spec);
        let opts: Vec<Opt> = g.by_ref().collect();
        (opts, g.rest().to_vec())
    }

    #[test]
    fn bundles_and_arguments() {
        let (o, r) = parse(&["-vP", "-unobody", "-e", "dir", "prog", "-x"], "u:e:vP");
        assert_eq!(
            o,
            vec![
                Opt::Flag(b'v'),
                Opt::Flag(b'P'),
                Opt::Arg(b'u', "nobody".into()),
                Opt::Arg(b'e', "dir".into())
            ]
        );
        assert_eq!(r, args(&["prog", "-x"]));
    }

    #[test]
    fn double_dash_and_lone_dash() {
        let (o, r) = parse(&["-v", "--", "-prog"], "v");
        assert_eq!(o, vec![Opt::Flag(b'v')]);
        assert_eq!(r, args(&["-prog"]));
        let (o, r) = parse(&["-", "x"], "v");
        assert!(o.is_empty());
        assert_eq!(r, args(&["-", "x"]));
    }

    #[test]
    fn bad_options() {
        let (o, _) = parse(&["-vx"], "v");
        assert_eq!(o[1], Opt::Illegal(b'x'));
        assert_eq!(o[1].complaint("chpst").unwrap(), "chpst: illegal option -- x");
        let (o, _) = parse(&["-u"], "u:");
        assert_eq!(o, vec![Opt::Missing(b'u')]);
        let (o, _) = parse(&["-:"], "u:");
        assert_eq!(o, vec![Opt::Illegal(b':')]);
    }
}
