//! The raw-code tree: the module's outer code and, recursively, every function and class body in
//! it, each bytecode or native (`@native`, `@viper`, inline assembler).
//!
//! ```text
//! raw_code := kind_len:vuint (= fun_data_len << 3 | has_children << 2 | kind)  fun_data
//!             [native fields by kind]  [n_children:vuint raw_code*]  [relocation op stream]
//! ```

use std::borrow::Cow;

use crate::decoder::{DResult, Decoder};
use crate::error::{EncodeError, ErrorKind, IrregularityKind, Path, Segment};
use crate::flags::NativeFlags;
use crate::limits::MAX_RAW_CODE_DEPTH;
use crate::reloc::{self, RelocOp};
use crate::varuint;

/// The kind of a raw code, with the fields only that kind has. The native records are boxed so
/// that the common case (bytecode) keeps the tree small: a hostile file of minimal raw codes costs
/// at most 64 bytes of model per input byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Kind<'a> {
    /// Bytecode: `fun_data` holds prelude, source info, cells and opcodes.
    Bytecode,
    /// `@micropython.native`: machine code, with a bytecode-style prelude at `prelude_offset`.
    NativePython { prelude_offset: u64 },
    /// `@micropython.viper`, and native modules linked by mpy_ld.
    Viper(Box<Viper<'a>>),
    /// `@micropython.asm_thumb`, `asm_xtensa`, `asm_rv32`.
    Asm(Box<Asm>),
}

/// The record of a viper raw code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Viper<'a> {
    /// The record's flags. On encoding, `RELOC`, `RODATA` and `BSS` follow the fields below.
    pub flags: NativeFlags,
    pub rodata: Option<Cow<'a, [u8]>>,
    pub bss_size: Option<u64>,
    pub relocs: Option<Vec<RelocOp>>,
}

/// The record of an inline-assembler raw code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Asm {
    /// The record's flags. On encoding, `RELOC` follows `relocs`.
    pub flags: NativeFlags,
    pub n_pos_args: u64,
    /// In practice the return type code (`MP_NATIVE_TYPE_*`).
    pub type_sig: u64,
    pub relocs: Option<Vec<RelocOp>>,
}

impl Kind<'_> {
    /// The 2-bit code in `kind_len`.
    pub fn code(&self) -> u8 {
        match self {
            Kind::Bytecode => 0,
            Kind::NativePython { .. } => 1,
            Kind::Viper { .. } => 2,
            Kind::Asm { .. } => 3,
        }
    }

    /// `bytecode`, `native`, `viper` or `asm`.
    pub fn name(&self) -> &'static str {
        ["bytecode", "native", "viper", "asm"][usize::from(self.code())]
    }

    /// The flags as they are written: stored bits, with the optional-part bits set by presence.
    pub fn effective_flags(&self) -> Option<NativeFlags> {
        match self {
            Kind::Viper(v) => {
                let mut f = v.flags - (NativeFlags::RELOC | NativeFlags::RODATA | NativeFlags::BSS);
                f.set(NativeFlags::RELOC, v.relocs.is_some());
                f.set(NativeFlags::RODATA, v.rodata.is_some());
                f.set(NativeFlags::BSS, v.bss_size.is_some());
                Some(f)
            }
            Kind::Asm(a) => {
                let mut f = a.flags;
                f.set(NativeFlags::RELOC, a.relocs.is_some());
                Some(f)
            }
            _ => None,
        }
    }

    /// The relocation ops, if any.
    pub fn relocs(&self) -> Option<&[RelocOp]> {
        match self {
            Kind::Viper(v) => v.relocs.as_deref(),
            Kind::Asm(a) => a.relocs.as_deref(),
            _ => None,
        }
    }
}

/// What [`RawCode::decode_head`] read: a raw code up to its children.
pub(crate) struct Head<'a> {
    /// The kind, with any relocation ops left out (`relocs: None`).
    pub(crate) kind: Kind<'a>,
    pub(crate) fun_data: &'a [u8],
    /// The native record's flags as read (empty for bytecode and `@native`).
    pub(crate) flags: NativeFlags,
    pub(crate) n_children: usize,
}

/// One raw code and its children.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RawCode<'a> {
    pub kind: Kind<'a>,
    /// Bytecode (prelude, names, line table, cells, opcodes) or machine code.
    pub fun_data: Cow<'a, [u8]>,
    pub children: Vec<RawCode<'a>>,
}

impl<'a> RawCode<'a> {
    pub fn into_owned(self) -> RawCode<'static> {
        let kind = match self.kind {
            Kind::Bytecode => Kind::Bytecode,
            Kind::NativePython { prelude_offset } => Kind::NativePython { prelude_offset },
            Kind::Viper(v) => {
                let Viper { flags, rodata, bss_size, relocs } = *v;
                let rodata = rodata.map(|r| Cow::Owned(r.into_owned()));
                Kind::Viper(Box::new(Viper { flags, rodata, bss_size, relocs }))
            }
            Kind::Asm(a) => Kind::Asm(a),
        };
        RawCode {
            kind,
            fun_data: Cow::Owned(self.fun_data.into_owned()),
            children: self.children.into_iter().map(RawCode::into_owned).collect(),
        }
    }

    /// Visits this raw code and every descendant, depth first (parents before children), with the
    /// path of each (`raw_code.children[1].children[0]`).
    pub fn walk<'s>(&'s self, path: &mut Path, f: &mut impl FnMut(&Path, &'s RawCode<'a>)) {
        f(path, self);
        for (k, child) in self.children.iter().enumerate() {
            path.push(Segment::Child(k));
            child.walk(path, f);
            path.pop();
        }
    }

    /// The number of raw codes in this tree.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(RawCode::count).sum::<usize>()
    }

    pub(crate) fn decode(d: &mut Decoder<'a>, i: &'a [u8], depth: usize) -> DResult<'a, RawCode<'a>> {
        let (i, Head { mut kind, fun_data, flags, n_children }) = Self::decode_head(d, i, depth)?;
        let (mut i, children) = if n_children > 0 {
            d.list(i, n_children, Segment::Child, |d, i| RawCode::decode(d, i, depth + 1))?
        } else {
            (i, Vec::new())
        };

        // The C loader relocates after loading the children, so the stream follows them.
        if flags.contains(NativeFlags::RELOC) {
            let (rest, ops) = reloc::decode_stream(d, i)?;
            i = rest;
            match &mut kind {
                Kind::Viper(v) => v.relocs = Some(ops),
                Kind::Asm(a) => a.relocs = Some(ops),
                _ => unreachable!("only viper and asm records carry flags"),
            }
        }
        Ok((i, RawCode { kind, fun_data: Cow::Borrowed(fun_data), children }))
    }

    /// Decodes one raw code at `depth` (checked against [`MAX_RAW_CODE_DEPTH`]) up to its
    /// children: `kind_len`, `fun_data`, the native fields and the child count. What follows is
    /// `n_children` raw codes at `depth + 1`, then, when `flags` has `RELOC`, the relocation
    /// stream (which [`Head::kind`] does not hold).
    #[inline(always)]
    pub(crate) fn decode_head(d: &mut Decoder<'a>, i: &'a [u8], depth: usize) -> DResult<'a, Head<'a>> {
        if depth >= MAX_RAW_CODE_DEPTH {
            return Err(d.error(i, ErrorKind::TooDeep { what: "raw code", limit: MAX_RAW_CODE_DEPTH }));
        }
        let (i, kind_len) = d.varuint(i, "kind_len")?;
        let (i, fun_data) = d.field_bytes(i, kind_len >> 3, "fun_data")?;
        let has_children = kind_len & 4 != 0;

        // Native fields, by kind.
        let mut native_flags = NativeFlags::empty();
        let (mut i, kind) = match kind_len & 3 {
            0 => (i, Kind::Bytecode),
            1 => {
                let (i, prelude_offset) = d.varuint(i, "prelude_offset")?;
                (i, Kind::NativePython { prelude_offset })
            }
            2 => {
                let (i, flags) = d.varuint(i, "scope_flags")?;
                native_flags = NativeFlags::from_bits_retain(flags);
                let (i, rodata_size) = if native_flags.contains(NativeFlags::RODATA) {
                    let (i, n) = d.varuint(i, "rodata_size")?;
                    (i, Some(n))
                } else {
                    (i, None)
                };
                let (i, bss_size) = if native_flags.contains(NativeFlags::BSS) {
                    let (i, n) = d.varuint(i, "bss_size")?;
                    (i, Some(n))
                } else {
                    (i, None)
                };
                let (i, rodata) = match rodata_size {
                    Some(n) => {
                        let (i, r) = d.field_bytes(i, n, "rodata")?;
                        (i, Some(Cow::Borrowed(r)))
                    }
                    None => (i, None),
                };
                (i, Kind::Viper(Box::new(Viper { flags: native_flags, rodata, bss_size, relocs: None })))
            }
            _ => {
                let (i, flags) = d.varuint(i, "scope_flags")?;
                native_flags = NativeFlags::from_bits_retain(flags);
                let (i, n_pos_args) = d.varuint(i, "n_pos_args")?;
                let (i, type_sig) = d.varuint(i, "type_sig")?;
                (i, Kind::Asm(Box::new(Asm { flags: native_flags, n_pos_args, type_sig, relocs: None })))
            }
        };

        let mut n_children = 0;
        if has_children {
            let at = i;
            (i, n_children) = d.count(i, "n_children")?;
            if n_children == 0 {
                d.irregular(at, IrregularityKind::EmptyChildren)?;
            }
        }
        Ok((i, Head { kind, fun_data, flags: native_flags, n_children }))
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>, depth: usize) -> Result<(), EncodeError> {
        if depth >= MAX_RAW_CODE_DEPTH {
            return Err(EncodeError::here(format!(
                "raw codes nested deeper than {MAX_RAW_CODE_DEPTH} levels"
            )));
        }
        let len = self.fun_data.len() as u64;
        if len > u64::MAX >> 3 {
            return Err(EncodeError::here("fun_data too long"));
        }
        let has_children = u64::from(!self.children.is_empty());
        varuint::encode(len << 3 | has_children << 2 | u64::from(self.kind.code()), out);
        out.extend_from_slice(&self.fun_data);
        let flags = self.kind.effective_flags();
        match &self.kind {
            Kind::Bytecode => {}
            Kind::NativePython { prelude_offset } => varuint::encode(*prelude_offset, out),
            Kind::Viper(v) => {
                varuint::encode(flags.unwrap_or_default().bits(), out);
                if let Some(r) = &v.rodata {
                    varuint::encode(r.len() as u64, out);
                }
                if let Some(n) = v.bss_size {
                    varuint::encode(n, out);
                }
                if let Some(r) = &v.rodata {
                    out.extend_from_slice(r);
                }
            }
            Kind::Asm(a) => {
                varuint::encode(flags.unwrap_or_default().bits(), out);
                varuint::encode(a.n_pos_args, out);
                varuint::encode(a.type_sig, out);
            }
        }
        if !self.children.is_empty() {
            varuint::encode(self.children.len() as u64, out);
            for (k, child) in self.children.iter().enumerate() {
                child.encode(out, depth + 1).map_err(|e| e.within(Segment::Child(k)))?;
            }
        }
        if let Some(ops) = self.kind.relocs() {
            reloc::encode_stream(ops, out)?;
        }
        Ok(())
    }
}
