//! Fuzz body `roundtrip`: any bytes.
//!
//! For every input the lenient decoder reports canonical (`is_canonical()`), `encode(decode(x)) == x`
//! byte for byte; for every input it accepts with irregularities, the encoding differs from the
//! input (`Decoded::irregularities` is empty *exactly* when the round trip is exact).
//!
//! Shared by `fuzz/fuzz_targets/roundtrip.rs` and `tests/fuzz_replay.rs`.

use mpy_codec::{DecodeOptions, Module};

pub fn run(data: &[u8]) {
    let Ok(decoded) = Module::decode_with(data, DecodeOptions { strict: false }) else {
        return;
    };
    let encoded = match decoded.module.encode() {
        Ok(bytes) => bytes,
        Err(e) => panic!("a decoded module does not encode: {e}"),
    };
    if decoded.is_canonical() {
        if encoded != data {
            let at =
                encoded.iter().zip(data).position(|(a, b)| a != b).unwrap_or(encoded.len().min(data.len()));
            panic!(
                "canonical input does not round-trip: {} bytes in, {} bytes out, first difference at {at:#x}",
                data.len(),
                encoded.len()
            );
        }
    } else {
        assert!(
            encoded != data,
            "input re-encodes byte for byte, yet the decoder reported {:?}",
            decoded.irregularities
        );
    }
    // The encoder's output is always canonical and stable.
    let again = Module::decode_with(&encoded, DecodeOptions { strict: true })
        .unwrap_or_else(|e| panic!("the encoder's output does not decode strictly: {e}"));
    assert_eq!(again.module.encode().as_ref(), Ok(&encoded), "encode(decode(encode(m))) != encode(m)");
}
