//! Memory stays proportional to the input for every shape of hostile file: a counting allocator
//! measures the peak while decoding inputs built to maximise model size per input byte.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use std::sync::Mutex;

use counting_alloc::peak_during;

/// One measurement at a time (the test harness runs tests on several threads).
static SERIAL: Mutex<()> = Mutex::new(());

/// Peak bytes allocated while decoding `input` (beyond what was allocated before).
fn peak_while_decoding(input: &[u8]) -> (usize, bool) {
    let _guard = SERIAL.lock().unwrap();
    peak_during(|| mpy_codec::Module::decode(input).is_ok())
}

/// The model may cost at most this many bytes per input byte (a minimal raw code is one byte and
/// a 64-byte node), plus a constant.
const BYTES_PER_INPUT_BYTE: usize = 64;
const CONSTANT: usize = 64 * 1024;

fn hostile_inputs(n: usize) -> Vec<(&'static str, Vec<u8>)> {
    let header = [b'M', 6, 0, 31];
    let vuint = |v: u64| {
        let mut out = Vec::new();
        mpy_codec::varuint::encode(v, &mut out);
        out
    };
    let with = |qstrs: &[u8], nq: usize, objs: &[u8], no: usize, raw: &[u8]| {
        let mut v = header.to_vec();
        v.extend(vuint(nq as u64));
        v.extend(vuint(no as u64));
        v.extend_from_slice(qstrs);
        v.extend_from_slice(objs);
        v.extend_from_slice(raw);
        v
    };
    let mut children = vec![0x04];
    children.extend(vuint(n as u64));
    children.extend(std::iter::repeat_n(0u8, n));
    let mut tuple = vec![10];
    tuple.extend(vuint(n as u64));
    tuple.extend(std::iter::repeat_n(1u8, n));
    let mut relocs = vec![0x0a, 0xc3, 0x10];
    relocs.extend(std::iter::repeat_n(0u8, n));
    relocs.push(0xff);
    vec![
        ("one-byte objects", with(&[], 0, &vec![1u8; n], n, &[0])),
        ("empty qstrs", with(&vec![0u8; 2 * n], n, &[], 0, &[0])),
        ("empty static qstrs", with(&vec![3u8; n], n, &[], 0, &[0])),
        ("one-byte children", with(&[], 0, &[], 0, &children)),
        ("a wide tuple", with(&[], 0, &tuple, 1, &[0])),
        ("one-byte relocation ops", with(&[], 0, &[], 0, &relocs)),
        ("a truncated huge count", with(&[], 0, &[], 0, &[0x04, 0xff, 0xff, 0xff, 0x7f])),
    ]
}

#[test]
fn decoding_memory_is_bounded_by_input_size() {
    for (name, input) in hostile_inputs(200_000) {
        let (peak, ok) = peak_while_decoding(&input);
        let bound = BYTES_PER_INPUT_BYTE * input.len() + CONSTANT;
        println!(
            "{name:<26} {:>8} bytes in, peak {:>9} bytes allocated ({:.1}x), decoded: {ok}",
            input.len(),
            peak,
            peak as f64 / input.len() as f64
        );
        assert!(peak <= bound, "{name}: peak {peak} bytes for {} input bytes (bound {bound})", input.len());
    }
}
