//! The one-pass proof that a bytecode function is clean, tried before the two exhaustive passes
//! (`function.rs` and `stack.rs`), which take over on anything it cannot prove.
//!
//! It reads the instructions in address order and makes the same checks as those two passes: the
//! operand checks of the first ([`check_operands`]) and the stack analysis of the second, with
//! the same transfer function ([`step`], or a [`Plain`] record). What differs is the order in
//! which the states are followed. Each instruction runs with the states that reach it from before
//! it (from the previous instruction, and from jumps seen so far), and those it passes on go to
//! the next instruction or wait at the target of a forward jump. A jump backwards normally brings a
//! state its target already ran with (the end of a `for` loop); when it brings a new one (the
//! condition of a `while` loop, placed after its body), the pass goes back to the target and runs
//! the code from there again, with only the new states, up to where it had got. So it follows
//! every state the exhaustive worklist would, and makes the same checks on each.
//!
//! Most instructions are plain ones with a short operand, run in one tight loop ([`run_plain`])
//! that looks each opcode up in a packed table ([`CLASSES`]) while the state is a single one; the
//! others go through [`step`] itself ([`run_other`]), and the general path (several states at an
//! instruction, going back) runs one instruction at a time.
//!
//! When a check fails, or the function is irregular in a way this pass does not follow (an operand
//! longer than two bytes, more than [`MAX_STATES`] states at one instruction, more than
//! [`MAX_VERIFY_RESCANS`] passes' worth of going back, more than [`MAX_ONE_PASS_CODE`] bytes of
//! code), it answers false and says nothing: the
//! exhaustive passes then find and explain every problem. It answers true only for functions on
//! which they report nothing.

use crate::bytecode::opcode::{Multi, OperandKind, StackEffect, info_for};
use crate::bytecode::{BytecodeView, Flow, Format, Op, Opcode, small_int};
use crate::limits::{MAX_ONE_PASS_CODE, MAX_VERIFY_RESCANS, MAX_VERIFY_STATES as MAX_STATES};
use crate::module::Module;

use super::function::{Bounds, Scratch, check_operands};
use super::stack::{
    BlockStacks, Ctx, Edge, Plain, PlainClass, State, Tag, growth, plain_class, plain_effect, step,
};

/// No state (the end of a list in [`LinearScratch::waiting`]).
const NIL: usize = usize::MAX;
/// Not an instruction start read so far (in [`LinearScratch::ran_at`]).
const NOT_READ: (u32, u32) = (u32::MAX, 0);
/// An instruction that first ran with one state, kept in [`LinearScratch::single`] (in
/// [`LinearScratch::ran_at`]).
const SINGLE: (u32, u32) = (u32::MAX - 1, 1);

/// A state brought to an instruction by a jump.
#[derive(Clone, Copy)]
struct Waiting {
    state: State,
    /// The previous one at the same offset, or [`NIL`].
    before: usize,
    /// Whether the instruction has run with it.
    ran: bool,
}

/// The pass's buffers, kept between functions.
#[derive(Default)]
pub(super) struct LinearScratch {
    /// Per code offset, the last state a jump brought there (an index into `waiting`), or
    /// [`NIL`]; all [`NIL`] between functions.
    head: Vec<usize>,
    /// The offsets whose `head` was set, to clear them afterwards.
    touched: Vec<usize>,
    /// The states brought by jumps, in lists per offset.
    waiting: Vec<Waiting>,
    /// How many of them have not run yet.
    not_run: usize,
    /// Per code offset: [`NOT_READ`]; or for an instruction start, [`SINGLE`] or where the states
    /// it first ran with begin in `ran`, and how many.
    ran_at: Vec<(u32, u32)>,
    /// The jump targets seen, to check that each is an instruction start.
    targets: Vec<usize>,
    /// Per code offset, the state an instruction that first ran with one ran with (meaningful
    /// where `ran_at` says [`SINGLE`]; never cleared).
    single: Vec<State>,
    /// The states of the instructions that first ran with none or several, one after another.
    ran: Vec<State>,
    /// The states the current instruction runs with, and those the next one will.
    now: Vec<State>,
    next: Vec<State>,
    /// The successors of one step.
    out: Vec<(Edge, State)>,
}

impl LinearScratch {
    /// The states the instruction at `at` (an instruction start) first ran with.
    fn first_ran(&self, at: usize) -> &[State] {
        let (first, count) = self.ran_at[at];
        if (first, count) == SINGLE {
            return std::slice::from_ref(&self.single[at]);
        }
        self.ran.get(first as usize..first as usize + count as usize).unwrap_or_default()
    }

    /// Adds `state` to those waiting at `at`, unless it is there already; `None` when `at` would
    /// get more than [`MAX_STATES`], `Some(true)` when it is new.
    fn wait(&mut self, at: usize, state: State) -> Option<bool> {
        let mut p = self.head[at];
        let mut count = 0;
        while p != NIL {
            if self.waiting[p].state == state {
                return Some(false);
            }
            p = self.waiting[p].before;
            count += 1;
        }
        if count >= MAX_STATES {
            return None;
        }
        if self.head[at] == NIL {
            self.touched.push(at);
        }
        self.waiting.push(Waiting { state, before: self.head[at], ran: false });
        self.not_run += 1;
        self.head[at] = self.waiting.len() - 1;
        Some(true)
    }
}

/// What [`run_plain`] needs of an opcode byte, worked out once from its table entry and packed in
/// one word (the bits below), so that its loop reads one small table ([`CLASSES`]).
type OpClass = u32;

/// Bits 0-1: how the operand is read.
const READ: u32 = 0b11;
/// Not read by [`run_plain`]: jumps and opcodes with an extra byte, read by [`read_other`] (which
/// rejects unassigned bytes) and run by [`run_other`].
const READ_NOT: u32 = 0;
/// No operand; the operand value is the `IMM` bits.
const READ_NOTHING: u32 = 1;
/// A varuint operand (one or two bytes here).
const READ_UINT: u32 = 2;
/// A small int (its value does not matter here).
const READ_SMALL_INT: u32 = 3;
/// Not plain: run by [`run_other`] (only opcodes without an operand).
const STEP: u32 = 1 << 2;
/// Bits 3-5: what the operand indexes (an index into the limits in [`run_plain`]).
const INDEX_SHIFT: u32 = 3;
const INDEX_NOTHING: u32 = 0;
const INDEX_QSTR: u32 = 1;
const INDEX_CONST: u32 = 2;
const INDEX_CHILD: u32 = 3;
const INDEX_LOCAL: u32 = 4;
/// The stack effect depends on the operand: [`StackEffect::resolve`] works it out.
const RULE: u32 = 1 << 6;
/// `LOAD_GLOBAL`, `LOAD_NAME`: not plain when the name is `BaseException`.
const UNLESS_BASE_EXCEPTION: u32 = 1 << 7;
/// Bits 8-15 (`IMM`): the operand value of an opcode without one (`LOAD_FAST_MULTI`'s local, the
/// tag a `LOAD_CONST_NONE` pushes).
const IMM_SHIFT: u32 = 8;
/// Bits 16-19, 20-23: a fixed effect's pops and pushes. Bits 24-28: its [`growth`] (for a
/// [`RULE`] effect, its scratch slots).
const POPS_SHIFT: u32 = 16;
const PUSHES_SHIFT: u32 = 20;
const GROWTH_SHIFT: u32 = 24;
/// Pushes the tag in the `IMM` bits (`LOAD_CONST_NONE`, `_FALSE`, `_TRUE`), as [`step`] does.
const PUSHES_TAG: u32 = 1 << 29;
/// `RETURN_VALUE`: with no handler block, execution ends here, as [`step`] has it (with blocks,
/// [`step`] runs it).
const RETURNS: u32 = 1 << 30;

static CLASSES: [OpClass; 256] = {
    let mut table = [READ_NOT; 256];
    let mut op = 0;
    while op < 256 {
        table[op] = class(op as u8);
        op += 1;
    }
    table
};

const fn class(op: u8) -> OpClass {
    let info = info_for(op);
    if !info.assigned || info.extra_byte {
        return READ_NOT;
    }
    let fixed = match info.stack {
        StackEffect::Fixed { pops, pushes } if pops < 16 && pushes < 16 && info.scratch < 16 => {
            let growth = growth(pops as u64, pushes as u64, info.scratch as u64) as u32;
            (pops as u32) << POPS_SHIFT | (pushes as u32) << PUSHES_SHIFT | growth << GROWTH_SHIFT
        }
        StackEffect::Fixed { .. } => return READ_NOT,
        StackEffect::Rule(_) if info.scratch < 32 => RULE | (info.scratch as u32) << GROWTH_SHIFT,
        StackEffect::Rule(_) => return READ_NOT,
    };
    if let Some(tag) = Tag::pushed_by(op) {
        return READ_NOTHING | PUSHES_TAG | (tag as u32) << IMM_SHIFT | fixed;
    }
    if op == Opcode::RETURN_VALUE.0 {
        return READ_NOTHING | RETURNS | fixed;
    }
    let mut class = match plain_class(op) {
        PlainClass::Never if matches!(info.format, Format::Byte) => return READ_NOTHING | STEP,
        PlainClass::Never => return READ_NOT,
        PlainClass::UnlessBaseException => UNLESS_BASE_EXCEPTION,
        PlainClass::Fixed { .. } | PlainClass::Rule => 0,
    };
    class |= match (info.format, info.operand) {
        (Format::Byte, _) => READ_NOTHING,
        (Format::VarUint, OperandKind::SmallInt) => READ_SMALL_INT,
        (Format::Qstr | Format::VarUint, _) => READ_UINT,
        (Format::Offset, _) => return READ_NOT,
    };
    let index = match (info.format, info.operand, info.multi) {
        (Format::Qstr, _, _) => INDEX_QSTR,
        (Format::VarUint, OperandKind::Const, _) => INDEX_CONST,
        (Format::VarUint, OperandKind::Child, _) => INDEX_CHILD,
        (_, OperandKind::Local, _) => INDEX_LOCAL,
        (_, _, Some(Multi::LoadFast(n) | Multi::StoreFast(n))) => {
            class |= (n as u32) << IMM_SHIFT;
            INDEX_LOCAL
        }
        _ => INDEX_NOTHING,
    };
    class | index << INDEX_SHIFT | fixed
}

/// What the pass knows of the function it reads.
struct Function<'a, 'm> {
    module: &'a Module<'m>,
    ctx: &'a Ctx<'a>,
    bounds: &'a Bounds,
    code: &'a [u8],
    /// The qstr-table indices that name `BaseException`.
    base_exception: &'a [u64],
}

/// Where [`run_straight`] stopped.
struct Stop {
    /// The instruction it left to the general path (or the end of the code).
    at: usize,
    /// The state there; `None` when execution does not get there from the instructions run.
    state: Option<State>,
    /// The last instruction it ran, if any.
    last: Option<usize>,
}

/// Runs instructions from `at` in the single state `state`, each read for the first time, for as
/// long as each passes its checks and runs without a finding, and execution either goes on with
/// the next instruction only (its other successors are forward jumps, or backward jumps to a state
/// already run) or ends (without running off the end of the code). Records each as an instruction
/// start that ran with its state. Returns where it stopped: at an instruction it left to the
/// general path, or after one whose next instruction a jump brought a state to, which the general
/// path merges.
///
/// This is the general path's work on such instructions ([`check_operands`], then
/// [`State::run_plain`] or [`step`]). The plain ones with a short operand, most of them, run in
/// [`run_plain`]; the others in [`run_other`].
#[inline(never)]
fn run_straight(
    fun: &Function<'_, '_>,
    mut at: usize,
    mut state: State,
    stacks: &mut BlockStacks,
    s: &mut LinearScratch,
) -> Stop {
    let mut last = None;
    loop {
        let run = run_plain(fun, at, state, &s.head, &mut s.ran_at, &mut s.single);
        if run.last.is_some() {
            last = run.last;
        }
        (at, state) = (run.at, run.state);
        match run.stop {
            PlainStop::Left | PlainStop::Join => return Stop { at, state: Some(state), last },
            PlainStop::Ends(next) => return Stop { at: next, state: None, last },
            PlainStop::Other(opcode) => {
                let op = if CLASSES[usize::from(opcode)] & READ == READ_NOT {
                    match read_other(fun, at) {
                        Some(op) => op,
                        None => return Stop { at, state: Some(state), last },
                    }
                } else {
                    // No operand to read or check.
                    Op { offset: at, arg: 0, opcode: Opcode(opcode), extra: 0, len: 1 }
                };
                let stepped = run_other(fun, &op, state, stacks, s);
                if !matches!(stepped, Stepped::Left) {
                    s.single[at] = state;
                    s.ran_at[at] = SINGLE;
                    last = Some(at);
                }
                match stepped {
                    Stepped::Left => return Stop { at, state: Some(state), last },
                    Stepped::Ends(next) => return Stop { at: next, state: None, last },
                    Stepped::GoesOn(next, next_state) => {
                        (at, state) = (next, next_state);
                        if s.head[at] != NIL {
                            return Stop { at, state: Some(state), last }; // a join
                        }
                    }
                }
            }
        }
    }
}

/// Why [`run_plain`] stopped.
enum PlainStop {
    /// At an instruction left to the general path.
    Left,
    /// At an instruction a jump brought a state to.
    Join,
    /// Execution ended with the instruction before this offset.
    Ends(usize),
    /// At an instruction with this opcode, for [`run_other`].
    Other(u8),
}

/// Where [`run_plain`] stopped, with the state there and the last instruction it ran.
struct PlainRun {
    at: usize,
    state: State,
    last: Option<usize>,
    stop: PlainStop,
}

/// The inner loop of [`run_straight`]: runs plain instructions with short operands, tag pushes,
/// and returns with no handler block, each looked up in [`CLASSES`], recording each as run with its
/// state (in `single`). This is [`check_operands`] and [`State::run_plain`] (or
/// [`step`] on those few non-plain opcodes), for the opcodes and operands the table covers.
#[inline(never)]
fn run_plain(
    fun: &Function<'_, '_>,
    mut at: usize,
    state: State,
    head: &[usize],
    ran_at: &mut [(u32, u32)],
    single: &mut [State],
) -> PlainRun {
    let code = fun.code;
    let b = fun.bounds;
    // What each index kind must stay below.
    let limits = [u64::MAX, b.n_qstr, b.n_obj, b.n_children, b.n_state, 0, 0, 0];
    let room = fun.ctx.room;
    let State { mut stack, blocks, mut tags } = state;
    let mut last = None;
    let stop = loop {
        let Some(&opcode) = code.get(at) else { break PlainStop::Left };
        let class = CLASSES[usize::from(opcode)];
        let (arg, len) = match class & READ {
            READ_NOTHING => (u64::from((class >> IMM_SHIFT) & 0xff), 1),
            READ_UINT => match code.get(at + 1..at + 3) {
                Some(&[b0, _]) if b0 < 0x80 => (u64::from(b0), 2),
                Some(&[b0, b1]) if b0 > 0x80 && b1 < 0x80 => ((u64::from(b0 & 0x7f) << 7) | u64::from(b1), 3),
                // The last instruction, or a long or padded operand.
                _ => break PlainStop::Left,
            },
            READ_SMALL_INT => match small_int(code, at + 1) {
                Some((_, n)) => (0, 1 + n),
                None => break PlainStop::Left,
            },
            _ => break PlainStop::Other(opcode),
        };
        // Not plain, or a return through handler blocks: [`step`] runs it.
        if class & STEP != 0 || (class & RETURNS != 0 && blocks != BlockStacks::EMPTY) {
            break PlainStop::Other(opcode);
        }
        if arg >= limits[((class >> INDEX_SHIFT) & 7) as usize]
            || (class & UNLESS_BASE_EXCEPTION != 0 && fun.base_exception.contains(&arg))
        {
            break PlainStop::Left;
        }
        let next = at + len;
        if next >= code.len() && class & RETURNS == 0 {
            break PlainStop::Left; // execution would run off the end: left to the general path
        }
        let (pops, pushes, growth) = if class & RULE != 0 {
            let d = Opcode(opcode).info().stack.resolve(arg, 0);
            (d.pops, d.pushes, self::growth(d.pops, d.pushes, u64::from((class >> GROWTH_SHIFT) & 0x1f)))
        } else {
            let field = |shift: u32, mask: u32| u64::from((class >> shift) & mask);
            (field(POPS_SHIFT, 0xf), field(PUSHES_SHIFT, 0xf), field(GROWTH_SHIFT, 0x1f))
        };
        let Some((after, after_tags)) = plain_effect(stack, tags, pops, pushes, growth, room) else {
            break PlainStop::Left;
        };
        if let (Some(r), Some(r_at)) = (single.get_mut(at), ran_at.get_mut(at)) {
            *r = State { stack, blocks, tags };
            *r_at = SINGLE;
        }
        last = Some(at);
        if class & RETURNS != 0 {
            break PlainStop::Ends(next);
        }
        (stack, tags) = (after, after_tags);
        if class & PUSHES_TAG != 0 {
            tags |= u128::from(arg);
        }
        at = next;
        if head.get(at) != Some(&NIL) {
            break PlainStop::Join;
        }
    };
    PlainRun { at, state: State { stack, blocks, tags }, last, stop }
}

/// What [`run_other`] did.
enum Stepped {
    /// Nothing: the instruction is left to the general path.
    Left,
    /// Ran, and execution goes on with the next instruction, at this offset, in this state (other
    /// successors wait at their forward targets).
    GoesOn(usize, State),
    /// Ran, and execution does not go on with the next instruction, at this offset.
    Ends(usize),
}

/// Reads an instruction that [`run_straight`] does not read itself (a jump, a `SETUP_*`, an
/// opcode with an extra byte) and makes the first-read checks on it: its operands, and that a jump
/// target lies inside the code (which is recorded, to be checked as an instruction start).
#[inline(never)]
fn read_other(fun: &Function<'_, '_>, at: usize) -> Option<Op> {
    let op = Op::decode_common(fun.code, at)?;
    let mut ok = true;
    check_operands(&op, fun.bounds, |_, _| ok = false);
    ok.then_some(op)
}

/// Runs, for [`run_straight`], an instruction that is not a plain one with [`step`]. It is left to
/// the general path when it breaks a rule, when more than one state would go on with the next
/// instruction, or when a backward jump brings a state its target has not run with. Forward
/// successors are left waiting at their targets (the general path, running the instruction again,
/// finds them there and adds nothing).
#[inline(never)]
fn run_other(
    fun: &Function<'_, '_>,
    op: &Op,
    state: State,
    stacks: &mut BlockStacks,
    s: &mut LinearScratch,
) -> Stepped {
    let code_len = fun.code.len();
    let at = op.offset;
    let jump = op.jump_target().map(|t| usize::try_from(t).ok().filter(|&t| t < code_len));
    if jump == Some(None) {
        return Stepped::Left;
    }
    let mut ok = true;
    let next_at = op.next_offset();
    let mut after = state;
    s.out.clear();
    if step(fun.module, fun.ctx, op, &mut after, stacks, &mut s.out, &mut |_, _| ok = false) {
        s.out.push((Edge::Next, after));
    }
    if !ok {
        return Stepped::Left;
    }
    let mut goes_on = None;
    for k in 0..s.out.len() {
        let (ref edge, next_state) = s.out[k];
        let Some(to) = edge_target(edge, op, code_len) else { return Stepped::Left };
        if !fun.ctx.admits(&next_state, stacks) {
            return Stepped::Left;
        }
        if to == next_at {
            if goes_on.is_some_and(|g| g != next_state) {
                return Stepped::Left;
            }
            goes_on = Some(next_state);
        } else if to > at {
            if s.wait(to, next_state).is_none() {
                return Stepped::Left;
            }
        } else if s.ran_at[to] == NOT_READ || !s.first_ran(to).contains(&next_state) {
            return Stepped::Left;
        }
    }
    if let Some(t) = jump.flatten() {
        s.targets.push(t);
    }
    match goes_on {
        Some(next_state) => Stepped::GoesOn(next_at, next_state),
        None => Stepped::Ends(next_at),
    }
}

/// Where `edge` of `op` leads, if inside the code (`None`: a finding, for the exhaustive passes).
#[inline]
fn edge_target(edge: &Edge, op: &Op, code_len: usize) -> Option<usize> {
    let to = match *edge {
        Edge::Next => op.next_offset(),
        Edge::Target => usize::try_from(op.jump_target()?).ok()?,
        Edge::Handler(handler) => usize::try_from(handler).ok()?,
    };
    (to < code_len).then_some(to)
}

/// Adds `state` to `set` unless it is there already.
fn add(set: &mut Vec<State>, state: State) {
    if !set.contains(&state) {
        set.push(state);
    }
}

/// True when the function is proven clean: neither its instructions nor its stack discipline would
/// give a finding. False says nothing either way.
#[inline(never)]
pub(super) fn proves_clean(
    module: &Module<'_>,
    ctx: &Ctx<'_>,
    bounds: &Bounds,
    view: &BytecodeView<'_>,
    scratch: &mut Scratch,
) -> bool {
    let code_len = view.code().len();
    // (The cap also keeps the indices of `ran_at` within `u32`: at most `MAX_STATES` per byte.)
    const _: () = assert!(MAX_ONE_PASS_CODE < (u32::MAX as usize) / (2 * MAX_STATES));
    if code_len > MAX_ONE_PASS_CODE {
        return false;
    }
    let s = &mut scratch.linear;
    if s.head.len() < code_len {
        s.head.resize(code_len, NIL);
        s.ran_at.resize(code_len, NOT_READ);
        s.single.resize(code_len, State::ENTRY);
    }
    s.ran_at[..code_len].fill(NOT_READ);
    s.targets.clear();
    s.waiting.clear();
    s.not_run = 0;
    s.ran.clear();
    let proven = run(module, ctx, bounds, view, scratch);
    let s = &mut scratch.linear;
    for &t in &s.touched {
        s.head[t] = NIL;
    }
    s.touched.clear();
    proven
}

fn run(
    module: &Module<'_>,
    ctx: &Ctx<'_>,
    bounds: &Bounds,
    view: &BytecodeView<'_>,
    scratch: &mut Scratch,
) -> bool {
    let code = view.code();
    let code_len = code.len();
    let Scratch { base_exception, stack, linear: s, .. } = scratch;
    let stacks = &mut stack.stacks;
    stacks.clear();
    s.now.clear();
    s.now.push(State::ENTRY);
    // Instructions below `frontier` have been read once; going back costs from `rescan_budget`.
    let mut frontier = 0;
    let mut rescan_budget = MAX_VERIFY_RESCANS.saturating_mul(code_len);
    let fun = Function { module, ctx, bounds, code, base_exception };
    let mut last = None;
    let mut at = 0;
    while at < code_len {
        if at < frontier && s.now.is_empty() && s.not_run == 0 {
            // Gone back, and nothing is left to run again.
            at = frontier;
            continue;
        }
        let first = at >= frontier;
        if !first {
            // Only states it has not run with yet.
            let mut now = std::mem::take(&mut s.now);
            now.retain(|state| !s.first_ran(at).contains(state));
            s.now = now;
        }
        // Add the states jumps brought here.
        let mut p = s.head[at];
        while p != NIL {
            let w = &mut s.waiting[p];
            if !w.ran {
                w.ran = true;
                s.not_run -= 1;
                let state = w.state;
                if first || !s.first_ran(at).contains(&state) {
                    add(&mut s.now, state);
                }
            }
            p = s.waiting[p].before;
        }
        if s.now.len() > MAX_STATES {
            return false;
        }
        if first && s.now.len() == 1 {
            let stop = run_straight(&fun, at, s.now[0], stacks, s);
            if stop.last.is_some() {
                s.now.clear();
                s.now.extend(stop.state);
                last = stop.last;
                frontier = stop.at;
                at = stop.at;
                continue;
            }
        }

        // The general path: one instruction, with every state in `now`. The rare shapes (long or
        // padded operands) and decode errors are left to the exhaustive passes.
        let Some(op) = Op::decode_common(code, at) else { return false };
        let next_at = op.next_offset();
        if first {
            let mut ok = true;
            check_operands(&op, bounds, |_, _| ok = false);
            if !ok {
                return false;
            }
            if op.info().format == Format::Offset {
                match usize::try_from(op.arg as i64) {
                    Ok(t) if t < code_len => s.targets.push(t),
                    _ => return false,
                }
            }
            frontier = next_at;
            last = Some(at);
        } else {
            let Some(left) = rescan_budget.checked_sub(usize::from(op.len)) else { return false };
            rescan_budget = left;
        }
        if first {
            if let [state] = s.now[..] {
                s.single[at] = state;
                s.ran_at[at] = SINGLE;
            } else {
                // (`proves_clean` has checked that these fit.)
                s.ran_at[at] = (s.ran.len() as u32, s.now.len() as u32);
                s.ran.extend_from_slice(&s.now);
            }
        }

        let plain = Plain::of(&op, base_exception);
        let mut back_to = None;
        s.next.clear();
        for i in 0..s.now.len() {
            let mut state = s.now[i];
            if plain.run(&mut state, ctx.room) {
                if next_at >= code_len {
                    return false; // execution runs off the end
                }
                add(&mut s.next, state);
                continue;
            }
            let mut ok = true;
            s.out.clear();
            if step(module, ctx, &op, &mut state, stacks, &mut s.out, &mut |_, _| ok = false) {
                s.out.push((Edge::Next, state));
            }
            if !ok {
                return false;
            }
            for k in 0..s.out.len() {
                let (ref edge, state) = s.out[k];
                let Some(to) = edge_target(edge, &op, code_len) else { return false };
                if !ctx.admits(&state, stacks) {
                    return false;
                }
                if to == next_at {
                    add(&mut s.next, state);
                } else if to > at {
                    // Runs when the pass gets there.
                    if s.wait(to, state).is_none() {
                        return false;
                    }
                } else {
                    // Backwards, to an instruction start already read: unless it ran with this
                    // state, the pass goes back there.
                    if s.ran_at[to] == NOT_READ {
                        return false;
                    }
                    if !s.first_ran(to).contains(&state) {
                        match s.wait(to, state) {
                            None => return false,
                            Some(true) => back_to = Some(back_to.map_or(to, |b: usize| b.min(to))),
                            Some(false) => {}
                        }
                    }
                }
            }
        }
        std::mem::swap(&mut s.now, &mut s.next);
        match back_to {
            Some(to) => {
                // The states for the next instruction wait there until the pass is back.
                for i in 0..s.now.len() {
                    if s.wait(next_at, s.now[i]).is_none() {
                        return false;
                    }
                }
                s.now.clear();
                at = to;
            }
            None => at = next_at,
        }
    }
    // The checks the first pass makes once every instruction is known.
    let falls_off =
        |op: Op| matches!(op.info().flow, Flow::Next | Flow::Branch | Flow::Handler | Flow::EndFinally);
    match last.and_then(|at| Op::decode_common(code, at)) {
        Some(op) if !falls_off(op) => {}
        _ => return false,
    }
    s.targets.iter().all(|&t| s.ran_at[t] != NOT_READ)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Path, Segment};
    use crate::raw_code::{Kind, RawCode};

    /// Every bytecode function of the committed compiler output (our test programs, every
    /// compiler: `while` loops, `finally` and `with` handlers, closures, generators) is proven
    /// clean by the one pass alone, so the exhaustive passes run only on what it cannot prove.
    #[test]
    fn proves_every_function_the_compilers_wrote() {
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))];
        let (mut files, mut functions) = (0, 0);
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    if !path.ends_with("handmade") {
                        dirs.push(path);
                    }
                    continue;
                }
                if path.extension().is_none_or(|e| e != "mpy") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let module = Module::decode(&bytes).unwrap();
                let mut scratch = Scratch::default();
                scratch.start_module(&module);
                let mut rc_path = Path(vec![Segment::Field("raw_code")]);
                module.raw_code.walk(&mut rc_path, &mut |rc_path, rc: &RawCode<'_>| {
                    if !matches!(rc.kind, Kind::Bytecode) {
                        return;
                    }
                    let view = BytecodeView::decode(&rc.fun_data).unwrap();
                    let ctx = Ctx::new(rc_path, &view);
                    let bounds = Bounds::new(&module, rc, &view);
                    let proven = proves_clean(&module, &ctx, &bounds, &view, &mut scratch);
                    assert!(proven, "{}: {rc_path} is not proven clean in one pass", path.display());
                    functions += 1;
                });
                files += 1;
            }
        }
        assert!(files >= 30 && functions >= 300, "{files} files, {functions} functions");
    }

    /// A loop that leaves one more item on the stack each time round: each jump back brings a
    /// new state, so the pass goes back until the stack outgrows `n_state`, then gives up; the
    /// exhaustive passes report the overflow.
    #[test]
    fn gives_up_on_a_loop_that_grows_the_stack() {
        let module = Module::decode(include_bytes!("../../corpus/doc/hello.mpy")).unwrap();
        // n_state 4, no handlers, name qstr 1; then `0: LOAD_CONST_NONE; 1: JUMP 0`.
        let fun_data = [0x18, 0x02, 0x01, 0x51, 0x42, 0x3d];
        let view = BytecodeView::decode(&fun_data).unwrap();
        let path = Path(vec![Segment::Field("raw_code")]);
        let ctx = Ctx::new(&path, &view);
        let bounds = Bounds::new(&module, &module.raw_code, &view);
        let mut scratch = Scratch::default();
        scratch.start_module(&module);
        assert!(!proves_clean(&module, &ctx, &bounds, &view, &mut scratch));

        let mut module = module.into_owned();
        module.raw_code.fun_data = std::borrow::Cow::Owned(fun_data.to_vec());
        let findings = super::super::verify(&module);
        assert_eq!(
            findings.iter().map(|f| f.check).collect::<Vec<_>>(),
            [super::super::Check::StackOverflow]
        );
    }

    /// A function with more code than [`MAX_ONE_PASS_CODE`] goes to the exhaustive passes alone,
    /// which find it clean.
    #[test]
    fn leaves_very_long_functions_to_the_exhaustive_passes() {
        let module = Module::decode(include_bytes!("../../corpus/doc/hello.mpy")).unwrap();
        // n_state 4, no handlers, name qstr 1; then `LOAD_CONST_NONE; POP_TOP` over and over, and
        // `LOAD_CONST_NONE; RETURN_VALUE`.
        let mut fun_data = vec![0x18, 0x02, 0x01];
        for _ in 0..MAX_ONE_PASS_CODE / 2 {
            fun_data.extend_from_slice(&[0x51, 0x59]);
        }
        fun_data.extend_from_slice(&[0x51, 0x63]);
        let view = BytecodeView::decode(&fun_data).unwrap();
        assert!(view.code().len() > MAX_ONE_PASS_CODE);
        let path = Path(vec![Segment::Field("raw_code")]);
        let ctx = Ctx::new(&path, &view);
        let bounds = Bounds::new(&module, &module.raw_code, &view);
        let mut scratch = Scratch::default();
        scratch.start_module(&module);
        assert!(!proves_clean(&module, &ctx, &bounds, &view, &mut scratch));

        let mut module = module.into_owned();
        module.raw_code.fun_data = std::borrow::Cow::Owned(fun_data);
        assert_eq!(super::super::verify(&module), []);
    }
}
