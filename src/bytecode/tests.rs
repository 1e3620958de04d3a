//! Function-level tests as data: `fun_data` bytes → model, re-encoding, relayout, edits, errors.

use std::borrow::Cow;

use super::*;
use crate::flags::ScopeFlags;

fn hex(s: &str) -> Vec<u8> {
    s.split([' ', ':']).filter(|t| !t.is_empty()).map(|t| u8::from_str_radix(t, 16).unwrap()).collect()
}

/// A compact description of an instruction: offset, mpy-tool name, operand text.
fn describe(ins: &Instruction) -> (usize, String, String) {
    let operand = match ins.operand {
        Operand::None => String::new(),
        Operand::Qstr(a) => format!("q{}", a.value),
        Operand::Const(a) => format!("c{}", a.value),
        Operand::Child(a) => format!("f{}", a.value),
        Operand::Local(a) => format!("l{}", a.value),
        Operand::Uint(a) => format!("{}", a.value),
        Operand::SmallInt(a) => format!("{}", a.value),
        Operand::Jump(j) => format!("->{}/{}", j.target, j.width.byte_len()),
    };
    let operand = match (ins.extra, operand.is_empty()) {
        (Some(x), true) => format!("x{x}"),
        (Some(x), false) => format!("{operand} x{x}"),
        (None, _) => operand,
    };
    (ins.offset, ins.opcode.upstream_name().to_string(), operand)
}

struct Case {
    fun_data: &'static str,
    signature: (u32, u32, u32, u32, u32, u32),
    names: &'static [u64],
    cells: &'static [u8],
    line_info: &'static str,
    code: &'static [(usize, &'static str, &'static str)],
}

/// Real mpy-cross v1.22 output (mpy-format.md §10's ex.py) and hand-made functions.
const CASES: &[Case] = &[
    // <module> of ex.py (§2.4: `10 0e 01 23 68 20 69 26 26 | 81 16 06 ...`).
    Case {
        fun_data: "10:0e:01:23:68:20:69:26:26:81:16:06:82:2a:01:53:33:00:16:03:54:32:01:10:02:34:02:16:02:80:42:4d:57:16:07:11:07:81:d8:44:42:42:47:81:e5:57:83:d7:43:2e:59:51:63",
        signature: (3, 0, 0, 0, 0, 0),
        names: &[1],
        cells: &[],
        line_info: "23:68:20:69:26:26",
        code: &[
            (0, "LOAD_CONST_SMALL_INT 1", ""),
            (1, "STORE_NAME", "q6"),
            (3, "LOAD_CONST_SMALL_INT 2", ""),
            (4, "BUILD_TUPLE", "1"),
            (6, "LOAD_NULL", ""),
            (7, "MAKE_FUNCTION_DEFARGS", "f0"),
            (9, "STORE_NAME", "q3"),
            (11, "LOAD_BUILD_CLASS", ""),
            (12, "MAKE_FUNCTION", "f1"),
            (14, "LOAD_CONST_STRING", "q2"),
            (16, "CALL_FUNCTION", "2"),
            (18, "STORE_NAME", "q2"),
            (20, "LOAD_CONST_SMALL_INT 0", ""),
            (21, "JUMP", "->36/1"),
            (23, "DUP_TOP", ""),
            (24, "STORE_NAME", "q7"),
            (26, "LOAD_NAME", "q7"),
            (28, "LOAD_CONST_SMALL_INT 1", ""),
            (29, "BINARY_OP 1 __gt__", ""),
            (30, "POP_JUMP_IF_FALSE", "->34/1"),
            (32, "JUMP", "->41/1"),
            (34, "LOAD_CONST_SMALL_INT 1", ""),
            (35, "BINARY_OP 14 __iadd__", ""),
            (36, "DUP_TOP", ""),
            (37, "LOAD_CONST_SMALL_INT 3", ""),
            (38, "BINARY_OP 0 __lt__", ""),
            (39, "POP_JUMP_IF_TRUE", "->23/1"),
            (41, "POP_TOP", ""),
            (42, "LOAD_CONST_NONE", ""),
            (43, "RETURN_VALUE", ""),
        ],
    },
    // f(a, b=2, *c, d, **e) with a cell (§2.1's signature `b2 89 c0 40`).
    Case {
        fun_data: "b2:89:c0:40:0d:03:08:09:0a:40:45:00:b0:20:00:01:c5:b5:63",
        signature: (7, 0, 6, 2, 1, 1),
        names: &[3, 8, 9, 10],
        cells: &[0],
        line_info: "40:45",
        code: &[
            (0, "LOAD_FAST 0", ""),
            (1, "MAKE_CLOSURE", "f0 x1"),
            (4, "STORE_FAST 5", ""),
            (5, "LOAD_FAST 5", ""),
            (6, "RETURN_VALUE", ""),
        ],
    },
    // g: the closure, with `*` as its hidden argument name.
    Case {
        fun_data: "11:06:05:10:60:25:00:23:01:f2:63",
        signature: (3, 0, 0, 1, 0, 0),
        names: &[5, 16],
        cells: &[],
        line_info: "60",
        code: &[
            (0, "LOAD_DEREF", "l0"),
            (2, "LOAD_CONST_OBJ", "c1"),
            (4, "BINARY_OP 27 __add__", ""),
            (5, "RETURN_VALUE", ""),
        ],
    },
    // Hand-made: no line info, every operand kind, unassigned opcodes
    // (0x38 vuint, 0x41 offset + extra byte, 0x00 extra byte, 0x1d qstr, 0xfa byte).
    Case {
        fun_data: "00:02:07:22:ff:1c:22:80:40:24:10:26:81:00:2e:03:31:82:02:35:82:01:40:41:02:38:05:41:41:09:00:07:1d:03:fa:15:04:63",
        signature: (1, 0, 0, 0, 0, 0),
        names: &[7],
        cells: &[],
        line_info: "",
        code: &[
            (0, "LOAD_CONST_SMALL_INT", "-100"),
            (3, "LOAD_CONST_SMALL_INT", "64"),
            (6, "LOAD_FAST_N", "l16"),
            (8, "STORE_FAST_N", "l128"),
            (11, "BUILD_SLICE", "3"),
            (13, "UNPACK_EX", "258"),
            (16, "CALL_FUNCTION_VAR_KW", "257"),
            (19, "UNWIND_JUMP", "->22/1 x2"),
            (22, "unknown", "5"),
            (24, "unknown", "->27/1 x9"),
            (27, "unknown", "x7"),
            (29, "unknown", "q3"),
            (31, "unknown", ""),
            (32, "LOAD_SUPER_METHOD", "q4"),
            (34, "RETURN_VALUE", ""),
        ],
    },
];

#[test]
fn decodes_and_reencodes_the_cases() {
    for case in CASES {
        let bytes = hex(case.fun_data);
        let f = BytecodeFunction::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", case.fun_data));
        let p = &f.prelude;
        assert_eq!(p.signature.as_tuple(), case.signature, "{}", case.fun_data);
        let names: Vec<u64> =
            std::iter::once(p.simple_name.value).chain(p.arg_names.iter().map(|a| a.value)).collect();
        assert_eq!(names, case.names);
        assert_eq!(p.cells, case.cells);
        // The in-place prelude reads the same.
        let view = BytecodeView::decode(&bytes).unwrap();
        let v = &view.prelude;
        assert_eq!(v.signature.as_tuple(), case.signature);
        let names: Vec<u64> =
            std::iter::once(v.simple_name.value).chain(v.arg_names().map(|a| a.value)).collect();
        assert_eq!(names, case.names);
        assert_eq!(v.cells, case.cells);
        assert_eq!(view.line_table().encode().unwrap(), hex(case.line_info));
        assert_eq!(f.line_table.encode().unwrap(), hex(case.line_info));
        let code: Vec<_> = f.instructions.iter().map(describe).collect();
        let want: Vec<_> = case.code.iter().map(|&(o, n, a)| (o, n.to_string(), a.to_string())).collect();
        assert_eq!(code, want, "{}", case.fun_data);
        assert_eq!(f.encode_exact().unwrap(), bytes, "exact {}", case.fun_data);
        assert!(!f.has_padding());
        // Every case re-lays out to itself (mpy-cross's layout is the fixed point).
        assert_eq!(f.encode_relaid().unwrap(), bytes, "relaid {}", case.fun_data);
        let code_len: usize = f.instructions.iter().map(Instruction::encoded_len).sum();
        assert_eq!(f.code_start().unwrap() + code_len, bytes.len());
    }
}

#[test]
fn line_lookup_of_the_module() {
    let f = BytecodeFunction::decode(&hex(CASES[0].fun_data)).unwrap();
    // ex.py: x = 1 (line 1), def f (2), class C (6), for (9), if (10), break (11)
    let lines: Vec<(usize, u64)> =
        f.instructions.iter().map(|i| (i.offset, f.line_at(i.offset as u64))).collect();
    assert_eq!(&lines[..3], &[(0, 1), (1, 1), (3, 2)]);
    assert_eq!(f.line_at(11), 6);
    assert_eq!(f.line_at(20), 9);
    assert_eq!(f.line_at(26), 10);
    assert_eq!(f.line_at(32), 11);
    // Lines only increase in the table: the loop test after the body reports the last line.
    assert_eq!(f.line_at(36), 11);
}

/// Hostile or truncated `fun_data` → error kind and offset.
#[test]
fn errors_carry_what_and_where() {
    use BytecodeErrorKind as K;
    let mut endless_sig = vec![0xffu8; 40];
    endless_sig.push(0);
    let mut endless_size = vec![0x10u8];
    endless_size.extend([0x80u8; 40]);
    let cases: Vec<(Vec<u8>, K, usize)> = vec![
        (vec![], K::UnexpectedEnd { what: "prelude signature" }, 0),
        (hex("b2 89"), K::UnexpectedEnd { what: "prelude signature" }, 2),
        (endless_sig, K::PreludeTooLong { what: "prelude signature", limit: 33 }, 0),
        (hex("10"), K::UnexpectedEnd { what: "prelude size" }, 1),
        (endless_size, K::PreludeTooLong { what: "prelude size", limit: 32 }, 1),
        (hex("10 0e 01"), K::LengthExceedsInput { what: "n_info", len: 7, left: 1 }, 1),
        (hex("10 03 01"), K::LengthExceedsInput { what: "n_cell", len: 1, left: 0 }, 1),
        // Two positional arguments need three names in two bytes of n_info.
        (hex("12 04 01 02 63"), K::NamesExceedInfo { names: 3, n_info: 2 }, 2),
        // A name that runs past n_info.
        (hex("11 04 01 82 63"), K::UnexpectedEnd { what: "argument name" }, 3),
        (hex("10 04 01 81 63"), K::UnexpectedEnd { what: "line-number entry" }, 3),
        (hex("10 02 01 16"), K::UnexpectedEnd { what: "qstr operand" }, 4),
        (hex("10 02 01 16 80"), K::UnexpectedEnd { what: "qstr operand" }, 4),
        (hex("10 02 01 22 ff ff"), K::UnexpectedEnd { what: "small int operand" }, 4),
        (hex("10 02 01 42"), K::UnexpectedEnd { what: "jump offset" }, 4),
        (hex("10 02 01 42 80"), K::UnexpectedEnd { what: "jump offset" }, 5),
        (hex("10 02 01 40 40"), K::UnexpectedEnd { what: "extra byte" }, 5),
        (hex("10 02 01 20 00"), K::UnexpectedEnd { what: "extra byte" }, 5),
        (hex("10 02 01 23 82 ff ff ff ff ff ff ff ff 7f"), K::Overflow { what: "constant index" }, 4),
        (hex("10 02 01 22 81 80 80 80 80 80 80 80 80 80 00"), K::Overflow { what: "small int operand" }, 4),
    ];
    for (bytes, kind, offset) in cases {
        let e = BytecodeFunction::decode(&bytes).unwrap_err();
        assert_eq!((e.kind.clone(), e.offset), (kind, offset), "{bytes:02x?}: {e}");
        // The read-only path fails the same way on everything before the instructions.
        match BytecodeView::decode(&bytes) {
            Err(v) => assert_eq!(v, e, "{bytes:02x?}"),
            Ok(view) => assert!(e.offset >= view.code_start(), "{bytes:02x?}: the view missed {e}"),
        }
        assert!(!e.to_string().is_empty());
    }
}

/// Decoding never panics on any prefix or single-byte corruption of the cases.
#[test]
fn corrupted_cases_never_panic() {
    for case in CASES {
        let bytes = hex(case.fun_data);
        for n in 0..=bytes.len() {
            let _ = BytecodeFunction::decode(&bytes[..n]);
        }
        for i in 0..bytes.len() {
            for v in [0x00, 0x7f, 0x80, 0xff, 0x40, 0x41] {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok(f) = BytecodeFunction::decode(&b) {
                    // Whatever decodes re-encodes exactly.
                    assert_eq!(f.encode_exact().unwrap(), b, "{b:02x?}");
                    let _ = f.encode_relaid();
                    let _ = disasm::disassemble(&f, &disasm::NoNames).unwrap();
                }
            }
        }
    }
}

#[test]
fn padded_encodings_round_trip_and_normalize() {
    // Signature and size with a zero continuation byte, a padded name, a padded qstr operand, a
    // padded small int and a 2-byte jump that would fit in one.
    let bytes = hex("90 00 84 00 80 01 11 80 05 22 ff 7f 42 80 80 63");
    let mut f = BytecodeFunction::decode(&bytes).unwrap();
    assert_eq!(f.prelude.signature_pad, 1);
    assert_eq!(f.prelude.size_pad, 1);
    assert_eq!(f.prelude.simple_name, UintArg { value: 1, pad: 1 });
    assert_eq!(f.instructions[0].operand, Operand::Qstr(UintArg { value: 5, pad: 1 }));
    assert_eq!(f.instructions[1].operand, Operand::SmallInt(IntArg { value: -1, pad: 1 }));
    assert_eq!(f.instructions[2].jump(), Some(Jump { target: 9, width: JumpWidth::Two }));
    assert!(f.has_padding());
    assert_eq!(f.encode_exact().unwrap(), bytes);
    // Relaid keeps padding but shrinks the jump; normalizing drops the padding too.
    assert_eq!(f.encode_relaid().unwrap(), hex("90 00 84 00 80 01 11 80 05 22 ff 7f 42 40 63"));
    f.normalize_encodings();
    assert!(!f.has_padding());
    assert_eq!(f.encode_relaid().unwrap(), hex("10 02 01 11 05 22 7f 42 40 63"));
}

/// A function whose forward jump crosses `n` bytes of `LOAD_NAME q` / `POP_TOP` pairs.
fn long_jump_function(pairs: usize, qstr: u8) -> Vec<u8> {
    let mut code = Vec::new();
    let body = pairs * 3;
    // POP_JUMP_IF_FALSE over the body, in the form mpy-cross chooses: it starts from the 2-byte
    // form, where `target - (opcode + 2)` is `body + 1`, and shrinks only if that fits 63; so a
    // 63-byte body keeps the 2-byte form although a 1-byte offset of 63 would fit.
    code.push(0x52); // LOAD_CONST_TRUE
    if body < 63 {
        code.extend([0x44, (body + 0x40) as u8]);
    } else {
        let raw = body + 0x4000;
        code.extend([0x44, 0x80 | (raw & 0x7f) as u8, (raw >> 7) as u8]);
    }
    for _ in 0..pairs {
        code.extend([0x11, qstr, 0x59]);
    }
    code.extend([0x51, 0x63]);
    let mut f = hex("00 02 01");
    f.extend(code);
    f
}

#[test]
fn relayout_shrinks_and_grows_jumps() {
    // 20 pairs = 60 bytes: 1-byte jump. 21 pairs = 63 bytes: 2-byte (mpy-cross v1.29 writes
    // `44:7c` and `44:bf:80` for these two).
    for (pairs, width) in [(20, JumpWidth::One), (21, JumpWidth::Two)] {
        let bytes = long_jump_function(pairs, 0x05);
        let f = BytecodeFunction::decode(&bytes).unwrap();
        assert_eq!(f.instructions[1].jump().unwrap().width, width);
        assert_eq!(f.encode_relaid().unwrap(), bytes);
    }
    // Growing operands in a 20-pair body: the jump no longer fits 1 byte. Exact refuses, relaid
    // widens it, and the result decodes with the same targets.
    let mut f = BytecodeFunction::decode(&long_jump_function(20, 0x05)).unwrap();
    f.map_qstr_indices(|i| if i == 5 { 200 } else { i });
    assert!(matches!(
        f.encode_exact(),
        Err(BytecodeEncodeError::BytecodeOverflow { index: 1, offset: 1, relative: 80 })
    ));
    let grown = f.encode_relaid().unwrap();
    let g = BytecodeFunction::decode(&grown).unwrap();
    assert_eq!(g.instructions[1].jump().unwrap(), Jump { target: 84, width: JumpWidth::Two });
    assert_eq!(g.instructions[g.index_of_offset(84).unwrap()].opcode, Opcode::LOAD_CONST_NONE);
    // And back: the jump shrinks again to mpy-cross's bytes.
    let mut h = g.clone();
    h.map_qstr_indices(|i| if i == 200 { 5 } else { i });
    assert_eq!(h.encode_relaid().unwrap(), long_jump_function(20, 0x05));
    // lay_out applies the same layout to the model.
    let mut laid = f.clone();
    laid.lay_out(Layout::Relaid).unwrap();
    assert_eq!(laid.encode_exact().unwrap(), grown);
    assert_eq!(laid.instructions[1].jump().unwrap().target, 84);
}

#[test]
fn unsigned_width_boundary_is_the_greatest_fixed_point() {
    // Starting from the 2-byte form, a FOR_ITER over `body` bytes has `target - (opcode + 2)` =
    // `body + 1`: it shrinks to 1 byte up to a 126-byte body. Over 127 bytes it stays at 2 bytes
    // (although 1 byte would hold 127), and the value written is relative to the end of the 3-byte
    // instruction (py/emitbc.c: `offset - 1`).
    for (body, want) in [(126usize, vec![0x4b, 0x7e]), (127, vec![0x4b, 0xff, 0x00])] {
        let mut code = vec![0x4bu8, 0x00];
        code.extend(std::iter::repeat_n(0x51, body));
        code.push(0x63);
        let mut bytes = hex("00 02 01");
        bytes.extend(&code);
        let mut f = BytecodeFunction::decode(&bytes).unwrap();
        // Point the jump at the RETURN_VALUE and let relayout choose.
        let end = f.instructions.last().unwrap().offset as i64;
        if let Operand::Jump(j) = &mut f.instructions[0].operand {
            j.target = end;
            j.width = JumpWidth::Two;
        }
        let out = f.encode_relaid().unwrap();
        assert_eq!(&out[3..3 + want.len()], &want[..], "body {body}");
        let g = BytecodeFunction::decode(&out).unwrap();
        assert_eq!(
            g.instructions[g.index_of_offset(g.instructions[0].jump().unwrap().target as usize).unwrap()]
                .opcode,
            Opcode::RETURN_VALUE
        );
    }
}

#[test]
fn bytecode_overflow() {
    // A forward jump over more than 0x7fff bytes cannot be encoded.
    let mut f = BytecodeFunction::decode(&hex("00 02 01 4b 00 63")).unwrap();
    let filler = Instruction::op(Opcode::LOAD_CONST_NONE);
    f.instructions.splice(1..1, std::iter::repeat_n(filler, 0x8000));
    assert!(matches!(f.encode_relaid(), Err(BytecodeEncodeError::BytecodeOverflow { index: 0, .. })));
    f.instructions.truncate(0x7ff0);
    f.instructions.push(Instruction { offset: 2, ..Instruction::op(Opcode::RETURN_VALUE) });
    assert!(f.encode_relaid().is_ok());
    // An unsigned jump backwards is an overflow too.
    let f = BytecodeFunction::decode(&hex("00 02 01 51 59 4b 00 63")).unwrap();
    let mut f2 = f.clone();
    if let Operand::Jump(j) = &mut f2.instructions[2].operand {
        j.target = 0;
    }
    assert!(matches!(f2.encode_relaid(), Err(BytecodeEncodeError::BytecodeOverflow { index: 2, .. })));
    assert!(matches!(f2.encode_exact(), Err(BytecodeEncodeError::BytecodeOverflow { index: 2, .. })));
}

#[test]
fn targets_inside_instructions() {
    // JUMP +1 lands inside the 2-byte LOAD_NAME: exact encoding reproduces it, relayout refuses.
    let bytes = hex("00 02 01 42 41 11 05 63");
    let f = BytecodeFunction::decode(&bytes).unwrap();
    assert_eq!(f.instructions[0].jump().unwrap().target, 3);
    assert_eq!(f.encode_exact().unwrap(), bytes);
    assert_eq!(f.encode_relaid(), Err(BytecodeEncodeError::TargetNotAnInstruction { index: 0, target: 3 }));
    // Targets before the code and past its end survive exact encoding too.
    for bytes in [hex("00 02 01 42 00 63"), hex("00 02 01 42 7f 63")] {
        let f = BytecodeFunction::decode(&bytes).unwrap();
        assert_eq!(f.encode_exact().unwrap(), bytes);
    }
}

#[test]
fn inserted_instructions_move_targets_and_lines() {
    // <module> of ex.py: insert `LOAD_CONST_NONE; POP_TOP` before the loop test at offset 36 (a
    // jump target) and before offset 0.
    let mut f = BytecodeFunction::decode(&hex(CASES[0].fun_data)).unwrap();
    let before: Vec<(Opcode, Option<Opcode>, u64)> = f
        .instructions
        .iter()
        .map(|i| {
            let t = i.jump().map(|j| f.instructions[f.index_of_offset(j.target as usize).unwrap()].opcode);
            (i.opcode, t, f.line_at(i.offset as u64))
        })
        .collect();
    let at = f.index_of_offset(36).unwrap();
    let pair = [Instruction::op(Opcode::LOAD_CONST_NONE), Instruction::op(Opcode::POP_TOP)];
    f.instructions.splice(at..at, pair);
    f.instructions.splice(0..0, pair);
    let out = f.encode_relaid().unwrap();
    let g = BytecodeFunction::decode(&out).unwrap();
    assert_eq!(g.instructions.len(), before.len() + 4);
    // Jumps to offset 36 now land on the inserted pair's successor... the label stays with DUP_TOP.
    let mut k = 0;
    for (i, ins) in g.instructions.iter().enumerate() {
        if i < 2 || (i >= at + 2 && i < at + 4) {
            continue;
        }
        let t = ins.jump().map(|j| g.instructions[g.index_of_offset(j.target as usize).unwrap()].opcode);
        assert_eq!((ins.opcode, t), (before[k].0, before[k].1), "instruction {i}");
        k += 1;
    }
    // Lines moved with the code: the inserted pair at the start takes line 1 like offset 0.
    assert_eq!(g.line_at(g.instructions[2].offset as u64), 1);
    assert_eq!(g.line_at(g.instructions[3].offset as u64), 1);
    assert_eq!(g.line_at(g.instructions[4].offset as u64), 2);
    assert_eq!(g.line_at(g.instructions[5].offset as u64), 2);
    // Labels out of order are refused.
    let mut bad = BytecodeFunction::decode(&hex(CASES[0].fun_data)).unwrap();
    bad.instructions.swap(1, 2);
    assert_eq!(bad.encode_exact(), Err(BytecodeEncodeError::OffsetsNotIncreasing { index: 2 }));
}

#[test]
fn renumbering_rewrites_every_reference() {
    let mut f = BytecodeFunction::decode(&hex(CASES[1].fun_data)).unwrap();
    f.map_qstr_indices(|i| i + 100);
    f.map_child_indices(|i| i + 1);
    assert_eq!(f.prelude.simple_name.value, 103);
    assert_eq!(f.prelude.arg_names.iter().map(|a| a.value).collect::<Vec<_>>(), [108, 109, 110]);
    assert_eq!(f.instructions[1].child_index(), Some(1));
    let mut g = BytecodeFunction::decode(&hex(CASES[2].fun_data)).unwrap();
    g.map_const_indices(|i| i + 200);
    assert_eq!(g.instructions[1].const_index(), Some(201));
    // 201 takes two bytes: n_info is unchanged, the code grows by one byte.
    assert_eq!(g.encode_relaid().unwrap(), hex("11:06:05:10:60:25:00:23:81:49:f2:63"));
}

#[test]
fn stripping_the_line_table() {
    let mut f = BytecodeFunction::decode(&hex(CASES[0].fun_data)).unwrap();
    f.strip_line_table();
    let out = f.encode_relaid().unwrap();
    // n_info 7 → 1 (simple name only): size byte 0x0e → 0x02.
    assert_eq!(&out[..3], &hex("10 02 01")[..]);
    assert_eq!(&out[3..], &hex(CASES[0].fun_data)[9..]);
    assert_eq!(BytecodeFunction::decode(&out).unwrap().line_at(30), 1);
}

#[test]
fn mismatched_operands_are_refused() {
    let mut f = BytecodeFunction::decode(&hex(CASES[2].fun_data)).unwrap();
    f.instructions[0].operand = Operand::Qstr(UintArg::new(1));
    assert_eq!(f.encode_exact(), Err(BytecodeEncodeError::OperandMismatch { index: 0 }));
    let mut f = BytecodeFunction::decode(&hex(CASES[1].fun_data)).unwrap();
    f.instructions[1].extra = None;
    assert_eq!(f.encode_exact(), Err(BytecodeEncodeError::OperandMismatch { index: 1 }));
    let mut f = BytecodeFunction::decode(&hex(CASES[2].fun_data)).unwrap();
    f.instructions[0].operand = Operand::Local(UintArg { value: 0, pad: 70 });
    assert_eq!(f.encode_exact(), Err(BytecodeEncodeError::OperandTooLong { index: 0 }));
    let mut f = BytecodeFunction::decode(&hex(CASES[2].fun_data)).unwrap();
    f.prelude.signature.n_state = 0;
    assert_eq!(f.encode_exact(), Err(BytecodeEncodeError::ZeroState));
}

#[test]
fn typed_accessors_and_stack_effects() {
    let f = BytecodeFunction::decode(&hex(CASES[1].fun_data)).unwrap();
    let closure = &f.instructions[1];
    assert_eq!(closure.child_index(), Some(0));
    // MAKE_CLOSURE with one closed-over cell: pops 1, pushes 1.
    assert_eq!(closure.stack_effect(), StackDelta { pops: 1, pushes: 1 });
    assert_eq!(f.instructions[0].local_index(), Some(0));
    assert_eq!(f.instructions[2].local_index(), Some(5));
    let m = BytecodeFunction::decode(&hex(CASES[0].fun_data)).unwrap();
    assert_eq!(m.instructions[0].small_int(), Some(1));
    assert_eq!(m.instructions[1].qstr_index(), Some(6));
    // CALL_FUNCTION 2: pops the callable and 2 arguments.
    assert_eq!(m.instructions[10].stack_effect(), StackDelta { pops: 3, pushes: 1 });
    // POP_JUMP_IF_TRUE pops 1 either way.
    assert_eq!(m.instructions[26].branch_stack_effect(), Some(StackDelta { pops: 1, pushes: 0 }));
    let h = BytecodeFunction::decode(&hex(CASES[3].fun_data)).unwrap();
    assert_eq!(h.instructions[0].small_int(), Some(-100));
    // UNPACK_EX 258 = 2 left | 1 right << 8: pops 1, pushes 4.
    assert_eq!(h.instructions[5].stack_effect(), StackDelta { pops: 1, pushes: 4 });
    // CALL_FUNCTION_VAR_KW 257: 1 positional, 1 keyword: callable, 1, 2*1, the star bitmap.
    assert_eq!(h.instructions[6].stack_effect(), StackDelta { pops: 5, pushes: 1 });
    assert!(!h.instructions[8].opcode.is_assigned());
    assert_eq!(h.instructions[8].info().flow, Flow::Invalid);
}

#[test]
fn native_preludes_of_the_cases() {
    // The module's prelude placed after 5 bytes of "machine code", without line info.
    let mut fun_data = hex("c3 c3 c3 c3 c3");
    fun_data.extend(hex("b2 89 c0 40 09 03 08 09 0a 00"));
    let p = NativePrelude::decode(&fun_data, 5).unwrap();
    assert_eq!(p.prelude.signature.as_tuple(), (7, 0, 6, 2, 1, 1));
    assert_eq!(p.prelude.signature.scope_flags, ScopeFlags::VARARGS | ScopeFlags::VARKEYWORDS);
    assert_eq!(p.prelude.cells, [0]);
    assert_eq!(p.encode().unwrap(), &fun_data[5..]);
    let text = disasm::native_prelude_text(&p, &disasm::NoNames);
    assert_eq!(text, "simple_name: #3\n  prelude: (7, 0, 6, 2, 1, 1)\n  args: #8 #9 #10\n  cells: 0\n");
}

struct Names;

impl disasm::Resolver for Names {
    fn qstr(&self, index: u64) -> Option<Cow<'_, str>> {
        ["ex.py", "<module>", "C", "f", "x y", "*", "x", "i", "a\n"]
            .get(index as usize)
            .map(|&s| Cow::Borrowed(s))
    }
    fn constant(&self, index: u64) -> Option<Cow<'_, str>> {
        (index == 1).then_some(Cow::Borrowed("1000000000000000000000"))
    }
    fn child(&self, index: u64) -> Option<Cow<'_, str>> {
        (index == 0).then_some(Cow::Borrowed("g"))
    }
}

#[test]
fn disassembly_lines() {
    let f = BytecodeFunction::decode(&hex(CASES[0].fun_data)).unwrap();
    let listing = disasm::listing(&f, &Names).unwrap();
    let texts: Vec<String> = listing.instructions.iter().take(14).map(|i| i.text()).collect();
    assert_eq!(
        texts,
        [
            "LOAD_CONST_SMALL_INT 1",
            "STORE_NAME x",
            "LOAD_CONST_SMALL_INT 2",
            "BUILD_TUPLE 1",
            "LOAD_NULL",
            "MAKE_FUNCTION_DEFARGS 0 (g)",
            "STORE_NAME f",
            "LOAD_BUILD_CLASS",
            "MAKE_FUNCTION 1",
            "LOAD_CONST_STRING C",
            "CALL_FUNCTION 2",
            "STORE_NAME C",
            "LOAD_CONST_SMALL_INT 0",
            "JUMP 36",
        ]
    );
    assert_eq!(listing.instructions[13].operand, disasm::ListedOperand::Jump { relative: 13, target: 36 });
    assert_eq!(*listing.instructions[13].bytes, [0x42, 0x4d]);
    assert_eq!(listing.code_start, 9);
    let text = listing.to_string();
    assert!(
        text.starts_with(
            "simple_name: <module>\n  prelude: (3, 0, 0, 0, 0, 0)\n  args: \n  line info: 23:68:20:69:26:26\n"
        ),
        "{text}"
    );
    assert!(text.contains("\n      1      0  81           LOAD_CONST_SMALL_INT 1\n             1  16:06        STORE_NAME x\n      2      3  82"), "{text}");
    // Quoting of awkward qstrs, unknown references and unassigned opcodes.
    let h = BytecodeFunction::decode(&hex(CASES[3].fun_data)).unwrap();
    let listing = disasm::listing(&h, &Names).unwrap();
    let texts: Vec<String> = listing.instructions.iter().map(|i| i.text()).collect();
    assert_eq!(texts[7], "UNWIND_JUMP 22 2");
    assert_eq!(texts[8], "unknown 5");
    assert_eq!(texts[9], "unknown 27 9");
    assert_eq!(texts[10], "unknown 7");
    assert_eq!(texts[11], "unknown f");
    assert_eq!(texts[13], "LOAD_SUPER_METHOD 'x y'");
    assert_eq!(disasm::quote_if_needed("a\n'b"), "'a\\n\\'b'");
    assert_eq!(disasm::quote_if_needed(""), "''");
    let none = disasm::listing(&h, &disasm::NoNames).unwrap();
    assert_eq!(none.instructions[13].text(), "LOAD_SUPER_METHOD #4");
}

/// A function listed from the bytes it was decoded from ([`disasm::Lister::decoded`], what `mpy dis`
/// does) lists as the function encoded again ([`disasm::listing`]): every bytecode function of
/// the committed corpus, and each with a few bytes changed, wherever it still decodes.
#[test]
fn listing_decoded_bytes_is_listing_the_encoding() {
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))];
    let mut fun_datas = Vec::new();
    while let Some(dir) = dirs.pop() {
        for path in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "mpy") {
                let bytes = std::fs::read(&path).unwrap();
                let Ok(module) = crate::Module::decode(&bytes) else { continue };
                for (_, rc) in module.raw_codes() {
                    if rc.kind == crate::Kind::Bytecode {
                        fun_datas.push(rc.fun_data.to_vec());
                    }
                }
            }
        }
    }
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let (mut listed, mut changed) = (0, 0);
    for fun_data in &fun_datas {
        for round in 0..8 {
            let mut data = fun_data.clone();
            if round > 0 && !data.is_empty() {
                for _ in 0..1 + rnd(3) {
                    let k = rnd(data.len());
                    data[k] ^= 1 << rnd(8);
                }
            }
            let Ok((f, code_start)) = BytecodeFunction::decode_with_code_start(&data) else { continue };
            let decoded =
                disasm::Lister::decoded(&f, &data, code_start).map(|l| l.into_listing(&disasm::NoNames));
            assert_eq!(decoded, disasm::listing(&f, &disasm::NoNames), "{}", disasm::hex(&data));
            listed += 1;
            changed += usize::from(round > 0);
        }
    }
    assert!(listed > 1000 && changed > 1000, "{listed} listed, {changed} with changed bytes");
}

/// A minimal prelude for built functions.
fn bare(instructions: Vec<Instruction>) -> BytecodeFunction {
    let decoded = BytecodeFunction::decode(&hex("00 02 01 63")).unwrap();
    BytecodeFunction { instructions, ..decoded }
}

/// Random instruction lists (labels are the indices, which any increasing numbering allows): the
/// worklist relayout must give exactly the greatest fixed point computed the slow way.
#[test]
fn worklist_relayout_matches_the_naive_fixed_point() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for round in 0..300 {
        let n = 2 + rnd(if round % 10 == 0 { 3000 } else { 300 }) as usize;
        let mut instructions = Vec::with_capacity(n);
        for i in 0..n {
            let ins = match rnd(12) {
                0..=3 if i + 1 < n => {
                    let (op, extra) = match rnd(5) {
                        0 => (Opcode::JUMP, None),
                        1 => (Opcode::POP_JUMP_IF_TRUE, None),
                        2 => (Opcode::UNWIND_JUMP, Some(1)),
                        3 => (Opcode::JUMP_IF_TRUE_OR_POP, None),
                        _ => (Opcode::FOR_ITER, None),
                    };
                    let signed = op.0 <= 0x44;
                    let target = if signed && rnd(2) == 0 {
                        i.saturating_sub(rnd(80) as usize)
                    } else {
                        (i + 1 + rnd(90) as usize).min(n - 1)
                    };
                    Instruction::jump_to(op, target, extra)
                }
                4 => Instruction::qstr(Opcode::LOAD_NAME, rnd(300)),
                5 => Instruction::small_int_op(rnd(20_000) as i64 - 10_000),
                _ => Instruction::op(Opcode::POP_TOP),
            };
            instructions.push(Instruction { offset: i, ..ins });
        }
        let f = bare(instructions);

        // The slow way: all 2-byte, then shrink every jump that fits, until nothing changes.
        let mut widths: Vec<Option<JumpWidth>> =
            f.instructions.iter().map(|i| i.jump().map(|_| JumpWidth::Two)).collect();
        loop {
            let mut pos = vec![0i64; n + 1];
            for i in 0..n {
                pos[i + 1] = pos[i] + f.instructions[i].encoded_len_with(widths[i]) as i64;
            }
            let mut changed = false;
            for i in 0..n {
                if let Some(j) = f.instructions[i].jump() {
                    let signed = f.instructions[i].opcode.0 <= 0x44;
                    let off = pos[j.target as usize] - (pos[i] + 2);
                    let fits = if signed { (-64..=63).contains(&off) } else { (0..=127).contains(&off) };
                    if fits && widths[i] == Some(JumpWidth::Two) {
                        widths[i] = Some(JumpWidth::One);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut slow = f.clone();
        for (ins, w) in slow.instructions.iter_mut().zip(&widths) {
            if let (Operand::Jump(j), Some(w)) = (&mut ins.operand, w) {
                j.width = *w;
            }
        }
        let want = slow.encode_exact().unwrap();
        assert_eq!(f.encode_relaid().unwrap(), want, "round {round}");
        // And the output decodes to the same instructions and targets.
        let g = BytecodeFunction::decode(&want).unwrap();
        assert_eq!(g.instructions.len(), n);
        for (i, ins) in g.instructions.iter().enumerate() {
            if let Some(j) = ins.jump() {
                let k = g.index_of_offset(j.target as usize).unwrap();
                assert_eq!(k as i64, f.instructions[i].jump().unwrap().target, "round {round} jump {i}");
            }
        }
    }
}

/// A cascade: each jump spans the next 43 jumps and only fits 1 byte once three of them have
/// shrunk, so shrinking proceeds one jump at a time from the end (a round-based relayout would
/// need a round per jump). The worklist handles 100 000 of them quickly.
#[test]
fn cascading_shrinks_stay_fast() {
    let n = 100_000;
    const K: usize = 44;
    let mut instructions = Vec::with_capacity(n + K);
    for i in 0..n {
        let ins = Instruction::jump_to(Opcode::JUMP_IF_TRUE_OR_POP, i + K, None);
        instructions.push(Instruction { offset: i, ..ins });
    }
    for i in n..n + K {
        instructions.push(Instruction { offset: i, ..Instruction::op(Opcode::POP_TOP) });
    }
    let f = bare(instructions);
    let start = std::time::Instant::now();
    let out = f.encode_relaid().unwrap();
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    let g = BytecodeFunction::decode(&out).unwrap();
    assert!(g.instructions.iter().filter_map(|i| i.jump()).all(|j| j.width == JumpWidth::One));
    assert_eq!(out.len(), 3 + 2 * n + K);
}
