//! chpst's command line and those of its daemontools personalities, described for `--help`
//! and the completions (all OSes); the parsing is in `crate::cmd::chpst`.

use clap::{Arg, Command, ValueHint};

use super::{base, dash_v_upper, flag, operand, opt};

/// chpst or one of its personalities; `None` for any other name.
pub(super) fn command(name: &str) -> Option<Command> {
    let cmd = match name {
        "chpst" => chpst(),
        "envdir" => envdir(),
        "envuidgid" => account("envuidgid", "envuidgid account child", ENVUIDGID),
        "setuidgid" => account("setuidgid", "setuidgid account child", SETUIDGID),
        "pgrphack" => pgrphack(),
        "setlock" => setlock(),
        "softlimit" => softlimit(),
        _ => return None,
    };
    Some(cmd)
}

const ENVUIDGID: &str = "Set $UID and $GID to an account's IDs, then run a program.";
const SETUIDGID: &str = "Run a program under an account's user and group IDs.";
const EXITS_CHILD: &str = "Exit codes: the program's, 100 on bad usage, 111 on failure.";

/// The program a chpst-like command runs, with its own arguments untouched.
fn child() -> Arg {
    Arg::new("prog")
        .value_name("prog")
        .required(true)
        .num_args(1..)
        .trailing_var_arg(true)
        .allow_hyphen_values(true)
        .value_hint(ValueHint::CommandWithArguments)
        .help("The program to run, and its arguments")
}

fn chpst() -> Command {
    let usage = "chpst [-vVP012FI] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] \
                 [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] \
                 [-c n] [-t n] prog";
    base("chpst", usage, "Run a program with a changed process state.")
        .arg(
            opt('u', "user[:group]", "Run as this user (and groups)")
                .value_hint(ValueHint::Username),
        )
        .arg(
            opt('U', "user[:group]", "Set $UID and $GID for this user")
                .value_hint(ValueHint::Username),
        )
        .arg(opt('b', "argv0", "Run the program under this name"))
        .arg(
            opt('e', "dir", "Set environment variables from the files in dir")
                .value_hint(ValueHint::DirPath),
        )
        .arg(opt('/', "root", "Change the root directory").value_hint(ValueHint::DirPath))
        .arg(opt('C', "pwd", "Change the working directory").value_hint(ValueHint::DirPath))
        .arg(opt('n', "nice", "Add nice to the nice value"))
        .arg(
            opt('l', "lock", "Wait for an exclusive lock on this file")
                .value_hint(ValueHint::FilePath),
        )
        .arg(opt('L', "lock", "Take the lock or fail at once").value_hint(ValueHint::FilePath))
        .args(chpst_limits())
        .arg(flag('v', "Verbose"))
        .arg(dash_v_upper())
        .arg(flag('P', "Run in a new session and process group"))
        .arg(flag('0', "Close standard input"))
        .arg(flag('1', "Close standard output"))
        .arg(flag('2', "Close standard error"))
        .arg(flag('F', "Run under chpst as PID 1 of new PID and mount namespaces (Linux)"))
        .arg(flag('I', "Run as PID 1 of new PID and mount namespaces (Linux)"))
        .arg(child())
        .after_help(
            "Options end at prog (or --); what follows is prog's. Exit codes: prog's, 100 on \
             bad usage, 111 on failure.\nCalled as envdir, envuidgid, pgrphack, setuidgid, \
             setlock or softlimit, chpst behaves as that daemontools program.",
        )
}

fn chpst_limits() -> [Arg; 8] {
    [
        opt('m', "bytes", "Limit data, stack, locked memory and address space"),
        opt('d', "bytes", "Limit the data segment"),
        opt('o', "n", "Limit the number of open files"),
        opt('p', "n", "Limit the number of processes"),
        opt('f', "bytes", "Limit the size of files written"),
        opt('c', "bytes", "Limit the size of core files"),
        opt('r', "bytes", "Limit the resident set size"),
        opt('t', "seconds", "Limit the CPU time"),
    ]
}

fn envdir() -> Command {
    base(
        "envdir",
        "envdir dir child",
        "Set environment variables from a directory, then run a program.",
    )
    .arg(operand("dir", ValueHint::DirPath, "One variable per file, named after it"))
    .arg(child())
    .after_help(EXITS_CHILD)
}

/// setuidgid and envuidgid.
fn account(name: &'static str, usage: &'static str, about: &'static str) -> Command {
    base(name, usage, about)
        .arg(operand("account", ValueHint::Username, "A user name"))
        .arg(child())
        .after_help(EXITS_CHILD)
}
fn pgrphack() -> Command {
    base("pgrphack", "pgrphack child", "Run a program in a new session and process group.")
        .arg(child())
        .after_help(EXITS_CHILD)
}

fn setlock() -> Command {
    let usage = "setlock [ -nNxX ] file program [ arg ... ]";
    base("setlock", usage, "Run a program holding an exclusive lock on a file.")
        .arg(flag('n', "Give up at once if the lock is held elsewhere"))
        .arg(flag('N', "Wait for the lock (the default)"))
        .arg(flag('x', "Exit 0 quietly if the lock cannot be taken"))
        .arg(flag('X', "Fail with 111 if the lock cannot be taken (the default)"))
        .arg(operand("file", ValueHint::FilePath, "The lock file, created if missing"))
        .arg(child())
        .after_help(EXITS_CHILD)
}

fn softlimit() -> Command {
    let usage = "softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] \
                 [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] \
                 [-s stackbytes] [-t cpusecs] child";
    base("softlimit", usage, "Run a program with lowered soft resource limits.")
        .args([
            opt('a', "allbytes", "Limit the address space"),
            opt('c', "corebytes", "Limit the size of core files"),
            opt('d', "databytes", "Limit the data segment"),
            opt('f', "filebytes", "Limit the size of files written"),
            opt('l', "lockbytes", "Limit locked memory"),
            opt('m', "membytes", "Limit data, stack, locked memory and address space"),
            opt('o', "openfiles", "Limit the number of open files"),
            opt('p', "processes", "Limit the number of processes"),
            opt('r', "residentbytes", "Limit the resident set size"),
            opt('s', "stackbytes", "Limit the stack"),
            opt('t', "cpusecs", "Limit the CPU time"),
        ])
        .arg(child())
        .after_help(
            "A value of = means the hard limit. Exit codes: the program's, 100 on bad usage, \
             111 on failure.",
        )
}
