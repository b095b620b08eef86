//! macOS backend: the BSD kqueue event loop and process lookups (the files of `platform/bsd/`),
//! utmpx, and the private reboot(2). macOS has no PID-1 role for runit (launchd is PID 1), so
//! the init-only services answer `Unsupported`.

#[cfg(not(runit_portable))]
#[path = "../bsd/kqueue.rs"]
pub mod event;
#[cfg(runit_portable)]
pub use crate::platform::unix::poll as event;

pub mod os;
pub use crate::platform::unix::notify;
pub use crate::platform::unix::pgroup as tree;
#[path = "../bsd/proc.rs"]
pub mod proc;
pub use crate::platform::unix::no_namespaces as ns;
pub use crate::platform::unix::no_proctitle as proctitle;
pub use crate::platform::unix::utmpx as utmp;
