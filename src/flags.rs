//! Scope flags, as two bitflags types: the same bits mean different things in the two places they
//! are stored (py/runtime0.h).
//!
//! Both types keep unknown bits (`from_bits_retain`), so decoding and re-encoding never loses one.

use bitflags::bitflags;

bitflags! {
    /// The flags in a function prelude's signature (`F`, 4 bits in every file MicroPython writes).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ScopeFlags: u32 {
        /// A generator (or coroutine) function.
        const GENERATOR = 0x01;
        /// Has `**kwargs`.
        const VARKEYWORDS = 0x02;
        /// Has `*args`.
        const VARARGS = 0x04;
        /// Has keyword-only arguments with defaults.
        const DEFKWARGS = 0x08;
        // Any other bit is kept as it was read.
        const _ = !0;
    }
}

bitflags! {
    /// The `scope_flags` varuint of a viper or inline-assembler raw code record.
    ///
    /// mpy-cross writes the prelude bits (v1.22) or 0 (v1.23+); only `mpy_ld` sets the three
    /// bits below, which announce the optional parts of the record.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct NativeFlags: u64 {
        /// A relocation op stream follows the record's children (`MP_SCOPE_FLAG_VIPERRELOC`).
        const RELOC = 0x10;
        /// A rodata size and rodata bytes are present (`MP_SCOPE_FLAG_VIPERRODATA`, viper only).
        const RODATA = 0x20;
        /// A bss size is present (`MP_SCOPE_FLAG_VIPERBSS`, viper only).
        const BSS = 0x40;
        // Any other bit is kept as it was read.
        const _ = !0;
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ScopeFlags {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(ScopeFlags::from_bits_retain(u.arbitrary()?))
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for NativeFlags {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(NativeFlags::from_bits_retain(u.arbitrary()?))
    }
}
