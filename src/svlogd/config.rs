//! A log directory's `config` file (all OSes): `s n N t ! u U p + - e E` lines, as svlogd(8)
//! describes them. Unlike C svlogd, a line that cannot be used is reported (naming the line)
//! instead of being half-applied; every other line still applies. A number followed by other
//! text is used as C svlogd uses it (`s2000 # note` is 2000), with a warning.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// What one log directory is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `s`: rotate when `current` reaches this many bytes; 0 never.
    pub sizemax: u64,
    /// `n`: keep at most this many old files; 0 keeps all.
    pub nmax: u64,
    /// `N`: when the disk is full, delete old files down to this many.
    pub nmin: u64,
    /// `t`: rotate a non-empty `current` after this many seconds; 0 never.
    pub tmax: u64,
    /// `!`: shell command fed each rotated file.
    pub processor: Option<Vec<u8>>,
    /// `u`/`U`: where selected lines are also sent.
    pub udp: Option<SocketAddr>,
    /// `U`: send through UDP only, do not write to the directory.
    pub udponly: bool,
    /// `p`: written before each line.
    pub prefix: Vec<u8>,
    /// `+ - e E` lines in order: the letter and the pattern after it.
    pub patterns: Vec<(u8, Vec<u8>)>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sizemax: 1_000_000,
            nmax: 10,
            nmin: 10,
            tmax: 0,
            processor: None,
            udp: None,
            udponly: false,
            prefix: Vec::new(),
            patterns: Vec::new(),
        }
    }
}

/// The syslog port, used when a `u` line names none.
const SYSLOG_PORT: u16 = 514;

impl Config {
    /// Parses a config file. Returns the configuration and one message per unusable line
    /// (`line N: why: text`), for the caller to print as warnings.
    pub fn parse(text: &[u8]) -> (Config, Vec<String>) {
        let mut c = Config::default();
        let mut warnings = Vec::new();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if let Err(why) | Ok(Some(why)) = c.line(line) {
                let shown = String::from_utf8_lossy(line);
                warnings.push(format!("line {}: {why}: {shown}", i + 1));
            }
        }
        (c, warnings)
    }

    /// Applies one line; an error leaves the configuration as it was, `Ok(Some(why))` applied
    /// the line but ignored part of it.
    fn line(&mut self, line: &[u8]) -> Result<Option<&'static str>, &'static str> {
        let Some((&cmd, arg)) = line.split_first() else { return Ok(None) };
        let mut note = None;
        let mut num = |units: &[(u8, u64)]| {
            let (n, why) = scaled(arg, units)?;
            note = why;
            Ok::<u64, &'static str>(n)
        };
        match cmd {
            b'#' => {}
            b'+' | b'-' | b'e' | b'E' => self.patterns.push((cmd, arg.to_vec())),
            b's' => self.sizemax = num(&[(b'k', 1024), (b'm', 1024 * 1024)])?,
            b'n' => self.nmax = num(&[])?,
            b'N' => self.nmin = num(&[])?,
            b't' => self.tmax = num(&[(b'm', 60), (b'h', 3600)])?,
            b'!' if !arg.is_empty() => self.processor = Some(arg.to_vec()),
            b'p' if !arg.is_empty() => self.prefix = arg.to_vec(),
            // As C: a bare `!` or `p` leaves the earlier value.
            b'!' | b'p' => {}
            b'u' | b'U' => {
                self.udp = Some(udp_address(arg)?);
                // As C svlogd: once a `U` line was seen, a later `u` only changes the address.
                self.udponly |= cmd == b'U';
            }
            _ => return Err("unknown configuration line"),
        }
        Ok(note)
    }
}

/// A decimal number with an optional unit letter right after it. As in C svlogd, whatever
/// follows is ignored (`n3x` is 3, `s2000 # note` is 2000); that comes back as a warning.
fn scaled(arg: &[u8], units: &[(u8, u64)]) -> Result<(u64, Option<&'static str>), &'static str> {
    let (digits, rest) = arg.split_at(arg.iter().take_while(|b| b.is_ascii_digit()).count());
    if digits.is_empty() {
        return Err("not a number");
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .ok_or("number too large")?;
    }
    let mut rest = rest;
    if let Some((u, after)) = rest.split_first() {
        if let Some((_, f)) = units.iter().find(|(c, _)| c == u) {
            n = n.checked_mul(*f).ok_or("number too large")?;
            rest = after;
        }
    }
    // Trailing blanks (or a DOS line end) are harmless; anything else is worth a word.
    let ignored = rest.iter().any(|b| !matches!(b, b' ' | b'\t' | b'\r'));
    Ok((n, ignored.then_some("text after the number ignored")))
}

/// `a.b.c.d[:port]`, `[v6addr][:port]` or a bare IPv6 address.
fn udp_address(arg: &[u8]) -> Result<SocketAddr, &'static str> {
    const BAD: &str = "not a usable UDP address";
    let s = std::str::from_utf8(arg).map_err(|_| BAD)?;
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, SYSLOG_PORT));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or(BAD)?;
        let ip: IpAddr = addr.parse().map_err(|_| BAD)?;
        let port = match after {
            "" => SYSLOG_PORT,
            p => port(p.strip_prefix(':').ok_or(BAD)?)?,
        };
        return Ok(SocketAddr::new(ip, port));
    }
    let (addr, p) = s.split_once(':').ok_or(BAD)?;
    let ip: Ipv4Addr = addr.parse().map_err(|_| BAD)?;
    Ok(SocketAddr::new(IpAddr::V4(ip), port(p)?))
}

fn port(p: &str) -> Result<u16, &'static str> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err("not a usable port number"),
        Ok(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config() {
        let text = b"# comment\n\ns4k\nn5\nN2\nt2m\n!gzip\nu10.0.0.1:5000\npPFX: \n-*\n+a*\ne*x\n";
        let (c, w) = Config::parse(text);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!((c.sizemax, c.nmax, c.nmin, c.tmax), (4096, 5, 2, 120));
        assert_eq!(c.processor.as_deref(), Some(&b"gzip"[..]));
        assert_eq!(c.udp, Some("10.0.0.1:5000".parse().unwrap()));
        assert!(!c.udponly);
        assert_eq!(c.prefix, b"PFX: ");
        assert_eq!(c.patterns.len(), 3);
        assert_eq!(c.patterns[1], (b'+', b"a*".to_vec()));
    }

    #[test]
    fn udp_only_stays_after_a_later_u() {
        let (c, w) = Config::parse(b"U127.0.0.1:9\nu127.0.0.2:10\n");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.udp, Some("127.0.0.2:10".parse().unwrap()));
        assert!(c.udponly);
    }

    #[test]
    fn number_then_text_is_the_number() {
        let (c, w) = Config::parse(b"s2000 # note\nn3x\nt2mins\nN1 \r\n");
        assert_eq!((c.sizemax, c.nmax, c.tmax, c.nmin), (2000, 3, 120, 1));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("line 1: text after the number ignored"), "{w:?}");
    }

    #[test]
    fn units_and_v6() {
        let (c, w) = Config::parse(b"s1m\nt1h\nU[::1]:99\n");
        assert!(w.is_empty());
        assert_eq!((c.sizemax, c.tmax), (1 << 20, 3600));
        assert_eq!(c.udp, Some("[::1]:99".parse().unwrap()));
        assert!(c.udponly);
        let (c, _) = Config::parse(b"u::1\nu127.0.0.1\n");
        assert_eq!(c.udp, Some("127.0.0.1:514".parse().unwrap()));
    }

    #[test]
    fn bad_lines_are_named_and_the_rest_applies() {
        let text = b"s100\nbogus\nn99999999999999999999999\nu300.1.1.1\nu1.2.3.4:0\nsx\ns5q\nN3\n";
        let (c, w) = Config::parse(text);
        assert_eq!(w.len(), 6, "{w:?}");
        assert!(w[0].starts_with("line 2: unknown configuration line: bogus"));
        assert!(w[1].starts_with("line 3: number too large"));
        assert!(w[2].contains("UDP address"));
        assert!(w[3].contains("port"));
        assert!(w[4].starts_with("line 6: not a number: sx"));
        // As C svlogd: the number before the junk is used.
        assert!(w[5].starts_with("line 7: text after the number ignored: s5q"));
        assert_eq!((c.sizemax, c.nmax, c.nmin, c.udp), (5, 10, 3, None));
        assert!(!c.udponly);
    }
}
