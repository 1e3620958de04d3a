//! Hostile input: truncations at every offset, targeted corruptions with the error each must give,
//! and the irregularities that lenient decoding records and strict decoding rejects. Needs no
//! upstream tools: the inputs are the committed corpus and bytes written here.

mod common;

use common::corpus_files;
use mpy_codec::{DecodeOptions, ErrorKind, IrregularityKind, Module};

#[test]
fn every_truncation_of_every_corpus_file_is_an_error() {
    for (name, bytes) in corpus_files() {
        assert!(Module::decode(&bytes).is_ok(), "{name} must decode whole");
        for len in 0..bytes.len() {
            let err = match Module::decode(&bytes[..len]) {
                Err(e) => e,
                Ok(_) => panic!("{name} cut to {len} bytes decoded"),
            };
            assert!(err.offset <= len, "{name} cut to {len}: offset {} past the end", err.offset);
            // The message names a place and an offset.
            let text = err.to_string();
            assert!(text.contains("(at offset 0x"), "{text}");
        }
    }
}

/// A file prefix: header (bytecode only, 31-bit small ints).
const HEADER: &[u8] = &[b'M', 6, 0, 31];

fn file(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = HEADER.to_vec();
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

/// The smallest valid body: no qstrs, no objects, an empty bytecode raw code.
const EMPTY_MODULE: &[u8] = &[0, 0, 0];

#[test]
fn targeted_corruptions_give_their_error() {
    let deep_tuples: Vec<u8> = {
        let mut v = file(&[&[0, 1]]);
        for _ in 0..1_000_000 {
            v.extend_from_slice(&[10, 1]);
        }
        v.push(1);
        v.push(0);
        v
    };
    let deep_children: Vec<u8> = {
        let mut v = file(&[&[0, 0]]);
        for _ in 0..100_000 {
            v.extend_from_slice(&[0x04, 0x01]); // kind_len: no data, has children; one child
        }
        v.push(0);
        v
    };
    let deep_tuple_path = format!("objects[0]{}", "[0]".repeat(mpy_codec::limits::MAX_TUPLE_DEPTH));
    // (name, input, expected kind, expected path, expected offset)
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str, usize)> = vec![
        ("empty input", vec![], ErrorKind::UnexpectedEnd { what: "magic" }, "header", 0),
        ("not an mpy", b"\x7fELF".to_vec(), ErrorKind::NotMpy { magic: 0x7f }, "header", 0),
        (
            "format 5",
            vec![b'M', 5, 0, 31],
            ErrorKind::UnsupportedVersion { magic: b'M', version: 5 },
            "header",
            0,
        ),
        (
            "circuitpython",
            vec![b'C', 5, 0, 31],
            ErrorKind::UnsupportedVersion { magic: b'C', version: 5 },
            "header",
            0,
        ),
        (
            "huge qstr count",
            file(&[&[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], &[0]]),
            ErrorKind::CountExceedsInput { what: "n_qstr", count: 1 << 63, left: 1 },
            "qstrs",
            4,
        ),
        (
            "varuint beyond 64 bits",
            file(&[&[0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]]),
            ErrorKind::VarUintOverflow { what: "n_qstr" },
            "qstrs",
            4,
        ),
        ("varuint cut by the end", file(&[&[0x81]]), ErrorKind::UnexpectedEnd { what: "n_qstr" }, "qstrs", 4),
        (
            "qstr longer than the file",
            file(&[&[1, 0, 0x20, b'a']]),
            ErrorKind::LengthExceedsInput { what: "qstr", len: 16, left: 1 },
            "qstrs[0]",
            7,
        ),
        (
            "unknown object tag",
            file(&[&[0, 1, 11, 0]]),
            ErrorKind::UnknownObjectTag { tag: 11 },
            "objects[0]",
            6,
        ),
        (
            "tuples nested a million deep",
            deep_tuples,
            ErrorKind::TooDeep { what: "tuple", limit: mpy_codec::limits::MAX_TUPLE_DEPTH },
            &deep_tuple_path,
            6 + 2 * mpy_codec::limits::MAX_TUPLE_DEPTH,
        ),
        (
            "tuple count larger than the file",
            file(&[&[0, 1, 10, 0x7f, 1]]),
            ErrorKind::CountExceedsInput { what: "tuple item", count: 127, left: 1 },
            "objects[0]",
            7,
        ),
        (
            "fun_data longer than the file",
            file(&[&[0, 0], &[0x80 | (812u16 << 3 >> 7) as u8, (812u16 << 3 & 0x7f) as u8], &[0; 40]]),
            ErrorKind::LengthExceedsInput { what: "fun_data", len: 812, left: 40 },
            "raw_code.fun_data",
            8,
        ),
        (
            "child count larger than the file",
            file(&[&[0, 0, 0x04, 0x7f]]),
            ErrorKind::CountExceedsInput { what: "n_children", count: 127, left: 0 },
            "raw_code",
            7,
        ),
        (
            "raw codes nested 100000 deep",
            deep_children,
            ErrorKind::TooDeep { what: "raw code", limit: mpy_codec::limits::MAX_RAW_CODE_DEPTH },
            "",
            6 + 2 * mpy_codec::limits::MAX_RAW_CODE_DEPTH,
        ),
        (
            "relocation stream without its terminator",
            // viper, 1 byte of code, flags RELOC; ops: cursor text+0, add text base; then EOF
            file(&[&[0, 0, 0x0a, 0xc3, 0x10, 0x01, 0x00, 0x00]]),
            ErrorKind::UnexpectedEnd { what: "relocation op stream (no 0xff terminator)" },
            "raw_code.relocs[2]",
            12,
        ),
        (
            "rodata longer than the file",
            file(&[&[0, 0, 0x0a, 0xc3, 0x20, 0x10, 0xaa]]),
            ErrorKind::LengthExceedsInput { what: "rodata", len: 16, left: 1 },
            "raw_code.rodata",
            10,
        ),
    ];
    for (name, input, kind, path, offset) in cases {
        let err = Module::decode(&input).expect_err(name);
        assert_eq!(err.kind, kind, "{name}: {err}");
        if !path.is_empty() {
            assert_eq!(err.path.to_string(), path, "{name}");
        }
        assert_eq!(err.offset, offset, "{name}: {err}");
    }
}

#[test]
fn irregularities_are_recorded_leniently_and_rejected_strictly() {
    // (name, input, expected irregularity, offset)
    let cases: Vec<(&str, Vec<u8>, IrregularityKind, usize)> = vec![
        (
            "padded varuint",
            file(&[&[0x80, 0, 0, 0]]),
            IrregularityKind::NonMinimalVarUint { what: "n_qstr" },
            4,
        ),
        ("trailing bytes", file(&[EMPTY_MODULE, b"junk"]), IrregularityKind::TrailingBytes { count: 4 }, 7),
        ("has-children bit, no children", file(&[&[0, 0, 0x04, 0]]), IrregularityKind::EmptyChildren, 7),
        (
            "qstr terminator not NUL",
            file(&[&[1, 0, 2, b'a', b'!'], &[0]]),
            IrregularityKind::NonNulTerminator { what: "qstr", found: b'!' },
            8,
        ),
        (
            "str terminator not NUL",
            file(&[&[0, 1, 5, 1, b'a', 7], &[0]]),
            IrregularityKind::NonNulTerminator { what: "str", found: 7 },
            9,
        ),
    ];
    for (name, input, kind, offset) in cases {
        let lenient =
            Module::decode_with(&input, DecodeOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(lenient.irregularities.len(), 1, "{name}");
        assert_eq!(lenient.irregularities[0].kind, kind, "{name}");
        assert_eq!(lenient.irregularities[0].offset, offset, "{name}");
        assert!(!lenient.is_canonical());
        assert_ne!(lenient.module.encode().unwrap(), input, "{name}: canonical re-encoding differs");
        let strict = Module::decode_with(&input, DecodeOptions { strict: true }).expect_err(name);
        assert_eq!(strict.kind, ErrorKind::Irregular(kind), "{name}");
        assert_eq!(strict.offset, offset, "{name}");
    }
    // And the minimal module itself is canonical.
    let minimal = file(&[EMPTY_MODULE]);
    let decoded = Module::decode_with(&minimal, DecodeOptions { strict: true }).unwrap();
    assert!(decoded.is_canonical());
    assert_eq!(decoded.module.encode().unwrap(), minimal);
}

#[test]
fn hand_made_viper_record_with_everything_round_trips() {
    // viper raw code with rodata, bss, one child and a relocation stream (which follows the child):
    // kind_len = 4 << 3 | 4 | 2 = 0x26
    let input = file(&[
        &[0, 0],
        &[0x26, 0xde, 0xad, 0xbe, 0xef],
        &[0x70, 0x04, 0x08, 1, 2, 3, 4], // flags RELOC|RODATA|BSS, rodata 4, bss 8, rodata
        &[0x01, 0x00],                   // one child: empty bytecode
        &[0x01, 0x02, 0x03, 0x01, 0x03, 0x05, 0x0c, 0x12, 0xfe, 0xff],
    ]);
    let decoded = Module::decode_with(&input, DecodeOptions { strict: true }).unwrap();
    let ops = decoded.module.raw_code.kind.relocs().unwrap();
    assert_eq!(ops.len(), 5, "{ops:?}");
    assert_eq!(decoded.module.encode().unwrap(), input);
}
