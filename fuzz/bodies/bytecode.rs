//! Fuzz body `bytecode`: any bytes as the `fun_data` of a bytecode raw code (and, from byte 0, an
//! offset at which to decode a `@micropython.native` prelude).
//!
//! Decoding never panics. When it succeeds:
//! * [`Layout::Exact`] gives back the input byte for byte;
//! * the instructions tile the code exactly (each starts where the previous one ends), are
//!   consistent with their opcodes, and are found again by their offsets;
//! * [`Layout::Relaid`] either refuses (a jump into the middle of an instruction, or an offset too
//!   large) or gives bytes that decode to the same instructions and are its own fixed point; laying
//!   the model out in place gives the same bytes;
//! * normalising the encodings leaves no padding behind;
//! * the disassembly and the per-instruction queries never panic;
//! * the read-only path agrees: [`BytecodeView`] gives the same instructions, and its compact
//!   [`Op`]s the same opcode, length, extra byte, operand value and stack effects.
//!
//! A native prelude that decodes re-encodes to the bytes it was decoded from, and read in place
//! ([`NativePrelude::view`]) gives the same prelude, or the same error.
//!
//! Shared by `fuzz/fuzz_targets/bytecode.rs` and `tests/fuzz_replay.rs`.

use mpy_codec::bytecode::{
    BytecodeEncodeError, BytecodeFunction, BytecodeView, Layout, NativePrelude, Op, Operand, disasm,
};

pub fn run(data: &[u8]) {
    native_prelude(data);
    let f = match BytecodeFunction::decode(data) {
        Ok(f) => f,
        Err(e) => {
            assert!(e.offset <= data.len(), "error offset past the input: {e}");
            let _ = e.to_string();
            return;
        }
    };
    match f.encode_exact() {
        Ok(bytes) => assert!(bytes == data, "Layout::Exact does not give back the decoded bytes"),
        Err(e) => panic!("a decoded function does not encode exactly: {e}"),
    }

    // The instructions tile the code.
    let code_start = f.code_start().unwrap_or_else(|e| panic!("code_start of a decoded function: {e}"));
    assert!(code_start <= data.len());
    let mut at = 0;
    for (k, ins) in f.instructions.iter().enumerate() {
        assert_eq!(ins.offset, at, "instruction {k} is not where the previous one ended");
        assert!(ins.is_consistent(), "decoded instruction {k} is inconsistent: {ins:?}");
        assert_eq!(f.index_of_offset(ins.offset), Some(k));
        at += ins.encoded_len();
        let _ = (ins.stack_effect(), ins.branch_stack_effect(), ins.local_index(), ins.small_int());
        let _ = f.line_at(ins.offset as u64);
    }
    assert_eq!(code_start + at, data.len(), "the instructions do not end at the end of fun_data");
    read_only_path_agrees(data, &f);
    let _ = f.line_table.points();
    let _ = f.has_padding();

    // Relaid: refused, or a fixed point that keeps the instructions.
    match f.encode_relaid() {
        Ok(relaid) => {
            let g = BytecodeFunction::decode(&relaid)
                .unwrap_or_else(|e| panic!("relaid bytes do not decode: {e}"));
            assert_eq!(g.instructions.len(), f.instructions.len());
            for (a, b) in f.instructions.iter().zip(&g.instructions) {
                assert_eq!((a.opcode, a.extra), (b.opcode, b.extra), "relaying changed an instruction");
                if !matches!(a.operand, Operand::Jump(_)) {
                    assert_eq!(a.operand, b.operand, "relaying changed an operand");
                }
            }
            for ins in &g.instructions {
                if let Some(j) = ins.jump() {
                    let target = usize::try_from(j.target).expect("relaid jump target is negative");
                    assert!(g.index_of_offset(target).is_some(), "relaid jump into an instruction: {ins:?}");
                }
            }
            assert_eq!(g.encode_relaid().as_ref(), Ok(&relaid), "Layout::Relaid is not a fixed point");
            assert_eq!(g.encode_exact().as_ref(), Ok(&relaid));
            let mut laid = f.clone();
            laid.lay_out(Layout::Relaid)
                .unwrap_or_else(|e| panic!("lay_out refused what encode accepted: {e}"));
            assert_eq!(laid.encode_exact().as_ref(), Ok(&relaid), "lay_out then Exact differs from Relaid");
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    BytecodeEncodeError::TargetNotAnInstruction { .. }
                        | BytecodeEncodeError::BytecodeOverflow { .. }
                ),
                "unexpected relaying error for a decoded function: {e:?}"
            );
            assert!(f.clone().lay_out(Layout::Relaid).is_err(), "lay_out accepted what encode refused");
        }
    }

    let mut normal = f.clone();
    normal.normalize_encodings();
    assert!(!normal.has_padding());
    if let Ok(bytes) = normal.encode_exact() {
        let again = BytecodeFunction::decode(&bytes)
            .unwrap_or_else(|e| panic!("normalised bytes do not decode: {e}"));
        assert!(!again.has_padding(), "normalised encoding decodes with padding");
    }

    match disasm::listing(&f, &disasm::NoNames) {
        Ok(listing) => {
            let _ = listing.to_string();
            for ins in &listing.instructions {
                let _ = ins.text();
            }
        }
        Err(e) => panic!("a decoded function does not list: {e}"),
    }
}

/// A native prelude at the offset named by byte 0 (possibly past the end).
fn native_prelude(data: &[u8]) {
    let Some(&first) = data.first() else { return };
    let offset = usize::from(first) % (data.len() + 2);
    let view = NativePrelude::view(data, offset);
    match NativePrelude::decode(data, offset) {
        Ok(p) => {
            let bytes =
                p.encode().unwrap_or_else(|e| panic!("a decoded native prelude does not encode: {e}"));
            assert!(bytes == data[offset..], "native prelude does not re-encode to its bytes");
            let _ = disasm::native_prelude_text(&p, &disasm::NoNames);
            let view = view.unwrap_or_else(|e| panic!("the in-place prelude refuses a decoded one: {e}"));
            assert_eq!(view.to_prelude(), p.prelude, "the in-place prelude reads other values");
        }
        Err(e) => {
            assert!(e.offset <= data.len(), "error offset past the input: {e}");
            assert_eq!(view, Err(e), "the in-place prelude fails otherwise");
        }
    }
}

/// The read-only path decodes the same function: the view's instructions are the model's, and each
/// compact `Op` carries the same meaning.
fn read_only_path_agrees(data: &[u8], f: &BytecodeFunction) {
    let view =
        BytecodeView::decode(data).unwrap_or_else(|e| panic!("the view refuses a decoded function: {e}"));
    assert_eq!(view.prelude.to_prelude(), f.prelude);
    assert_eq!(view.prelude.arg_names().len(), f.prelude.arg_names.len());
    assert_eq!(view.line_table(), f.line_table);
    let listed: Vec<_> =
        view.instructions().collect::<Result<_, _>>().expect("the view's instructions decode");
    assert_eq!(listed, f.instructions, "the view decodes other instructions");
    for ins in &f.instructions {
        let op: Op = view.op_at(ins.offset).unwrap_or_else(|e| panic!("no op at {}: {e}", ins.offset));
        assert_eq!(op, Op::from_instruction(ins, ins.encoded_len()), "the compact decoder disagrees");
        assert_eq!(op.stack_effect(), ins.stack_effect());
        assert_eq!(op.branch_stack_effect(), ins.branch_stack_effect());
        assert_eq!(op.local_index(), ins.local_index());
        assert_eq!(op.qstr_index(), ins.qstr_index());
        assert_eq!(op.jump_target(), ins.jump().map(|j| j.target));
    }
}
