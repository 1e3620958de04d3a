//! The differential suite: real upstream compilers (every v6 sub-version) produce the files; every
//! one must decode, carry the header the compiler was asked for, and re-encode byte for byte.
//!
//! Prints one line per compiler and configuration: files compiled, rejected by the compiler,
//! decoded, and re-encoded identically. Run with `--nocapture` to see the table.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use common::{Compiler, check_roundtrip, compile};
use mpy_codec::{Arch, Kind, Module};
use rayon::prelude::*;

/// One cell of the matrix: a compiler, its options, the sources.
struct Cell<'a> {
    compiler: &'a Compiler,
    label: String,
    args: Vec<String>,
    arch: Arch,
    arch_flags: Option<u64>,
    small_int_bits: u8,
    /// `-s NAME`: the source name qstr 0 must hold.
    source_name: Option<String>,
    sources: Vec<PathBuf>,
    /// Sources the compiler must accept (the others may be rejected, and are counted).
    must_compile: Box<dyn Fn(&Path) -> bool + Sync + 'a>,
}

#[derive(Default)]
struct Tally {
    compiled: usize,
    rejected: usize,
    decoded: usize,
    identical: usize,
    /// Raw codes seen, by kind: bytecode, native, viper, asm.
    kinds: [usize; 4],
    failures: Vec<String>,
}

fn run(cell: &Cell) -> Tally {
    let tally = Mutex::new(Tally::default());
    let args: Vec<&str> = cell.args.iter().map(String::as_str).collect();
    cell.sources.par_iter().for_each(|src| {
        let outcome = compile(cell.compiler, src, &args);
        let mut t = tally.lock().unwrap();
        let bytes = match outcome {
            Ok(bytes) => bytes,
            Err(message) => {
                t.rejected += 1;
                if (cell.must_compile)(src) {
                    t.failures.push(format!("{}: compiler rejected it: {message}", src.display()));
                }
                return;
            }
        };
        t.compiled += 1;
        drop(t);
        let result = check_file(cell, &bytes);
        let mut t = tally.lock().unwrap();
        if let Ok(m) = Module::decode(&bytes) {
            for (_, rc) in m.raw_codes() {
                t.kinds[usize::from(rc.kind.code())] += 1;
            }
        }
        match result {
            Ok(()) => {
                t.decoded += 1;
                t.identical += 1;
            }
            Err((decoded, message)) => {
                t.decoded += usize::from(decoded);
                t.failures.push(format!("{}: {message}", src.display()));
            }
        }
    });
    let t = tally.into_inner().unwrap();
    println!(
        "{:<6} {:<40} compiled {:>5}  rejected {:>4}  decoded {:>5}  identical {:>5}  (raw codes: {} bytecode, {} native, {} viper, {} asm)",
        cell.compiler.release,
        cell.label,
        t.compiled,
        t.rejected,
        t.decoded,
        t.identical,
        t.kinds[0],
        t.kinds[1],
        t.kinds[2],
        t.kinds[3]
    );
    t
}

/// Decodes, checks the header against what the compiler was asked for, round-trips.
/// The error says whether decoding itself succeeded.
fn check_file(cell: &Cell, bytes: &[u8]) -> Result<(), (bool, String)> {
    let module = Module::decode(bytes).map_err(|e| (false, format!("decode: {e}")))?;
    let h = &module.header;
    let native = module.raw_codes().iter().any(|(_, rc)| rc.kind != Kind::Bytecode);
    let fail = |m: String| Err((true, m));
    if native {
        // Without -march the compiler targets its host (x64) when it meets @native code.
        let arch = if cell.arch == Arch::NONE { Arch::X64 } else { cell.arch };
        if h.arch != arch || h.sub_version != cell.compiler.sub_version || h.arch_flags != cell.arch_flags {
            return fail(format!(
                "header says arch {} sub-version {} flags {:?}, expected {} {} {:?}",
                h.arch, h.sub_version, h.arch_flags, arch, cell.compiler.sub_version, cell.arch_flags
            ));
        }
    } else if h.arch != Arch::NONE || h.sub_version != 0 || h.arch_flags != cell.arch_flags {
        // Bytecode only: feature byte 0, except that -march-flags still sets bit 6 and writes
        // the flags varuint (seen with v1.29).
        return fail(format!("bytecode-only file with feature byte {:#04x}", h.feature_byte()));
    }
    if h.small_int_bits != cell.small_int_bits {
        return fail(format!("small-int bits {}, expected {}", h.small_int_bits, cell.small_int_bits));
    }
    if let Some(name) = &cell.source_name {
        let got = module.source_name().map(|q| q.lossy().into_owned());
        if got.as_deref() != Some(name.as_str()) {
            return fail(format!("source name {got:?}, expected {name:?}"));
        }
    }
    check_roundtrip(bytes).map_err(|m| (true, m))?;
    // The verifier passes everything the compiler writes (no false positives).
    let findings = mpy_codec::verify::verify(&module);
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().take(5).map(|f| format!("  {f}")).collect();
        return fail(format!("verify reports {} findings:\n{}", findings.len(), list.join("\n")));
    }
    // The JSON form is lossless too.
    let json = mpy_codec::json::to_json(&module);
    let back = mpy_codec::json::from_json(&json).map_err(|e| (true, format!("from_json(to_json): {e}")))?;
    match back.encode() {
        Ok(again) if again == bytes => Ok(()),
        Ok(_) => fail("from_json(to_json(x)) encodes to different bytes".into()),
        Err(e) => fail(format!("from_json(to_json(x)) does not encode: {e}")),
    }
}

fn assert_clean(results: Vec<Tally>) {
    let failures: Vec<String> = results.into_iter().flat_map(|t| t.failures).collect();
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        shown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The programs of tests/py with native code: where each must compile (`+zba` means with
/// `-march-flags=zba`), and whether only v1.29 knows the instructions it uses.
const NATIVE_PROGRAMS: &[(&str, &[&str], bool)] = &[
    (
        "native_funcs",
        &["x86", "x64", "armv6m", "armv7emsp", "xtensa", "xtensawin", "rv32imc", "rv32imc+zba"],
        false,
    ),
    ("asm_thumb", &["armv6m", "armv7emsp"], false),
    ("asm_thumb_v7", &["armv7emsp"], false),
    ("asm_xtensa", &["xtensa"], false),
    ("asm_xtensa_new", &["xtensa"], true),
    ("asm_rv32", &["rv32imc", "rv32imc+zba"], true),
    ("asm_rv32_zba", &["rv32imc+zba"], true),
];

/// Whether `compiler` must accept program `p` for `march` (`None`: no -march).
fn own_must_compile(compiler: &Compiler, march: Option<&str>, p: &Path) -> bool {
    let name = stem(p);
    match NATIVE_PROGRAMS.iter().find(|(n, _, _)| *n == name) {
        None => true,
        Some((_, arches, newest_only)) => {
            march.is_some_and(|m| arches.contains(&m)) && (!newest_only || compiler.release == "v1.29")
        }
    }
}

fn cell<'a>(
    compiler: &'a Compiler,
    label: &str,
    args: &[&str],
    arch: Arch,
    sources: Vec<PathBuf>,
) -> Cell<'a> {
    Cell {
        compiler,
        label: label.to_string(),
        args: args.iter().map(|s| s.to_string()).collect(),
        arch,
        arch_flags: None,
        small_int_bits: 31,
        source_name: None,
        sources,
        must_compile: Box::new(|_| false),
    }
}

#[test]
fn stdlib_bytecode_with_every_compiler() {
    let Some(tools) = common::tools() else { return };
    let files = common::stdlib_files(&tools.stdlib);
    assert!(
        files.len() > 500,
        "standard library at {} has only {} files",
        tools.stdlib.display(),
        files.len()
    );
    let results = tools
        .compilers
        .iter()
        .map(|c| run(&cell(c, "stdlib bytecode", &[], Arch::NONE, files.clone())))
        .collect();
    assert_clean(results);
}

#[test]
fn stdlib_emit_native_on_several_arches() {
    let Some(tools) = common::tools() else { return };
    // Every 8th file: enough to cover the native emitter's shapes in reasonable time.
    let files: Vec<PathBuf> = common::stdlib_files(&tools.stdlib).into_iter().step_by(8).collect();
    let mut results = Vec::new();
    for c in &tools.compilers {
        let mut arches =
            vec![("x64", Arch::X64), ("armv7emsp", Arch::ARMV7EMSP), ("xtensawin", Arch::XTENSAWIN)];
        if c.has_rv32() {
            arches.push(("rv32imc", Arch::RV32IMC));
        }
        for (name, arch) in arches {
            let march = format!("-march={name}");
            let label = format!("stdlib -X emit=native {march}");
            results.push(run(&cell(c, &label, &["-X", "emit=native", &march], arch, files.clone())));
        }
    }
    assert_clean(results);
}

#[test]
fn own_programs_on_every_arch() {
    let Some(tools) = common::tools() else { return };
    let sources = common::py_sources();
    assert!(sources.len() >= 10, "tests/py holds {} programs", sources.len());
    let arches = [
        ("x86", Arch::X86),
        ("x64", Arch::X64),
        ("armv6m", Arch::ARMV6M),
        ("armv7emsp", Arch::ARMV7EMSP),
        ("xtensa", Arch::XTENSA),
        ("xtensawin", Arch::XTENSAWIN),
        ("rv32imc", Arch::RV32IMC),
    ];
    let mut results = Vec::new();
    for c in &tools.compilers {
        let mut bytecode = cell(c, "tests/py bytecode", &[], Arch::NONE, sources.clone());
        bytecode.must_compile = Box::new(|p| own_must_compile(c, None, p));
        results.push(run(&bytecode));
        for (name, arch) in arches {
            if arch == Arch::RV32IMC && !c.has_rv32() {
                continue;
            }
            let march = format!("-march={name}");
            let mut native = cell(c, &format!("tests/py {march}"), &[&march], arch, sources.clone());
            native.must_compile = Box::new(move |p| own_must_compile(c, Some(name), p));
            results.push(run(&native));
        }
        if c.has_rv32() {
            let mut flagged = cell(
                c,
                "tests/py -march=rv32imc -march-flags=zba",
                &["-march=rv32imc", "-march-flags=zba"],
                Arch::RV32IMC,
                sources.clone(),
            );
            flagged.arch_flags = Some(1);
            flagged.must_compile = Box::new(|p| own_must_compile(c, Some("rv32imc+zba"), p));
            results.push(run(&flagged));
        }
    }
    // Each native program compiles somewhere, with every compiler that knows its arch.
    assert_clean(results);
}

#[test]
fn own_programs_with_compiler_options() {
    let Some(tools) = common::tools() else { return };
    let sources: Vec<PathBuf> = common::py_sources()
        .into_iter()
        .filter(|p| !NATIVE_PROGRAMS.iter().any(|(n, _, _)| *n == stem(p)))
        .collect();
    let mut results = Vec::new();
    for c in &tools.compilers {
        for level in ["-O0", "-O1", "-O2", "-O3"] {
            let mut opt = cell(c, &format!("tests/py {level}"), &[level], Arch::NONE, sources.clone());
            opt.must_compile = Box::new(|_| true);
            results.push(run(&opt));
        }
        let mut named =
            cell(c, "tests/py -s lib/renamed.py", &["-s", "lib/renamed.py"], Arch::NONE, sources.clone());
        named.source_name = Some("lib/renamed.py".into());
        named.must_compile = Box::new(|_| true);
        results.push(run(&named));
        for bits in [15u8, 63] {
            let flag = format!("-msmall-int-bits={bits}");
            let mut small = cell(c, &format!("tests/py {flag}"), &[&flag], Arch::NONE, sources.clone());
            small.small_int_bits = bits;
            small.must_compile = Box::new(|_| true);
            results.push(run(&small));
        }
    }
    assert_clean(results);
}
