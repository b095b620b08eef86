//! The live processes, read from Linux's /proc: which program, whose child, in which directory.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub args: Vec<String>,
    pub cwd: PathBuf,
}

/// Every live process (not a zombie, not dead).
pub fn procs() -> Vec<Proc> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
            continue;
        }
        let ppid = fields.get(1).and_then(|f| f.parse().ok()).unwrap_or(0);
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let args = cmd
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        out.push(Proc { pid, ppid, args, cwd });
    }
    out
}
