//! [`merge()`]: several modules into one that runs each in turn, like upstream's
//! `mpy-tool.py --merge`.
//!
//! The merged module has:
//!
//! * one qstr table and one constant table. Machine code reads both through indices baked into it
//!   (`mp_native_qstr_table[i]`, the constant table and the `FUN_TABLE` object at fixed slots), so
//!   the tables of the one input with machine code come first, entry for entry, at the indices
//!   they had (without such an input, the first input's tables do). Its code is copied as it is,
//!   and its qstr 0 is the merged file's source name (what tracebacks show for every function).
//!   The other inputs' entries follow as their code uses them: an entry equal to one already in
//!   the table (same text, same constant) is shared instead of repeated, and one nothing uses
//!   (their own source names, as a rule) is left out.
//! * an outer raw code built here (prelude without line info, named `<module>`) whose children are
//!   the inputs' outer raw codes, in the order given, and which calls each in turn:
//!   `MAKE_FUNCTION i; CALL_FUNCTION 0; POP_TOP` per input, then `LOAD_CONST_NONE;
//!   RETURN_VALUE`.
//! * every bytecode function of the other inputs renumbered through the bytecode model: prelude
//!   names and QSTR operands through the qstr map, `LOAD_CONST_OBJ` through the constant map, and
//!   jumps laid out again (an operand may have grown), with the prelude size recomputed. A function
//!   whose indices do not change keeps its bytes.
//! * the header of the input with machine code (or, without one, of any input that declares an
//!   arch; bytecode only otherwise), with the largest small-int size any input needs.
//!
//! Each input's code runs with the merged module's globals: it sees what earlier inputs defined,
//! and `__name__` is the merged module's name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use super::{Location, has_machine_code};
use crate::bytecode::{
    BytecodeEncodeError, BytecodeError, BytecodeFunction, Instruction, LineTable, Opcode, Operand, Prelude,
    Signature, UintArg,
};
use crate::error::{Path, Segment};
use crate::flags::ScopeFlags;
use crate::header::{Arch, Header};
use crate::module::Module;
use crate::object::Object;
use crate::qstr::Qstr;
use crate::raw_code::{Kind, RawCode};

/// Why modules could not be merged. Inputs are numbered from 0 in the order given, and shown as
/// `modules[i]`; [`MergeError::display_with`] shows file names instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeError {
    /// No modules were given.
    NoInputs,
    /// Two inputs hold machine code. Each one's code needs its own tables at index 0.
    SeveralNative {
        /// The first input with machine code.
        first: usize,
        /// The second.
        second: usize,
    },
    /// An input holds machine code, but its header declares no architecture.
    NativeWithoutArch {
        /// The input.
        file: usize,
    },
    /// Two inputs declare different architectures.
    ArchMismatch {
        /// The input whose header the merged file takes.
        first: usize,
        /// Its architecture.
        first_arch: Arch,
        /// The input that disagrees.
        second: usize,
        /// Its architecture.
        second_arch: Arch,
    },
    /// Two inputs for the same architecture declare different sub-versions (native ABIs).
    SubVersionMismatch {
        /// The input whose header the merged file takes.
        first: usize,
        /// Its sub-version.
        first_sub_version: u8,
        /// The input that disagrees.
        second: usize,
        /// Its sub-version.
        second_sub_version: u8,
    },
    /// A bytecode function does not decode.
    Decode {
        /// The input.
        file: usize,
        /// The raw code.
        location: Location,
        /// What is wrong.
        error: BytecodeError,
    },
    /// A bytecode function names a qstr or constant its file's table does not have.
    IndexOutOfRange {
        /// The input.
        file: usize,
        /// The function.
        location: Location,
        /// `qstr` or `constant`.
        what: &'static str,
        /// The index.
        index: u64,
        /// The length of the file's table.
        len: usize,
    },
    /// A renumbered function could not be encoded (a jump no longer fits: "bytecode overflow").
    Encode {
        /// The input.
        file: usize,
        /// The function.
        location: Location,
        /// Why.
        error: BytecodeEncodeError,
    },
}

impl MergeError {
    /// The inputs the error is about.
    pub fn files(&self) -> Vec<usize> {
        match *self {
            MergeError::NoInputs => vec![],
            MergeError::SeveralNative { first, second }
            | MergeError::ArchMismatch { first, second, .. }
            | MergeError::SubVersionMismatch { first, second, .. } => vec![first, second],
            MergeError::NativeWithoutArch { file }
            | MergeError::Decode { file, .. }
            | MergeError::IndexOutOfRange { file, .. }
            | MergeError::Encode { file, .. } => vec![file],
        }
    }

    /// The message with input `i` shown as `names[i]` (as given on a command line).
    pub fn display_with<'a, S: AsRef<str>>(&'a self, names: &'a [S]) -> impl fmt::Display + 'a {
        Named { error: self, names }
    }

    fn render(&self, f: &mut fmt::Formatter<'_>, name: &dyn Fn(usize) -> String) -> fmt::Result {
        match self {
            MergeError::NoInputs => f.write_str("nothing to merge"),
            MergeError::SeveralNative { first, second } => write!(
                f,
                "{} and {} both contain native code; at most one input may (its machine code \
                 uses its qstr and constant tables at fixed indices, so they must come first)",
                name(*first),
                name(*second)
            ),
            MergeError::NativeWithoutArch { file } => {
                write!(f, "{}: contains native code, but its header declares no architecture", name(*file))
            }
            MergeError::ArchMismatch { first, first_arch, second, second_arch } => write!(
                f,
                "{} is for {first_arch} but {} is for {second_arch}: the merged file can declare \
                 only one architecture",
                name(*first),
                name(*second)
            ),
            MergeError::SubVersionMismatch { first, first_sub_version, second, second_sub_version } => {
                write!(
                    f,
                    "{} declares native sub-version 6.{first_sub_version} but {} declares \
                     6.{second_sub_version}: the merged file can declare only one",
                    name(*first),
                    name(*second)
                )
            }
            MergeError::Decode { file, location, error } => {
                write!(f, "{}: {location}: cannot decode: {error}", name(*file))
            }
            MergeError::IndexOutOfRange { file, location, what, index, len } => write!(
                f,
                "{}: {location}: names {what} {index}, but the file's {what} table has {len} entries",
                name(*file)
            ),
            MergeError::Encode { file, location, error } => {
                write!(f, "{}: {location}: cannot encode after renumbering: {error}", name(*file))
            }
        }
    }
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, &|i| format!("modules[{i}]"))
    }
}

impl std::error::Error for MergeError {}

struct Named<'a, S> {
    error: &'a MergeError,
    names: &'a [S],
}

impl<S: AsRef<str>> fmt::Display for Named<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.render(f, &|i| match self.names.get(i) {
            Some(name) => name.as_ref().to_string(),
            None => format!("modules[{i}]"),
        })
    }
}

/// Merges `modules` into one module that runs each in the order given (see the module
/// documentation). At most one input may hold machine code; inputs that declare an architecture
/// must agree on it and on the sub-version. A single input is returned unchanged.
pub fn merge(modules: &[Module<'_>]) -> Result<Module<'static>, MergeError> {
    let header = merged_header(modules)?;
    let native = modules.iter().position(|m| has_machine_code(&m.raw_code));
    if modules.len() == 1 {
        return Ok(modules[0].clone().into_owned());
    }

    // The tables of the input with machine code, or else of the first input, are copied entry for
    // entry: its code needs no renumbering, and its qstr 0 is the merged file's source name.
    let base = native.unwrap_or(0);
    let mut tables = Tables::default();
    tables.add_verbatim(&modules[base]);
    let mut children = Vec::with_capacity(modules.len());
    for (file, module) in modules.iter().enumerate() {
        if file == base {
            children.push(module.raw_code.clone().into_owned());
            continue;
        }
        let mut renumber = Renumber {
            file,
            module,
            tables: &mut tables,
            qmap: vec![None; module.qstrs.len()],
            omap: vec![None; module.objects.len()],
        };
        let mut path = Path(vec![Segment::Field("raw_code")]);
        children.push(renumber.raw_code(&module.raw_code, &mut path)?);
    }

    let name = tables.qstr(&Qstr::new(b"<module>"));
    let outer = outer_function(name, children.len());
    // Straight-line code with one stack slot: nothing in it can fail to encode.
    let fun_data = outer.encode_relaid().expect("the merged outer function encodes");
    Ok(Module {
        header,
        qstrs: tables.qstrs,
        objects: tables.objects,
        raw_code: RawCode { kind: Kind::Bytecode, fun_data: Cow::Owned(fun_data), children },
    })
}

/// The header of the merged file, after checking that the inputs can be merged.
fn merged_header(modules: &[Module<'_>]) -> Result<Header, MergeError> {
    if modules.is_empty() {
        return Err(MergeError::NoInputs);
    }
    let mut native = None;
    for (file, module) in modules.iter().enumerate() {
        if has_machine_code(&module.raw_code) {
            if let Some(first) = native {
                return Err(MergeError::SeveralNative { first, second: file });
            }
            if !module.header.is_native() {
                return Err(MergeError::NativeWithoutArch { file });
            }
            native = Some(file);
        }
    }
    // The header that decides: the native input's, else the first that declares an arch.
    let reference = native.or_else(|| modules.iter().position(|m| m.header.is_native()));
    let mut header = match reference {
        Some(r) => {
            let h = &modules[r].header;
            for (file, module) in modules.iter().enumerate().filter(|(_, m)| m.header.is_native()) {
                let other = &module.header;
                if other.arch != h.arch {
                    return Err(MergeError::ArchMismatch {
                        first: r,
                        first_arch: h.arch,
                        second: file,
                        second_arch: other.arch,
                    });
                }
                if other.sub_version != h.sub_version {
                    return Err(MergeError::SubVersionMismatch {
                        first: r,
                        first_sub_version: h.sub_version,
                        second: file,
                        second_sub_version: other.sub_version,
                    });
                }
            }
            Header { sub_version: h.sub_version, arch: h.arch, ..Header::default() }
        }
        None => Header::default(),
    };
    header.small_int_bits = modules.iter().map(|m| m.header.small_int_bits).max().unwrap_or(31);
    // Required extensions (RV32): whatever any input requires.
    header.arch_flags = modules.iter().filter_map(|m| m.header.arch_flags).reduce(|a, b| a | b);
    Ok(header)
}

/// The merged tables, with the index of each distinct entry.
#[derive(Default)]
struct Tables {
    qstrs: Vec<Qstr<'static>>,
    qstr_index: HashMap<QstrKey, u64>,
    objects: Vec<Object<'static>>,
    object_index: HashMap<Object<'static>, u64>,
}

/// What makes two qstrs the same at run time: their text (a static qstr and a dynamic one with the
/// same text intern to the same qstr), or the id of a static qstr the firmware does not know.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum QstrKey {
    Text(Vec<u8>),
    UnknownStatic(u64),
}

fn qstr_key(q: &Qstr<'_>) -> QstrKey {
    match (q.bytes(), q) {
        (Some(text), _) => QstrKey::Text(text.to_vec()),
        (None, Qstr::Static(id)) => QstrKey::UnknownStatic(*id),
        (None, Qstr::Dynamic(text)) => QstrKey::Text(text.to_vec()),
    }
}

impl Tables {
    /// Appends a module's tables entry for entry (they keep their indices when they come first).
    fn add_verbatim(&mut self, module: &Module<'_>) {
        for q in &module.qstrs {
            let index = self.qstrs.len() as u64;
            self.qstr_index.entry(qstr_key(q)).or_insert(index);
            self.qstrs.push(q.clone().into_owned());
        }
        for o in &module.objects {
            let index = self.objects.len() as u64;
            self.object_index.entry(o.clone().into_owned()).or_insert(index);
            self.objects.push(o.clone().into_owned());
        }
    }

    /// The index of `q`, added if new.
    fn qstr(&mut self, q: &Qstr<'_>) -> u64 {
        match self.qstr_index.entry(qstr_key(q)) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let index = self.qstrs.len() as u64;
                self.qstrs.push(q.clone().into_owned());
                *e.insert(index)
            }
        }
    }

    /// The index of `o`, added if new.
    fn object(&mut self, o: &Object<'_>) -> u64 {
        match self.object_index.entry(o.clone().into_owned()) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let index = self.objects.len() as u64;
                self.objects.push(o.clone().into_owned());
                *e.insert(index)
            }
        }
    }
}

/// Renumbers one bytecode input's functions into the merged tables. An entry joins the merged
/// table when a function first uses it, so entries nothing uses (the input's own source name, as a
/// rule) are left out.
struct Renumber<'m, 'a> {
    file: usize,
    module: &'m Module<'a>,
    tables: &'m mut Tables,
    /// The merged index of each of the input's qstrs, once used.
    qmap: Vec<Option<u64>>,
    /// The same for constants.
    omap: Vec<Option<u64>>,
}

/// An index a function uses that its input's table does not have: (what, index, table length).
type Missing = (&'static str, u64, usize);

impl Renumber<'_, '_> {
    fn qstr(&mut self, index: u64, missing: &mut Option<Missing>) -> u64 {
        let Some(slot) = usize::try_from(index).ok().filter(|&i| i < self.qmap.len()) else {
            missing.get_or_insert(("qstr", index, self.qmap.len()));
            return index;
        };
        *self.qmap[slot].get_or_insert_with(|| self.tables.qstr(&self.module.qstrs[slot]))
    }

    fn object(&mut self, index: u64, missing: &mut Option<Missing>) -> u64 {
        let Some(slot) = usize::try_from(index).ok().filter(|&i| i < self.omap.len()) else {
            missing.get_or_insert(("constant", index, self.omap.len()));
            return index;
        };
        *self.omap[slot].get_or_insert_with(|| self.tables.object(&self.module.objects[slot]))
    }

    fn raw_code(&mut self, rc: &RawCode<'_>, path: &mut Path) -> Result<RawCode<'static>, MergeError> {
        // Inputs without machine code hold bytecode only.
        debug_assert_eq!(rc.kind, Kind::Bytecode);
        let file = self.file;
        let mut func = BytecodeFunction::decode(&rc.fun_data).map_err(|error| MergeError::Decode {
            file,
            location: Location { path: path.clone(), name: None },
            error,
        })?;
        let before = func.clone();
        let mut missing = None;
        func.map_qstr_indices(|q| self.qstr(q, &mut missing));
        func.map_const_indices(|c| self.object(c, &mut missing));
        let location = || Location::of(path, Some(&before), &self.module.qstrs);
        if let Some((what, index, len)) = missing {
            return Err(MergeError::IndexOutOfRange { file, location: location(), what, index, len });
        }
        let fun_data = if func == before {
            Cow::Owned(rc.fun_data.to_vec())
        } else {
            let bytes = func.encode_relaid().map_err(|error| MergeError::Encode {
                file,
                location: location(),
                error,
            })?;
            Cow::Owned(bytes)
        };
        let mut children = Vec::with_capacity(rc.children.len());
        for (k, child) in rc.children.iter().enumerate() {
            path.push(Segment::Child(k));
            children.push(self.raw_code(child, path)?);
            path.pop();
        }
        Ok(RawCode { kind: Kind::Bytecode, fun_data, children })
    }
}

/// The merged module's outer function: calls children `0..n` in order, then returns `None`.
fn outer_function(name: u64, n: usize) -> BytecodeFunction {
    let mut instructions = Vec::with_capacity(3 * n + 2);
    for k in 0..n {
        instructions.push(Instruction::new(
            Opcode::MAKE_FUNCTION,
            Operand::Child(UintArg::new(k as u64)),
            None,
        ));
        instructions.push(Instruction::new(Opcode::CALL_FUNCTION, Operand::Uint(UintArg::new(0)), None));
        instructions.push(Instruction::op(Opcode::POP_TOP));
    }
    instructions.push(Instruction::op(Opcode::LOAD_CONST_NONE));
    instructions.push(Instruction::op(Opcode::RETURN_VALUE));
    BytecodeFunction {
        prelude: Prelude {
            // One stack slot: the function, then its result.
            signature: Signature {
                n_state: 1,
                n_exc_stack: 0,
                scope_flags: ScopeFlags::empty(),
                n_pos_args: 0,
                n_kwonly_args: 0,
                n_def_pos_args: 0,
            },
            signature_pad: 0,
            size_pad: 0,
            simple_name: UintArg::new(name),
            arg_names: Vec::new(),
            cells: Vec::new(),
        },
        line_table: LineTable::default(),
        instructions,
    }
}
