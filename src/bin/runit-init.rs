//! The `runit-init` program; see `runit::cmd::runit_init`.

fn main() {
    std::process::exit(runit::cmd::runit_init::main())
}
