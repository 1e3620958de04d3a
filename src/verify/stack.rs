//! Stack discipline, by abstract interpretation over every path through a function.
//!
//! The state at an instruction is the value-stack depth, the exception-handler blocks (each with
//! its kind, the stack level it saved, and whether its handler is running) and a small window of
//! facts about the top stack slots (None, an exception, an unwind marker, a known bool). The
//! window is what makes the analysis follow the compiler's own reasoning in `finally` and `with`
//! handlers, which are entered either with one item (the exception) or with two (the return value
//! or jump destination and a small-int marker), and whose code tests which case it is in.
//!
//! Proof obligations, each a finding when broken: no instruction pops more than is there; the stack
//! never grows into the slots of the arguments and cells (`n_state` minus those); no more blocks
//! than `n_exc_stack`; `END_FINALLY` and `WITH_CLEANUP` only see a value the compiler could have
//! put there (None, an exception, or a marker pushed by the VM), never an arbitrary small int,
//! which the VM would take for an unwind record and jump through; unwinding through a `finally`
//! block happens with the stack at the level the block saved.
//!
//! Cost: one state is carried along straight-line code and updated in place; states are stored
//! (and compared with those already seen) only where paths meet or split. The first pass records
//! the stack effect of every plain instruction ([`Plain`]), so most instructions are run from
//! that record; the others are decoded again from the bytes ([`Op`]). The tags of the window are
//! packed into one `u128`, so that states compare and copy cheaply. The buffers live in
//! [`StackScratch`], reused from one function to the next.

use std::collections::{HashMap, VecDeque};

use crate::bytecode::{BlockEffect, BytecodeView, Flow, Op, Opcode, StackDelta, StackEffect};
use crate::error::Path;
use crate::flags::ScopeFlags;
use crate::limits::{MAX_BLOCK_DEPTH, MAX_VERIFY_STATES as MAX_STATES};
use crate::module::Module;
use crate::qstr::Qstr;

use super::function::{Cells, Scratch, loads_local};
use super::{Check, Findings};

/// Slots at the top of the stack whose contents are tracked.
const WINDOW: usize = 32;
/// `BINARY_OP` number of the exception-match operator.
const EXCEPTION_MATCH: u8 = 8;
/// No state (the end of a list in [`StackScratch::arena`]).
const NIL: usize = usize::MAX;

/// What is known of a stack slot (four bits of [`State::tags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(super) enum Tag {
    Unknown = 0,
    None,
    /// An exception instance (pushed by the VM when it enters a handler).
    Exc,
    /// None or an exception (after `WITH_CLEANUP` handled one).
    NoneOrExc,
    /// The small-int marker of a return or unwind in progress (pushed by the VM).
    Marker,
    True,
    False,
    /// The class `BaseException` (every exception matches it).
    BaseException,
    /// A cell (a local that holds one, loaded to be captured by `MAKE_CLOSURE`).
    Cell,
}

impl Tag {
    /// The tag pushed by `LOAD_CONST_NONE`, `LOAD_CONST_FALSE` and `LOAD_CONST_TRUE` (`None` for
    /// any other opcode).
    pub(super) const fn pushed_by(op: u8) -> Option<Tag> {
        match op {
            _ if op == Opcode::LOAD_CONST_NONE.0 => Some(Tag::None),
            _ if op == Opcode::LOAD_CONST_FALSE.0 => Some(Tag::False),
            _ if op == Opcode::LOAD_CONST_TRUE.0 => Some(Tag::True),
            _ => None,
        }
    }

    const ALL: [Tag; 9] = [
        Tag::Unknown,
        Tag::None,
        Tag::Exc,
        Tag::NoneOrExc,
        Tag::Marker,
        Tag::True,
        Tag::False,
        Tag::BaseException,
        Tag::Cell,
    ];

    fn from_bits(bits: u128) -> Tag {
        Tag::ALL.get(bits as usize).copied().unwrap_or(Tag::Unknown)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum BlockKind {
    Except,
    Finally,
    With,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Block {
    kind: BlockKind,
    /// The stack depth the VM records for the block (`val_sp`).
    saved: u64,
    /// Code offset of its handler. Like the VM, a block whose handler starts at or before the
    /// current instruction counts as running (`exc_sp->handler > ip` is "not yet active").
    handler: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct State {
    /// The value-stack depth.
    pub(super) stack: u64,
    /// The exception-handler blocks, as an id in the function's [`BlockStacks`] (equal stacks have
    /// equal ids, so states copy and compare as plain values).
    pub(super) blocks: usize,
    /// The tags of the top [`WINDOW`] slots, four bits each, the top in the lowest bits; slots
    /// below the window (and above the bottom of the stack) are `Unknown` (0).
    pub(super) tags: u128,
}

/// The slots an effect that pops `pops` items, pushes `pushes` and uses `scratch` slots above them
/// needs above the depth it starts from: `max(depth, depth - pops + pushes) + scratch - depth`.
#[inline(always)]
pub(super) const fn growth(pops: u64, pushes: u64, scratch: u64) -> u64 {
    pushes.saturating_sub(pops).saturating_add(scratch)
}

/// The tags after an effect that pops `pops` items and pushes `pushes`: what was popped and pushed
/// is forgotten (usually nothing is known).
#[inline(always)]
pub(super) fn forget(tags: u128, pops: u64, pushes: u64) -> u128 {
    shl(shr(tags, pops.saturating_mul(4)), pushes.saturating_mul(4))
}

/// How many slots from the top `ins` reads when that is more than it pops (else 0): `STORE_COMP n`
/// stores into the collection `n >> 2` slots below the top (the VM's `sp[-(n >> 2)]`).
fn reach(ins: &Op) -> u64 {
    if ins.opcode == Opcode::STORE_COMP { (ins.arg >> 2).saturating_add(1) } else { 0 }
}

/// [`State::run_plain`] on the depth and tags of a state, with the effect's [`growth`]: the new
/// depth and tags, or `None` when a rule is broken.
#[inline(always)]
fn plain_effect(
    stack: u64,
    tags: u128,
    pops: u64,
    pushes: u64,
    growth: u64,
    room: u64,
) -> Option<(u64, u128)> {
    if pops > stack || stack.saturating_add(growth) > room {
        return None;
    }
    // At most `stack + growth`, so at most `room`.
    let after = stack - pops + pushes;
    if tags == 0 {
        return Some((after, 0));
    }
    Some((after, forget(tags, pops, pushes)))
}

/// `bits << n`, 0 when `n` is 128 or more.
fn shl(bits: u128, n: u64) -> u128 {
    u32::try_from(n).ok().and_then(|n| bits.checked_shl(n)).unwrap_or(0)
}

/// `bits >> n`, 0 when `n` is 128 or more.
fn shr(bits: u128, n: u64) -> u128 {
    u32::try_from(n).ok().and_then(|n| bits.checked_shr(n)).unwrap_or(0)
}

impl State {
    /// Runs the effect of a plain instruction (see [`Plain`]) that pops `pops` items, pushes
    /// `pushes` and uses `scratch` slots above them: true, with the state updated, when its pops are
    /// on the stack and it stays within `room` slots; otherwise false, and the state is unchanged.
    #[inline(always)]
    pub(super) fn run_plain(&mut self, pops: u64, pushes: u64, scratch: u64, room: u64) -> bool {
        match plain_effect(self.stack, self.tags, pops, pushes, growth(pops, pushes, scratch), room) {
            Some((stack, tags)) => {
                (self.stack, self.tags) = (stack, tags);
                true
            }
            None => false,
        }
    }

    /// The state on entry: nothing on the stack, no blocks.
    pub(super) const ENTRY: State = State { stack: 0, blocks: BlockStacks::EMPTY, tags: 0 };

    /// The tag `i` slots below the top (0: the top).
    fn top(&self, i: u64) -> Tag {
        if i < self.stack && i < WINDOW as u64 {
            Tag::from_bits(shr(self.tags, 4 * i) & 0xf)
        } else {
            Tag::Unknown
        }
    }

    /// Sets the tag `i` slots below the top (which must be on the stack).
    fn set_top(&mut self, i: u64, tag: Tag) {
        if i < self.stack && i < WINDOW as u64 {
            self.tags = (self.tags & !(0xf << (4 * i))) | (u128::from(tag as u8) << (4 * i));
        }
    }

    fn push(&mut self, tag: Tag) {
        self.tags = (self.tags << 4) | u128::from(tag as u8);
        self.stack += 1;
    }

    fn pop(&mut self) {
        self.pop_n(1);
    }

    /// Pops `n` items (at most the depth).
    fn pop_n(&mut self, n: u64) {
        let n = n.min(self.stack);
        self.tags = shr(self.tags, 4 * n);
        self.stack -= n;
    }

    /// Applies a generic effect (pops checked by the caller); pushed slots are unknown.
    fn apply(&mut self, delta: StackDelta) {
        self.pop_n(delta.pops);
        self.tags = shl(self.tags, 4 * delta.pushes.min(WINDOW as u64));
        self.stack = self.stack.saturating_add(delta.pushes);
    }
}

/// The block stacks met in one function, hash-consed: each distinct stack is stored once, as its
/// top block and the id of the stack below, so pushing and popping a block and comparing two
/// stacks take constant time.
#[derive(Default)]
pub(super) struct BlockStacks {
    /// Stack `id` is `nodes[id - 1]`; id 0 is the empty stack.
    nodes: Vec<Node>,
    /// (stack below, top block) → id, to find a stack that was already made, once there are more
    /// than [`BlockStacks::FEW`].
    ids: HashMap<(usize, Block), usize>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    below: usize,
    top: Block,
    depth: usize,
}

impl BlockStacks {
    /// The id of the empty stack.
    pub(super) const EMPTY: usize = 0;

    /// Forgets every stack (between functions).
    pub(super) fn clear(&mut self) {
        self.nodes.clear();
        if !self.ids.is_empty() {
            self.ids.clear();
        }
    }

    /// Up to this many stacks (all that compiler output makes in a function), a stack is found by
    /// looking through them all rather than through `ids`, which is only filled beyond.
    const FEW: usize = 32;

    /// The stack `id` with `block` pushed on it.
    fn push(&mut self, id: usize, block: Block) -> usize {
        let found = if self.nodes.len() <= Self::FEW {
            self.nodes.iter().position(|n| n.below == id && n.top == block).map(|i| i + 1)
        } else {
            self.ids.get(&(id, block)).copied()
        };
        if let Some(found) = found {
            return found;
        }
        let depth = self.depth(id) + 1;
        self.nodes.push(Node { below: id, top: block, depth });
        if self.nodes.len() > Self::FEW {
            if self.ids.is_empty() {
                let nodes = self.nodes.iter().enumerate();
                self.ids.extend(nodes.map(|(i, n)| ((n.below, n.top), i + 1)));
            } else {
                self.ids.insert((id, block), self.nodes.len());
            }
        }
        self.nodes.len()
    }

    /// The top block of stack `id` and the stack below it; `None` for the empty stack.
    fn pop(&self, id: usize) -> Option<(Block, usize)> {
        let node = self.nodes.get(id.checked_sub(1)?)?;
        Some((node.top, node.below))
    }

    /// The stack below the top block (the empty stack stays empty).
    fn below(&self, id: usize) -> usize {
        self.pop(id).map_or(Self::EMPTY, |(_, below)| below)
    }

    /// The number of blocks.
    pub(super) fn depth(&self, id: usize) -> usize {
        id.checked_sub(1).and_then(|i| self.nodes.get(i)).map_or(0, |n| n.depth)
    }

    /// Each block of stack `id` from the bottom up, with the id of the stack it tops.
    fn bottom_up(&self, id: usize) -> Vec<(Block, usize)> {
        let mut blocks = Vec::with_capacity(self.depth(id));
        let mut at = id;
        while let Some((block, below)) = self.pop(at) {
            blocks.push((block, at));
            at = below;
        }
        blocks.reverse();
        blocks
    }
}

/// The stack effect of a plain instruction, recorded by the first pass at each instruction start so
/// that straight-line code is followed without decoding it again. Plain: execution continues with
/// the next instruction, the values popped and pushed are nothing the analysis follows (no None,
/// bool, exception or marker), and no handler block changes. Anything else is run by [`step`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Plain {
    pops: u32,
    pushes: u32,
    scratch: u8,
    /// The instruction's length; 0 if it is not plain.
    len: u8,
}

/// What the table says of an opcode's plainness, decided once per byte value.
#[derive(Debug, Clone, Copy)]
pub(super) enum PlainClass {
    /// Followed by [`step`] (tags, blocks, control flow) or unassigned.
    Never,
    /// Plain, with this effect.
    Fixed { pops: u8, pushes: u8, scratch: u8 },
    /// Plain, with an effect that depends on the operand.
    Rule,
    /// `LOAD_GLOBAL`, `LOAD_NAME`: plain unless the name is `BaseException`.
    UnlessBaseException,
}

static PLAIN_CLASS: [PlainClass; 256] = {
    let mut table = [PlainClass::Never; 256];
    let mut op = 0;
    while op < 256 {
        table[op] = plain_class(op as u8);
        op += 1;
    }
    table
};

/// The opcodes that are plain but for the tags they move or work out (`DUP_TOP`, `DUP_TOP_TWO`,
/// `ROT_TWO`, `ROT_THREE`, the exception match): in a state without tags, [`step`] gives them
/// their table's fixed effect, and the state stays without tags.
pub(super) const fn moves_tags(op: u8) -> bool {
    op == Opcode::DUP_TOP.0
        || op == Opcode::DUP_TOP_TWO.0
        || op == Opcode::ROT_TWO.0
        || op == Opcode::ROT_THREE.0
        || op == crate::bytecode::opcode::BINARY_OP_MULTI + EXCEPTION_MATCH
}

pub(super) const fn plain_class(op: u8) -> PlainClass {
    let info = crate::bytecode::opcode::info_for(op);
    if !matches!(info.flow, Flow::Next) {
        return PlainClass::Never;
    }
    match op {
        _ if moves_tags(op)
            || op == Opcode::LOAD_CONST_NONE.0
            || op == Opcode::LOAD_CONST_FALSE.0
            || op == Opcode::LOAD_CONST_TRUE.0
            || op == Opcode::WITH_CLEANUP.0
            // Reads a slot below those it pops: [`reach`].
            || op == Opcode::STORE_COMP.0
            // Its captures must be cells.
            || op == Opcode::MAKE_CLOSURE.0
            || op == Opcode::MAKE_CLOSURE_DEFARGS.0 =>
        {
            PlainClass::Never
        }
        _ if op == Opcode::LOAD_GLOBAL.0 || op == Opcode::LOAD_NAME.0 => PlainClass::UnlessBaseException,
        _ => match info.stack {
            StackEffect::Fixed { pops, pushes } => PlainClass::Fixed { pops, pushes, scratch: info.scratch },
            StackEffect::Rule(_) => PlainClass::Rule,
        },
    }
}

impl Plain {
    /// The record of `op`; `base_exception` lists the qstr indices that name `BaseException`,
    /// `cells` the locals that hold cells (loading one pushes a [`Tag::Cell`]: not plain).
    #[inline]
    pub(super) fn of(op: &Op, base_exception: &[u64], cells: Cells) -> Plain {
        let len = op.len;
        match PLAIN_CLASS[usize::from(op.opcode.0)] {
            PlainClass::Never => Plain::default(),
            _ if loads_local(op.opcode.0) && op.local_index().is_some_and(|i| cells.contains(i)) => {
                Plain::default()
            }
            PlainClass::Fixed { pops, pushes, scratch } => {
                Plain { pops: u32::from(pops), pushes: u32::from(pushes), scratch, len }
            }
            PlainClass::UnlessBaseException if base_exception.contains(&op.arg) => Plain::default(),
            PlainClass::UnlessBaseException | PlainClass::Rule => {
                let d = op.stack_effect();
                match (u32::try_from(d.pops), u32::try_from(d.pushes)) {
                    (Ok(pops), Ok(pushes)) => Plain { pops, pushes, scratch: op.info().scratch, len },
                    _ => Plain::default(),
                }
            }
        }
    }

    /// Runs the instruction on `state` if it is plain and breaks no rule there (its pops are on
    /// the stack, and it stays within `room` slots); false leaves it to [`step`].
    #[inline]
    pub(super) fn run(&self, state: &mut State, room: u64) -> bool {
        self.len != 0
            && state.run_plain(u64::from(self.pops), u64::from(self.pushes), u64::from(self.scratch), room)
    }
}

/// What the stack analysis of one function needs to know of it.
pub(super) struct Ctx<'p> {
    path: &'p Path,
    code_start: usize,
    /// Stack slots below the live arguments and cells.
    pub(super) room: u64,
    n_state: u64,
    /// `n_exc_stack`.
    pub(super) n_exc: u64,
    /// The locals that hold cells.
    cells: Cells,
}

impl<'p> Ctx<'p> {
    pub(super) fn new(path: &'p Path, view: &BytecodeView<'_>, cells: Cells) -> Self {
        let s = &view.prelude.signature;
        let flags = s.scope_flags;
        // The stack grows up from the bottom of the state array and the locals sit at its top; the
        // argument and cell slots are live from entry, so the stack must stay below them. (Other
        // locals may share slots with the stack while dead: mpy-cross sizes class bodies that way.)
        let n_args = u64::from(s.n_pos_args)
            + u64::from(s.n_kwonly_args)
            + u64::from(flags.contains(ScopeFlags::VARARGS))
            + u64::from(flags.contains(ScopeFlags::VARKEYWORDS));
        let live = view.prelude.cells.iter().map(|&c| u64::from(c) + 1).fold(n_args, u64::max);
        Ctx {
            path,
            code_start: view.code_start(),
            room: u64::from(s.n_state).saturating_sub(live),
            n_state: u64::from(s.n_state),
            n_exc: u64::from(s.n_exc_stack),
            cells,
        }
    }

    /// Whether code may be entered in `state`: its stack within the room, its blocks within
    /// `n_exc_stack` (otherwise the edge into it is reported).
    #[inline]
    pub(super) fn admits(&self, state: &State, stacks: &BlockStacks) -> bool {
        let depth = stacks.depth(state.blocks);
        state.stack <= self.room && depth as u64 <= self.n_exc && depth <= MAX_BLOCK_DEPTH
    }
}

/// The analysis's buffers, kept between functions.
#[derive(Default)]
pub(super) struct StackScratch {
    /// Per code offset, the last state stored there (an index into `arena`), or [`NIL`]; all
    /// [`NIL`] between functions.
    head: Vec<usize>,
    /// The offsets whose `head` was set, to clear them afterwards.
    touched: Vec<usize>,
    /// Every state stored, with the index of the previous one stored at the same offset.
    arena: Vec<(State, usize)>,
    /// States still to follow: (code offset, index into `arena`).
    queue: VecDeque<(usize, usize)>,
    /// The successors of the instruction being run, when there is more than the next one.
    out: Vec<(Edge, State)>,
    /// The block stacks of the states.
    pub(super) stacks: BlockStacks,
}

pub(super) fn check(
    module: &Module<'_>,
    ctx: &Ctx<'_>,
    view: &BytecodeView<'_>,
    scratch: &mut Scratch,
    f: &mut Findings,
) {
    let code_len = view.code().len();
    if code_len == 0 {
        return;
    }
    let Scratch { starts, joins, plain, stack: buffers, .. } = scratch;
    let valid_target = |target: i64| starts.target(target, code_len);

    let StackScratch { head, touched, arena, queue, out, stacks } = buffers;
    stacks.clear();
    if head.len() < code_len {
        head.resize(code_len, NIL);
    }
    arena.clear();
    queue.clear();
    out.clear();
    touched.clear();
    arena.push((State::ENTRY, NIL));
    head[0] = 0;
    touched.push(0);
    queue.push_back((0, 0));
    // Each check is reported once per function.
    let mut reported = 0u32;
    let mut report = |check: Check, at: usize, message: String, f: &mut Findings| {
        let bit = 1u32 << (check as u32);
        if reported & bit == 0 {
            reported |= bit;
            f.add(ctx.path, Some(ctx.code_start + at), check, message);
        }
    };

    while let Some((start, id)) = queue.pop_front() {
        let mut state = arena[id].0;
        // Straight-line code: the state is updated in place until the instruction has other
        // successors than the next one, or the next one is a join point (where states are kept).
        let mut at = start;
        let ins = loop {
            // A plain instruction whose checks pass is run from its record.
            let p = plain[at];
            if p.run(&mut state, ctx.room) {
                let next = at + usize::from(p.len);
                if next < code_len && !joins.contains(next) {
                    at = next;
                    continue;
                }
                let Ok(ins) = view.op_at(at) else { break None };
                out.push((Edge::Next, state));
                break Some(ins);
            }
            // Every offset reached is an instruction start that the first pass decoded.
            let Ok(ins) = view.op_at(at) else { break None };
            if step(module, ctx, &ins, &mut state, stacks, out, &mut |c, m| report(c, ins.offset, m, f)) {
                at = ins.next_offset();
                if at < code_len && !joins.contains(at) && ctx.admits(&state, stacks) {
                    continue;
                }
                out.push((Edge::Next, state));
            }
            break Some(ins);
        };
        let Some(ins) = ins else { continue };
        for (edge, next_state) in out.drain(..) {
            let next = match edge {
                Edge::Next => ins.next_offset(),
                Edge::Target => match ins.jump_target().and_then(valid_target) {
                    Some(t) => t,
                    None => continue, // reported as a bad jump target
                },
                Edge::Handler(handler) => match valid_target(handler) {
                    Some(t) => t,
                    None => continue, // reported with the SETUP opcode
                },
            };
            if next_state.stack > ctx.room {
                report(
                    Check::StackOverflow,
                    ins.offset,
                    format!(
                        "{} enters code at depth {}; n_state {} leaves {}",
                        ins.opcode.upstream_name(),
                        next_state.stack,
                        ctx.n_state,
                        ctx.room
                    ),
                    f,
                );
                continue;
            }
            if next >= code_len {
                continue; // reported as falling off the end
            }
            let depth = stacks.depth(next_state.blocks);
            if depth as u64 > ctx.n_exc || depth > MAX_BLOCK_DEPTH {
                report(
                    Check::ExceptionStack,
                    ins.offset,
                    format!(
                        "{} nests {} handlers; n_exc_stack is {}",
                        ins.opcode.upstream_name(),
                        depth,
                        ctx.n_exc
                    ),
                    f,
                );
                continue;
            }
            let (mut seen, mut count) = (head[next], 0);
            while seen != NIL && arena[seen].0 != next_state {
                seen = arena[seen].1;
                count += 1;
            }
            if seen != NIL {
                continue; // seen
            }
            if count >= MAX_STATES {
                report(
                    Check::StackMismatch,
                    next,
                    format!("reached with more than {MAX_STATES} different stack states"),
                    f,
                );
                continue;
            }
            if head[next] == NIL {
                touched.push(next);
            }
            arena.push((next_state, head[next]));
            head[next] = arena.len() - 1;
            queue.push_back((next, arena.len() - 1));
        }
    }
    for &t in touched.iter() {
        head[t] = NIL;
    }
}

/// Where a successor state goes.
pub(super) enum Edge {
    Next,
    Target,
    /// Into a `finally`/`with` handler at this code offset, run by a return or an unwind.
    Handler(i64),
}

/// The state in which the VM runs the handler of `blocks.last()` for a return or an unwind jump:
/// the stack cut back to the level the block saved, then two items (the return value or the
/// jump destination, and the small-int marker).
fn unwind_entry(stacks: &BlockStacks, blocks: usize) -> Option<(Edge, State)> {
    let (block, _) = stacks.pop(blocks)?;
    let mut state = State { stack: block.saved + 1, blocks, tags: 0 };
    state.push(Tag::Marker);
    Some((Edge::Handler(block.handler), state))
}

/// Runs `ins` from `state`. Returns true when execution can only continue with the next
/// instruction, `state` then being the state there; otherwise the successors are in `out` (none
/// when the function leaves or a problem was reported to `bad`).
pub(super) fn step(
    module: &Module<'_>,
    ctx: &Ctx<'_>,
    ins: &Op,
    state: &mut State,
    stacks: &mut BlockStacks,
    out: &mut Vec<(Edge, State)>,
    bad: &mut dyn FnMut(Check, String),
) -> bool {
    let info = ins.info();
    // Displays as its upstream name; formatted only when a finding is reported.
    let name = ins.opcode;
    if info.flow == Flow::Invalid {
        return false; // reported as an unassigned opcode
    }
    let delta = ins.stack_effect();
    if delta.pops > state.stack {
        bad(Check::StackUnderflow, format!("{name} pops {} with {} on the stack", delta.pops, state.stack));
        return false;
    }
    if reach(ins) > state.stack {
        bad(
            Check::StackUnderflow,
            format!("{name} reads the slot {} below the top with {} on the stack", ins.arg >> 2, state.stack),
        );
        return false;
    }
    let after_depth = (state.stack - delta.pops).saturating_add(delta.pushes);
    // WITH_CLEANUP in the unwind case has one more item below and uses one slot less above it.
    let scratch = if info.scratch != 0 && ins.opcode == Opcode::WITH_CLEANUP && state.top(0) == Tag::Marker {
        1
    } else {
        info.scratch
    };
    let high = state.stack.max(after_depth).saturating_add(u64::from(scratch));
    if high > ctx.room {
        bad(
            Check::StackOverflow,
            format!(
                "{name} needs {high} stack slots; n_state {} leaves {} beside the arguments and cells",
                ctx.n_state, ctx.room
            ),
        );
        return false;
    }
    match ins.opcode {
        // Opcodes that only move or make values the analysis follows; all continue with the next
        // instruction.
        Opcode::DUP_TOP => state.push(state.top(0)),
        Opcode::DUP_TOP_TWO => {
            let (t0, t1) = (state.top(0), state.top(1));
            state.push(t1);
            state.push(t0);
        }
        Opcode::ROT_TWO => {
            let (t0, t1) = (state.top(0), state.top(1));
            state.set_top(0, t1);
            state.set_top(1, t0);
        }
        Opcode::ROT_THREE => {
            let (t0, t1, t2) = (state.top(0), state.top(1), state.top(2));
            state.set_top(0, t1);
            state.set_top(1, t2);
            state.set_top(2, t0);
        }
        Opcode::POP_TOP => state.pop(),
        op if loads_local(op.0) => {
            let cell = ins.local_index().is_some_and(|i| ctx.cells.contains(i));
            state.push(if cell { Tag::Cell } else { Tag::Unknown });
        }
        Opcode::MAKE_CLOSURE | Opcode::MAKE_CLOSURE_DEFARGS => {
            // The cells it captures are the top `extra` slots.
            if (0..u64::from(ins.extra)).any(|i| state.top(i) != Tag::Cell) {
                bad(Check::Cell, format!("{name} captures a value that is not a cell"));
                return false;
            }
            return generic(ins, delta, state, stacks, out, bad);
        }
        Opcode::LOAD_CONST_NONE | Opcode::LOAD_CONST_FALSE | Opcode::LOAD_CONST_TRUE => {
            state.push(Tag::pushed_by(ins.opcode.0).unwrap_or(Tag::Unknown))
        }
        Opcode::LOAD_GLOBAL | Opcode::LOAD_NAME => {
            let is_base = ins
                .qstr_index()
                .and_then(|i| module.qstrs.get(usize::try_from(i).ok()?))
                .and_then(Qstr::bytes)
                .is_some_and(|b| b == b"BaseException");
            state.push(if is_base { Tag::BaseException } else { Tag::Unknown });
        }
        op if op.0 == crate::bytecode::opcode::BINARY_OP_MULTI + EXCEPTION_MATCH => {
            let result = match (state.top(1), state.top(0)) {
                (Tag::Exc, Tag::BaseException) => Tag::True,
                (Tag::Marker | Tag::None | Tag::True | Tag::False, _) => Tag::False,
                _ => Tag::Unknown,
            };
            state.pop();
            state.pop();
            state.push(result);
        }
        Opcode::POP_JUMP_IF_TRUE | Opcode::POP_JUMP_IF_FALSE => {
            let t0 = state.top(0);
            state.pop();
            let jump_when = ins.opcode == Opcode::POP_JUMP_IF_TRUE;
            match t0 {
                Tag::True | Tag::False if (t0 == Tag::True) == jump_when => out.push((Edge::Target, *state)),
                Tag::True | Tag::False => return true,
                _ => {
                    out.push((Edge::Target, *state));
                    out.push((Edge::Next, *state));
                }
            }
            return false;
        }
        Opcode::SETUP_EXCEPT | Opcode::SETUP_FINALLY | Opcode::SETUP_WITH => {
            let kind = match ins.opcode {
                Opcode::SETUP_EXCEPT => BlockKind::Except,
                Opcode::SETUP_FINALLY => BlockKind::Finally,
                _ => BlockKind::With,
            };
            // The level the block saves, and the stack at that level.
            let mut handler = *state;
            if kind == BlockKind::With {
                handler.pop();
                handler.push(Tag::Unknown); // __exit__
                handler.push(Tag::Unknown); // the context manager
            }
            let saved = handler.stack;
            let handler_at = ins.jump_target().unwrap_or(i64::MAX);
            let block = Block { kind, saved, handler: handler_at };
            let blocks = stacks.push(state.blocks, block);
            handler.blocks = blocks;
            handler.push(Tag::Exc);
            out.push((Edge::Target, handler));
            state.apply(delta);
            state.blocks = blocks;
            out.push((Edge::Next, *state));
            return false;
        }
        Opcode::POP_EXCEPT_JUMP => {
            let Some((_, below)) = stacks.pop(state.blocks) else {
                bad(Check::ExceptionStack, format!("{name} pops a handler that is not there"));
                return false;
            };
            state.blocks = below;
            out.push((Edge::Target, *state));
            return false;
        }
        Opcode::END_FINALLY => {
            match state.top(0) {
                Tag::None | Tag::NoneOrExc => {}
                Tag::Exc | Tag::Marker => return false, // re-raises, or returns / unwinds as recorded
                _ => {
                    bad(
                        Check::StackMismatch,
                        format!("{name} may see a value that is not None, an exception or a VM marker"),
                    );
                    return false;
                }
            }
            state.pop();
            let Some((_, below)) = stacks.pop(state.blocks) else {
                bad(Check::ExceptionStack, format!("{name} pops a handler that is not there"));
                return false;
            };
            state.blocks = below;
            return true;
        }
        Opcode::WITH_CLEANUP => {
            let (t0, t1) = (state.top(0), state.top(1));
            let result = match t0 {
                Tag::None => Tag::None,
                Tag::Exc => Tag::NoneOrExc,
                Tag::Marker => Tag::Marker,
                _ => {
                    bad(
                        Check::StackMismatch,
                        format!("{name} may see a value that is not None, an exception or a VM marker"),
                    );
                    return false;
                }
            };
            if result == Tag::Marker {
                if state.stack < 4 {
                    bad(Check::StackUnderflow, format!("{name} pops 4 with {} on the stack", state.stack));
                    return false;
                }
                // (__exit__, ctx_mgr, dest, marker) -> (dest, marker): drop the two below the top two.
                state.pop_n(4);
                state.push(t1);
                state.push(t0);
            } else {
                state.apply(delta);
                state.set_top(0, result);
            }
            return true;
        }
        Opcode::UNWIND_JUMP => {
            let x = ins.extra;
            let mut depth = state.stack;
            for _ in 0..(x & 0x7f) {
                let with_block = state.blocks;
                let Some((block, below)) = stacks.pop(with_block) else {
                    bad(Check::ExceptionStack, format!("{name} unwinds a handler that is not there"));
                    return false;
                };
                state.blocks = below;
                if block.kind == BlockKind::Except {
                    continue;
                }
                if block.handler <= ins.offset as i64 {
                    // Cancels the running handler: drops its one or two items.
                    if depth == block.saved + 1 || depth == block.saved + 2 {
                        depth = block.saved;
                    } else {
                        bad(
                            Check::StackMismatch,
                            format!("{name} leaves a running handler at the wrong level"),
                        );
                        return false;
                    }
                } else if depth != block.saved {
                    bad(
                        Check::StackMismatch,
                        format!(
                            "{name} runs a finally handler with {depth} items where the block saved {}",
                            block.saved
                        ),
                    );
                    return false;
                } else {
                    out.extend(unwind_entry(stacks, with_block));
                }
                if block.kind == BlockKind::With {
                    depth = block.saved - 2; // WITH_CLEANUP drops __exit__ and the context manager
                }
            }
            if x & 0x80 != 0 {
                let Some(d) = depth.checked_sub(u64::from(crate::bytecode::opcode::ITER_BUF_SLOTS)) else {
                    bad(Check::StackUnderflow, format!("{name} drops an iterator that is not there"));
                    return false;
                };
                depth = d;
            }
            // Unwinding only takes items off the top: what lies below keeps its tags.
            state.pop_n(state.stack - depth);
            out.push((Edge::Target, *state));
            return false;
        }
        Opcode::RETURN_VALUE => {
            // Every finally/with handler not yet running is run on the way out, innermost first.
            if state.blocks != BlockStacks::EMPTY {
                for (block, blocks) in stacks.bottom_up(state.blocks) {
                    if block.kind != BlockKind::Except && block.handler > ins.offset as i64 {
                        out.extend(unwind_entry(stacks, blocks));
                    }
                }
            }
            return false;
        }
        _ => return generic(ins, delta, state, stacks, out, bad),
    }
    true
}

/// The other opcodes: the table's stack effect, and its control flow.
fn generic(
    ins: &Op,
    delta: StackDelta,
    state: &mut State,
    stacks: &BlockStacks,
    out: &mut Vec<(Edge, State)>,
    bad: &mut dyn FnMut(Check, String),
) -> bool {
    let info = ins.info();
    let name = ins.opcode;
    match info.flow {
        Flow::Jump | Flow::Branch => {
            let branch = ins.branch_stack_effect().unwrap_or(delta);
            if branch.pops > state.stack {
                bad(
                    Check::StackUnderflow,
                    format!("{name} pops {} at its target with {}", branch.pops, state.stack),
                );
                return false;
            }
            let mut target = *state;
            target.apply(branch);
            if info.blocks == BlockEffect::Pop {
                target.blocks = stacks.below(target.blocks);
            }
            out.push((Edge::Target, target));
            if info.flow == Flow::Branch {
                state.apply(delta);
                out.push((Edge::Next, *state));
            }
            false
        }
        Flow::Next => {
            state.apply(delta);
            true
        }
        _ => false,
    }
}
