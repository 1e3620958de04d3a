//! cargo-fuzz target `verify`: the body is `fuzz/bodies/verify.rs`, shared with `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../bodies/verify.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
