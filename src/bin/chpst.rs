//! The `chpst` program; see `runit::cmd::chpst`.

fn main() {
    std::process::exit(runit::cmd::chpst::main())
}
