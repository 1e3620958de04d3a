//! Whole-module transforms built on the bytecode model: [`strip()`] (drop line-number tables,
//! replace the source name) and [`merge()`] (several files into one module that runs each in turn,
//! like upstream's `mpy-tool.py --merge`).
//!
//! Both work on decoded modules and return a new, owned module; every bytecode function they touch
//! goes through [`crate::bytecode::BytecodeFunction`] (decode, edit, re-encode with recomputed
//! prelude sizes), never through byte patching. Machine code (`@native`, `@viper`, inline
//! assembler) is opaque: it refers to the qstr and constant tables by indices baked into the code,
//! so neither transform ever moves an entry that machine code may use.
//!
//! Errors say where: the raw code's path (`raw_code.children[2]`), the function's name when it can
//! be read, and for a merge which input.
//!
//! ```
//! use mpy_codec::transform::{StripOptions, merge, strip};
//!
//! let classes = std::fs::read("corpus/v1.29/bytecode/classes.mpy")?;
//! let native = std::fs::read("corpus/v1.29/x64/native_funcs.mpy")?;
//! let (classes, native) = (mpy_codec::decode(&classes)?, mpy_codec::decode(&native)?);
//!
//! // Without line tables: tracebacks say line 1, the file is smaller.
//! let stripped = strip(&classes, &StripOptions::default())?;
//! assert!(stripped.encode()?.len() < classes.encode()?.len());
//! assert!(mpy_codec::verify::verify(&stripped).is_empty());
//!
//! // One module that runs classes.py, then native_funcs.py.
//! let merged = merge(&[classes, native])?;
//! assert_eq!(merged.raw_code.children.len(), 2);
//! assert!(mpy_codec::verify::verify(&merged).is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod merge;
pub mod strip;

use std::fmt;

use crate::bytecode::BytecodeFunction;
use crate::error::Path;
use crate::qstr::Qstr;
use crate::raw_code::RawCode;

pub use merge::{MergeError, merge};
pub use strip::{StripError, StripOptions, strip};

/// Where a transform failed: a raw code's path and, when it could be read, its function name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The raw code, e.g. `raw_code.children[1].children[0]`.
    pub path: Path,
    /// The function's simple name (from its prelude), when known.
    pub name: Option<String>,
}

impl Location {
    /// The location of `func` (decoded from the raw code at `path`), named through `qstrs`.
    pub(crate) fn of(path: &Path, func: Option<&BytecodeFunction>, qstrs: &[Qstr<'_>]) -> Location {
        let name = func.and_then(|f| {
            let index = usize::try_from(f.prelude.simple_name.value).ok()?;
            qstrs.get(index).map(|q| q.lossy().into_owned())
        });
        Location { path: path.clone(), name }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(name) = &self.name {
            write!(f, " (function {name:?})")?;
        }
        Ok(())
    }
}

/// Whether any raw code of the tree is machine code (`@native`, `@viper`, inline assembler).
pub fn has_machine_code(rc: &RawCode<'_>) -> bool {
    rc.kind != crate::raw_code::Kind::Bytecode || rc.children.iter().any(has_machine_code)
}
