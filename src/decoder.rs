//! The decoding context shared by every format module: where we are (offset and path), the mode
//! (lenient or strict), and the irregularities found so far.
//!
//! Each format module decodes its own concept with nom parsers; this context wraps the primitives so
//! that every failure becomes an [`Error`] with a byte offset and a path, and so that every count is
//! checked against the bytes left before anything is allocated.

use crate::error::{Error, ErrorKind, Fail, Irregularity, IrregularityKind, Path, Segment};
use crate::varuint;

/// How strictly to decode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Reject what MicroPython accepts but the canonical encoder would not reproduce (padded
    /// varuints, trailing bytes, an empty child list behind a has-children bit, a non-NUL
    /// terminator) instead of recording it as an [`Irregularity`].
    pub strict: bool,
}

/// The result of a decode: the input is consumed up to here, and the value.
pub(crate) type DResult<'a, T> = Result<(&'a [u8], T), Error>;

/// One field of the file as read: its byte range, where it is, and what it is. Recorded only when
/// asked for ([`crate::Module::decode_with_spans`]), for annotated dumps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpan {
    pub start: usize,
    pub end: usize,
    pub path: Path,
    pub what: &'static str,
}

/// The first `len` bytes of `i` and the rest, if it has that many.
#[inline]
pub(crate) fn split(i: &[u8], len: u64) -> Option<(&[u8], &[u8])> {
    usize::try_from(len).ok().and_then(|n| i.split_at_checked(n))
}

pub(crate) struct Decoder<'a> {
    whole: &'a [u8],
    options: DecodeOptions,
    pub(crate) path: Path,
    pub(crate) irregularities: Vec<Irregularity>,
    /// How many irregularities were found, kept or not.
    pub(crate) irregularity_count: usize,
    /// How many to keep in `irregularities` (all by default; the view keeps the first only, so
    /// that its memory does not grow with the input).
    pub(crate) keep_irregularities: usize,
    pub(crate) spans: Option<Vec<FieldSpan>>,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(whole: &'a [u8], options: DecodeOptions) -> Self {
        Decoder {
            whole,
            options,
            path: Path::default(),
            irregularities: Vec::new(),
            irregularity_count: 0,
            keep_irregularities: usize::MAX,
            spans: None,
        }
    }

    /// Records the field that starts at `from` and ends where `rest` begins.
    #[inline]
    fn span(&mut self, from: &[u8], rest: &[u8], what: &'static str) {
        if let Some(spans) = &mut self.spans {
            let (start, end) = (self.whole.len() - from.len(), self.whole.len() - rest.len());
            spans.push(FieldSpan { start, end, path: self.path.clone(), what });
        }
    }

    /// The whole input.
    pub(crate) fn whole(&self) -> &'a [u8] {
        self.whole
    }

    /// Absolute offset of `rest`, a suffix of the whole input.
    pub(crate) fn offset(&self, rest: &[u8]) -> usize {
        self.whole.len() - rest.len()
    }

    pub(crate) fn error(&self, at: &[u8], kind: ErrorKind) -> Error {
        Error { kind, offset: self.offset(at), path: self.path.clone() }
    }

    /// Records an irregularity at `at`, or fails in strict mode.
    pub(crate) fn irregular(&mut self, at: &[u8], kind: IrregularityKind) -> Result<(), Error> {
        if self.options.strict {
            return Err(self.error(at, ErrorKind::Irregular(kind)));
        }
        self.irregularity_count += 1;
        if self.irregularities.len() >= self.keep_irregularities {
            return Ok(());
        }
        let offset = self.offset(at);
        self.irregularities.push(Irregularity { kind, offset, path: self.path.clone() });
        Ok(())
    }

    /// Runs `f` with `segment` appended to the path.
    #[inline]
    pub(crate) fn within<T>(&mut self, segment: Segment, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(segment);
        let out = f(self);
        self.path.pop();
        out
    }

    /// Decodes `count` entries with `f`, each with `segment(k)` appended to the path: one push for
    /// the whole list, the last segment overwritten per entry.
    #[inline]
    pub(crate) fn list<T>(
        &mut self,
        mut i: &'a [u8],
        count: usize,
        segment: fn(usize) -> Segment,
        mut f: impl FnMut(&mut Self, &'a [u8]) -> DResult<'a, T>,
    ) -> DResult<'a, Vec<T>> {
        let mut items = Vec::with_capacity(count);
        self.path.push(segment(0));
        for k in 0..count {
            if let Some(last) = self.path.0.last_mut() {
                *last = segment(k);
            }
            match f(self, i) {
                Ok((rest, item)) => {
                    items.push(item);
                    i = rest;
                }
                Err(e) => {
                    self.path.pop();
                    return Err(e);
                }
            }
        }
        self.path.pop();
        Ok((i, items))
    }

    /// Like [`Decoder::list`], for entries most of which `plain` reads on its own: their common,
    /// canonical shapes, which have nothing to record. `f` reads the others (with the entry's
    /// segment on the path, for what it reports), and every entry when spans are recorded. `plain`
    /// must read exactly what `f` would read from the entries it accepts: `tests/view.rs` and the
    /// `decode` fuzz target hold the tree to the view and to [`crate::Module::decode_with_spans`],
    /// which read every entry with `f`.
    #[inline]
    pub(crate) fn list_plain<T>(
        &mut self,
        mut i: &'a [u8],
        count: usize,
        segment: fn(usize) -> Segment,
        plain: impl Fn(&'a [u8]) -> Option<(&'a [u8], T)>,
        mut f: impl FnMut(&mut Self, &'a [u8]) -> DResult<'a, T>,
    ) -> DResult<'a, Vec<T>> {
        if self.spans.is_some() {
            return self.list(i, count, segment, f);
        }
        let mut items = Vec::with_capacity(count);
        for k in 0..count {
            let (rest, item) = match plain(i) {
                Some(read) => read,
                None => self.within(segment(k), |d| f(d, i))?,
            };
            items.push(item);
            i = rest;
        }
        Ok((i, items))
    }

    /// Like [`Decoder::list`], but keeps nothing: checks `count` entries with `f`. (A loop of its
    /// own: `list` written over this one inlines less well on the hot path.)
    #[inline]
    pub(crate) fn each(
        &mut self,
        mut i: &'a [u8],
        count: usize,
        segment: fn(usize) -> Segment,
        mut f: impl FnMut(&mut Self, &'a [u8]) -> DResult<'a, ()>,
    ) -> DResult<'a, ()> {
        self.path.push(segment(0));
        for k in 0..count {
            if let Some(last) = self.path.0.last_mut() {
                *last = segment(k);
            }
            match f(self, i) {
                Ok((rest, ())) => i = rest,
                Err(e) => {
                    self.path.pop();
                    return Err(e);
                }
            }
        }
        self.path.pop();
        Ok((i, ()))
    }

    #[inline]
    pub(crate) fn byte(&mut self, i: &'a [u8], what: &'static str) -> DResult<'a, u8> {
        let Some((&b, rest)) = i.split_first() else {
            return Err(self.error(i, ErrorKind::UnexpectedEnd { what }));
        };
        self.span(i, rest, what);
        Ok((rest, b))
    }

    /// A varuint; a padded one is recorded as an irregularity.
    #[inline]
    pub(crate) fn varuint(&mut self, i: &'a [u8], what: &'static str) -> DResult<'a, u64> {
        // The common cases, inlined at every call: one or two bytes (counts, lengths, qstr heads,
        // `kind_len`), not padded, no span to record.
        if self.spans.is_none()
            && let Some(read) = varuint::short(i)
        {
            return Ok(read);
        }
        self.varuint_general(i, what)
    }

    #[inline(never)]
    fn varuint_general(&mut self, i: &'a [u8], what: &'static str) -> DResult<'a, u64> {
        match varuint::decode(i) {
            Ok((rest, v)) => {
                if !v.canonical {
                    self.irregular(i, IrregularityKind::NonMinimalVarUint { what })?;
                }
                self.span(i, rest, what);
                Ok((rest, v.value))
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(self.error(
                i,
                match e.fail {
                    Fail::Eof => ErrorKind::UnexpectedEnd { what },
                    Fail::Overflow => ErrorKind::VarUintOverflow { what },
                },
            )),
            Err(nom::Err::Incomplete(_)) => Err(self.error(i, ErrorKind::UnexpectedEnd { what })),
        }
    }

    /// `len` bytes, after checking that they are there.
    #[inline]
    pub(crate) fn bytes(&mut self, i: &'a [u8], len: u64, what: &'static str) -> DResult<'a, &'a [u8]> {
        let too_long = || self.error(i, ErrorKind::LengthExceedsInput { what, len, left: i.len() });
        let Some((taken, rest)) = split(i, len) else {
            return Err(too_long());
        };
        self.span(i, rest, what);
        Ok((rest, taken))
    }

    /// `len` bytes that are a field of their own, named `field` (on the path while they are read).
    #[inline]
    pub(crate) fn field_bytes(
        &mut self,
        i: &'a [u8],
        len: u64,
        field: &'static str,
    ) -> DResult<'a, &'a [u8]> {
        // Without spans, the path matters only for an error.
        if self.spans.is_none()
            && let Some((taken, rest)) = split(i, len)
        {
            return Ok((rest, taken));
        }
        self.within(Segment::Field(field), |d| d.bytes(i, len, field))
    }

    /// A count of entries that each take at least one byte: refused when larger than the bytes
    /// left, so that allocating `count` entries is always justified by the input.
    #[inline]
    pub(crate) fn count(&mut self, i: &'a [u8], what: &'static str) -> DResult<'a, usize> {
        let (rest, count) = self.varuint(i, what)?;
        match usize::try_from(count) {
            Ok(n) if n <= rest.len() => Ok((rest, n)),
            _ => Err(self.error(i, ErrorKind::CountExceedsInput { what, count, left: rest.len() })),
        }
    }

    /// A byte that should be NUL (string, bytes and qstr terminators).
    #[inline(always)]
    pub(crate) fn terminator(&mut self, i: &'a [u8], what: &'static str) -> DResult<'a, ()> {
        let Some((&found, rest)) = i.split_first() else {
            return Err(self.error(i, ErrorKind::UnexpectedEnd { what }));
        };
        self.span(i, rest, "terminator");
        if found != 0 {
            self.irregular(i, IrregularityKind::NonNulTerminator { what, found })?;
        }
        Ok((rest, ()))
    }
}
