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

use std::collections::VecDeque;
use std::rc::Rc;

use crate::bytecode::{BlockEffect, BytecodeFunction, Flow, Instruction, Opcode, StackDelta};
use crate::error::Path;
use crate::flags::ScopeFlags;
use crate::limits::{MAX_BLOCK_DEPTH, MAX_VERIFY_STATES as MAX_STATES};
use crate::module::Module;
use crate::qstr::Qstr;

use super::{Check, Findings};

/// Slots at the top of the stack whose contents are tracked.
const WINDOW: usize = 32;
/// `BINARY_OP` number of the exception-match operator.
const EXCEPTION_MATCH: u8 = 8;

/// What is known of a stack slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Tag {
    Unknown,
    None,
    /// An exception instance (pushed by the VM when it enters a handler).
    Exc,
    /// None or an exception (after `WITH_CLEANUP` handled one).
    NoneOrExc,
    /// The small-int marker of a return or unwind in progress (pushed by the VM).
    Marker,
    Bool(bool),
    /// The class `BaseException` (every exception matches it).
    BaseException,
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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    stack: u64,
    /// Shared between the states that have the same blocks (most successors): cloning a state
    /// does not allocate.
    blocks: Rc<Vec<Block>>,
    /// `tags[0]` is the top of the stack.
    tags: [Tag; WINDOW],
}

impl State {
    fn push(&mut self, tag: Tag) {
        self.tags.rotate_right(1);
        self.tags[0] = tag;
        self.stack += 1;
    }

    fn pop(&mut self) {
        self.tags.rotate_left(1);
        self.tags[WINDOW - 1] = Tag::Unknown;
        self.stack -= 1;
    }

    /// Applies a generic effect (pops checked by the caller); pushed slots are unknown.
    fn apply(&mut self, delta: StackDelta) {
        for _ in 0..delta.pops.min(self.stack) {
            self.pop();
        }
        let pushes = delta.pushes;
        if pushes >= WINDOW as u64 {
            self.tags = [Tag::Unknown; WINDOW];
            self.stack = self.stack.saturating_add(pushes);
        } else {
            for _ in 0..pushes {
                self.push(Tag::Unknown);
            }
        }
    }
}

/// Per-function context.
struct Ctx<'p> {
    path: &'p Path,
    code_start: usize,
    room: u64,
    n_state: u64,
    n_exc: u64,
}

pub(super) fn check(
    module: &Module<'_>,
    path: &Path,
    func: &BytecodeFunction,
    code_start: usize,
    code_len: usize,
    boundaries: &[bool],
    f: &mut Findings,
) {
    let n = func.instructions.len();
    if n == 0 {
        return;
    }
    let mut index_at = vec![usize::MAX; code_len + 1];
    for (k, ins) in func.instructions.iter().enumerate() {
        if let Some(slot) = index_at.get_mut(ins.offset) {
            *slot = k;
        }
    }
    let target_index = |ins: &Instruction| -> Option<usize> {
        let t = usize::try_from(ins.jump()?.target).ok()?;
        (t < code_len && boundaries[t]).then(|| index_at[t])
    };
    let s = &func.prelude.signature;
    let flags = s.scope_flags;
    // The stack grows up from the bottom of the state array and the locals sit at its top; the
    // argument and cell slots are live from entry, so the stack must stay below them. (Other
    // locals may share slots with the stack while dead: mpy-cross sizes class bodies that way.)
    let n_args = u64::from(s.n_pos_args)
        + u64::from(s.n_kwonly_args)
        + u64::from(flags.contains(ScopeFlags::VARARGS))
        + u64::from(flags.contains(ScopeFlags::VARKEYWORDS));
    let live = func.prelude.cells.iter().map(|&c| u64::from(c) + 1).fold(n_args, u64::max);
    let ctx = Ctx {
        path,
        code_start,
        room: u64::from(s.n_state).saturating_sub(live),
        n_state: u64::from(s.n_state),
        n_exc: u64::from(s.n_exc_stack),
    };

    // Every state reached, kept once in `arena`; per instruction, a list through the arena
    // (`head[k]`, then each entry's link) and its length. The queue holds arena indices, so a
    // state is stored once and never cloned to be queued.
    const NIL: usize = usize::MAX;
    let mut head = vec![NIL; n];
    let mut count = vec![0u8; n];
    let mut arena: Vec<(State, usize)> = Vec::with_capacity(n);
    arena.push((State { stack: 0, blocks: Rc::default(), tags: [Tag::Unknown; WINDOW] }, NIL));
    head[0] = 0;
    count[0] = 1;
    let mut queue = VecDeque::from([(0usize, 0usize)]);
    let mut reported = std::collections::HashSet::new();
    let mut report = |check: Check, at: usize, message: String, f: &mut Findings| {
        if reported.insert(check) {
            f.add(ctx.path, Some(ctx.code_start + at), check, message);
        }
    };

    // Join points: the entry and every jump or handler target. Any other instruction is only
    // reached by falling through from the one before, so a state that falls through into it is
    // followed at once, without being stored, compared or queued.
    let mut join = vec![false; n];
    join[0] = true;
    for ins in &func.instructions {
        if let Some(t) = target_index(ins) {
            join[t] = true;
        }
    }

    let mut out = Vec::new();
    while let Some((start, id)) = queue.pop_front() {
        let mut k = start;
        let mut state = arena[id].0.clone();
        loop {
            let ins = &func.instructions[k];
            step(module, &ctx, ins, &state, &mut out, &mut |c, m| report(c, ins.offset, m, f));
            if let [(Edge::Next, s)] = out.as_slice() {
                let fast = k + 1 < n
                    && !join[k + 1]
                    && s.stack <= ctx.room
                    && s.blocks.len() as u64 <= ctx.n_exc
                    && s.blocks.len() <= MAX_BLOCK_DEPTH;
                if fast {
                    state = out.pop().map(|(_, s)| s).unwrap_or(state);
                    k += 1;
                    continue;
                }
            }
            break;
        }
        let ins = &func.instructions[k];
        for (edge, next_state) in out.drain(..) {
            let next = match edge {
                Edge::Next => k + 1,
                Edge::Target => match target_index(ins) {
                    Some(t) => t,
                    None => continue, // reported as a bad jump target
                },
                Edge::Handler(at) => {
                    match usize::try_from(at).ok().filter(|&t| t < code_len && boundaries[t]) {
                        Some(t) => index_at[t],
                        None => continue, // reported with the SETUP opcode
                    }
                }
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
            if next >= n {
                continue; // reported as falling off the end
            }
            if next_state.blocks.len() as u64 > ctx.n_exc || next_state.blocks.len() > MAX_BLOCK_DEPTH {
                report(
                    Check::ExceptionStack,
                    ins.offset,
                    format!(
                        "{} nests {} handlers; n_exc_stack is {}",
                        ins.opcode.upstream_name(),
                        next_state.blocks.len(),
                        ctx.n_exc
                    ),
                    f,
                );
                continue;
            }
            let mut at = head[next];
            while at != NIL && arena[at].0 != next_state {
                at = arena[at].1;
            }
            if at != NIL {
                continue; // seen
            }
            if usize::from(count[next]) >= MAX_STATES {
                report(
                    Check::StackMismatch,
                    func.instructions[next].offset,
                    format!("reached with more than {MAX_STATES} different stack states"),
                    f,
                );
                continue;
            }
            arena.push((next_state, head[next]));
            head[next] = arena.len() - 1;
            count[next] += 1;
            queue.push_back((next, arena.len() - 1));
        }
    }
}

/// Where a successor state goes.
enum Edge {
    Next,
    Target,
    /// Into a `finally`/`with` handler at this code offset, run by a return or an unwind.
    Handler(i64),
}

/// The state in which the VM runs the handler of `blocks.last()` for a return or an unwind jump:
/// the stack cut back to the level the block saved, then two items (the return value or the
/// jump destination, and the small-int marker).
fn unwind_entry(blocks: Vec<Block>) -> Option<(Edge, State)> {
    let block = *blocks.last()?;
    let mut tags = [Tag::Unknown; WINDOW];
    tags[0] = Tag::Marker;
    Some((Edge::Handler(block.handler), State { stack: block.saved + 2, blocks: Rc::new(blocks), tags }))
}

/// The successors of `ins` from `state`; problems go to `bad`.
fn step(
    module: &Module<'_>,
    ctx: &Ctx<'_>,
    ins: &Instruction,
    state: &State,
    out: &mut Vec<(Edge, State)>,
    bad: &mut dyn FnMut(Check, String),
) {
    let info = ins.info();
    // Displays as its upstream name; formatted only when a finding is reported.
    let name = ins.opcode;
    if info.flow == Flow::Invalid {
        return; // reported as an unassigned opcode
    }
    let delta = ins.stack_effect();
    if delta.pops > state.stack {
        bad(Check::StackUnderflow, format!("{name} pops {} with {} on the stack", delta.pops, state.stack));
        return;
    }
    let after_depth = (state.stack - delta.pops).saturating_add(delta.pushes);
    // WITH_CLEANUP in the unwind case has one more item below and uses one slot less above it.
    let scratch =
        if ins.opcode == Opcode::WITH_CLEANUP && state.tags[0] == Tag::Marker { 1 } else { info.scratch };
    let high = state.stack.max(after_depth).saturating_add(u64::from(scratch));
    if high > ctx.room {
        bad(
            Check::StackOverflow,
            format!(
                "{name} needs {high} stack slots; n_state {} leaves {} beside the arguments and cells",
                ctx.n_state, ctx.room
            ),
        );
        return;
    }
    let t = state.tags;
    let mut next = state.clone();
    match ins.opcode {
        Opcode::DUP_TOP => next.push(t[0]),
        Opcode::DUP_TOP_TWO => {
            next.push(t[1]);
            next.push(t[0]);
        }
        Opcode::ROT_TWO => next.tags.swap(0, 1),
        Opcode::ROT_THREE => {
            next.tags[0] = t[1];
            next.tags[1] = t[2];
            next.tags[2] = t[0];
        }
        Opcode::POP_TOP => next.pop(),
        Opcode::LOAD_CONST_NONE => next.push(Tag::None),
        Opcode::LOAD_CONST_FALSE => next.push(Tag::Bool(false)),
        Opcode::LOAD_CONST_TRUE => next.push(Tag::Bool(true)),
        Opcode::LOAD_GLOBAL | Opcode::LOAD_NAME => {
            let is_base = ins
                .qstr_index()
                .and_then(|i| module.qstrs.get(usize::try_from(i).ok()?))
                .and_then(Qstr::bytes)
                .is_some_and(|b| b == b"BaseException");
            next.push(if is_base { Tag::BaseException } else { Tag::Unknown });
        }
        op if op.0 == crate::bytecode::opcode::BINARY_OP_MULTI + EXCEPTION_MATCH => {
            let result = match (t[1], t[0]) {
                (Tag::Exc, Tag::BaseException) => Tag::Bool(true),
                (Tag::Marker | Tag::None | Tag::Bool(_), _) => Tag::Bool(false),
                _ => Tag::Unknown,
            };
            next.pop();
            next.pop();
            next.push(result);
        }
        Opcode::POP_JUMP_IF_TRUE | Opcode::POP_JUMP_IF_FALSE => {
            next.pop();
            let jump_when = ins.opcode == Opcode::POP_JUMP_IF_TRUE;
            match t[0] {
                Tag::Bool(b) if b == jump_when => out.push((Edge::Target, next)),
                Tag::Bool(_) => out.push((Edge::Next, next)),
                _ => {
                    out.push((Edge::Target, next.clone()));
                    out.push((Edge::Next, next));
                }
            }
            return;
        }
        Opcode::SETUP_EXCEPT | Opcode::SETUP_FINALLY | Opcode::SETUP_WITH => {
            let kind = match ins.opcode {
                Opcode::SETUP_EXCEPT => BlockKind::Except,
                Opcode::SETUP_FINALLY => BlockKind::Finally,
                _ => BlockKind::With,
            };
            // The level the block saves, and the stack at that level.
            let mut base = state.clone();
            if kind == BlockKind::With {
                base.pop();
                base.push(Tag::Unknown); // __exit__
                base.push(Tag::Unknown); // the context manager
            }
            let saved = base.stack;
            let handler_at = ins.jump().map_or(i64::MAX, |j| j.target);
            let mut handler = base.clone();
            Rc::make_mut(&mut handler.blocks).push(Block { kind, saved, handler: handler_at });
            let mut on_exception = handler.clone();
            on_exception.push(Tag::Exc);
            out.push((Edge::Target, on_exception));
            next.apply(delta);
            Rc::make_mut(&mut next.blocks).push(Block { kind, saved, handler: handler_at });
            out.push((Edge::Next, next));
            return;
        }
        Opcode::POP_EXCEPT_JUMP => {
            if Rc::make_mut(&mut next.blocks).pop().is_none() {
                bad(Check::ExceptionStack, format!("{name} pops a handler that is not there"));
                return;
            }
            out.push((Edge::Target, next));
            return;
        }
        Opcode::END_FINALLY => {
            match t[0] {
                Tag::None | Tag::NoneOrExc => {}
                Tag::Exc | Tag::Marker => return, // re-raises, or returns / unwinds as recorded
                _ => {
                    bad(
                        Check::StackMismatch,
                        format!("{name} may see a value that is not None, an exception or a VM marker"),
                    );
                    return;
                }
            }
            next.pop();
            if Rc::make_mut(&mut next.blocks).pop().is_none() {
                bad(Check::ExceptionStack, format!("{name} pops a handler that is not there"));
                return;
            }
            out.push((Edge::Next, next));
            return;
        }
        Opcode::WITH_CLEANUP => {
            let result = match t[0] {
                Tag::None => Tag::None,
                Tag::Exc => Tag::NoneOrExc,
                Tag::Marker => Tag::Marker,
                _ => {
                    bad(
                        Check::StackMismatch,
                        format!("{name} may see a value that is not None, an exception or a VM marker"),
                    );
                    return;
                }
            };
            if result == Tag::Marker {
                // __exit__, ctx_mgr, dest, marker -> dest, marker
                if state.stack < 4 {
                    bad(Check::StackUnderflow, format!("{name} pops 4 with {} on the stack", state.stack));
                    return;
                }
                // (__exit__, ctx_mgr, dest, marker) -> (dest, marker): drop slots 2 and 3.
                next.tags.copy_within(4.., 2);
                next.tags[WINDOW - 2..].fill(Tag::Unknown);
                next.stack -= 2;
            } else {
                next.apply(delta);
                next.tags[0] = result;
            }
            out.push((Edge::Next, next));
            return;
        }
        Opcode::UNWIND_JUMP => {
            let x = ins.extra.unwrap_or(0);
            let mut depth = state.stack;
            for _ in 0..(x & 0x7f) {
                let Some(block) = Rc::make_mut(&mut next.blocks).pop() else {
                    bad(Check::ExceptionStack, format!("{name} unwinds a handler that is not there"));
                    return;
                };
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
                        return;
                    }
                } else if depth != block.saved {
                    bad(
                        Check::StackMismatch,
                        format!(
                            "{name} runs a finally handler with {depth} items where the block saved {}",
                            block.saved
                        ),
                    );
                    return;
                } else {
                    let mut blocks = Vec::clone(&next.blocks);
                    blocks.push(block);
                    out.extend(unwind_entry(blocks));
                }
                if block.kind == BlockKind::With {
                    depth = block.saved - 2; // WITH_CLEANUP drops __exit__ and the context manager
                }
            }
            if x & 0x80 != 0 {
                let Some(d) = depth.checked_sub(u64::from(crate::bytecode::opcode::ITER_BUF_SLOTS)) else {
                    bad(Check::StackUnderflow, format!("{name} drops an iterator that is not there"));
                    return;
                };
                depth = d;
            }
            // Unwinding only takes items off the top: what lies below keeps its tags.
            for _ in 0..(state.stack - depth).min(WINDOW as u64) {
                next.pop();
            }
            next.stack = depth;
            out.push((Edge::Target, next));
            return;
        }
        Opcode::RETURN_VALUE => {
            // Every finally/with handler not yet running is run on the way out, innermost first.
            for (k, block) in state.blocks.iter().enumerate() {
                if block.kind != BlockKind::Except && block.handler > ins.offset as i64 {
                    out.extend(unwind_entry(state.blocks[..=k].to_vec()));
                }
            }
            return;
        }
        _ => next.apply(delta),
    }
    // Generic control flow.
    let falls_through = matches!(info.flow, Flow::Next | Flow::Branch);
    if matches!(info.flow, Flow::Jump | Flow::Branch) {
        let branch = ins.branch_stack_effect().unwrap_or(delta);
        if branch.pops > state.stack {
            bad(
                Check::StackUnderflow,
                format!("{name} pops {} at its target with {}", branch.pops, state.stack),
            );
            return;
        }
        let mut target = state.clone();
        target.apply(branch);
        match info.blocks {
            BlockEffect::Pop => _ = Rc::make_mut(&mut target.blocks).pop(),
            BlockEffect::None => {}
            _ => {}
        }
        out.push((Edge::Target, target));
    }
    if falls_through {
        out.push((Edge::Next, next));
    }
}
