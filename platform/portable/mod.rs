//! The backend for systems this project does not know (none of the supported OSes): the poll
//! loop and the generic POSIX services work; reboot, ctrl-alt-del routing, utmp, process
//! identity and the process title answer `Unsupported`, naming the OS, because there is no
//! portable way to do them.

pub use crate::platform::unix::no_namespaces as ns;
pub use crate::platform::unix::no_proctitle as proctitle;
pub use crate::platform::unix::poll as event;

pub mod proc;
pub use crate::platform::unix::notify;
pub use crate::platform::unix::pgroup as tree;
pub mod utmp;

pub mod os {
    use std::io;

    use crate::platform::{unsupported, How, ShutdownSignal};

    pub use crate::platform::unix::generic::{
        in_container, nonblocking_pipe, reset_child_signals, set_controlling_tty, start_writeback,
        trim_heap,
    };

    pub const SUPPORTS_PID1: bool = true;

    /// No known kernel request to init.
    pub const SHUTDOWN_SIGNALS: &[ShutdownSignal] = &[];

    pub fn reboot(_how: How) -> io::Result<()> {
        Err(unsupported("rebooting"))
    }

    pub fn set_ctrl_alt_del(_to_signal: bool) -> io::Result<()> {
        Err(unsupported("ctrl-alt-del routing"))
    }
}
