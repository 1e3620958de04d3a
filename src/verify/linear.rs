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
//! When a check fails, or the function is irregular in a way this pass does not follow (an operand
//! longer than two bytes, more than [`MAX_STATES`] states at one instruction, more than
//! [`MAX_VERIFY_RESCANS`] passes' worth of going back), it answers false and says nothing: the
//! exhaustive passes then find and explain every problem. It answers true only for functions on
//! which they report nothing.

use crate::bytecode::opcode::{info_for, Multi, OperandKind, StackEffect};
use crate::bytecode::{small_int, BytecodeView, Flow, Format, Op};
use crate::limits::{MAX_VERIFY_RESCANS, MAX_VERIFY_STATES as MAX_STATES};
use crate::module::Module;

use super::function::{check_operands, Bounds, OffsetSet, Scratch};
use super::stack::{plain_class, step, Ctx, Edge, Plain, PlainClass, State};

/// No state (the end of a list in [`LinearScratch::waiting`]).
const NIL: usize = usize::MAX;

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
    /// Per instruction start: where the states it first ran with begin in `ran`, and how many.
    ran_at: Vec<(u32, u32)>,
    /// The states each instruction first ran with, instruction after instruction.
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

/// How [`run_straight`] reads an opcode's operand; `Not` for the opcodes it leaves to the general
/// path (all but the plain ones without an extra byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Not,
    Nothing,
    Uint,
    SmallInt,
}

/// What the operand of an opcode indexes, as [`check_operands`] checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Index {
    Nothing,
    Qstr,
    Const,
    Child,
    Local,
    /// `LOAD_FAST_MULTI`, `STORE_FAST_MULTI`: this local.
    FixedLocal(u8),
}

/// What [`run_straight`] needs of an opcode byte, worked out once from its table entry.
#[derive(Debug, Clone, Copy)]
struct Straight {
    read: Read,
    index: Index,
    effect: StackEffect,
    scratch: u8,
    /// `LOAD_GLOBAL`, `LOAD_NAME`: not plain when the name is `BaseException`.
    unless_base_exception: bool,
}

static STRAIGHT: [Straight; 256] = {
    let mut table = [NOT_STRAIGHT; 256];
    let mut op = 0;
    while op < 256 {
        table[op] = straight(op as u8);
        op += 1;
    }
    table
};

const NOT_STRAIGHT: Straight = Straight {
    read: Read::Not,
    index: Index::Nothing,
    effect: StackEffect::Fixed { pops: 0, pushes: 0 },
    scratch: 0,
    unless_base_exception: false,
};

const fn straight(op: u8) -> Straight {
    let info = info_for(op);
    let unless_base_exception = match plain_class(op) {
        PlainClass::Never => return NOT_STRAIGHT,
        PlainClass::UnlessBaseException => true,
        PlainClass::Fixed { .. } | PlainClass::Rule => false,
    };
    if !info.assigned || info.extra_byte {
        return NOT_STRAIGHT;
    }
    let read = match (info.format, info.operand) {
        (Format::Byte, _) => Read::Nothing,
        (Format::VarUint, OperandKind::SmallInt) => Read::SmallInt,
        (Format::Qstr | Format::VarUint, _) => Read::Uint,
        (Format::Offset, _) => return NOT_STRAIGHT,
    };
    let index = match (info.format, info.operand, info.multi) {
        (Format::Qstr, _, _) => Index::Qstr,
        (Format::VarUint, OperandKind::Const, _) => Index::Const,
        (Format::VarUint, OperandKind::Child, _) => Index::Child,
        (_, OperandKind::Local, _) => Index::Local,
        (_, _, Some(Multi::LoadFast(n) | Multi::StoreFast(n))) => Index::FixedLocal(n),
        _ => Index::Nothing,
    };
    Straight { read, index, effect: info.stack, scratch: info.scratch, unless_base_exception }
}

/// Runs plain instructions from `at` in the single state `state`, for as long as each is read for
/// the first time here, has an operand of at most two bytes (any length for a small int), passes
/// its operand checks, runs from its [`Plain`] record, and is followed by another instruction that
/// no jump has brought a state to. Records each as an instruction start that ran with its state.
/// Returns where it stopped: the instruction it left to the general path, with the state there.
///
/// This is the general path's work on such instructions ([`check_operands`], [`Plain::of`] and
/// [`Plain::run`]), with each opcode's part of it looked up in one table ([`STRAIGHT`]).
#[inline(always)]
fn run_straight(
    code: &[u8],
    mut at: usize,
    mut state: State,
    bounds: &Bounds,
    ctx: &Ctx<'_>,
    base_exception: &[u64],
    starts: &mut OffsetSet,
    s: &mut LinearScratch,
) -> (usize, State) {
    loop {
        let Some(&opcode) = code.get(at) else { break };
        let st = STRAIGHT[usize::from(opcode)];
        let (arg, len) = match st.read {
            Read::Not => break,
            Read::Nothing => (0, 1),
            Read::Uint => match code.get(at + 1..at + 3) {
                Some(&[b0, _]) if b0 < 0x80 => (u64::from(b0), 2),
                Some(&[b0, b1]) if b0 > 0x80 && b1 < 0x80 => ((u64::from(b0 & 0x7f) << 7) | u64::from(b1), 3),
                // The last instruction, or a long or padded operand.
                _ => break,
            },
            // (The value does not matter here.)
            Read::SmallInt => match small_int(code, at + 1) {
                Some((_, n)) => (0, 1 + n),
                None => break,
            },
        };
        let in_range = match st.index {
            Index::Nothing => true,
            Index::Qstr => arg < bounds.n_qstr,
            Index::Const => arg < bounds.n_obj,
            Index::Child => arg < bounds.n_children,
            Index::Local => arg < bounds.n_state,
            Index::FixedLocal(n) => u64::from(n) < bounds.n_state,
        };
        if !in_range || (st.unless_base_exception && base_exception.contains(&arg)) {
            break;
        }
        let next = at + len;
        if next >= code.len() || s.head[next] != NIL {
            break;
        }
        let delta = st.effect.resolve(arg, 0);
        let (Ok(pops), Ok(pushes), Ok(first)) =
            (u32::try_from(delta.pops), u32::try_from(delta.pushes), u32::try_from(s.ran.len()))
        else {
            break;
        };
        let before = state;
        if !Plain::new(pops, pushes, st.scratch, len as u8).run(&mut state, ctx.room) {
            break;
        }
        starts.insert(at);
        s.ran_at[at] = (first, 1);
        s.ran.push(before);
        at = next;
    }
    (at, state)
}

/// Adds `state` to `set` unless it is there already.
fn add(set: &mut Vec<State>, state: State) {
    if !set.contains(&state) {
        set.push(state);
    }
}

/// True when the function is proven clean: neither its instructions nor its stack discipline would
/// give a finding. False says nothing either way.
pub(super) fn proves_clean(
    module: &Module<'_>,
    ctx: &Ctx<'_>,
    bounds: &Bounds,
    view: &BytecodeView<'_>,
    scratch: &mut Scratch,
) -> bool {
    let code_len = view.code().len();
    let s = &mut scratch.linear;
    if s.head.len() < code_len {
        s.head.resize(code_len, NIL);
        s.ran_at.resize(code_len, (0, 0));
    }
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

fn run(module: &Module<'_>, ctx: &Ctx<'_>, bounds: &Bounds, view: &BytecodeView<'_>, scratch: &mut Scratch) -> bool {
    let code = view.code();
    let code_len = code.len();
    let Scratch { starts, joins: targets, base_exception, stack, linear: s, .. } = scratch;
    let stacks = &mut stack.stacks;
    stacks.clear();
    starts.reset(code_len);
    targets.reset(code_len);
    s.now.clear();
    s.now.push(State::ENTRY);
    // Instructions below `frontier` have been read once; going back costs from `rescan_budget`.
    let mut frontier = 0;
    let mut rescan_budget = MAX_VERIFY_RESCANS.saturating_mul(code_len);
    let mut last = None;
    let mut at = 0;
    while at < code_len {
        if at < frontier && s.now.is_empty() && s.not_run == 0 {
            // Gone back, and nothing is left to run again.
            at = frontier;
            continue;
        }
        if at >= frontier && s.now.len() == 1 && s.head[at] == NIL {
            let (stop, state) = run_straight(code, at, s.now[0], bounds, ctx, base_exception, starts, s);
            if stop != at {
                // (It never runs the last instruction, which the general path reads below.)
                s.now[0] = state;
                frontier = stop;
                at = stop;
                continue;
            }
        }
        // The rare shapes (long or padded operands) and decode errors are left to the exhaustive
        // passes.
        let Some(op) = Op::decode_common(code, at) else { return false };
        let next_at = op.next_offset();
        let first = at >= frontier;
        if first {
            starts.insert(at);
            let mut ok = true;
            check_operands(&op, bounds, |_, _| ok = false);
            if !ok {
                return false;
            }
            if op.info().format == Format::Offset {
                match usize::try_from(op.arg as i64) {
                    Ok(t) if t < code_len => targets.insert(t),
                    _ => return false,
                }
            }
            frontier = next_at;
            last = Some(op);
        } else {
            let Some(left) = rescan_budget.checked_sub(usize::from(op.len)) else { return false };
            rescan_budget = left;
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
        if first {
            let (Ok(start), Ok(count)) = (u32::try_from(s.ran.len()), u32::try_from(s.now.len())) else {
                return false;
            };
            s.ran_at[at] = (start, count);
            s.ran.extend_from_slice(&s.now);
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
                let to = match *edge {
                    Edge::Next => next_at,
                    // Inside the code: checked above.
                    Edge::Target => match op.jump_target() {
                        Some(t) => t as usize,
                        None => return false,
                    },
                    Edge::Handler(handler) => match usize::try_from(handler) {
                        Ok(t) if t < code_len => t,
                        _ => return false,
                    },
                };
                if to >= code_len || !ctx.admits(&state, stacks) {
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
                    if !starts.contains(to) {
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
    let falls_off = |op: Op| matches!(op.info().flow, Flow::Next | Flow::Branch | Flow::Handler | Flow::EndFinally);
    if last.is_none_or(falls_off) {
        return false;
    }
    targets.is_subset(starts)
}
