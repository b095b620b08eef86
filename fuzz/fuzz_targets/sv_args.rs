//! Fuzz target `sv_args`: the harness is `runit::fuzzing`'s, shared with the regression tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runit::fuzzing::run("sv_args", data);
});
