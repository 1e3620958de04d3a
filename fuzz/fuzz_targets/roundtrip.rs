//! cargo-fuzz target `roundtrip`: the body is `fuzz/bodies/roundtrip.rs`, shared with `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../bodies/roundtrip.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
