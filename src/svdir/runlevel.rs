//! runsvchdir's switch of the `current` runlevel (all OSes): `current` becomes a symlink to the
//! new services directory and `previous` names the old one.
//!
//! runit renames `current` to `previous` and then `current.new` to `current`, so for a moment
//! there is no `current` at all (a runsvdir rescanning then sees its directory gone). Here, when
//! `current` is a symlink (the normal case), `previous` is written as a copy of that link and
//! `current` is replaced by renaming a new link over it: each name always exists. When
//! `current` is a real directory it cannot be copied that way, and runit's two renames are used.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};

use crate::fail::Failure;

/// What the switch did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `new` already was current: nothing changed.
    AlreadyCurrent,
    Switched,
}

fn fail(what: impl Into<String>, err: io::Error) -> Failure {
    Failure::sys(what, err)
}

fn ignore_enoent(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Makes `dir/current` lead to `new` (relative to `dir` unless absolute), keeping the old
/// target as `dir/previous`.
pub fn switch(dir: &Path, new: &OsStr) -> Result<Outcome, Failure> {
    let shown = new.to_string_lossy();
    if new.as_encoded_bytes().first() == Some(&b'.') {
        let what = format!("{shown}: must not start with a dot.");
        return Err(Failure::plain(what));
    }
    let at = |name: &str| dir.join(name);
    let target = match fs::metadata(dir.join(new)) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(fail(shown, e)),
        Err(e) => return Err(fail(format!("unable to stat: {shown}"), e)),
    };
    if !target.is_dir() {
        return Err(Failure::plain(format!("{shown}: not a directory.")));
    }
    let current = fs::metadata(at("current")).map_err(|e| fail("unable to stat: current", e))?;
    if (current.dev(), current.ino()) == (target.dev(), target.ino()) {
        return Ok(Outcome::AlreadyCurrent);
    }
    ignore_enoent(fs::remove_file(at("current.new")))
        .map_err(|e| fail("unable to unlink: current.new", e))?;
    symlink(new, at("current.new"))
        .map_err(|e| fail(format!("unable to create: current.new -> {shown}"), e))?;
    let result = match fs::read_link(at("current")) {
        Ok(old) => swap_links(dir, &old),
        Err(_) => swap_renames(dir),
    };
    if result.is_err() {
        let _ = fs::remove_file(at("current.new"));
    }
    result.map(|()| Outcome::Switched)
}

/// `current` is a symlink: copy it to `previous`, then rename `current.new` over `current`.
fn swap_links(dir: &Path, old: &Path) -> Result<(), Failure> {
    let at = |name: &str| dir.join(name);
    if fs::symlink_metadata(at("previous")).is_ok_and(|m| m.is_dir()) {
        let err = io::Error::from_raw_os_error(libc::EISDIR);
        return Err(fail("unable to unlink: previous", err));
    }
    let saved: Option<PathBuf> = fs::read_link(at("previous")).ok();
    ignore_enoent(fs::remove_file(at("previous.new")))
        .map_err(|e| fail("unable to unlink: previous.new", e))?;
    symlink(old, at("previous.new"))
        .and_then(|()| fs::rename(at("previous.new"), at("previous")))
        .map_err(|e| fail("unable to copy: current to previous", e))?;
    if let Err(e) = fs::rename(at("current.new"), at("current")) {
        // Leave `previous` as it was, so nothing is half switched.
        if let Some(p) = saved {
            let _ = symlink(p, at("previous.new"));
            let _ = fs::rename(at("previous.new"), at("previous"));
        }
        return Err(fail("unable to move: current.new to current", e));
    }
    Ok(())
}

/// `current` is no symlink: runit's way, renaming it to `previous` first.
fn swap_renames(dir: &Path) -> Result<(), Failure> {
    let at = |name: &str| dir.join(name);
    ignore_enoent(fs::remove_file(at("previous")))
        .map_err(|e| fail("unable to unlink: previous", e))?;
    fs::rename(at("current"), at("previous"))
        .map_err(|e| fail("unable to copy: current to previous", e))?;
    if let Err(e) = fs::rename(at("current.new"), at("current")) {
        if let Err(back) = fs::rename(at("previous"), at("current")) {
            return Err(fail("unable to move previous back to current", back));
        }
        return Err(fail("unable to move: current.new to current", e));
    }
    Ok(())
}
