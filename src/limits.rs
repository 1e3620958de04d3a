//! Every cap the decoder enforces, in one place.
//!
//! Counts read from a file (qstrs, objects, tuple items, children, relocation ops) are never trusted
//! for allocation: each entry needs at least one byte, so a count larger than the bytes left is an
//! error before anything is allocated. The caps below bound what that rule cannot: recursion.

/// Deepest nesting of raw codes (module → function → closure → ...). CPython's own parser stops far
/// earlier; MicroPython's compiler recursion ends well below this on every port.
pub const MAX_RAW_CODE_DEPTH: usize = 128;

/// Deepest nesting of constant tuples inside the object table.
pub const MAX_TUPLE_DEPTH: usize = 128;

/// Largest number of bytes a varuint may take before it is refused outright, whatever its value.
/// MicroPython writes at most 10 (a 64-bit value); the C reader accepts any number of leading
/// `0x80` bytes, so a decoder that follows it must allow padding, but not without end: this keeps a
/// single field from making the work per field unbounded in the *number of fields*.
pub const MAX_VARUINT_BYTES: usize = 64;

/// Deepest nesting of exception handlers, loops and `with` blocks the verifier follows in one
/// function (its abstract interpretation keeps one frame per level).
pub const MAX_BLOCK_DEPTH: usize = 1024;
