//! The timestamps `-t`, `-tt` and `-ttt` put before each line (all OSes): 25 bytes and a space,
//! exactly as C svlogd writes them. The date part is cached per second: a busy logger stamps
//! millions of lines a second and converting calendar dates for each would show.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::tai::Tai64n;

/// Length of a stamp including its trailing space.
pub const LEN: usize = 26;

/// Formats stamps of one kind (1, 2 or 3 `t`s).
#[derive(Debug, Clone)]
pub struct Stamper {
    kind: u8,
    cached_sec: u64,
    cached: [u8; LEN],
}

impl Stamper {
    pub fn new(kind: u8) -> Stamper {
        Stamper { kind, cached_sec: u64::MAX, cached: [b' '; LEN] }
    }

    /// The stamp for the current time.
    pub fn now(&mut self) -> [u8; LEN] {
        self.at(SystemTime::now())
    }

    /// The stamp for `t`.
    pub fn at(&mut self, t: SystemTime) -> [u8; LEN] {
        let tai = Tai64n::from_system(t);
        if self.kind <= 1 {
            let mut s = [b' '; LEN];
            s[0] = b'@';
            s[1..25].copy_from_slice(&tai.to_hex());
            return s;
        }
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if secs != self.cached_sec {
            self.cached = date_part(secs, if self.kind == 2 { b'_' } else { b'T' });
            self.cached_sec = secs;
        }
        let mut s = self.cached;
        // Five digits of the fraction: C prints nine and overwrites the sixth with the space.
        put(&mut s[20..25], u64::from(tai.nanos / 10_000));
        s
    }
}

/// `YYYY-MM-DD?HH:MM:SS.` in UTC, then space for the fraction and the trailing space.
fn date_part(secs: u64, sep: u8) -> [u8; LEN] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let mut s = [b' '; LEN];
    put(&mut s[0..4], y.clamp(0, 9999) as u64);
    s[4] = b'-';
    put(&mut s[5..7], u64::from(m));
    s[7] = b'-';
    put(&mut s[8..10], u64::from(d));
    s[10] = sep;
    put(&mut s[11..13], rem / 3600);
    s[13] = b':';
    put(&mut s[14..16], rem / 60 % 60);
    s[16] = b':';
    put(&mut s[17..19], rem % 60);
    s[19] = b'.';
    s
}

/// Zero-padded decimal filling `out`.
fn put(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats() {
        let t = UNIX_EPOCH + Duration::new(1_134_897_230, 976_189_999);
        assert_eq!(&Stamper::new(2).at(t), b"2005-12-18_09:13:50.97618 ");
        assert_eq!(&Stamper::new(3).at(t), b"2005-12-18T09:13:50.97618 ");
        let s = Stamper::new(1).at(UNIX_EPOCH + Duration::new(1, 5));
        assert_eq!(&s, b"@400000000000000b00000005 ");
        let leap = UNIX_EPOCH + Duration::new(951_782_400, 0);
        assert_eq!(&Stamper::new(2).at(leap)[..19], b"2000-02-29_00:00:00");
    }
}
