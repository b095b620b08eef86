//! The distribution flavour this build was made for (all OSes): the paths Debian and Void
//! patched into their C runit, fixed at build time by `RUNIT_FLAVOUR` (see build.rs, which
//! holds the table). Installed on a distribution, our programs must read and set the files its
//! own scripts use: Debian's ctrlaltdel and stage 3 test `/run/runit.stopit` and
//! `/run/runit.reboot`, its run scripts call `sv <name>` for `/etc/service/<name>`.

/// `upstream`, `debian` or `void`.
pub const NAME: &str = env!("RUNIT_FLAVOUR_NAME");
/// sv's service directory when `SVDIR` is not set.
pub const SVDIR: &str = env!("RUNIT_FLAVOUR_SVDIR");
/// Owner-executable: SIGCONT to runit means "shut down". runit-init 0 and 6 arm it.
pub const STOPIT: &str = env!("RUNIT_FLAVOUR_STOPIT");
/// Owner-executable: reboot after stage 3, otherwise halt. runit-init 6 arms it.
pub const REBOOT: &str = env!("RUNIT_FLAVOUR_REBOOT");
/// The runit that runit-init execs when the kernel starts it and none lies beside it.
pub const RUNIT: &str = env!("RUNIT_FLAVOUR_RUNIT");
