//! One instruction: opcode, typed operand, extra byte, and its code offset (which doubles as the
//! label jumps refer to).

use super::error::{BytecodeEncodeError, BytecodeError};
use super::op::Op;
use super::opcode::{Format, Multi, OpInfo, Opcode, OperandKind, StackDelta};
use super::operand::{IntArg, Jump, JumpWidth, Operand, UintArg, decode_jump};
use super::reader::Reader;

/// A decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Instruction {
    /// Code offset (0 = first opcode) at which the instruction was decoded. Jump targets refer to
    /// instructions by this number, so it is a label: the encoders lay instructions out afresh and
    /// move targets (and the line table, which counts code bytes) along. An instruction inserted by
    /// an editor takes [`Instruction::UNLABELLED`], or any number between its neighbours' when a
    /// jump is to target it; labelled instructions must keep increasing offsets. Built functions
    /// without a line table may number their instructions freely (0, 1, 2, ...).
    pub offset: usize,
    /// The opcode byte (possibly unassigned: see [`Opcode::is_assigned`]).
    pub opcode: Opcode,
    /// The operand, of the kind the opcode reads.
    pub operand: Operand,
    /// The raw byte after the operand, for the opcodes that have one (`MAKE_CLOSURE*`: number of
    /// closed-over cells; `UNWIND_JUMP`: handlers to unwind, | 0x80 when leaving a `for` loop).
    pub extra: Option<u8>,
}

impl Instruction {
    /// The offset of an instruction that no jump can target (one added by an editor).
    pub const UNLABELLED: usize = usize::MAX;

    /// An unlabelled instruction.
    pub fn new(opcode: Opcode, operand: Operand, extra: Option<u8>) -> Self {
        Instruction { offset: Self::UNLABELLED, opcode, operand, extra }
    }

    /// The opcode's table entry.
    pub fn info(&self) -> &'static OpInfo {
        self.opcode.info()
    }

    /// Whether the operand and extra byte are of the kind the opcode reads (always true for decoded
    /// instructions; the encoders refuse others).
    pub fn is_consistent(&self) -> bool {
        let info = self.info();
        let operand_ok = matches!(
            (info.operand, &self.operand),
            (OperandKind::None, Operand::None)
                | (OperandKind::Qstr, Operand::Qstr(_))
                | (OperandKind::Const, Operand::Const(_))
                | (OperandKind::Child, Operand::Child(_))
                | (OperandKind::Local, Operand::Local(_))
                | (OperandKind::Uint, Operand::Uint(_))
                | (OperandKind::SmallInt, Operand::SmallInt(_))
                | (OperandKind::Jump { .. }, Operand::Jump(_))
        );
        operand_ok && info.extra_byte == self.extra.is_some()
    }

    /// The qstr-table index this instruction names.
    pub fn qstr_index(&self) -> Option<u64> {
        match self.operand {
            Operand::Qstr(a) => Some(a.value),
            _ => None,
        }
    }

    /// The constant-table index (`LOAD_CONST_OBJ`).
    pub fn const_index(&self) -> Option<u64> {
        match self.operand {
            Operand::Const(a) => Some(a.value),
            _ => None,
        }
    }

    /// The child index (`MAKE_FUNCTION*`, `MAKE_CLOSURE*`).
    pub fn child_index(&self) -> Option<u64> {
        match self.operand {
            Operand::Child(a) => Some(a.value),
            _ => None,
        }
    }

    /// The local slot read or written, from the operand or a `LOAD_FAST`/`STORE_FAST` multi-opcode.
    pub fn local_index(&self) -> Option<u64> {
        match (self.operand, self.opcode.multi()) {
            (Operand::Local(a), _) => Some(a.value),
            (_, Some(Multi::LoadFast(n) | Multi::StoreFast(n))) => Some(u64::from(n)),
            _ => None,
        }
    }

    /// The small int pushed, by `LOAD_CONST_SMALL_INT` or its multi-opcode.
    pub fn small_int(&self) -> Option<i64> {
        match (self.operand, self.opcode.multi()) {
            (Operand::SmallInt(a), _) => Some(a.value),
            (_, Some(Multi::SmallInt(v))) => Some(i64::from(v)),
            _ => None,
        }
    }

    /// The jump operand.
    pub fn jump(&self) -> Option<Jump> {
        match self.operand {
            Operand::Jump(j) => Some(j),
            _ => None,
        }
    }

    /// The unsigned operand value, whatever it means (`None` for no operand, small ints and jumps).
    pub fn uint_value(&self) -> Option<u64> {
        match self.operand {
            Operand::Qstr(a)
            | Operand::Const(a)
            | Operand::Child(a)
            | Operand::Local(a)
            | Operand::Uint(a) => Some(a.value),
            _ => None,
        }
    }

    /// Value-stack effect when execution continues with the next instruction.
    pub fn stack_effect(&self) -> StackDelta {
        self.info().stack.resolve(self.uint_value().unwrap_or(0), self.extra.unwrap_or(0))
    }

    /// Value-stack effect at the jump target (see [`OpInfo::branch`]).
    pub fn branch_stack_effect(&self) -> Option<StackDelta> {
        let n = self.uint_value().unwrap_or(0);
        self.info().branch.map(|b| b.resolve(n, self.extra.unwrap_or(0)))
    }

    /// Encoded length with `width` for a jump operand.
    pub(crate) fn encoded_len_with(&self, width: Option<JumpWidth>) -> usize {
        let operand = match self.operand {
            Operand::None => 0,
            Operand::Qstr(a)
            | Operand::Const(a)
            | Operand::Child(a)
            | Operand::Local(a)
            | Operand::Uint(a) => a.encoded_len(),
            Operand::SmallInt(a) => a.encoded_len(),
            Operand::Jump(j) => width.unwrap_or(j.width).byte_len(),
        };
        1 + operand + usize::from(self.extra.is_some())
    }

    /// Encoded length as it stands.
    pub fn encoded_len(&self) -> usize {
        self.encoded_len_with(None)
    }

    /// Decodes one instruction at the reader's position; `code_start` is the `fun_data` offset of
    /// code offset 0. Unassigned opcodes decode by their format.
    #[inline]
    pub(crate) fn decode(r: &mut Reader<'_>, code_start: usize) -> Result<Instruction, BytecodeError> {
        let offset = r.offset() - code_start;
        match Self::decode_common(r.rest(), offset) {
            Some((ins, len)) => {
                r.skip(len);
                Ok(ins)
            }
            None => Self::decode_any(r, code_start),
        }
    }

    /// The shapes almost every instruction has (see [`Op::decode_common`]): operands of one or two
    /// bytes without padding. `None` for anything else, which [`Instruction::decode_any`] handles;
    /// both give the same instruction.
    #[inline]
    fn decode_common(bytes: &[u8], offset: usize) -> Option<(Instruction, usize)> {
        // Decoded as if at offset 0: a jump's target moves by `offset`.
        let op = Op::decode_common(bytes, 0)?;
        let info = op.info();
        let arg = UintArg { value: op.arg, pad: 0 };
        let operand = match (info.format, info.operand) {
            (Format::Byte, _) => Operand::None,
            (Format::Qstr, _) => Operand::Qstr(arg),
            (Format::Offset, _) => {
                let width = if usize::from(op.len) - usize::from(info.extra_byte) == 2 {
                    JumpWidth::One
                } else {
                    JumpWidth::Two
                };
                Operand::Jump(Jump { target: op.arg as i64 + offset as i64, width })
            }
            (_, OperandKind::SmallInt) => Operand::SmallInt(IntArg { value: op.arg as i64, pad: 0 }),
            (_, OperandKind::Const) => Operand::Const(arg),
            (_, OperandKind::Child) => Operand::Child(arg),
            (_, OperandKind::Local) => Operand::Local(arg),
            _ => Operand::Uint(arg),
        };
        let extra = info.extra_byte.then_some(op.extra);
        Some((Instruction { offset, opcode: op.opcode, operand, extra }, usize::from(op.len)))
    }

    /// Decodes any instruction, with the error of the field that does not decode.
    #[cold]
    #[inline(never)]
    pub(crate) fn decode_any(r: &mut Reader<'_>, code_start: usize) -> Result<Instruction, BytecodeError> {
        let offset = r.offset() - code_start;
        let opcode = Opcode(r.byte("opcode")?);
        let info = opcode.info();
        let operand = match info.format {
            Format::Byte => Operand::None,
            Format::Qstr => Operand::Qstr(r.uint("qstr operand")?),
            Format::VarUint => match info.operand {
                OperandKind::SmallInt => Operand::SmallInt(r.int("small int operand")?),
                OperandKind::Const => Operand::Const(r.uint("constant index")?),
                OperandKind::Child => Operand::Child(r.uint("child index")?),
                OperandKind::Local => Operand::Local(r.uint("local index")?),
                _ => Operand::Uint(r.uint("operand")?),
            },
            Format::Offset => {
                let signed = matches!(info.operand, OperandKind::Jump { signed: true });
                let at = r.offset();
                let b0 = r.byte("jump offset")?;
                let two = b0 & 0x80 != 0;
                let b1 = if two { r.byte("jump offset")? } else { 0 };
                let (relative, width) = decode_jump(&[b0, b1], signed)
                    .unwrap_or_else(|| unreachable!("two bytes are always enough"));
                let after = (at + width.byte_len() - code_start) as i64;
                Operand::Jump(Jump { target: after + relative, width })
            }
        };
        let extra = if info.extra_byte { Some(r.byte("extra byte")?) } else { None };
        Ok(Instruction { offset, opcode, operand, extra })
    }

    /// Appends the encoding; `jump` is the relative offset and width to write for a jump operand.
    /// Returns `None` if the relative offset does not fit the width.
    pub(crate) fn encode(
        &self,
        jump: Option<(i64, JumpWidth)>,
        out: &mut Vec<u8>,
    ) -> Result<(), BytecodeEncodeError> {
        out.push(self.opcode.0);
        match self.operand {
            Operand::None => {}
            Operand::Qstr(a)
            | Operand::Const(a)
            | Operand::Child(a)
            | Operand::Local(a)
            | Operand::Uint(a) => a.encode(out),
            Operand::SmallInt(a) => a.encode(out),
            Operand::Jump(_) => {
                let (relative, width) =
                    jump.unwrap_or_else(|| unreachable!("the layout resolves every jump"));
                let signed = matches!(self.info().operand, OperandKind::Jump { signed: true });
                if super::operand::encode_jump(relative, signed, width, out).is_none() {
                    // The caller reports the index and offset.
                    return Err(BytecodeEncodeError::BytecodeOverflow { index: 0, offset: 0, relative });
                }
            }
        }
        if let Some(x) = self.extra {
            out.push(x);
        }
        Ok(())
    }

    /// Whether a varuint operand is short enough for the decoder to accept again.
    pub(crate) fn operand_fits(&self) -> bool {
        match self.operand {
            Operand::Qstr(a)
            | Operand::Const(a)
            | Operand::Child(a)
            | Operand::Local(a)
            | Operand::Uint(a) => a.fits(),
            Operand::SmallInt(a) => a.fits(),
            _ => true,
        }
    }
}

/// Shorthand constructors for building instruction lists (tests, editors).
impl Instruction {
    /// An instruction without operand.
    pub fn op(opcode: Opcode) -> Self {
        Self::new(opcode, Operand::None, None)
    }

    /// A QSTR-format instruction.
    pub fn qstr(opcode: Opcode, index: u64) -> Self {
        Self::new(opcode, Operand::Qstr(UintArg::new(index)), None)
    }

    /// `LOAD_CONST_SMALL_INT value`.
    pub fn small_int_op(value: i64) -> Self {
        Self::new(Opcode::LOAD_CONST_SMALL_INT, Operand::SmallInt(IntArg::new(value)), None)
    }

    /// A jump to the instruction labelled `target`, 2-byte until laid out.
    pub fn jump_to(opcode: Opcode, target: usize, extra: Option<u8>) -> Self {
        Self::new(opcode, Operand::Jump(Jump { target: target as i64, width: JumpWidth::Two }), extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The common-shape decoder agrees with the general one wherever it answers, and answers for
    /// the shapes it is meant for.
    #[test]
    fn common_shapes_decode_as_the_general_decoder_does() {
        let mut answered = 0;
        for op in 0..=255u8 {
            for tail in crate::bytecode::op::tests::OPERAND_TAILS {
                let mut bytes = vec![op];
                bytes.extend_from_slice(tail);
                let general = Instruction::decode_any(&mut Reader::new(&bytes, 10), 3);
                match Instruction::decode_common(&bytes, 7) {
                    Some((ins, len)) => {
                        answered += 1;
                        let general = general.expect("the general decoder accepts it too");
                        assert_eq!(ins, general, "{bytes:02x?}");
                        assert_eq!(len, general.encoded_len(), "{bytes:02x?}");
                    }
                    None => {
                        let canonical_byte = matches!(Format::of(op), Format::Byte) && !has_extra(op);
                        assert!(!canonical_byte, "a one-byte opcode is common: {bytes:02x?}");
                    }
                }
            }
        }
        assert!(answered > 2000, "{answered}");
    }

    fn has_extra(op: u8) -> bool {
        Opcode(op).info().extra_byte
    }
}
