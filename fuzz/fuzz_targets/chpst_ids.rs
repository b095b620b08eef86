//! Fuzz target `chpst_ids`: the harness is `runit::fuzzing`'s, shared with the regression tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runit::fuzzing::run("chpst_ids", data);
});
