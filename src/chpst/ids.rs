//! Users and groups: resolving `user[:group...]` and `:uid:gid[:gid...]` as chpst does, and
//! dropping privileges in the one safe order (all OSes).

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;

use nix::unistd::{Group, User};

use super::envdir::EnvEdit;
use super::Failure;
use crate::errstr::describe;

/// At most this many groups (C runit's limit as well).
const MAX_GROUPS: usize = 60;

/// A resolved identity: the uid and the groups, the first of which becomes the gid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gids: Vec<u32>,
}

/// Resolves chpst's `-u`/`-U` argument: `user`, `user:group[:group...]`, or `:uid:gid[:gid...]`.
pub fn resolve_extended(spec: &OsStr) -> Result<Ids, Failure> {
    let bytes = spec.as_bytes();
    if let Some(numeric) = bytes.strip_prefix(b":") {
        return numeric_ids(numeric)
            .ok_or_else(|| Failure::plain(format!("invalid uid/gids: {}", show(numeric))));
    }
    let mut parts = bytes.split(|&b| b == b':');
    let user = parts.next().unwrap_or_default();
    let groups: Vec<&[u8]> = parts.collect();
    let unknown = || Failure::plain(format!("unknown user/group: {}", show(bytes)));
    let lookup_failed = |e: io::Error| {
        Failure::plain(format!("unable to get password/group file entry: {}", describe(&e)))
    };
    let pw = user_by_name(user).map_err(lookup_failed)?.ok_or_else(unknown)?;
    if groups.is_empty() {
        return Ok(Ids { uid: pw.uid.as_raw(), gids: vec![pw.gid.as_raw()] });
    }
    if groups.len() > MAX_GROUPS {
        return Err(Failure::plain(format!("too many groups: {}", show(bytes))));
    }
    let mut gids = Vec::with_capacity(groups.len());
    for g in groups {
        let gr = group_by_name(g).map_err(lookup_failed)?.ok_or_else(unknown)?;
        gids.push(gr.gid.as_raw());
    }
    Ok(Ids { uid: pw.uid.as_raw(), gids })
}

/// Resolves the account of the setuidgid/envuidgid personalities: a user name only, with its
/// primary group.
pub fn resolve_account(name: &OsStr) -> Result<Ids, Failure> {
    let pw = user_by_name(name.as_bytes())
        .map_err(|e| {
            Failure::plain(format!("unable to get password file entry: {}", describe(&e)))
        })?
        .ok_or_else(|| Failure::plain(format!("unknown account: {}", show(name.as_bytes()))))?;
    Ok(Ids { uid: pw.uid.as_raw(), gids: vec![pw.gid.as_raw()] })
}

/// `uid:gid[:gid...]`, all decimal. An empty field is refused (C runit would read it as 0,
/// the root group).
fn numeric_ids(s: &[u8]) -> Option<Ids> {
    let mut fields = s.split(|&b| b == b':');
    let uid = decimal_id(fields.next()?)?;
    let gids = fields.map(decimal_id).collect::<Option<Vec<u32>>>()?;
    if gids.is_empty() || gids.len() > MAX_GROUPS {
        return None;
    }
    Some(Ids { uid, gids })
}

fn decimal_id(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn user_by_name(name: &[u8]) -> io::Result<Option<User>> {
    match std::str::from_utf8(name) {
        // A name that is not UTF-8 names no account nix can look up; treat it as unknown.
        Err(_) | Ok("") => Ok(None),
        Ok(n) => User::from_name(n).map_err(io::Error::from),
    }
}

fn group_by_name(name: &[u8]) -> io::Result<Option<Group>> {
    match std::str::from_utf8(name) {
        Err(_) | Ok("") => Ok(None),
        Ok(n) => Group::from_name(n).map_err(io::Error::from),
    }
}

/// Text of a user-supplied id spec for messages.
fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Becomes `ids`: supplementary groups set to exactly the given ones, then the gid, then the
/// uid (in this order: after setuid the process could no longer change its groups). Checks
/// afterwards that root cannot be regained.
pub fn become_ids(ids: &Ids) -> Result<(), Failure> {
    let gids: Vec<libc::gid_t> = ids.gids.iter().map(|&g| g as libc::gid_t).collect();
    let primary = *gids.first().ok_or_else(|| Failure::plain("no group given"))?;
    // SAFETY: the pointer and length describe `gids`, which outlives the call.
    if unsafe { libc::setgroups(gids.len() as _, gids.as_ptr()) } == -1 {
        return Err(Failure::sys("unable to setgroups", io::Error::last_os_error()));
    }
    // SAFETY: setgid has no memory preconditions.
    if unsafe { libc::setgid(primary) } == -1 {
        return Err(Failure::sys("unable to setgid", io::Error::last_os_error()));
    }
    // SAFETY: setuid has no memory preconditions.
    if unsafe { libc::setuid(ids.uid as libc::uid_t) } == -1 {
        return Err(Failure::sys("unable to setuid", io::Error::last_os_error()));
    }
    check_dropped(ids.uid)
}

/// After a drop from root to another user, setuid(0) must fail; if it works the kernel kept a
/// way back (saved uid, capabilities), and the program must not run like that.
fn check_dropped(uid: u32) -> Result<(), Failure> {
    if uid == 0 {
        return Ok(());
    }
    // SAFETY: plain id syscalls; a successful setuid(0) is what the check is looking for.
    let regained = unsafe { libc::setuid(0) } == 0 || unsafe { libc::geteuid() } == 0;
    if regained {
        return Err(Failure::plain("unable to setuid: root privileges could be regained"));
    }
    Ok(())
}

/// The variables of `-U`/envuidgid: `GID` first, then `UID`, as C runit adds them.
pub fn env_edits(ids: &Ids) -> [EnvEdit; 2] {
    let gid = ids.gids.first().copied().unwrap_or(0);
    [EnvEdit::set("GID", &gid.to_string()), EnvEdit::set("UID", &ids.uid.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_forms() {
        assert_eq!(numeric_ids(b"1000:50:60"), Some(Ids { uid: 1000, gids: vec![50, 60] }));
        assert_eq!(numeric_ids(b"1000"), None);
        assert_eq!(numeric_ids(b"1000:"), None);
        assert_eq!(numeric_ids(b"abc:1"), None);
        assert_eq!(numeric_ids(b"1:+2"), None);
        assert_eq!(numeric_ids(b"99999999999:1"), None);
    }

    #[test]
    fn names() {
        let root = resolve_extended(OsStr::new("root")).unwrap();
        assert_eq!(root, Ids { uid: 0, gids: vec![0] });
        assert!(resolve_extended(OsStr::new("no-such-user-here")).is_err());
        assert!(resolve_extended(OsStr::new("root:no-such-group-here")).is_err());
        assert!(resolve_account(OsStr::new("root:root")).is_err());
    }
}
