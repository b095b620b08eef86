//! Who besides root may read or control a service (all Unix): `status-group` and
//! `admin-group` in the service directory, each a group name or number, as s6-svperms offers.
//!
//! - `status-group`: `supervise/` (and `log/supervise/`) become 0750 and `ok` 0620, both of
//!   that group, so its members can read the status files (`sv status`, `sv -j`, `sv watch`,
//!   daemontools' `svstat`, node_exporter) and probe `ok` as they do; `control` stays 0600.
//! - `admin-group`: `control` becomes 0620 of that group as well, so its members can also
//!   send commands. Without `status-group` it also gets read access; with both naming different
//!   groups, the directory and `ok` are the status group's, so admins must be in it too.
//!
//! Without the files the modes are C's (0700, 0600), restored at each start if a file went. A
//! group that does not exist is said once per start, and C's modes are kept.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::unistd::{Gid, Group};

use crate::fail::{self, Failure};
use crate::supervise::protocol::Names;

/// The groups the service's files name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    pub status: Option<Gid>,
    pub admin: Option<Gid>,
}

/// Reads `status-group` and `admin-group` in the current directory (the service's).
pub fn read(label: &[u8]) -> Access {
    Access { status: group("status-group", label), admin: group("admin-group", label) }
}

fn group(file: &str, label: &[u8]) -> Option<Gid> {
    let text = match fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            fail::warn(label, &Failure::sys(format!("unable to read ./{file}"), e));
            return None;
        }
    };
    let name = text.trim();
    let found = if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse::<u32>().ok().map(Gid::from_raw)
    } else {
        Group::from_name(name).ok().flatten().map(|g| g.gid)
    };
    if found.is_none() {
        let text = format!("./{file}: no such group ({name:?}): access stays root's");
        fail::warn(label, &Failure::plain(text));
    }
    found
}

/// Gives the supervise directory `n` the modes and groups `access` asks for (C's without).
pub fn apply(n: &Names, access: Access) -> io::Result<()> {
    let reader = access.status.or(access.admin);
    set(Path::new(n.dir), reader, if reader.is_some() { 0o750 } else { 0o700 })?;
    set(Path::new(n.ok), reader, if reader.is_some() { 0o620 } else { 0o600 })?;
    set(Path::new(n.control), access.admin, if access.admin.is_some() { 0o620 } else { 0o600 })
}

/// Mode `mode`, and group `gid` where one is given.
fn set(path: &Path, gid: Option<Gid>, mode: u32) -> io::Result<()> {
    if let Some(g) = gid {
        nix::unistd::chown(path, None, Some(g))?;
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}
