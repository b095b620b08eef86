//! `chpst`: runs a program with a changed process state. Called (through a link) as `envdir`,
//! `envuidgid`, `pgrphack`, `setuidgid`, `setlock` or `softlimit`, it behaves as that
//! daemontools program. Messages and exit codes as C runit: 100 for usage, 111 for failure
//! (all OSes).

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

use crate::chpst::envdir::Subdirs;
use crate::chpst::limits::{self, Value};
use crate::chpst::{IdSpec, Lock, Namespace, Plan, Status, Stop};
use crate::cli;
use crate::fail::{self, exit};
use crate::getopt::{Getopt, Opt};
use crate::platform::{self, Resource};

const USAGE_CHPST: &str = " [-vVP012FI] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] \
[-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog";
const USAGE_ACCOUNT: &str = " account child";
const USAGE_ENVDIR: &str = " dir child";
const USAGE_PGRPHACK: &str = " child";
const USAGE_SETLOCK: &str = " [ -nNxX ] file program [ arg ... ]";
const USAGE_SOFTLIMIT: &str = " [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] \
[-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] \
[-t cpusecs] child";

/// What the command line asked for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Plan>, Vec<OsString>),
    /// Print the usage line (after the option complaint, if any) and exit 100.
    Usage(Option<String>),
    /// `--help` or `--version` was answered: exit with this code.
    Answered(i32),
}

/// A parsed command line: the personality's name, its usage text and what to do.
#[derive(Debug)]
pub struct Invocation {
    pub name: String,
    pub usage: &'static str,
    pub parsed: Parsed,
}

pub fn main() -> i32 {
    let args: Vec<OsString> = std::env::args_os().collect();
    let inv = parse(&args);
    match inv.parsed {
        Parsed::Usage(complaint) => usage_exit(complaint, &inv.name, inv.usage),
        Parsed::Run(plan, prog) => run(&plan, &prog),
        Parsed::Answered(code) => code,
    }
}

/// Parses argv (argv[0] included), which also picks the personality. Nothing is done yet, but
/// `-V` prints the version line, as C runit does while parsing.
pub fn parse(args: &[OsString]) -> Invocation {
    let invoked = args.first().map(|a| basename(a)).unwrap_or_default();
    // As C runit: a leading `d` is dropped, so `dsetlock` is setlock too.
    let name = invoked.strip_prefix('d').unwrap_or(&invoked).to_string();
    let rest = args.get(1..).unwrap_or_default();
    let known = if cli::PERSONALITIES.contains(&name.as_str()) { name.as_str() } else { "chpst" };
    if let Some(code) = cli::answer(known, rest.first().map(|a| a.as_os_str())) {
        return Invocation { name, usage: "", parsed: Parsed::Answered(code) };
    }
    let (parsed, usage) = match name.as_str() {
        "setuidgid" => (account(rest, false), USAGE_ACCOUNT),
        "envuidgid" => (account(rest, true), USAGE_ACCOUNT),
        "envdir" => (envdir(rest), USAGE_ENVDIR),
        "pgrphack" => (pgrphack(rest), USAGE_PGRPHACK),
        "setlock" => (setlock(rest, &invoked), USAGE_SETLOCK),
        "softlimit" => (softlimit(rest, &invoked), USAGE_SOFTLIMIT),
        _ => (chpst(rest, &invoked), USAGE_CHPST),
    };
    Invocation { name, usage, parsed }
}

fn basename(a: &OsStr) -> String {
    let base = a.as_bytes().rsplit(|&c| c == b'/').next().unwrap_or_default();
    String::from_utf8_lossy(base).into_owned()
}

fn say(line: &str) {
    // Ignored on purpose: stderr may be closed (-2), and there is nobody else to tell.
    let _ = io::stderr().write_all(line.as_bytes());
}

fn usage_exit(complaint: Option<String>, prog: &str, usage: &str) -> i32 {
    if let Some(c) = complaint {
        say(&format!("{c}\n"));
    }
    say(&format!("usage: {prog}{usage}\n\n"));
    exit::USAGE
}

fn run(plan: &Plan, prog: &[OsString]) -> i32 {
    if let (Some(_), Err(e)) = (plan.namespace, platform::namespaces_supported()) {
        // As bad usage: the options cannot work here at all.
        fail::fatal(b"chpst: ", &format!("-F, -I: {e}"));
        return exit::USAGE;
    }
    let mut warn = |w: String| fail::warn(b"chpst: ", &w);
    match plan.run(prog, &mut warn) {
        // setlock -x: the lock is not to be had, which is no failure.
        Stop::LockBusy => exit::OK,
        Stop::Ended(st) => exit_code(st),
        Stop::Fatal(f) => {
            fail::fatal(b"chpst: ", &f);
            exit::FAILURE
        }
    }
}

/// chpst -F and -I exit as the process they waited for did; for one a signal killed, 128 +
/// its number, the shell's way (C runit's chpst too).
fn exit_code(st: Status) -> i32 {
    st.exit_code().or_else(|| st.signal().map(|s| 128 + s)).unwrap_or(exit::FAILURE)
}

/// A bad option ends parsing with sgetopt's complaint.
fn complain(o: &Opt, prog: &str) -> Parsed {
    Parsed::Usage(o.complaint(prog))
}

fn chpst(args: &[OsString], prog: &str) -> Parsed {
    let mut plan = Plan::default();
    let mut g = Getopt::new(args, "u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012FIV");
    for o in g.by_ref() {
        let ok = match &o {
            Opt::Flag(c) => chpst_flag(&mut plan, *c),
            Opt::Arg(c, v) => chpst_arg(&mut plan, *c, v),
            Opt::Illegal(_) | Opt::Missing(_) => return complain(&o, prog),
        };
        if !ok {
            return Parsed::Usage(None);
        }
    }
    match g.rest() {
        [] => Parsed::Usage(None),
        prog => Parsed::Run(Box::new(plan), prog.to_vec()),
    }
}

/// A chpst flag; false for `-V`, which prints the version and then the usage, as C runit.
fn chpst_flag(plan: &mut Plan, c: u8) -> bool {
    match c {
        b'v' => plan.verbose = true,
        b'P' => plan.new_session = true,
        b'0' => plan.close[0] = true,
        b'1' => plan.close[1] = true,
        b'2' => plan.close[2] = true,
        // -I wins over -F, whichever comes first (as in C runit).
        b'F' => plan.namespace = Some(plan.namespace.unwrap_or(Namespace::WithInit)),
        b'I' => plan.namespace = Some(Namespace::ProgramIsInit),
        _ => {
            say(&format!("{}\n", fail::ID));
            return false;
        }
    }
    true
}

/// A chpst option with argument; false when the argument is malformed.
fn chpst_arg(plan: &mut Plan, c: u8, v: &OsStr) -> bool {
    let count = |r: Resource, plan: &mut Plan| match limits::parse_count(v) {
        Some(n) => {
            plan.limits.request(r, Value::N(n));
            true
        }
        None => false,
    };
    match c {
        b'u' => plan.set_user = Some(IdSpec::Extended(v.into())),
        b'U' => plan.env_user = Some(IdSpec::Extended(v.into())),
        b'b' => plan.argv0 = Some(v.into()),
        b'e' => plan.envdir = Some((v.into(), Subdirs::Skip { warn: false })),
        b'/' => plan.root = Some(v.into()),
        b'C' => plan.chdir = Some(v.into()),
        b'n' => return parse_nice(v).map(|n| plan.nice = n).is_some(),
        b'l' | b'L' => return set_lock(plan, v, c == b'l'),
        b'm' => return limits::MEMORY.iter().all(|&r| count(r, plan)),
        b'd' => return count(Resource::Data, plan),
        b'o' => return count(Resource::OpenFiles, plan),
        b'p' => return count(Resource::Processes, plan),
        b'f' => return count(Resource::FileSize, plan),
        b'c' => return count(Resource::CoreSize, plan),
        b'r' => return count(Resource::ResidentSet, plan),
        _ => return count(Resource::CpuTime, plan),
    }
    true
}

/// Only one of -l and -L, once.
fn set_lock(plan: &mut Plan, path: &OsStr, wait: bool) -> bool {
    if plan.lock.is_some() {
        return false;
    }
    plan.lock = Some(Lock { path: path.into(), wait, exit_zero_on_failure: false });
    true
}

/// `-n`: an integer with an optional sign; beyond the nice range it is clamped (the kernel
/// clamps the result anyway).
fn parse_nice(v: &OsStr) -> Option<i32> {
    let b = v.as_bytes();
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let n = limits::parse_count(OsStr::from_bytes(digits))?;
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    Some(if neg { -n } else { n })
}

/// setuidgid and envuidgid: `account child...`.
fn account(args: &[OsString], announce: bool) -> Parsed {
    let [account, prog @ ..] = args else { return Parsed::Usage(None) };
    if prog.is_empty() {
        return Parsed::Usage(None);
    }
    let mut plan = Plan::default();
    let spec = Some(IdSpec::Account(account.clone()));
    if announce {
        plan.env_user = spec;
    } else {
        plan.set_user = spec;
    }
    Parsed::Run(Box::new(plan), prog.to_vec())
}

fn envdir(args: &[OsString]) -> Parsed {
    let [dir, prog @ ..] = args else { return Parsed::Usage(None) };
    if prog.is_empty() {
        return Parsed::Usage(None);
    }
    let plan = Plan { envdir: Some((dir.clone(), Subdirs::Failure)), ..Plan::default() };
    Parsed::Run(Box::new(plan), prog.to_vec())
}

fn pgrphack(args: &[OsString]) -> Parsed {
    if args.is_empty() {
        return Parsed::Usage(None);
    }
    Parsed::Run(Box::new(Plan { new_session: true, ..Plan::default() }), args.to_vec())
}

/// setlock as daemontools documents it: wait by default; -n gives up at once (C runit gets
/// this backwards); -x exits 0 when the lock cannot be opened or taken.
fn setlock(args: &[OsString], prog: &str) -> Parsed {
    let mut lock = Lock { path: OsString::new(), wait: true, exit_zero_on_failure: false };
    let mut g = Getopt::new(args, "nNxX");
    for o in g.by_ref() {
        match o {
            Opt::Flag(b'n') => lock.wait = false,
            Opt::Flag(b'N') => lock.wait = true,
            Opt::Flag(b'x') => lock.exit_zero_on_failure = true,
            Opt::Flag(_) => lock.exit_zero_on_failure = false,
            _ => return complain(&o, prog),
        }
    }
    let [file, prog @ ..] = g.rest() else { return Parsed::Usage(None) };
    if prog.is_empty() {
        return Parsed::Usage(None);
    }
    lock.path = file.clone();
    Parsed::Run(Box::new(Plan { lock: Some(lock), ..Plan::default() }), prog.to_vec())
}

fn softlimit(args: &[OsString], prog: &str) -> Parsed {
    let mut plan = Plan::default();
    let mut g = Getopt::new(args, "a:c:d:f:l:m:o:p:r:s:t:");
    for o in g.by_ref() {
        let Opt::Arg(c, v) = &o else { return complain(&o, prog) };
        let Some(value) = limits::parse_value(v) else { return Parsed::Usage(None) };
        for r in softlimit_resources(*c) {
            plan.limits.request(*r, value);
        }
    }
    match g.rest() {
        [] => Parsed::Usage(None),
        prog => Parsed::Run(Box::new(plan), prog.to_vec()),
    }
}

fn softlimit_resources(c: u8) -> &'static [Resource] {
    match c {
        b'a' => &[Resource::AddressSpace],
        b'c' => &[Resource::CoreSize],
        b'd' => &[Resource::Data],
        b'f' => &[Resource::FileSize],
        b'l' => &[Resource::LockedMemory],
        b'm' => &limits::MEMORY,
        b'o' => &[Resource::OpenFiles],
        b'p' => &[Resource::Processes],
        b'r' => &[Resource::ResidentSet],
        b's' => &[Resource::Stack],
        _ => &[Resource::CpuTime],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_exit_codes_as_a_shell_reports_them() {
        // Raw wait statuses: an exit code in the second byte, a signal in the low bits.
        assert_eq!(exit_code(Status(3 << 8)), 3);
        assert_eq!(exit_code(Status(libc::SIGTERM)), 128 + libc::SIGTERM);
        assert_eq!(exit_code(Status(libc::SIGKILL)), 137);
    }
}
