//! cargo-fuzz target `reloc`: the body is `fuzz/bodies/reloc.rs`, shared with `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../bodies/reloc.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
