//! Disassembly: a structured listing of one function (names resolved through a [`Resolver`], so
//! this module does not depend on the container types), and its text rendering.
//!
//! Text format, one instruction per line:
//!
//! ```text
//! simple_name: f
//!   prelude: (7, 0, 6, 2, 1, 1)
//!   args: a b d
//!   cells: 0
//!   line info: 40:45
//!    line offset  bytes        instruction
//!       3      0  b0           LOAD_FAST 0
//!              1  20:00:01     MAKE_CLOSURE 0 (g) 1
//!       5      4  c5           STORE_FAST 5
//!              5  42:4d        JUMP 20
//! ```
//!
//! Names are mpy-tool.py's (`LOAD_FAST 0` for the multi-opcodes, `unknown` for unassigned bytes);
//! QSTR operands print the string, `LOAD_CONST_OBJ` the constant's repr, `MAKE_*` the child index
//! and its name, jumps their **absolute** target (mpy-tool prints the relative offset, which is in
//! the bytes column), and the extra byte follows the operand. The source line is printed where it
//! changes.

use std::fmt::{self, Write};

use super::error::BytecodeEncodeError;
use super::function::{BytecodeFunction, Layout};
use super::opcode::OperandKind;
use super::operand::Operand;
use super::prelude::{NativePrelude, Prelude, Signature};

/// Supplies the text of what operands refer to; every method may return `None` (out of range or
/// unknown), which the listing shows as `#index`.
pub trait Resolver {
    /// The text of qstr-table entry `index`.
    fn qstr(&self, index: u64) -> Option<String> {
        let _ = index;
        None
    }
    /// The repr of constant-table entry `index`.
    fn constant(&self, index: u64) -> Option<String> {
        let _ = index;
        None
    }
    /// The simple name of child raw code `index`.
    fn child(&self, index: u64) -> Option<String> {
        let _ = index;
        None
    }
}

/// A resolver that knows nothing: every reference shows as `#index`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Resolver for NoNames {}

/// A reference and, when the resolver knew it, its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The index.
    pub index: u64,
    /// The text (qstr string, constant repr or child name).
    pub text: Option<String>,
}

impl Name {
    fn qstr(index: u64, r: &dyn Resolver) -> Name {
        Name { index, text: r.qstr(index) }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.text {
            Some(t) => f.write_str(&quote_if_needed(t)),
            None => write!(f, "#{}", self.index),
        }
    }
}

/// A resolved operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedOperand {
    /// No operand.
    None,
    /// A qstr.
    Qstr(Name),
    /// A constant (text = repr).
    Const(Name),
    /// A child raw code (text = its simple name).
    Child(Name),
    /// A local slot.
    Local(u64),
    /// Another unsigned number.
    Uint(u64),
    /// A small int.
    SmallInt(i64),
    /// A jump: the offset as encoded (relative to the end of the offset field) and the absolute
    /// target code offset.
    Jump {
        /// As encoded.
        relative: i64,
        /// Absolute code offset.
        target: i64,
    },
}

/// One listed instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedInstruction {
    /// Code offset.
    pub offset: usize,
    /// The encoded bytes.
    pub bytes: Vec<u8>,
    /// mpy-tool.py's name (`LOAD_FAST 0`, `BINARY_OP 27 __add__`, `unknown`).
    pub name: String,
    /// The table name (`LOAD_FAST_MULTI`), for grouping.
    pub mnemonic: &'static str,
    /// Whether the opcode is assigned.
    pub assigned: bool,
    /// The resolved operand.
    pub operand: ListedOperand,
    /// The extra byte.
    pub extra: Option<u8>,
    /// The source line of this instruction.
    pub line: u64,
    /// Whether the line differs from the previous instruction's (always true for the first).
    pub line_changed: bool,
}

impl ListedInstruction {
    /// The instruction text: name, operand, extra byte (`MAKE_CLOSURE 0 (g) 1`, `JUMP 20`).
    pub fn text(&self) -> String {
        let mut s = self.name.clone();
        let arg = match &self.operand {
            ListedOperand::None => String::new(),
            ListedOperand::Qstr(n) | ListedOperand::Const(n) => n.to_string(),
            ListedOperand::Child(n) => match &n.text {
                Some(t) => format!("{} ({})", n.index, t),
                None => n.index.to_string(),
            },
            ListedOperand::Local(v) | ListedOperand::Uint(v) => v.to_string(),
            ListedOperand::SmallInt(v) => v.to_string(),
            ListedOperand::Jump { target, .. } => target.to_string(),
        };
        if !arg.is_empty() {
            s.push(' ');
            s.push_str(&arg);
        }
        if let Some(x) = self.extra {
            let _ = write!(s, " {x}");
        }
        s
    }
}

/// A listing of one bytecode function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The function's name.
    pub simple_name: Name,
    /// The prelude signature.
    pub signature: Signature,
    /// Argument names.
    pub arg_names: Vec<Name>,
    /// Cell bytes (local slots).
    pub cells: Vec<u8>,
    /// The encoded line-number table.
    pub line_info: Vec<u8>,
    /// `fun_data` offset of the first opcode.
    pub code_start: usize,
    /// The `fun_data` bytes.
    pub fun_data: Vec<u8>,
    /// The instructions.
    pub instructions: Vec<ListedInstruction>,
}

/// Lists `function`, resolving names through `resolver`. The bytes are those of
/// [`Layout::Exact`], i.e. the decoded bytes for an unmodified function.
pub fn listing(function: &BytecodeFunction, resolver: &dyn Resolver) -> Result<Listing, BytecodeEncodeError> {
    let enc = function.encode_with(Layout::Exact)?;
    let code = &enc.bytes[enc.code_start..];
    let mut instructions = Vec::with_capacity(function.instructions.len());
    let mut last_line = None;
    // The line of each instruction, found by walking the line table once: offsets only increase,
    // so the entries consumed for one instruction are consumed for the next too (what
    // `LineTable::line_at` does from the start for every offset).
    let entries = &enc.line_table.entries;
    let (mut entry, mut skipped, mut line) = (0usize, 0u64, 1u64);
    for (k, ins) in function.instructions.iter().enumerate() {
        let offset = enc.offsets[k];
        let end = enc.offsets.get(k + 1).copied().unwrap_or(code.len());
        let info = ins.info();
        let operand = match ins.operand {
            Operand::None => ListedOperand::None,
            Operand::Qstr(a) => ListedOperand::Qstr(Name::qstr(a.value, resolver)),
            Operand::Const(a) => {
                ListedOperand::Const(Name { index: a.value, text: resolver.constant(a.value) })
            }
            Operand::Child(a) => ListedOperand::Child(Name { index: a.value, text: resolver.child(a.value) }),
            Operand::Local(a) => ListedOperand::Local(a.value),
            Operand::Uint(a) => ListedOperand::Uint(a.value),
            Operand::SmallInt(a) => ListedOperand::SmallInt(a.value),
            Operand::Jump(j) => {
                let target = enc_target(&enc.offsets, function, j.target);
                let width = j.width.byte_len();
                let _ = matches!(info.operand, OperandKind::Jump { .. });
                ListedOperand::Jump { relative: target - (offset + 1 + width) as i64, target }
            }
        };
        while let Some(e) = entries.get(entry) {
            if (offset as u64).saturating_sub(skipped) < u64::from(e.bytes) {
                break;
            }
            skipped += u64::from(e.bytes);
            line += u64::from(e.lines);
            entry += 1;
        }
        debug_assert_eq!(line, enc.line_table.line_at(offset as u64));
        let line_changed = last_line != Some(line);
        last_line = Some(line);
        instructions.push(ListedInstruction {
            offset,
            bytes: code[offset..end].to_vec(),
            name: ins.opcode.upstream_name(),
            mnemonic: info.name,
            assigned: info.assigned,
            operand,
            extra: ins.extra,
            line,
            line_changed,
        });
    }
    let p = &function.prelude;
    Ok(Listing {
        simple_name: Name::qstr(p.simple_name.value, resolver),
        signature: p.signature,
        arg_names: p.arg_names.iter().map(|a| Name::qstr(a.value, resolver)).collect(),
        cells: p.cells.clone(),
        line_info: enc.line_table.encode()?,
        code_start: enc.code_start,
        instructions,
        fun_data: enc.bytes,
    })
}

/// The output target of a jump (the label's new offset when the target is a label, else the
/// target unchanged; exact encoding of an unmodified function moves nothing).
fn enc_target(offsets: &[usize], f: &BytecodeFunction, target: i64) -> i64 {
    usize::try_from(target).ok().and_then(|t| f.index_of_offset(t)).map_or(target, |k| offsets[k] as i64)
}

/// Colon-separated hex, as mpy-tool prints bytes (`20:00:01`).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Shows `s` as it is when it is plain printable text without spaces, else as a Python-style
/// quoted string (so one instruction stays on one line).
pub fn quote_if_needed(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| !c.is_whitespace() && !c.is_control() && c != '\'');
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn write_prelude_lines(out: &mut String, simple_name: &Name, sig: &Signature, args: &[Name], cells: &[u8]) {
    let _ = writeln!(out, "simple_name: {simple_name}");
    let _ = writeln!(out, "  prelude: {:?}", sig.as_tuple());
    let args: Vec<String> = args.iter().map(Name::to_string).collect();
    let _ = writeln!(out, "  args: {}", args.join(" "));
    if !cells.is_empty() {
        let cells: Vec<String> = cells.iter().map(u8::to_string).collect();
        let _ = writeln!(out, "  cells: {}", cells.join(" "));
    }
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_prelude_lines(&mut out, &self.simple_name, &self.signature, &self.arg_names, &self.cells);
        let _ = writeln!(out, "  line info: {}", hex(&self.line_info));
        let _ = writeln!(out, "   line offset  bytes        instruction");
        for ins in &self.instructions {
            let line = if ins.line_changed { ins.line.to_string() } else { String::new() };
            let _ = writeln!(out, "  {line:>5} {:>6}  {:<12} {}", ins.offset, hex(&ins.bytes), ins.text());
        }
        f.write_str(&out)
    }
}

/// Disassembles `function` as text (see the module documentation).
pub fn disassemble(
    function: &BytecodeFunction,
    resolver: &dyn Resolver,
) -> Result<String, BytecodeEncodeError> {
    Ok(listing(function, resolver)?.to_string())
}

/// The prelude lines of a native function (`simple_name:`, `prelude:`, `args:`, `cells:`).
pub fn native_prelude_text(prelude: &NativePrelude, resolver: &dyn Resolver) -> String {
    let Prelude { signature, simple_name, arg_names, cells, .. } = &prelude.prelude;
    let mut out = String::new();
    let args: Vec<Name> = arg_names.iter().map(|a| Name::qstr(a.value, resolver)).collect();
    write_prelude_lines(&mut out, &Name::qstr(simple_name.value, resolver), signature, &args, cells);
    out
}
