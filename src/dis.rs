//! Disassembly of a whole module: every raw code in tree order with its path, kind and signature,
//! bytecode as instructions with names resolved through the module's tables (the bytecode layer's
//! [`crate::bytecode::disasm`] does the per-function work), native code as its prelude and hex.
//!
//! [`ModuleListing`] is the structured form; its `Display` is the text `mpy dis` prints, and
//! [`to_json`] (feature `json`) is `mpy dis --json`.

use std::fmt::{self, Write};

use crate::bytecode::disasm::{self, Listing, Resolver};
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
    fn qstr(&self, index: u64) -> Option<String> {
        let q = self.module.qstrs.get(usize::try_from(index).ok()?)?;
        Some(q.lossy().into_owned())
    }
    fn constant(&self, index: u64) -> Option<String> {
        Some(self.module.objects.get(usize::try_from(index).ok()?)?.to_string())
    }
    fn child(&self, index: u64) -> Option<String> {
        let child = self.raw_code.children.get(usize::try_from(index).ok()?)?;
        simple_name(self.module, child)
    }
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
    Some(module.qstrs.get(usize::try_from(index).ok()?)?.lossy().into_owned())
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

/// Resolves like [`ModuleResolver`], with every raw code's name computed once beforehand.
struct NamedResolver<'m, 'a> {
    module: &'m Module<'a>,
    /// The names of the raw code's children.
    children: &'m [Option<String>],
}

impl Resolver for NamedResolver<'_, '_> {
    fn qstr(&self, index: u64) -> Option<String> {
        let q = self.module.qstrs.get(usize::try_from(index).ok()?)?;
        Some(q.lossy().into_owned())
    }
    fn constant(&self, index: u64) -> Option<String> {
        Some(self.module.objects.get(usize::try_from(index).ok()?)?.to_string())
    }
    fn child(&self, index: u64) -> Option<String> {
        self.children.get(usize::try_from(index).ok()?)?.clone()
    }
}

/// The simple name of a raw code whose bytecode (if it is bytecode) was decoded as `decoded`.
fn name_of(
    module: &Module<'_>,
    rc: &RawCode<'_>,
    decoded: Option<&Result<BytecodeFunction, String>>,
) -> Option<String> {
    match (&rc.kind, decoded) {
        (Kind::Bytecode, Some(Ok(f))) => {
            Some(module.qstrs.get(usize::try_from(f.prelude.simple_name.value).ok()?)?.lossy().into_owned())
        }
        (Kind::Bytecode, _) => None,
        _ => simple_name(module, rc),
    }
}

/// Disassembles every raw code of `module`, parents before children. Each function is decoded
/// once; its name (shown in its own header and wherever its parent makes it) comes from that.
pub fn disassemble(module: &Module<'_>) -> ModuleListing {
    let all = module.raw_codes();
    let decoded: Vec<Option<Result<BytecodeFunction, String>>> = all
        .iter()
        .map(|(_, rc)| {
            matches!(rc.kind, Kind::Bytecode)
                .then(|| BytecodeFunction::decode(&rc.fun_data).map_err(|e| e.to_string()))
        })
        .collect();
    let index: std::collections::HashMap<*const RawCode<'_>, usize> =
        all.iter().enumerate().map(|(k, (_, rc))| (*rc as *const RawCode<'_>, k)).collect();
    let names: Vec<Option<String>> =
        all.iter().zip(&decoded).map(|((_, rc), d)| name_of(module, rc, d.as_ref())).collect();
    let functions = all
        .iter()
        .zip(decoded)
        .enumerate()
        .map(|(k, ((path, rc), decoded))| {
            let (path, rc) = (path.clone(), *rc);
            let children: Vec<Option<String>> = rc
                .children
                .iter()
                .map(|c| index.get(&(c as *const RawCode<'_>)).and_then(|&i| names[i].clone()))
                .collect();
            let resolver = NamedResolver { module, children: &children };
            let body = match &rc.kind {
                Kind::Bytecode => match decoded
                    .unwrap_or_else(|| Err("not decoded".into()))
                    .and_then(|f| disasm::listing(&f, &resolver).map_err(|e| e.to_string()))
                {
                    Ok(listing) => Body::Bytecode(Box::new(listing)),
                    Err(error) => Body::Undecodable { error, fun_data: rc.fun_data.to_vec() },
                },
                Kind::NativePython { prelude_offset } => {
                    let offset = usize::try_from(*prelude_offset).unwrap_or(usize::MAX);
                    match NativePrelude::decode(&rc.fun_data, offset) {
                        Ok(p) => Body::Native {
                            prelude: Some(disasm::native_prelude_text(&p, &resolver)),
                            code: rc.fun_data[..offset.min(rc.fun_data.len())].to_vec(),
                            rodata: None,
                        },
                        Err(e) => Body::Undecodable { error: e.to_string(), fun_data: rc.fun_data.to_vec() },
                    }
                }
                Kind::Viper(v) => Body::Native {
                    prelude: None,
                    code: rc.fun_data.to_vec(),
                    rodata: v.rodata.as_ref().map(|r| r.to_vec()),
                },
                Kind::Asm(_) => Body::Native { prelude: None, code: rc.fun_data.to_vec(), rodata: None },
            };
            FunctionListing { path, kind: rc.kind.name(), name: names[k].clone(), body }
        })
        .collect();
    let h = &module.header;
    let version =
        if h.is_native() { format!("6.{} {}", h.sub_version, h.arch) } else { "6, bytecode only".into() };
    let flags = h.arch_flags.map(|f| format!(", arch flags {f:#x}")).unwrap_or_default();
    let header = format!("mpy {version}, small-int bits {}{flags}", h.small_int_bits);
    ModuleListing { source_name: module.source_name().map(|q| q.lossy().into_owned()), header, functions }
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
        let _ = writeln!(out, "source: {}", self.source_name.as_deref().unwrap_or("?"));
        let _ = writeln!(out, "header: {}", self.header);
        for func in &self.functions {
            let _ = writeln!(out, "\n{}: {} {}", func.path, func.kind, func.name.as_deref().unwrap_or("-"));
            match &func.body {
                Body::Bytecode(listing) => {
                    for line in listing.to_string().lines() {
                        let _ = writeln!(out, "  {line}");
                    }
                }
                Body::Native { prelude, code, rodata } => {
                    if let Some(p) = prelude {
                        for line in p.lines() {
                            let _ = writeln!(out, "  {line}");
                        }
                    }
                    let _ = writeln!(out, "  machine code: {} bytes", code.len());
                    hex_lines(&mut out, code, "  ");
                    if let Some(r) = rodata {
                        let _ = writeln!(out, "  rodata: {} bytes", r.len());
                        hex_lines(&mut out, r, "  ");
                    }
                }
                Body::Undecodable { error, fun_data } => {
                    let _ = writeln!(out, "  does not decode: {error}");
                    hex_lines(&mut out, fun_data, "  ");
                }
            }
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
