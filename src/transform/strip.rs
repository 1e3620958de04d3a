//! [`strip()`]: remove the line-number tables and/or replace the source file name.
//!
//! Line tables are read only by the traceback code (`mp_bytecode_get_source_line`), to print
//! `line N`; nothing else refers to them. They sit inside the source-info section, whose length
//! (`n_info`, in the prelude size) locates the cells and the first opcode, so stripping re-encodes
//! each function through the bytecode model, which recomputes the prelude size. The instructions
//! are written with [`Layout::Exact`]: code bytes stay identical, and jumps, being relative, are
//! unaffected. A stripped function reports line 1 for every offset, as after `mpy-cross -O3`.

use std::borrow::Cow;
use std::fmt;

use super::{Location, has_machine_code};
use crate::bytecode::{BytecodeEncodeError, BytecodeError, BytecodeFunction, Layout, NativePrelude};
use crate::error::{Path, Segment};
use crate::module::Module;
use crate::qstr::Qstr;
use crate::raw_code::{Kind, RawCode};

/// What [`strip()`] does. The default removes every line-number table and keeps the source name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StripOptions {
    /// Keep the line-number tables.
    pub keep_lines: bool,
    /// Replace the source file name (qstr 0) with this text (written as a static qstr when the
    /// firmware has it built in, as mpy-cross does).
    pub source_name: Option<Vec<u8>>,
}

/// Why a module could not be stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StripError {
    /// A bytecode function (or a native function's prelude) does not decode.
    Decode {
        /// The raw code.
        location: Location,
        /// What is wrong, at which offset of its `fun_data`.
        error: BytecodeError,
    },
    /// A stripped function could not be encoded again.
    Encode {
        /// The raw code and function.
        location: Location,
        /// Why.
        error: BytecodeEncodeError,
    },
    /// The source name cannot be replaced in a file with machine code: such code reads qstrs by
    /// indices baked into it, so qstr 0 may be in use as a name or string, and it cannot be moved.
    SourceNameWithMachineCode,
}

impl fmt::Display for StripError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StripError::Decode { location, error } => write!(f, "{location}: cannot decode: {error}"),
            StripError::Encode { location, error } => write!(f, "{location}: cannot encode: {error}"),
            StripError::SourceNameWithMachineCode => f.write_str(
                "cannot replace the source name: the file holds machine code (@native, @viper or \
                 inline assembler), which may use qstr 0 through an index baked into the code",
            ),
        }
    }
}

impl std::error::Error for StripError {}

/// Returns `module` with every line-number table removed (unless `options.keep_lines`) and the
/// source name replaced (if `options.source_name` is set).
///
/// * Bytecode functions are decoded, edited and re-encoded with recomputed prelude sizes; a
///   function with nothing to change keeps its bytes.
/// * `@micropython.native` functions carry a prelude without line info (mpy-cross writes none);
///   should one have some, it is removed too (the prelude is the tail of `fun_data`, after the
///   machine code, so nothing moves). Viper and assembler code have no line tables.
/// * The source name is qstr 0, which the VM reads for tracebacks. If bytecode also uses qstr 0 as
///   a name or string (a file compiled with `-s print` names its qstr 0 `print`), the old text is
///   appended to the table and those uses point there. Files with machine code are refused
///   ([`StripError::SourceNameWithMachineCode`]).
///
/// The result encodes canonically (any irregularity of the input is dropped).
pub fn strip(module: &Module<'_>, options: &StripOptions) -> Result<Module<'static>, StripError> {
    let mut out = module.clone().into_owned();
    let mut moved_qstr0 = None;
    if let Some(name) = &options.source_name {
        if has_machine_code(&out.raw_code) {
            return Err(StripError::SourceNameWithMachineCode);
        }
        let new = Qstr::new(name).into_owned();
        if out.qstrs.is_empty() {
            out.qstrs.push(new);
        } else {
            if uses_qstr0(&out.raw_code, &mut root_path())? {
                moved_qstr0 = Some(out.qstrs.len() as u64);
                let old = out.qstrs[0].clone();
                out.qstrs.push(old);
            }
            out.qstrs[0] = new;
        }
    }
    let edit = Edit { strip_lines: !options.keep_lines, moved_qstr0 };
    if edit.strip_lines || edit.moved_qstr0.is_some() {
        // Errors name functions by the input's table (the same entries, bar qstr 0).
        edit.apply(&mut out.raw_code, &mut root_path(), &module.qstrs)?;
    }
    Ok(out)
}

fn root_path() -> Path {
    Path(vec![Segment::Field("raw_code")])
}

fn decode(rc: &RawCode<'_>, path: &Path) -> Result<BytecodeFunction, StripError> {
    BytecodeFunction::decode(&rc.fun_data)
        .map_err(|error| StripError::Decode { location: Location { path: path.clone(), name: None }, error })
}

/// Whether any bytecode function of the tree names qstr 0 (operand or prelude name).
fn uses_qstr0(rc: &RawCode<'_>, path: &mut Path) -> Result<bool, StripError> {
    if rc.kind == Kind::Bytecode {
        let mut func = decode(rc, path)?;
        let mut used = false;
        func.map_qstr_indices(|q| {
            used |= q == 0;
            q
        });
        if used {
            return Ok(true);
        }
    }
    for (k, child) in rc.children.iter().enumerate() {
        path.push(Segment::Child(k));
        let used = uses_qstr0(child, path)?;
        path.pop();
        if used {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The edits applied to every raw code.
struct Edit {
    strip_lines: bool,
    /// Where the old qstr 0 went, when bytecode uses it.
    moved_qstr0: Option<u64>,
}

impl Edit {
    fn apply(
        &self,
        rc: &mut RawCode<'static>,
        path: &mut Path,
        qstrs: &[Qstr<'_>],
    ) -> Result<(), StripError> {
        match rc.kind {
            Kind::Bytecode => self.bytecode(rc, path, qstrs)?,
            Kind::NativePython { prelude_offset } if self.strip_lines => {
                native_prelude(rc, prelude_offset, path, qstrs)?;
            }
            _ => {}
        }
        for (k, child) in rc.children.iter_mut().enumerate() {
            path.push(Segment::Child(k));
            self.apply(child, path, qstrs)?;
            path.pop();
        }
        Ok(())
    }

    fn bytecode(&self, rc: &mut RawCode<'static>, path: &Path, qstrs: &[Qstr<'_>]) -> Result<(), StripError> {
        let mut func = decode(rc, path)?;
        let mut renamed = false;
        if let Some(to) = self.moved_qstr0 {
            func.map_qstr_indices(|q| {
                if q == 0 {
                    renamed = true;
                    to
                } else {
                    q
                }
            });
        }
        let stripped = self.strip_lines && !func.line_table.entries.is_empty();
        if stripped {
            func.strip_line_table();
        }
        if !renamed && !stripped {
            return Ok(());
        }
        // A renamed operand may have grown (index 0 → n), which can move jump targets past what
        // their width holds: lay jumps out again, as mpy-cross would. Otherwise the code is
        // unchanged and keeps its exact bytes.
        let layout = if renamed { Layout::Relaid } else { Layout::Exact };
        let encoded = func.encode_with(layout).map_err(|error| StripError::Encode {
            location: Location::of(path, Some(&func), qstrs),
            error,
        })?;
        rc.fun_data = Cow::Owned(encoded.bytes);
        Ok(())
    }
}

/// Removes line info from a `@micropython.native` prelude, if it has any.
fn native_prelude(
    rc: &mut RawCode<'static>,
    prelude_offset: u64,
    path: &Path,
    qstrs: &[Qstr<'_>],
) -> Result<(), StripError> {
    let offset = usize::try_from(prelude_offset).unwrap_or(usize::MAX);
    let mut prelude = NativePrelude::decode(&rc.fun_data, offset).map_err(|error| StripError::Decode {
        location: Location { path: path.clone(), name: None },
        error,
    })?;
    if prelude.line_table.entries.is_empty() {
        return Ok(());
    }
    prelude.line_table.entries.clear();
    let location = || {
        let index = usize::try_from(prelude.prelude.simple_name.value).ok();
        let name = index.and_then(|i| qstrs.get(i)).map(|q| q.lossy().into_owned());
        Location { path: path.clone(), name }
    };
    let bytes = prelude.encode().map_err(|error| StripError::Encode { location: location(), error })?;
    let mut fun_data = rc.fun_data[..offset].to_vec();
    fun_data.extend_from_slice(&bytes);
    rc.fun_data = Cow::Owned(fun_data);
    Ok(())
}
