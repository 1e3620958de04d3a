//! The verifier rejects one malformed file per check with that check's finding, and the upstream
//! loader's known crash reproductions (micropython#13002, #13003, #13004, #18645, and the endless
//! varuint at end of file). Every corpus file verifies clean (the differential suite extends that
//! to every compiler's output).

mod common;

use std::borrow::Cow;

use mpy_codec::reloc::{Cursor, Region, RelocOp, Section, Target};
use mpy_codec::verify::{Check, Verifier, verify};
use mpy_codec::{Arch, Kind, Module, NativeFlags, Object, Qstr, RawCode, Viper};

const HELLO: &[u8] = include_bytes!("../corpus/doc/hello.mpy");

/// hello.mpy (`print('hello')`: 4 qstrs, no objects) with its only function's bytes replaced.
/// The prelude `08 02 01` is n_state 2, no exception handlers, no arguments, name qstr 1.
fn hello_with(fun_data: &[u8]) -> Module<'static> {
    let mut m = Module::decode(HELLO).unwrap().into_owned();
    m.raw_code.fun_data = Cow::Owned(fun_data.to_vec());
    m
}

fn with_prelude(prelude: &[u8], code: &[u8]) -> Module<'static> {
    hello_with(&[prelude, code].concat())
}

const P: &[u8] = &[0x08, 0x02, 0x01];

/// A viper function of 16 bytes of machine code in an x64 file, with `relocs` and 8 bytes of rodata.
fn viper_with(relocs: Vec<RelocOp>) -> Module<'static> {
    let mut m = hello_with(&[0x08, 0x02, 0x01, 0x51, 0x63]);
    m.header.arch = Arch::X64;
    m.header.sub_version = 3;
    m.raw_code.children.push(RawCode {
        kind: Kind::Viper(Box::new(Viper {
            flags: NativeFlags::empty(),
            rodata: Some(Cow::Owned(vec![0; 8])),
            bss_size: Some(16),
            relocs: Some(relocs),
        })),
        fun_data: Cow::Owned(vec![0x90; 16]),
        children: vec![],
    });
    m
}

fn cursor(region: Region, word_offset: u64) -> Option<Cursor> {
    Some(Cursor { region, word_offset })
}

#[test]
fn each_check_rejects_its_malformed_file() {
    let base = |count| Target::Base { section: Section::Text, count };
    // (name, module, the check that must fire)
    let cases: Vec<(&str, Module<'static>, Check)> = vec![
        (
            "qstr index out of range (#13004)",
            with_prelude(P, &[0x11, 0x09, 0x59, 0x51, 0x63]),
            Check::QstrIndex,
        ),
        ("simple name out of range", with_prelude(&[0x08, 0x02, 0x07], &[0x51, 0x63]), Check::QstrIndex),
        (
            "static qstr id past the table",
            {
                let mut m = Module::decode(HELLO).unwrap().into_owned();
                m.qstrs[3] = Qstr::Static(500);
                m
            },
            Check::StaticQstr,
        ),
        ("fun_data shorter than its code (#13002)", with_prelude(P, &[0x11]), Check::Decode),
        ("prelude longer than fun_data", hello_with(&[0x08, 0x0e, 0x01]), Check::Decode),
        ("unassigned opcode", with_prelude(P, &[0x51, 0x6a, 0x63]), Check::Opcode),
        ("constant index out of range", with_prelude(P, &[0x23, 0x05, 0x63]), Check::ConstIndex),
        ("child index out of range", with_prelude(P, &[0x32, 0x00, 0x63]), Check::ChildIndex),
        ("local at n_state", with_prelude(P, &[0xb5, 0x63]), Check::LocalIndex),
        ("yield outside a generator", with_prelude(P, &[0x51, 0x67, 0x63]), Check::Generator),
        ("LOAD_DEREF of a local without a cell", with_prelude(P, &[0x25, 0x00, 0x63]), Check::Cell),
        // 08 03 01 00: a prelude whose one cell is local 0.
        (
            "STORE_FAST over a cell",
            with_prelude(&[0x08, 0x03, 0x01, 0x00], &[0x51, 0xc0, 0x51, 0x63]),
            Check::Cell,
        ),
        (
            "MAKE_CLOSURE capturing a value that is not a cell",
            {
                // LOAD_CONST_SMALL_INT 0; MAKE_CLOSURE child 0 with 1 cell; RETURN_VALUE
                let mut m = with_prelude(P, &[0x80, 0x20, 0x00, 0x01, 0x63]);
                // The child reads its first argument as a cell: LOAD_DEREF 0; RETURN_VALUE.
                m.raw_code.children.push(RawCode {
                    kind: Kind::Bytecode,
                    fun_data: Cow::Owned(vec![0x08, 0x02, 0x01, 0x25, 0x00, 0x63]),
                    children: vec![],
                });
                m
            },
            Check::Cell,
        ),
        ("jump past the end", with_prelude(P, &[0x42, 0x7f, 0x51, 0x63]), Check::JumpTarget),
        ("jump into an operand", with_prelude(P, &[0x42, 0x41, 0x11, 0x01, 0x63]), Check::JumpTarget),
        ("execution runs off the end", with_prelude(P, &[0x51, 0x59]), Check::FallsOffEnd),
        ("stack underflow", with_prelude(P, &[0x59, 0x51, 0x63]), Check::StackUnderflow),
        (
            "STORE_COMP into a slot below the stack",
            with_prelude(P, &[0x80, 0x2f, 0x0c, 0x51, 0x63]),
            Check::StackUnderflow,
        ),
        (
            "stack beyond n_state",
            with_prelude(P, &[0x51, 0x51, 0x51, 0x59, 0x59, 0x63]),
            Check::StackOverflow,
        ),
        ("handler without n_exc_stack", with_prelude(P, &[0x48, 0x00, 0x51, 0x63]), Check::ExceptionStack),
        (
            "END_FINALLY on a forged unwind record",
            with_prelude(P, &[0x81, 0x5d, 0x51, 0x63]),
            Check::StackMismatch,
        ),
        // sig 0x08 0x81... : n_def_pos_args 1 with no positional arguments (D bit in byte 2)
        (
            "more defaults than arguments",
            with_prelude(&[0x88, 0x01, 0x02, 0x01], &[0x51, 0x63]),
            Check::Prelude,
        ),
        ("cell past n_state", with_prelude(&[0x08, 0x03, 0x01, 0x05], &[0x51, 0x63]), Check::Prelude),
        (
            "int text that is not a number",
            {
                let mut m = hello_with(&[0x08, 0x02, 0x01, 0x51, 0x63]);
                m.objects.push(Object::Tuple(vec![Object::Int(Cow::Borrowed(b"12x"))]));
                m
            },
            Check::NumberText,
        ),
        (
            "native prelude offset outside the code",
            {
                let mut m = hello_with(&[0x08, 0x02, 0x01, 0x51, 0x63]);
                m.header.arch = Arch::X64;
                m.header.sub_version = 3;
                m.raw_code.children.push(RawCode {
                    kind: Kind::NativePython { prelude_offset: 40 },
                    fun_data: Cow::Owned(vec![0x90; 8]),
                    children: vec![],
                });
                m
            },
            Check::NativeRecord,
        ),
        (
            "native code in a bytecode-only file",
            {
                let mut m = viper_with(vec![]);
                m.header.arch = Arch::NONE;
                m.header.sub_version = 0;
                m
            },
            Check::Header,
        ),
        (
            "arch unknown to its sub-version",
            {
                let mut m = viper_with(vec![]);
                m.header.arch = Arch::RV32IMC;
                m.header.sub_version = 2;
                m
            },
            Check::Header,
        ),
        (
            "relocation without a cursor (#18645)",
            viper_with(vec![RelocOp { cursor: None, target: base(None) }]),
            Check::Relocation,
        ),
        (
            "relocation past the rodata (#13003)",
            viper_with(vec![RelocOp { cursor: cursor(Region::Rodata, 1), target: base(Some(1)) }]),
            Check::Relocation,
        ),
        (
            "repeat count running off the text",
            viper_with(vec![RelocOp { cursor: cursor(Region::Text, 0), target: base(Some(3)) }]),
            Check::Relocation,
        ),
        (
            "fun-table entry past the table",
            viper_with(vec![RelocOp { cursor: cursor(Region::Text, 0), target: Target::FunTableEntry(100) }]),
            Check::Relocation,
        ),
    ];
    for (name, module, check) in cases {
        let findings = verify(&module);
        assert!(
            findings.iter().any(|f| f.check == check),
            "{name}: expected a {check:?} finding, got {findings:#?}"
        );
        // The module still encodes: the verifier judges models, whatever built them.
        let bytes = module.encode().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(Module::decode(&bytes).is_ok(), "{name}");
    }
}

#[test]
fn in_bounds_relocations_and_clean_functions_pass() {
    let ok = viper_with(vec![
        RelocOp {
            cursor: cursor(Region::Text, 0),
            target: Target::Base { section: Section::Text, count: None },
        },
        RelocOp { cursor: None, target: Target::QstrTable },
        RelocOp {
            cursor: cursor(Region::Rodata, 0),
            target: Target::Base { section: Section::Bss, count: None },
        },
        RelocOp { cursor: cursor(Region::Text, 1), target: Target::FunTableEntry(3) },
    ]);
    assert_eq!(verify(&ok), vec![]);
    assert_eq!(verify(&Module::decode(HELLO).unwrap()), vec![]);
}

#[test]
fn a_varuint_cut_by_the_end_of_the_file_is_a_decode_error() {
    // The C loader reads 0xff past the end and loops forever on such a varuint.
    let err = Module::decode(&HELLO[..5]).unwrap_err();
    assert!(err.to_string().contains("ends inside") || err.to_string().contains("exceeds"), "{err}");
    for cut in [&[b'M', 6, 0, 31, 0x81][..], &[b'M', 6, 0, 31, 0, 0, 0x84]] {
        let err = Module::decode(cut).unwrap_err();
        assert!(err.to_string().contains("ends inside"), "{err}");
    }
}

#[test]
fn every_corpus_file_verifies_clean() {
    let mut checked = 0;
    for (name, bytes) in common::corpus_files() {
        if name.contains("/handmade/") {
            continue;
        }
        let findings = verify(&Module::decode(&bytes).unwrap());
        assert!(findings.is_empty(), "{name}: {findings:#?}");
        checked += 1;
    }
    assert!(checked >= 30);
}

/// The one-pass proof of clean functions changes no finding: on every corpus file and on every
/// single-byte change of the bytecode ones (three values at each offset), the findings equal those
/// of the exhaustive passes alone, and those of one `Verifier` reused across all the files.
#[test]
fn the_one_pass_proof_changes_no_finding() {
    let mut reused = Verifier::new();
    let mut exhaustive = Verifier::exhaustive();
    let (mut clean, mut flagged) = (0, 0);
    let mut compare = |bytes: &[u8], what: &dyn std::fmt::Display| {
        let Ok(module) = Module::decode(bytes) else { return };
        let findings = verify(&module);
        assert_eq!(findings, exhaustive.verify(&module), "{what}: the one-pass proof changed the findings");
        assert_eq!(findings, reused.verify(&module), "{what}: a reused Verifier disagrees");
        if findings.is_empty() {
            clean += 1;
        } else {
            flagged += 1;
        }
    };
    for (name, bytes) in common::corpus_files() {
        compare(&bytes, &name);
        // Bytecode-only files of at most 4 KB: every offset, three values.
        if bytes.len() > 4096 || bytes.get(2).is_none_or(|&f| f >> 2 != 0) {
            continue;
        }
        let mut changed = bytes.clone();
        for at in 0..bytes.len() {
            for value in [bytes[at] ^ 0x01, bytes[at] ^ 0x80, 0x59] {
                changed[at] = value;
                compare(&changed, &format_args!("{name}, byte {at:#x} = {value:#04x}"));
            }
            changed[at] = bytes[at];
        }
    }
    assert!(clean > 1_000 && flagged > 1_000, "{clean} clean and {flagged} flagged modules");
}
