//! illumos backend: the event-port loop (fds, a self-pipe for signals, file objects for
//! directories), `/proc/<pid>/psinfo` for other processes, utmpx, and uadmin(2) for halt,
//! reboot and power-off.

#[cfg(not(runit_portable))]
#[path = "ports.rs"]
pub mod event;
#[cfg(runit_portable)]
pub use crate::platform::unix::poll as event;

pub mod os;
pub use crate::platform::unix::notify;
pub use crate::platform::unix::pgroup as tree;
pub mod proc;
pub use crate::platform::unix::no_namespaces as ns;
pub use crate::platform::unix::no_proctitle as proctitle;
pub use crate::platform::unix::utmpx as utmp;
