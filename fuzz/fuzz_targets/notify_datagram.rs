//! Fuzz target `notify_datagram`: the harness is `runit::fuzzing`'s, shared with the regression tests.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    runit::fuzzing::run("notify_datagram", data);
});
