//! envdir: environment changes read from the files of a directory (all OSes).
//!
//! Each file not starting with `.` names a variable. Its first line is the value, with trailing
//! spaces and tabs removed and NUL bytes turned into newlines; an empty file removes the
//! variable. Names containing `=` are refused: no environment can hold such a variable.

use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::io::{self, BufRead, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::Failure;
use crate::errstr::describe;

/// One change to the environment: set `name` to `value`, or remove it (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvEdit {
    pub name: OsString,
    pub value: Option<OsString>,
}

impl EnvEdit {
    pub fn set(name: &str, value: &str) -> EnvEdit {
        EnvEdit { name: name.into(), value: Some(value.into()) }
    }
}

/// What to do with a subdirectory inside the envdir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Subdirs {
    /// Fail, as the envdir personality does.
    #[default]
    Failure,
    /// Skip, as `chpst -e` does (with a warning when verbose).
    Skip { warn: bool },
}

/// Reads the changes `dir` asks for, in directory order. Warnings go to `warn`.
pub fn read(
    dir: &OsStr,
    subdirs: Subdirs,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<EnvEdit>, Failure> {
    let shown = dir.to_string_lossy();
    check_dir(Path::new(dir))
        .map_err(|e| Failure::sys(format!("unable to switch to directory: {shown}"), e))?;
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::sys(format!("unable to open directory: {shown}"), e))?;
    let mut edits = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| Failure::sys(format!("unable to read directory: {shown}"), e))?;
        let name = entry.file_name();
        if name.as_bytes().first() == Some(&b'.') {
            continue;
        }
        let what = format!("{shown}/{}", name.to_string_lossy());
        let value = match first_line(&entry.path()) {
            Ok(v) => v,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) if is_dir_error(&e) && subdirs != Subdirs::Failure => {
                if subdirs == (Subdirs::Skip { warn: true }) {
                    warn(format!("unable to read {what}: {}", describe(&e)));
                }
                continue;
            }
            Err(e) => return Err(Failure::sys(format!("unable to read {what}"), e)),
        };
        if name.as_bytes().contains(&b'=') {
            return Err(Failure::plain(format!("unable to read {what}: variable name contains =")));
        }
        edits.push(EnvEdit { name, value });
    }
    Ok(edits)
}

/// The directory must exist, be one, and be searchable: the errors C runit's chdir into it
/// would give.
fn check_dir(dir: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    nix::unistd::access(dir, nix::unistd::AccessFlags::X_OK).map_err(io::Error::from)
}

fn is_dir_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EISDIR)
}

/// The longest first line read from an envdir file, newline excluded. No system takes much
/// more in one environment string (Linux refuses any over 128 KiB at exec), and the bound keeps
/// a huge file from being read into memory: only the bytes up to the first newline are read.
pub const VALUE_MAX: usize = 1 << 20;

/// The value a file holds (see [`value_of`]). Non-blocking open, so a FIFO without writer reads
/// as empty instead of hanging (as C runit's open_read does).
fn first_line(path: &Path) -> io::Result<Option<OsString>> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    value_of(file)
}

/// The value of an envdir file read from `input`: `None` when it has no bytes at all, else its
/// first line, trimmed of trailing spaces and tabs and with NUL bytes turned into newlines. A
/// first line longer than [`VALUE_MAX`] is refused (`InvalidData`) rather than read whole.
pub fn value_of(input: impl Read) -> io::Result<Option<OsString>> {
    let mut line = Vec::new();
    let limit = u64::try_from(VALUE_MAX).unwrap_or(u64::MAX).saturating_add(1);
    io::BufReader::new(input.take(limit)).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    } else if line.len() > VALUE_MAX {
        let why = format!("first line longer than {VALUE_MAX} bytes");
        return Err(io::Error::new(io::ErrorKind::InvalidData, why));
    }
    while matches!(line.last(), Some(b' ' | b'\t')) {
        line.pop();
    }
    for b in line.iter_mut().filter(|b| **b == 0) {
        *b = b'\n';
    }
    Ok(Some(OsString::from_vec(line)))
}

/// Applies `edits` to an environment given as `NAME=value` entries: every entry of an edited
/// name goes, then the new value (if any) is appended.
pub fn apply(env: &mut Vec<OsString>, edits: &[EnvEdit]) {
    for edit in edits {
        env.retain(|entry| entry_name(entry) != edit.name.as_bytes());
        if let Some(v) = &edit.value {
            let mut entry = edit.name.clone();
            entry.push("=");
            entry.push(v);
            env.push(entry);
        }
    }
}

fn entry_name(entry: &OsStr) -> &[u8] {
    entry.as_bytes().split(|&c| c == b'=').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_replace_and_remove() {
        let mut env: Vec<OsString> = vec!["A=1".into(), "B=2".into(), "A=3".into()];
        let edits = [
            EnvEdit::set("A", "x"),
            EnvEdit { name: "B".into(), value: None },
            EnvEdit::set("C", "a=b"),
        ];
        apply(&mut env, &edits);
        assert_eq!(env, vec![OsString::from("A=x"), "C=a=b".into()]);
    }
}
