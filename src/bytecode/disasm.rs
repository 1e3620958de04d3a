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

use std::borrow::Cow;
use std::fmt::{self, Write};

use super::error::BytecodeEncodeError;
use super::function::{BytecodeFunction, Layout};
use super::line_table::LineTable;
use super::operand::Operand;
use super::prelude::{NativePrelude, Prelude, Signature};

/// Supplies the text of what operands refer to, borrowed where it can be; every method may return
/// `None` (out of range or unknown), which the listing shows as `#index`.
pub trait Resolver {
    /// The text of qstr-table entry `index`.
    fn qstr(&self, index: u64) -> Option<Cow<'_, str>> {
        let _ = index;
        None
    }
    /// The repr of constant-table entry `index`.
    fn constant(&self, index: u64) -> Option<Cow<'_, str>> {
        let _ = index;
        None
    }
    /// The simple name of child raw code `index`.
    fn child(&self, index: u64) -> Option<Cow<'_, str>> {
        let _ = index;
        None
    }
}

/// A resolver that knows nothing: every reference shows as `#index`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNames;

impl Resolver for NoNames {}

/// A reference and, when the resolver knew it, its text (borrowed from the resolver while a
/// function is being listed, owned in a [`Listing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name<'a> {
    /// The index.
    pub index: u64,
    /// The text (qstr string, constant repr or child name).
    pub text: Option<Cow<'a, str>>,
}

impl<'a> Name<'a> {
    fn qstr(index: u64, r: &'a dyn Resolver) -> Name<'a> {
        Name { index, text: r.qstr(index) }
    }

    /// The same name, owning its text.
    pub fn into_owned(self) -> Name<'static> {
        Name { index: self.index, text: self.text.map(|t| Cow::Owned(t.into_owned())) }
    }

    /// Appends the name as the listing shows it: the text quoted if needed, else `#index`.
    fn push_to(&self, out: &mut String) {
        match &self.text {
            Some(t) => push_quoted(out, t),
            None => {
                out.push('#');
                push_decimal(out, self.index, 0);
            }
        }
    }
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

/// A resolved operand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListedOperand<'a> {
    /// No operand.
    None,
    /// A qstr.
    Qstr(Name<'a>),
    /// A constant (text = repr).
    Const(Name<'a>),
    /// A child raw code (text = its simple name).
    Child(Name<'a>),
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

impl ListedOperand<'_> {
    /// The same operand, owning its text.
    pub fn into_owned(self) -> ListedOperand<'static> {
        match self {
            ListedOperand::None => ListedOperand::None,
            ListedOperand::Qstr(n) => ListedOperand::Qstr(n.into_owned()),
            ListedOperand::Const(n) => ListedOperand::Const(n.into_owned()),
            ListedOperand::Child(n) => ListedOperand::Child(n.into_owned()),
            ListedOperand::Local(v) => ListedOperand::Local(v),
            ListedOperand::Uint(v) => ListedOperand::Uint(v),
            ListedOperand::SmallInt(v) => ListedOperand::SmallInt(v),
            ListedOperand::Jump { relative, target } => ListedOperand::Jump { relative, target },
        }
    }
}

/// One listed instruction (borrowing its bytes and names while a function is being listed, owning
/// them in a [`Listing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedInstruction<'a> {
    /// Code offset.
    pub offset: usize,
    /// The encoded bytes.
    pub bytes: Cow<'a, [u8]>,
    /// mpy-tool.py's name (`LOAD_FAST 0`, `BINARY_OP 27 __add__`, `unknown`).
    pub name: &'static str,
    /// The table name (`LOAD_FAST_MULTI`), for grouping.
    pub mnemonic: &'static str,
    /// Whether the opcode is assigned.
    pub assigned: bool,
    /// The resolved operand.
    pub operand: ListedOperand<'a>,
    /// The extra byte.
    pub extra: Option<u8>,
    /// The source line of this instruction.
    pub line: u64,
    /// Whether the line differs from the previous instruction's (always true for the first).
    pub line_changed: bool,
}

impl ListedInstruction<'_> {
    /// The instruction text: name, operand, extra byte (`MAKE_CLOSURE 0 (g) 1`, `JUMP 20`).
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.push_text(&mut s, "");
        s
    }

    /// The same instruction, owning its bytes and names.
    pub fn into_owned(self) -> ListedInstruction<'static> {
        ListedInstruction {
            bytes: Cow::Owned(self.bytes.into_owned()),
            operand: self.operand.into_owned(),
            ..self
        }
    }

    /// Appends [`text`](Self::text); `indent` follows any line break in a child's name (see
    /// [`push_lines`]).
    fn push_text(&self, out: &mut String, indent: &str) {
        out.push_str(self.name);
        match &self.operand {
            ListedOperand::None => {}
            ListedOperand::Qstr(n) | ListedOperand::Const(n) => {
                out.push(' ');
                n.push_to(out);
            }
            ListedOperand::Child(n) => {
                out.push(' ');
                push_decimal(out, n.index, 0);
                if let Some(t) = &n.text {
                    out.push_str(" (");
                    push_lines(out, t, indent);
                    out.push(')');
                }
            }
            ListedOperand::Local(v) | ListedOperand::Uint(v) => {
                out.push(' ');
                push_decimal(out, *v, 0);
            }
            ListedOperand::SmallInt(v) | ListedOperand::Jump { target: v, .. } => {
                out.push(' ');
                push_signed(out, *v);
            }
        }
        if let Some(x) = self.extra {
            out.push(' ');
            push_decimal(out, u64::from(x), 0);
        }
    }

    /// Appends the instruction's row of the listing: `  {line:>5} {offset:>6}  {bytes:<12} {text}`,
    /// the line shown only where it changes.
    fn push_row(&self, out: &mut String, indent: &str) {
        out.push_str(indent);
        if self.line_changed {
            out.push_str("  ");
            push_decimal(out, self.line, 5);
        } else {
            out.push_str("       ");
        }
        out.push(' ');
        push_decimal(out, self.offset as u64, 6);
        out.push_str("  ");
        let bytes_start = out.len();
        push_hex(out, &self.bytes);
        push_spaces(out, (bytes_start + 12).saturating_sub(out.len()));
        out.push(' ');
        self.push_text(out, indent);
        out.push('\n');
    }
}

/// A listing of one bytecode function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The function's name.
    pub simple_name: Name<'static>,
    /// The prelude signature.
    pub signature: Signature,
    /// Argument names.
    pub arg_names: Vec<Name<'static>>,
    /// Cell bytes (local slots).
    pub cells: Vec<u8>,
    /// The encoded line-number table.
    pub line_info: Vec<u8>,
    /// `fun_data` offset of the first opcode.
    pub code_start: usize,
    /// The `fun_data` bytes.
    pub fun_data: Vec<u8>,
    /// The instructions.
    pub instructions: Vec<ListedInstruction<'static>>,
}

impl Listing {
    /// Appends the listing's text (its `Display`) to `out`, every line starting with `indent`.
    pub fn push_text(&self, indent: &str, out: &mut String) {
        push_prelude_lines(out, indent, &self.simple_name, &self.signature, &self.arg_names, &self.cells);
        push_table_head(out, indent, &self.line_info);
        for ins in &self.instructions {
            ins.push_row(out, indent);
        }
    }
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.push_text("", &mut out);
        f.write_str(&out)
    }
}

/// A function with its bytes as it lists them ([`Layout::Exact`], i.e. the decoded bytes for an
/// unmodified function): its instructions listed one at a time with bytes and names borrowed,
/// collected into a [`Listing`], or appended straight away as the listing's text.
pub struct Lister<'f> {
    function: &'f BytecodeFunction,
    /// The `fun_data` bytes, the offset of the first opcode in them, each instruction's code
    /// offset, the line table and its bytes.
    bytes: Cow<'f, [u8]>,
    code_start: usize,
    offsets: Vec<usize>,
    line_table: Cow<'f, LineTable>,
    line_info: Vec<u8>,
}

impl<'f> Lister<'f> {
    /// Encodes `function`.
    pub fn new(function: &'f BytecodeFunction) -> Result<Self, BytecodeEncodeError> {
        let enc = function.encode_with(Layout::Exact)?;
        let line_info = enc.line_table.encode()?;
        Ok(Lister {
            function,
            bytes: Cow::Owned(enc.bytes),
            code_start: enc.code_start,
            offsets: enc.offsets,
            line_table: Cow::Owned(enc.line_table),
            line_info,
        })
    }

    /// `function` as decoded from `fun_data` ([`BytecodeFunction::decode`], the instructions
    /// starting at `code_start`), without encoding it again: [`Layout::Exact`] gives back the
    /// decoded bytes, with the instructions where they were decoded and the line table as it was
    /// (which the `bytecode` fuzz target holds the codec to), so this lists as [`Lister::new`].
    pub(crate) fn decoded(
        function: &'f BytecodeFunction,
        fun_data: &'f [u8],
        code_start: usize,
    ) -> Result<Self, BytecodeEncodeError> {
        Ok(Lister {
            function,
            bytes: Cow::Borrowed(fun_data),
            code_start,
            offsets: function.instructions.iter().map(|ins| ins.offset).collect(),
            line_table: Cow::Borrowed(&function.line_table),
            line_info: function.line_table.encode()?,
        })
    }

    /// The instructions, with names resolved through `resolver`.
    pub fn instructions<'s>(
        &'s self,
        resolver: &'s dyn Resolver,
    ) -> impl Iterator<Item = ListedInstruction<'s>> + 's {
        let (function, offsets) = (self.function, &self.offsets);
        let code = &self.bytes[self.code_start..];
        // The line of each instruction, found by walking the line table once: offsets only
        // increase, so the entries consumed for one instruction are consumed for the next too
        // (what `LineTable::line_at` does from the start for every offset).
        let entries = &self.line_table.entries;
        let (mut entry, mut skipped, mut line, mut last_line) = (0usize, 0u64, 1u64, None);
        function.instructions.iter().enumerate().map(move |(k, ins)| {
            let offset = offsets[k];
            let end = offsets.get(k + 1).copied().unwrap_or(code.len());
            let info = ins.info();
            let operand = match ins.operand {
                Operand::None => ListedOperand::None,
                Operand::Qstr(a) => ListedOperand::Qstr(Name::qstr(a.value, resolver)),
                Operand::Const(a) => {
                    ListedOperand::Const(Name { index: a.value, text: resolver.constant(a.value) })
                }
                Operand::Child(a) => {
                    ListedOperand::Child(Name { index: a.value, text: resolver.child(a.value) })
                }
                Operand::Local(a) => ListedOperand::Local(a.value),
                Operand::Uint(a) => ListedOperand::Uint(a.value),
                Operand::SmallInt(a) => ListedOperand::SmallInt(a.value),
                Operand::Jump(j) => {
                    let target = enc_target(offsets, function, j.target);
                    let width = j.width.byte_len();
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
            debug_assert_eq!(line, self.line_table.line_at(offset as u64));
            let line_changed = last_line != Some(line);
            last_line = Some(line);
            ListedInstruction {
                offset,
                bytes: Cow::Borrowed(&code[offset..end]),
                name: ins.opcode.upstream_name(),
                mnemonic: info.name,
                assigned: info.assigned,
                operand,
                extra: ins.extra,
                line,
                line_changed,
            }
        })
    }

    /// The listing, with names resolved through `resolver`.
    pub fn into_listing(self, resolver: &dyn Resolver) -> Listing {
        let instructions = self.instructions(resolver).map(ListedInstruction::into_owned).collect();
        let p = &self.function.prelude;
        Listing {
            simple_name: Name::qstr(p.simple_name.value, resolver).into_owned(),
            signature: p.signature,
            arg_names: p.arg_names.iter().map(|a| Name::qstr(a.value, resolver).into_owned()).collect(),
            cells: p.cells.clone(),
            line_info: self.line_info,
            code_start: self.code_start,
            instructions,
            fun_data: self.bytes.into_owned(),
        }
    }

    /// Appends the text of the listing to `out` (what `into_listing(resolver)` displays), every
    /// line starting with `indent`, without building the listing.
    pub fn push_text(&self, resolver: &dyn Resolver, indent: &str, out: &mut String) {
        let p = &self.function.prelude;
        let args: Vec<Name<'_>> = p.arg_names.iter().map(|a| Name::qstr(a.value, resolver)).collect();
        let simple_name = Name::qstr(p.simple_name.value, resolver);
        push_prelude_lines(out, indent, &simple_name, &p.signature, &args, &p.cells);
        push_table_head(out, indent, &self.line_info);
        for ins in self.instructions(resolver) {
            ins.push_row(out, indent);
        }
    }
}

/// Lists `function`, resolving names through `resolver`. The bytes are those of
/// [`Layout::Exact`], i.e. the decoded bytes for an unmodified function.
pub fn listing(function: &BytecodeFunction, resolver: &dyn Resolver) -> Result<Listing, BytecodeEncodeError> {
    Ok(Lister::new(function)?.into_listing(resolver))
}

/// The output target of a jump (the label's new offset when the target is a label, else the
/// target unchanged; exact encoding of an unmodified function moves nothing).
fn enc_target(offsets: &[usize], f: &BytecodeFunction, target: i64) -> i64 {
    usize::try_from(target).ok().and_then(|t| f.index_of_offset(t)).map_or(target, |k| offsets[k] as i64)
}

/// Colon-separated hex, as mpy-tool prints bytes (`20:00:01`).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    push_hex(&mut s, bytes);
    s
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `n` in decimal, right-aligned in `width` columns (`{n:>width}` without a formatter):
/// the field is made up on the stack and appended in one go.
fn push_decimal(out: &mut String, n: u64, width: usize) {
    const MAX: usize = 20; // u64::MAX has 20 digits
    let mut field = [b' '; MAX];
    let mut start = MAX;
    let mut rest = n;
    loop {
        start -= 1;
        field[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    push_spaces(out, width.saturating_sub(MAX));
    let start = start.min(MAX.saturating_sub(width));
    out.extend(field[start..].iter().map(|&b| char::from(b)));
}

fn push_signed(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_decimal(out, n.unsigned_abs(), 0);
}

fn push_spaces(out: &mut String, n: usize) {
    const SPACES: &str = "            ";
    let mut rest = n;
    while rest > 0 {
        let k = rest.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        rest -= k;
    }
}

/// Appends `text` (a child's name, shown as it is) with `indent` after each line break, a `\r`
/// before one dropped: the indented listing's lines are those `str::lines` splits the plain
/// listing into.
fn push_lines(out: &mut String, text: &str, indent: &str) {
    if indent.is_empty() || !text.contains('\n') {
        out.push_str(text);
        return;
    }
    let mut lines = text.split('\n');
    out.push_str(lines.next().unwrap_or_default());
    for line in lines {
        if out.ends_with('\r') {
            out.pop();
        }
        out.push('\n');
        out.push_str(indent);
        out.push_str(line);
    }
}

/// Shows `s` as it is when it is plain printable text without spaces, else as a Python-style
/// quoted string (so one instruction stays on one line).
pub fn quote_if_needed(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_quoted(&mut out, s);
    out
}

/// Appends [`quote_if_needed`]`(s)`.
fn push_quoted(out: &mut String, s: &str) {
    // Printable ASCII other than the space and the quote is plain; other text is checked by char.
    let ascii_plain = |b: u8| b.is_ascii_graphic() && b != b'\'';
    let plain = !s.is_empty()
        && (s.bytes().all(ascii_plain)
            || s.chars().all(|c| !c.is_whitespace() && !c.is_control() && c != '\''));
    if plain {
        out.push_str(s);
        return;
    }
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
}

/// The prelude lines (`simple_name:`, `prelude:`, `args:`, `cells:`), each starting with `indent`.
fn push_prelude_lines(
    out: &mut String,
    indent: &str,
    simple_name: &Name<'_>,
    sig: &Signature,
    args: &[Name<'_>],
    cells: &[u8],
) {
    out.push_str(indent);
    out.push_str("simple_name: ");
    simple_name.push_to(out);
    out.push('\n');
    out.push_str(indent);
    out.push_str("  prelude: (");
    let (a, b, c, d, e, f) = sig.as_tuple();
    for (k, v) in [a, b, c, d, e, f].into_iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        push_decimal(out, u64::from(v), 0);
    }
    out.push_str(")\n");
    out.push_str(indent);
    out.push_str("  args: ");
    for (k, a) in args.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        a.push_to(out);
    }
    out.push('\n');
    if !cells.is_empty() {
        out.push_str(indent);
        out.push_str("  cells:");
        for &c in cells {
            out.push(' ');
            push_decimal(out, u64::from(c), 0);
        }
        out.push('\n');
    }
}

/// The lines between the prelude's and the instruction rows: the line table, the column heads.
fn push_table_head(out: &mut String, indent: &str, line_info: &[u8]) {
    out.push_str(indent);
    out.push_str("  line info: ");
    push_hex(out, line_info);
    out.push('\n');
    out.push_str(indent);
    out.push_str("   line offset  bytes        instruction\n");
}

/// Disassembles `function` as text (see the module documentation).
pub fn disassemble(
    function: &BytecodeFunction,
    resolver: &dyn Resolver,
) -> Result<String, BytecodeEncodeError> {
    let mut out = String::new();
    Lister::new(function)?.push_text(resolver, "", &mut out);
    Ok(out)
}

/// The prelude lines of a native function (`simple_name:`, `prelude:`, `args:`, `cells:`).
pub fn native_prelude_text(prelude: &NativePrelude, resolver: &dyn Resolver) -> String {
    let Prelude { signature, simple_name, arg_names, cells, .. } = &prelude.prelude;
    let mut out = String::new();
    let args: Vec<Name<'_>> = arg_names.iter().map(|a| Name::qstr(a.value, resolver)).collect();
    push_prelude_lines(&mut out, "", &Name::qstr(simple_name.value, resolver), signature, &args, cells);
    out
}
