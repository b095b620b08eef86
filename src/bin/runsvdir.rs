//! The `runsvdir` program; see `runit::cmd::runsvdir`.

fn main() {
    std::process::exit(runit::cmd::runsvdir::main())
}
