//! The bytecode layer: the contents of a bytecode raw code's `fun_data` (prelude, line-number
//! table, cells, instructions) and the prelude of `@micropython.native` functions.
//!
//! * [`BytecodeFunction::decode`] turns `fun_data` into a typed model; it never panics, and keeps
//!   everything needed to write the same bytes back ([`BytecodeFunction::encode_exact`]), including
//!   padded varuints, over-long prelude fields, jump widths and line-table entry forms. Unassigned
//!   opcodes decode (by their format) into instructions a verifier can reject.
//! * [`BytecodeView`] is the read-only path: the prelude read in place ([`PreludeView`]), the
//!   instructions decoded one at a time from the borrowed bytes ([`BytecodeView::instructions`]),
//!   nothing allocated.
//! * [`BytecodeFunction::encode_relaid`] recomputes jump widths and prelude sizes after edits
//!   ([`BytecodeFunction::map_qstr_indices`], [`BytecodeFunction::map_const_indices`],
//!   [`BytecodeFunction::strip_line_table`], ...).
//! * [`NativePrelude`] decodes and encodes the prelude at `fun_data[prelude_offset..]` of native
//!   code.
//! * [`disasm`] renders a function as text or as a structured listing.
//! * [`opcode`] is the opcode table, with stack and exception-block effects for the verifier.

mod error;
mod function;
mod instruction;
mod line_table;
mod op;
mod operand;
mod prelude;
mod reader;
mod view;

pub mod disasm;
pub mod opcode;

pub use error::{BytecodeEncodeError, BytecodeError, BytecodeErrorKind};
pub use function::{BytecodeFunction, Encoded, Layout};
pub use instruction::Instruction;
pub use line_table::{LineEntry, LineForm, LineTable};
pub use op::Op;
pub(crate) use op::small_int;
pub use opcode::{
    BlockEffect, Flow, Format, Multi, OpInfo, Opcode, OperandKind, StackDelta, StackEffect, StackRule,
};
pub use operand::{IntArg, Jump, JumpWidth, Operand, UintArg};
pub use prelude::{ArgNames, NativePrelude, Prelude, PreludeView, Signature};
pub use view::{BytecodeView, Instructions};

/// Decodes a bytecode `fun_data` (same as [`BytecodeFunction::decode`]).
pub fn decode(fun_data: &[u8]) -> Result<BytecodeFunction, BytecodeError> {
    BytecodeFunction::decode(fun_data)
}

#[cfg(test)]
mod tests;
