//! The variable-length unsigned integer ("vuint") used throughout the format.
//!
//! Seven data bits per byte, **most significant group first**, bit 7 set on every byte but the last
//! (MicroPython's `mp_print_uint` / `read_uint`; its documentation says LSB-first, which is wrong).
//! The writer emits the minimal form; the reader accepts leading `0x80` padding bytes, which this
//! decoder reports as non-canonical so that a round trip can say why it is not exact.

use nom::IResult;

use crate::error::{Fail, RawError};
use crate::limits::MAX_VARUINT_BYTES;

/// A decoded varuint: its value and whether it was written in the minimal number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarUint {
    pub value: u64,
    /// `false` when the encoding carries leading zero groups (`0x80` bytes) that an encoder drops.
    pub canonical: bool,
}

/// Decodes one varuint. Fails with `Eof` when the input ends before the last byte, `Overflow` when the
/// value does not fit 64 bits or the padding exceeds [`MAX_VARUINT_BYTES`].
#[inline]
pub fn decode(input: &[u8]) -> IResult<&[u8], VarUint, RawError> {
    // Most varuints in real files (lengths, counts, qstr heads) fit one byte.
    match input.split_first() {
        Some((&b, rest)) if b & 0x80 == 0 => Ok((rest, VarUint { value: u64::from(b), canonical: true })),
        _ => decode_long(input),
    }
}

/// A varuint of one or two bytes in its minimal form (counts, lengths, qstr heads, `kind_len`:
/// nearly all of them), with the rest of the input; `None` for any other (longer, padded, cut off),
/// which [`decode`] reads.
#[inline(always)]
pub(crate) fn short(input: &[u8]) -> Option<(&[u8], u64)> {
    match *input {
        [b, ref rest @ ..] if b & 0x80 == 0 => Some((rest, u64::from(b))),
        [b0, b1, ref rest @ ..] if b0 > 0x80 && b1 & 0x80 == 0 => {
            Some((rest, u64::from(b0 & 0x7f) << 7 | u64::from(b1)))
        }
        _ => None,
    }
}

/// The general case: several bytes, or an error.
fn decode_long(input: &[u8]) -> IResult<&[u8], VarUint, RawError> {
    let fail = |f| Err(nom::Err::Error(RawError::new(input, f)));
    let mut value: u64 = 0;
    let mut overflow = false;
    for (k, &b) in input.iter().enumerate() {
        if k >= MAX_VARUINT_BYTES {
            // Too long; but a stream that never ends is reported as the end of input.
            let ends = input[k..].iter().any(|&b| b & 0x80 == 0);
            return fail(if ends { Fail::Overflow } else { Fail::Eof });
        }
        overflow |= value > (u64::MAX >> 7);
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if overflow {
                return fail(Fail::Overflow);
            }
            let canonical = k == 0 || input[0] != 0x80;
            return Ok((&input[k + 1..], VarUint { value, canonical }));
        }
    }
    fail(Fail::Eof)
}

/// Number of bytes the minimal encoding of `value` takes.
pub fn encoded_len(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Appends the minimal encoding of `value`.
#[inline]
pub fn encode(value: u64, out: &mut Vec<u8>) {
    // Most varuints in real files (lengths, counts, qstr heads) fit one byte, and most raw codes'
    // kind_len (fun_data length << 3) two.
    if value < 0x80 {
        out.push(value as u8);
    } else if value < 0x4000 {
        out.extend_from_slice(&[(value >> 7) as u8 | 0x80, (value & 0x7f) as u8]);
    } else {
        encode_long(value, out);
    }
}

/// The general case: three bytes or more.
fn encode_long(value: u64, out: &mut Vec<u8>) {
    let n = encoded_len(value);
    for k in (0..n).rev() {
        let group = ((value >> (7 * k)) & 0x7f) as u8;
        out.push(if k == 0 { group } else { group | 0x80 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out);
        out
    }

    #[test]
    fn msb_first_groups() {
        // Cases as data: value, bytes.
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (0x7f, &[0x7f]),
            (0x80, &[0x81, 0x00]),
            (0x1ac, &[0x83, 0x2c]),
            (0x3fff, &[0xff, 0x7f]),
            (0x4000, &[0x81, 0x80, 0x00]),
            (u64::MAX, &[0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        ];
        for &(value, bytes) in cases {
            assert_eq!(enc(value), bytes, "encoding {value:#x}");
            assert_eq!(encoded_len(value), bytes.len());
            let (rest, got) = decode(bytes).unwrap();
            assert!(rest.is_empty());
            assert_eq!(got, VarUint { value, canonical: true });
        }
    }

    #[test]
    fn padding_is_accepted_but_flagged() {
        let (_, v) = decode(&[0x80, 0x80, 0x05]).unwrap();
        assert_eq!(v, VarUint { value: 5, canonical: false });
    }

    #[test]
    fn truncated_and_overflowing_inputs_fail() {
        assert!(matches!(decode(&[0x81, 0x82]), Err(nom::Err::Error(e)) if e.fail == Fail::Eof));
        assert!(matches!(decode(&[]), Err(nom::Err::Error(e)) if e.fail == Fail::Eof));
        let too_big = [0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(decode(&too_big), Err(nom::Err::Error(e)) if e.fail == Fail::Overflow));
        let padded = [0x80; MAX_VARUINT_BYTES + 1];
        let mut long = padded.to_vec();
        long.push(1);
        assert!(matches!(decode(&long), Err(nom::Err::Error(e)) if e.fail == Fail::Overflow));
    }
}
