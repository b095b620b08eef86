//! PID and mount namespaces, for chpst -F and -I: unshare(2), the propagation of the mounts,
//! and a /proc that shows the new PID namespace.

use std::io;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

pub fn supported() -> io::Result<()> {
    Ok(())
}

pub fn unshare_pid_and_mounts() -> io::Result<()> {
    Ok(unshare(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS)?)
}

pub fn make_mounts_private() -> io::Result<()> {
    let flags = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    Ok(mount(None::<&str>, "/", None::<&str>, flags, None::<&str>)?)
}

pub fn mount_fresh_proc() -> io::Result<bool> {
    // Lazily, with whatever is mounted below it (binfmt_misc): the inherited /proc shows the
    // parent namespace's processes, and nobody here needs it.
    match umount2("/proc", MntFlags::MNT_DETACH) {
        // EINVAL: nothing mounted there (a chroot); ENOENT: no /proc at all.
        Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(e.into()),
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>) {
        Ok(()) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
