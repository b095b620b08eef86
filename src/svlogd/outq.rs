//! One log directory's queue of bytes not yet written, with the points where `current` is to be
//! rotated (all OSes).
//!
//! C svlogd decides about rotation inside each write(2): before a write it rotates if `current`
//! already holds `s` bytes, and it shortens the write so `current` never grows past `s`; after a
//! write that ends a line it rotates if `current` is within `-l` bytes of `s`. The resulting
//! rotation points depend only on the byte stream (how C happens to chunk its writes does not
//! move them), so they are computed here as bytes are queued, and the writer can then write
//! large batches and still cut the files exactly where C does.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub struct OutQ {
    data: Vec<u8>,
    /// Bytes before `head` are written.
    head: usize,
    /// Offsets into `data` where `current` must be rotated, ascending.
    marks: VecDeque<usize>,
    /// What C calls `ld->size`: bytes in `current` at the end of the queue.
    size: u64,
    sizemax: u64,
    linemax: u64,
}

/// What the writer has to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// Nothing queued.
    Idle,
    /// Write these bytes to `current`.
    Write(&'a [u8]),
    /// Rotate `current` before writing on.
    Rotate,
}

impl OutQ {
    pub fn new(sizemax: u64, linemax: usize) -> OutQ {
        OutQ { sizemax, linemax: linemax as u64, ..OutQ::default() }
    }

    /// New limits after the config was reread, and the size of `current` as found on disk plus
    /// whatever is queued for it.
    pub fn reconfigure(&mut self, sizemax: u64, on_disk: u64) {
        self.sizemax = sizemax;
        let last = self.marks.back().copied().unwrap_or(self.head);
        self.size = on_disk + (self.data.len() - last) as u64;
    }

    /// Queues bytes that belong to one line, cutting them where `current` fills up.
    pub fn append(&mut self, mut b: &[u8]) {
        if self.sizemax == 0 {
            self.data.extend_from_slice(b);
            self.size += b.len() as u64;
            return;
        }
        while !b.is_empty() {
            if self.size >= self.sizemax {
                self.rotate_here();
            }
            let room = (self.sizemax - self.size).min(b.len() as u64) as usize;
            let (now, later) = b.split_at(room);
            self.data.extend_from_slice(now);
            self.size += room as u64;
            b = later;
        }
    }

    /// Ends a line: the newline, then C's rotation check after a complete line.
    pub fn end_line(&mut self) {
        self.append(b"\n");
        self.check_line_end();
    }

    fn check_line_end(&mut self) {
        if self.sizemax > 0
            && self.linemax <= self.sizemax
            && self.size >= self.sizemax - self.linemax
        {
            self.rotate_here();
        }
    }

    /// A whole line from its parts, the common case made cheap.
    pub fn line(&mut self, parts: &[&[u8]]) {
        let total: usize = parts.iter().map(|p| p.len()).sum::<usize>() + 1;
        if self.sizemax != 0 && self.size + total as u64 > self.sizemax {
            for p in parts {
                self.append(p);
            }
            return self.end_line();
        }
        self.data.reserve(total);
        for p in parts {
            self.data.extend_from_slice(p);
        }
        self.data.push(b'\n');
        self.size += total as u64;
        self.check_line_end();
    }

    /// Rotation asked for from outside (ALRM, `t`): only a non-empty `current` is rotated.
    pub fn rotate_now(&mut self) {
        self.rotate_here();
    }

    fn rotate_here(&mut self) {
        if self.size > 0 {
            self.marks.push_back(self.data.len());
            self.size = 0;
        }
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.data.len() - self.head
    }

    /// Whether nothing remains to be done.
    pub fn is_idle(&self) -> bool {
        self.pending() == 0 && self.marks.is_empty()
    }

    pub fn next(&self) -> Next<'_> {
        // `head` <= every mark <= `data.len()`.
        let unwritten = self.data.get(self.head..).unwrap_or_default();
        match self.marks.front().map(|m| m.saturating_sub(self.head)) {
            Some(0) => Next::Rotate,
            Some(n) => Next::Write(unwritten.get(..n).unwrap_or(unwritten)),
            None if !unwritten.is_empty() => Next::Write(unwritten),
            None => Next::Idle,
        }
    }

    /// `n` bytes of the last [`Next::Write`] reached the file.
    pub fn written(&mut self, n: usize) {
        self.head += n;
        self.compact();
    }

    /// The rotation of the last [`Next::Rotate`] is done.
    pub fn rotated(&mut self) {
        self.marks.pop_front();
        self.compact();
    }

    /// Drops everything queued (the directory is gone).
    pub fn discard(&mut self) -> usize {
        let n = self.pending();
        self.data.clear();
        self.marks.clear();
        self.head = 0;
        n
    }

    /// Moves unwritten bytes to the front once the written part is worth reclaiming.
    fn compact(&mut self) {
        if self.head == 0 || (self.head < self.data.len() && self.head < 1 << 16) {
            return;
        }
        let h = self.head;
        self.data.drain(..h);
        for m in self.marks.iter_mut() {
            *m -= h;
        }
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the queue to the end and returns the files it produced (last one is `current`).
    fn files(q: &mut OutQ) -> Vec<Vec<u8>> {
        let mut out = vec![Vec::new()];
        loop {
            match q.next() {
                Next::Idle => return out,
                Next::Write(b) => {
                    let n = b.len().min(3);
                    out.last_mut().unwrap().extend_from_slice(&b[..n]);
                    q.written(n);
                }
                Next::Rotate => {
                    out.push(Vec::new());
                    q.rotated();
                }
            }
        }
    }

    #[test]
    fn rotates_near_the_limit_after_a_line() {
        let mut q = OutQ::new(10, 4);
        q.line(&[b"abcd"]); // 5 bytes
        q.line(&[b"ef"]); // 8 >= 10 - 4: rotate after it
        q.line(&[b"g"]);
        assert_eq!(files(&mut q), vec![b"abcd\nef\n".to_vec(), b"g\n".to_vec()]);
    }

    #[test]
    fn cuts_a_long_line_at_the_limit() {
        let mut q = OutQ::new(10, 20);
        q.line(&[b"0123456789abc"]);
        assert_eq!(files(&mut q), vec![b"0123456789".to_vec(), b"abc\n".to_vec()]);
    }

    #[test]
    fn no_limit_and_external_rotation() {
        let mut q = OutQ::new(0, 4);
        q.rotate_now(); // empty: nothing to rotate
        q.line(&[b"x", b"y"]);
        q.rotate_now();
        q.rotate_now();
        q.line(&[b"z"]);
        assert_eq!(files(&mut q), vec![b"xy\n".to_vec(), b"z\n".to_vec()]);
    }
}
