//! A readable text form of the decoded tree: one line per field, indented by depth. Tests compare
//! two dumps with a diff when a round trip is not exact, so every field of the model shows here.

use std::fmt::Write;

use crate::error::{Path, Segment};
use crate::module::Module;
use crate::qstr::Qstr;
use crate::raw_code::{Kind, RawCode};
use crate::reloc::{Region, Target};

/// Renders the whole module.
pub fn tree(module: &Module<'_>) -> String {
    let mut out = String::new();
    let h = &module.header;
    let _ = write!(
        out,
        "header: version 6, sub-version {}, arch {}, small-int bits {}, feature byte {:#04x}",
        h.sub_version,
        h.arch,
        h.small_int_bits,
        h.feature_byte()
    );
    if let Some(flags) = h.arch_flags {
        let _ = write!(out, ", arch flags {flags:#x}");
    }
    out.push('\n');
    let _ = writeln!(out, "qstrs: {}", module.qstrs.len());
    for (k, q) in module.qstrs.iter().enumerate() {
        let mut text = String::new();
        let _ = crate::object::write_quoted(&mut text, "", q.bytes().unwrap_or(b"?"), true);
        match q {
            Qstr::Static(id) => _ = writeln!(out, "  [{k}] static {id} {text}"),
            Qstr::Dynamic(_) => _ = writeln!(out, "  [{k}] {text}"),
        }
    }
    let _ = writeln!(out, "objects: {}", module.objects.len());
    for (k, obj) in module.objects.iter().enumerate() {
        let _ = writeln!(out, "  [{k}] {obj}");
    }
    let mut path = Path(vec![Segment::Field("raw_code")]);
    raw_code(&mut out, &module.raw_code, &mut path, 0);
    out
}

fn raw_code(out: &mut String, rc: &RawCode<'_>, path: &mut Path, depth: usize) {
    let pad = "  ".repeat(depth);
    let _ = write!(out, "{pad}{path}: {}, fun_data {} bytes", rc.kind.name(), rc.fun_data.len());
    match &rc.kind {
        Kind::Bytecode => {}
        Kind::NativePython { prelude_offset } => _ = write!(out, ", prelude at {prelude_offset}"),
        Kind::Viper(v) => {
            let _ = write!(out, ", flags {:#x}", rc.kind.effective_flags().unwrap_or_default().bits());
            if let Some(r) = &v.rodata {
                let _ = write!(out, ", rodata {} bytes", r.len());
            }
            if let Some(n) = v.bss_size {
                let _ = write!(out, ", bss {n} bytes");
            }
        }
        Kind::Asm(a) => {
            let flags = rc.kind.effective_flags().unwrap_or_default().bits();
            let (n, sig) = (a.n_pos_args, a.type_sig);
            let _ = write!(out, ", flags {flags:#x}, {n} args, type_sig {sig:#x}");
        }
    }
    let _ = writeln!(out, ", {} children", rc.children.len());
    let _ = writeln!(out, "{pad}  fun_data: {}", hex(&rc.fun_data));
    if let Kind::Viper(v) = &rc.kind
        && let Some(r) = &v.rodata
    {
        let _ = writeln!(out, "{pad}  rodata: {}", hex(r));
    }
    for (k, child) in rc.children.iter().enumerate() {
        path.push(Segment::Child(k));
        raw_code(out, child, path, depth + 1);
        path.pop();
    }
    if let Some(ops) = rc.kind.relocs() {
        let _ = writeln!(out, "{pad}  relocs: {} ops", ops.len());
        for op in ops {
            let cursor = match op.cursor {
                Some(c) => format!(
                    "at {} word {}, ",
                    if c.region == Region::Text { "text" } else { "rodata" },
                    c.word_offset
                ),
                None => String::new(),
            };
            let target = match op.target {
                Target::Base { section, count } => {
                    format!(
                        "add {section:?} base to {} word(s){}",
                        op.target.words(),
                        if count.is_some() { " (counted)" } else { "" }
                    )
                }
                Target::QstrTable => "add qstr table".into(),
                Target::ObjTable => "add object table".into(),
                Target::FunTable => "add mp_fun_table".into(),
                Target::FunTableEntry(e) => format!("add mp_fun_table[{e}]"),
            };
            let _ = writeln!(out, "{pad}    {cursor}{target}");
        }
    }
}

/// Bytes as space-separated hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (k, b) in bytes.iter().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// What part of the file a line of an annotated dump belongs to (for colouring).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Header,
    Qstr,
    Object,
    RawCode,
    Code,
    Reloc,
    Trailing,
}

/// One line of an annotated dump: a byte range of the file and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotatedLine {
    pub offset: usize,
    pub bytes: Vec<u8>,
    pub part: Part,
    /// Where it is and what it means: `qstrs[0].qstr "hello.py"`.
    pub meaning: String,
}

/// An annotated hex dump of a file: every field the decoder read, in file order, with its meaning;
/// bytecode `fun_data` broken into prelude and instructions. If the file does not decode, the lines
/// up to the error are returned with the error.
pub fn annotated(bytes: &[u8]) -> (Vec<AnnotatedLine>, Option<crate::Error>) {
    let (result, spans) = Module::decode_with_spans(bytes);
    let mut lines = Vec::new();
    for span in &spans {
        let raw = &bytes[span.start..span.end];
        let path = span.path.to_string();
        let part = match span.path.0.first() {
            Some(Segment::Field("header")) => Part::Header,
            Some(Segment::Field("qstrs")) => Part::Qstr,
            Some(Segment::Field("objects")) => Part::Object,
            _ if span.path.0.contains(&Segment::Field("relocs")) => Part::Reloc,
            _ => Part::RawCode,
        };
        if span.what == "fun_data" {
            if let Ok(decoded) = &result {
                code_lines(&mut lines, decoded, span.start, raw, &span.path);
                continue;
            }
        }
        let meaning = format!("{path}: {}", describe_field(span.what, raw));
        lines.push(AnnotatedLine { offset: span.start, bytes: raw.to_vec(), part, meaning });
    }
    if let Ok(decoded) = &result {
        let end = spans.last().map_or(0, |s| s.end);
        if end < bytes.len() {
            lines.push(AnnotatedLine {
                offset: end,
                bytes: bytes[end..].to_vec(),
                part: Part::Trailing,
                meaning: format!("{} bytes after the outer raw code (never read)", bytes.len() - end),
            });
        }
        let _ = decoded;
    }
    (lines, result.err())
}

/// The meaning of one primitive field from its bytes.
fn describe_field(what: &'static str, raw: &[u8]) -> String {
    let number = crate::varuint::decode(raw).ok().map(|(_, v)| v.value);
    match what {
        "magic" => format!("magic {:?}", char::from(raw.first().copied().unwrap_or(0))),
        "version" | "small-int bits" => format!("{what} {}", raw.first().copied().unwrap_or(0)),
        "feature byte" => {
            let f = raw.first().copied().unwrap_or(0);
            format!(
                "feature byte: sub-version {}, arch {}{}",
                f & 3,
                crate::Arch((f >> 2) & 0x0f),
                if f & 0x40 != 0 { ", arch flags follow" } else { "" }
            )
        }
        "terminator" => format!("terminator {:#04x}", raw.first().copied().unwrap_or(0)),
        "qstr header" => match number {
            Some(v) if v & 1 == 1 => match crate::qstr::static_qstr(v >> 1) {
                Some(text) => {
                    let mut s = String::new();
                    let _ = crate::object::write_quoted(&mut s, "", text, true);
                    format!("static qstr {} {s}", v >> 1)
                }
                None => format!("static qstr {} (unknown id)", v >> 1),
            },
            Some(v) => format!("qstr of {} bytes", v >> 1),
            None => what.to_string(),
        },
        "relocation op stream (no 0xff terminator)" => match raw.first() {
            Some(0xff) => "end of relocations".to_string(),
            Some(&op) => {
                let k = op >> 1;
                let target = match k {
                    0..=5 => format!(
                        "add {} base{}",
                        ["text", "rodata", "bss"][usize::from(k >> 1)],
                        if k & 1 == 1 { " (counted)" } else { "" }
                    ),
                    6 => "add qstr table".into(),
                    7 => "add object table".into(),
                    8 => "add mp_fun_table".into(),
                    _ => format!("add mp_fun_table[{}]", k - 9),
                };
                format!("relocation op {op:#04x}: {}{target}", if op & 1 == 1 { "move cursor, " } else { "" })
            }
            None => what.to_string(),
        },
        "relocation cursor" => match number {
            Some(v) => format!("cursor to {} word {}", if v & 1 == 1 { "rodata" } else { "text" }, v >> 1),
            None => what.to_string(),
        },
        "rodata" | "fun_data" => format!("{what} ({} bytes)", raw.len()),
        "qstr" | "str" => {
            let mut s = String::new();
            let _ = crate::object::write_quoted(&mut s, "", raw, true);
            format!("{what} {s}")
        }
        "bytes" => {
            let mut s = String::new();
            let _ = crate::object::write_quoted(&mut s, "b", raw, false);
            format!("bytes {s}")
        }
        "int" | "float" | "complex" => {
            format!("{what} {}", String::from_utf8_lossy(raw))
        }
        "kind_len" => match number {
            Some(v) => format!(
                "kind_len: {} code, {} bytes of fun_data{}",
                ["bytecode", "native", "viper", "asm"][(v & 3) as usize],
                v >> 3,
                if v & 4 != 0 { ", has children" } else { "" }
            ),
            None => what.to_string(),
        },
        "object tag" => {
            let tags = [
                "fun_table",
                "None",
                "False",
                "True",
                "Ellipsis",
                "str",
                "bytes",
                "int",
                "float",
                "complex",
                "tuple",
            ];
            let t = raw.first().copied().unwrap_or(255);
            format!("object tag {t} ({})", tags.get(usize::from(t)).unwrap_or(&"?"))
        }
        _ => match number {
            Some(v) if raw.len() <= 10 => format!("{what} {v}"),
            _ => format!("{what} ({} bytes)", raw.len()),
        },
    }
}

/// Lines for one `fun_data`: bytecode as prelude and instructions, native code in rows.
fn code_lines(
    lines: &mut Vec<AnnotatedLine>,
    module: &crate::Decoded<'_>,
    start: usize,
    raw: &[u8],
    path: &Path,
) {
    let module = &module.module;
    // Find the raw code this fun_data belongs to, by path (the span's path ends with `fun_data`).
    let mut rc_path = path.clone();
    rc_path.pop();
    let rc = module.raw_codes().into_iter().find(|(p, _)| *p == rc_path).map(|(_, rc)| rc);
    let listing = rc.filter(|rc| rc.kind == Kind::Bytecode).and_then(|rc| {
        let f = crate::bytecode::BytecodeFunction::decode(raw).ok()?;
        crate::bytecode::disasm::listing(&f, &crate::dis::ModuleResolver { module, raw_code: rc }).ok()
    });
    let Some(listing) = listing else {
        for (k, chunk) in raw.chunks(16).enumerate() {
            let meaning =
                if k == 0 { format!("{rc_path}.fun_data: {} bytes", raw.len()) } else { String::new() };
            lines.push(AnnotatedLine {
                offset: start + k * 16,
                bytes: chunk.to_vec(),
                part: Part::Code,
                meaning,
            });
        }
        return;
    };
    let s = &listing.signature;
    lines.push(AnnotatedLine {
        offset: start,
        bytes: raw[..listing.code_start.min(raw.len())].to_vec(),
        part: Part::Code,
        meaning: format!(
            "{rc_path}.prelude: {} (n_state {}, n_exc_stack {}, flags {:#x}, args {}+{} kw, {} defaults), {} cells, line table {} bytes",
            listing.simple_name,
            s.n_state,
            s.n_exc_stack,
            s.scope_flags.bits(),
            s.n_pos_args,
            s.n_kwonly_args,
            s.n_def_pos_args,
            listing.cells.len(),
            listing.line_info.len()
        ),
    });
    for ins in &listing.instructions {
        let line = if ins.line_changed { format!("  (line {})", ins.line) } else { String::new() };
        lines.push(AnnotatedLine {
            offset: start + listing.code_start + ins.offset,
            bytes: ins.bytes.to_vec(),
            part: Part::Code,
            meaning: format!("  {:>5}  {}{line}", ins.offset, ins.text()),
        });
    }
}
