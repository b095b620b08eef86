//! The `sv` program; see `runit::cmd::sv`.

fn main() {
    std::process::exit(runit::cmd::sv::main())
}
