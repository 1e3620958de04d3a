//! cargo-fuzz target `decode`: the body is `fuzz/bodies/decode.rs`, shared with `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../bodies/decode.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
