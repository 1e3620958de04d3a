//! cargo-fuzz target `bytecode`: the body is `fuzz/bodies/bytecode.rs`, shared with `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../bodies/bytecode.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
