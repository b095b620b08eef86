//! `supervise/runs`: what runsv records of a service's runs beyond C's status (all OSes): the
//! automatic restarts since runsv started, how the last run ended, and whether the service is
//! held down by its policy. Written by runsv like `status` (through `runs.new` and rename).
//!
//! Format, one line of `key=value` fields, so that shells and parsers take it apart alike:
//! `restarts=<n> last=<how> at=<when> failed=<why>`, where how is `exit:<code>`,
//! `signal:<number>` or `none` (no run ended yet), when is the Unix time of that end with nine
//! decimals (`-` for none), and why is `no`, `limit` (restarted `restart-limit-count` times
//! within `restart-limit-interval`: runsv gave up) or `finish` (`./finish` exited 125).

use crate::tai::Tai64n;

/// Why runsv keeps a service down on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    Limit,
    Finish,
}

/// What is recorded of the runs of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Runs {
    pub restarts: u32,
    /// The wait status of the last run's end and when it was.
    pub last: Option<(i32, Tai64n)>,
    pub failed: Option<Failed>,
}

impl Runs {
    pub fn encode(&self) -> String {
        let (how, at) = match self.last {
            None => ("none".to_owned(), "-".to_owned()),
            Some((wstat, at)) => {
                let st = crate::child::Status(wstat);
                let how = match (st.exit_code(), st.signal()) {
                    (Some(c), _) => format!("exit:{c}"),
                    (None, Some(s)) => format!("signal:{s}"),
                    (None, None) => format!("status:{wstat}"),
                };
                (how, format!("{}.{:09}", at.unix_secs(), at.nanos))
            }
        };
        let failed = match self.failed {
            None => "no",
            Some(Failed::Limit) => "limit",
            Some(Failed::Finish) => "finish",
        };
        format!("restarts={} last={how} at={at} failed={failed}\n", self.restarts)
    }

    /// Reads a record [`Runs::encode`] wrote; None for anything else.
    pub fn decode(data: &[u8]) -> Option<Runs> {
        let text = std::str::from_utf8(data).ok()?.strip_suffix('\n')?;
        let mut runs = Runs::default();
        let (mut how, mut at) = (None, None);
        for field in text.split(' ') {
            let (k, v) = field.split_once('=')?;
            match k {
                "restarts" => runs.restarts = v.parse().ok()?,
                "last" => how = Some(v),
                "at" => at = Some(v),
                "failed" => runs.failed = Runs::failed_in(format!("failed={v}").as_bytes()),
                _ => {}
            }
        }
        runs.last = match (how?, at?) {
            ("none", _) => None,
            (how, at) => {
                let (kind, n) = how.split_once(':')?;
                let n: i32 = n.parse().ok()?;
                let wstat = match kind {
                    "exit" => (n & 0xff) << 8,
                    "signal" => n & 0x7f,
                    "status" => n,
                    _ => return None,
                };
                let (secs, nanos) = at.split_once('.')?;
                let since = Tai64n {
                    secs: crate::tai::TAI_EPOCH.checked_add(secs.parse().ok()?)?,
                    nanos: nanos.parse().ok().filter(|&n: &u32| n < 1_000_000_000)?,
                };
                Some((wstat, since))
            }
        };
        Some(runs)
    }

    /// Why the record says the service is held down, if it does.
    pub fn failed_in(data: &[u8]) -> Option<Failed> {
        let text = std::str::from_utf8(data).ok()?;
        let field = text.trim_end().split(' ').find_map(|f| f.strip_prefix("failed="))?;
        match field {
            "limit" => Some(Failed::Limit),
            "finish" => Some(Failed::Finish),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let mut r = Runs::default();
        assert_eq!(r.encode(), "restarts=0 last=none at=- failed=no\n");
        let at = Tai64n { secs: crate::tai::TAI_EPOCH + 1_700_000_000, nanos: 5 };
        r.restarts = 3;
        r.last = Some((1 << 8, at));
        r.failed = Some(Failed::Limit);
        assert_eq!(r.encode(), "restarts=3 last=exit:1 at=1700000000.000000005 failed=limit\n");
        assert_eq!(Runs::failed_in(r.encode().as_bytes()), Some(Failed::Limit));
        r.last = Some((9, at));
        r.failed = Some(Failed::Finish);
        assert!(r.encode().contains(" last=signal:9 "));
        assert_eq!(Runs::failed_in(r.encode().as_bytes()), Some(Failed::Finish));
        assert_eq!(Runs::failed_in(b"restarts=0 failed=no\n"), None);
        assert_eq!(Runs::decode(r.encode().as_bytes()), Some(r));
        r.last = Some((3 << 8, at));
        assert_eq!(Runs::decode(r.encode().as_bytes()), Some(r));
        assert_eq!(Runs::decode(Runs::default().encode().as_bytes()), Some(Runs::default()));
        assert_eq!(Runs::decode(b"restarts=x last=none at=- failed=no\n"), None);
        assert_eq!(Runs::failed_in(b"\xff"), None);
    }
}
