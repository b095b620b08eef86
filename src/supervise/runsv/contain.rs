//! Containment: a service directory with `cgroup/` (the log service: `log/cgroup/`) runs in a
//! process tree of its own (all Unix; the tree itself is `platform::Tree`: a cgroup v2 on
//! Linux, the run's process group elsewhere).
//!
//! Each regular file of `cgroup/` is a limit, written to the file of the same name in the
//! service's cgroup before each start (`pids.max`, `memory.max`, `cpu.weight`, ...); an empty
//! directory asks for the tree alone. The rules for what cannot be had:
//!
//! - no tree to be had (no cgroup2 mounted, no permission, a controller the kernel lacks): one
//!   message per start; the service starts uncontained only if `cgroup/` asks for no limits,
//!   otherwise it is not started (limits asked for and silently missing would be worse) and
//!   is tried again at the restart throttle's pace;
//! - a limit the kernel refuses: named in the message, and the service is not started.
//!
//! The tree's name is the service directory's real path, escaped, so two runsvdirs with a
//! service of the same name never share one, and the next runsv of the same directory finds
//! the tree again (it also reads `supervise/cgroup`, which records the path).

use std::fs;
use std::io;
use std::path::Path;

/// What `cgroup/` asks for: its limit files, in name order, with their contents.
pub type Limits = Vec<(String, Vec<u8>)>;

/// The directory that asks for containment, for the service or its log.
pub fn dir_of(log: bool) -> &'static str {
    if log {
        "log/cgroup"
    } else {
        "cgroup"
    }
}

/// `Ok(None)` without `dir` (not contained), else the limits it holds. Entries that are not
/// regular files (and names starting with a dot) are no limits and are skipped.
pub fn declared(dir: &str) -> io::Result<Option<Limits>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut limits = Limits::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| !n.starts_with('.')) else { continue };
        if !fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            continue;
        }
        limits.push((name.to_string(), fs::read(entry.path())?));
    }
    limits.sort();
    Ok(Some(limits))
}

/// The controllers the limits need: the part of each file name before the first dot, but
/// `cgroup.*` (the core files every cgroup has).
pub fn controllers(limits: &Limits) -> Vec<&str> {
    let mut c: Vec<&str> = limits
        .iter()
        .filter_map(|(name, _)| name.split_once('.').map(|(c, _)| c))
        .filter(|c| *c != "cgroup")
        .collect();
    c.dedup();
    c
}

/// The tree name of the service directory `dir` (a real path): the path without its leading
/// slash, `/` written as `-`, and `-`, `\`, and bytes outside printable ASCII as `\xNN`, so
/// that different paths never give the same name.
pub fn tree_name(dir: &Path) -> String {
    let bytes = dir.as_os_str().as_encoded_bytes();
    let bytes = bytes.strip_prefix(b"/").unwrap_or(bytes);
    let mut name = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'/' => name.push('-'),
            b'-' | b'\\' => name.push_str(&format!("\\x{b:02x}")),
            0x21..=0x7e => name.push(b as char),
            _ => name.push_str(&format!("\\x{b:02x}")),
        }
    }
    if name.is_empty() {
        name.push('-');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_readable() {
        assert_eq!(tree_name(Path::new("/etc/sv/sshd")), "etc-sv-sshd");
        assert_ne!(tree_name(Path::new("/a-b/c")), tree_name(Path::new("/a/b-c")));
        assert_eq!(tree_name(Path::new("/a-b/c d")), "a\\x2db-c\\x20d");
        assert_eq!(tree_name(Path::new("/")), "-");
    }

    #[test]
    fn controllers_of_limits() {
        let l: Limits = ["cgroup.max.depth", "memory.high", "memory.max", "pids.max"]
            .iter()
            .map(|n| (n.to_string(), b"1".to_vec()))
            .collect();
        assert_eq!(controllers(&l), ["memory", "pids"]);
        assert!(controllers(&Limits::new()).is_empty());
    }
}
