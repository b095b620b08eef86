//! The files that steer PID 1: the stages under /etc/runit, and the stop and reboot flags where
//! the build's flavour puts them (all OSes).

use std::os::unix::fs::PermissionsExt;

/// The three stages: one-time boot tasks, the running system, shutdown.
pub const STAGES: [&str; 3] = ["/etc/runit/1", "/etc/runit/2", "/etc/runit/3"];
/// Run on ctrl-alt-del (SIGINT), before acting as on SIGCONT.
pub const CTRLALTDEL: &str = "/etc/runit/ctrlaltdel";
/// Owner-executable: SIGCONT means "shut down" (where the flavour puts it).
pub const STOPIT: &str = crate::flavour::STOPIT;
/// Owner-executable: reboot after stage 3, otherwise halt (where the flavour puts it).
pub const REBOOT: &str = crate::flavour::REBOOT;
/// Present: do not sync before halting (vservers, containers).
pub const NOSYNC: &str = "/etc/runit/nosync";

/// Whether `path` exists (following symlinks) with the owner's execute bit, the test runit
/// applies to stopit, reboot and ctrlaltdel.
pub fn owner_exec(path: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o100 != 0)
}

/// Whether `path` exists at all (following symlinks).
pub fn exists(path: &str) -> bool {
    std::fs::metadata(path).is_ok()
}

/// Clears every permission bit of stopit once a shutdown was accepted, so a later stray
/// SIGCONT after the next boot does nothing (C runit does the same). Errors are ignored: the
/// shutdown goes on either way, and /etc may be read-only.
pub fn disarm_stopit() {
    let _ = std::fs::set_permissions(STOPIT, std::fs::Permissions::from_mode(0o000));
}
