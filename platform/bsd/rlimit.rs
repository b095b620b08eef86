//! Resource limits on FreeBSD, NetBSD, OpenBSD and macOS. FreeBSD calls the address-space
//! limit RLIMIT_VMEM (as C runit prefers it), OpenBSD has none; the rest exist everywhere here.

use std::io;

use crate::platform::Resource;
use crate::sys::cvt;

/// The libc constant for `r`; `return None` from the caller when this OS lacks it.
macro_rules! raw {
    ($r:expr) => {
        match $r {
            Resource::Data => libc::RLIMIT_DATA,
            Resource::Stack => libc::RLIMIT_STACK,
            Resource::LockedMemory => libc::RLIMIT_MEMLOCK,
            #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
            Resource::AddressSpace => libc::RLIMIT_VMEM,
            #[cfg(any(target_os = "netbsd", target_os = "macos", target_os = "ios"))]
            Resource::AddressSpace => libc::RLIMIT_AS,
            #[cfg(target_os = "openbsd")]
            Resource::AddressSpace => return None,
            Resource::OpenFiles => libc::RLIMIT_NOFILE,
            Resource::Processes => libc::RLIMIT_NPROC,
            Resource::FileSize => libc::RLIMIT_FSIZE,
            Resource::CoreSize => libc::RLIMIT_CORE,
            Resource::ResidentSet => libc::RLIMIT_RSS,
            Resource::CpuTime => libc::RLIMIT_CPU,
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
