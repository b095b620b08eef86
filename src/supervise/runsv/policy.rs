//! A service's stop and restart policy (all Unix): optional files in the service directory
//! (or its `log/`), read when they matter, at each stop or start, so a file changed or removed
//! while the service runs takes effect at the next one. Without them runsv does what C runit
//! does. The names are s6's (`down-signal`, `timeout-kill`, `timeout-finish`) and dinit's
//! (`restart-limit-count`, `restart-limit-interval`); `restart-delay-max` is ours.
//!
//! A file that does not parse is named in one warning with its text, and the setting is then
//! C runit's.

use std::io;
use std::str::FromStr;
use std::time::Duration;

use crate::platform::Signal;

/// The largest number of milliseconds taken (about 35 years): more is a typo.
const MS_MAX: u64 = 1 << 40;

/// What `dinit` takes when only `restart-limit-count` is given.
pub const LIMIT_INTERVAL: Duration = Duration::from_secs(10);

/// The policy files of one service, as read now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// `down-signal`: sent (then CONT) to stop the service instead of TERM.
    pub down_signal: Option<Signal>,
    /// `timeout-kill`: KILL when a service told to stop has not ended after this long.
    pub timeout_kill: Option<Duration>,
    /// `timeout-finish`: KILL `./finish` after this long.
    pub timeout_finish: Option<Duration>,
    /// `restart-delay-max`: exponential backoff after quick deaths, up to this.
    pub delay_max: Option<Duration>,
    /// `restart-limit-count` automatic restarts within `restart-limit-interval` at most.
    pub limit: Option<(u32, Duration)>,
}

impl Policy {
    /// The stop signal: `down-signal` or TERM.
    pub fn stop_signal(&self) -> Signal {
        self.down_signal.unwrap_or(Signal::SIGTERM)
    }
}

/// Reads the policy of the service whose files are `<prefix><name>` (prefix "" or "log/"),
/// warning through `warn` about each file that does not parse.
pub fn read(prefix: &str, warn: &mut dyn FnMut(String)) -> Policy {
    let mut file = |name: &str| -> Option<(String, String)> {
        let path = format!("{prefix}{name}");
        match std::fs::read(&path) {
            Ok(t) => Some((path, String::from_utf8_lossy(&t).trim().to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                warn(format!("unable to read ./{path}: {e}"));
                None
            }
        }
    };
    let down = file("down-signal");
    let kill = file("timeout-kill");
    let finish = file("timeout-finish");
    let delay = file("restart-delay-max");
    let count = file("restart-limit-count");
    let interval = file("restart-limit-interval");
    let mut bad = |(path, text): &(String, String), what: &str, then: &str| {
        warn(format!("./{path}: {what} ({text:?}): {then}"));
    };
    let signal = down.as_ref().and_then(|f| {
        let s = parse_signal(&f.1);
        if s.is_none() {
            bad(f, "not a signal name or number", "stopping with TERM");
        }
        s
    });
    let mut ms = |f: &Option<(String, String)>, then: &str| -> Option<Duration> {
        let f = f.as_ref()?;
        match parse_ms(&f.1) {
            Some(0) => None,
            Some(n) => Some(Duration::from_millis(n)),
            None => {
                bad(f, "not a number of milliseconds", then);
                None
            }
        }
    };
    let timeout_kill = ms(&kill, "never killed");
    let timeout_finish = ms(&finish, "./finish runs as long as it takes");
    let delay_max = ms(&delay, "restarted after a second, as always");
    let window = match &interval {
        Some(f) => match parse_ms(&f.1) {
            Some(n) if n > 0 => Duration::from_millis(n),
            _ => {
                bad(f, "not a positive number of milliseconds", "10000 ms");
                LIMIT_INTERVAL
            }
        },
        None => LIMIT_INTERVAL,
    };
    let limit = count.as_ref().and_then(|f| match parse_ms(&f.1).map(u32::try_from) {
        Some(Ok(0)) => None,
        Some(Ok(n)) => Some((n, window)),
        _ => {
            bad(f, "not a number of restarts", "restarted without limit");
            None
        }
    });
    Policy { down_signal: signal, timeout_kill, timeout_finish, delay_max, limit }
}

/// A signal by name (`TERM` or `SIGTERM`, any case) or number; not 0, not one this OS lacks.
pub fn parse_signal(text: &str) -> Option<Signal> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let n: i32 = text.parse().ok()?;
        return Signal::try_from(n).ok();
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    Signal::from_str(&name).ok()
}

/// Digits only (no sign), at most [`MS_MAX`].
fn parse_ms(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|&n| n <= MS_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM"), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("SIGHUP"), Some(Signal::SIGHUP));
        assert_eq!(parse_signal("quit"), Some(Signal::SIGQUIT));
        assert_eq!(parse_signal("2"), Some(Signal::SIGINT));
        for bad in ["", "0", "999", "-15", "SIG", "TERMX", "15x"] {
            assert_eq!(parse_signal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn milliseconds() {
        assert_eq!(parse_ms("7000"), Some(7000));
        for bad in ["", "-1", "1.5", "1e3", "99999999999999999999", "2000000000000"] {
            assert_eq!(parse_ms(bad), None, "{bad:?}");
        }
    }
}
