//! svlogd's own pattern matching (all OSes), as svlogd(8) describes it: not a regular
//! expression. A plain byte matches itself; `+` matches the byte after it one or more times;
//! `*` matches up to (not including) the next pattern byte, or everything when it ends the
//! pattern. The quirks of C svlogd are kept, since configs are written against them: a `*`
//! stops at the first occurrence of the next byte, and a `+` repetition that reaches the end of
//! the message counts as a match whatever pattern follows.

/// Whether `pat` matches all of `msg`.
pub fn matches(pat: &[u8], msg: &[u8]) -> bool {
    let (mut p, mut s) = (0, 0);
    loop {
        let Some(&c) = pat.get(p) else { return s == msg.len() };
        p += 1;
        match c {
            b'*' => {
                let Some(&next) = pat.get(p) else { return true };
                // Skip up to the first `next`; the pattern then continues at `next` itself.
                match msg.iter().skip(s).position(|&b| b == next) {
                    Some(i) => s += i,
                    None => return false,
                }
            }
            b'+' => {
                // A trailing `+` has nothing to repeat: C compares against the end of the
                // string, which never matches a log byte.
                let Some(&rep) = pat.get(p) else { return false };
                p += 1;
                if msg.get(s) != Some(&rep) {
                    return false;
                }
                while msg.get(s) == Some(&rep) {
                    s += 1;
                }
                if s == msg.len() {
                    return true;
                }
            }
            _ => {
                if msg.get(s) != Some(&c) {
                    return false;
                }
                s += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn man_page_example() {
        let m = b"tcpsvd: info: pid 1977 from 10.4.1.14";
        assert!(!matches(b"*pid*", m));
        assert!(matches(b"*: *: pid *", m));
    }

    #[test]
    fn basics() {
        assert!(matches(b"", b""));
        assert!(!matches(b"", b"a"));
        assert!(matches(b"*", b""));
        assert!(matches(b"*", b"anything"));
        assert!(matches(b"abc", b"abc"));
        assert!(!matches(b"abc", b"abcd"));
        assert!(!matches(b"abcd", b"abc"));
        assert!(matches(b"a*c", b"abbbc"));
        assert!(!matches(b"a*c", b"abcbc"));
        assert!(matches(b"a+bc", b"abbbc"));
        assert!(!matches(b"a+bc", b"ac"));
        // C quirk: a repetition reaching the end of the message matches.
        assert!(matches(b"a+bcd", b"abb"));
        assert!(!matches(b"a+", b"a"));
    }
}
