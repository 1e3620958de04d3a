//! cargo-fuzz target `structured`: the body is `fuzz/bodies/structured.rs`, shared with `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../bodies/structured.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
