//! FreeBSD, OpenBSD and NetBSD backend: the kqueue event loop (signals, fds, directory vnodes),
//! sysctl and EVFILT_PROC for other processes, reboot(2) with each system's flags, and utmpx or
//! libutil's utmp calls, whichever the system's login tools read.

#[cfg(not(runit_portable))]
#[path = "kqueue.rs"]
pub mod event;
#[cfg(runit_portable)]
pub use crate::platform::unix::poll as event;

pub mod os;
pub use crate::platform::unix::notify;
#[cfg(target_os = "freebsd")]
#[path = "reaper.rs"]
pub mod tree;
#[cfg(not(target_os = "freebsd"))]
pub use crate::platform::unix::pgroup as tree;
pub mod proc;
pub use crate::platform::unix::no_namespaces as ns;
pub use crate::platform::unix::no_proctitle as proctitle;

#[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
pub use crate::platform::unix::utmpx as utmp;
#[cfg(not(any(target_os = "freebsd", target_os = "dragonfly")))]
pub mod utmp;
