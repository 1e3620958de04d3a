//! The constant object table: eleven tagged kinds, tuples nested.
//!
//! Ints, floats and complex numbers keep their exact text (what the compiler printed with `repr`), so
//! that re-encoding is exact; the parsed value is offered beside it.

use std::borrow::Cow;
use std::fmt;

use num_bigint::BigInt;

use crate::decoder::{DResult, Decoder, split};
use crate::error::{EncodeError, ErrorKind, Segment};
use crate::limits::MAX_TUPLE_DEPTH;
use crate::varuint;

/// The tags (`MP_PERSISTENT_OBJ_*`).
pub mod tag {
    pub const FUN_TABLE: u8 = 0;
    pub const NONE: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const TRUE: u8 = 3;
    pub const ELLIPSIS: u8 = 4;
    pub const STR: u8 = 5;
    pub const BYTES: u8 = 6;
    pub const INT: u8 = 7;
    pub const FLOAT: u8 = 8;
    pub const COMPLEX: u8 = 9;
    pub const TUPLE: u8 = 10;
}

/// What [`Object::decode_head`] read: a whole object, or the item count of a tuple whose items
/// follow (so that a caller can check them one by one without building the tuple).
pub(crate) enum Head<'a> {
    Whole(Object<'a>),
    Tuple(usize),
}

/// One constant object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Object<'a> {
    /// `&mp_fun_table`, used by native code.
    FunTable,
    None,
    False,
    True,
    Ellipsis,
    /// A `str`; the bytes are normally UTF-8 but need not be (lone surrogates).
    Str(Cow<'a, [u8]>),
    Bytes(Cow<'a, [u8]>),
    /// An int's decimal text, e.g. `-1000000000000000000000`.
    Int(Cow<'a, [u8]>),
    /// A float's repr text, e.g. `2.5`, `1e+300`, `inf`.
    Float(Cow<'a, [u8]>),
    /// A complex repr text, e.g. `2j`.
    Complex(Cow<'a, [u8]>),
    Tuple(Vec<Object<'a>>),
}

impl<'a> Object<'a> {
    /// The tag byte of this kind.
    pub fn tag(&self) -> u8 {
        match self {
            Object::FunTable => tag::FUN_TABLE,
            Object::None => tag::NONE,
            Object::False => tag::FALSE,
            Object::True => tag::TRUE,
            Object::Ellipsis => tag::ELLIPSIS,
            Object::Str(_) => tag::STR,
            Object::Bytes(_) => tag::BYTES,
            Object::Int(_) => tag::INT,
            Object::Float(_) => tag::FLOAT,
            Object::Complex(_) => tag::COMPLEX,
            Object::Tuple(_) => tag::TUPLE,
        }
    }

    /// The value of an `Int`, if its text is a decimal integer.
    pub fn int_value(&self) -> Option<BigInt> {
        match self {
            Object::Int(text) => BigInt::parse_bytes(text, 10),
            _ => None,
        }
    }

    /// The value of a `Float` (at double precision), if its text parses as one.
    pub fn float_value(&self) -> Option<f64> {
        match self {
            Object::Float(text) => parse_float(text),
            _ => None,
        }
    }

    /// The `(real, imaginary)` value of a `Complex`: `2j`, `(1+2j)`, `-0j`, ...
    pub fn complex_value(&self) -> Option<(f64, f64)> {
        let Object::Complex(text) = self else {
            return None;
        };
        let text = std::str::from_utf8(text).ok()?;
        let inner = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')).unwrap_or(text);
        let body = inner.strip_suffix('j')?;
        // Split at the last sign that is not the first character and not part of an exponent.
        let split = body
            .char_indices()
            .skip(1)
            .filter(|&(k, c)| (c == '+' || c == '-') && !body[..k].ends_with(['e', 'E']))
            .map(|(k, _)| k)
            .last();
        match split {
            Some(k) => Some((parse_float(&body.as_bytes()[..k])?, parse_float(&body.as_bytes()[k..])?)),
            None => Some((0.0, parse_float(body.as_bytes())?)),
        }
    }

    pub fn into_owned(self) -> Object<'static> {
        let own = |c: Cow<'a, [u8]>| Cow::Owned(c.into_owned());
        match self {
            Object::FunTable => Object::FunTable,
            Object::None => Object::None,
            Object::False => Object::False,
            Object::True => Object::True,
            Object::Ellipsis => Object::Ellipsis,
            Object::Str(b) => Object::Str(own(b)),
            Object::Bytes(b) => Object::Bytes(own(b)),
            Object::Int(b) => Object::Int(own(b)),
            Object::Float(b) => Object::Float(own(b)),
            Object::Complex(b) => Object::Complex(own(b)),
            Object::Tuple(items) => Object::Tuple(items.into_iter().map(Object::into_owned).collect()),
        }
    }

    pub(crate) fn decode(d: &mut Decoder<'a>, i: &'a [u8], depth: usize) -> DResult<'a, Object<'a>> {
        match Self::decode_head(d, i, depth)? {
            (i, Head::Whole(obj)) => Ok((i, obj)),
            (i, Head::Tuple(count)) => {
                let (i, items) = Object::decode_list(d, i, count, depth + 1)?;
                Ok((i, Object::Tuple(items)))
            }
        }
    }

    /// [`Object::decode`] on an object other than a tuple in its canonical shape (a short length,
    /// a NUL after a string's data); `None` for any other, which that reads.
    #[inline(always)]
    fn decode_plain(i: &'a [u8]) -> Option<(&'a [u8], Object<'a>)> {
        let (&tag, i) = i.split_first()?;
        let data = |i: &'a [u8]| -> Option<(&'a [u8], Cow<'a, [u8]>)> {
            let (i, len) = varuint::short(i)?;
            let (data, rest) = split(i, len)?;
            Some((rest, Cow::Borrowed(data)))
        };
        let terminated = |(rest, data): (&'a [u8], Cow<'a, [u8]>)| match rest.split_first() {
            Some((0, rest)) => Some((rest, data)),
            _ => None,
        };
        Some(match tag {
            tag::FUN_TABLE => (i, Object::FunTable),
            tag::NONE => (i, Object::None),
            tag::FALSE => (i, Object::False),
            tag::TRUE => (i, Object::True),
            tag::ELLIPSIS => (i, Object::Ellipsis),
            tag::STR => terminated(data(i)?).map(|(i, d)| (i, Object::Str(d)))?,
            tag::BYTES => terminated(data(i)?).map(|(i, d)| (i, Object::Bytes(d)))?,
            tag::INT => data(i).map(|(i, d)| (i, Object::Int(d)))?,
            tag::FLOAT => data(i).map(|(i, d)| (i, Object::Float(d)))?,
            tag::COMPLEX => data(i).map(|(i, d)| (i, Object::Complex(d)))?,
            _ => return None,
        })
    }

    /// Decodes `count` objects at `depth` (the constant table, or a tuple's items).
    pub(crate) fn decode_list(
        d: &mut Decoder<'a>,
        i: &'a [u8],
        count: usize,
        depth: usize,
    ) -> DResult<'a, Vec<Object<'a>>> {
        d.list_plain(i, count, Segment::Index, Object::decode_plain, |d, i| Object::decode(d, i, depth))
    }

    /// Decodes one object up to its tuple items, if any: a tuple at `depth` (checked against
    /// [`MAX_TUPLE_DEPTH`]) gives its item count, the items following at depth `depth + 1`.
    #[inline(always)]
    pub(crate) fn decode_head(d: &mut Decoder<'a>, i: &'a [u8], depth: usize) -> DResult<'a, Head<'a>> {
        let start = i;
        let (i, tag) = d.byte(i, "object tag")?;
        let simple = |o| Ok((i, Head::Whole(o)));
        match tag {
            tag::FUN_TABLE => simple(Object::FunTable),
            tag::NONE => simple(Object::None),
            tag::FALSE => simple(Object::False),
            tag::TRUE => simple(Object::True),
            tag::ELLIPSIS => simple(Object::Ellipsis),
            tag::STR | tag::BYTES => {
                let (what, length) =
                    if tag == tag::STR { ("str", "str length") } else { ("bytes", "bytes length") };
                let (i, len) = d.varuint(i, length)?;
                let (i, data) = d.bytes(i, len, what)?;
                let (i, ()) = d.terminator(i, what)?;
                let data = Cow::Borrowed(data);
                Ok((i, Head::Whole(if tag == tag::STR { Object::Str(data) } else { Object::Bytes(data) })))
            }
            tag::INT | tag::FLOAT | tag::COMPLEX => {
                let what = ["int", "float", "complex"][usize::from(tag - tag::INT)];
                let length = ["int length", "float length", "complex length"][usize::from(tag - tag::INT)];
                let (i, len) = d.varuint(i, length)?;
                let (i, text) = d.bytes(i, len, what)?;
                let text = Cow::Borrowed(text);
                let obj = match tag {
                    tag::INT => Object::Int(text),
                    tag::FLOAT => Object::Float(text),
                    _ => Object::Complex(text),
                };
                Ok((i, Head::Whole(obj)))
            }
            tag::TUPLE => {
                if depth >= MAX_TUPLE_DEPTH {
                    return Err(d.error(start, ErrorKind::TooDeep { what: "tuple", limit: MAX_TUPLE_DEPTH }));
                }
                let (i, count) = d.count(i, "tuple item")?;
                Ok((i, Head::Tuple(count)))
            }
            tag => Err(d.error(start, ErrorKind::UnknownObjectTag { tag })),
        }
    }

    /// Appends the encoding. Tuples nested deeper than the decoder accepts are refused, so the
    /// encoder never recurses without bound either.
    pub(crate) fn encode(&self, out: &mut Vec<u8>, depth: usize) -> Result<(), EncodeError> {
        out.push(self.tag());
        match self {
            Object::Str(b) | Object::Bytes(b) => {
                varuint::encode(b.len() as u64, out);
                out.extend_from_slice(b);
                out.push(0);
            }
            Object::Int(t) | Object::Float(t) | Object::Complex(t) => {
                varuint::encode(t.len() as u64, out);
                out.extend_from_slice(t);
            }
            Object::Tuple(items) => {
                if depth >= MAX_TUPLE_DEPTH {
                    let message = format!("tuples nested deeper than {MAX_TUPLE_DEPTH} levels");
                    return Err(EncodeError::here(message));
                }
                varuint::encode(items.len() as u64, out);
                for (k, item) in items.iter().enumerate() {
                    item.encode(out, depth + 1).map_err(|e| e.within(Segment::Index(k)))?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Parses a float repr as MicroPython prints it (`inf`, `-inf`, `nan` included).
fn parse_float(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Python-style repr: `'text'`, `b'\x00'`, `(1, 2.5)`, `None`.
impl fmt::Display for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::FunTable => f.write_str("<fun_table>"),
            Object::None => f.write_str("None"),
            Object::False => f.write_str("False"),
            Object::True => f.write_str("True"),
            Object::Ellipsis => f.write_str("Ellipsis"),
            Object::Str(b) => write_quoted(f, "", b, true),
            Object::Bytes(b) => write_quoted(f, "b", b, false),
            Object::Int(t) | Object::Float(t) | Object::Complex(t) => {
                f.write_str(&String::from_utf8_lossy(t))
            }
            Object::Tuple(items) => {
                f.write_str("(")?;
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(if items.len() == 1 { ",)" } else { ")" })
            }
        }
    }
}

/// Writes `bytes` as a Python literal. For `str`, valid UTF-8 is shown as text and each byte of an
/// invalid sequence as `\xNN`; for `bytes`, everything outside printable ASCII is escaped.
pub fn write_quoted(f: &mut impl fmt::Write, prefix: &str, bytes: &[u8], text: bool) -> fmt::Result {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') { '"' } else { '\'' };
    write!(f, "{prefix}{quote}")?;
    let escaped = |c: char| matches!(c, '\\' | '\n' | '\r' | '\t' | '\x00'..='\x1f' | '\x7f') || c == quote;
    let write_char = |f: &mut dyn fmt::Write, c: char| match c {
        '\\' => f.write_str("\\\\"),
        '\n' => f.write_str("\\n"),
        '\r' => f.write_str("\\r"),
        '\t' => f.write_str("\\t"),
        c if c == quote => write!(f, "\\{c}"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32),
        c => f.write_char(c),
    };
    if !text {
        for &b in bytes {
            if b.is_ascii() {
                write_char(f, char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        return f.write_char(quote);
    }
    for chunk in bytes.utf8_chunks() {
        // Runs of characters shown as they are go out in one piece.
        let (valid, mut run) = (chunk.valid(), 0);
        for (at, c) in valid.char_indices().filter(|&(_, c)| escaped(c)) {
            f.write_str(&valid[run..at])?;
            write_char(f, c)?;
            run = at + c.len_utf8();
        }
        f.write_str(&valid[run..])?;
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    f.write_char(quote)
}
