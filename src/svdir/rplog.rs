//! The readproctitle log of runsvdir (all OSes): the newest bytes written to its stderr pipe,
//! shown in place of its `log` argument so that `ps` shows recent errors.
//!
//! As in runit, the first five bytes of the argument (`log: ` by convention) stay; the rest is a
//! window that scrolls left as bytes arrive. NUL bytes are dropped (they would end the argument).

use crate::platform::ProcTitle;

/// Bytes of the argument that never scroll.
pub const KEEP: usize = 5;
/// runit refuses shorter log arguments.
pub const MIN_LEN: usize = 7;

/// The window and where it is shown.
pub struct Rplog {
    text: Vec<u8>,
    title: Option<ProcTitle>,
}

impl Rplog {
    /// A window over the argument text `arg`, shown through `title` when there is one.
    pub fn new(arg: &[u8], title: Option<ProcTitle>) -> Rplog {
        Rplog { text: arg.to_vec(), title }
    }

    /// Appends `data` to the window and refreshes the title.
    pub fn push(&mut self, data: &[u8]) {
        let room = self.text.len().saturating_sub(KEEP);
        if room == 0 {
            return;
        }
        let data: Vec<u8> = data.iter().copied().filter(|&b| b != 0).collect();
        if data.is_empty() {
            return;
        }
        let win = &mut self.text[KEEP..];
        if data.len() >= room {
            win.copy_from_slice(&data[data.len() - room..]);
        } else {
            win.rotate_left(data.len());
            win[room - data.len()..].copy_from_slice(&data);
        }
        if let Some(t) = self.title.as_mut() {
            t.set(&self.text);
        }
    }

    /// The current text of the argument.
    pub fn text(&self) -> &[u8] {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolls_like_runit() {
        let mut r = Rplog::new(b"log: .....", None);
        r.push(b"ab");
        assert_eq!(r.text(), b"log: ...ab");
        r.push(b"c\0d");
        assert_eq!(r.text(), b"log: .abcd");
        r.push(b"0123456789");
        assert_eq!(r.text(), b"log: 56789");
        r.push(b"");
        assert_eq!(r.text(), b"log: 56789");
    }

    #[test]
    fn matches_runit_byte_shifting() {
        // runit moves bytes 6.. one to the left and puts the new byte last, byte by byte.
        let arg = b"log: ........".to_vec();
        let mut c = arg.clone();
        let input = b"hello\nworld, this is long";
        for &ch in input {
            for i in 6..c.len() {
                c[i - 1] = c[i];
            }
            let n = c.len();
            c[n - 1] = ch;
        }
        let mut r = Rplog::new(&arg, None);
        r.push(&input[..3]);
        r.push(&input[3..]);
        assert_eq!(r.text(), c.as_slice());
    }
}
