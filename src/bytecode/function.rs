//! A whole bytecode `fun_data`: prelude, line table, cells and instructions; decoding, the two
//! encoders ([`Layout::Exact`], [`Layout::Relaid`]) and the edits merge and strip need.

use super::error::{BytecodeEncodeError, BytecodeError};
use super::instruction::Instruction;
use super::line_table::LineTable;
use super::opcode::OperandKind;
use super::operand::{JumpWidth, Operand, preferred_width};
use super::prelude::Prelude;
use super::view::BytecodeView;

/// How the encoder lays out jumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Layout {
    /// Every jump keeps the width it was decoded with (byte-identical output for an unmodified
    /// function, whatever wrote it). Targets still follow their instructions if operand lengths
    /// changed; a jump that no longer fits its width is an error.
    #[default]
    Exact,
    /// Jump widths are recomputed as mpy-cross does: start with every jump at 2 bytes and shrink to
    /// 1 byte each jump whose offset fits, until nothing changes (sizes only shrink, so this
    /// terminates, and it reaches the same fixed point as py/emitbc.c). Every jump must target the
    /// start of an instruction. An offset that does not fit 2 bytes is "bytecode overflow".
    Relaid,
}

/// A decoded bytecode function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BytecodeFunction {
    /// Signature, names and cells.
    pub prelude: Prelude,
    /// The line-number table.
    pub line_table: LineTable,
    /// The instructions, in order.
    pub instructions: Vec<Instruction>,
}

/// The output of an encoder, with where everything went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The `fun_data` bytes.
    pub bytes: Vec<u8>,
    /// Offset in `bytes` of the first opcode.
    pub code_start: usize,
    /// Code offset of each instruction in the output.
    pub offsets: Vec<usize>,
    /// The line table as written (moved along with the instructions).
    pub line_table: LineTable,
}

/// Instructions on either side of a shrunk jump whose jumps are checked again: a jump that can
/// still shrink spans at most 129 bytes (`target - (opcode + 2)` within -64..=127), and every
/// instruction takes at least one byte.
const SHRINK_WINDOW: usize = 132;

/// Prefix sums with point updates (instruction sizes → code offsets).
struct Fenwick(Vec<i64>);

impl Fenwick {
    fn new(n: usize) -> Self {
        Fenwick(vec![0; n + 1])
    }

    fn add(&mut self, i: usize, delta: i64) {
        let mut i = i + 1;
        while i < self.0.len() {
            self.0[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of the sizes before `i`: the code offset of instruction `i`.
    fn prefix(&self, i: usize) -> i64 {
        let (mut i, mut sum) = (i, 0);
        while i > 0 {
            sum += self.0[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// The computed layout: positions, jump widths and targets (new code offsets).
struct Plan {
    positions: Vec<usize>,
    widths: Vec<Option<JumpWidth>>,
    targets: Vec<Option<i64>>,
    line_table: LineTable,
}

impl BytecodeFunction {
    /// Decodes `fun_data` of a bytecode raw code. Unassigned opcodes decode by their format into
    /// instructions the verifier can reject; truncated fields, oversized values and inconsistent
    /// sizes are errors with their offset inside `fun_data`.
    pub fn decode(fun_data: &[u8]) -> Result<BytecodeFunction, BytecodeError> {
        Self::decode_with_code_start(fun_data).map(|(f, _)| f)
    }

    /// [`BytecodeFunction::decode`], and where the instructions start in `fun_data` (what
    /// [`BytecodeFunction::code_start`] computes by encoding).
    pub(crate) fn decode_with_code_start(
        fun_data: &[u8],
    ) -> Result<(BytecodeFunction, usize), BytecodeError> {
        let view = BytecodeView::decode(fun_data)?;
        let code_start = view.code_start();
        // Instructions average about two bytes; never more than one per byte.
        let mut instructions = Vec::with_capacity(view.code().len() / 2 + 1);
        for ins in view.instructions() {
            instructions.push(ins?);
        }
        let line_table = view.line_table();
        Ok((BytecodeFunction { prelude: view.prelude.to_prelude(), line_table, instructions }, code_start))
    }

    /// Encodes with [`Layout::Exact`].
    pub fn encode(&self) -> Result<Vec<u8>, BytecodeEncodeError> {
        self.encode_exact()
    }

    /// Encodes keeping every jump's width: byte-identical to the input for an unmodified function.
    pub fn encode_exact(&self) -> Result<Vec<u8>, BytecodeEncodeError> {
        Ok(self.encode_with(Layout::Exact)?.bytes)
    }

    /// Encodes with jump widths recomputed to mpy-cross's fixed point and the prelude sizes
    /// recomputed; for mpy-cross output this is the identity.
    pub fn encode_relaid(&self) -> Result<Vec<u8>, BytecodeEncodeError> {
        Ok(self.encode_with(Layout::Relaid)?.bytes)
    }

    /// Encodes with `layout`, returning where each instruction went.
    pub fn encode_with(&self, layout: Layout) -> Result<Encoded, BytecodeEncodeError> {
        let plan = self.plan(layout)?;
        let mut bytes = Vec::new();
        let line_info = plan.line_table.encode()?;
        self.prelude.encode_with(&line_info, &mut bytes)?;
        let code_start = bytes.len();
        for (index, ins) in self.instructions.iter().enumerate() {
            let pos = plan.positions[index];
            debug_assert_eq!(bytes.len() - code_start, pos);
            let jump = match (plan.widths[index], plan.targets[index]) {
                (Some(width), Some(target)) => Some((target - (pos + 1 + width.byte_len()) as i64, width)),
                _ => None,
            };
            ins.encode(jump, &mut bytes).map_err(|e| match e {
                BytecodeEncodeError::BytecodeOverflow { relative, .. } => {
                    BytecodeEncodeError::BytecodeOverflow { index, offset: pos, relative }
                }
                other => other,
            })?;
        }
        Ok(Encoded { bytes, code_start, offsets: plan.positions, line_table: plan.line_table })
    }

    /// Applies `layout` to the model itself: instruction offsets become the output's, jump targets
    /// and widths follow, and the line table moves with the code. Afterwards [`Layout::Exact`]
    /// gives the same bytes.
    pub fn lay_out(&mut self, layout: Layout) -> Result<(), BytecodeEncodeError> {
        let plan = self.plan(layout)?;
        for (index, ins) in self.instructions.iter_mut().enumerate() {
            ins.offset = plan.positions[index];
            if let Operand::Jump(j) = &mut ins.operand {
                if let (Some(width), Some(target)) = (plan.widths[index], plan.targets[index]) {
                    j.width = width;
                    j.target = target;
                }
            }
        }
        self.line_table = plan.line_table;
        Ok(())
    }

    fn plan(&self, layout: Layout) -> Result<Plan, BytecodeEncodeError> {
        let n = self.instructions.len();
        for (index, ins) in self.instructions.iter().enumerate() {
            if !ins.is_consistent() {
                return Err(BytecodeEncodeError::OperandMismatch { index });
            }
            if !ins.operand_fits() {
                return Err(BytecodeEncodeError::OperandTooLong { index });
            }
        }

        // Labels: (old offset, index) of labelled instructions, increasing.
        let mut labels: Vec<(usize, usize)> = Vec::with_capacity(n);
        for (index, ins) in self.instructions.iter().enumerate() {
            if ins.offset == Instruction::UNLABELLED {
                continue;
            }
            if labels.last().is_some_and(|&(prev, _)| prev >= ins.offset) {
                return Err(BytecodeEncodeError::OffsetsNotIncreasing { index });
            }
            labels.push((ins.offset, index));
        }
        let label_index = |target: i64| -> Option<usize> {
            let t = usize::try_from(target).ok()?;
            labels.binary_search_by_key(&t, |&(off, _)| off).ok().map(|k| labels[k].1)
        };

        // Each jump's target as an instruction index when it is a label.
        let mut target_index: Vec<Option<usize>> = vec![None; n];
        let mut widths: Vec<Option<JumpWidth>> = vec![None; n];
        for (index, ins) in self.instructions.iter().enumerate() {
            if let Operand::Jump(j) = ins.operand {
                target_index[index] = label_index(j.target);
                if layout == Layout::Relaid && target_index[index].is_none() {
                    return Err(BytecodeEncodeError::TargetNotAnInstruction { index, target: j.target });
                }
                widths[index] = Some(match layout {
                    Layout::Exact => j.width,
                    Layout::Relaid => JumpWidth::Two,
                });
            }
        }

        let positions_for = |widths: &[Option<JumpWidth>]| -> Vec<usize> {
            let mut pos = Vec::with_capacity(n + 1);
            let mut at = 0usize;
            for (ins, w) in self.instructions.iter().zip(widths) {
                pos.push(at);
                at += ins.encoded_len_with(*w);
            }
            pos.push(at);
            pos
        };

        if layout == Layout::Relaid {
            self.shrink_jumps(&mut widths, &target_index);
        }
        let positions = positions_for(&widths);

        // Old code offset → new, for targets that are not labels (Exact only) and the line table:
        // piecewise by labelled instruction, keeping the position inside an instruction.
        let remap = |o: i64| -> i64 {
            let Ok(u) = usize::try_from(o) else { return o };
            let k = labels.partition_point(|&(off, _)| off <= u);
            if k == 0 {
                return o;
            }
            let (old, index) = labels[k - 1];
            let new = positions[index] as i64;
            let inside = (u - old) as i64;
            match labels.get(k) {
                Some(&(_, next)) => new + inside.min(positions[next] as i64 - new - 1).max(0),
                None => new + inside,
            }
        };

        let mut targets = vec![None; n];
        for (index, ins) in self.instructions.iter().enumerate() {
            if let Operand::Jump(j) = ins.operand {
                targets[index] = Some(match target_index[index] {
                    Some(k) => positions[k] as i64,
                    None => remap(j.target),
                });
            }
        }
        let unchanged = labels.iter().all(|&(old, index)| positions[index] == old);
        let line_table = if unchanged { self.line_table.clone() } else { self.line_table.remapped(remap) };
        let mut positions = positions;
        positions.truncate(n);
        Ok(Plan { positions, widths, targets, line_table })
    }

    /// Shrinks 2-byte jumps to 1 byte while their offset fits, starting from all 2-byte: the
    /// greatest fixed point, which is what py/emitbc.c's passes converge to (its first sizing pass
    /// assumes 2 bytes for every jump and sizes only shrink afterwards).
    ///
    /// A worklist keeps this near-linear on any input: shrinking a jump moves only the distances of
    /// jumps that span it, and a jump that may still shrink spans at most 129 bytes, hence at most
    /// [`SHRINK_WINDOW`] instructions on either side; only those are looked at again. Positions are
    /// kept in a Fenwick tree.
    fn shrink_jumps(&self, widths: &mut [Option<JumpWidth>], target_index: &[Option<usize>]) {
        let n = self.instructions.len();
        let mut sizes = Fenwick::new(n);
        for (i, ins) in self.instructions.iter().enumerate() {
            sizes.add(i, ins.encoded_len_with(widths[i]) as i64);
        }
        let mut queued = vec![false; n];
        let mut work: Vec<usize> = (0..n).rev().filter(|&i| widths[i].is_some()).collect();
        for &i in &work {
            queued[i] = true;
        }
        while let Some(i) = work.pop() {
            queued[i] = false;
            let (Some(JumpWidth::Two), Some(k)) = (widths[i], target_index[i]) else { continue };
            let signed = matches!(self.instructions[i].info().operand, OperandKind::Jump { signed: true });
            if preferred_width(sizes.prefix(k), sizes.prefix(i), signed) == JumpWidth::One {
                widths[i] = Some(JumpWidth::One);
                sizes.add(i, -1);
                let lo = i.saturating_sub(SHRINK_WINDOW);
                let hi = (i + SHRINK_WINDOW).min(n - 1);
                for j in lo..=hi {
                    if widths[j] == Some(JumpWidth::Two) && !queued[j] {
                        queued[j] = true;
                        work.push(j);
                    }
                }
            }
        }
    }

    /// Offset in `fun_data` of the first opcode, as [`Layout::Exact`] would write it.
    pub fn code_start(&self) -> Result<usize, BytecodeEncodeError> {
        let mut out = Vec::new();
        let line_info = self.line_table.encode()?;
        self.prelude.encode_with(&line_info, &mut out)?;
        Ok(out.len())
    }

    /// Index of the instruction labelled `offset` (binary search: labels increase; falls back to a
    /// scan when unlabelled instructions were inserted).
    pub fn index_of_offset(&self, offset: usize) -> Option<usize> {
        if offset == Instruction::UNLABELLED {
            return None;
        }
        match self.instructions.binary_search_by_key(&offset, |i| i.offset) {
            Ok(k) => Some(k),
            Err(_) if self.instructions.iter().any(|i| i.offset == Instruction::UNLABELLED) => {
                self.instructions.iter().position(|i| i.offset == offset)
            }
            Err(_) => None,
        }
    }

    /// The source line of code offset `offset` (1 when there is no line table).
    pub fn line_at(&self, offset: u64) -> u64 {
        self.line_table.line_at(offset)
    }

    /// Rewrites every qstr-table index, in the prelude names and in the QSTR operands (unassigned
    /// QSTR-format opcodes included), through `f`.
    pub fn map_qstr_indices(&mut self, mut f: impl FnMut(u64) -> u64) {
        self.prelude.map_qstr_indices(&mut f);
        for ins in &mut self.instructions {
            if let Operand::Qstr(a) = &mut ins.operand {
                a.value = f(a.value);
            }
        }
    }

    /// Rewrites every constant-table index (`LOAD_CONST_OBJ`) through `f`.
    pub fn map_const_indices(&mut self, mut f: impl FnMut(u64) -> u64) {
        for ins in &mut self.instructions {
            if let Operand::Const(a) = &mut ins.operand {
                a.value = f(a.value);
            }
        }
    }

    /// Rewrites every child index (`MAKE_FUNCTION*`, `MAKE_CLOSURE*`) through `f`.
    pub fn map_child_indices(&mut self, mut f: impl FnMut(u64) -> u64) {
        for ins in &mut self.instructions {
            if let Operand::Child(a) = &mut ins.operand {
                a.value = f(a.value);
            }
        }
    }

    /// Drops the line-number table (every offset then maps to line 1, as with `mpy-cross -O3`);
    /// `n_info` shrinks accordingly on encoding.
    pub fn strip_line_table(&mut self) {
        self.line_table.entries.clear();
    }

    /// Drops every redundant padding byte (operands, names, prelude signature and size), so the
    /// encoding is the one MicroPython's compiler would write.
    pub fn normalize_encodings(&mut self) {
        self.prelude.signature_pad = 0;
        self.prelude.size_pad = 0;
        self.prelude.simple_name.pad = 0;
        for a in &mut self.prelude.arg_names {
            a.pad = 0;
        }
        for ins in &mut self.instructions {
            match &mut ins.operand {
                Operand::Qstr(a)
                | Operand::Const(a)
                | Operand::Child(a)
                | Operand::Local(a)
                | Operand::Uint(a) => a.pad = 0,
                Operand::SmallInt(a) => a.pad = 0,
                Operand::None | Operand::Jump(_) => {}
            }
        }
    }

    /// Whether anything was decoded in a form MicroPython's compiler does not write: padded
    /// varuints or prelude fields.
    pub fn has_padding(&self) -> bool {
        let p = &self.prelude;
        p.signature_pad != 0
            || p.size_pad != 0
            || p.simple_name.pad != 0
            || p.arg_names.iter().any(|a| a.pad != 0)
            || self.instructions.iter().any(|i| match i.operand {
                Operand::Qstr(a)
                | Operand::Const(a)
                | Operand::Child(a)
                | Operand::Local(a)
                | Operand::Uint(a) => a.pad != 0,
                Operand::SmallInt(a) => a.pad != 0,
                _ => false,
            })
    }
}
