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
//! The work, from the most common case down:
//! - Plain instructions with a short operand, most of them, run in a tight loop ([`run_plain`])
//!   that looks each opcode up in a table ([`CLASSES`], [`read_plain`]) while there is one state.
//!   It has one loop for states without tags, where the state is just the depth, and one for
//!   states with. What an instruction first ran with is one word per code offset (see [`Ran`]):
//!   the depth and a context (blocks and tags) that stays the same while there are no tags.
//! - Returns and the common jumps are run by [`run_straight`] itself ([`run_jump`]); a join where
//!   every state is the same one is taken in the loop ([`take_waiting`]); the other instructions
//!   go through [`step`] ([`run_other`]).
//! - Code no state has reached yet is read in one loop ([`skim`]), and going back with one state
//!   runs the plain instructions in one loop ([`rescan_plain`]).
//! - The general path (several states at an instruction) runs one instruction at a time.
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

use super::function::{Bounds, Scratch, check_operands, derefs, yields};
use super::stack::{
    BlockStacks, Ctx, Edge, Plain, PlainClass, State, Tag, forget, growth, moves_tags, plain_class, step,
};

/// No state (the end of a list in [`LinearScratch::waiting`]).
const NIL: usize = usize::MAX;

/// How the instruction at a code offset first ran, one word per offset ([`LinearScratch::ran_at`]).
/// The top 16 bits are the generation of the function it was read in
/// ([`LinearScratch::generation`]); a word of an earlier one (or 0) means not an instruction start
/// read so far, so the words need no clearing between functions. Below them:
/// - with one state: `(c + 1) << CONTEXT_SHIFT | depth`, where `c` indexes
///   [`LinearScratch::contexts`], the state's blocks and tags (straight-line code shares one
///   context until its tags change);
/// - with none or several: [`SEVERAL`] `| first << FIRST_SHIFT | count`, the states
///   `ran[first..][..count]` (`first` in the 39 bits below [`SEVERAL`], `count` in the low 8).
type Ran = u64;
const GENERATION_SHIFT: u32 = 48;
const SEVERAL: Ran = 1 << 47;
const FIRST_SHIFT: u32 = 8;
const FIRST_MASK: Ran = (1 << (47 - FIRST_SHIFT)) - 1;
const COUNT_MASK: Ran = (1 << FIRST_SHIFT) - 1;
const CONTEXT_SHIFT: u32 = 20;
/// The depths a word holds; the pass gives up on functions whose room is larger.
const DEPTH_MASK: Ran = (1 << CONTEXT_SHIFT) - 1;
const CONTEXT_MASK: Ran = (1 << (47 - CONTEXT_SHIFT)) - 1;

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
    /// Per code offset, how the instruction there first ran (see [`Ran`]).
    ran_at: Vec<Ran>,
    /// The generation of the function being read, in the top bits of a [`Ran`] (never 0).
    generation: Ran,
    /// The blocks and tags of the states recorded in `ran_at`.
    contexts: Vec<(usize, u128)>,
    /// Per block-stack id, the index in `contexts` of (that stack, no tags), or `u32::MAX`.
    untagged: Vec<u32>,
    /// The jump targets seen, to check that each is an instruction start.
    targets: Vec<usize>,
    /// The states of the instructions that first ran with none or several, one after another.
    ran: Vec<State>,
    /// The states the current instruction runs with, and those the next one will.
    now: Vec<State>,
    next: Vec<State>,
    /// The successors of one step.
    out: Vec<(Edge, State)>,
}

impl LinearScratch {
    /// Whether the instruction at `at` (an instruction start) first ran with `state`.
    fn ran_with(&self, at: usize, state: &State) -> bool {
        let ran = self.ran_at[at];
        if !self.was_read(at) {
            return false;
        }
        if ran & SEVERAL != 0 {
            let (first, count) = ((ran >> FIRST_SHIFT) & FIRST_MASK, ran & COUNT_MASK);
            return self.ran[first as usize..][..count as usize].contains(state);
        }
        let c = (ran >> CONTEXT_SHIFT) & CONTEXT_MASK;
        let Some(&(blocks, tags)) = c.checked_sub(1).and_then(|c| self.contexts.get(c as usize)) else {
            return false;
        };
        *state == State { stack: ran & DEPTH_MASK, blocks, tags }
    }

    /// Whether the instruction start at `at` has been read.
    fn was_read(&self, at: usize) -> bool {
        self.ran_at[at] >> GENERATION_SHIFT == self.generation >> GENERATION_SHIFT
    }

    /// The `ran_at` bits of the blocks and tags of `state` (the depth left out), adding them to
    /// `contexts` if new.
    #[inline(always)]
    fn context_bits(&mut self, state: &State) -> Ran {
        match self.untagged.get(state.blocks) {
            Some(&c) if state.tags == 0 && c != u32::MAX => {
                self.generation | (u64::from(c) + 1) << CONTEXT_SHIFT
            }
            _ => self.new_context(state),
        }
    }

    #[inline(never)]
    fn new_context(&mut self, state: &State) -> Ran {
        if state.tags == 0 {
            if self.untagged.len() <= state.blocks {
                self.untagged.resize(state.blocks + 1, u32::MAX);
            }
            self.untagged[state.blocks] = self.contexts.len() as u32;
        }
        self.contexts.push((state.blocks, state.tags));
        self.generation | (self.contexts.len() as u64) << CONTEXT_SHIFT
    }

    /// Records that the instruction at `at` first ran with `state` alone.
    fn ran_single(&mut self, at: usize, state: &State) {
        self.ran_at[at] = self.context_bits(state) | state.stack;
    }

    /// Records that the instruction at `at` first ran with `states` (none or several).
    fn ran_several(&mut self, at: usize, states: &[State]) {
        self.ran_at[at] =
            self.generation | SEVERAL | (self.ran.len() as u64) << FIRST_SHIFT | states.len() as u64;
        self.ran.extend_from_slice(states);
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

/// What [`read_plain`] needs of an opcode byte, worked out once from its table entry ([`CLASSES`]),
/// in byte fields the loop reads directly.
#[derive(Clone, Copy)]
struct Class {
    /// How the operand is read: `READ_*`.
    read: u8,
    /// [`STEP`], [`RETURNS`], [`PUSHES_TAG`], [`UNLESS_BASE_EXCEPTION`], [`RULE`], [`MOVES_TAGS`].
    flags: u8,
    /// What the operand indexes: `INDEX_*`, an index into [`Function::limits`].
    index: u8,
    /// The operand value of an opcode without one (`LOAD_FAST_MULTI`'s local, the tag a
    /// `LOAD_CONST_NONE` pushes).
    imm: u8,
    /// A fixed effect's pops, pushes and [`growth`]; for a [`RULE`] effect, its scratch slots in
    /// `growth`.
    pops: u8,
    pushes: u8,
    growth: u8,
    /// (Eight bytes make an entry cheaper to find.)
    _pad: u8,
}

/// Not read by [`read_plain`]: jumps and opcodes with an extra byte, read by [`read_other`] (which
/// rejects unassigned bytes) and run by [`run_other`].
const READ_NOT: u8 = 0;
/// No operand; the operand value is `imm`.
const READ_NOTHING: u8 = 1;
/// A varuint operand (one or two bytes here).
const READ_UINT: u8 = 2;
/// A small int (its value does not matter here).
const READ_SMALL_INT: u8 = 3;

/// Not plain: run by [`run_other`] (only opcodes without an operand).
const STEP: u8 = 1;
/// `RETURN_VALUE`: with no handler block, execution ends here, as [`step`] has it (with blocks,
/// [`step`] runs it).
const RETURNS: u8 = 1 << 1;
/// Pushes the tag in `imm` (`LOAD_CONST_NONE`, `_FALSE`, `_TRUE`), as [`step`] does.
const PUSHES_TAG: u8 = 1 << 2;
/// `LOAD_GLOBAL`, `LOAD_NAME`: not plain when the name is `BaseException`.
const UNLESS_BASE_EXCEPTION: u8 = 1 << 3;
/// The stack effect depends on the operand: [`StackEffect::resolve`] works it out.
const RULE: u8 = 1 << 4;
/// Plain in a state without tags, run by [`run_other`] in one with ([`moves_tags`]).
const MOVES_TAGS: u8 = 1 << 5;
/// `LOAD_FAST*`, `STORE_FAST*`, `DELETE_FAST`: not plain on a local that holds a cell (a load of
/// one pushes a [`Tag::Cell`]; a store or delete may not replace one).
const LOCAL: u8 = 1 << 6;

const INDEX_NOTHING: u8 = 0;
const INDEX_QSTR: u8 = 1;
const INDEX_CONST: u8 = 2;
const INDEX_CHILD: u8 = 3;
const INDEX_LOCAL: u8 = 4;
/// `YIELD_VALUE`, `YIELD_FROM`: no operand (0), below a limit of 1 in a generator and of 0
/// elsewhere, so that the index check stops the loop where [`check_operands`] reports a yield.
const INDEX_GENERATOR: u8 = 5;

const NOT_RUN: Class =
    Class { read: READ_NOT, flags: 0, index: 0, imm: 0, pops: 0, pushes: 0, growth: 0, _pad: 0 };

static CLASSES: [Class; 256] = {
    let mut table = [NOT_RUN; 256];
    let mut op = 0;
    while op < 256 {
        table[op] = class(op as u8);
        op += 1;
    }
    table
};

const fn class(op: u8) -> Class {
    let info = info_for(op);
    // (`*_DEREF`: whether the local holds a cell is checked by [`check_operands`].)
    if !info.assigned || info.extra_byte || derefs(op) {
        return NOT_RUN;
    }
    let mut class = match info.stack {
        StackEffect::Fixed { pops, pushes } => {
            let growth = growth(pops as u64, pushes as u64, info.scratch as u64);
            if growth > u8::MAX as u64 {
                return NOT_RUN;
            }
            Class { pops, pushes, growth: growth as u8, ..NOT_RUN }
        }
        StackEffect::Rule(_) => Class { flags: RULE, growth: info.scratch, ..NOT_RUN },
    };
    if let Some(tag) = Tag::pushed_by(op) {
        return Class { read: READ_NOTHING, flags: class.flags | PUSHES_TAG, imm: tag as u8, ..class };
    }
    if op == Opcode::RETURN_VALUE.0 {
        return Class { read: READ_NOTHING, flags: class.flags | RETURNS, ..class };
    }
    if moves_tags(op)
        && matches!(info.format, Format::Byte)
        && matches!(info.stack, StackEffect::Fixed { .. })
    {
        return Class { read: READ_NOTHING, flags: class.flags | MOVES_TAGS, ..class };
    }
    match plain_class(op) {
        PlainClass::Never if matches!(info.format, Format::Byte) => {
            return Class { read: READ_NOTHING, flags: STEP, ..NOT_RUN };
        }
        PlainClass::Never => return NOT_RUN,
        PlainClass::UnlessBaseException => class.flags |= UNLESS_BASE_EXCEPTION,
        PlainClass::Fixed { .. } | PlainClass::Rule => {}
    }
    class.read = match (info.format, info.operand) {
        (Format::Byte, _) => READ_NOTHING,
        (Format::VarUint, OperandKind::SmallInt) => READ_SMALL_INT,
        (Format::Qstr | Format::VarUint, _) => READ_UINT,
        (Format::Offset, _) => return NOT_RUN,
    };
    class.index = match (info.format, info.operand, info.multi) {
        (Format::Qstr, _, _) => INDEX_QSTR,
        (Format::VarUint, OperandKind::Const, _) => INDEX_CONST,
        (Format::VarUint, OperandKind::Child, _) => INDEX_CHILD,
        (_, OperandKind::Local, _) => INDEX_LOCAL,
        (_, _, Some(Multi::LoadFast(n) | Multi::StoreFast(n))) => {
            class.imm = n;
            INDEX_LOCAL
        }
        _ if yields(op) => INDEX_GENERATOR,
        _ => INDEX_NOTHING,
    };
    if class.index == INDEX_LOCAL {
        class.flags |= LOCAL;
    }
    class
}

/// What the pass knows of the function it reads.
struct Function<'a, 'm> {
    module: &'a Module<'m>,
    ctx: &'a Ctx<'a>,
    bounds: &'a Bounds,
    code: &'a [u8],
    /// The qstr-table indices that name `BaseException`.
    base_exception: &'a [u64],
    /// What each index kind (`INDEX_*`) must stay below.
    limits: [u64; 8],
    /// The stack's room ([`Ctx::room`]).
    room: u64,
    /// The flags of the opcodes whose operand needs a second look in this function:
    /// [`UNLESS_BASE_EXCEPTION`] when the module names `BaseException`, [`LOCAL`] when a local
    /// holds a cell ([`Function::second_look`]).
    look_again: u8,
}

impl Function<'_, '_> {
    /// Whether an opcode with `flags` and operand `arg` (one of those [`Function::look_again`] picks)
    /// is left to the general path: a local that holds a cell, a name that is `BaseException`.
    #[cold]
    fn second_look(&self, flags: u8, arg: u64) -> bool {
        if flags & LOCAL != 0 { self.bounds.cells.contains(arg) } else { self.base_exception.contains(&arg) }
    }
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
/// [`run_plain`] (one loop for states without tags, one for states with); the others in
/// [`run_other`].
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
        let run = run_plain(fun, at, state, s);
        if run.last.is_some() {
            last = run.last;
        }
        (at, state) = (run.at, run.state);
        let opcode = match run.stop {
            PlainStop::Left => return Stop { at, state: Some(state), last },
            PlainStop::Join => match take_waiting(s, at, Some(state)) {
                Some(_) => continue,
                None => return Stop { at, state: Some(state), last },
            },
            PlainStop::Other(opcode) => opcode,
        };
        if opcode == Opcode::RETURN_VALUE.0 && state.blocks == BlockStacks::EMPTY {
            // With no handler block, execution ends here, as [`step`] has it.
            if state.stack == 0 {
                return Stop { at, state: Some(state), last };
            }
            s.ran_single(at, &state);
            last = Some(at);
            match ends(s, at + 1, fun.code.len()) {
                Some(next_state) => (at, state) = (at + 1, next_state),
                None => return Stop { at: at + 1, state: None, last },
            }
            continue;
        }
        let stepped = if is_jump(opcode) && state.tags == 0 {
            run_jump(fun, at, state, s)
        } else {
            let op = if CLASSES[usize::from(opcode)].read == READ_NOT {
                match read_other(fun, at) {
                    Some(op) => op,
                    None => return Stop { at, state: Some(state), last },
                }
            } else {
                // No operand to read or check.
                Op { offset: at, arg: 0, opcode: Opcode(opcode), extra: 0, len: 1 }
            };
            run_other(fun, &op, state, stacks, s)
        };
        if !matches!(stepped, Stepped::Left) {
            s.ran_single(at, &state);
            last = Some(at);
        }
        match stepped {
            Stepped::Left => return Stop { at, state: Some(state), last },
            Stepped::Ends(next) => match ends(s, next, fun.code.len()) {
                Some(next_state) => (at, state) = (next, next_state),
                None => return Stop { at: next, state: None, last },
            },
            Stepped::GoesOn(next, next_state) => {
                (at, state) = (next, next_state);
                if s.head[at] != NIL && take_waiting(s, at, Some(state)).is_none() {
                    return Stop { at, state: Some(state), last }; // a join
                }
            }
        }
    }
}

/// At `at`, an instruction read for the first time that jumps brought states to: when they are
/// all one state, and `state` (the state execution goes on with from the instruction before) is
/// none or the same, marks them run and returns it, for [`run_straight`] to go on with, as the
/// general path would. Otherwise `None`: the general path merges them.
fn take_waiting(s: &mut LinearScratch, at: usize, state: Option<State>) -> Option<State> {
    take_waiting_in(&s.head, &mut s.waiting, &mut s.not_run, at, state)
}

/// [`take_waiting`] on the fields of [`LinearScratch`] it uses.
#[inline(never)]
fn take_waiting_in(
    head: &[usize],
    waiting: &mut [Waiting],
    not_run: &mut usize,
    at: usize,
    state: Option<State>,
) -> Option<State> {
    let mut one = state;
    let mut p = head[at];
    while p != NIL {
        let w = &waiting[p];
        match one {
            _ if w.ran => return None,
            Some(o) if o != w.state => return None,
            _ => one = Some(w.state),
        }
        p = w.before;
    }
    let mut p = head[at];
    while p != NIL {
        waiting[p].ran = true;
        *not_run -= 1;
        p = waiting[p].before;
    }
    one
}

/// After an instruction execution does not go on from: the one state jumps brought to the next
/// instruction, at `next`, if they brought just one (see [`take_waiting`]).
fn ends(s: &mut LinearScratch, next: usize, code_len: usize) -> Option<State> {
    if next < code_len && s.head[next] != NIL { take_waiting(s, next, None) } else { None }
}

/// `JUMP`, `POP_JUMP_IF_TRUE`, `POP_JUMP_IF_FALSE`: run by [`run_jump`] in a state with no tags.
fn is_jump(opcode: u8) -> bool {
    [Opcode::JUMP.0, Opcode::POP_JUMP_IF_TRUE.0, Opcode::POP_JUMP_IF_FALSE.0].contains(&opcode)
}

/// Runs `JUMP`, `POP_JUMP_IF_TRUE` or `POP_JUMP_IF_FALSE` at `at` in `state`, which has no tags,
/// for [`run_straight`]: what [`run_other`] does with [`step`] on them, in short. (With no tag on
/// top, a conditional jump goes both ways; the blocks do not change, so the states stay admitted.)
#[inline(never)]
fn run_jump(fun: &Function<'_, '_>, at: usize, state: State, s: &mut LinearScratch) -> Stepped {
    let code_len = fun.code.len();
    let Some(op) = Op::decode_common(fun.code, at) else { return Stepped::Left };
    let Some(to) = usize::try_from(op.arg as i64).ok().filter(|&to| to < code_len) else {
        return Stepped::Left;
    };
    let conditional = op.opcode != Opcode::JUMP;
    let mut after = state;
    if conditional {
        let Some(stack) = state.stack.checked_sub(1) else { return Stepped::Left };
        after.stack = stack;
    }
    let next_at = op.next_offset();
    if to > at && to != next_at {
        if s.wait(to, after).is_none() {
            return Stepped::Left;
        }
    } else if to < at && !s.ran_with(to, &after) || to == at {
        return Stepped::Left;
    }
    if conditional && next_at >= code_len {
        return Stepped::Left;
    }
    s.targets.push(to);
    if conditional || to == next_at { Stepped::GoesOn(next_at, after) } else { Stepped::Ends(next_at) }
}

/// Why [`run_plain`] stopped.
enum PlainStop {
    /// At an instruction left to the general path.
    Left,
    /// At an instruction a jump brought a state to.
    Join,
    /// At an instruction with this opcode, for [`run_other`] (or a return).
    Other(u8),
}

/// Where [`run_plain`] stopped, with the state there and the last instruction it ran.
struct PlainRun {
    at: usize,
    state: State,
    last: Option<usize>,
    stop: PlainStop,
}

/// A plain instruction [`run_plain`] has read and checked.
struct Effect {
    /// Its operand value (for a tag push, the tag).
    arg: u64,
    /// Where the next instruction starts (inside the code).
    next: usize,
    pops: u64,
    pushes: u64,
    /// Whether it pushes the tag `arg`.
    pushes_tag: bool,
}

/// Reads the instruction at `at`, for [`run_plain`], and checks it in a state of depth `stack`:
/// its effect, or why the loop stops there. `STOPS` are the flags it stops at.
#[inline(always)]
fn read_plain<const STOPS: u8>(fun: &Function<'_, '_>, at: usize, stack: u64) -> Result<Effect, PlainStop> {
    let code = fun.code;
    let Some(&opcode) = code.get(at) else { return Err(PlainStop::Left) };
    let class = &CLASSES[usize::from(opcode)];
    let (arg, len) = match class.read {
        READ_NOTHING => (u64::from(class.imm), 1),
        READ_UINT => match code.get(at + 1..at + 3) {
            Some(&[b0, _]) if b0 < 0x80 => (u64::from(b0), 2),
            Some(&[b0, b1]) if b0 > 0x80 && b1 < 0x80 => ((u64::from(b0 & 0x7f) << 7) | u64::from(b1), 3),
            // The last instruction, or a long or padded operand.
            _ => return Err(PlainStop::Left),
        },
        READ_SMALL_INT => match small_int(code, at + 1) {
            Some((_, n)) => (0, 1 + n),
            None => return Err(PlainStop::Left),
        },
        _ => return Err(PlainStop::Other(opcode)),
    };
    // Not plain, or a return: [`run_straight`] runs it.
    if class.flags & STOPS != 0 {
        return Err(PlainStop::Other(opcode));
    }
    if arg >= fun.limits[usize::from(class.index & 7)]
        || (class.flags & fun.look_again != 0 && fun.second_look(class.flags, arg))
    {
        return Err(PlainStop::Left);
    }
    let next = at + len;
    if next >= code.len() {
        return Err(PlainStop::Left); // execution would run off the end: left to the general path
    }
    let (pops, pushes, growth) = if class.flags & RULE != 0 {
        let d = Opcode(opcode).info().stack.resolve(arg, 0);
        (d.pops, d.pushes, self::growth(d.pops, d.pushes, u64::from(class.growth)))
    } else {
        (u64::from(class.pops), u64::from(class.pushes), u64::from(class.growth))
    };
    if pops > stack || stack.saturating_add(growth) > fun.room {
        return Err(PlainStop::Left);
    }
    Ok(Effect { arg, next, pops, pushes, pushes_tag: class.flags & PUSHES_TAG != 0 })
}

/// The inner loop of [`run_straight`]: runs plain instructions with short operands and tag pushes
/// ([`read_plain`]), recording each as run with its state (in `ran_at`). This is
/// [`check_operands`] and [`State::run_plain`] (or [`step`] on tag pushes), for the opcodes and
/// operands the table covers.
///
/// It has two loops: one for states without tags, where the state is just the depth (the blocks
/// and the absence of tags are one context in `ran_at` throughout), and one for states with tags.
#[inline(never)]
fn run_plain(fun: &Function<'_, '_>, mut at: usize, state: State, s: &mut LinearScratch) -> PlainRun {
    let State { mut stack, blocks, mut tags } = state;
    let untagged = s.context_bits(&State { tags: 0, ..state });
    let LinearScratch { head, ran_at, contexts, generation, waiting, not_run, .. } = s;
    let generation = *generation;
    let (head, ran_at) = (&head[..fun.code.len()], &mut ran_at[..fun.code.len()]);
    let mut last = NIL;
    let stop = 'run: loop {
        if tags == 0 {
            loop {
                let e = match read_plain::<{ STEP | RETURNS }>(fun, at, stack) {
                    Ok(e) => e,
                    Err(stop) => break 'run stop,
                };
                ran_at[at] = untagged | stack;
                last = at;
                // At most `stack + growth`, so at most the room.
                stack = stack - e.pops + e.pushes;
                at = e.next;
                if head[at] != NIL {
                    tags = if e.pushes_tag { u128::from(e.arg) } else { 0 };
                    let state = State { stack, blocks, tags };
                    if take_waiting_in(head, waiting, not_run, at, Some(state)).is_none() {
                        break 'run PlainStop::Join;
                    }
                    if tags == 0 {
                        continue;
                    }
                    break;
                }
                if e.pushes_tag {
                    tags = u128::from(e.arg);
                    break;
                }
            }
        }
        contexts.push((blocks, tags));
        loop {
            let e = match read_plain::<{ STEP | RETURNS | MOVES_TAGS }>(fun, at, stack) {
                Ok(e) => e,
                Err(stop) => break 'run stop,
            };
            ran_at[at] = generation | (contexts.len() as u64) << CONTEXT_SHIFT | stack;
            last = at;
            stack = stack - e.pops + e.pushes;
            at = e.next;
            // Forgets what was popped and pushed, then adds the tag pushed (as `State::run_plain`).
            tags = forget(tags, e.pops, e.pushes);
            if e.pushes_tag {
                tags |= u128::from(e.arg);
            }
            if head[at] != NIL
                && take_waiting_in(head, waiting, not_run, at, Some(State { stack, blocks, tags })).is_none()
            {
                break 'run PlainStop::Join;
            }
            if tags == 0 {
                break;
            }
            contexts.push((blocks, tags));
        }
    };
    PlainRun { at, state: State { stack, blocks, tags }, last: (last != NIL).then_some(last), stop }
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
        } else if !s.ran_with(to, &next_state) {
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

/// Reads instructions from `at` that no state has reached so far (the body of a `while` loop,
/// whose states come from its condition, placed after it; or code nothing reaches), for [`run`]:
/// the first-read checks and records of the general path with no state, until an instruction
/// that jumps brought states to. Returns where it stopped and the last instruction read, or
/// `None` when it read none (the general path then finds what is wrong with it).
#[inline(never)]
fn skim(fun: &Function<'_, '_>, mut at: usize, s: &mut LinearScratch) -> Option<(usize, usize)> {
    let code_len = fun.code.len();
    let mut read = None;
    while let Some(op) = Op::decode_common(fun.code, at) {
        let mut ok = true;
        check_operands(&op, fun.bounds, |_, _| ok = false);
        let target = op.jump_target().map(|t| usize::try_from(t).ok().filter(|&t| t < code_len));
        if !ok || target == Some(None) {
            break;
        }
        s.targets.extend(target.flatten());
        s.ran_several(at, &[]);
        read = Some(at);
        at = op.next_offset();
        if at >= code_len || s.head[at] != NIL {
            break;
        }
    }
    read.map(|read| (at, read))
}

/// What [`rescan_plain`] did.
enum Rescan {
    /// Ran plain instructions; the general path goes on at this offset, with this state.
    Ran(usize, State),
    /// Nothing: the general path runs the instruction.
    Nothing,
    /// Went over the rescan budget.
    GiveUp,
}

/// Runs, for [`run`], the plain instructions from `at` (read before) again in `state`, the one
/// state the pass went back with, as the general path would, until an instruction that is not
/// plain, one that jumps brought states to or that already ran with the state, or `frontier`.
#[inline(never)]
fn rescan_plain(
    fun: &Function<'_, '_>,
    start: usize,
    state: State,
    frontier: usize,
    budget: &mut usize,
    s: &LinearScratch,
) -> Rescan {
    let State { mut stack, blocks, mut tags } = state;
    let mut at = start;
    while at < frontier
        && (at == start || (s.head[at] == NIL && !s.ran_with(at, &State { stack, blocks, tags })))
    {
        let read = if tags == 0 {
            read_plain::<{ STEP | RETURNS }>(fun, at, stack)
        } else {
            read_plain::<{ STEP | RETURNS | MOVES_TAGS }>(fun, at, stack)
        };
        let Ok(e) = read else { break };
        let Some(left) = budget.checked_sub(e.next - at) else { return Rescan::GiveUp };
        *budget = left;
        stack = stack - e.pops + e.pushes;
        tags = forget(tags, e.pops, e.pushes);
        if e.pushes_tag {
            tags |= u128::from(e.arg);
        }
        at = e.next;
    }
    if at == start { Rescan::Nothing } else { Rescan::Ran(at, State { stack, blocks, tags }) }
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
    // (The cap also keeps the fields of `ran_at` within their bits: the states recorded, at most
    // `MAX_STATES` per code byte, and the contexts, a few per code byte, within 39 and 27
    // bits; depths, at most the room, within `DEPTH_MASK`.)
    const _: () = assert!(
        (MAX_ONE_PASS_CODE * MAX_STATES) as Ran <= FIRST_MASK
            && 4 * MAX_ONE_PASS_CODE < CONTEXT_MASK as usize
            && MAX_STATES as Ran <= COUNT_MASK
    );
    if code_len > MAX_ONE_PASS_CODE || ctx.room > DEPTH_MASK {
        return false;
    }
    let s = &mut scratch.linear;
    if s.head.len() < code_len {
        s.head.resize(code_len, NIL);
        s.ran_at.resize(code_len, 0);
    }
    // A new generation: every word of `ran_at` reads as not read.
    s.generation = s.generation.wrapping_add(1 << GENERATION_SHIFT);
    if s.generation == 0 {
        s.ran_at.fill(0);
        s.generation = 1 << GENERATION_SHIFT;
    }
    s.contexts.clear();
    s.untagged.clear();
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
    let b = bounds;
    let fun = Function {
        module,
        ctx,
        bounds,
        code,
        base_exception,
        limits: [u64::MAX, b.n_qstr, b.n_obj, b.n_children, b.n_state, u64::from(b.generator), 0, 0],
        room: ctx.room,
        look_again: if base_exception.is_empty() { 0 } else { UNLESS_BASE_EXCEPTION }
            | if b.cells.is_empty() { 0 } else { LOCAL },
    };
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
            now.retain(|state| !s.ran_with(at, state));
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
                if first || !s.ran_with(at, &state) {
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

        if first
            && s.now.is_empty()
            && let Some((next, read)) = skim(&fun, at, s)
        {
            (last, frontier, at) = (Some(read), next, next);
            continue;
        }
        if !first && s.now.len() == 1 {
            match rescan_plain(&fun, at, s.now[0], frontier, &mut rescan_budget, s) {
                Rescan::Ran(next, state) => {
                    (at, s.now[0]) = (next, state);
                    continue;
                }
                Rescan::GiveUp => return false,
                Rescan::Nothing => {}
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
            let now = std::mem::take(&mut s.now);
            match now[..] {
                [state] => s.ran_single(at, &state),
                _ => s.ran_several(at, &now),
            }
            s.now = now;
        }

        let plain = Plain::of(&op, base_exception, bounds.cells);
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
                    if !s.was_read(to) {
                        return false;
                    }
                    if !s.ran_with(to, &state) {
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
    s.targets.iter().all(|&t| s.was_read(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Path, Segment};
    use crate::raw_code::{Kind, RawCode};
    use crate::verify::function::{Cells, closed_children};

    /// The one-pass proof on `fun_data` as a function of `module` (whose qstrs and constants it may
    /// use), with the buffers of `scratch`.
    fn prove(module: &Module<'_>, fun_data: &[u8], scratch: &mut Scratch) -> bool {
        let view = BytecodeView::decode(fun_data).unwrap();
        let path = Path(vec![Segment::Field("raw_code")]);
        let cells = Cells::new(view.prelude.cells, 0);
        let ctx = Ctx::new(&path, &view, cells);
        let bounds = Bounds::new(module, &module.raw_code, &view, cells);
        proves_clean(module, &ctx, &bounds, &view, scratch)
    }

    /// Calls `f` on `rc` and every descendant with the cells its parent makes it with.
    fn each_with_cells(rc: &RawCode<'_>, closed: u8, f: &mut impl FnMut(&RawCode<'_>, u8)) {
        f(rc, closed);
        for (child, closed) in rc.children.iter().zip(closed_children(rc)) {
            each_with_cells(child, closed, f);
        }
    }

    /// A fresh [`Scratch`] for `module`.
    fn scratch_for(module: &Module<'_>) -> Scratch {
        let mut scratch = Scratch::default();
        scratch.start_module(module);
        scratch
    }

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
                let rc_path = Path(vec![Segment::Field("raw_code")]);
                each_with_cells(&module.raw_code, 0, &mut |rc, closed| {
                    if !matches!(rc.kind, Kind::Bytecode) {
                        return;
                    }
                    let view = BytecodeView::decode(&rc.fun_data).unwrap();
                    let cells = Cells::new(view.prelude.cells, closed);
                    let ctx = Ctx::new(&rc_path, &view, cells);
                    let bounds = Bounds::new(&module, rc, &view, cells);
                    let proven = proves_clean(&module, &ctx, &bounds, &view, &mut scratch);
                    assert!(
                        proven,
                        "{}: function {functions} (in walk order) is not proven clean",
                        path.display()
                    );
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
        assert!(!prove(&module, &fun_data, &mut scratch_for(&module)));

        let mut module = module.into_owned();
        module.raw_code.fun_data = std::borrow::Cow::Owned(fun_data.to_vec());
        let findings = super::super::verify(&module);
        assert_eq!(
            findings.iter().map(|f| f.check).collect::<Vec<_>>(),
            [super::super::Check::StackOverflow]
        );
    }

    /// The words of `ran_at` are not cleared between functions: a new generation makes them read as
    /// not read. When the generation wraps around, they are cleared, so an instruction start of a
    /// function read 65,536 functions before does not count as one.
    #[test]
    fn a_new_generation_forgets_the_instruction_starts_of_earlier_functions() {
        let module = Module::decode(include_bytes!("../../corpus/doc/hello.mpy")).unwrap();
        let mut scratch = scratch_for(&module);
        let prove = |fun_data: &[u8], scratch: &mut Scratch| prove(&module, fun_data, scratch);
        // n_state 4, no handlers, name qstr 1; `LOAD_CONST_NONE; LOAD_CONST_NONE; POP_TOP;
        // RETURN_VALUE`: instruction starts 0 to 3.
        let starts = [0x18, 0x02, 0x01, 0x51, 0x51, 0x59, 0x63];
        // `0: JUMP 3; 2: LOAD_CONST_SMALL_INT 128 (two bytes); 5: RETURN_VALUE`: the jump lands
        // inside an instruction.
        let into_the_middle = [0x18, 0x02, 0x01, 0x42, 0x41, 0x22, 0x81, 0x00, 0x63];
        // The first function is read in generation 1; so is the second, after the wrap.
        assert!(prove(&starts, &mut scratch));
        scratch.linear.generation = u64::MAX << GENERATION_SHIFT;
        assert!(!prove(&into_the_middle, &mut scratch));
        assert_eq!(scratch.linear.generation, 1 << GENERATION_SHIFT);
        // Without a wrap, a new generation.
        assert!(prove(&starts, &mut scratch));
        assert!(!prove(&into_the_middle, &mut scratch));
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
        assert!(BytecodeView::decode(&fun_data).unwrap().code().len() > MAX_ONE_PASS_CODE);
        assert!(!prove(&module, &fun_data, &mut scratch_for(&module)));

        let mut module = module.into_owned();
        module.raw_code.fun_data = std::borrow::Cow::Owned(fun_data);
        assert_eq!(super::super::verify(&module), []);
    }
}
