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
