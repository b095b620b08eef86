//! Resource limits as chpst and softlimit set them (all OSes, through the platform layer):
//! only the soft limit changes, capped at the hard limit; `=` (or a value above the hard
//! limit) means "as high as the hard limit". Limits the OS lacks are skipped with a warning
//! when verbose, as C runit does.

use std::ffi::OsStr;

use crate::platform::{self, Resource};

use super::Failure;

/// A requested soft limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// Raise to the hard limit (softlimit's `=`).
    Hard,
    /// This many bytes, files, processes or seconds.
    N(u64),
}

/// Every limit that can be requested, in the order C runit applies them, with the warning
/// for an OS that lacks it.
const ORDER: [(Resource, &str); 10] = [
    (Resource::Data, "system does not support RLIMIT_DATA"),
    (Resource::Stack, "system does not support RLIMIT_STACK"),
    (Resource::LockedMemory, "system does not support RLIMIT_MEMLOCK"),
    (Resource::AddressSpace, "system does neither support RLIMIT_VMEM nor RLIMIT_AS"),
    (Resource::OpenFiles, "system does neither support RLIMIT_NOFILE nor RLIMIT_OFILE"),
    (Resource::Processes, "system does not support RLIMIT_NPROC"),
    (Resource::FileSize, "system does not support RLIMIT_FSIZE"),
    (Resource::CoreSize, "system does not support RLIMIT_CORE"),
    (Resource::ResidentSet, "system does not support RLIMIT_RSS"),
    (Resource::CpuTime, "system does not support RLIMIT_CPU"),
];

/// The memory limits `-m` sets: every one the OS has of data, stack, locked memory and
/// address space.
pub const MEMORY: [Resource; 4] =
    [Resource::Data, Resource::Stack, Resource::LockedMemory, Resource::AddressSpace];

/// The requested limits; later requests for the same resource win.
#[derive(Debug, Default, Clone)]
pub struct Limits {
    wanted: Vec<(Resource, Value)>,
}

impl Limits {
    pub fn request(&mut self, r: Resource, v: Value) {
        self.wanted.retain(|(have, _)| *have != r);
        self.wanted.push((r, v));
    }

    fn get(&self, r: Resource) -> Option<Value> {
        self.wanted.iter().find(|(have, _)| *have == r).map(|(_, v)| *v)
    }

    /// Sets every requested limit. Warnings (only when `verbose`) go to `warn`.
    pub fn apply(&self, verbose: bool, warn: &mut dyn FnMut(String)) -> Result<(), Failure> {
        for (r, missing) in ORDER {
            let Some(v) = self.get(r) else { continue };
            if !platform::rlimit_supported(r) {
                if verbose {
                    warn(missing.to_string());
                }
                continue;
            }
            set_soft(r, v)?;
        }
        Ok(())
    }
}

fn set_soft(r: Resource, v: Value) -> Result<(), Failure> {
    let mut lim = platform::get_rlimit(r).map_err(|e| Failure::sys("unable to getrlimit()", e))?;
    lim.soft = match v {
        Value::N(n) if n <= lim.hard => n,
        Value::N(_) | Value::Hard => lim.hard,
    };
    platform::set_rlimit(r, lim).map_err(|e| Failure::sys("unable to setrlimit()", e))
}

/// A decimal count; too large a number means "as high as allowed". `None` for anything but
/// digits (an empty argument included).
pub fn parse_count(s: &OsStr) -> Option<u64> {
    let b = s.as_encoded_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = b.iter().try_fold(0u64, |acc, d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')));
    Some(n.unwrap_or(u64::MAX))
}

/// softlimit's argument: a count or `=`.
pub fn parse_value(s: &OsStr) -> Option<Value> {
    if s == "=" {
        return Some(Value::Hard);
    }
    parse_count(s).map(Value::N)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_count(OsStr::new("0")), Some(0));
        assert_eq!(parse_count(OsStr::new("1048576")), Some(1 << 20));
        assert_eq!(parse_count(OsStr::new("99999999999999999999999")), Some(u64::MAX));
        assert_eq!(parse_count(OsStr::new("")), None);
        assert_eq!(parse_count(OsStr::new("12k")), None);
        assert_eq!(parse_count(OsStr::new("-1")), None);
        assert_eq!(parse_value(OsStr::new("=")), Some(Value::Hard));
    }

    #[test]
    fn later_request_wins() {
        let mut l = Limits::default();
        l.request(Resource::Data, Value::N(5));
        l.request(Resource::Data, Value::Hard);
        assert_eq!(l.get(Resource::Data), Some(Value::Hard));
        assert_eq!(l.get(Resource::Stack), None);
    }
}
