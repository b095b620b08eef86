//! Resource limits on any other POSIX system: only the limits POSIX itself defines (no locked
//! memory, processes or resident set size).

use std::io;

use crate::platform::Resource;
use crate::sys::cvt;

/// The libc constant for `r`; `return None` from the caller when POSIX does not define it.
macro_rules! raw {
    ($r:expr) => {
        match $r {
            Resource::Data => libc::RLIMIT_DATA,
            Resource::Stack => libc::RLIMIT_STACK,
            Resource::AddressSpace => libc::RLIMIT_AS,
            Resource::OpenFiles => libc::RLIMIT_NOFILE,
            Resource::FileSize => libc::RLIMIT_FSIZE,
            Resource::CoreSize => libc::RLIMIT_CORE,
            Resource::CpuTime => libc::RLIMIT_CPU,
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

pub fn get(r: Resource) -> Option<io::Result<libc::rlimit>> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one struct rlimit into `lim`, which outlives the call.
    Some(cvt(unsafe { libc::getrlimit(raw!(r), &mut lim) }).map(|_| lim))
}

pub fn set(r: Resource, lim: &libc::rlimit) -> Option<io::Result<()>> {
    // SAFETY: setrlimit only reads the struct behind the reference.
    Some(cvt(unsafe { libc::setrlimit(raw!(r), lim) }).map(drop))
}
