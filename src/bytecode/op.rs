//! [`Op`]: an instruction as the read-only hot loops see it (the verifier, the benchmarks): the
//! opcode, the operand's value, the extra byte and the length, in 24 bytes, decoded straight from
//! the code bytes. It keeps neither operand padding nor jump widths; [`Instruction`] is the exact,
//! editable model, and both decode the same bytes to the same meaning (see the tests).

use super::error::BytecodeError;
use super::instruction::Instruction;
use super::opcode::{Format, Multi, OpInfo, Opcode, OperandKind, StackDelta};
use super::operand::Operand;

/// A decoded instruction, read-only and compact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Op {
    /// Code offset of the opcode (0 = the first).
    pub offset: usize,
    /// The operand's value, as the opcode's [`OperandKind`] says: an unsigned value (qstr,
    /// constant, child, local, count), a small int (`as i64`), or a jump's target code offset
    /// (`as i64`); 0 without an operand.
    pub arg: u64,
    /// The opcode byte.
    pub opcode: Opcode,
    /// The byte after the operand, 0 for the opcodes that have none.
    pub extra: u8,
    /// Bytes taken, opcode to extra byte.
    pub len: u8,
}

/// The signed operand of `LOAD_CONST_SMALL_INT` at `at`, as the VM reads it (the first byte's
/// `0x40` bit is the sign), and its length; `None` when it is padded (longer than its value needs),
/// longer than nine bytes, or cut off.
#[inline]
pub(crate) fn small_int(code: &[u8], at: usize) -> Option<(i64, usize)> {
    const MAX_BYTES: usize = 9; // 63 bits: no overflow
    let b0 = *code.get(at)?;
    let mut value = if b0 & 0x40 != 0 { -1i64 } else { 0 };
    let mut n = 0;
    loop {
        let b = *code.get(at + n)?;
        value = (value << 7) | i64::from(b & 0x7f);
        n += 1;
        if b & 0x80 == 0 {
            break;
        }
        if n == MAX_BYTES {
            return None;
        }
    }
    // The fewest bytes that hold the value with its sign: 7n bits, the top one the sign.
    let needs_all = n == 1 || {
        let half = 1i64 << (7 * n - 8);
        value < -half || value >= half
    };
    needs_all.then_some((value, n))
}

impl Op {
    /// Decodes the instruction at code offset `offset` of `code` (the instruction bytes). The
    /// usual shapes are decoded here; the rest (operands longer than two bytes, padded ones, and
    /// errors) by the exact decoder.
    #[inline]
    pub fn decode(code: &[u8], offset: usize, code_start: usize) -> Result<Op, BytecodeError> {
        match Op::decode_common(code, offset) {
            Some(op) => Ok(op),
            None => Op::decode_any(code, offset, code_start),
        }
    }

    /// The shapes almost every instruction has: operands of one or two bytes without padding.
    /// `None` for anything else.
    #[inline]
    pub(crate) fn decode_common(code: &[u8], offset: usize) -> Option<Op> {
        let opcode = Opcode(*code.get(offset)?);
        let info = opcode.info();
        let at = offset + 1;
        let (arg, n) = match info.format {
            Format::Byte => (0, 0),
            Format::VarUint if info.operand == OperandKind::SmallInt => {
                let (value, n) = small_int(code, at)?;
                (value as u64, n)
            }
            Format::Qstr | Format::VarUint => {
                let b0 = *code.get(at)?;
                if b0 & 0x80 == 0 {
                    (u64::from(b0), 1)
                } else if b0 == 0x80 {
                    return None; // padding
                } else {
                    let b1 = *code.get(at + 1)?;
                    if b1 & 0x80 != 0 {
                        return None;
                    }
                    ((u64::from(b0 & 0x7f) << 7) | u64::from(b1), 2)
                }
            }
            Format::Offset => {
                let signed = matches!(info.operand, OperandKind::Jump { signed: true });
                let b0 = *code.get(at)?;
                let (raw, n, bias) = if b0 & 0x80 == 0 {
                    (i64::from(b0), 1, 0x40)
                } else {
                    (i64::from(b0 & 0x7f) | (i64::from(*code.get(at + 1)?) << 7), 2, 0x4000)
                };
                let relative = if signed { raw - bias } else { raw };
                (((at + n) as i64 + relative) as u64, n)
            }
        };
        let extra = if info.extra_byte { *code.get(at + n)? } else { 0 };
        let len = 1 + n + usize::from(info.extra_byte);
        Some(Op { offset, arg, opcode, extra, len: len as u8 })
    }

    /// Any instruction, through [`Instruction`]'s decoder.
    #[cold]
    #[inline(never)]
    fn decode_any(code: &[u8], offset: usize, code_start: usize) -> Result<Op, BytecodeError> {
        let rest = code.get(offset..).unwrap_or_default();
        let mut r = super::reader::Reader::new(rest, code_start + offset);
        let ins = Instruction::decode_any(&mut r, code_start)?;
        Ok(Op::from_instruction(&ins, r.offset() - code_start - offset))
    }

    /// The compact form of a decoded instruction that took `len` bytes.
    pub fn from_instruction(ins: &Instruction, len: usize) -> Op {
        let arg = match ins.operand {
            Operand::None => 0,
            Operand::Qstr(a)
            | Operand::Const(a)
            | Operand::Child(a)
            | Operand::Local(a)
            | Operand::Uint(a) => a.value,
            Operand::SmallInt(a) => a.value as u64,
            Operand::Jump(j) => j.target as u64,
        };
        Op { offset: ins.offset, arg, opcode: ins.opcode, extra: ins.extra.unwrap_or(0), len: len as u8 }
    }

    /// The opcode's table entry.
    #[inline]
    pub fn info(&self) -> &'static OpInfo {
        self.opcode.info()
    }

    /// Code offset of the next instruction.
    #[inline]
    pub fn next_offset(&self) -> usize {
        self.offset + usize::from(self.len)
    }

    /// The unsigned operand value, whatever it means (0 for no operand, small ints and jumps): the
    /// `n` of the stack rules.
    #[inline]
    pub fn uint_value(&self) -> u64 {
        match (self.info().format, self.info().operand) {
            (Format::Qstr, _) => self.arg,
            (Format::VarUint, kind) if kind != OperandKind::SmallInt => self.arg,
            _ => 0,
        }
    }

    /// The qstr-table index this instruction names.
    #[inline]
    pub fn qstr_index(&self) -> Option<u64> {
        (self.info().format == Format::Qstr).then_some(self.arg)
    }

    /// The local slot read or written, from the operand or a `LOAD_FAST`/`STORE_FAST` multi-opcode.
    #[inline]
    pub fn local_index(&self) -> Option<u64> {
        match (self.info().operand, self.info().multi) {
            (OperandKind::Local, _) => Some(self.arg),
            (_, Some(Multi::LoadFast(n) | Multi::StoreFast(n))) => Some(u64::from(n)),
            _ => None,
        }
    }

    /// The jump target (a code offset, possibly outside the code).
    #[inline]
    pub fn jump_target(&self) -> Option<i64> {
        (self.info().format == Format::Offset).then_some(self.arg as i64)
    }

    /// Value-stack effect when execution continues with the next instruction.
    #[inline]
    pub fn stack_effect(&self) -> StackDelta {
        self.info().stack.resolve(self.uint_value(), self.extra)
    }

    /// Value-stack effect at the jump target (see [`OpInfo::branch`]).
    #[inline]
    pub fn branch_stack_effect(&self) -> Option<StackDelta> {
        self.info().branch.map(|b| b.resolve(self.uint_value(), self.extra))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bytecode::reader::Reader;

    /// Operand bytes to put after every opcode byte: one and two bytes, padding, truncation, long
    /// and overlong values.
    pub(crate) const OPERAND_TAILS: &[&[u8]] = &[
        &[],
        &[0x00],
        &[0x05, 0x07],
        &[0x3f],
        &[0x40],
        &[0x7f, 0x01],
        &[0x80],
        &[0x80, 0x05],
        &[0x81, 0x00, 0x09],
        &[0xff, 0x7f],
        &[0xff, 0xff, 0x01],
        &[0x83, 0x2c, 0x11],
        &[0xc0, 0x00],
        &[0x80, 0xce, 0x10],
        &[0xbd, 0x84, 0x40],
        &[0xff, 0xbf, 0x00],
        &[0xff, 0xff, 0x7f],
        &[0x80, 0xc0, 0x80, 0x00],
        &[0x84, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        &[0xc0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        &[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
    ];

    /// Every opcode byte followed by operand bytes of every kind of shape: where the compact
    /// decoder answers, it agrees with the exact one; `Op::decode` always does.
    #[test]
    fn ops_decode_as_instructions_do() {
        let mut common = 0;
        for op in 0..=255u8 {
            for tail in OPERAND_TAILS {
                // Two bytes of other code before, so that offsets and targets are not trivial.
                let mut code = vec![0x59, 0x59, op];
                code.extend_from_slice(tail);
                let mut r = Reader::new(&code[2..], 12);
                let exact = Instruction::decode_any(&mut r, 10);
                let exact = exact.map(|ins| Op::from_instruction(&ins, r.offset() - 12));
                if let Some(fast) = Op::decode_common(&code, 2) {
                    common += 1;
                    assert_eq!(Ok(fast), exact, "{code:02x?}");
                } else {
                    let byte = Format::of(op) == Format::Byte && !Opcode(op).info().extra_byte;
                    assert!(!byte, "a one-byte opcode is a common shape: {code:02x?}");
                }
                assert_eq!(Op::decode(&code, 2, 10), exact, "{code:02x?}");
            }
        }
        assert!(common > 2000, "{common}");
    }
}
