//! Operand values: varuints that remember their padding, the signed varuint of
//! `LOAD_CONST_SMALL_INT`, and jumps with their target and width.

use crate::limits::MAX_VARUINT_BYTES;
use crate::varuint;

/// An unsigned varuint operand (or prelude name) and how many redundant leading `0x80` bytes it was
/// written with (0 in everything mpy-cross writes), so that re-encoding is byte-identical.
///
/// Changing `value` keeps the padding count, not the length, so a canonical operand stays
/// canonical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UintArg {
    /// The value.
    pub value: u64,
    /// Leading `0x80` bytes beyond the minimal encoding.
    pub pad: u8,
}

impl UintArg {
    /// A canonical (unpadded) operand.
    pub const fn new(value: u64) -> Self {
        UintArg { value, pad: 0 }
    }

    /// Encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        varuint::encoded_len(self.value) + usize::from(self.pad)
    }

    /// Appends the encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend(std::iter::repeat_n(0x80, usize::from(self.pad)));
        varuint::encode(self.value, out);
    }

    /// Whether the decoder accepts the encoding (at most [`MAX_VARUINT_BYTES`] bytes).
    pub(crate) fn fits(&self) -> bool {
        self.encoded_len() <= MAX_VARUINT_BYTES
    }
}

impl From<u64> for UintArg {
    fn from(value: u64) -> Self {
        UintArg::new(value)
    }
}

/// The signed varuint of `LOAD_CONST_SMALL_INT`, with its padding (leading `0x80` bytes for a
/// non-negative value, `0xFF` for a negative one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IntArg {
    /// The value.
    pub value: i64,
    /// Sign-extension bytes beyond the minimal encoding.
    pub pad: u8,
}

impl IntArg {
    /// A canonical (unpadded) operand.
    pub const fn new(value: i64) -> Self {
        IntArg { value, pad: 0 }
    }

    /// Encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        signed_encoded_len(self.value) + usize::from(self.pad)
    }

    /// Appends the encoding: 7-bit groups, most significant first, with one more group when the top
    /// group's bit 0x40 does not match the sign (py/emitbc.c `emit_write_bytecode_byte_int`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let fill = if self.value < 0 { 0xff } else { 0x80 };
        out.extend(std::iter::repeat_n(fill, usize::from(self.pad)));
        let n = signed_encoded_len(self.value);
        for k in (0..n).rev() {
            // Arithmetic shift keeps the sign in the groups above the value's bits.
            let shift = (7 * k).min(63) as u32;
            let group = ((self.value >> shift) & 0x7f) as u8;
            out.push(if k == 0 { group } else { group | 0x80 });
        }
    }

    pub(crate) fn fits(&self) -> bool {
        self.encoded_len() <= MAX_VARUINT_BYTES
    }
}

impl From<i64> for IntArg {
    fn from(value: i64) -> Self {
        IntArg::new(value)
    }
}

/// Minimal length of the signed encoding of `value`.
pub(crate) fn signed_encoded_len(value: i64) -> usize {
    // Groups needed so that the top group's bit 6 is the sign: the value must fit 7*n bits signed.
    let mut n = 1;
    while n < 10 {
        let bits = 7 * n;
        let min = -(1i64 << (bits - 1));
        let max = (1i64 << (bits - 1)) - 1;
        if (min..=max).contains(&value) {
            return n;
        }
        n += 1;
    }
    10
}

/// How many bytes a jump offset takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum JumpWidth {
    /// One byte: 0..=127 unsigned, -64..=63 signed (bias 0x40).
    One,
    /// Two bytes: 0..=0x7fff unsigned, -0x4000..=0x3fff signed (bias 0x4000).
    Two,
}

impl JumpWidth {
    /// Bytes taken.
    pub fn byte_len(self) -> usize {
        match self {
            JumpWidth::One => 1,
            JumpWidth::Two => 2,
        }
    }
}

/// A jump operand: where it goes, and the width it is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Jump {
    /// Code offset of the target (0 = the first opcode), in the numbering of the instructions'
    /// [`super::Instruction::offset`] fields. Decoded from hostile input it may lie outside the code
    /// or inside an instruction.
    pub target: i64,
    /// Width of the offset field; kept by [`super::Layout::Exact`], recomputed by
    /// [`super::Layout::Relaid`].
    pub width: JumpWidth,
}

/// Encodes a relative offset (from the end of the offset field) in `width` bytes; `None` if it does
/// not fit.
pub(crate) fn encode_jump(relative: i64, signed: bool, width: JumpWidth, out: &mut Vec<u8>) -> Option<()> {
    match width {
        JumpWidth::One => {
            let raw = if signed { relative + 0x40 } else { relative };
            if !(0..=0x7f).contains(&raw) {
                return None;
            }
            out.push(raw as u8);
        }
        JumpWidth::Two => {
            let raw = if signed { relative + 0x4000 } else { relative };
            if !(0..=0x7fff).contains(&raw) {
                return None;
            }
            out.push(0x80 | (raw & 0x7f) as u8);
            out.push((raw >> 7) as u8);
        }
    }
    Some(())
}

/// Decodes a jump offset field; returns (relative offset, width, bytes used) or `None` if
/// `bytes` ends first.
pub(crate) fn decode_jump(bytes: &[u8], signed: bool) -> Option<(i64, JumpWidth)> {
    let b0 = *bytes.first()?;
    if b0 & 0x80 == 0 {
        let raw = i64::from(b0);
        Some((if signed { raw - 0x40 } else { raw }, JumpWidth::One))
    } else {
        let b1 = *bytes.get(1)?;
        let raw = i64::from(b0 & 0x7f) | (i64::from(b1) << 7);
        Some((if signed { raw - 0x4000 } else { raw }, JumpWidth::Two))
    }
}

/// The width mpy-cross (py/emitbc.c, `emit_write_bytecode_byte_label`) chooses for a jump whose
/// opcode is at `opcode_offset`: one byte if `target - (opcode_offset + 2)` fits it.
pub(crate) fn preferred_width(target: i64, opcode_offset: i64, signed: bool) -> JumpWidth {
    let off = target - (opcode_offset + 2);
    let fits = if signed { (-64..=63).contains(&off) } else { (0..=127).contains(&off) };
    if fits { JumpWidth::One } else { JumpWidth::Two }
}

/// An instruction's operand, typed by what the opcode reads (see [`super::OperandKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Operand {
    /// No operand bytes (the multi-opcodes carry their value in the opcode byte).
    None,
    /// A qstr-table index (every QSTR-format opcode, including unassigned ones).
    Qstr(UintArg),
    /// A constant-object-table index (`LOAD_CONST_OBJ`).
    Const(UintArg),
    /// An index into this raw code's children (`MAKE_FUNCTION*`, `MAKE_CLOSURE*`).
    Child(UintArg),
    /// A local slot (`LOAD_FAST_N`, `STORE_FAST_N`, `DELETE_FAST`, `*_DEREF`).
    Local(UintArg),
    /// Any other varuint: counts, packed argument counts, and unassigned VAR_UINT-format opcodes.
    Uint(UintArg),
    /// `LOAD_CONST_SMALL_INT`'s signed value.
    SmallInt(IntArg),
    /// A jump (every OFFSET-format opcode, including unassigned ones).
    Jump(Jump),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_encoding_matches_emitbc() {
        let cases: &[(i64, &[u8])] = &[
            (0, &[0x00]),
            (63, &[0x3f]),
            (64, &[0x80, 0x40]),
            (-1, &[0x7f]),
            (-64, &[0x40]),
            (-65, &[0xff, 0x3f]),
            (-100, &[0xff, 0x1c]),
            (1000, &[0x87, 0x68]),
            (0x1fff, &[0xbf, 0x7f]),
            (0x2000, &[0x80, 0xc0, 0x00]),
            (i64::MAX, &[0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            (i64::MIN, &[0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
        ];
        for &(value, bytes) in cases {
            let mut out = Vec::new();
            IntArg::new(value).encode(&mut out);
            assert_eq!(out, bytes, "{value}");
            assert_eq!(signed_encoded_len(value), bytes.len());
        }
        let mut out = Vec::new();
        IntArg { value: -1, pad: 2 }.encode(&mut out);
        assert_eq!(out, [0xff, 0xff, 0x7f]);
    }

    #[test]
    fn jump_fields() {
        // relative, signed, width, bytes
        let cases: &[(i64, bool, JumpWidth, &[u8])] = &[
            (13, true, JumpWidth::One, &[0x4d]),
            (-18, true, JumpWidth::One, &[0x2e]),
            (127, false, JumpWidth::One, &[0x7f]),
            (0, false, JumpWidth::Two, &[0x80, 0x00]),
            (128, false, JumpWidth::Two, &[0x80, 0x01]),
            (0x7fff, false, JumpWidth::Two, &[0xff, 0xff]),
            (-0x4000, true, JumpWidth::Two, &[0x80, 0x00]),
            (0x3fff, true, JumpWidth::Two, &[0xff, 0xff]),
            (-1, true, JumpWidth::Two, &[0xff, 0x7f]),
        ];
        for &(rel, signed, width, bytes) in cases {
            let mut out = Vec::new();
            encode_jump(rel, signed, width, &mut out).unwrap();
            assert_eq!(out, bytes);
            assert_eq!(decode_jump(bytes, signed), Some((rel, width)));
        }
        for (rel, signed, width) in [
            (64, true, JumpWidth::One),
            (-65, true, JumpWidth::One),
            (128, false, JumpWidth::One),
            (-1, false, JumpWidth::Two),
            (0x8000, false, JumpWidth::Two),
            (0x4000, true, JumpWidth::Two),
        ] {
            assert_eq!(encode_jump(rel, signed, width, &mut Vec::new()), None, "{rel}");
        }
        assert_eq!(decode_jump(&[0x85], false), None);
    }

    #[test]
    fn preferred_widths() {
        // target, opcode offset, signed
        assert_eq!(preferred_width(65, 0, true), JumpWidth::One); // off 63
        assert_eq!(preferred_width(66, 0, true), JumpWidth::Two);
        assert_eq!(preferred_width(10, 72, true), JumpWidth::One); // off -64
        assert_eq!(preferred_width(10, 73, true), JumpWidth::Two);
        assert_eq!(preferred_width(129, 0, false), JumpWidth::One);
        assert_eq!(preferred_width(130, 0, false), JumpWidth::Two);
        assert_eq!(preferred_width(0, 5, false), JumpWidth::Two);
    }
}
