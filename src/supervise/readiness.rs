//! `supervise/readiness`: whether the current run of a service that declares readiness
//! (`notification-fd`) has said it is ready, and since when (all OSes). runsv writes it like
//! `status` (through `readiness.new` and rename), and before `status`, so a reader that sees a
//! run's pid in `status` already finds that run's readiness. A service that declares nothing
//! has no such file, and sv then behaves as C's.
//!
//! Format, one line, so that `read state since pid text < supervise/readiness` takes it apart:
//! `<state> <since> <pid> <text>\n` where state is `starting` (from the start of the run until
//! it is ready), `ready`, `reloading` (sd_notify's RELOADING=1, until the next READY=1) or
//! `stopping` (STOPPING=1); since is the Unix time that state began, with nine decimals; pid
//! is the run's process; text is the last STATUS= text the service sent (empty if none).

use crate::tai::Tai64n;

/// The longest text kept; what is longer is cut (at a character boundary).
pub const TEXT_MAX: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Starting,
    Ready,
    /// sd_notify's RELOADING=1: not ready until the next READY=1.
    Reloading,
    /// sd_notify's STOPPING=1.
    Stopping,
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Ready => "ready",
            State::Reloading => "reloading",
            State::Stopping => "stopping",
        }
    }
}

/// The readiness of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub state: State,
    pub since: Tai64n,
    pub pid: u32,
    pub text: String,
}

impl Readiness {
    /// A new run: starting.
    pub fn starting(pid: u32, since: Tai64n) -> Readiness {
        Readiness { state: State::Starting, since, pid, text: String::new() }
    }

    /// The file's contents.
    pub fn encode(&self) -> String {
        let state = self.state.word();
        format!(
            "{state} {}.{:09} {} {}\n",
            self.since.unix_secs(),
            self.since.nanos,
            self.pid,
            one_line(&self.text)
        )
    }

    /// Reads the file's contents; None for anything that is not one.
    pub fn decode(data: &[u8]) -> Option<Readiness> {
        let line = std::str::from_utf8(data).ok()?.strip_suffix('\n')?;
        let mut fields = line.splitn(4, ' ');
        let word = fields.next()?;
        let state = [State::Starting, State::Ready, State::Reloading, State::Stopping]
            .into_iter()
            .find(|s| s.word() == word)?;
        let (secs, nanos) = fields.next()?.split_once('.')?;
        if nanos.len() != 9 {
            return None;
        }
        let secs: u64 = secs.parse().ok()?;
        let nanos: u32 = nanos.parse().ok().filter(|&n| n < 1_000_000_000)?;
        let since = Tai64n { secs: crate::tai::TAI_EPOCH.checked_add(secs)?, nanos };
        let pid = fields.next()?.parse().ok()?;
        let text = fields.next().unwrap_or("").to_owned();
        Some(Readiness { state, since, pid, text })
    }
}

/// `text` on one line and at most [`TEXT_MAX`] bytes: control characters become spaces.
pub fn one_line(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > TEXT_MAX {
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let since = Tai64n { secs: crate::tai::TAI_EPOCH + 1_700_000_000, nanos: 5 };
        let mut r = Readiness::starting(42, since);
        assert_eq!(r.encode(), "starting 1700000000.000000005 42 \n");
        assert_eq!(Readiness::decode(r.encode().as_bytes()), Some(r.clone()));
        r.state = State::Ready;
        r.text = "serving on :80".into();
        assert_eq!(r.encode(), "ready 1700000000.000000005 42 serving on :80\n");
        assert_eq!(Readiness::decode(r.encode().as_bytes()), Some(r));
    }

    #[test]
    fn refuses_what_is_not_a_record() {
        for bad in [
            &b""[..],
            b"ready 1.000000000 1 x",
            b"up 1.000000000 1 \n",
            b"ready 1.5 1 \n",
            b"ready x.000000000 1 \n",
            b"ready 1.000000000 -1 \n",
            b"ready 1.000000000\n",
            b"\xff\n",
        ] {
            assert_eq!(Readiness::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn text_is_one_bounded_line() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        let long = "é".repeat(TEXT_MAX);
        let cut = one_line(&long);
        assert!(cut.len() <= TEXT_MAX && cut.len() > TEXT_MAX - 2);
    }
}
