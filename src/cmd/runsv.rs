//! `runsv`: not written yet.

/// Placeholder until the program exists: says so and fails, never pretends to work.
pub fn main() -> i32 {
    eprintln!("runsv: fatal: not implemented yet");
    111
}
