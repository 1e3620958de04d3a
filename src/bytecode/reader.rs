//! A cursor over `fun_data` that turns nom failures into [`BytecodeError`]s with absolute offsets.

use super::error::{BytecodeError, BytecodeErrorKind};
use super::operand::{IntArg, UintArg};
use crate::error::{Fail, RawError};
use crate::limits::MAX_VARUINT_BYTES;
use crate::varuint;

/// Reads fields from `data`, which starts at `base` inside `fun_data`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `data`, whose first byte is at `base` in `fun_data`.
    pub(crate) fn new(data: &'a [u8], base: usize) -> Self {
        Reader { data, pos: 0, base }
    }

    /// Offset of the next byte inside `fun_data`.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes left.
    pub(crate) fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.left() == 0
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// Moves past `n` bytes (at most those left).
    #[inline]
    pub(crate) fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.data.len());
    }

    fn fail(&self, e: nom::Err<RawError>, what: &'static str) -> BytecodeError {
        let (remaining, fail) = match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => (e.remaining, e.fail),
            nom::Err::Incomplete(_) => (0, Fail::Eof),
        };
        let kind = match fail {
            Fail::Eof => BytecodeErrorKind::UnexpectedEnd { what },
            Fail::Overflow => BytecodeErrorKind::Overflow { what },
        };
        // `remaining` counts from the failing position to the end of `data`; for EOF report the
        // start of the field.
        let at = match fail {
            Fail::Eof => self.offset(),
            Fail::Overflow => self.base + self.data.len() - remaining,
        };
        BytecodeError::new(kind, at)
    }

    /// One byte.
    #[inline]
    pub(crate) fn byte(&mut self, what: &'static str) -> Result<u8, BytecodeError> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what }, self.offset())),
        }
    }

    /// `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BytecodeError> {
        match self.rest().get(..n) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what }, self.offset())),
        }
    }

    /// An unsigned varuint, keeping its padding.
    #[inline]
    pub(crate) fn uint(&mut self, what: &'static str) -> Result<UintArg, BytecodeError> {
        // Most operands and names fit one byte, nearly all the others two.
        match *self.rest() {
            [b, ..] if b & 0x80 == 0 => {
                self.pos += 1;
                return Ok(UintArg { value: u64::from(b), pad: 0 });
            }
            [b0, b1, ..] if b1 & 0x80 == 0 => {
                self.pos += 2;
                // A first byte of 0x80 carries no bits: the value would fit one byte.
                let value = u64::from(b0 & 0x7f) << 7 | u64::from(b1);
                return Ok(UintArg { value, pad: u8::from(b0 == 0x80) });
            }
            _ => {}
        }
        match varuint::decode(self.rest()) {
            Ok((rest, v)) => {
                let len = self.left() - rest.len();
                self.pos = self.data.len() - rest.len();
                let pad = len - varuint::encoded_len(v.value);
                // `decode` refuses more than MAX_VARUINT_BYTES bytes, so `pad` fits.
                debug_assert!(len <= MAX_VARUINT_BYTES);
                Ok(UintArg { value: v.value, pad: pad as u8 })
            }
            Err(e) => Err(self.fail(e, what)),
        }
    }

    /// The signed varuint of `LOAD_CONST_SMALL_INT`: bit 0x40 of the first byte is the sign, then
    /// 7 bits per byte, most significant first.
    pub(crate) fn int(&mut self, what: &'static str) -> Result<IntArg, BytecodeError> {
        let start = self.offset();
        let first = *self
            .rest()
            .first()
            .ok_or(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what }, start))?;
        let mut value: i64 = if first & 0x40 != 0 { -1 } else { 0 };
        let mut len = 0usize;
        loop {
            let Some(&b) = self.rest().get(len) else {
                return Err(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what }, start));
            };
            len += 1;
            if len > MAX_VARUINT_BYTES || !((i64::MIN >> 7)..=(i64::MAX >> 7)).contains(&value) {
                return Err(BytecodeError::new(BytecodeErrorKind::Overflow { what }, start));
            }
            value = (value << 7) | i64::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        self.pos += len;
        let pad = len - super::operand::signed_encoded_len(value);
        Ok(IntArg { value, pad: pad as u8 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_varuints() {
        // bytes, value, padding
        let cases: &[(&[u8], i64, u8)] = &[
            (&[0x00], 0, 0),
            (&[0x3f], 63, 0),
            (&[0x80, 0x40], 64, 0),
            (&[0x7f], -1, 0),
            (&[0x40], -64, 0),
            (&[0xff, 0x3f], -65, 0),
            (&[0xff, 0x1c], -100, 0),
            (&[0x81, 0x00], 128, 0),
            (&[0x80, 0x05], 5, 1),
            (&[0xff, 0x7f], -1, 1),
            (&[0xff, 0xff, 0x40], -64, 2),
        ];
        for &(bytes, value, pad) in cases {
            let mut r = Reader::new(bytes, 0);
            assert_eq!(r.int("int").unwrap(), IntArg { value, pad }, "{bytes:02x?}");
            assert!(r.is_empty());
        }
    }

    #[test]
    fn signed_varuint_errors() {
        let mut r = Reader::new(&[0x81, 0x82], 3);
        assert_eq!(
            r.int("small int"),
            Err(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what: "small int" }, 3))
        );
        // Sign-extension padding is accepted up to the varuint cap.
        let pad = [0xffu8; 12];
        let mut r = Reader::new(&pad, 0);
        assert!(matches!(
            r.int("x"),
            Err(BytecodeError { kind: BytecodeErrorKind::UnexpectedEnd { .. }, .. })
        ));
        let too_long = [0xffu8; MAX_VARUINT_BYTES + 1];
        let mut r = Reader::new(&too_long, 0);
        assert!(matches!(r.int("x"), Err(BytecodeError { kind: BytecodeErrorKind::Overflow { .. }, .. })));
        // 0x81 then 9 more groups: more than 64 bits.
        let mut long = vec![0x81u8; 10];
        long.push(0x00);
        let mut r = Reader::new(&long, 0);
        assert!(matches!(r.int("x"), Err(BytecodeError { kind: BytecodeErrorKind::Overflow { .. }, .. })));
    }

    /// The one- and two-byte fast paths read what the general decoder reads, over every input of
    /// up to two bytes.
    #[test]
    fn short_unsigned_varuints_agree_with_the_general_decoder() {
        let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|a| vec![a]).collect();
        inputs.extend((0..=0xffffu16).map(|v| v.to_be_bytes().to_vec()));
        for bytes in &inputs {
            let mut r = Reader::new(bytes, 4);
            let want = match varuint::decode(bytes) {
                Ok((rest, v)) => {
                    let len = bytes.len() - rest.len();
                    Ok((
                        UintArg { value: v.value, pad: (len - varuint::encoded_len(v.value)) as u8 },
                        4 + len,
                    ))
                }
                Err(_) => Err(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what: "u" }, 4)),
            };
            assert_eq!(r.uint("u").map(|a| (a, r.offset())), want, "{bytes:02x?}");
        }
    }

    #[test]
    fn unsigned_varuints_keep_padding() {
        let mut r = Reader::new(&[0x80, 0x80, 0x05, 0x83, 0x2c], 10);
        assert_eq!(r.uint("a").unwrap(), UintArg { value: 5, pad: 2 });
        assert_eq!(r.offset(), 13);
        assert_eq!(r.uint("b").unwrap(), UintArg { value: 0x1ac, pad: 0 });
        assert_eq!(r.uint("c"), Err(BytecodeError::new(BytecodeErrorKind::UnexpectedEnd { what: "c" }, 15)));
    }
}
