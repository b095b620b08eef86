//! The `runsv` program; see `runit::cmd::runsv`.

fn main() {
    std::process::exit(runit::cmd::runsv::main())
}
