//! `runit-init` (installed as `init`): started by the kernel it becomes runit; started later,
//! `init 0` and `init 6` ask the running runit to halt or reboot (Linux, the BSDs, illumos).

use std::ffi::{CString, OsString};
use std::fs::{OpenOptions, Permissions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::child::{self, Pid};
use crate::fail::{self, exit};
use crate::platform::Signal;

use crate::flavour::{REBOOT, RUNIT, STOPIT};
use crate::init::say::errstr;

pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    if std::process::id() == 1 {
        return become_runit(args.first().map(Path::new));
    }
    if let Some(code) = crate::cli::answer_prerendered(
        "runit-init",
        crate::cli::RUNIT_INIT_HELP,
        args.get(1).map(|a| a.as_os_str()),
    ) {
        return code;
    }
    let result = match args.get(1).map(|a| a.as_bytes()) {
        Some(b"0") => halt(),
        Some(b"6") => reboot(),
        // runit-init(8): 111 on error, 0 in all other cases; C exits 0 after the usage too.
        _ => {
            fail::usage(args.first().map(|a| a.as_os_str()), "init", " 0|6");
            return exit::RUNIT_INIT_USAGE;
        }
    };
    match result {
        Ok(()) => exit::OK,
        Err(msg) => {
            fail::fatal(b"init: ", &msg);
            exit::FAILURE
        }
    }
}

/// Started by the kernel (init=, or rdinit= from an initramfs): replace ourselves with runit,
/// next to us first (argv[0] is the path the kernel ran; /proc may not be mounted yet), then
/// in /sbin. If neither can be run, this binary carries runit itself: run it here rather than
/// exit, which would panic the kernel.
fn become_runit(argv0: Option<&Path>) -> i32 {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = argv0.filter(|p| p.as_os_str().as_bytes().contains(&b'/')) {
        if let Some(parent) = dir.parent() {
            candidates.push(parent.join("runit"));
        }
    }
    if !candidates.iter().any(|c| c == Path::new(RUNIT)) {
        candidates.push(PathBuf::from(RUNIT));
    }
    for c in candidates.iter().filter(|c| c.exists()) {
        let err = match CString::new(c.as_os_str().as_bytes()) {
            Ok(prog) => child::exec(&prog, &[&prog]),
            Err(_) => io::Error::from_raw_os_error(libc::EINVAL),
        };
        fail::warn(b"init: ", &format_args!("unable to start {}: {}", c.display(), errstr(&err)));
    }
    super::runit::ended(crate::init::run())
}

/// `init 0`: reboot off, stopit on (armed last, so a failure leaves nothing armed), CONT to 1.
fn halt() -> Result<(), String> {
    match std::fs::set_permissions(REBOOT, Permissions::from_mode(0o000)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(failed("chmod", REBOOT, &e)),
        _ => {}
    }
    arm(STOPIT)?;
    signal_runit()
}

/// `init 6`: reboot on, stopit on, CONT to 1.
fn reboot() -> Result<(), String> {
    arm(REBOOT)?;
    arm(STOPIT)?;
    signal_runit()
}

/// Creates (or truncates) `path` and gives it mode 0100, as runit-init(8) says.
fn arm(path: &str) -> Result<(), String> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)
        .map_err(|e| failed("create", path, &e))?;
    std::fs::set_permissions(path, Permissions::from_mode(0o100))
        .map_err(|e| failed("chmod", path, &e))
}

fn signal_runit() -> Result<(), String> {
    child::kill(Pid::from_raw(1), Signal::SIGCONT)
        .map_err(|e| format!("unable to signal process 1: {}", errstr(&e)))
}

fn failed(what: &str, path: &str, e: &io::Error) -> String {
    format!("unable to {what} {path}: {}", errstr(e))
}
