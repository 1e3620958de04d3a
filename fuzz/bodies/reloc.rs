//! Fuzz body `reloc`: any bytes as a relocation op stream, with buffer sizes.
//!
//! Input layout: byte 0 picks the word size (`[4, 8, 2, 1][b & 3]`), bytes 1..3 and 3..5 are the
//! text and rodata lengths in bytes (little-endian u16), and the rest is the stream (ops, then
//! `0xFF`; anything after the terminator is trailing bytes). Shorter inputs are ignored.
//!
//! The stream is wrapped in a minimal module (x64, 6.3, no qstrs, no objects, one childless viper
//! raw code with only the `RELOC` flag and an empty fun_data) and the whole module is decoded:
//! * errors are reported inside the stream, never in the fixed prefix;
//! * decoding then encoding is exact for canonical inputs, and a fixpoint for all;
//! * `reloc::check_bounds` never panics, and agrees with [`simulate`], a naive simulation of the
//!   loader (`mp_native_relocate`) that applies each op word by word to `Vec<u64>` buffers of the
//!   given sizes: both accept, or both refuse at the same op.
//!
//! Shared by `fuzz/fuzz_targets/reloc.rs` and `tests/fuzz_replay.rs`.

use mpy_codec::reloc::{self, Region, RelocOp, RelocSpace, Section, Target};
use mpy_codec::{DecodeOptions, Kind, Module, NativeFlags};

/// `M`, version 6, feature byte (arch x64 = 2, sub-version 3), 31-bit small ints; no qstrs, no
/// objects; `kind_len` = viper, no children, empty fun_data; scope flags = `RELOC`.
pub const PREFIX: [u8; 8] = [b'M', 6, 2 << 2 | 3, 31, 0, 0, 0x02, 0x10];

/// Bytes before the stream in a fuzz input.
pub const SIZES_LEN: usize = 5;

/// Most words the naive simulation writes before giving up on an input (the simulation stops at
/// the first out-of-bounds write, so only long in-bounds runs can exhaust it).
pub const SIMULATION_BUDGET: u64 = 100_000;

/// A fuzz input for `stream` with the given sizes (used by the seed generator and the tests).
#[allow(dead_code)]
pub fn input(word_size_selector: u8, text_len: u16, rodata_len: u16, stream: &[u8]) -> Vec<u8> {
    let mut out = vec![word_size_selector];
    out.extend_from_slice(&text_len.to_le_bytes());
    out.extend_from_slice(&rodata_len.to_le_bytes());
    out.extend_from_slice(stream);
    out
}

pub fn run(data: &[u8]) {
    if data.len() < SIZES_LEN {
        return;
    }
    let word_size = [4, 8, 2, 1][usize::from(data[0] & 3)];
    let text_len = usize::from(u16::from_le_bytes([data[1], data[2]]));
    let rodata_len = usize::from(u16::from_le_bytes([data[3], data[4]]));
    let stream = &data[SIZES_LEN..];
    let mut file = PREFIX.to_vec();
    file.extend_from_slice(stream);

    let decoded = match Module::decode_with(&file, DecodeOptions { strict: false }) {
        Ok(decoded) => decoded,
        Err(e) => {
            assert!(e.offset >= PREFIX.len() && e.offset <= file.len(), "error outside the stream: {e}");
            return;
        }
    };
    let module = &decoded.module;
    let ops = match &module.raw_code.kind {
        Kind::Viper(v) => {
            assert_eq!(v.flags, NativeFlags::RELOC);
            assert!(v.rodata.is_none() && v.bss_size.is_none());
            v.relocs.clone().expect("RELOC flag set but no relocation ops")
        }
        other => panic!("the wrapper decoded as {}", other.name()),
    };
    assert!(module.raw_code.children.is_empty() && module.raw_code.fun_data.is_empty());

    let encoded = module.encode().unwrap_or_else(|e| panic!("decoded relocation ops do not encode: {e}"));
    if decoded.is_canonical() {
        assert!(encoded == file, "canonical relocation stream does not re-encode byte for byte");
    } else {
        assert!(encoded.len() < file.len(), "non-canonical stream re-encodes no shorter");
    }
    let again = Module::decode_with(&encoded, DecodeOptions { strict: true })
        .unwrap_or_else(|e| panic!("encoded relocation ops do not decode strictly: {e}"));
    assert_eq!(&again.module, module, "decode(encode(ops)) != ops");
    for op in &ops {
        assert!(op.op_byte().is_some(), "decoded op {op:?} has no op byte");
    }

    // The bounds check: never panics, even for degenerate spaces.
    for space in [
        RelocSpace { word_size: 0, text_len: usize::MAX, rodata_len: 0 },
        RelocSpace { word_size: usize::MAX, text_len: usize::MAX, rodata_len: usize::MAX },
        RelocSpace { word_size: 1, text_len: usize::MAX, rodata_len: usize::MAX },
    ] {
        let _ = reloc::check_bounds(&ops, space);
    }
    let space = RelocSpace { word_size, text_len, rodata_len };
    let checked = reloc::check_bounds(&ops, space).map_err(|v| v.op);
    if let Some(simulated) = simulate(&ops, space) {
        assert_eq!(
            checked, simulated,
            "check_bounds and the naive simulation disagree (Err = index of the refused op) for {space:?}"
        );
    }
}

/// What the loader does, word by word: `Ok` if every write lands inside text or rodata (whole
/// words only), `Err(k)` if op `k` is the first to write outside them or through the NULL cursor;
/// `None` if the simulation would write more than [`SIMULATION_BUDGET`] words.
pub fn simulate(ops: &[RelocOp], space: RelocSpace) -> Option<Result<(), usize>> {
    let mut text = vec![0u64; space.text_len / space.word_size];
    let mut rodata = vec![0u64; space.rodata_len / space.word_size];
    // The loader's `addr_to_adjust`: NULL, or a region and a word index into it.
    let mut cursor: Option<(Region, u64)> = None;
    let mut budget = SIMULATION_BUDGET;
    for (k, op) in ops.iter().enumerate() {
        if let Some(c) = op.cursor {
            cursor = Some((c.region, c.word_offset));
        }
        let (n, dest) = match op.target {
            Target::Base { section, count } => {
                let dest = match section {
                    Section::Text => 0x1000,
                    Section::Rodata => 0x2000,
                    Section::Bss => 0x3000,
                };
                (count.unwrap_or(1), dest)
            }
            Target::QstrTable => (1, 0x4000),
            Target::ObjTable => (1, 0x5000),
            Target::FunTable => (1, 0x6000),
            Target::FunTableEntry(e) => (1, 0x7000 + u64::from(e)),
        };
        // `while (n--) { *addr_to_adjust++ += dest; }`
        for _ in 0..n {
            if budget == 0 {
                return None;
            }
            budget -= 1;
            let Some((region, at)) = cursor.as_mut() else {
                return Some(Err(k));
            };
            let buffer = match region {
                Region::Text => &mut text,
                Region::Rodata => &mut rodata,
            };
            let Some(word) = usize::try_from(*at).ok().and_then(|i| buffer.get_mut(i)) else {
                return Some(Err(k));
            };
            *word = word.wrapping_add(dest);
            *at += 1;
        }
    }
    Some(Ok(()))
}
