//! The 20-byte `supervise/status` record (daemontools' 18 bytes plus runit's two), and the text
//! of `supervise/stat` (all OSes).
//!
//! Layout: TAI64N of the last change (12 bytes, big-endian), pid (4 bytes, little-endian),
//! paused flag, want (`u`/`d`), got-TERM flag, state (0 down, 1 run, 2 finish).

use crate::tai::Tai64n;

/// Size of the record runit writes; daemontools' `svstat` reads the first 18 bytes.
pub const STATUS_LEN: usize = 20;

/// What the supervised process is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Down,
    Run,
    Finish,
}

/// What runsv was told to aim for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Up,
    Down,
    /// `x`: stop and let runsv exit. Recorded as `d` in the binary record.
    Exit,
}

impl Want {
    /// The record's byte: `u`, or `d` for both down and exit.
    pub fn byte(self) -> u8 {
        match self {
            Want::Up => b'u',
            Want::Down | Want::Exit => b'd',
        }
    }

    /// The want of a record's byte: anything but `u` reads as down, as in runit.
    pub fn from_byte(b: u8) -> Want {
        if b == b'u' {
            Want::Up
        } else {
            Want::Down
        }
    }
}

/// One status record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub since: Tai64n,
    /// The field as the record holds it (0: no process), not a `child::Pid`: a record written
    /// by anyone may hold any value, and sv prints it as C's does, unsigned.
    pub pid: u32,
    pub paused: bool,
    pub want: Want,
    pub term_sent: bool,
    pub state: State,
}

/// Why a status record could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than 18 bytes (daemontools writes 18, runit 20).
    Short(usize),
    /// The state byte is none of 0, 1, 2.
    BadState(u8),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Short(n) => write!(f, "status record is {n} bytes, expected {STATUS_LEN}"),
            DecodeError::BadState(b) => write!(f, "status record has unknown state {b}"),
        }
    }
}

impl Status {
    /// The binary record.
    pub fn encode(&self) -> [u8; STATUS_LEN] {
        let mut b = [0u8; STATUS_LEN];
        b[..12].copy_from_slice(&self.since.to_bytes());
        b[12..16].copy_from_slice(&self.pid.to_le_bytes());
        b[16] = u8::from(self.paused);
        b[17] = self.want.byte();
        b[18] = u8::from(self.term_sent);
        b[19] = match self.state {
            State::Down => 0,
            State::Run => 1,
            State::Finish => 2,
        };
        b
    }

    /// Reads a record. An 18-byte daemontools record is accepted: its state is derived from the
    /// pid, as daemontools has no finish state.
    pub fn decode(b: &[u8]) -> Result<Status, DecodeError> {
        let Some((head, runit)) = b.split_first_chunk::<18>() else {
            return Err(DecodeError::Short(b.len()));
        };
        let [t @ .., p0, p1, p2, p3, paused, want] = *head;
        let pid = u32::from_le_bytes([p0, p1, p2, p3]);
        let state = match runit.get(1) {
            None if pid != 0 => State::Run,
            None | Some(0) => State::Down,
            Some(1) => State::Run,
            Some(2) => State::Finish,
            Some(x) => return Err(DecodeError::BadState(*x)),
        };
        Ok(Status {
            since: Tai64n::from_bytes(&t),
            pid,
            paused: paused != 0,
            want: Want::from_byte(want),
            term_sent: runit.first().is_some_and(|x| *x != 0),
            state,
        })
    }

    /// The line runsv writes to `supervise/stat` (without the newline).
    pub fn stat_text(&self) -> String {
        let mut s = String::from(match self.state {
            State::Down => "down",
            State::Run => "run",
            State::Finish => "finish",
        });
        if self.paused {
            s.push_str(", paused");
        }
        if self.term_sent {
            s.push_str(", got TERM");
        }
        if self.state != State::Down {
            match self.want {
                Want::Down => s.push_str(", want down"),
                Want::Exit => s.push_str(", want exit"),
                Want::Up => {}
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Status {
        Status {
            since: Tai64n { secs: crate::tai::TAI_EPOCH + 1_700_000_000, nanos: 42 },
            pid: 0x0102_0304,
            paused: true,
            want: Want::Up,
            term_sent: true,
            state: State::Run,
        }
    }

    #[test]
    fn layout_matches_runit() {
        let b = sample().encode();
        assert_eq!(&b[..8], &(crate::tai::TAI_EPOCH + 1_700_000_000).to_be_bytes());
        assert_eq!(&b[8..12], &42u32.to_be_bytes());
        assert_eq!(&b[12..16], &[4, 3, 2, 1]);
        assert_eq!(&b[16..], &[1, b'u', 1, 1]);
        assert_eq!(Status::decode(&b), Ok(sample()));
    }

    #[test]
    fn bad_records() {
        assert_eq!(Status::decode(&[0; 7]), Err(DecodeError::Short(7)));
        let mut b = sample().encode();
        b[19] = 9;
        assert_eq!(Status::decode(&b), Err(DecodeError::BadState(9)));
    }

    #[test]
    fn daemontools_record() {
        let b = sample().encode();
        let s = Status::decode(&b[..18]).unwrap();
        assert_eq!(s.state, State::Run);
        assert!(!s.term_sent);
    }

    #[test]
    fn stat_line() {
        let mut s = sample();
        s.want = Want::Down;
        assert_eq!(s.stat_text(), "run, paused, got TERM, want down");
        s.state = State::Down;
        assert_eq!(s.stat_text(), "down, paused, got TERM");
    }
}
