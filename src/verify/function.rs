//! Checks of one raw code's contents: a bytecode function's prelude, operands and jumps, or a
//! native function's prelude; then stack discipline (in `stack.rs`). A bytecode function whose
//! prelude is clean is first given to the one-pass proof (`linear.rs`); these exhaustive passes
//! run only when it proves nothing, and their findings are the ones reported.
//!
//! The instructions are decoded in place ([`BytecodeView::op_at`]) once here, in order; the stack
//! analysis then runs most of them from the records this pass leaves ([`Plain`]) and decodes only
//! the others again. What the two passes share (which offsets start an instruction, which are jump
//! targets, the plain records) lives in [`Scratch`], whose buffers are reused from one function to
//! the next.

use std::fmt;

use crate::bytecode::opcode::Multi;
use crate::bytecode::{
    BytecodeError, BytecodeView, Flow, Format, NativePrelude, Op, Opcode, OperandKind, PreludeView,
};
use crate::error::Path;
use crate::flags::ScopeFlags;
use crate::module::Module;
use crate::raw_code::{Kind, RawCode};

use super::linear::LinearScratch;
use super::stack::{Ctx, Plain, StackScratch};
use super::{Check, Finding, Findings};

/// A set of code offsets.
#[derive(Default)]
pub(super) struct OffsetSet {
    words: Vec<u64>,
}

impl OffsetSet {
    /// Empties the set and makes room for offsets below `len`.
    fn reset(&mut self, len: usize) {
        self.words.clear();
        self.words.resize(len / 64 + 1, 0);
    }

    fn insert(&mut self, offset: usize) {
        if let Some(w) = self.words.get_mut(offset / 64) {
            *w |= 1 << (offset % 64);
        }
    }

    pub(super) fn contains(&self, offset: usize) -> bool {
        self.words.get(offset / 64).is_some_and(|w| w & (1 << (offset % 64)) != 0)
    }

    /// `target` as an offset, if it lies inside code of `code_len` bytes and is in the set (used
    /// on the set of instruction starts: a jump or handler target that is valid).
    pub(super) fn target(&self, target: i64, code_len: usize) -> Option<usize> {
        usize::try_from(target).ok().filter(|&t| t < code_len && self.contains(t))
    }
}

/// A jump seen by the first pass, checked once every instruction start is known.
struct PendingJump {
    offset: usize,
    opcode: Opcode,
    target: i64,
    /// Where its finding goes in the list, if the target is bad (after the instruction's other
    /// findings, before the next instruction's).
    finding: usize,
}

/// Buffers reused across the functions of a module.
#[derive(Default)]
pub(super) struct Scratch {
    /// Code offsets at which an instruction starts.
    pub(super) starts: OffsetSet,
    /// Valid jump and handler targets, and the entry.
    pub(super) joins: OffsetSet,
    /// The stack effect of each plain instruction, by code offset (see [`Plain`]).
    pub(super) plain: Vec<Plain>,
    jumps: Vec<PendingJump>,
    /// The qstr-table indices that name `BaseException`.
    pub(super) base_exception: Vec<u64>,
    pub(super) stack: StackScratch,
    pub(super) linear: LinearScratch,
    /// Skip the one-pass proof ([`super::Verifier::exhaustive`]).
    pub(super) exhaustive: bool,
}

impl Scratch {
    /// Prepares for the functions of `module`.
    pub(super) fn start_module(&mut self, module: &Module<'_>) {
        let base_exception = module.qstrs.iter().enumerate();
        let base_exception =
            base_exception.filter(|(_, q)| q.bytes() == Some(b"BaseException")).map(|(i, _)| i as u64);
        self.base_exception.clear();
        self.base_exception.extend(base_exception);
    }
}

/// Checks one raw code. `closed` gives, when asked, the fewest cells its parent makes it with
/// (the cells a closure receives as its first arguments; see [`closed_children`]).
pub(super) fn check(
    module: &Module<'_>,
    path: &Path,
    rc: &RawCode<'_>,
    closed: &mut dyn FnMut() -> u8,
    scratch: &mut Scratch,
    f: &mut Findings,
) {
    match &rc.kind {
        Kind::Bytecode => {}
        Kind::NativePython { prelude_offset } => {
            let Ok(offset) = usize::try_from(*prelude_offset) else { return };
            if offset >= rc.fun_data.len() {
                return; // reported with the native record
            }
            match NativePrelude::view(&rc.fun_data, offset) {
                Ok(prelude) => check_prelude(module, path, &prelude, false, f),
                Err(e) => f.add(path, Some(e.offset), Check::Decode, format!("native prelude: {e}")),
            }
            return;
        }
        Kind::Viper(_) | Kind::Asm(_) => return,
    }
    let view = match BytecodeView::decode(&rc.fun_data) {
        Ok(view) => view,
        Err(e) => {
            f.add(path, Some(e.offset), Check::Decode, e.to_string());
            return;
        }
    };
    // Findings of this function start here; a decode error replaces them all.
    let first_finding = f.list.len();
    check_prelude(module, path, &view.prelude, true, f);
    // The function is read first as if made without cells, which is always a safe reading; if
    // that does not prove it clean, with the cells its parent makes it with (`closed`). It passes
    // if either does; otherwise the findings are those of the second (see `closed_children`).
    let prelude_ok = f.list.len() == first_finding;
    let cells = |closed: u8| {
        let cells = Cells::new(view.prelude.cells, closed);
        (Ctx::new(path, &view, cells), Bounds::new(module, rc, &view, cells))
    };
    let (ctx, bounds) = cells(0);
    // Most functions are proven clean in one pass; any other is checked again by the two passes
    // below, which find and explain every problem.
    if !scratch.exhaustive && prelude_ok {
        if super::linear::proves_clean(module, &ctx, &bounds, &view, scratch) {
            return;
        }
        let n = closed();
        if n > 0 {
            let (ctx, bounds) = cells(n);
            if super::linear::proves_clean(module, &ctx, &bounds, &view, scratch) {
                return;
            }
        }
    }
    let mark = f.list.len();
    if !check_code(module, path, &ctx, &bounds, &view, scratch, first_finding, f) || f.list.len() == mark {
        return;
    }
    let n = closed();
    if n > 0 {
        f.list.truncate(mark);
        let (ctx, bounds) = cells(n);
        check_code(module, path, &ctx, &bounds, &view, scratch, first_finding, f);
    }
}

/// The two exhaustive passes over a function's code; false when it does not decode (that error
/// then replaces every finding of the function from `first_finding` on).
#[allow(clippy::too_many_arguments)]
fn check_code(
    module: &Module<'_>,
    path: &Path,
    ctx: &Ctx<'_>,
    bounds: &Bounds,
    view: &BytecodeView<'_>,
    scratch: &mut Scratch,
    first_finding: usize,
    f: &mut Findings,
) -> bool {
    let last = match check_instructions(path, bounds, view, scratch, f) {
        Ok(last) => last,
        Err(e) => {
            f.list.truncate(first_finding);
            f.add(path, Some(e.offset), Check::Decode, e.to_string());
            return false;
        }
    };
    let code_start = view.code_start();
    match last {
        None => f.add(path, Some(code_start), Check::FallsOffEnd, "the function has no instructions".into()),
        Some(last)
            if matches!(last.info().flow, Flow::Next | Flow::Branch | Flow::Handler | Flow::EndFinally) =>
        {
            f.add(
                path,
                Some(code_start + last.offset),
                Check::FallsOffEnd,
                format!("execution can continue past the last instruction ({})", last.opcode.upstream_name()),
            )
        }
        _ => {}
    }
    super::stack::check(module, ctx, view, scratch, f);
    true
}

/// The sizes of what an instruction's operands index into.
pub(super) struct Bounds {
    pub(super) n_qstr: u64,
    pub(super) n_obj: u64,
    pub(super) n_children: u64,
    pub(super) n_state: u64,
    /// Whether the function has the generator scope flag (may yield).
    pub(super) generator: bool,
    /// The locals that hold cells.
    pub(super) cells: Cells,
}

impl Bounds {
    pub(super) fn new(module: &Module<'_>, rc: &RawCode<'_>, view: &BytecodeView<'_>, cells: Cells) -> Self {
        Bounds {
            n_qstr: module.qstrs.len() as u64,
            n_obj: module.objects.len() as u64,
            n_children: rc.children.len() as u64,
            n_state: u64::from(view.prelude.signature.n_state),
            generator: view.prelude.signature.scope_flags.contains(ScopeFlags::GENERATOR),
            cells,
        }
    }
}

/// The locals of a function that hold cells: those its prelude turns into cells on entry, and the
/// first `closed` arguments, the cells a closure receives. (Both are below 256: a prelude names a
/// cell in one byte, and `MAKE_CLOSURE` counts the cells it captures in one.)
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Cells([u64; 4]);

impl Cells {
    pub(super) fn new(prelude_cells: &[u8], closed: u8) -> Cells {
        let mut cells = Cells::default();
        for local in prelude_cells.iter().copied().chain(0..closed) {
            cells.0[usize::from(local / 64)] |= 1 << (local % 64);
        }
        cells
    }

    pub(super) fn contains(self, local: u64) -> bool {
        local < 256 && self.0[local as usize / 64] & (1 << (local % 64)) != 0
    }

    pub(super) fn is_empty(self) -> bool {
        self == Cells::default()
    }
}

/// For each child of `rc`, the fewest cells it is made with: the count `MAKE_CLOSURE*`
/// gives, 0 for `MAKE_FUNCTION*` and for a child that is never made (it never runs). A native
/// parent makes its children in machine code the verifier cannot follow: 255 (any argument may be
/// a cell).
///
/// Fewer cells than a child is made with is always a safe answer (the checks then let no argument
/// be read as a cell that might not be one, and the loads of the others push no [`Tag::Cell`]), and
/// the one given when the parent's code does not decode (its finding is reported already) or has
/// no `MAKE_CLOSURE*` opcode byte anywhere (the instructions are not read then).
///
/// [`Tag::Cell`]: super::stack::Tag::Cell
pub(super) fn closed_children(rc: &RawCode<'_>) -> Vec<u8> {
    if !matches!(rc.kind, Kind::Bytecode) {
        return vec![u8::MAX; rc.children.len()];
    }
    let closures = [Opcode::MAKE_CLOSURE.0, Opcode::MAKE_CLOSURE_DEFARGS.0];
    if !closures.iter().any(|b| rc.fun_data.contains(b)) {
        return vec![0; rc.children.len()];
    }
    let Ok(view) = BytecodeView::decode(&rc.fun_data) else { return vec![0; rc.children.len()] };
    let mut made = vec![None::<u8>; rc.children.len()];
    let (code, mut offset) = (view.code(), 0);
    // (The common shapes are read directly; `op_at` reads the rest, or stops at an error.)
    while let Some(op) = Op::decode_common(code, offset).or_else(|| view.op_at(offset).ok()) {
        let closed = match op.opcode {
            Opcode::MAKE_FUNCTION | Opcode::MAKE_FUNCTION_DEFARGS => Some(0),
            Opcode::MAKE_CLOSURE | Opcode::MAKE_CLOSURE_DEFARGS => Some(op.extra),
            _ => None,
        };
        if let (Some(closed), Some(slot)) =
            (closed, usize::try_from(op.arg).ok().and_then(|k| made.get_mut(k)))
        {
            *slot = Some(slot.map_or(closed, |c| c.min(closed)));
        }
        offset = op.next_offset();
    }
    made.into_iter().map(|closed| closed.unwrap_or(0)).collect()
}

/// Checks that `op`'s opcode is assigned and that its operands (other than a jump's target, which
/// is checked once every instruction start is known) are in range; each rule broken is passed to
/// `bad`, in the order it is reported.
#[inline(always)]
pub(super) fn check_operands(op: &Op, b: &Bounds, mut bad: impl FnMut(Check, fmt::Arguments<'_>)) {
    let info = op.info();
    // Displays as its upstream name; formatted only when a finding is reported.
    let name = op.opcode;
    if !info.assigned {
        bad(Check::Opcode, format_args!("opcode {:#04x} is not assigned", op.opcode.0));
    }
    let i = op.arg;
    match (info.format, info.operand) {
        (Format::Qstr, _) if i >= b.n_qstr => {
            bad(Check::QstrIndex, format_args!("{name} names qstr {i}; the table has {}", b.n_qstr));
        }
        (Format::VarUint, OperandKind::Const) if i >= b.n_obj => {
            bad(Check::ConstIndex, format_args!("{name} loads constant {i}; the table has {}", b.n_obj));
        }
        (Format::VarUint, OperandKind::Child) if i >= b.n_children => {
            bad(
                Check::ChildIndex,
                format_args!("{name} makes child {i}; this raw code has {}", b.n_children),
            );
        }
        _ => {}
    }
    if let Some(i) = op.local_index() {
        if i >= b.n_state {
            bad(Check::LocalIndex, format_args!("{name} uses local {i}; n_state is {}", b.n_state));
        } else if derefs(op.opcode.0) && !b.cells.contains(i) {
            bad(Check::Cell, format_args!("{name} uses local {i}, which holds no cell"));
        } else if replaces_local(op.opcode.0) && b.cells.contains(i) {
            bad(Check::Cell, format_args!("{name} would replace the cell in local {i}"));
        }
    }
    if yields(op.opcode.0) && !b.generator {
        bad(Check::Generator, format_args!("{name} in a function that is not a generator"));
    }
}

/// `LOAD_DEREF`, `STORE_DEREF`, `DELETE_DEREF`: only on a local that holds a cell.
pub(super) const fn derefs(opcode: u8) -> bool {
    opcode == Opcode::LOAD_DEREF.0 || opcode == Opcode::STORE_DEREF.0 || opcode == Opcode::DELETE_DEREF.0
}

/// `STORE_FAST*`, `DELETE_FAST`: never on a local that holds a cell.
pub(super) fn replaces_local(opcode: u8) -> bool {
    opcode == Opcode::STORE_FAST_N.0
        || opcode == Opcode::DELETE_FAST.0
        || matches!(Opcode(opcode).info().multi, Some(Multi::StoreFast(_)))
}

/// `LOAD_FAST_N`, `LOAD_FAST_MULTI`: push a cell when the local holds one.
pub(super) fn loads_local(opcode: u8) -> bool {
    opcode == Opcode::LOAD_FAST_N.0 || matches!(Opcode(opcode).info().multi, Some(Multi::LoadFast(_)))
}

/// `YIELD_VALUE`, `YIELD_FROM`: only in a generator.
pub(super) const fn yields(opcode: u8) -> bool {
    opcode == Opcode::YIELD_VALUE.0 || opcode == Opcode::YIELD_FROM.0
}

/// The first pass: decodes every instruction in order, checks its operands, and fills
/// `scratch.starts` and `scratch.joins`. Returns the last instruction (`None` if there are none), or
/// the decode error (which is then the function's only finding).
fn check_instructions(
    path: &Path,
    bounds: &Bounds,
    view: &BytecodeView<'_>,
    scratch: &mut Scratch,
    f: &mut Findings,
) -> Result<Option<Op>, BytecodeError> {
    let code_start = view.code_start();
    let code_len = view.code().len();
    scratch.starts.reset(code_len);
    scratch.joins.reset(code_len);
    scratch.jumps.clear();
    if scratch.plain.len() < code_len {
        scratch.plain.resize(code_len, Plain::default());
    }
    let mut last = None;
    let mut offset = 0;
    while offset < code_len {
        let op = view.op_at(offset)?;
        scratch.starts.insert(offset);
        scratch.plain[offset] = Plain::of(&op, &scratch.base_exception, bounds.cells);
        let at = Some(code_start + offset);
        check_operands(&op, bounds, |check, message| f.add(path, at, check, message.to_string()));
        if op.info().format == Format::Offset {
            // (Jump opcodes have no other operand that could be reported after this.)
            let finding = f.list.len();
            scratch.jumps.push(PendingJump { offset, opcode: op.opcode, target: op.arg as i64, finding });
        }
        last = Some(op);
        offset = op.next_offset();
    }

    // Every start is known: the jumps are checked, and each bad one reported where it belongs.
    scratch.joins.insert(0);
    let mut inserted = 0;
    for j in &scratch.jumps {
        if let Some(t) = scratch.starts.target(j.target, code_len) {
            scratch.joins.insert(t);
            continue;
        }
        let finding = Finding {
            path: path.clone(),
            offset: Some(code_start + j.offset),
            check: Check::JumpTarget,
            message: format!(
                "{} jumps to code offset {}, not the start of an instruction",
                j.opcode, j.target
            ),
        };
        f.list.insert(j.finding + inserted, finding);
        inserted += 1;
    }
    Ok(last)
}

/// Checks the prelude against itself and the module (`bytecode` is false for native code).
fn check_prelude(
    module: &Module<'_>,
    path: &Path,
    prelude: &PreludeView<'_>,
    bytecode: bool,
    f: &mut Findings,
) {
    let s = &prelude.signature;
    let n_qstr = module.qstrs.len() as u64;
    let mut bad = |message: String| f.add(path, Some(0), Check::Prelude, message);
    if s.n_def_pos_args > s.n_pos_args {
        bad(format!("{} positional defaults for {} positional arguments", s.n_def_pos_args, s.n_pos_args));
    }
    let flags = s.scope_flags;
    let n_args = u64::from(s.n_pos_args)
        + u64::from(s.n_kwonly_args)
        + u64::from(flags.contains(ScopeFlags::VARARGS))
        + u64::from(flags.contains(ScopeFlags::VARKEYWORDS));
    if bytecode && u64::from(s.n_state) < n_args.max(1) {
        bad(format!("n_state {} is too small for {n_args} argument slots", s.n_state));
    }
    if flags.bits() & !0x0f != 0 {
        bad(format!("scope flags {:#x} set bits beyond the four a prelude holds", flags.bits()));
    }
    if !bytecode && s.n_exc_stack != 0 {
        bad(format!("a native prelude has n_exc_stack {}, expected 0", s.n_exc_stack));
    }
    for (what, index) in std::iter::once(("simple name", prelude.simple_name.value))
        .chain(prelude.arg_names().map(|a| ("argument name", a.value)))
    {
        if index >= n_qstr {
            f.add(path, Some(0), Check::QstrIndex, format!("{what} is qstr {index}; the table has {n_qstr}"));
        }
    }
    if bytecode {
        for &cell in prelude.cells {
            if u32::from(cell) >= s.n_state {
                f.add(
                    path,
                    Some(0),
                    Check::Prelude,
                    format!("cell local {cell} is at or past n_state {}", s.n_state),
                );
            }
        }
    }
}
