//! Which directories to watch so that a change of what the services directory path names
//! (runsvchdir renaming `current`, the directory removed and made again) is seen at once
//! (all OSes; the watches come from the platform).

use std::path::{Path, PathBuf};

/// Most symlinks followed when looking for the directories that hold the links.
const MAX_LINKS: usize = 16;

/// The parent of `svdir`, and while the last component is a symlink, the parent of its target:
/// a rename or removal in any of them may change what `svdir` leads to.
pub fn chain_parents(svdir: &Path) -> Vec<PathBuf> {
    let mut path = match std::env::current_dir() {
        Ok(cwd) => cwd.join(svdir),
        Err(_) => svdir.to_path_buf(),
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for _ in 0..MAX_LINKS {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("/"),
        };
        if !out.contains(&parent) {
            out.push(parent.clone());
        }
        match std::fs::read_link(&path) {
            Ok(target) => path = parent.join(target),
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_link_chain() {
        let d = std::env::temp_dir().join(format!("runit-chain-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("rl/default")).unwrap();
        std::os::unix::fs::symlink("default", d.join("rl/current")).unwrap();
        std::os::unix::fs::symlink(d.join("rl/current"), d.join("service")).unwrap();
        let got = chain_parents(&d.join("service"));
        assert_eq!(got, vec![d.clone(), d.join("rl")]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
