//! Every cap the decoder enforces, in one place.
//!
//! Counts read from a file (qstrs, objects, tuple items, children, relocation ops) are never trusted
//! for allocation: each entry needs at least one byte, so a count larger than the bytes left is an
//! error before anything is allocated. The caps below bound what that rule cannot: recursion. The
//! two depth caps also bound the memory of [`crate::view`], which keeps one frame per level.

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

/// Longest bytecode prelude signature accepted: one byte plus 32 continuation bytes, enough for
/// every field to reach 32 bits (F, K and D gain one bit per continuation byte). MicroPython's
/// decoder reads continuation bytes without end; the values must also fit `u32`.
pub const MAX_PRELUDE_SIG_BYTES: usize = 33;

/// Longest bytecode prelude size accepted: 32 bytes, enough for `n_cell` (one bit per byte) to
/// reach 32 bits; `n_info` and `n_cell` must also fit `u32` and the bytes left.
pub const MAX_PRELUDE_SIZE_BYTES: usize = 32;

/// Distinct abstract states the verifier follows per instruction before it rejects a function as
/// too irregular (compiler output needs at most a handful: `finally` handlers are entered with
/// one or two items). Bounds the verifier's work at this many passes over the code.
pub const MAX_VERIFY_STATES: usize = 16;

/// Longest bytecode (in bytes of code) the verifier's one-pass proof takes on; a longer function
/// goes straight to the exhaustive passes. The proof keeps about 48 bytes per byte of code (the
/// exhaustive passes about 20), so this bounds what it adds to 48 MiB; compiler output stays far
/// below (2-byte jump offsets reach 16 KiB).
pub const MAX_ONE_PASS_CODE: usize = 1 << 20;

/// How many times over its code the verifier's one-pass proof may go back to run a loop again
/// (compiler output: once per `while` loop body) before it leaves the function to the exhaustive
/// passes. Bounds that proof's work at this many passes.
pub const MAX_VERIFY_RESCANS: usize = 4;
