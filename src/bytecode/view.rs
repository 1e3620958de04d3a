//! A bytecode function read in place: the prelude decoded in place ([`PreludeView`]), the line
//! table checked, and the instructions decoded one at a time from the borrowed code bytes; nothing
//! is allocated.
//!
//! This is the read-only path of the layer (the verifier and the benchmarks use it); the owned
//! model, [`BytecodeFunction`](super::BytecodeFunction), is built from it.

use super::error::BytecodeError;
use super::instruction::Instruction;
use super::line_table::LineTable;
use super::op::Op;
use super::prelude::PreludeView;
use super::reader::Reader;

/// A decoded prelude and the undecoded code of a bytecode `fun_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BytecodeView<'a> {
    /// Signature, names and cells, borrowed from `fun_data`.
    pub prelude: PreludeView<'a>,
    line_info: &'a [u8],
    line_info_offset: usize,
    code: &'a [u8],
    code_start: usize,
}

impl<'a> BytecodeView<'a> {
    /// Decodes the prelude of `fun_data` and checks its line table; the instructions are decoded
    /// by [`BytecodeView::instructions`]. The errors are those of
    /// [`BytecodeFunction::decode`](super::BytecodeFunction::decode) before the first instruction.
    pub fn decode(fun_data: &'a [u8]) -> Result<Self, BytecodeError> {
        let d = PreludeView::decode(fun_data, 0)?;
        LineTable::validate(d.line_info, d.line_info_offset)?;
        Ok(BytecodeView {
            prelude: d.prelude,
            line_info: d.line_info,
            line_info_offset: d.line_info_offset,
            code: &fun_data[d.end..],
            code_start: d.end,
        })
    }

    /// Offset in `fun_data` of the first opcode (code offset 0).
    pub fn code_start(&self) -> usize {
        self.code_start
    }

    /// The instruction bytes.
    pub fn code(&self) -> &'a [u8] {
        self.code
    }

    /// The line table, decoded (it was checked by [`BytecodeView::decode`]).
    pub fn line_table(&self) -> LineTable {
        LineTable::decode(self.line_info, self.line_info_offset).unwrap_or_default()
    }

    /// The instructions in order, each decoded when asked for; after an error, nothing more.
    pub fn instructions(&self) -> Instructions<'a> {
        Instructions {
            r: Reader::new(self.code, self.code_start),
            code_start: self.code_start,
            failed: false,
        }
    }

    /// The instruction at code offset `offset` (which should be the start of one), in the compact
    /// read-only form.
    #[inline]
    pub fn op_at(&self, offset: usize) -> Result<Op, BytecodeError> {
        Op::decode(self.code, offset, self.code_start)
    }
}

/// Iterator over the instructions of a [`BytecodeView`].
#[derive(Debug, Clone)]
pub struct Instructions<'a> {
    r: Reader<'a>,
    code_start: usize,
    failed: bool,
}

impl Iterator for Instructions<'_> {
    type Item = Result<Instruction, BytecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.is_empty() {
            return None;
        }
        let next = Instruction::decode(&mut self.r, self.code_start);
        self.failed = next.is_err();
        Some(next)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = if self.failed { 0 } else { self.r.left() };
        (usize::from(left > 0), Some(left))
    }
}

impl std::iter::FusedIterator for Instructions<'_> {}
