//! Resource limits on every OS (Linux, the BSDs, macOS, illumos, and the POSIX fallback): one
//! table from chpst's resources to the libc constants, with the OS differences marked where they
//! are. FreeBSD, DragonFly and illumos call the address-space limit RLIMIT_VMEM (as C runit
//! prefers it), OpenBSD has none; only Linux, the BSDs and macOS limit locked memory, processes
//! and the resident set size. glibc types the resource argument as an unsigned int, musl and
//! the others as int: the table is a macro so each libc's constants keep their own type.

use std::io;

use crate::platform::{unsupported, RLimit, Resource};
use crate::sys::cvt;

/// The libc constant for `r`; `return None` from the caller when this OS lacks it.
macro_rules! raw {
    ($r:expr) => {
        match $r {
            Resource::Data => libc::RLIMIT_DATA,
            Resource::Stack => libc::RLIMIT_STACK,
            Resource::OpenFiles => libc::RLIMIT_NOFILE,
            Resource::FileSize => libc::RLIMIT_FSIZE,
            Resource::CoreSize => libc::RLIMIT_CORE,
            Resource::CpuTime => libc::RLIMIT_CPU,
            #[cfg(any(target_os = "freebsd", target_os = "dragonfly", solarish))]
            Resource::AddressSpace => libc::RLIMIT_VMEM,
            #[cfg(target_os = "openbsd")]
            Resource::AddressSpace => return None,
            #[cfg(not(any(
                target_os = "freebsd",
                target_os = "dragonfly",
                target_os = "openbsd",
                solarish
            )))]
            Resource::AddressSpace => libc::RLIMIT_AS,
            #[cfg(any(target_os = "linux", bsd, apple))]
            Resource::LockedMemory => libc::RLIMIT_MEMLOCK,
            #[cfg(any(target_os = "linux", bsd, apple))]
            Resource::Processes => libc::RLIMIT_NPROC,
            #[cfg(any(target_os = "linux", bsd, apple))]
            Resource::ResidentSet => libc::RLIMIT_RSS,
            #[cfg(not(any(target_os = "linux", bsd, apple)))]
            Resource::LockedMemory | Resource::Processes | Resource::ResidentSet => return None,
        }
    };
}

pub fn supported(r: Resource) -> bool {
    known(r).is_some()
}

fn known(r: Resource) -> Option<()> {
    let _ = raw!(r);
    Some(())
}

/// Reads limit `r` (getrlimit(2)).
pub fn get(r: Resource) -> io::Result<RLimit> {
    let raw = get_raw(r).unwrap_or_else(|| Err(unsupported_rlimit(r)))?;
    Ok(RLimit { soft: from_raw(raw.rlim_cur), hard: from_raw(raw.rlim_max) })
}

/// Sets limit `r` (setrlimit(2)).
pub fn set(r: Resource, lim: RLimit) -> io::Result<()> {
    let raw = libc::rlimit { rlim_cur: to_raw(lim.soft), rlim_max: to_raw(lim.hard) };
    set_raw(r, &raw).unwrap_or_else(|| Err(unsupported_rlimit(r)))
}

fn unsupported_rlimit(r: Resource) -> io::Error {
    unsupported(&format!("the {r:?} resource limit"))
}

// rlim_t is signed on FreeBSD, unsigned elsewhere: the conversion is only useless on some OSes.
#[allow(clippy::useless_conversion)]
fn from_raw(v: libc::rlim_t) -> u64 {
    if v == libc::RLIM_INFINITY {
        u64::MAX
    } else {
        u64::try_from(v).unwrap_or(u64::MAX)
    }
}

/// Values at or above the OS's RLIM_INFINITY (0x7fff... on the BSDs) mean unlimited there.
fn to_raw(v: u64) -> libc::rlim_t {
    match libc::rlim_t::try_from(v) {
        Ok(raw) if raw < libc::RLIM_INFINITY => raw,
        _ => libc::RLIM_INFINITY,
    }
}

fn get_raw(r: Resource) -> Option<io::Result<libc::rlimit>> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one struct rlimit into `lim`, which outlives the call.
    Some(cvt(unsafe { libc::getrlimit(raw!(r), &mut lim) }).map(|_| lim))
}

fn set_raw(r: Resource, lim: &libc::rlimit) -> Option<io::Result<()>> {
    // SAFETY: setrlimit only reads the struct behind the reference.
    Some(cvt(unsafe { libc::setrlimit(raw!(r), lim) }).map(drop))
}
