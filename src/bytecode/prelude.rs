//! The function prelude: signature (`MP_BC_PRELUDE_SIG_*`), size (`MP_BC_PRELUDE_SIZE_*`), the
//! simple name and argument names, and the cell bytes; shared by bytecode functions and by
//! `@micropython.native` functions, whose prelude sits at `fun_data[prelude_offset..]`.

use super::error::{BytecodeEncodeError, BytecodeError, BytecodeErrorKind};
use super::line_table::LineTable;
use super::operand::UintArg;
use super::reader::Reader;
use crate::flags::ScopeFlags;
use crate::limits::{MAX_PRELUDE_SIG_BYTES, MAX_PRELUDE_SIZE_BYTES};
use crate::varuint;

/// The six values of the prelude signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Signature {
    /// Locals plus value stack (the file stores `n_state - 1`; the compiler writes at least 1).
    pub n_state: u32,
    /// Depth of the exception-handler stack.
    pub n_exc_stack: u32,
    /// The scope flags in the signature (4 bits in everything MicroPython writes; others kept).
    pub scope_flags: ScopeFlags,
    /// Positional arguments, including the closed-over cells a closure receives first.
    pub n_pos_args: u32,
    /// Keyword-only arguments.
    pub n_kwonly_args: u32,
    /// Positional arguments with defaults.
    pub n_def_pos_args: u32,
}

impl Signature {
    /// The tuple mpy-tool prints as `prelude:` (n_state, n_exc_stack, scope_flags, n_pos_args,
    /// n_kwonly_args, n_def_pos_args).
    pub fn as_tuple(&self) -> (u32, u32, u32, u32, u32, u32) {
        (
            self.n_state,
            self.n_exc_stack,
            self.scope_flags.bits(),
            self.n_pos_args,
            self.n_kwonly_args,
            self.n_def_pos_args,
        )
    }

    /// Number of argument names in the source-info section (`n_pos_args + n_kwonly_args`).
    pub fn n_arg_names(&self) -> u64 {
        u64::from(self.n_pos_args) + u64::from(self.n_kwonly_args)
    }

    /// Decodes a signature. Values above `u32` (and `n_state - 1 == u32::MAX`) are errors, as is a
    /// signature longer than [`MAX_PRELUDE_SIG_BYTES`]; returns the signature and its padding
    /// (bytes beyond the minimal encoding).
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<(Signature, u8), BytecodeError> {
        const WHAT: &str = "prelude signature";
        let start = r.offset();
        let z = r.byte(WHAT)?;
        if z & 0x80 == 0 {
            // One byte (most functions): every value is small and the encoding minimal.
            let sig = Signature {
                n_state: u32::from((z >> 3) & 0xf) + 1,
                n_exc_stack: u32::from((z >> 2) & 1),
                scope_flags: ScopeFlags::empty(),
                n_pos_args: u32::from(z & 3),
                n_kwonly_args: 0,
                n_def_pos_args: 0,
            };
            return Ok((sig, 0));
        }
        if let Some(&z1) = r.rest().first().filter(|&&z1| z1 & 0x80 == 0) {
            // Two bytes (generators, functions with defaults or more locals): still small values;
            // the second byte is padding when it carries no bits.
            r.skip(1);
            let sig = Signature {
                n_state: u32::from((z >> 3) & 0xf | (z1 & 0x30)) + 1,
                n_exc_stack: u32::from((z >> 2) & 1 | (z1 & 0x02)),
                scope_flags: ScopeFlags::from_bits_retain(u32::from((z1 & 0x40) >> 6)),
                n_pos_args: u32::from(z & 3 | (z1 & 0x04)),
                n_kwonly_args: u32::from((z1 & 0x08) >> 3),
                n_def_pos_args: u32::from(z1 & 0x01),
            };
            return Ok((sig, u8::from(z1 == 0)));
        }
        // Accumulate in u128: with the byte cap, S reaches bit 4 + 2 * 32 = 68.
        let mut s = u128::from((z >> 3) & 0xf);
        let mut e = u128::from((z >> 2) & 1);
        let mut f = 0u128;
        let mut a = u128::from(z & 3);
        let mut k = 0u128;
        let mut d = 0u128;
        let mut z = z;
        let mut n = 0u32;
        // Bytes up to the last continuation byte that carries bits: the minimal encoding (every
        // byte the encoder writes after the first carries some); the rest is padding.
        let mut minimal = 1u32;
        while z & 0x80 != 0 {
            if n as usize + 1 >= MAX_PRELUDE_SIG_BYTES {
                return Err(BytecodeError::new(
                    BytecodeErrorKind::PreludeTooLong { what: WHAT, limit: MAX_PRELUDE_SIG_BYTES },
                    start,
                ));
            }
            z = r.byte(WHAT)?;
            let zz = u128::from(z);
            s |= (zz & 0x30) << (2 * n);
            e |= (zz & 0x02) << n;
            f |= ((zz & 0x40) >> 6) << n;
            a |= (zz & 0x04) << n;
            k |= ((zz & 0x08) >> 3) << n;
            d |= (zz & 0x01) << n;
            n += 1;
            if z & 0x7f != 0 {
                minimal = n + 1;
            }
        }
        let overflow = || BytecodeError::new(BytecodeErrorKind::Overflow { what: WHAT }, start);
        let small = |v: u128| u32::try_from(v).map_err(|_| overflow());
        let sig = Signature {
            n_state: u32::try_from(s + 1).map_err(|_| overflow())?,
            n_exc_stack: small(e)?,
            scope_flags: ScopeFlags::from_bits_retain(small(f)?),
            n_pos_args: small(a)?,
            n_kwonly_args: small(k)?,
            n_def_pos_args: small(d)?,
        };
        Ok((sig, (n + 1 - minimal) as u8))
    }

    /// Appends the minimal encoding followed by `pad` zero continuation bytes.
    pub(crate) fn encode(&self, pad: u8, out: &mut Vec<u8>) -> Result<(), BytecodeEncodeError> {
        if self.n_state == 0 {
            return Err(BytecodeEncodeError::ZeroState);
        }
        let mut s = u64::from(self.n_state - 1);
        let mut e = u64::from(self.n_exc_stack);
        let mut f = u64::from(self.scope_flags.bits());
        let mut a = u64::from(self.n_pos_args);
        let mut k = u64::from(self.n_kwonly_args);
        let mut d = u64::from(self.n_def_pos_args);
        let mut z = ((s & 0xf) << 3 | (e & 1) << 2 | (a & 3)) as u8;
        s >>= 4;
        e >>= 1;
        a >>= 2;
        while s | e | f | a | k | d != 0 {
            out.push(0x80 | z);
            z = ((f & 1) << 6 | (s & 3) << 4 | (k & 1) << 3 | (a & 1) << 2 | (e & 1) << 1 | (d & 1)) as u8;
            s >>= 2;
            e >>= 1;
            f >>= 1;
            a >>= 1;
            k >>= 1;
            d >>= 1;
        }
        push_padded(z, pad, out);
        Ok(())
    }

    /// Length of the minimal encoding: one byte, then one continuation byte per bit of the widest
    /// remaining field (`S` gives two bits per byte after its first four). The decoder finds the
    /// padding from the bytes themselves; the tests check it against this.
    #[cfg(test)]
    pub(crate) fn encoded_len(&self) -> Result<usize, BytecodeEncodeError> {
        if self.n_state == 0 {
            return Err(BytecodeEncodeError::ZeroState);
        }
        let bits = |v: u64| (64 - v.leading_zeros()) as usize;
        let continuation = [
            bits(u64::from(self.n_state - 1) >> 4).div_ceil(2),
            bits(u64::from(self.n_exc_stack) >> 1),
            bits(u64::from(self.scope_flags.bits())),
            bits(u64::from(self.n_pos_args) >> 2),
            bits(u64::from(self.n_kwonly_args)),
            bits(u64::from(self.n_def_pos_args)),
        ];
        Ok(1 + continuation.into_iter().max().unwrap_or(0))
    }
}

/// Pushes the last byte of a minimal encoding, turned into `pad` more continuation bytes that carry
/// no bits.
fn push_padded(last: u8, pad: u8, out: &mut Vec<u8>) {
    if pad == 0 {
        out.push(last);
    } else {
        out.push(last | 0x80);
        out.extend(std::iter::repeat_n(0x80, usize::from(pad) - 1));
        out.push(0x00);
    }
}

/// Decodes a prelude size: (n_info, n_cell, padding). Capped at [`MAX_PRELUDE_SIZE_BYTES`] bytes;
/// values must fit `u32`.
pub(crate) fn decode_size(r: &mut Reader<'_>) -> Result<(u32, u32, u8), BytecodeError> {
    const WHAT: &str = "prelude size";
    let start = r.offset();
    let z = r.byte(WHAT)?;
    if z & 0x80 == 0 {
        // One byte (most functions): minimal by construction.
        return Ok((u32::from((z & 0x7e) >> 1), u32::from(z & 1), 0));
    }
    let mut info = u128::from((z & 0x7e) >> 1);
    let mut cell = u128::from(z & 1);
    let mut n = 1u32;
    // As for the signature: the bytes up to the last one that carries bits are the minimal
    // encoding, the rest padding.
    let mut minimal = 1u32;
    loop {
        if n as usize >= MAX_PRELUDE_SIZE_BYTES {
            return Err(BytecodeError::new(
                BytecodeErrorKind::PreludeTooLong { what: WHAT, limit: MAX_PRELUDE_SIZE_BYTES },
                start,
            ));
        }
        let z = r.byte(WHAT)?;
        cell |= u128::from(z & 1) << n;
        let payload = u128::from((z & 0x7e) >> 1);
        if payload != 0 {
            if 6 * n >= 64 {
                return Err(BytecodeError::new(BytecodeErrorKind::Overflow { what: WHAT }, start));
            }
            info |= payload << (6 * n);
        }
        n += 1;
        if z & 0x7f != 0 {
            minimal = n;
        }
        if z & 0x80 == 0 {
            break;
        }
    }
    let overflow = || BytecodeError::new(BytecodeErrorKind::Overflow { what: WHAT }, start);
    let n_info = u32::try_from(info).map_err(|_| overflow())?;
    let n_cell = u32::try_from(cell).map_err(|_| overflow())?;
    Ok((n_info, n_cell, (n - minimal) as u8))
}

/// Appends the prelude size: at least one byte, continuing while bits of either value remain.
pub(crate) fn encode_size(n_info: u64, n_cell: u64, pad: u8, out: &mut Vec<u8>) {
    let (mut i, mut c) = (n_info, n_cell);
    loop {
        let z = ((i & 0x3f) << 1 | (c & 1)) as u8;
        c >>= 1;
        i >>= 6;
        if c | i != 0 {
            out.push(z | 0x80);
        } else {
            push_padded(z, pad, out);
            return;
        }
    }
}

#[cfg(test)]
fn size_encoded_len(n_info: u64, n_cell: u64) -> usize {
    // As `encode_size` does, counting instead of writing.
    let (mut i, mut c, mut len) = (n_info >> 6, n_cell >> 1, 1);
    while c | i != 0 {
        len += 1;
        c >>= 1;
        i >>= 6;
    }
    len
}

/// Everything before the instructions that the two prelude kinds share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prelude {
    /// The signature.
    pub signature: Signature,
    /// Zero-payload continuation bytes after the minimal signature (0 from mpy-cross).
    pub signature_pad: u8,
    /// Zero-payload continuation bytes after the minimal prelude size (0 from mpy-cross). The sizes
    /// themselves are not stored: they follow from the names, line table and cells.
    pub size_pad: u8,
    /// The function's name, as a qstr-table index.
    pub simple_name: UintArg,
    /// The argument names (qstr-table indices), `n_pos_args + n_kwonly_args` of them; closures'
    /// closed-over cells come first and are named `*`.
    pub arg_names: Vec<UintArg>,
    /// One byte per cell: the local slot to turn into a cell on entry.
    pub cells: Vec<u8>,
}

/// A prelude read in place from `fun_data`: the signature and sizes decoded, the names checked,
/// nothing allocated. [`PreludeView::to_prelude`] gives the owned [`Prelude`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PreludeView<'a> {
    /// The signature.
    pub signature: Signature,
    /// Zero-payload continuation bytes after the minimal signature.
    pub signature_pad: u8,
    /// Zero-payload continuation bytes after the minimal prelude size.
    pub size_pad: u8,
    /// The function's name, as a qstr-table index.
    pub simple_name: UintArg,
    /// The encoded argument names: `n_args` varuints, each checked when the prelude was decoded.
    arg_bytes: &'a [u8],
    n_args: usize,
    /// One byte per cell: the local slot to turn into a cell on entry.
    pub cells: &'a [u8],
}

/// What [`PreludeView::decode`] found: the prelude, the line-info bytes between the names and the
/// cells, and where the cells end.
pub(crate) struct DecodedPrelude<'a> {
    pub prelude: PreludeView<'a>,
    pub line_info: &'a [u8],
    pub line_info_offset: usize,
    pub end: usize,
}

impl<'a> PreludeView<'a> {
    /// Decodes a prelude from `data`, which starts at `base` inside `fun_data`.
    pub(crate) fn decode(data: &'a [u8], base: usize) -> Result<DecodedPrelude<'a>, BytecodeError> {
        let mut r = Reader::new(data, base);
        let (signature, signature_pad) = Signature::decode(&mut r)?;
        let size_at = r.offset();
        let (n_info, n_cell, size_pad) = decode_size(&mut r)?;
        if n_info as usize > r.left() {
            return Err(BytecodeError::new(
                BytecodeErrorKind::LengthExceedsInput {
                    what: "n_info",
                    len: u64::from(n_info),
                    left: r.left(),
                },
                size_at,
            ));
        }
        let info_at = r.offset();
        let info = r.take(n_info as usize, "source info")?;
        if n_cell as usize > r.left() {
            return Err(BytecodeError::new(
                BytecodeErrorKind::LengthExceedsInput {
                    what: "n_cell",
                    len: u64::from(n_cell),
                    left: r.left(),
                },
                size_at,
            ));
        }
        let cells = r.take(n_cell as usize, "cells")?;

        // The names live inside the n_info bytes; each takes at least one byte, so their count is
        // bounded by the input before any is read.
        let names = 1 + signature.n_arg_names();
        if names > u64::from(n_info) {
            return Err(BytecodeError::new(
                BytecodeErrorKind::NamesExceedInfo { names, n_info: u64::from(n_info) },
                info_at,
            ));
        }
        let mut ir = Reader::new(info, info_at);
        let simple_name = ir.uint("simple name")?;
        let args = ir.rest();
        for _ in 1..names {
            ir.uint("argument name")?;
        }
        let line_info = ir.rest();
        let arg_bytes = &args[..args.len() - line_info.len()];
        Ok(DecodedPrelude {
            prelude: PreludeView {
                signature,
                signature_pad,
                size_pad,
                simple_name,
                arg_bytes,
                // At most n_info, which fits u32.
                n_args: (names - 1) as usize,
                cells,
            },
            line_info,
            line_info_offset: ir.offset(),
            end: r.offset(),
        })
    }

    /// The argument names (qstr-table indices), `n_pos_args + n_kwonly_args` of them; closures'
    /// closed-over cells come first and are named `*`.
    pub fn arg_names(&self) -> ArgNames<'a> {
        ArgNames { bytes: self.arg_bytes, left: self.n_args }
    }

    /// The owned prelude.
    pub fn to_prelude(&self) -> Prelude {
        Prelude {
            signature: self.signature,
            signature_pad: self.signature_pad,
            size_pad: self.size_pad,
            simple_name: self.simple_name,
            arg_names: self.arg_names().collect(),
            cells: self.cells.to_vec(),
        }
    }
}

impl From<PreludeView<'_>> for Prelude {
    fn from(view: PreludeView<'_>) -> Prelude {
        view.to_prelude()
    }
}

/// The argument names of a [`PreludeView`], read from the checked bytes.
#[derive(Debug, Clone)]
pub struct ArgNames<'a> {
    bytes: &'a [u8],
    left: usize,
}

impl Iterator for ArgNames<'_> {
    type Item = UintArg;

    #[inline]
    fn next(&mut self) -> Option<UintArg> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Each name was read by `Reader::uint` when the prelude was decoded: a whole varuint of at
        // most MAX_VARUINT_BYTES bytes whose value fits u64.
        let mut value = 0u64;
        let mut len = 0;
        for &b in self.bytes {
            len += 1;
            value = value << 7 | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        self.bytes = self.bytes.get(len..).unwrap_or_default();
        let pad = len.saturating_sub(varuint::encoded_len(value));
        Some(UintArg { value, pad: pad as u8 })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for ArgNames<'_> {}

impl std::iter::FusedIterator for ArgNames<'_> {}

impl Prelude {
    /// Byte length of the names (simple name and argument names).
    pub(crate) fn names_len(&self) -> usize {
        self.simple_name.encoded_len() + self.arg_names.iter().map(UintArg::encoded_len).sum::<usize>()
    }

    /// Appends signature, size (n_info = names + `line_info.len()`, n_cell = cells), names,
    /// `line_info` and cells.
    pub(crate) fn encode_with(&self, line_info: &[u8], out: &mut Vec<u8>) -> Result<(), BytecodeEncodeError> {
        self.signature.encode(self.signature_pad, out)?;
        let n_info = self.names_len() + line_info.len();
        encode_size(n_info as u64, self.cells.len() as u64, self.size_pad, out);
        self.simple_name.encode(out);
        for name in &self.arg_names {
            name.encode(out);
        }
        out.extend_from_slice(line_info);
        out.extend_from_slice(&self.cells);
        Ok(())
    }

    /// Rewrites the simple name and argument names through `f`.
    pub fn map_qstr_indices(&mut self, mut f: impl FnMut(u64) -> u64) {
        self.simple_name.value = f(self.simple_name.value);
        for name in &mut self.arg_names {
            name.value = f(name.value);
        }
    }
}

/// The prelude of a `@micropython.native` function: the same encoding as a bytecode prelude, with
/// `n_info` covering only the names, followed by the cells; it runs to the end of `fun_data`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NativePrelude {
    /// Signature, names and cells.
    pub prelude: Prelude,
    /// Bytes inside `n_info` after the names. Empty in everything mpy-cross writes (the native
    /// emitter writes no line info); decoded as a line table so nothing is lost.
    pub line_table: LineTable,
    /// Bytes after the cells, up to the end of `fun_data` (none from mpy-cross).
    pub trailing: Vec<u8>,
}

impl NativePrelude {
    /// Decodes the prelude found at `fun_data[prelude_offset..]`.
    pub fn decode(fun_data: &[u8], prelude_offset: usize) -> Result<NativePrelude, BytecodeError> {
        let decoded = Self::decode_parts(fun_data, prelude_offset)?;
        let line_table = LineTable::decode(decoded.line_info, decoded.line_info_offset)?;
        let trailing = fun_data[decoded.end..].to_vec();
        Ok(NativePrelude { prelude: decoded.prelude.to_prelude(), line_table, trailing })
    }

    /// The prelude at `fun_data[prelude_offset..]` read in place, with the errors of
    /// [`NativePrelude::decode`] (the line info is checked, not kept; trailing bytes are ignored).
    pub fn view(fun_data: &[u8], prelude_offset: usize) -> Result<PreludeView<'_>, BytecodeError> {
        let decoded = Self::decode_parts(fun_data, prelude_offset)?;
        LineTable::validate(decoded.line_info, decoded.line_info_offset)?;
        Ok(decoded.prelude)
    }

    fn decode_parts(fun_data: &[u8], prelude_offset: usize) -> Result<DecodedPrelude<'_>, BytecodeError> {
        let Some(data) = fun_data.get(prelude_offset..) else {
            return Err(BytecodeError::new(
                BytecodeErrorKind::PreludeOffsetOutOfRange {
                    prelude_offset: prelude_offset as u64,
                    len: fun_data.len(),
                },
                fun_data.len(),
            ));
        };
        PreludeView::decode(data, prelude_offset)
    }

    /// The prelude's bytes, to be placed at `prelude_offset` (after the machine code).
    pub fn encode(&self) -> Result<Vec<u8>, BytecodeEncodeError> {
        let mut out = Vec::new();
        let line_info = self.line_table.encode()?;
        self.prelude.encode_with(&line_info, &mut out)?;
        out.extend_from_slice(&self.trailing);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(t: (u32, u32, u32, u32, u32, u32)) -> Signature {
        Signature {
            n_state: t.0,
            n_exc_stack: t.1,
            scope_flags: ScopeFlags::from_bits_retain(t.2),
            n_pos_args: t.3,
            n_kwonly_args: t.4,
            n_def_pos_args: t.5,
        }
    }

    /// bytes → (n_state, n_exc_stack, flags, pos, kwonly, def), padding
    #[test]
    fn signatures() {
        type Case = (&'static [u8], (u32, u32, u32, u32, u32, u32), u8);
        let cases: &[Case] = &[
            (&[0x10], (3, 0, 0, 0, 0, 0), 0),
            (&[0x00], (1, 0, 0, 0, 0, 0), 0),
            (&[0xb2, 0x89, 0xc0, 0x40], (7, 0, 6, 2, 1, 1), 0), // mpy-format.md §2.1
            (&[0x1c], (4, 1, 0, 0, 0, 0), 0),
            (&[0x7f], (16, 1, 0, 3, 0, 0), 0),
            (&[0x88, 0x10], (18, 0, 0, 0, 0, 0), 0),
            (&[0x80, 0x40], (1, 0, 1, 0, 0, 0), 0), // generator
            (&[0x90, 0x00], (3, 0, 0, 0, 0, 0), 1),
            (&[0x90, 0x80, 0x80, 0x00], (3, 0, 0, 0, 0, 0), 3),
            (&[0xb2, 0x89, 0xc0, 0xc0, 0x00], (7, 0, 6, 2, 1, 1), 1),
        ];
        for &(bytes, t, pad) in cases {
            let mut r = Reader::new(bytes, 0);
            let (got, got_pad) = Signature::decode(&mut r).unwrap();
            assert_eq!((got.as_tuple(), got_pad), (t, pad), "{bytes:02x?}");
            assert!(r.is_empty());
            let mut out = Vec::new();
            got.encode(got_pad, &mut out).unwrap();
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn signature_round_trips_large_values() {
        for t in [
            (u32::MAX, u32::MAX, 0xf, u32::MAX, u32::MAX, u32::MAX),
            (1, 0, 0xffff_ffff, 0, 0, 0),
            (100_000, 7, 0, 300, 2, 255),
        ] {
            let s = sig(t);
            let mut out = Vec::new();
            s.encode(0, &mut out).unwrap();
            assert!(out.len() <= MAX_PRELUDE_SIG_BYTES);
            let mut r = Reader::new(&out, 0);
            assert_eq!(Signature::decode(&mut r).unwrap(), (s, 0));
        }
        assert_eq!(sig((0, 0, 0, 0, 0, 0)).encode(0, &mut Vec::new()), Err(BytecodeEncodeError::ZeroState));
    }

    #[test]
    fn signature_errors() {
        // Never-ending continuation bytes hit the cap.
        let endless = [0xffu8; 100];
        let mut r = Reader::new(&endless, 5);
        let e = Signature::decode(&mut r).unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(matches!(e.kind, BytecodeErrorKind::PreludeTooLong { .. }));
        // Truncated.
        let mut r = Reader::new(&[0x80, 0x80], 0);
        assert!(matches!(
            Signature::decode(&mut r).unwrap_err().kind,
            BytecodeErrorKind::UnexpectedEnd { .. }
        ));
        // A bit above u32: K gets bit 32 from the 33rd continuation byte... which is past the cap,
        // so use n_state instead: S bit 32 is in continuation byte 15 (bits 4+2*14, 5+2*14 = 32, 33).
        let mut b = vec![0x80u8; 15];
        b.push(0x20); // S bit 5 + 2*14 = 33
        let mut r = Reader::new(&b, 0);
        assert!(matches!(Signature::decode(&mut r).unwrap_err().kind, BytecodeErrorKind::Overflow { .. }));
        // S = u32::MAX (n_state would be 2^32): S needs bits 0..=31, i.e. 14 continuation bytes.
        let mut b = vec![0xf8u8];
        b.extend([0xb0u8; 13]);
        b.push(0x30);
        let mut r = Reader::new(&b, 0);
        assert!(matches!(Signature::decode(&mut r).unwrap_err().kind, BytecodeErrorKind::Overflow { .. }));
        b[0] = 0xf0; // S = u32::MAX - 1
        let mut r = Reader::new(&b, 0);
        assert_eq!(Signature::decode(&mut r).unwrap().0.n_state, u32::MAX);
    }

    /// bytes → (n_info, n_cell, padding)
    #[test]
    fn sizes() {
        type Case = (&'static [u8], (u32, u32, u8));
        let cases: &[Case] = &[
            (&[0x0e], (7, 0, 0)), // mpy-format.md §2.4
            (&[0x02], (1, 0, 0)),
            (&[0x03], (1, 1, 0)),
            (&[0x81, 0x00], (0, 1, 1)),
            (&[0x80, 0x02], (64, 0, 0)),
            (&[0x81, 0x01], (0, 3, 0)),
            (&[0xfe, 0x7e], (4095, 0, 0)),
            (&[0x8e, 0x80, 0x00], (7, 0, 2)),
        ];
        for &(bytes, (i, c, pad)) in cases {
            let mut r = Reader::new(bytes, 0);
            assert_eq!(decode_size(&mut r).unwrap(), (i, c, pad), "{bytes:02x?}");
            assert!(r.is_empty());
            let mut out = Vec::new();
            encode_size(u64::from(i), u64::from(c), pad, &mut out);
            assert_eq!(out, bytes);
        }
        let endless = [0x80u8; 40];
        let mut r = Reader::new(&endless, 0);
        assert!(matches!(decode_size(&mut r).unwrap_err().kind, BytecodeErrorKind::PreludeTooLong { .. }));
        // n_info above u32 (6 bits per byte: bit 36 in the 7th byte).
        let mut r = Reader::new(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], 0);
        assert!(matches!(decode_size(&mut r).unwrap_err().kind, BytecodeErrorKind::Overflow { .. }));
    }

    #[test]
    fn native_prelude() {
        // Machine code, then sig (n_state 3, 1 pos arg), size (n_info 2, n_cell 1), name 5, arg 6,
        // cell 0.
        let fun_data = [0xc3, 0x11, 0x05, 0x05, 0x06, 0x00];
        let p = NativePrelude::decode(&fun_data, 1).unwrap();
        assert_eq!(p.prelude.signature.as_tuple(), (3, 0, 0, 1, 0, 0));
        assert_eq!(p.prelude.simple_name, UintArg::new(5));
        assert_eq!(p.prelude.arg_names, [UintArg::new(6)]);
        assert_eq!(p.prelude.cells, [0]);
        assert!(p.line_table.entries.is_empty());
        assert!(p.trailing.is_empty());
        assert_eq!(p.encode().unwrap(), &fun_data[1..]);
        assert!(matches!(
            NativePrelude::decode(&fun_data, 7).unwrap_err().kind,
            BytecodeErrorKind::PreludeOffsetOutOfRange { .. }
        ));
        // n_info too short for the names.
        let bad = [0x10, 0x02, 0x05, 0x06];
        let e = NativePrelude::decode(&[0x11, 0x02, 0x05, 0x06], 0).unwrap_err();
        assert!(matches!(e.kind, BytecodeErrorKind::NamesExceedInfo { names: 2, n_info: 1 }), "{e:?}");
        assert!(NativePrelude::decode(&bad, 0).is_ok());
    }

    /// Whatever `Signature::decode` accepts re-encodes to the bytes it read, and its padding is
    /// what is left after the minimal encoding: over every 1- and 2-byte input and every 3-byte
    /// input with continuation bytes first.
    #[test]
    fn signature_padding_and_fast_path_agree_with_the_encoder() {
        let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|a| vec![a]).collect();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                inputs.push(vec![a, b]);
                if a & 0x80 != 0 && b & 0x80 != 0 && (a ^ b) & 0x0f == 0 {
                    for c in 0..=255u8 {
                        inputs.push(vec![a, b, c]);
                    }
                }
            }
        }
        let mut decoded = 0;
        for bytes in &inputs {
            let mut r = Reader::new(bytes, 3);
            match Signature::decode(&mut r) {
                Ok((sig, pad)) => {
                    let len = r.offset() - 3;
                    assert_eq!(len, sig.encoded_len().unwrap() + usize::from(pad), "{bytes:02x?}");
                    let mut out = Vec::new();
                    sig.encode(pad, &mut out).unwrap();
                    assert_eq!(out, bytes[..len], "{bytes:02x?}");
                    decoded += 1;
                }
                Err(e) => {
                    assert_eq!(e.kind, BytecodeErrorKind::UnexpectedEnd { what: "prelude signature" });
                    assert_eq!(e.offset, 3 + bytes.len(), "{bytes:02x?}");
                }
            }
        }
        assert!(decoded > 60_000);
    }

    /// The same for the prelude size, over every 1- and 2-byte input and 3-byte inputs.
    #[test]
    fn size_padding_and_fast_path_agree_with_the_encoder() {
        let mut inputs: Vec<Vec<u8>> = (0..=255u8).map(|a| vec![a]).collect();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                inputs.push(vec![a, b]);
                if a & 0x80 != 0 && b & 0x80 != 0 && (a ^ b) & 0x0e == 0 {
                    for c in 0..=255u8 {
                        inputs.push(vec![a, b, c]);
                    }
                }
            }
        }
        for bytes in &inputs {
            let mut r = Reader::new(bytes, 1);
            match decode_size(&mut r) {
                Ok((i, c, pad)) => {
                    let len = r.offset() - 1;
                    let want = size_encoded_len(u64::from(i), u64::from(c)) + usize::from(pad);
                    assert_eq!(len, want, "{bytes:02x?}");
                    let mut out = Vec::new();
                    encode_size(u64::from(i), u64::from(c), pad, &mut out);
                    assert_eq!(out, bytes[..len], "{bytes:02x?}");
                }
                Err(e) => {
                    assert_eq!(e.kind, BytecodeErrorKind::UnexpectedEnd { what: "prelude size" });
                    assert_eq!(e.offset, 1 + bytes.len(), "{bytes:02x?}");
                }
            }
        }
    }

    /// The owned decoder as it was before [`PreludeView`]: names collected one by one. An oracle
    /// for the in-place one: (prelude, line info, its offset, end).
    fn reference_decode(data: &[u8], base: usize) -> Result<(Prelude, Vec<u8>, usize, usize), BytecodeError> {
        let mut r = Reader::new(data, base);
        let (signature, signature_pad) = Signature::decode(&mut r)?;
        let size_at = r.offset();
        let (n_info, n_cell, size_pad) = decode_size(&mut r)?;
        let exceeds = |what, len: u32, left| {
            BytecodeError::new(
                BytecodeErrorKind::LengthExceedsInput { what, len: u64::from(len), left },
                size_at,
            )
        };
        if n_info as usize > r.left() {
            return Err(exceeds("n_info", n_info, r.left()));
        }
        let info_at = r.offset();
        let info = r.take(n_info as usize, "source info")?;
        if n_cell as usize > r.left() {
            return Err(exceeds("n_cell", n_cell, r.left()));
        }
        let cells = r.take(n_cell as usize, "cells")?.to_vec();
        let names = 1 + signature.n_arg_names();
        if names > u64::from(n_info) {
            let kind = BytecodeErrorKind::NamesExceedInfo { names, n_info: u64::from(n_info) };
            return Err(BytecodeError::new(kind, info_at));
        }
        let mut ir = Reader::new(info, info_at);
        let simple_name = ir.uint("simple name")?;
        let arg_names = (1..names).map(|_| ir.uint("argument name")).collect::<Result<Vec<_>, _>>()?;
        let prelude = Prelude { signature, signature_pad, size_pad, simple_name, arg_names, cells };
        Ok((prelude, ir.rest().to_vec(), ir.offset(), r.offset()))
    }

    fn view_parts(data: &[u8], base: usize) -> Result<(Prelude, Vec<u8>, usize, usize), BytecodeError> {
        let d = PreludeView::decode(data, base)?;
        let names = d.prelude.arg_names();
        assert_eq!(names.len(), names.count());
        Ok((d.prelude.to_prelude(), d.line_info.to_vec(), d.line_info_offset, d.end))
    }

    /// Preludes (followed by code) as `fun_data` would hold them.
    fn sample_preludes() -> Vec<Vec<u8>> {
        vec![
            // ex.py's <module> (mpy-format.md §2.4), then some code.
            vec![0x10, 0x0e, 0x01, 0x23, 0x68, 0x20, 0x69, 0x26, 0x26, 0x81, 0x16, 0x06],
            // 1 positional argument, a cell (the native test's prelude).
            vec![0x11, 0x05, 0x05, 0x06, 0x00],
            // Padded signature, size and simple name.
            vec![0x90, 0x00, 0x84, 0x00, 0x80, 0x01, 0x11, 0x80, 0x05, 0x63],
            // 2 positional + 1 keyword-only argument named 128, 5 (padded) and 0x1ac; line info
            // with a long entry; cells 0 and 2.
            vec![
                0x92, 0x08, 0x94, 0x01, 0x01, 0x81, 0x00, 0x80, 0x05, 0x83, 0x2c, 0x23, 0x81, 0x05, 0x00,
                0x02, 0x51, 0x63,
            ],
            // mpy-format.md §2.1's signature: 6 flags, 2 + 1 arguments, 1 default.
            vec![0xb2, 0x89, 0xc0, 0x40, 0x08, 0x03, 0x08, 0x09, 0x0a, 0x00],
        ]
    }

    #[test]
    fn prelude_view_reads_names_and_cells_in_place() {
        let bytes = &sample_preludes()[3];
        let d = PreludeView::decode(bytes, 0).unwrap();
        let p = d.prelude;
        assert_eq!(p.signature.as_tuple(), (3, 0, 0, 2, 1, 0));
        assert_eq!((p.signature_pad, p.size_pad), (0, 0));
        assert_eq!(p.simple_name, UintArg::new(1));
        let names: Vec<_> = p.arg_names().collect();
        assert_eq!(names, [UintArg::new(128), UintArg { value: 5, pad: 1 }, UintArg::new(0x1ac)]);
        assert_eq!(p.arg_names().len(), 3);
        assert_eq!(p.cells, [0, 2]);
        assert_eq!(d.line_info, [0x23, 0x81, 0x05]);
        assert_eq!((d.line_info_offset, d.end), (11, 16));
        let owned = p.to_prelude();
        assert_eq!(owned.arg_names, names);
        assert_eq!(Prelude::from(p), owned);
        // Encoding the owned form gives the bytes back.
        let mut out = Vec::new();
        owned.encode_with(d.line_info, &mut out).unwrap();
        assert_eq!(out, bytes[..16]);
    }

    /// The in-place decoder gives what the reference gives, error kind and offset included, on the
    /// samples, every truncation and every single-byte corruption of them.
    #[test]
    fn prelude_view_agrees_with_the_reference() {
        let mut errors = 0;
        for bytes in sample_preludes() {
            let mut inputs: Vec<Vec<u8>> = (0..=bytes.len()).map(|n| bytes[..n].to_vec()).collect();
            for i in 0..bytes.len() {
                for v in [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xc0, 0xff] {
                    let mut b = bytes.clone();
                    b[i] = v;
                    inputs.push(b);
                }
            }
            for input in inputs {
                let want = reference_decode(&input, 7);
                errors += usize::from(want.is_err());
                assert_eq!(view_parts(&input, 7), want, "{input:02x?}");
            }
        }
        // The sweep reaches the errors as well as the successes.
        assert!(errors > 50, "{errors}");
    }

    /// `NativePrelude::view` fails exactly where `NativePrelude::decode` does, and otherwise holds
    /// the same prelude.
    #[test]
    fn native_view_agrees_with_decode() {
        let mut fun_data = vec![0xc3, 0x11, 0x06, 0x05, 0x06, 0x81, 0x00];
        for offset in 0..=fun_data.len() + 1 {
            match NativePrelude::decode(&fun_data, offset) {
                Ok(p) => assert_eq!(NativePrelude::view(&fun_data, offset).unwrap().to_prelude(), p.prelude),
                Err(e) => assert_eq!(NativePrelude::view(&fun_data, offset), Err(e)),
            }
        }
        // Line info with a cut-off long entry (0x81 then the cell) is an error for both.
        fun_data.truncate(6);
        fun_data[2] = 0x07;
        let e = NativePrelude::decode(&fun_data, 1).unwrap_err();
        assert_eq!(e.kind, BytecodeErrorKind::LengthExceedsInput { what: "n_cell", len: 1, left: 0 });
        fun_data[2] = 0x06;
        let e = NativePrelude::decode(&fun_data, 1).unwrap_err();
        assert_eq!(
            (e.kind.clone(), e.offset),
            (BytecodeErrorKind::UnexpectedEnd { what: "line-number entry" }, 5)
        );
        assert_eq!(NativePrelude::view(&fun_data, 1), Err(e));
    }
}
