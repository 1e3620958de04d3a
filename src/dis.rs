//! Disassembly of a whole module: every raw code in tree order with its path, kind and signature,
//! bytecode as instructions with names resolved through the module's tables (the bytecode layer's
//! [`crate::bytecode::disasm`] does the per-function work), native code as its prelude and hex.
//!
//! [`ModuleListing`] is the structured form; its `Display` is the text `mpy dis` prints, and
//! [`to_json`] (feature `json`) is `mpy dis --json`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write};

use crate::bytecode::disasm::{self, Lister, Listing, Resolver};
use crate::bytecode::{BytecodeFunction, NativePrelude};
use crate::error::Path;
use crate::module::Module;
use crate::raw_code::{Kind, RawCode};

/// Names operands through a module's tables and one raw code's children.
pub struct ModuleResolver<'m, 'a> {
    pub module: &'m Module<'a>,
    pub raw_code: &'m RawCode<'a>,
}

impl Resolver for ModuleResolver<'_, '_> {
    fn qstr(&self, index: u64) -> Option<Cow<'_, str>> {
        qstr(self.module, index)
    }
    fn constant(&self, index: u64) -> Option<Cow<'_, str>> {
        constant(self.module, index)
    }
    fn child(&self, index: u64) -> Option<Cow<'_, str>> {
        let child = self.raw_code.children.get(usize::try_from(index).ok()?)?;
        simple_name(self.module, child).map(Cow::Owned)
    }
}

fn qstr<'m>(module: &'m Module<'_>, index: u64) -> Option<Cow<'m, str>> {
    Some(module.qstrs.get(usize::try_from(index).ok()?)?.lossy())
}

fn constant<'m>(module: &'m Module<'_>, index: u64) -> Option<Cow<'m, str>> {
    Some(Cow::Owned(module.objects.get(usize::try_from(index).ok()?)?.to_string()))
}

/// The name a raw code gives itself: its prelude's simple name, or `None` for viper and asm code
/// (which have no prelude) and for preludes that do not decode.
pub fn simple_name(module: &Module<'_>, rc: &RawCode<'_>) -> Option<String> {
    let index = match &rc.kind {
        Kind::Bytecode => BytecodeFunction::decode(&rc.fun_data).ok()?.prelude.simple_name.value,
        Kind::NativePython { prelude_offset } => {
            NativePrelude::view(&rc.fun_data, usize::try_from(*prelude_offset).ok()?).ok()?.simple_name.value
        }
        _ => return None,
    };
    Some(qstr(module, index)?.into_owned())
}

/// What a raw code's listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Decoded bytecode.
    Bytecode(Box<Listing>),
    /// Machine code (`@native`, `@viper`, asm), with the native prelude's text for `@native`.
    Native { prelude: Option<String>, code: Vec<u8>, rodata: Option<Vec<u8>> },
    /// `fun_data` that does not decode as its kind says; the error and the raw bytes.
    Undecodable { error: String, fun_data: Vec<u8> },
}

/// One raw code of the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionListing {
    pub path: Path,
    /// `bytecode`, `native`, `viper`, `asm`.
    pub kind: &'static str,
    pub name: Option<String>,
    pub body: Body,
}

/// The disassembly of a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleListing {
    pub source_name: Option<String>,
    pub header: String,
    pub functions: Vec<FunctionListing>,
}

/// A module ready to disassemble: its qstrs as text, its raw codes in tree order, each bytecode
/// function decoded once, and each raw code's name (shown in its own heading and wherever its
/// parent makes it).
struct Prepared<'m, 'a> {
    module: &'m Module<'a>,
    qstrs: Vec<Cow<'m, str>>,
    all: Vec<(Path, &'m RawCode<'a>)>,
    /// For bytecode, the decoded function and where its code starts, or the error.
    decoded: Vec<Option<Result<(BytecodeFunction, usize), String>>>,
    names: Vec<Option<String>>,
    /// The position in `all` of each raw code.
    index: HashMap<*const RawCode<'a>, usize>,
}

/// A raw code's body, bytecode ready to list.
enum Part<'p> {
    Bytecode(Lister<'p>),
    Other(Body),
}

impl<'m, 'a> Prepared<'m, 'a> {
    fn new(module: &'m Module<'a>) -> Self {
        let all = module.raw_codes();
        let decoded: Vec<_> = all
            .iter()
            .map(|(_, rc)| {
                matches!(rc.kind, Kind::Bytecode).then(|| {
                    BytecodeFunction::decode_with_code_start(&rc.fun_data).map_err(|e| e.to_string())
                })
            })
            .collect();
        let index = all.iter().enumerate().map(|(k, (_, rc))| (*rc as *const RawCode<'a>, k)).collect();
        let names = all.iter().zip(&decoded).map(|((_, rc), d)| name_of(module, rc, d.as_ref())).collect();
        Prepared {
            module,
            qstrs: module.qstrs.iter().map(|q| q.lossy()).collect(),
            all,
            decoded,
            names,
            index,
        }
    }

    /// Names operands of raw code `k`.
    fn resolver(&self, k: usize) -> NamedResolver<'_, 'm, 'a> {
        NamedResolver { prepared: self, raw_code: self.all[k].1 }
    }

    fn part(&self, k: usize) -> Part<'_> {
        let rc = self.all[k].1;
        let undecodable =
            |error: String| Part::Other(Body::Undecodable { error, fun_data: rc.fun_data.to_vec() });
        match &rc.kind {
            Kind::Bytecode => match &self.decoded[k] {
                Some(Ok((f, code_start))) => Lister::decoded(f, &rc.fun_data, *code_start)
                    .map_or_else(|e| undecodable(e.to_string()), Part::Bytecode),
                Some(Err(e)) => undecodable(e.clone()),
                None => undecodable("not decoded".into()),
            },
            Kind::NativePython { prelude_offset } => {
                let offset = usize::try_from(*prelude_offset).unwrap_or(usize::MAX);
                match NativePrelude::decode(&rc.fun_data, offset) {
                    Ok(p) => Part::Other(Body::Native {
                        prelude: Some(disasm::native_prelude_text(&p, &self.resolver(k))),
                        code: rc.fun_data[..offset.min(rc.fun_data.len())].to_vec(),
                        rodata: None,
                    }),
                    Err(e) => undecodable(e.to_string()),
                }
            }
            Kind::Viper(v) => Part::Other(Body::Native {
                prelude: None,
                code: rc.fun_data.to_vec(),
                rodata: v.rodata.as_ref().map(|r| r.to_vec()),
            }),
            Kind::Asm(_) => {
                Part::Other(Body::Native { prelude: None, code: rc.fun_data.to_vec(), rodata: None })
            }
        }
    }

    /// The heading line of raw code `k`.
    fn push_function_head(&self, out: &mut String, k: usize) {
        let (path, rc) = &self.all[k];
        push_function_head(out, path, rc.kind.name(), self.names[k].as_deref());
    }
}

/// Resolves like [`ModuleResolver`], with the names of raw codes computed once beforehand.
struct NamedResolver<'p, 'm, 'a> {
    prepared: &'p Prepared<'m, 'a>,
    raw_code: &'m RawCode<'a>,
}

impl Resolver for NamedResolver<'_, '_, '_> {
    fn qstr(&self, index: u64) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.prepared.qstrs.get(usize::try_from(index).ok()?)?))
    }
    fn constant(&self, index: u64) -> Option<Cow<'_, str>> {
        constant(self.prepared.module, index)
    }
    fn child(&self, index: u64) -> Option<Cow<'_, str>> {
        let child = self.raw_code.children.get(usize::try_from(index).ok()?)?;
        let &k = self.prepared.index.get(&(child as *const RawCode<'_>))?;
        self.prepared.names[k].as_deref().map(Cow::Borrowed)
    }
}

/// The simple name of a raw code whose bytecode (if it is bytecode) was decoded as `decoded`.
fn name_of(
    module: &Module<'_>,
    rc: &RawCode<'_>,
    decoded: Option<&Result<(BytecodeFunction, usize), String>>,
) -> Option<String> {
    match (&rc.kind, decoded) {
        (Kind::Bytecode, Some(Ok((f, _)))) => Some(qstr(module, f.prelude.simple_name.value)?.into_owned()),
        (Kind::Bytecode, _) => None,
        _ => simple_name(module, rc),
    }
}

/// Disassembles every raw code of `module`, parents before children. Each function is decoded
/// once; its name (shown in its own header and wherever its parent makes it) comes from that.
pub fn disassemble(module: &Module<'_>) -> ModuleListing {
    let prepared = Prepared::new(module);
    let functions = (0..prepared.all.len())
        .map(|k| {
            let (path, rc) = &prepared.all[k];
            let body = match prepared.part(k) {
                Part::Bytecode(lister) => {
                    Body::Bytecode(Box::new(lister.into_listing(&prepared.resolver(k))))
                }
                Part::Other(body) => body,
            };
            FunctionListing {
                path: path.clone(),
                kind: rc.kind.name(),
                name: prepared.names[k].clone(),
                body,
            }
        })
        .collect();
    ModuleListing {
        source_name: module.source_name().map(|q| q.lossy().into_owned()),
        header: header_line(module),
        functions,
    }
}

/// Writes `disassemble(module)` as text (its `Display`, what `mpy dis` prints) without building
/// the listing: instructions go straight from the decoded functions into the text, with names
/// borrowed from the module.
pub fn write_text<W: Write + ?Sized>(module: &Module<'_>, out: &mut W) -> fmt::Result {
    let prepared = Prepared::new(module);
    let mut text = String::new();
    let source_name = module.source_name().map(|q| q.lossy());
    push_module_head(&mut text, source_name.as_deref(), &header_line(module));
    for k in 0..prepared.all.len() {
        prepared.push_function_head(&mut text, k);
        match prepared.part(k) {
            Part::Bytecode(lister) => lister.push_text(&prepared.resolver(k), "  ", &mut text),
            Part::Other(body) => push_body(&mut text, &body),
        }
        out.write_str(&text)?;
        text.clear();
    }
    out.write_str(&text)
}

/// The header line: version, architecture, small-int bits, flags.
fn header_line(module: &Module<'_>) -> String {
    let h = &module.header;
    let version =
        if h.is_native() { format!("6.{} {}", h.sub_version, h.arch) } else { "6, bytecode only".into() };
    let flags = h.arch_flags.map(|f| format!(", arch flags {f:#x}")).unwrap_or_default();
    format!("mpy {version}, small-int bits {}{flags}", h.small_int_bits)
}

fn push_module_head(out: &mut String, source_name: Option<&str>, header: &str) {
    let _ = writeln!(out, "source: {}", source_name.unwrap_or("?"));
    let _ = writeln!(out, "header: {header}");
}

fn push_function_head(out: &mut String, path: &Path, kind: &str, name: Option<&str>) {
    let _ = writeln!(out, "\n{path}: {kind} {}", name.unwrap_or("-"));
}

/// A raw code's body, indented by two spaces.
fn push_body(out: &mut String, body: &Body) {
    match body {
        Body::Bytecode(listing) => listing.push_text("  ", out),
        Body::Native { prelude, code, rodata } => {
            if let Some(p) = prelude {
                for line in p.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            let _ = writeln!(out, "  machine code: {} bytes", code.len());
            hex_lines(out, code, "  ");
            if let Some(r) = rodata {
                let _ = writeln!(out, "  rodata: {} bytes", r.len());
                hex_lines(out, r, "  ");
            }
        }
        Body::Undecodable { error, fun_data } => {
            let _ = writeln!(out, "  does not decode: {error}");
            hex_lines(out, fun_data, "  ");
        }
    }
}

/// Machine code as lines of 16 hex bytes with their offset.
fn hex_lines(out: &mut String, bytes: &[u8], indent: &str) {
    for (k, chunk) in bytes.chunks(16).enumerate() {
        let _ = writeln!(out, "{indent}{:6x}  {}", k * 16, crate::dump::hex(chunk));
    }
}

impl fmt::Display for ModuleListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        push_module_head(&mut out, self.source_name.as_deref(), &self.header);
        for func in &self.functions {
            push_function_head(&mut out, &func.path, func.kind, func.name.as_deref());
            push_body(&mut out, &func.body);
        }
        f.write_str(&out)
    }
}

/// The JSON form of a listing (`mpy dis --json`), documented in the README.
#[cfg(feature = "json")]
pub fn to_json(listing: &ModuleListing) -> serde_json::Value {
    use disasm::ListedOperand;
    use serde_json::json;
    let name = |n: &disasm::Name| json!({"index": n.index, "text": n.text});
    let functions: Vec<_> = listing
        .functions
        .iter()
        .map(|func| {
            let body = match &func.body {
                Body::Bytecode(l) => {
                    let s = &l.signature;
                    let instructions: Vec<_> = l
                        .instructions
                        .iter()
                        .map(|i| {
                            let operand = match &i.operand {
                                ListedOperand::None => json!(null),
                                ListedOperand::Qstr(n) => json!({"qstr": name(n)}),
                                ListedOperand::Const(n) => json!({"const": name(n)}),
                                ListedOperand::Child(n) => json!({"child": name(n)}),
                                ListedOperand::Local(v) => json!({"local": v}),
                                ListedOperand::Uint(v) => json!({"uint": v}),
                                ListedOperand::SmallInt(v) => json!({"int": v}),
                                ListedOperand::Jump { relative, target } => {
                                    json!({"jump": {"relative": relative, "target": target}})
                                }
                            };
                            json!({
                                "offset": i.offset,
                                "bytes": disasm::hex(&i.bytes),
                                "name": i.name,
                                "opcode": i.mnemonic,
                                "operand": operand,
                                "extra": i.extra,
                                "line": i.line,
                                "text": i.text(),
                            })
                        })
                        .collect();
                    json!({
                        "signature": {
                            "n_state": s.n_state, "n_exc_stack": s.n_exc_stack,
                            "scope_flags": s.scope_flags.bits(), "n_pos_args": s.n_pos_args,
                            "n_kwonly_args": s.n_kwonly_args, "n_def_pos_args": s.n_def_pos_args,
                        },
                        "simple_name": name(&l.simple_name),
                        "args": l.arg_names.iter().map(name).collect::<Vec<_>>(),
                        "cells": l.cells,
                        "code_start": l.code_start,
                        "instructions": instructions,
                    })
                }
                Body::Native { prelude, code, rodata } => json!({
                    "prelude": prelude,
                    "machine_code": crate::dump::hex(code),
                    "rodata": rodata.as_ref().map(|r| crate::dump::hex(r)),
                }),
                Body::Undecodable { error, fun_data } => {
                    json!({"error": error, "fun_data": crate::dump::hex(fun_data)})
                }
            };
            json!({"path": func.path.to_string(), "kind": func.kind, "name": func.name, "body": body})
        })
        .collect();
    json!({
        "source": listing.source_name,
        "header": listing.header,
        "functions": functions,
    })
}
