//! The `runsvchdir` program; see `runit::cmd::runsvchdir`.

fn main() {
    std::process::exit(runit::cmd::runsvchdir::main())
}
