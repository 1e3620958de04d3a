#![forbid(unsafe_code)]
#![doc = include_str!("../docs/lib.md")]

pub mod bytecode;
pub mod decoder;
pub mod dis;
pub mod dump;
pub mod error;
pub mod flags;
pub mod header;
#[cfg(feature = "json")]
pub mod json;
pub mod limits;
pub mod module;
pub mod object;
pub mod qstr;
pub mod raw_code;
pub mod reloc;
pub mod transform;
pub mod varuint;
pub mod verify;
pub mod view;

pub use decoder::{DecodeOptions, FieldSpan};
pub use error::{EncodeError, Error, ErrorKind, Irregularity, IrregularityKind, Path, Segment};
pub use flags::{NativeFlags, ScopeFlags};
pub use header::{Arch, Header, Release};
pub use module::{Decoded, Module};
pub use object::Object;
pub use qstr::Qstr;
pub use raw_code::{Asm, Kind, RawCode, Viper};
pub use reloc::RelocOp;

/// Decodes a .mpy file (format 6), accepting what MicroPython's loader accepts.
pub fn decode(bytes: &[u8]) -> Result<Module<'_>, Error> {
    Module::decode(bytes)
}

/// Encodes a module in canonical form.
pub fn encode(module: &Module<'_>) -> Result<Vec<u8>, EncodeError> {
    module.encode()
}
