//! The `utmpset` program; see `runit::cmd::utmpset`.

fn main() {
    std::process::exit(runit::cmd::utmpset::main())
}
