//! The `runit` program; see `runit::cmd::runit`.

fn main() {
    std::process::exit(runit::cmd::runit::main())
}
