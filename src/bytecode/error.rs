//! Errors of the bytecode layer: decoding (what, at which byte offset inside `fun_data`) and
//! encoding (which value the format cannot hold).

use std::fmt;

/// Why a bytecode function (or a native prelude) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BytecodeErrorKind {
    /// The input ends inside a field.
    UnexpectedEnd {
        /// The field.
        what: &'static str,
    },
    /// The prelude signature or size has more continuation bytes than
    /// [`crate::limits::MAX_PRELUDE_SIG_BYTES`] / [`crate::limits::MAX_PRELUDE_SIZE_BYTES`].
    PreludeTooLong {
        /// `prelude signature` or `prelude size`.
        what: &'static str,
        /// The byte limit.
        limit: usize,
    },
    /// A value does not fit the model (prelude fields are `u32`, varuints `u64`, small ints `i64`)
    /// or a varuint is padded beyond [`crate::limits::MAX_VARUINT_BYTES`].
    Overflow {
        /// The field.
        what: &'static str,
    },
    /// `n_info` or `n_cell` asks for more bytes than `fun_data` has left.
    LengthExceedsInput {
        /// The field.
        what: &'static str,
        /// Its value.
        len: u64,
        /// Bytes left.
        left: usize,
    },
    /// The simple name and argument names do not fit inside the `n_info` bytes of the source-info
    /// section (`n_pos_args + n_kwonly_args + 1` names).
    NamesExceedInfo {
        /// Number of names the signature asks for.
        names: u64,
        /// `n_info`.
        n_info: u64,
    },
    /// The native prelude's offset is past the end of `fun_data`.
    PreludeOffsetOutOfRange {
        /// The offset.
        prelude_offset: u64,
        /// `fun_data.len()`.
        len: usize,
    },
}

impl fmt::Display for BytecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BytecodeErrorKind::UnexpectedEnd { what } => write!(f, "fun_data ends inside {what}"),
            BytecodeErrorKind::PreludeTooLong { what, limit } => {
                write!(f, "{what} is longer than {limit} bytes")
            }
            BytecodeErrorKind::Overflow { what } => write!(f, "{what} is too large"),
            BytecodeErrorKind::LengthExceedsInput { what, len, left } => {
                write!(f, "{what} {len} exceeds the {left} bytes left")
            }
            BytecodeErrorKind::NamesExceedInfo { names, n_info } => {
                write!(f, "{names} function and argument names do not fit in n_info = {n_info} bytes")
            }
            BytecodeErrorKind::PreludeOffsetOutOfRange { prelude_offset, len } => {
                write!(f, "prelude offset {prelude_offset} is past the end of fun_data ({len} bytes)")
            }
        }
    }
}

/// A decoding error: what, and the byte offset inside `fun_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BytecodeError {
    /// What went wrong.
    pub kind: BytecodeErrorKind,
    /// Byte offset inside `fun_data` of the field that failed.
    pub offset: usize,
}

impl BytecodeError {
    pub(crate) fn new(kind: BytecodeErrorKind, offset: usize) -> Self {
        BytecodeError { kind, offset }
    }
}

impl fmt::Display for BytecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at fun_data offset {:#x})", self.kind, self.offset)
    }
}

impl std::error::Error for BytecodeError {}

/// Why a bytecode model could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BytecodeEncodeError {
    /// `n_state` is 0 (the format stores `n_state - 1`).
    ZeroState,
    /// A jump offset does not fit even the 2-byte form (mpy-cross: "bytecode overflow"), or in
    /// [`super::Layout::Exact`] no longer fits the width it was decoded with.
    BytecodeOverflow {
        /// Index of the jump instruction.
        index: usize,
        /// Its code offset in the output.
        offset: usize,
        /// The relative offset that did not fit.
        relative: i64,
    },
    /// [`super::Layout::Relaid`] needs every jump to target the start of an instruction.
    TargetNotAnInstruction {
        /// Index of the jump instruction.
        index: usize,
        /// Its target (a code offset in the instructions' `offset` numbering).
        target: i64,
    },
    /// Instruction offsets (the labels jumps refer to) must increase, apart from
    /// [`super::Instruction::UNLABELLED`] ones.
    OffsetsNotIncreasing {
        /// Index of the instruction whose offset is out of order.
        index: usize,
    },
    /// An instruction's operand (or extra byte) is not of the kind its opcode reads.
    OperandMismatch {
        /// Index of the instruction.
        index: usize,
    },
    /// A line-table entry holds more than its form allows (short: 31 bytes, 3 lines; long:
    /// 15 bytes, 2047 lines).
    LineEntryOutOfRange {
        /// Index of the entry.
        index: usize,
    },
    /// A small int does not fit the signed varuint with the padding asked for, or a padded value is
    /// longer than the decoder would accept.
    OperandTooLong {
        /// Index of the instruction.
        index: usize,
    },
}

impl fmt::Display for BytecodeEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BytecodeEncodeError::ZeroState => f.write_str("n_state must be at least 1"),
            BytecodeEncodeError::BytecodeOverflow { index, offset, relative } => write!(
                f,
                "bytecode overflow: jump at instruction {index} (offset {offset}) cannot encode relative offset {relative}"
            ),
            BytecodeEncodeError::TargetNotAnInstruction { index, target } => write!(
                f,
                "jump at instruction {index} targets offset {target}, which is not the start of an instruction"
            ),
            BytecodeEncodeError::OffsetsNotIncreasing { index } => {
                write!(f, "instruction {index} has an offset that does not increase")
            }
            BytecodeEncodeError::OperandMismatch { index } => {
                write!(f, "instruction {index}: operand does not match its opcode")
            }
            BytecodeEncodeError::LineEntryOutOfRange { index } => {
                write!(f, "line-table entry {index} does not fit its form")
            }
            BytecodeEncodeError::OperandTooLong { index } => {
                write!(f, "instruction {index}: operand encoding too long")
            }
        }
    }
}

impl std::error::Error for BytecodeEncodeError {}

impl From<BytecodeEncodeError> for crate::error::EncodeError {
    fn from(e: BytecodeEncodeError) -> Self {
        crate::error::EncodeError { path: crate::error::Path::default(), message: e.to_string() }
    }
}
