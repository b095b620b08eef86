//! TAI64 and TAI64N labels, as daemontools and runit write them (all OSes).
//!
//! A TAI64 label is 2^62 + 10 + the Unix time in seconds (the 10 s TAI-UTC offset of 1970
//! that libtai uses; leap seconds after 1970 are ignored, as runit ignores them).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2^62 + 10: the TAI64 label of the Unix epoch.
pub const TAI_EPOCH: u64 = (1 << 62) + 10;

/// A point in time with nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tai64n {
    pub secs: u64,
    pub nanos: u32,
}

impl Tai64n {
    /// The current time.
    pub fn now() -> Tai64n {
        Tai64n::from_system(SystemTime::now())
    }

    /// Converts a system time; times before 1970 clamp to the epoch.
    pub fn from_system(t: SystemTime) -> Tai64n {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Tai64n { secs: TAI_EPOCH + d.as_secs(), nanos: d.subsec_nanos() }
    }

    /// Unix seconds of this label (0 for labels before 1970).
    pub fn unix_secs(&self) -> u64 {
        self.secs.saturating_sub(TAI_EPOCH)
    }

    /// How long after `self` `later` is; zero if it is not later.
    pub fn until(self, later: Tai64n) -> Duration {
        let at = |t: Tai64n| {
            Duration::new(t.secs, 0).saturating_add(Duration::from_nanos(t.nanos.into()))
        };
        at(later).saturating_sub(at(self))
    }

    /// The 12-byte external format: seconds then nanoseconds, big-endian.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.secs.to_be_bytes());
        b[8..].copy_from_slice(&self.nanos.to_be_bytes());
        b
    }

    /// Reads the 12-byte external format.
    pub fn from_bytes(b: &[u8; 12]) -> Tai64n {
        let [s @ .., n0, n1, n2, n3] = *b;
        Tai64n { secs: u64::from_be_bytes(s), nanos: u32::from_be_bytes([n0, n1, n2, n3]) }
    }

    /// The 24 lowercase hex digits svlogd puts after `@` (without the `@`).
    pub fn to_hex(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.to_bytes()) {
            pair.copy_from_slice(&[hex_digit(byte >> 4), hex_digit(byte & 15)]);
        }
        out
    }
}

/// The lowercase hex digit of a nibble (0..=15).
fn hex_digit(n: u8) -> u8 {
    if n < 10 {
        b'0' + n
    } else {
        b'a' + (n - 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_label() {
        let t = Tai64n::from_system(UNIX_EPOCH + Duration::new(1, 5));
        assert_eq!(&t.to_hex(), b"400000000000000b00000005");
        assert_eq!(Tai64n::from_bytes(&t.to_bytes()), t);
        assert_eq!(t.unix_secs(), 1);
    }
}
