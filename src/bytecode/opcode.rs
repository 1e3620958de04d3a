//! The opcode table: every byte value's name, operand format, extra byte, value-stack effect,
//! exception-block effect and control flow, as data (py/bc0.h, py/vm.c, py/emitbc.c; v6, unchanged
//! from v1.19 to master).
//!
//! # Stack effects
//!
//! [`OpInfo::stack`] is what the VM (py/vm.c) does to the value stack when execution continues with
//! the next instruction; [`OpInfo::branch`] is the stack at the jump target, relative to the stack
//! before the instruction, for the opcodes that can transfer control there. Both are given as
//! *pops* (items taken from the top, all of which must be present) and *pushes* (items left on top
//! afterwards), so `pushes - pops` is the net change and `pops` is the depth the instruction needs.
//! An opcode that leaves an item in place counts it as popped and pushed (`LOAD_ATTR` pops 1 and
//! pushes 1). Net changes agree with the `stack_adj` arguments of py/emitbc.c, except where the
//! compiler accounts differently, which is noted on the opcode:
//!
//! * `FOR_ITER`: the VM pushes the next value (fall-through) or drops the
//!   [`ITER_BUF_SLOTS`] slots of the iterator and jumps (exhausted); emitbc adds `+1` at the opcode
//!   and `-4` at the loop's exit label (`mp_emit_bc_for_iter_end`).
//! * `WITH_CLEANUP`: net `-2`; the VM uses two slots above the top while it calls `__exit__`, which
//!   emitbc reserves with `+2` followed by `-4` (see [`OpInfo::scratch`]).
//! * `UNWIND_JUMP` (`break`/`continue` out of `try`/`with` blocks): the stack at the target is not a
//!   function of the instruction alone. The VM pops `x & 0x7f` blocks (x = extra byte); unwinding
//!   through a `finally` or `with` block runs its handler, which leaves the stack at that block's
//!   *base*, the depth before `SETUP_FINALLY`, or before `SETUP_WITH` minus the context manager;
//!   unwinding through an `except` block leaves the stack alone. Then, if `x & 0x80`, the
//!   [`ITER_BUF_SLOTS`] slots of the `for` loop's iterator are dropped
//!   ([`StackRule::UnwindJump`] gives only this last part). A verifier therefore keeps, for each
//!   block, the opcode that pushed it and its base depth.
//! * An exception handler (the target of `SETUP_EXCEPT`, `SETUP_FINALLY`, `SETUP_WITH`) is entered
//!   with the stack as it was after the SETUP opcode (for `SETUP_WITH`: before the `__enter__`
//!   result is pushed) plus one item: the exception, or `None` when a `finally`/`with` block is
//!   reached normally. A `finally`/`with` handler reached by `return` or by an `UNWIND_JUMP` through
//!   it holds two items instead (the return value and the small int `-1`, or the destination and the
//!   unwind count), which is why the compiler reserves 4 slots at every handler
//!   (`mp_emit_bc_start_except_handler`: "+1 for the exception instance, +3 for possible
//!   UNWIND_JUMP state"). Ordinary `finally` bodies do not look at these items, so analysing the
//!   handler with one item is sound for them; the handler py/compile.c writes for `async with`
//!   (`compile_async_with_stmt_helper`) does look: after `DUP_TOP; LOAD_GLOBAL BaseException;
//!   BINARY_OP <exception match>; POP_JUMP_IF_FALSE L`, the code at `L` (`ROT_THREE; ROT_THREE`,
//!   then `LOAD_METHOD __aexit__` shared with the normal exit) runs only with the two-item state, so
//!   a checker that keeps one depth per instruction sees an underflow at `L` and a depth mismatch
//!   where the paths join (the compiler itself adjusts its count by hand there).
//!
//! # Exception blocks
//!
//! [`OpInfo::blocks`] says how an opcode changes the exception-handler stack (`n_exc_stack` in the
//! prelude bounds its depth). A handler's block stays on the stack while the handler runs: the VM
//! pops it at the handler's end (`POP_EXCEPT_JUMP` for `except`, `END_FINALLY` for `finally` and
//! `with`), or when a further exception unwinds through it.

use std::fmt;
use std::sync::LazyLock;

/// Slots an iterator takes on the value stack after `GET_ITER_STACK` (`MP_OBJ_ITER_BUF_NSLOTS`:
/// `mp_obj_iter_buf_t` is four words).
pub const ITER_BUF_SLOTS: u8 = 4;

/// First byte of `LOAD_CONST_SMALL_INT_MULTI` (pushes `op - 0x70 - 16`, i.e. -16..=47).
pub const SMALL_INT_MULTI: u8 = 0x70;
/// Number of `LOAD_CONST_SMALL_INT_MULTI` opcodes.
pub const SMALL_INT_MULTI_NUM: u8 = 64;
/// The bias of `LOAD_CONST_SMALL_INT_MULTI` (`MP_BC_LOAD_CONST_SMALL_INT_MULTI_EXCESS`).
pub const SMALL_INT_MULTI_EXCESS: i8 = 16;
/// First byte of `LOAD_FAST_MULTI` (locals 0..=15).
pub const LOAD_FAST_MULTI: u8 = 0xb0;
/// First byte of `STORE_FAST_MULTI` (locals 0..=15).
pub const STORE_FAST_MULTI: u8 = 0xc0;
/// Number of `LOAD_FAST_MULTI` / `STORE_FAST_MULTI` opcodes.
pub const FAST_MULTI_NUM: u8 = 16;
/// First byte of `UNARY_OP_MULTI`.
pub const UNARY_OP_MULTI: u8 = 0xd0;
/// Unary operators allowed in bytecode (`MP_UNARY_OP_NUM_BYTECODE`).
pub const UNARY_OP_MULTI_NUM: u8 = 4;
/// First byte of `BINARY_OP_MULTI`.
pub const BINARY_OP_MULTI: u8 = 0xd7;
/// Binary operators allowed in bytecode (`MP_BINARY_OP_NUM_BYTECODE`).
pub const BINARY_OP_MULTI_NUM: u8 = 35;

/// mpy-tool's names of the unary operators, by number (`mp_unary_op_method_name`).
pub const UNARY_OP_NAMES: [&str; UNARY_OP_MULTI_NUM as usize] = ["__pos__", "__neg__", "__invert__", "<not>"];

/// mpy-tool's names of the binary operators, by number (`mp_binary_op_method_name`).
pub const BINARY_OP_NAMES: [&str; BINARY_OP_MULTI_NUM as usize] = [
    "__lt__",
    "__gt__",
    "__eq__",
    "__le__",
    "__ge__",
    "__ne__",
    "<in>",
    "<is>",
    "<exception match>",
    "__ior__",
    "__ixor__",
    "__iand__",
    "__ilshift__",
    "__irshift__",
    "__iadd__",
    "__isub__",
    "__imul__",
    "__imatmul__",
    "__ifloordiv__",
    "__itruediv__",
    "__imod__",
    "__ipow__",
    "__or__",
    "__xor__",
    "__and__",
    "__lshift__",
    "__rshift__",
    "__add__",
    "__sub__",
    "__mul__",
    "__matmul__",
    "__floordiv__",
    "__truediv__",
    "__mod__",
    "__pow__",
];

/// How the bytes after an opcode are read: `MP_BC_FORMAT(op)`, from the high nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// No operand (only the extra byte, if the opcode has one).
    Byte,
    /// A varuint index into the module's qstr table.
    Qstr,
    /// A varuint (signed for `LOAD_CONST_SMALL_INT`).
    VarUint,
    /// A 1- or 2-byte jump offset.
    Offset,
}

impl Format {
    /// The format of an opcode byte (`(0x000003A4 >> (2 * (op >> 4))) & 3`).
    pub const fn of(op: u8) -> Format {
        match (0x0000_03a4u32 >> (2 * (op >> 4))) & 3 {
            0 => Format::Byte,
            1 => Format::Qstr,
            2 => Format::VarUint,
            _ => Format::Offset,
        }
    }
}

/// Whether an opcode byte is followed by one raw byte after its operand
/// (`(op & MP_BC_MASK_EXTRA_BYTE) == 0`, mask 0x9E): 0x00, 0x01, 0x20, 0x21, 0x40, 0x41, 0x60, 0x61.
pub const fn has_extra_byte(op: u8) -> bool {
    op & 0x9e == 0
}

/// Whether a jump opcode's offset is signed (`op <= MP_BC_POP_JUMP_IF_FALSE`): UNWIND_JUMP, JUMP and
/// the two POP_JUMP_IF opcodes; the others only jump forward.
pub const fn jump_is_signed(op: u8) -> bool {
    op <= Opcode::POP_JUMP_IF_FALSE.0
}

/// What the operand of an opcode means (which [`super::Operand`] variant it decodes to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperandKind {
    /// No operand bytes (the value of a multi-opcode is in the opcode byte).
    None,
    /// A qstr-table index.
    Qstr,
    /// An index into the module's constant-object table (`LOAD_CONST_OBJ`).
    Const,
    /// An index into this raw code's children (`MAKE_FUNCTION*`, `MAKE_CLOSURE*`).
    Child,
    /// A local-variable (or cell) slot number.
    Local,
    /// Any other unsigned number: a count, `n_pos | n_kw << 8`, `n_left | n_right << 8`, ...
    Uint,
    /// The signed varuint of `LOAD_CONST_SMALL_INT`.
    SmallInt,
    /// A jump offset; `signed` says whether it may point backwards.
    Jump {
        /// The offset is signed (bias 0x40 / 0x4000).
        signed: bool,
    },
}

/// The value encoded in a multi-opcode byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Multi {
    /// `LOAD_CONST_SMALL_INT_MULTI`: push this small int (-16..=47).
    SmallInt(i8),
    /// `LOAD_FAST_MULTI`: push local 0..=15.
    LoadFast(u8),
    /// `STORE_FAST_MULTI`: pop into local 0..=15.
    StoreFast(u8),
    /// `UNARY_OP_MULTI`: unary operator 0..=3 (see [`UNARY_OP_NAMES`]).
    UnaryOp(u8),
    /// `BINARY_OP_MULTI`: binary operator 0..=34 (see [`BINARY_OP_NAMES`]).
    BinaryOp(u8),
}

/// A value-stack effect, possibly depending on the operand or the extra byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackEffect {
    /// Always the same.
    Fixed {
        /// Items taken from the top (all must be present).
        pops: u8,
        /// Items left on top afterwards.
        pushes: u8,
    },
    /// Worked out from the operand `n` (or the extra byte) by [`StackRule::resolve`].
    Rule(StackRule),
}

/// The operand-dependent stack effects; `n` is the operand, `x` the extra byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackRule {
    /// `BUILD_TUPLE`/`BUILD_LIST`/`BUILD_SET n`: pops `n`, pushes 1.
    Collect,
    /// `BUILD_SLICE n`: pops 3 if `n == 3`, else 2 (the VM reads the operand as one raw byte and
    /// compares it with 3); pushes 1.
    Slice,
    /// `UNPACK_SEQUENCE n`: pops 1, pushes `n`.
    Unpack,
    /// `UNPACK_EX n`: pops 1, pushes `(n & 0xff) + ((n >> 8) & 0xff) + 1`.
    UnpackEx,
    /// `CALL_*`: pops `base + (n & 0xff) + 2 * ((n >> 8) & 0xff)`, pushes 1. `base` counts the
    /// callable (1), the method's `self`/NULL slot (+1) and the `*args`/`**kwargs` bitmap (+1).
    Call {
        /// Items below the arguments.
        base: u8,
    },
    /// `MAKE_CLOSURE*`: pops `base + x` (x = number of closed-over cells), pushes 1.
    Closure {
        /// 0 for `MAKE_CLOSURE`, 2 (positional-defaults tuple, keyword-defaults dict) for
        /// `MAKE_CLOSURE_DEFARGS`.
        base: u8,
    },
    /// `STORE_COMP n`: appends to the collection `n >> 2` items below the popped ones; kind
    /// `n & 3`: 0 list (pops 1), 1 dict (pops 2: value and key), else set (pops 1). Pushes 0.
    StoreComp,
    /// The jump edge of `UNWIND_JUMP`: pops [`ITER_BUF_SLOTS`] if `x & 0x80`, else 0, counted from
    /// the depth the unwound blocks leave (see the module documentation), not from the depth
    /// before the instruction.
    UnwindJump,
}

/// Items popped and pushed by one execution of an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StackDelta {
    /// Items taken from the top (all must be present).
    pub pops: u64,
    /// Items left on top afterwards.
    pub pushes: u64,
}

impl StackDelta {
    /// `pushes - pops`.
    pub fn net(&self) -> i128 {
        i128::from(self.pushes) - i128::from(self.pops)
    }
}

impl StackRule {
    /// The effect for operand `n` and extra byte `x` (0 when the opcode has none).
    pub fn resolve(self, n: u64, x: u8) -> StackDelta {
        let d = |pops: u64, pushes: u64| StackDelta { pops, pushes };
        match self {
            StackRule::Collect => d(n, 1),
            StackRule::Slice => d(if n == 3 { 3 } else { 2 }, 1),
            StackRule::Unpack => d(1, n),
            StackRule::UnpackEx => d(1, (n & 0xff) + ((n >> 8) & 0xff) + 1),
            StackRule::Call { base } => d(u64::from(base) + (n & 0xff) + 2 * ((n >> 8) & 0xff), 1),
            StackRule::Closure { base } => d(u64::from(base) + u64::from(x), 1),
            StackRule::StoreComp => d(if n & 3 == 1 { 2 } else { 1 }, 0),
            StackRule::UnwindJump => d(if x & 0x80 != 0 { u64::from(ITER_BUF_SLOTS) } else { 0 }, 0),
        }
    }
}

impl StackEffect {
    /// The effect for operand `n` and extra byte `x`.
    pub fn resolve(self, n: u64, x: u8) -> StackDelta {
        match self {
            StackEffect::Fixed { pops, pushes } => {
                StackDelta { pops: u64::from(pops), pushes: u64::from(pushes) }
            }
            StackEffect::Rule(rule) => rule.resolve(n, x),
        }
    }
}

/// How an opcode changes the exception-handler (block) stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockEffect {
    /// Leaves it alone.
    None,
    /// Pushes one handler (`SETUP_WITH`, `SETUP_EXCEPT`, `SETUP_FINALLY`); the block is also on the
    /// stack when its handler is entered.
    Push,
    /// Pops one handler (`POP_EXCEPT_JUMP` before jumping, `END_FINALLY` before continuing).
    Pop,
    /// Pops `x & 0x7f` handlers, running any `finally`/`with` handler among them first, which
    /// resets the value stack to that block's base (`UNWIND_JUMP`, x = the extra byte; see the
    /// module documentation).
    Unwind,
}

/// Where control goes after an opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// To the next instruction.
    Next,
    /// Always to the jump target (`JUMP`, `UNWIND_JUMP`, `POP_EXCEPT_JUMP`).
    Jump,
    /// To the next instruction or to the jump target (conditional jumps, `FOR_ITER`).
    Branch,
    /// To the next instruction; the jump target becomes an exception handler (`SETUP_*`).
    Handler,
    /// Leaves the function (`RETURN_VALUE`, possibly through `finally` handlers).
    Return,
    /// Raises (`RAISE_*`).
    Raise,
    /// Continues with the next instruction in the normal case, but may also re-raise, return or
    /// unwind to a jump destination recorded on the stack (`END_FINALLY`).
    EndFinally,
    /// Not an opcode: the VM raises `NotImplementedError("opcode")`.
    Invalid,
}

/// Everything the table knows about one opcode byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpInfo {
    /// The byte.
    pub opcode: u8,
    /// The bc0.h name without `MP_BC_` (`LOAD_FAST_N`, `LOAD_FAST_MULTI`); `unknown` if unassigned.
    pub name: &'static str,
    /// Assigned in bc0.h; unassigned bytes still have a format (§3.6) but the VM rejects them.
    pub assigned: bool,
    /// How the operand bytes are read.
    pub format: Format,
    /// What the operand means.
    pub operand: OperandKind,
    /// Whether one raw byte follows the operand.
    pub extra_byte: bool,
    /// Value-stack effect when continuing with the next instruction.
    pub stack: StackEffect,
    /// Value-stack effect at the jump target (jump and SETUP opcodes), relative to the stack before
    /// the instruction; for SETUP opcodes, the stack on entry to the handler.
    pub branch: Option<StackEffect>,
    /// Exception-block effect (on the jump edge for `POP_EXCEPT_JUMP` and `UNWIND_JUMP`).
    pub blocks: BlockEffect,
    /// Control flow.
    pub flow: Flow,
    /// Slots used above the larger of the stack before and after, while the opcode runs
    /// (`SETUP_WITH` 1, `WITH_CLEANUP` 2, `UNWIND_JUMP` 2).
    pub scratch: u8,
    /// The value carried by a multi-opcode byte.
    pub multi: Option<Multi>,
}

/// An opcode byte. Every byte value is representable; [`Opcode::info`] says whether it is assigned.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Opcode(pub u8);

impl Opcode {
    pub const LOAD_CONST_STRING: Opcode = Opcode(0x10);
    pub const LOAD_NAME: Opcode = Opcode(0x11);
    pub const LOAD_GLOBAL: Opcode = Opcode(0x12);
    pub const LOAD_ATTR: Opcode = Opcode(0x13);
    pub const LOAD_METHOD: Opcode = Opcode(0x14);
    pub const LOAD_SUPER_METHOD: Opcode = Opcode(0x15);
    pub const STORE_NAME: Opcode = Opcode(0x16);
    pub const STORE_GLOBAL: Opcode = Opcode(0x17);
    pub const STORE_ATTR: Opcode = Opcode(0x18);
    pub const DELETE_NAME: Opcode = Opcode(0x19);
    pub const DELETE_GLOBAL: Opcode = Opcode(0x1a);
    pub const IMPORT_NAME: Opcode = Opcode(0x1b);
    pub const IMPORT_FROM: Opcode = Opcode(0x1c);
    pub const MAKE_CLOSURE: Opcode = Opcode(0x20);
    pub const MAKE_CLOSURE_DEFARGS: Opcode = Opcode(0x21);
    pub const LOAD_CONST_SMALL_INT: Opcode = Opcode(0x22);
    pub const LOAD_CONST_OBJ: Opcode = Opcode(0x23);
    pub const LOAD_FAST_N: Opcode = Opcode(0x24);
    pub const LOAD_DEREF: Opcode = Opcode(0x25);
    pub const STORE_FAST_N: Opcode = Opcode(0x26);
    pub const STORE_DEREF: Opcode = Opcode(0x27);
    pub const DELETE_FAST: Opcode = Opcode(0x28);
    pub const DELETE_DEREF: Opcode = Opcode(0x29);
    pub const BUILD_TUPLE: Opcode = Opcode(0x2a);
    pub const BUILD_LIST: Opcode = Opcode(0x2b);
    pub const BUILD_MAP: Opcode = Opcode(0x2c);
    pub const BUILD_SET: Opcode = Opcode(0x2d);
    pub const BUILD_SLICE: Opcode = Opcode(0x2e);
    pub const STORE_COMP: Opcode = Opcode(0x2f);
    pub const UNPACK_SEQUENCE: Opcode = Opcode(0x30);
    pub const UNPACK_EX: Opcode = Opcode(0x31);
    pub const MAKE_FUNCTION: Opcode = Opcode(0x32);
    pub const MAKE_FUNCTION_DEFARGS: Opcode = Opcode(0x33);
    pub const CALL_FUNCTION: Opcode = Opcode(0x34);
    pub const CALL_FUNCTION_VAR_KW: Opcode = Opcode(0x35);
    pub const CALL_METHOD: Opcode = Opcode(0x36);
    pub const CALL_METHOD_VAR_KW: Opcode = Opcode(0x37);
    pub const UNWIND_JUMP: Opcode = Opcode(0x40);
    pub const JUMP: Opcode = Opcode(0x42);
    pub const POP_JUMP_IF_TRUE: Opcode = Opcode(0x43);
    pub const POP_JUMP_IF_FALSE: Opcode = Opcode(0x44);
    pub const JUMP_IF_TRUE_OR_POP: Opcode = Opcode(0x45);
    pub const JUMP_IF_FALSE_OR_POP: Opcode = Opcode(0x46);
    pub const SETUP_WITH: Opcode = Opcode(0x47);
    pub const SETUP_EXCEPT: Opcode = Opcode(0x48);
    pub const SETUP_FINALLY: Opcode = Opcode(0x49);
    pub const POP_EXCEPT_JUMP: Opcode = Opcode(0x4a);
    pub const FOR_ITER: Opcode = Opcode(0x4b);
    pub const LOAD_CONST_FALSE: Opcode = Opcode(0x50);
    pub const LOAD_CONST_NONE: Opcode = Opcode(0x51);
    pub const LOAD_CONST_TRUE: Opcode = Opcode(0x52);
    pub const LOAD_NULL: Opcode = Opcode(0x53);
    pub const LOAD_BUILD_CLASS: Opcode = Opcode(0x54);
    pub const LOAD_SUBSCR: Opcode = Opcode(0x55);
    pub const STORE_SUBSCR: Opcode = Opcode(0x56);
    pub const DUP_TOP: Opcode = Opcode(0x57);
    pub const DUP_TOP_TWO: Opcode = Opcode(0x58);
    pub const POP_TOP: Opcode = Opcode(0x59);
    pub const ROT_TWO: Opcode = Opcode(0x5a);
    pub const ROT_THREE: Opcode = Opcode(0x5b);
    pub const WITH_CLEANUP: Opcode = Opcode(0x5c);
    pub const END_FINALLY: Opcode = Opcode(0x5d);
    pub const GET_ITER: Opcode = Opcode(0x5e);
    pub const GET_ITER_STACK: Opcode = Opcode(0x5f);
    pub const STORE_MAP: Opcode = Opcode(0x62);
    pub const RETURN_VALUE: Opcode = Opcode(0x63);
    pub const RAISE_LAST: Opcode = Opcode(0x64);
    pub const RAISE_OBJ: Opcode = Opcode(0x65);
    pub const RAISE_FROM: Opcode = Opcode(0x66);
    pub const YIELD_VALUE: Opcode = Opcode(0x67);
    pub const YIELD_FROM: Opcode = Opcode(0x68);
    pub const IMPORT_STAR: Opcode = Opcode(0x69);

    /// The table entry for this byte.
    pub fn info(self) -> &'static OpInfo {
        &OPCODES[usize::from(self.0)]
    }

    /// Whether bc0.h assigns this byte.
    pub fn is_assigned(self) -> bool {
        self.info().assigned
    }

    /// The value a multi-opcode byte carries.
    pub fn multi(self) -> Option<Multi> {
        self.info().multi
    }

    /// The name mpy-tool.py prints: `LOAD_FAST_N`, or for multi-opcodes the name with its value
    /// (`LOAD_FAST 3`, `LOAD_CONST_SMALL_INT -1`, `UNARY_OP 3 <not>`, `BINARY_OP 27 __add__`), or
    /// `unknown`. Built once for all 256 bytes.
    pub fn upstream_name(self) -> &'static str {
        static NAMES: LazyLock<Vec<String>> =
            LazyLock::new(|| (0..=255).map(|b| Opcode(b).build_upstream_name()).collect());
        &NAMES[usize::from(self.0)]
    }

    fn build_upstream_name(self) -> String {
        match self.multi() {
            Some(Multi::SmallInt(v)) => format!("LOAD_CONST_SMALL_INT {v}"),
            Some(Multi::LoadFast(n)) => format!("LOAD_FAST {n}"),
            Some(Multi::StoreFast(n)) => format!("STORE_FAST {n}"),
            Some(Multi::UnaryOp(n)) => format!("UNARY_OP {n} {}", UNARY_OP_NAMES[usize::from(n)]),
            Some(Multi::BinaryOp(n)) => {
                format!("BINARY_OP {n} {}", BINARY_OP_NAMES[usize::from(n)])
            }
            None => self.info().name.to_string(),
        }
    }
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Opcode({:#04x} {})", self.0, self.upstream_name())
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.upstream_name())
    }
}

/// The table, indexed by opcode byte.
pub static OPCODES: [OpInfo; 256] = {
    let mut table = [info_for(0); 256];
    let mut i = 0;
    while i < 256 {
        table[i] = info_for(i as u8);
        i += 1;
    }
    table
};

const fn fixed(pops: u8, pushes: u8) -> StackEffect {
    StackEffect::Fixed { pops, pushes }
}

/// Builds one entry. Operand kind, extra byte and format follow from the byte; names and effects are
/// per opcode.
pub(crate) const fn info_for(op: u8) -> OpInfo {
    let format = Format::of(op);
    let extra_byte = has_extra_byte(op);
    // Defaults for an unassigned byte: generic operand by format, no effect, invalid flow.
    let generic_operand = match format {
        Format::Byte => OperandKind::None,
        Format::Qstr => OperandKind::Qstr,
        Format::VarUint => OperandKind::Uint,
        Format::Offset => OperandKind::Jump { signed: jump_is_signed(op) },
    };
    let mut info = OpInfo {
        opcode: op,
        name: "unknown",
        assigned: false,
        format,
        operand: generic_operand,
        extra_byte,
        stack: fixed(0, 0),
        branch: None,
        blocks: BlockEffect::None,
        flow: Flow::Invalid,
        scratch: 0,
        multi: None,
    };

    // Multi-opcode ranges.
    if op >= SMALL_INT_MULTI && op < SMALL_INT_MULTI + SMALL_INT_MULTI_NUM {
        info.name = "LOAD_CONST_SMALL_INT_MULTI";
        info.multi = Some(Multi::SmallInt((op - SMALL_INT_MULTI) as i8 - SMALL_INT_MULTI_EXCESS));
        info.stack = fixed(0, 1);
    } else if op >= LOAD_FAST_MULTI && op < LOAD_FAST_MULTI + FAST_MULTI_NUM {
        info.name = "LOAD_FAST_MULTI";
        info.multi = Some(Multi::LoadFast(op - LOAD_FAST_MULTI));
        info.stack = fixed(0, 1);
    } else if op >= STORE_FAST_MULTI && op < STORE_FAST_MULTI + FAST_MULTI_NUM {
        info.name = "STORE_FAST_MULTI";
        info.multi = Some(Multi::StoreFast(op - STORE_FAST_MULTI));
        info.stack = fixed(1, 0);
    } else if op >= UNARY_OP_MULTI && op < UNARY_OP_MULTI + UNARY_OP_MULTI_NUM {
        info.name = "UNARY_OP_MULTI";
        info.multi = Some(Multi::UnaryOp(op - UNARY_OP_MULTI));
        info.stack = fixed(1, 1);
    } else if op >= BINARY_OP_MULTI && op < BINARY_OP_MULTI + BINARY_OP_MULTI_NUM {
        info.name = "BINARY_OP_MULTI";
        info.multi = Some(Multi::BinaryOp(op - BINARY_OP_MULTI));
        info.stack = fixed(2, 1);
    }
    if info.multi.is_some() {
        info.assigned = true;
        info.flow = Flow::Next;
        return info;
    }

    // (name, operand kind override, stack, branch, blocks, flow, scratch)
    let (name, operand, stack, branch, blocks, flow, scratch): (
        &'static str,
        Option<OperandKind>,
        StackEffect,
        Option<StackEffect>,
        BlockEffect,
        Flow,
        u8,
    ) = match op {
        0x10 => ("LOAD_CONST_STRING", None, fixed(0, 1), None, BlockEffect::None, Flow::Next, 0),
        0x11 => ("LOAD_NAME", None, fixed(0, 1), None, BlockEffect::None, Flow::Next, 0),
        0x12 => ("LOAD_GLOBAL", None, fixed(0, 1), None, BlockEffect::None, Flow::Next, 0),
        0x13 => ("LOAD_ATTR", None, fixed(1, 1), None, BlockEffect::None, Flow::Next, 0),
        // obj -> method, self (or NULL, attr)
        0x14 => ("LOAD_METHOD", None, fixed(1, 2), None, BlockEffect::None, Flow::Next, 0),
        // super, __class__, self -> method, self
        0x15 => ("LOAD_SUPER_METHOD", None, fixed(3, 2), None, BlockEffect::None, Flow::Next, 0),
        0x16 => ("STORE_NAME", None, fixed(1, 0), None, BlockEffect::None, Flow::Next, 0),
        0x17 => ("STORE_GLOBAL", None, fixed(1, 0), None, BlockEffect::None, Flow::Next, 0),
        // value, obj ->
        0x18 => ("STORE_ATTR", None, fixed(2, 0), None, BlockEffect::None, Flow::Next, 0),
        0x19 => ("DELETE_NAME", None, fixed(0, 0), None, BlockEffect::None, Flow::Next, 0),
        0x1a => ("DELETE_GLOBAL", None, fixed(0, 0), None, BlockEffect::None, Flow::Next, 0),
        // level, fromlist -> module
        0x1b => ("IMPORT_NAME", None, fixed(2, 1), None, BlockEffect::None, Flow::Next, 0),
        // module -> module, attr
        0x1c => ("IMPORT_FROM", None, fixed(1, 2), None, BlockEffect::None, Flow::Next, 0),
        0x20 => (
            "MAKE_CLOSURE",
            Some(OperandKind::Child),
            StackEffect::Rule(StackRule::Closure { base: 0 }),
            None,
            BlockEffect::None,
            Flow::Next,
            0,
        ),
        0x21 => (
            "MAKE_CLOSURE_DEFARGS",
            Some(OperandKind::Child),
            StackEffect::Rule(StackRule::Closure { base: 2 }),
            None,
            BlockEffect::None,
            Flow::Next,
            0,
        ),
        0x22 => (
            "LOAD_CONST_SMALL_INT",
            Some(OperandKind::SmallInt),
            fixed(0, 1),
            None,
            BlockEffect::None,
            Flow::Next,
            0,
        ),
        0x23 => {
            ("LOAD_CONST_OBJ", Some(OperandKind::Const), fixed(0, 1), None, BlockEffect::None, Flow::Next, 0)
        }
        0x24 => local("LOAD_FAST_N", fixed(0, 1)),
        0x25 => local("LOAD_DEREF", fixed(0, 1)),
        0x26 => local("STORE_FAST_N", fixed(1, 0)),
        0x27 => local("STORE_DEREF", fixed(1, 0)),
        0x28 => local("DELETE_FAST", fixed(0, 0)),
        0x29 => local("DELETE_DEREF", fixed(0, 0)),
        0x2a => uint("BUILD_TUPLE", StackEffect::Rule(StackRule::Collect)),
        0x2b => uint("BUILD_LIST", StackEffect::Rule(StackRule::Collect)),
        // n is only a size hint
        0x2c => uint("BUILD_MAP", fixed(0, 1)),
        0x2d => uint("BUILD_SET", StackEffect::Rule(StackRule::Collect)),
        0x2e => uint("BUILD_SLICE", StackEffect::Rule(StackRule::Slice)),
        0x2f => uint("STORE_COMP", StackEffect::Rule(StackRule::StoreComp)),
        0x30 => uint("UNPACK_SEQUENCE", StackEffect::Rule(StackRule::Unpack)),
        0x31 => uint("UNPACK_EX", StackEffect::Rule(StackRule::UnpackEx)),
        0x32 => {
            ("MAKE_FUNCTION", Some(OperandKind::Child), fixed(0, 1), None, BlockEffect::None, Flow::Next, 0)
        }
        // positional-defaults tuple, keyword-defaults dict (or NULL) -> function
        0x33 => (
            "MAKE_FUNCTION_DEFARGS",
            Some(OperandKind::Child),
            fixed(2, 1),
            None,
            BlockEffect::None,
            Flow::Next,
            0,
        ),
        0x34 => uint("CALL_FUNCTION", StackEffect::Rule(StackRule::Call { base: 1 })),
        0x35 => uint("CALL_FUNCTION_VAR_KW", StackEffect::Rule(StackRule::Call { base: 2 })),
        0x36 => uint("CALL_METHOD", StackEffect::Rule(StackRule::Call { base: 2 })),
        0x37 => uint("CALL_METHOD_VAR_KW", StackEffect::Rule(StackRule::Call { base: 3 })),
        0x40 => (
            "UNWIND_JUMP",
            None,
            fixed(0, 0),
            Some(StackEffect::Rule(StackRule::UnwindJump)),
            BlockEffect::Unwind,
            Flow::Jump,
            2,
        ),
        0x42 => ("JUMP", None, fixed(0, 0), Some(fixed(0, 0)), BlockEffect::None, Flow::Jump, 0),
        0x43 => jump_if("POP_JUMP_IF_TRUE", fixed(1, 0), fixed(1, 0)),
        0x44 => jump_if("POP_JUMP_IF_FALSE", fixed(1, 0), fixed(1, 0)),
        0x45 => jump_if("JUMP_IF_TRUE_OR_POP", fixed(1, 0), fixed(1, 1)),
        0x46 => jump_if("JUMP_IF_FALSE_OR_POP", fixed(1, 0), fixed(1, 1)),
        // ctx_mgr -> __exit__, ctx_mgr, __enter__() result; the handler gets __exit__, ctx_mgr and
        // one more item (None, the exception, or unwind state)
        0x47 => ("SETUP_WITH", None, fixed(1, 3), Some(fixed(1, 3)), BlockEffect::Push, Flow::Handler, 1),
        0x48 => ("SETUP_EXCEPT", None, fixed(0, 0), Some(fixed(0, 1)), BlockEffect::Push, Flow::Handler, 0),
        0x49 => ("SETUP_FINALLY", None, fixed(0, 0), Some(fixed(0, 1)), BlockEffect::Push, Flow::Handler, 0),
        0x4a => ("POP_EXCEPT_JUMP", None, fixed(0, 0), Some(fixed(0, 0)), BlockEffect::Pop, Flow::Jump, 0),
        // iterator (4 slots) -> iterator, next value; exhausted: the iterator's slots are dropped
        0x4b => (
            "FOR_ITER",
            None,
            fixed(ITER_BUF_SLOTS, ITER_BUF_SLOTS + 1),
            Some(fixed(ITER_BUF_SLOTS, 0)),
            BlockEffect::None,
            Flow::Branch,
            0,
        ),
        0x50 => simple("LOAD_CONST_FALSE", 0, 1),
        0x51 => simple("LOAD_CONST_NONE", 0, 1),
        0x52 => simple("LOAD_CONST_TRUE", 0, 1),
        0x53 => simple("LOAD_NULL", 0, 1),
        0x54 => simple("LOAD_BUILD_CLASS", 0, 1),
        0x55 => simple("LOAD_SUBSCR", 2, 1),
        // value, obj, index ->
        0x56 => simple("STORE_SUBSCR", 3, 0),
        0x57 => simple("DUP_TOP", 1, 2),
        0x58 => simple("DUP_TOP_TWO", 2, 4),
        0x59 => simple("POP_TOP", 1, 0),
        0x5a => simple("ROT_TWO", 2, 2),
        0x5b => simple("ROT_THREE", 3, 3),
        // __exit__, ctx_mgr, X -> X' (X = None, an exception or a small int with one more item
        // below it; the unwind case is __exit__, ctx_mgr, dest, n -> dest, n)
        0x5c => ("WITH_CLEANUP", None, fixed(3, 1), None, BlockEffect::None, Flow::Next, 2),
        0x5d => ("END_FINALLY", None, fixed(1, 0), None, BlockEffect::Pop, Flow::EndFinally, 0),
        0x5e => simple("GET_ITER", 1, 1),
        0x5f => simple("GET_ITER_STACK", 1, ITER_BUF_SLOTS),
        // map, value, key -> map
        0x62 => simple("STORE_MAP", 3, 1),
        0x63 => ("RETURN_VALUE", None, fixed(1, 0), None, BlockEffect::None, Flow::Return, 0),
        0x64 => ("RAISE_LAST", None, fixed(0, 0), None, BlockEffect::None, Flow::Raise, 0),
        0x65 => ("RAISE_OBJ", None, fixed(1, 0), None, BlockEffect::None, Flow::Raise, 0),
        0x66 => ("RAISE_FROM", None, fixed(2, 0), None, BlockEffect::None, Flow::Raise, 0),
        // the yielded value is replaced by the sent value on resumption
        0x67 => simple("YIELD_VALUE", 1, 1),
        // iterable, send value -> result
        0x68 => simple("YIELD_FROM", 2, 1),
        0x69 => simple("IMPORT_STAR", 1, 0),
        _ => return info,
    };
    info.name = name;
    info.assigned = true;
    if let Some(kind) = operand {
        info.operand = kind;
    }
    info.stack = stack;
    info.branch = branch;
    info.blocks = blocks;
    info.flow = flow;
    info.scratch = scratch;
    info
}

type Row = (&'static str, Option<OperandKind>, StackEffect, Option<StackEffect>, BlockEffect, Flow, u8);

const fn simple(name: &'static str, pops: u8, pushes: u8) -> Row {
    (name, None, fixed(pops, pushes), None, BlockEffect::None, Flow::Next, 0)
}

const fn local(name: &'static str, stack: StackEffect) -> Row {
    (name, Some(OperandKind::Local), stack, None, BlockEffect::None, Flow::Next, 0)
}

const fn uint(name: &'static str, stack: StackEffect) -> Row {
    (name, Some(OperandKind::Uint), stack, None, BlockEffect::None, Flow::Next, 0)
}

const fn jump_if(name: &'static str, stack: StackEffect, branch: StackEffect) -> Row {
    (name, None, stack, Some(branch), BlockEffect::None, Flow::Branch, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unassigned bytes of mpy-format.md §3.6.
    const UNASSIGNED: &[std::ops::RangeInclusive<u8>] = &[
        0x00..=0x0f,
        0x1d..=0x1f,
        0x38..=0x3f,
        0x41..=0x41,
        0x4c..=0x4f,
        0x60..=0x61,
        0x6a..=0x6f,
        0xd4..=0xd6,
        0xfa..=0xff,
    ];

    #[test]
    fn assigned_bytes_match_the_format_document() {
        for b in 0..=255u8 {
            let unassigned = UNASSIGNED.iter().any(|r| r.contains(&b));
            assert_eq!(Opcode(b).is_assigned(), !unassigned, "{b:#04x}");
            assert_eq!(OPCODES[usize::from(b)].opcode, b);
        }
    }

    #[test]
    fn upstream_names() {
        let cases: &[(u8, &str)] = &[
            (0x10, "LOAD_CONST_STRING"),
            (0x24, "LOAD_FAST_N"),
            (0x70, "LOAD_CONST_SMALL_INT -16"),
            (0x80, "LOAD_CONST_SMALL_INT 0"),
            (0x81, "LOAD_CONST_SMALL_INT 1"),
            (0xaf, "LOAD_CONST_SMALL_INT 47"),
            (0xb0, "LOAD_FAST 0"),
            (0xbf, "LOAD_FAST 15"),
            (0xc5, "STORE_FAST 5"),
            (0xd3, "UNARY_OP 3 <not>"),
            (0xd7, "BINARY_OP 0 __lt__"),
            (0xf2, "BINARY_OP 27 __add__"),
            (0xf9, "BINARY_OP 34 __pow__"),
            (0x4b, "FOR_ITER"),
            (0x69, "IMPORT_STAR"),
            (0x38, "unknown"),
            (0xfa, "unknown"),
        ];
        for &(b, name) in cases {
            assert_eq!(Opcode(b).upstream_name(), name, "{b:#04x}");
        }
    }

    #[test]
    fn formats_and_extra_bytes() {
        let cases: &[(u8, Format, bool)] = &[
            (0x00, Format::Byte, true),
            (0x01, Format::Byte, true),
            (0x10, Format::Qstr, false),
            (0x20, Format::VarUint, true),
            (0x22, Format::VarUint, false),
            (0x37, Format::VarUint, false),
            (0x40, Format::Offset, true),
            (0x41, Format::Offset, true),
            (0x4b, Format::Offset, false),
            (0x5f, Format::Byte, false),
            (0x60, Format::Byte, true),
            (0x61, Format::Byte, true),
            (0x70, Format::Byte, false),
            (0xff, Format::Byte, false),
        ];
        for &(b, format, extra) in cases {
            assert_eq!(Format::of(b), format, "{b:#04x}");
            assert_eq!(has_extra_byte(b), extra, "{b:#04x}");
        }
        // Exactly the eight bytes of §3.1 have the extra byte.
        let extra: Vec<u8> = (0..=255u8).filter(|&b| has_extra_byte(b)).collect();
        assert_eq!(extra, [0x00, 0x01, 0x20, 0x21, 0x40, 0x41, 0x60, 0x61]);
    }

    #[test]
    fn signedness_of_jumps() {
        for b in 0x40..=0x4fu8 {
            let signed = matches!(b, 0x40..=0x44);
            assert_eq!(Opcode(b).info().operand, OperandKind::Jump { signed }, "{b:#04x}");
        }
    }

    /// Net stack changes as data: (opcode, operand, extra byte, emitbc's stack_adj).
    #[test]
    fn net_effects_agree_with_emitbc() {
        let cases: &[(u8, u64, u8, i128)] = &[
            (0x10, 0, 0, 1),
            (0x14, 0, 0, 1),
            (0x15, 0, 0, -1),
            (0x18, 0, 0, -2),
            (0x1b, 0, 0, -1),
            (0x1c, 0, 0, 1),
            (0x20, 0, 3, -2),            // 1 - n_closed_over
            (0x21, 0, 3, -4),            // -2 - n_closed_over + 1
            (0x2a, 5, 0, -4),            // 1 - n
            (0x2c, 7, 0, 1),             // BUILD_MAP
            (0x2e, 3, 0, -2),            // BUILD_SLICE 3
            (0x2e, 2, 0, -1),            // BUILD_SLICE 2
            (0x2f, 4 << 2, 0, -1),       // list comprehension
            (0x2f, (5 << 2) | 1, 0, -2), // dict comprehension
            (0x2f, (4 << 2) | 2, 0, -1), // set comprehension
            (0x30, 3, 0, 2),
            (0x31, 2 | (1 << 8), 0, 3), // -1 + n_left + n_right + 1
            (0x32, 0, 0, 1),
            (0x33, 0, 0, -1),
            (0x34, 2 | (1 << 8), 0, -4), // -n_pos - 2*n_kw
            (0x35, 2 | (1 << 8), 0, -5), // ... - 1
            (0x36, 2 | (1 << 8), 0, -5), // -1 - n_pos - 2*n_kw
            (0x37, 2 | (1 << 8), 0, -6),
            (0x43, 0, 0, -1),
            (0x45, 0, 0, -1),
            (0x47, 0, 0, 2),
            (0x48, 0, 0, 0),
            (0x4b, 0, 0, 1),
            (0x55, 0, 0, -1),
            (0x56, 0, 0, -3),
            (0x58, 0, 0, 2),
            (0x5c, 0, 0, -2), // +2 then -4
            (0x5d, 0, 0, -1),
            (0x5f, 0, 0, 3),
            (0x62, 0, 0, -2),
            (0x63, 0, 0, -1),
            (0x65, 0, 0, -1),
            (0x66, 0, 0, -2),
            (0x67, 0, 0, 0),
            (0x68, 0, 0, -1),
            (0x69, 0, 0, -1),
            (0x80, 0, 0, 1),
            (0xb3, 0, 0, 1),
            (0xc3, 0, 0, -1),
            (0xd0, 0, 0, 0),
            (0xf2, 0, 0, -1),
        ];
        for &(b, n, x, net) in cases {
            let d = OPCODES[usize::from(b)].stack.resolve(n, x);
            assert_eq!(d.net(), net, "{b:#04x} n={n} x={x}: {d:?}");
        }
    }

    #[test]
    fn branch_effects() {
        let cases: &[(u8, u8, i128)] = &[
            (0x40, 0x81, -4), // break out of a for loop through one handler
            (0x40, 0x02, 0),
            (0x42, 0, 0),
            (0x44, 0, -1),
            (0x46, 0, 0),
            (0x47, 0, 2),
            (0x48, 0, 1),
            (0x49, 0, 1),
            (0x4b, 0, -4),
        ];
        for &(b, x, net) in cases {
            let d = OPCODES[usize::from(b)].branch.unwrap().resolve(0, x);
            assert_eq!(d.net(), net, "{b:#04x} x={x:#x}");
        }
        for info in OPCODES.iter() {
            let is_jump = matches!(info.operand, OperandKind::Jump { .. });
            assert_eq!(info.branch.is_some(), is_jump && info.assigned, "{:#04x}", info.opcode);
        }
    }
}
