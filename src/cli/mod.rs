//! The programs' command lines described once, with clap (all OSes): the text of `--help` and
//! `--version`, and the source of the shell completions in `completions/`.
//!
//! clap does not parse the real command lines. runit's programs take getopt-style options with
//! runit's own rules (bundles such as `-vw5`, `-tt` counted, parsing stopping at the program
//! name for chpst, a usage line and C's exit code for bad usage, which differs per program)
//! and the hand-written parsers in each program reproduce them exactly. What clap adds is what
//! C runit lacks: `--help` and `--version`, recognised only as the FIRST argument, so that
//! `chpst -u user prog --help` still hands `--help` to `prog`, and in `sv -- --help` it stays
//! the command word.
//! The `Command`s are built only when one of them is asked for: a program that is not asked for
//! help never runs clap code. runsv goes further and links none of it (its help is rendered in
//! advance, see [`RUNSV_HELP`]): clap's relocated data and the larger text would cost every
//! supervised service a few kB (ci/bench-runsv).

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use clap::builder::{Str, StyledStr};
use clap::{Arg, ArgAction, Command, ValueHint};

use crate::fail::{self, exit};

mod chpst;

/// The programs, by the name each is installed under.
pub const PROGRAMS: [&str; 9] =
    ["runsv", "sv", "svlogd", "chpst", "runsvdir", "runsvchdir", "runit", "runit-init", "utmpset"];

/// chpst's daemontools personalities (symbolic links to chpst).
pub const PERSONALITIES: [&str; 6] =
    ["envdir", "envuidgid", "pgrphack", "setuidgid", "setlock", "softlimit"];

/// What `--version` prints after the program's name.
/// The second line names the build's distribution flavour and its paths.
const VERSION: &str = concat!(
    "(runit-rs) ",
    env!("CARGO_PKG_VERSION"),
    "\n",
    env!("RUNIT_FLAVOUR_NAME"),
    " paths: SVDIR ",
    env!("RUNIT_FLAVOUR_SVDIR"),
    ", stopit ",
    env!("RUNIT_FLAVOUR_STOPIT"),
    ", reboot ",
    env!("RUNIT_FLAVOUR_REBOOT"),
    ", runit ",
    env!("RUNIT_FLAVOUR_RUNIT"),
);

/// runit's usage line first (lower-case `usage:`, as on bad usage), then the rest.
const TEMPLATE: &str = "usage: {usage}\n\n{about}\n\n{all-args}{after-help}";

/// Answers `--help` or `--version` given as the first argument of program `name` (one of
/// [`PROGRAMS`] or [`PERSONALITIES`]): prints clap's text on standard output and returns the exit
/// code, 0 (111 if standard output cannot be written). `None`: not asked, parse as usual.
pub fn answer(name: &str, first: Option<&OsStr>) -> Option<i32> {
    answer_with(first, || command(name))
}

/// As [`answer`], with the `Command` made by `make` (sv's init-script mode names itself).
pub fn answer_with(first: Option<&OsStr>, make: impl FnOnce() -> Option<Command>) -> Option<i32> {
    let help = asks(first)?;
    let mut cmd = make()?;
    let text = if help { cmd.render_help().to_string() } else { cmd.render_version() };
    Some(print(cmd.get_name(), &text))
}

/// As [`answer`], from help text that clap rendered in advance (a unit test below checks that
/// it still renders the same): nothing of clap is linked into the program. For runsv, which
/// runs once per service and whose every page counts (ci/bench-runsv).
pub fn answer_prerendered(name: &str, help: &str, first: Option<&OsStr>) -> Option<i32> {
    let text = if asks(first)? { help.to_string() } else { format!("{name} {VERSION}\n") };
    Some(print(name, &text))
}

/// runsv's `--help`, as clap renders `command("runsv")`.
pub const RUNSV_HELP: &str = "\
usage: runsv dir

Start and supervise one service and its log service.

Arguments:
  <dir>  The service directory

Options:
      --help     Print this help and exit (first argument only)
      --version  Print the version and exit (first argument only)

Exit codes: 0 after `sv exit`, 1 on bad usage, 111 on failure.
";

/// runsvdir's `--help`, as clap renders `command("runsvdir")`: prerendered too, since every
/// page of the one process that watches thousands of services counts (ci/bench-runsvdir).
pub const RUNSVDIR_HELP: &str = "\
usage: runsvdir [-P] dir

Run a runsv for each service directory in dir.

Arguments:
  <dir>  The directory of services
  [log]  Seven or more characters (dots, say) that show the latest errors in ps

Options:
  -P             Start each runsv in a session and process group of its own
      --help     Print this help and exit (first argument only)
      --version  Print the version and exit (first argument only)

Exit codes: 0 on TERM, 1 on bad usage, 111 on failure or HUP.
";

/// runit's `--help`, as clap renders `command("runit")`: process 1 should hold the least code
/// of all programs, so it links none of clap (its pages would stay mapped for the machine's
/// whole life; ci/bench-boot reports PID 1's PSS).
pub const RUNIT_HELP: &str = "\
usage: runit (as process 1; see runit(8))

Process 1: run /etc/runit/1, then 2 until shutdown, then 3. Run other than as process 1, it only \
answers --help and --version.

Options:
      --help     Print this help and exit (first argument only)
      --version  Print the version and exit (first argument only)
";

/// runit-init's `--help`, as clap renders `command("runit-init")`: prerendered for the same
/// reason, since the kernel may start runit-init as process 1.
pub const RUNIT_INIT_HELP: &str = "\
usage: runit-init 0|6

Ask runit (process 1) to halt (0) or reboot (6).

Arguments:
  <0|6>  0: halt, 6: reboot

Options:
      --help     Print this help and exit (first argument only)
      --version  Print the version and exit (first argument only)

Run by the kernel as process 1, it becomes runit. Exit codes: 111 on failure, 0 otherwise (bad \
usage included).
";

/// Whether the first argument asks for help (`Some(true)`) or the version (`Some(false)`).
fn asks(first: Option<&OsStr>) -> Option<bool> {
    match first?.as_bytes() {
        b"--help" => Some(true),
        b"--version" => Some(false),
        _ => None,
    }
}

/// Prints `text` on standard output: exit code 0, or 111 (with a message) if that fails.
fn print(name: &str, text: &str) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) => {
            fail::fatal(
                format!("{name}: ").as_bytes(),
                &fail::because("unable to write output", &e),
            );
            exit::FAILURE
        }
    }
}

/// The command line of a program or personality; `None` for any other name.
pub fn command(name: &str) -> Option<Command> {
    let cmd = match name {
        "runsv" => runsv(),
        "sv" => sv(),
        "svlogd" => svlogd(),
        "runsvdir" => runsvdir(),
        "runsvchdir" => runsvchdir(),
        "runit" => runit(),
        "runit-init" => runit_init(),
        "utmpset" => utmpset(),
        other => return chpst::command(other),
    };
    Some(cmd)
}

/// What every command has: the usage line, the about line, `--help` and `--version`.
fn base(name: impl Into<Str>, usage: impl Into<StyledStr>, about: &'static str) -> Command {
    Command::new(name)
        .version(VERSION)
        .about(about)
        .override_usage(usage.into())
        .help_template(TEMPLATE)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args(help_and_version())
}

/// `--help` and `--version`, listed after the program's own options.
fn help_and_version() -> [Arg; 2] {
    [
        Arg::new("help")
            .long("help")
            .action(ArgAction::Help)
            .display_order(1000)
            .help("Print this help and exit (first argument only)"),
        Arg::new("version")
            .long("version")
            .action(ArgAction::Version)
            .display_order(1000)
            .help("Print the version and exit (first argument only)"),
    ]
}

fn flag(c: char, help: &'static str) -> Arg {
    Arg::new(String::from(c)).short(c).action(ArgAction::SetTrue).help(help)
}

/// An option with a value; shells complete no file names for it unless a hint says so.
fn opt(c: char, value: &'static str, help: &'static str) -> Arg {
    Arg::new(String::from(c))
        .short(c)
        .value_name(value)
        .num_args(1)
        .value_hint(ValueHint::Other)
        .help(help)
}

fn operand(id: &'static str, hint: ValueHint, help: &'static str) -> Arg {
    Arg::new(id).value_name(id).required(true).value_hint(hint).help(help)
}

/// `-V`: runit's version option, which also prints the usage line and fails.
fn dash_v_upper() -> Arg {
    flag('V', "Print the version and the usage line on standard error, exit as on bad usage")
}

fn runsv() -> Command {
    base("runsv", "runsv dir", "Start and supervise one service and its log service.")
        .arg(operand("dir", ValueHint::DirPath, "The service directory"))
        .after_help("Exit codes: 0 after `sv exit`, 1 on bad usage, 111 on failure.")
}

/// sv's commands as sv(8) lists them, for completion (sv also takes the first letter alone, or
/// any word starting with it, for runit's own commands).
#[rustfmt::skip]
const SV_COMMANDS: [&str; 27] = [
    "status", "up", "down", "once", "pause", "cont", "hup", "alarm", "interrupt", "quit", "1",
    "2", "term", "kill", "exit", "start", "stop", "reload", "restart", "shutdown", "force-stop",
    "force-reload", "force-restart", "force-shutdown", "try-restart", "check", "watch",
];

/// The commands, as the help lists them.
const SV_COMMAND_HELP: &str = "Commands: status, up, down, once, pause, cont, hup, alarm, \
interrupt, quit, 1, 2, term, kill, exit;\nas in LSB init scripts: start, stop, reload, restart, \
shutdown, force-stop, force-reload,\nforce-restart, force-shutdown, try-restart; check (wait \
until the service is as wanted); and watch\n(JSON lines at every change, sv(8)).";

fn sv() -> Command {
    base("sv", "sv [-v] [-w sec] command service ...", "Control and report services run by runsv.")
        .arg(flag('v', "Wait for the command to take effect and report (7 s unless -w)"))
        .arg(opt('w', "sec", "Wait up to sec seconds (implies -v)"))
        .arg(flag('j', "Print one JSON object per service per line instead of text (sv(8))"))
        .arg(dash_v_upper())
        .arg(sv_command())
        .arg(
            operand("service", ValueHint::DirPath, "Service names (under $SVDIR) or directories")
                .num_args(1..),
        )
        .after_help(format!(
            "{SV_COMMAND_HELP}\nExit codes: the number of services that failed (at most 99), \
             100 on bad usage.\nCalled by another name (as an init script), the service is that \
             name."
        ))
}

fn sv_command() -> Arg {
    operand("command", ValueHint::Other, "What to do (see below)")
        .value_parser(SV_COMMANDS)
        .hide_possible_values(true)
}

/// sv called by another name, as an LSB init script: `/etc/init.d/<name> [-w sec] command`.
pub fn sv_lsb(name: &str) -> Command {
    let about = "An init script backed by sv: control and report the service of this name.";
    base(name.to_string(), format!("{name} [-w sec] command"), about)
        .arg(opt('w', "sec", "Wait up to sec seconds for the command to take effect (default 7)"))
        .arg(sv_command())
        .after_help(format!(
            "{SV_COMMAND_HELP}\nExit codes as an LSB init script: 0 success, 2 bad usage, \
             3 not running (status)."
        ))
}

fn svlogd() -> Command {
    // C's usage line, which predates -ttt.
    let usage = "svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...";
    base("svlogd", usage, "Append lines from standard input to rotated log directories.")
        .arg(
            Arg::new("t")
                .short('t')
                .action(ArgAction::Count)
                .help("Timestamp lines: -t TAI64N, -tt YYYY-MM-DD_HH:MM:SS, -ttt ISO 8601"),
        )
        .arg(flag('v', "Report what svlogd does on standard error"))
        .arg(opt('r', "c", "Replace non-printable characters with c"))
        .arg(opt('R', "abc", "Also replace the characters in abc (with _ unless -r)"))
        .arg(opt('l', "len", "Look at the first len characters of a line (default 1000)"))
        .arg(opt('b', "buflen", "Buffer size, greater than len (default 1024)"))
        .arg(dash_v_upper())
        .arg(operand("dir", ValueHint::DirPath, "Log directories").num_args(1..))
        .after_help("Exit codes: 0 after end of input or TERM, 111 on failure or bad usage.")
}

fn runsvdir() -> Command {
    base("runsvdir", "runsvdir [-P] dir", "Run a runsv for each service directory in dir.")
        .arg(flag('P', "Start each runsv in a session and process group of its own"))
        .arg(operand("dir", ValueHint::DirPath, "The directory of services"))
        .arg(
            Arg::new("log")
                .value_name("log")
                .help("Seven or more characters (dots, say) that show the latest errors in ps"),
        )
        .after_help("Exit codes: 0 on TERM, 1 on bad usage, 111 on failure or HUP.")
}

fn runsvchdir() -> Command {
    base("runsvchdir", "runsvchdir dir", "Switch runsvdir to another directory of services.")
        .arg(operand(
            "dir",
            ValueHint::DirPath,
            "The runlevel: a directory in $RUNSVDIR (/etc/runit/runsvdir)",
        ))
        .after_help("Exit codes: 0 on success, 1 on bad usage, 111 on failure.")
}

fn runit() -> Command {
    let about = "Process 1: run /etc/runit/1, then 2 until shutdown, then 3. \
                 Run other than as process 1, it only answers --help and --version.";
    base("runit", "runit (as process 1; see runit(8))", about)
}

fn runit_init() -> Command {
    base("runit-init", "runit-init 0|6", "Ask runit (process 1) to halt (0) or reboot (6).")
        .arg(
            Arg::new("runlevel")
                .value_name("0|6")
                .required(true)
                .value_parser(["0", "6"])
                .hide_possible_values(true)
                .help("0: halt, 6: reboot"),
        )
        .after_help(
            "Run by the kernel as process 1, it becomes runit. Exit codes: 111 on failure, \
             0 otherwise (bad usage included).",
        )
}

fn utmpset() -> Command {
    base("utmpset", "utmpset [-w] line", "Mark the login on a terminal line as ended in utmp.")
        .arg(flag('w', "Also append a logout record to wtmp"))
        .arg(dash_v_upper())
        .arg(operand("line", ValueHint::Other, "The terminal line, e.g. tty5"))
        .after_help("Exit codes: 0 on success, 1 on bad usage, 111 on failure.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_well_formed() {
        for name in PROGRAMS.iter().chain(&PERSONALITIES) {
            command(name).unwrap().debug_assert();
        }
        sv_lsb("ssh").debug_assert();
    }

    #[test]
    fn runsv_help_is_what_clap_renders() {
        assert_eq!(command("runsv").unwrap().render_help().to_string(), RUNSV_HELP);
    }

    #[test]
    fn runsvdir_help_is_what_clap_renders() {
        assert_eq!(command("runsvdir").unwrap().render_help().to_string(), RUNSVDIR_HELP);
    }

    #[test]
    fn runit_helps_are_what_clap_renders() {
        assert_eq!(command("runit").unwrap().render_help().to_string(), RUNIT_HELP);
        assert_eq!(command("runit-init").unwrap().render_help().to_string(), RUNIT_INIT_HELP);
    }

    #[test]
    fn only_the_first_argument_asks() {
        let ask = |a: &str| answer_with(Some(OsStr::new(a)), || None::<Command>);
        assert_eq!(ask("-h"), None);
        assert_eq!(ask("--helpx"), None);
        assert_eq!(answer("sv", None), None);
        assert!(command("nosuch").is_none());
    }
}
