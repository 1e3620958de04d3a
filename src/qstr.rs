//! The qstr table: interned names, each either a static qstr (an id into the firmware's built-in
//! list, the same in every v6 release) or bytes carried in the file.
//!
//! Text is kept as raw bytes: real mpy-cross output holds qstrs that are not valid UTF-8.

use std::borrow::Cow;
use std::fmt;

use crate::decoder::{DResult, Decoder, split};
use crate::error::{EncodeError, Segment};
use crate::varuint;

/// Number of static qstrs in format 6 (ids 1..=165; id 0 is `MP_QSTRnull`).
pub const STATIC_QSTR_COUNT: usize = 165;

include!(concat!(env!("OUT_DIR"), "/static_qstrs.rs"));

/// The text of static qstr `id`, if it is one of the 165.
pub fn static_qstr(id: u64) -> Option<&'static [u8]> {
    let index = usize::try_from(id).ok()?.checked_sub(1)?;
    STATIC_QSTRS.get(index).copied()
}

/// The static id of `text`, if the firmware has it built in.
pub fn static_qstr_id(text: &[u8]) -> Option<u64> {
    STATIC_QSTRS.iter().position(|s| *s == text).map(|i| i as u64 + 1)
}

/// One entry of the qstr table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Qstr<'a> {
    /// A static qstr id (written as `id << 1 | 1`). Decoding keeps any id; the verifier checks
    /// the range.
    Static(u64),
    /// Bytes carried in the file (written as `len << 1`, the bytes, then a NUL).
    Dynamic(Cow<'a, [u8]>),
}

impl<'a> Qstr<'a> {
    /// A qstr for `text`, static when the firmware has it built in (as mpy-cross does).
    pub fn new(text: &'a [u8]) -> Self {
        match static_qstr_id(text) {
            Some(id) => Qstr::Static(id),
            None => Qstr::Dynamic(Cow::Borrowed(text)),
        }
    }

    /// The text, or `None` for a static id outside the table.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Qstr::Static(id) => static_qstr(*id),
            Qstr::Dynamic(bytes) => Some(bytes),
        }
    }

    /// The text, with invalid UTF-8 replaced, or `<static qstr N?>` for an unknown id.
    pub fn lossy(&self) -> Cow<'_, str> {
        match self.bytes() {
            Some(b) => String::from_utf8_lossy(b),
            None => match self {
                Qstr::Static(id) => Cow::Owned(format!("<static qstr {id}?>")),
                Qstr::Dynamic(_) => unreachable!("dynamic qstrs always have bytes"),
            },
        }
    }

    pub fn into_owned(self) -> Qstr<'static> {
        match self {
            Qstr::Static(id) => Qstr::Static(id),
            Qstr::Dynamic(b) => Qstr::Dynamic(Cow::Owned(b.into_owned())),
        }
    }

    #[inline(always)]
    pub(crate) fn decode(d: &mut Decoder<'a>, i: &'a [u8]) -> DResult<'a, Qstr<'a>> {
        let (i, v) = d.varuint(i, "qstr header")?;
        if v & 1 == 1 {
            return Ok((i, Qstr::Static(v >> 1)));
        }
        let (i, text) = d.bytes(i, v >> 1, "qstr")?;
        let (i, ()) = d.terminator(i, "qstr")?;
        Ok((i, Qstr::Dynamic(Cow::Borrowed(text))))
    }

    /// [`Qstr::decode`] on a qstr in its canonical shape (a short header, a NUL after the text);
    /// `None` for any other, which that reads with its irregularity or error.
    #[inline(always)]
    fn decode_plain(i: &'a [u8]) -> Option<(&'a [u8], Qstr<'a>)> {
        let (i, v) = varuint::short(i)?;
        if v & 1 == 1 {
            return Some((i, Qstr::Static(v >> 1)));
        }
        let (text, rest) = split(i, v >> 1)?;
        match rest.split_first() {
            Some((0, rest)) => Some((rest, Qstr::Dynamic(Cow::Borrowed(text)))),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (head, text) = match self {
            Qstr::Static(id) => (id.checked_mul(2).map(|v| v | 1), None),
            Qstr::Dynamic(b) => ((b.len() as u64).checked_mul(2), Some(b)),
        };
        let head = head.ok_or_else(|| EncodeError::here("qstr id or length too large for a varuint"))?;
        varuint::encode(head, out);
        if let Some(text) = text {
            out.extend_from_slice(text);
            out.push(0);
        }
        Ok(())
    }
}

impl fmt::Display for Qstr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lossy())
    }
}

/// Decodes `count` qstrs (the table).
pub(crate) fn decode_table<'a>(d: &mut Decoder<'a>, i: &'a [u8], count: usize) -> DResult<'a, Vec<Qstr<'a>>> {
    d.within(Segment::Field("qstrs"), |d| {
        d.list_plain(i, count, Segment::Index, Qstr::decode_plain, Qstr::decode)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_ids_are_list_index_plus_one() {
        let cases: &[(u64, &[u8])] =
            &[(1, b""), (2, b"__dir__"), (3, b"\n"), (4, b" "), (5, b"*"), (7, b"<module>"), (165, b"zip")];
        for &(id, text) in cases {
            assert_eq!(static_qstr(id), Some(text), "id {id}");
            assert_eq!(static_qstr_id(text), Some(id));
        }
        assert_eq!(static_qstr(0), None);
        assert_eq!(static_qstr(166), None);
    }
}
