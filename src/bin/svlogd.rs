//! The `svlogd` program; see `runit::cmd::svlogd`.

fn main() {
    std::process::exit(runit::cmd::svlogd::main())
}
