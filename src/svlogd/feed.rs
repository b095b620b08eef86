//! Cutting stdin into lines and handing each to the log directories (all OSes), with C
//! svlogd's rules: the first `-l` bytes of a line are what patterns, stderr and UDP see (and
//! what `-r`/`-R` replace); the rest of a longer line is copied to the selected directories as
//! it is. Memory stays bounded: a line is never held beyond its first `-l` bytes.

use std::io::Write;
use std::time::SystemTime;

use super::logdir::LogDir;
use super::options::Options;
use super::pattern;
use super::stamp::{self, Stamper};

/// Where the current line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line.
    Start,
    /// Collecting the first `-l` bytes in `head`.
    Head,
    /// The head was handed out; the rest goes to the directories in `selected`.
    Tail,
}

pub struct Feeder {
    linemax: usize,
    /// Which bytes `-r`/`-R` replace, if any.
    replace: Option<(u8, [bool; 256])>,
    stamper: Option<Stamper>,
    stamp: [u8; stamp::LEN],
    head: Vec<u8>,
    state: State,
    /// Per directory: whether the line in progress is written to it.
    selected: Vec<bool>,
    /// Lines for stderr, written once per batch.
    err: Vec<u8>,
    udp: Vec<u8>,
}

impl Feeder {
    pub fn new(o: &Options, ndirs: usize) -> Feeder {
        let replace = o.repl.map(|c| {
            let mut t = [false; 256];
            for (b, r) in t.iter_mut().enumerate() {
                *r = !(32..=126).contains(&b);
            }
            for &b in &o.replace {
                if let Some(r) = t.get_mut(usize::from(b)) {
                    *r = true;
                }
            }
            (c, t)
        });
        Feeder {
            linemax: o.linemax,
            replace,
            stamper: (o.timestamp > 0).then(|| Stamper::new(o.timestamp)),
            stamp: [b' '; stamp::LEN],
            head: Vec::new(),
            state: State::Start,
            selected: vec![false; ndirs],
            err: Vec::new(),
            udp: Vec::new(),
        }
    }

    /// Feeds one chunk read at `now`. The chunk is changed in place by `-r`.
    pub fn feed(&mut self, mut chunk: &mut [u8], dirs: &mut [LogDir], now: SystemTime) {
        let stamp = self.stamper.as_mut().map(|s| s.at(now));
        while !chunk.is_empty() {
            let used = match self.state {
                State::Tail => self.tail(chunk, dirs),
                State::Start | State::Head => {
                    if self.state == State::Start {
                        self.stamp = stamp.unwrap_or(self.stamp);
                    }
                    self.head_part(chunk, dirs)
                }
            };
            // `used` counts bytes of this chunk, so it is never past its end.
            chunk = chunk.get_mut(used..).unwrap_or_default();
        }
        self.flush_err();
    }

    /// Whether a line was begun and has not ended yet.
    pub fn mid_line(&self) -> bool {
        self.state != State::Start
    }

    /// End of input: a line without its newline is still a line (C drops it).
    pub fn finish(&mut self, dirs: &mut [LogDir]) {
        match self.state {
            State::Start => {}
            State::Head => {
                let head = std::mem::take(&mut self.head);
                self.emit(&head, dirs, false, true);
            }
            State::Tail => self.end_tail(dirs),
        }
        self.state = State::Start;
        self.flush_err();
    }

    /// Consumes bytes of the first `-l` of a line; returns how many.
    fn head_part(&mut self, chunk: &mut [u8], dirs: &mut [LogDir]) -> usize {
        let room = self.linemax - self.head.len();
        let (window, _) = chunk.split_at_mut(chunk.len().min(room));
        let nl = find_newline(window);
        let (part, _) = window.split_at_mut(nl.unwrap_or(window.len()));
        let take = part.len();
        if let Some((c, t)) = &self.replace {
            for b in part.iter_mut() {
                if t.get(usize::from(*b)) == Some(&true) {
                    *b = *c;
                }
            }
        }
        let full = nl.is_none() && take == room;
        if nl.is_none() && !full {
            // The chunk ends inside the head: keep it for the next chunk.
            self.head.extend_from_slice(part);
            self.state = State::Head;
            return take;
        }
        let complete = nl.is_some();
        if self.head.is_empty() {
            self.emit(part, dirs, full, complete);
        } else {
            let mut head = std::mem::take(&mut self.head);
            head.extend_from_slice(part);
            self.emit(&head, dirs, full, complete);
            head.clear();
            self.head = head;
        }
        self.state = if complete { State::Start } else { State::Tail };
        take + usize::from(complete)
    }

    /// Copies the rest of a long line to the directories that selected it.
    fn tail(&mut self, chunk: &[u8], dirs: &mut [LogDir]) -> usize {
        let nl = find_newline(chunk);
        let (part, _) = chunk.split_at(nl.unwrap_or(chunk.len()));
        for (d, _) in dirs.iter_mut().zip(&self.selected).filter(|(_, s)| **s) {
            d.q.append(part);
        }
        match nl {
            Some(i) => {
                self.end_tail(dirs);
                i + 1
            }
            None => chunk.len(),
        }
    }

    fn end_tail(&mut self, dirs: &mut [LogDir]) {
        for (d, _) in dirs.iter_mut().zip(&self.selected).filter(|(_, s)| **s) {
            d.q.end_line();
        }
        self.state = State::Start;
    }

    /// Hands a line's first `-l` bytes to every directory. `full`: it is `-l` bytes long (C
    /// marks it with `...` on stderr and UDP); `complete`: its newline was seen.
    fn emit(&mut self, line: &[u8], dirs: &mut [LogDir], full: bool, complete: bool) {
        let st = self.stamp;
        let stamp: &[u8] = if self.stamper.is_some() { &st } else { b"" };
        let dots: &[u8] = if full { b"..." } else { b"" };
        // `selected` has one entry per directory.
        for (d, selected) in dirs.iter_mut().zip(self.selected.iter_mut()) {
            *selected = false;
            if !d.is_open() {
                continue;
            }
            let (sel, err) = decide(&d.cfg.patterns, line);
            if err {
                for p in [stamp, &d.cfg.prefix, line, dots, b"\n"] {
                    self.err.extend_from_slice(p);
                }
            }
            if !sel {
                continue;
            }
            if d.cfg.udp.is_some() {
                self.udp.clear();
                for p in [stamp, &d.cfg.prefix, line, dots, b"\n"] {
                    self.udp.extend_from_slice(p);
                }
                d.send_udp(&self.udp, stamp, line);
            }
            if d.cfg.udponly {
                continue;
            }
            if complete {
                d.q.line(&[stamp, &d.cfg.prefix, line]);
            } else {
                d.q.append(stamp);
                d.q.append(&d.cfg.prefix);
                d.q.append(line);
                *selected = true;
            }
        }
    }

    fn flush_err(&mut self) {
        if !self.err.is_empty() {
            let _ = std::io::stderr().write_all(&self.err);
            self.err.clear();
        }
    }
}

/// Applies the `+ - e E` lines in order: (written to the directory, printed to stderr).
fn decide(patterns: &[(u8, Vec<u8>)], line: &[u8]) -> (bool, bool) {
    let (mut sel, mut err) = (true, false);
    for (c, p) in patterns {
        match c {
            b'+' | b'-' if pattern::matches(p, line) => sel = *c == b'+',
            b'e' | b'E' if pattern::matches(p, line) => err = *c == b'e',
            // A pattern that does not match, or a config line of another kind (the config
            // keeps only these four).
            _ => {}
        }
    }
    (sel, err)
}

/// The first newline, eight bytes at a time (the classic zero-byte test on `word ^ 0x0a0a..`).
pub fn find_newline(b: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut skipped = 0;
    for w in b.chunks_exact(8).filter_map(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*w) ^ NL;
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        skipped += 8;
    }
    b.iter().skip(skipped).position(|&c| c == b'\n').map(|p| p + skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_search() {
        let mut v = vec![b'x'; 100];
        assert_eq!(find_newline(&v), None);
        for at in [0, 1, 7, 8, 9, 63, 99] {
            v[at] = b'\n';
            assert_eq!(find_newline(&v), Some(at));
            v[at] = 0x8a; // a byte that differs from '\n' only in the high bit
            assert_eq!(find_newline(&v), None);
            v[at] = b'x';
        }
    }

    #[test]
    fn decisions_in_order() {
        let pats = vec![(b'-', b"*".to_vec()), (b'+', b"a*".to_vec()), (b'e', b"*x".to_vec())];
        assert_eq!(decide(&pats, b"abc"), (true, false));
        assert_eq!(decide(&pats, b"bcx"), (false, true));
        assert_eq!(decide(&[], b"q"), (true, false));
    }
}
