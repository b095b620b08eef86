//! Linux resource limits: every limit chpst knows exists (glibc and musl; glibc types the
//! resource argument as an unsigned int, musl as int, and the libc constants follow suit).

use std::io;

use crate::platform::Resource;
use crate::sys::cvt;

/// The libc constant for `r`, typed as this libc's getrlimit wants it.
macro_rules! raw {
    ($r:expr) => {
        match $r {
            Resource::Data => libc::RLIMIT_DATA,
            Resource::Stack => libc::RLIMIT_STACK,
            Resource::LockedMemory => libc::RLIMIT_MEMLOCK,
            Resource::AddressSpace => libc::RLIMIT_AS,
            Resource::OpenFiles => libc::RLIMIT_NOFILE,
            Resource::Processes => libc::RLIMIT_NPROC,
            Resource::FileSize => libc::RLIMIT_FSIZE,
            Resource::CoreSize => libc::RLIMIT_CORE,
            Resource::ResidentSet => libc::RLIMIT_RSS,
            Resource::CpuTime => libc::RLIMIT_CPU,
        }
    };
}

pub fn supported(_r: Resource) -> bool {
    true
}

pub fn get(r: Resource) -> Option<io::Result<libc::rlimit>> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one struct rlimit into `lim`, which outlives the call.
    Some(cvt(unsafe { libc::getrlimit(raw!(r), &mut lim) }).map(|_| lim))
}

pub fn set(r: Resource, lim: &libc::rlimit) -> Option<io::Result<()>> {
    // SAFETY: setrlimit only reads the struct behind the reference.
    Some(cvt(unsafe { libc::setrlimit(raw!(r), lim) }).map(drop))
}
