//! Linux backend: signalfd + epoll for the event wait, inotify for directories, pidfds and
//! `/proc` for other processes, unshare(2) for chpst's namespaces, reboot(2) for the OS services, the argv area for the process
//! title, and the utmp files themselves where the C library is not glibc.

#[cfg(not(runit_portable))]
#[path = "epoll.rs"]
pub mod event;
#[cfg(runit_portable)]
pub use crate::platform::unix::poll as event;

pub mod notify;
pub mod ns;
pub mod os;
pub mod proc;
pub mod proctitle;
#[path = "cgroup.rs"]
pub mod tree;

#[cfg(target_env = "gnu")]
pub use crate::platform::unix::utmpx as utmp;
#[cfg(not(target_env = "gnu"))]
pub mod utmp;
