//! The relocation op stream of a native raw code (`mp_native_relocate`), as typed ops.
//!
//! The loader keeps a cursor (a word pointer into text or rodata, NULL at first). Each op may first
//! move the cursor, then adds a destination address to `count` consecutive words, advancing the
//! cursor. The stream ends with `0xFF`. In the file it follows the raw code's children.

use crate::decoder::{DResult, Decoder};
use crate::error::{EncodeError, Segment};
use crate::varuint;

/// The byte that ends the stream.
pub const TERMINATOR: u8 = 0xff;

/// Where a cursor move points: a word offset into text or into rodata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Region {
    Text,
    Rodata,
}

/// A cursor move: `region + word_offset` machine words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Cursor {
    pub region: Region,
    pub word_offset: u64,
}

/// A section whose base address can be added, possibly to several words in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Section {
    Text,
    Rodata,
    Bss,
}

/// What an op adds to the word(s) at the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Target {
    /// The base of a section, added to `count` words (`None`: one word, no count written; `Some(n)`:
    /// a count varuint is written, as mpy_ld does for n > 1).
    Base { section: Section, count: Option<u64> },
    /// The address of the module's qstr table.
    QstrTable,
    /// The address of the module's constant object table.
    ObjTable,
    /// The address of `mp_fun_table` itself.
    FunTable,
    /// The value of `mp_fun_table[index]` (index 0..=118 fits the op byte).
    FunTableEntry(u8),
}

impl Target {
    /// How many words this op adjusts.
    pub fn words(&self) -> u64 {
        match self {
            Target::Base { count: Some(n), .. } => *n,
            _ => 1,
        }
    }
}

/// One relocation op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RelocOp {
    /// A cursor move done before the adds (`None`: continue where the previous op stopped).
    pub cursor: Option<Cursor>,
    pub target: Target,
}

impl RelocOp {
    /// The op byte: `k << 1 | has_cursor`, where `k` names the target.
    pub fn op_byte(&self) -> Option<u8> {
        let k: u16 = match self.target {
            Target::Base { section, count } => {
                let s = match section {
                    Section::Text => 0,
                    Section::Rodata => 1,
                    Section::Bss => 2,
                };
                s << 1 | u16::from(count.is_some())
            }
            Target::QstrTable => 6,
            Target::ObjTable => 7,
            Target::FunTable => 8,
            Target::FunTableEntry(e) => 9 + u16::from(e),
        };
        let op = k << 1 | u16::from(self.cursor.is_some());
        u8::try_from(op).ok().filter(|&b| b != TERMINATOR)
    }
}

/// Decodes ops up to and including the terminator.
pub(crate) fn decode_stream<'a>(d: &mut Decoder<'a>, mut i: &'a [u8]) -> DResult<'a, Vec<RelocOp>> {
    // Count first, so that the list is allocated once at its exact size.
    let mut ops = Vec::with_capacity(count_ops(i));
    d.within(Segment::Field("relocs"), |d| {
        loop {
            match decode_next(d, i, ops.len())? {
                (rest, None) => return Ok((rest, ops)),
                (rest, Some(op)) => {
                    ops.push(op);
                    i = rest;
                }
            }
        }
    })
}

/// Decodes op `index` of a stream (its path segment), or the terminator (`None`).
pub(crate) fn decode_next<'a>(
    d: &mut Decoder<'a>,
    i: &'a [u8],
    index: usize,
) -> DResult<'a, Option<RelocOp>> {
    let what = "relocation op stream (no 0xff terminator)";
    let (rest, op) = d.within(Segment::Index(index), |d| d.byte(i, what))?;
    if op == TERMINATOR {
        return Ok((rest, None));
    }
    let (rest, decoded) = d.within(Segment::Index(index), |d| decode_op(d, rest, op))?;
    Ok((rest, Some(decoded)))
}

/// The number of ops before the terminator (or before the stream breaks off).
fn count_ops(mut i: &[u8]) -> usize {
    let mut n = 0;
    while let Some((&op, mut rest)) = i.split_first() {
        if op == TERMINATOR {
            break;
        }
        let k = op >> 1;
        let operands = usize::from(op & 1) + usize::from(k <= 5 && k & 1 == 1);
        for _ in 0..operands {
            match varuint::decode(rest) {
                Ok((r, _)) => rest = r,
                Err(_) => return n,
            }
        }
        n += 1;
        i = rest;
    }
    n
}

fn decode_op<'a>(d: &mut Decoder<'a>, i: &'a [u8], op: u8) -> DResult<'a, RelocOp> {
    let (i, cursor) = if op & 1 == 1 {
        let (i, addr) = d.varuint(i, "relocation cursor")?;
        let region = if addr & 1 == 1 { Region::Rodata } else { Region::Text };
        (i, Some(Cursor { region, word_offset: addr >> 1 }))
    } else {
        (i, None)
    };
    let k = op >> 1;
    let (i, target) = match k {
        0..=5 => {
            let section = [Section::Text, Section::Rodata, Section::Bss][usize::from(k >> 1)];
            let (i, count) = if k & 1 == 1 {
                let (i, n) = d.varuint(i, "relocation count")?;
                (i, Some(n))
            } else {
                (i, None)
            };
            (i, Target::Base { section, count })
        }
        6 => (i, Target::QstrTable),
        7 => (i, Target::ObjTable),
        8 => (i, Target::FunTable),
        _ => (i, Target::FunTableEntry(k - 9)),
    };
    Ok((i, RelocOp { cursor, target }))
}

/// Appends the ops and the terminator.
pub(crate) fn encode_stream(ops: &[RelocOp], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    for (k, op) in ops.iter().enumerate() {
        op.encode(out).map_err(|e| e.within(Segment::Index(k)).within(Segment::Field("relocs")))?;
    }
    out.push(TERMINATOR);
    Ok(())
}

impl RelocOp {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let byte = self.op_byte().ok_or_else(|| {
            EncodeError::here(format!("{:?} does not fit a relocation op byte", self.target))
        })?;
        out.push(byte);
        if let Some(c) = self.cursor {
            let base = u64::from(c.region == Region::Rodata);
            let addr = c
                .word_offset
                .checked_mul(2)
                .ok_or_else(|| EncodeError::here("cursor word offset too large"))?;
            varuint::encode(addr | base, out);
        }
        if let Target::Base { count: Some(n), .. } = self.target {
            varuint::encode(n, out);
        }
        Ok(())
    }
}

/// Sizes of the buffers a relocation stream writes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelocSpace {
    pub word_size: usize,
    pub text_len: usize,
    pub rodata_len: usize,
}

/// A write the loader would make outside its buffers, or without a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelocViolation {
    /// Index of the offending op.
    pub op: usize,
    pub message: String,
}

/// Simulates the loader's cursor over `ops` and reports the first write that would land outside
/// text or rodata (word-sized, so a partial word at the end counts as out of bounds), or that would
/// go through the NULL cursor (micropython#18645). Runs in time linear in the number of ops, not in
/// the repeat counts.
pub fn check_bounds(ops: &[RelocOp], space: RelocSpace) -> Result<(), RelocViolation> {
    let words = |len: usize| (len / space.word_size.max(1)) as u64;
    let mut cursor: Option<(Region, u64)> = None;
    for (k, op) in ops.iter().enumerate() {
        if let Some(c) = op.cursor {
            cursor = Some((c.region, c.word_offset));
        }
        if op.target.words() == 0 {
            // A zero-count op writes nothing, wherever the cursor points (the loader's `while (n--)`).
            continue;
        }
        let Some((region, at)) = cursor else {
            return Err(RelocViolation {
                op: k,
                message: "relocation before any cursor move (NULL cursor)".into(),
            });
        };
        let (name, limit) = match region {
            Region::Text => ("text", words(space.text_len)),
            Region::Rodata => ("rodata", words(space.rodata_len)),
        };
        let end = at.checked_add(op.target.words());
        match end {
            Some(end) if end <= limit => cursor = Some((region, end)),
            _ => {
                return Err(RelocViolation {
                    op: k,
                    message: format!(
                        "writes {} word(s) at word {at} of {name}, which has {limit} whole words",
                        op.target.words()
                    ),
                });
            }
        }
    }
    Ok(())
}
