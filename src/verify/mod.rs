//! The verifier: a separate pass over a decoded module (like wasmparser's `Validator`) that proves
//! what MicroPython's loader and VM take on trust: every index in range, every opcode assigned,
//! yields only in generators, cells only where a cell is (`check_children` below), every jump on an
//! instruction boundary, preludes consistent, relocations inside their buffers, and stack
//! discipline (the value stack never underflows nor outgrows the room `n_state` leaves, and
//! exception handlers never nest deeper than `n_exc_stack`).
//!
//! [`verify`] returns every finding, each with its path, the byte offset inside that raw code's
//! `fun_data` where it applies, the check that failed and what is wrong. An empty list means the
//! file passes every check above: the loader reads it safely, and the VM never finds its value
//! stack too small or too empty nor its handler stack overrun.
//!
//! Not proven yet: the kind of every value but cells, which the VM also trusts (a NULL never used
//! as an object, `STORE_COMP`/`STORE_MAP` into the collection they expect, `FOR_ITER` on an
//! iterator buffer). `tests/soundness.rs` runs verified mutants in the real
//! MicroPython and lists the crashes these leave in `tests/soundness/known_gaps.txt`.
//!
//! The passes: `container` (header, qstrs, objects, native records, relocations); per bytecode
//! function, `linear` (a one-pass proof that the function is clean, enough for compiler output),
//! and only where it proves nothing, `function` (prelude, operands, jumps) and `stack` (stack
//! discipline over every path), the exhaustive passes whose findings are reported.

mod container;
mod function;
mod linear;
mod stack;

use std::fmt;

use crate::error::{Path, Segment};
use crate::module::Module;

/// Which rule a finding breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Check {
    /// The header: arch unknown to the sub-version, native code in a bytecode-only file, ...
    Header,
    /// A static qstr id outside 1..=165.
    StaticQstr,
    /// An int, float or complex text that does not parse as one.
    NumberText,
    /// A native record: prelude offset outside the code, rodata/bss in the wrong kind, ...
    NativeRecord,
    /// A relocation op: no cursor, outside text/rodata, a function-table index past the table.
    Relocation,
    /// `fun_data` does not decode as bytecode (truncated operand, prelude past the end, ...).
    Decode,
    /// Prelude inconsistency (`n_def_pos_args > n_pos_args`, `n_state` too small, bad cell).
    Prelude,
    /// An opcode the VM does not implement.
    Opcode,
    /// `YIELD_VALUE` or `YIELD_FROM` in a function without the generator scope flag (the VM would
    /// hand the caller a yield it does not expect).
    Generator,
    /// `LOAD_DEREF`/`STORE_DEREF`/`DELETE_DEREF` on a local that holds no cell, a store or delete
    /// that would replace a cell, or `MAKE_CLOSURE` capturing a value that is not a cell (the VM
    /// reads a cell's contents without checking its type).
    Cell,
    /// A qstr-table index out of range.
    QstrIndex,
    /// A constant-table index out of range.
    ConstIndex,
    /// A child index out of range.
    ChildIndex,
    /// A local slot at or past `n_state`.
    LocalIndex,
    /// A jump outside the code or into the middle of an instruction.
    JumpTarget,
    /// Execution can run off the end of the code.
    FallsOffEnd,
    /// The value stack underflows.
    StackUnderflow,
    /// The value stack reaches the locals (`n_state` too small for the code).
    StackOverflow,
    /// Two paths reach an instruction with different stack or handler depths.
    StackMismatch,
    /// More exception handlers nested than `n_exc_stack`, or a handler popped that is not there.
    ExceptionStack,
}

impl Check {
    /// A short kebab-case name, shown in brackets.
    pub fn name(self) -> &'static str {
        match self {
            Check::Header => "header",
            Check::StaticQstr => "static-qstr",
            Check::NumberText => "number-text",
            Check::NativeRecord => "native-record",
            Check::Relocation => "relocation",
            Check::Decode => "decode",
            Check::Prelude => "prelude",
            Check::Opcode => "opcode",
            Check::Generator => "generator",
            Check::Cell => "cell",
            Check::QstrIndex => "qstr-index",
            Check::ConstIndex => "const-index",
            Check::ChildIndex => "child-index",
            Check::LocalIndex => "local-index",
            Check::JumpTarget => "jump-target",
            Check::FallsOffEnd => "falls-off-end",
            Check::StackUnderflow => "stack-underflow",
            Check::StackOverflow => "stack-overflow",
            Check::StackMismatch => "stack-mismatch",
            Check::ExceptionStack => "exception-stack",
        }
    }
}

/// One thing wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: `qstrs[4]`, `objects[2][1]`, `raw_code.children[1]`, ...
    pub path: Path,
    /// Byte offset inside the raw code's `fun_data`, when the finding is about its bytes.
    pub offset: Option<usize>,
    pub check: Check,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(offset) = self.offset {
            write!(f, " +{offset:#x}")?;
        }
        write!(f, ": {} [{}]", self.message, self.check.name())
    }
}

/// Collects findings with the current path.
pub(crate) struct Findings {
    pub(crate) list: Vec<Finding>,
}

impl Findings {
    pub(crate) fn add(&mut self, path: &Path, offset: Option<usize>, check: Check, message: String) {
        self.list.push(Finding { path: path.clone(), offset, check, message });
    }
}

/// Verifies a whole module; an empty list means it passed every check. (To verify many modules,
/// a [`Verifier`] is faster.)
pub fn verify(module: &Module<'_>) -> Vec<Finding> {
    Verifier::new().verify(module)
}

/// Verifies modules one after another, keeping its working buffers from one to the next (they are
/// sized for the largest function seen). [`Verifier::verify`] gives what [`verify`] gives.
///
/// Each bytecode function is first read by a one-pass proof that it is clean, which is enough for
/// compiler output; only a function it cannot prove clean goes through the exhaustive passes that
/// find and explain every problem. Either way the findings are those of the exhaustive passes.
///
/// A `Verifier` is `Send`: to verify a batch of files on every core, give each thread its own (as
/// `mpy verify` does).
#[derive(Default)]
pub struct Verifier {
    scratch: function::Scratch,
}

const _: () = {
    const fn send<T: Send>() {}
    send::<Verifier>()
};

impl Verifier {
    /// A verifier with empty buffers.
    pub fn new() -> Self {
        Verifier::default()
    }

    /// A verifier that skips the one-pass proof and checks every function with the exhaustive
    /// passes. Its findings are the same (the tests and the `verify` fuzz target hold the two to
    /// that); it is slower. For testing and measuring.
    pub fn exhaustive() -> Self {
        let mut verifier = Verifier::default();
        verifier.scratch.exhaustive = true;
        verifier
    }

    /// Verifies a whole module; an empty list means it passed every check.
    pub fn verify(&mut self, module: &Module<'_>) -> Vec<Finding> {
        let mut findings = Findings { list: Vec::new() };
        container::check(module, &mut findings);
        let scratch = &mut self.scratch;
        scratch.start_module(module);
        let mut path = Path::starting_at(Segment::Field("raw_code"));
        function::check(module, &path, &module.raw_code, &mut || 0, scratch, &mut findings);
        check_children(module, &mut path, &module.raw_code, scratch, &mut findings);
        findings.list
    }
}

/// Checks the descendants of `rc`, parents before children, as [`crate::RawCode::walk`] goes.
/// (The depth is that of the tree, which decoding caps at [`crate::limits::MAX_RAW_CODE_DEPTH`].)
///
/// The cells each child is made with are worked out only when a child asks
/// ([`function::closed_children`], once per parent). Most children never ask: read as if made
/// without cells, they are proven clean.
fn check_children(
    module: &Module<'_>,
    path: &mut Path,
    rc: &crate::RawCode<'_>,
    scratch: &mut function::Scratch,
    findings: &mut Findings,
) {
    let mut closed = None;
    for (k, child) in rc.children.iter().enumerate() {
        path.push(Segment::Child(k));
        let mut made_with = || closed.get_or_insert_with(|| function::closed_children(rc))[k];
        function::check(module, path, child, &mut made_with, scratch, findings);
        check_children(module, path, child, scratch, findings);
        path.pop();
    }
}
