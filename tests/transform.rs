//! `mpy_codec::transform`: strip and merge, checked by the verifier and by running the results in
//! the real MicroPython (the Unix port from PyPI) against the programs' recorded output.

mod common;

use std::borrow::Cow;
use std::path::PathBuf;
use std::process::Command;

use mpy_codec::bytecode::{
    BytecodeFunction, LineEntry, LineForm, LineTable, NativePrelude, Prelude, Signature, UintArg,
};
use mpy_codec::transform::{MergeError, StripError, StripOptions, merge, strip};
use mpy_codec::{Arch, Header, Kind, Module, Qstr, RawCode, ScopeFlags};

/// A program of tests/py with its recorded output.
struct Program {
    name: String,
    source: PathBuf,
    expected: String,
}

/// The programs of tests/py that have a `.expected` file.
fn runnable_programs() -> Vec<Program> {
    common::py_sources()
        .into_iter()
        .filter_map(|source| {
            let expected = std::fs::read_to_string(source.with_extension("expected")).ok()?;
            let name = source.file_stem()?.to_string_lossy().into_owned();
            Some(Program { name, source, expected })
        })
        .collect()
}

fn program(name: &str) -> Program {
    runnable_programs().into_iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no program {name}"))
}

/// mpy-cross arguments for a program: native code needs an arch.
fn args_for(name: &str) -> &'static [&'static str] {
    if name == "native_funcs" { &["-march=x64"] } else { &[] }
}

fn v129(tools: &common::Tools) -> &common::Compiler {
    tools.compilers.iter().find(|c| c.release == "v1.29").unwrap()
}

fn compile_program(compiler: &common::Compiler, p: &Program) -> Vec<u8> {
    common::compile(compiler, &p.source, args_for(&p.name)).unwrap_or_else(|e| panic!("{}: {e}", p.name))
}

fn assert_verifies(module: &Module<'_>, what: &str) {
    let findings = mpy_codec::verify::verify(module);
    assert!(
        findings.is_empty(),
        "{what}: {} findings:\n{}",
        findings.len(),
        findings.iter().map(|f| format!("  {f}\n")).collect::<String>()
    );
}

/// Checks what stripping must and must not change: no line tables left; every bytecode function
/// keeps its prelude (names, signature, cells) and instructions; machine code is untouched; qstr
/// and constant tables are the same. Returns the number of line-info bytes removed.
fn check_stripped(original: &Module<'_>, stripped: &Module<'_>, what: &str) -> usize {
    assert_eq!(original.qstrs, stripped.qstrs, "{what}: qstrs");
    assert_eq!(original.objects, stripped.objects, "{what}: objects");
    assert_eq!(original.header, stripped.header, "{what}: header");
    let (a, b) = (original.raw_codes(), stripped.raw_codes());
    assert_eq!(a.len(), b.len(), "{what}: raw codes");
    let mut removed = 0;
    for ((path, before), (_, after)) in a.iter().zip(&b) {
        assert_eq!(before.kind, after.kind, "{what}: {path}: kind");
        assert_eq!(before.children.len(), after.children.len(), "{what}: {path}: children");
        if before.kind != Kind::Bytecode {
            assert_eq!(before.fun_data, after.fun_data, "{what}: {path}: machine code changed");
            continue;
        }
        let f = BytecodeFunction::decode(&before.fun_data).unwrap();
        let g = BytecodeFunction::decode(&after.fun_data).unwrap();
        assert!(g.line_table.entries.is_empty(), "{what}: {path}: line table left");
        assert_eq!(f.prelude, g.prelude, "{what}: {path}: prelude");
        assert_eq!(f.instructions, g.instructions, "{what}: {path}: instructions");
        let code = |bytes: &[u8], func: &BytecodeFunction| bytes[func.code_start().unwrap()..].to_vec();
        assert_eq!(code(&before.fun_data, &f), code(&after.fun_data, &g), "{what}: {path}: code bytes");
        removed += before.fun_data.len() - after.fun_data.len();
    }
    removed
}

/// Every runnable program compiled by v1.29, stripped: it verifies, keeps everything but its line
/// tables, and prints in MicroPython exactly what the original prints.
#[test]
fn stripped_programs_run_in_micropython() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("transform-strip");
    let (mut ran, mut before, mut after) = (0, 0, 0);
    for p in runnable_programs() {
        let bytes = compile_program(v129(&tools), &p);
        let module = Module::decode(&bytes).unwrap();
        let stripped = strip(&module, &StripOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert_verifies(&stripped, &p.name);
        let encoded = stripped.encode().unwrap();
        let removed = check_stripped(&module, &stripped, &p.name);
        assert!(encoded.len() < bytes.len(), "{}: nothing saved", p.name);
        assert!(removed <= bytes.len() - encoded.len(), "{}: prelude sizes must not grow", p.name);
        // Stripping again changes nothing.
        let again = strip(&Module::decode(&encoded).unwrap(), &StripOptions::default()).unwrap();
        assert_eq!(again.encode().unwrap(), encoded, "{}: strip is not idempotent", p.name);

        std::fs::write(dir.join(format!("{}.mpy", p.name)), &encoded).unwrap();
        let out = common::run_micropython(&tools.micropython, &dir, &p.name)
            .unwrap_or_else(|e| panic!("{}: stripped module failed: {e}", p.name));
        pretty_assertions::assert_eq!(out, p.expected, "{}", p.name);
        ran += 1;
        before += bytes.len();
        after += encoded.len();
    }
    assert!(ran >= 15, "only {ran} runnable programs");
    eprintln!(
        "stripped and ran {ran} programs: {before} -> {after} bytes (-{}, {:.1}%)",
        before - after,
        100.0 * (before - after) as f64 / before as f64
    );
}

/// Every program of tests/py from every compiler (bytecode, and x64 for native code), and every
/// corpus file: stripping keeps a verifying file verifying and changes only the line tables.
#[test]
fn stripped_files_from_every_compiler_verify() {
    let Some(tools) = common::tools() else { return };
    let mut checked = 0;
    let (mut before, mut after) = (0usize, 0usize);
    let mut refused = Vec::new();
    let mut check = |bytes: &[u8], what: &str| {
        let module = Module::decode(bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        let stripped = match strip(&module, &StripOptions::default()) {
            Ok(stripped) => stripped,
            // A function that does not decode cannot be stripped; the verifier rejects it too.
            Err(e @ StripError::Decode { .. }) if !mpy_codec::verify::verify(&module).is_empty() => {
                refused.push(format!("{what}: {e}"));
                return;
            }
            Err(e) => panic!("{what}: {e}"),
        };
        if mpy_codec::verify::verify(&module).is_empty() {
            assert_verifies(&stripped, what);
        }
        check_stripped(&module, &stripped, what);
        let encoded = stripped.encode().unwrap();
        assert!(encoded.len() <= bytes.len(), "{what}: grew");
        before += bytes.len();
        after += encoded.len();
        checked += 1;
    };
    for compiler in &tools.compilers {
        for src in common::py_sources() {
            let name = src.file_stem().unwrap().to_string_lossy().into_owned();
            for args in [&[][..], &["-march=x64"][..], &["-O3"][..]] {
                // Sources mpy-cross rejects for these options (inline assembler for another arch).
                let Ok(bytes) = common::compile(compiler, &src, args) else { continue };
                check(&bytes, &format!("{} {name} {args:?}", compiler.release));
            }
        }
    }
    for (name, bytes) in common::corpus_files() {
        check(&bytes, &name);
    }
    assert!(checked >= 200, "only {checked} files");
    eprintln!("stripped {checked} files: {before} -> {after} bytes (-{})", before - after);
    // Only the hand-made file whose child is an empty (undecodable) bytecode function.
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(refused[0].contains("viper_relocs.mpy: raw_code.children[0]: cannot decode"), "{refused:?}");
}

/// Runnable programs compiled to bytecode by the older compilers (v1.19 … v1.23): the stripped file
/// prints in MicroPython what the unstripped one prints.
#[test]
fn stripped_programs_from_older_compilers_run_alike() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("transform-strip-older");
    let mut ran = 0;
    for compiler in tools.compilers.iter().filter(|c| c.release != "v1.29") {
        let tag = compiler.release.replace('.', "_");
        for p in runnable_programs().iter().filter(|p| p.name != "native_funcs") {
            let bytes = common::compile(compiler, &p.source, &[]).unwrap();
            let module = Module::decode(&bytes).unwrap();
            let stripped = strip(&module, &StripOptions::default()).unwrap().encode().unwrap();
            assert!(stripped.len() < bytes.len(), "{tag} {}: nothing saved", p.name);
            // Same module name both times (imports.py prints `__name__`).
            let name = format!("{}_{tag}", p.name);
            let run = |sub: &str, bytes: &[u8]| {
                let dir = dir.join(sub);
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join(format!("{name}.mpy")), bytes).unwrap();
                common::run_micropython(&tools.micropython, &dir, &name)
            };
            let original = run("original", &bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let after = run("stripped", &stripped).unwrap_or_else(|e| panic!("{name} stripped: {e}"));
            assert_eq!(after, original, "{tag} {}", p.name);
            ran += 1;
        }
    }
    assert!(ran >= 60, "only {ran} runs");
}

/// `--source-name`: qstr 0 is replaced, tracebacks name the new file, and stripped line tables
/// make every line 1. A source name that the code also uses as a name (`-s print`) moves to the
/// end of the table instead of being lost.
#[test]
fn source_name_replaced() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("transform-source-name");
    let src = dir.join("prog_src.py");
    std::fs::write(
        &src,
        "import sys\n\ndef f(x):\n    return 10 // x\n\ntry:\n    f(0)\nexcept ZeroDivisionError as e:\n    \
         sys.print_exception(e)\nprint('done')\n",
    )
    .unwrap();
    let bytes = common::compile(v129(&tools), &src, &["-s", "prog.py"]).unwrap();
    std::fs::remove_file(&src).unwrap();
    let module = Module::decode(&bytes).unwrap();
    let run = |module: &Module<'_>, name: &str| {
        std::fs::write(dir.join(format!("{name}.mpy")), module.encode().unwrap()).unwrap();
        common::run_micropython(&tools.micropython, &dir, name).unwrap()
    };
    let traceback = |file: &str, inner: u32, outer: u32| {
        format!(
            "Traceback (most recent call last):\n  File \"{file}\", line {outer}, in <module>\n  File \
             \"{file}\", line {inner}, in f\nZeroDivisionError: divide by zero\ndone\n"
        )
    };
    assert_eq!(run(&module, "prog_orig"), traceback("prog.py", 4, 7));

    let options = StripOptions { keep_lines: true, source_name: Some(b"renamed.py".to_vec()) };
    let renamed = strip(&module, &options).unwrap();
    assert_verifies(&renamed, "renamed");
    assert_eq!(renamed.qstrs[0], Qstr::Dynamic(Cow::Borrowed(b"renamed.py")));
    assert_eq!(renamed.qstrs.len(), module.qstrs.len(), "qstr 0 unused by code: replaced in place");
    assert_eq!(run(&renamed, "prog_renamed"), traceback("renamed.py", 4, 7));

    let options = StripOptions { keep_lines: false, source_name: Some(b"x.py".to_vec()) };
    let both = strip(&module, &options).unwrap();
    assert_verifies(&both, "renamed and stripped");
    assert_eq!(run(&both, "prog_both"), traceback("x.py", 1, 1));

    // A source name equal to a name the code uses: `-s print` makes qstr 0 `print`, and
    // `LOAD_NAME print` refers to it.
    let src = dir.join("uses_print.py");
    std::fs::write(&src, "print('still printing')\n").unwrap();
    let bytes = common::compile(v129(&tools), &src, &["-s", "print"]).unwrap();
    std::fs::remove_file(&src).unwrap();
    let module = Module::decode(&bytes).unwrap();
    assert_eq!(module.qstrs[0].bytes(), Some(&b"print"[..]));
    let renamed =
        strip(&module, &StripOptions { source_name: Some(b"p.py".to_vec()), ..Default::default() }).unwrap();
    assert_verifies(&renamed, "renamed print");
    assert_eq!(renamed.qstrs.len(), module.qstrs.len() + 1);
    assert_eq!(renamed.qstrs.last(), Some(&module.qstrs[0]));
    assert_eq!(run(&renamed, "uses_print"), "still printing\n");
}

/// Machine code may use qstr 0 through an index baked into it: renaming is refused; stripping line
/// tables alone is fine.
#[test]
fn source_name_refused_with_machine_code() {
    let Some(tools) = common::tools() else { return };
    let bytes = compile_program(v129(&tools), &program("native_funcs"));
    let module = Module::decode(&bytes).unwrap();
    let options = StripOptions { keep_lines: false, source_name: Some(b"n.py".to_vec()) };
    assert_eq!(strip(&module, &options), Err(StripError::SourceNameWithMachineCode));
    assert!(strip(&module, &StripOptions::default()).is_ok());
}

/// A hand-made `@native` prelude with line info (mpy-cross writes none) loses it; the machine code
/// and prelude offset stay.
#[test]
fn native_prelude_line_info_is_stripped() {
    let prelude = Prelude {
        signature: Signature {
            n_state: 3,
            n_exc_stack: 0,
            scope_flags: ScopeFlags::empty(),
            n_pos_args: 1,
            n_kwonly_args: 0,
            n_def_pos_args: 0,
        },
        signature_pad: 0,
        size_pad: 0,
        simple_name: UintArg::new(1),
        arg_names: vec![UintArg::new(2)],
        cells: vec![],
    };
    let with_lines = NativePrelude {
        prelude: prelude.clone(),
        line_table: LineTable { entries: vec![LineEntry { bytes: 2, lines: 3, form: LineForm::Short }] },
        trailing: vec![],
    };
    let machine_code = [0x48, 0x89, 0xf8, 0xc3];
    let mut fun_data = machine_code.to_vec();
    fun_data.extend(with_lines.encode().unwrap());
    let module = Module {
        header: Header { sub_version: 3, arch: Arch::X64, small_int_bits: 31, ..Header::default() },
        qstrs: vec![Qstr::new(b"n.py"), Qstr::new(b"f"), Qstr::new(b"x")],
        objects: vec![],
        raw_code: RawCode {
            kind: Kind::NativePython { prelude_offset: machine_code.len() as u64 },
            fun_data: Cow::Owned(fun_data.clone()),
            children: vec![],
        },
    };
    let stripped = strip(&module, &StripOptions::default()).unwrap();
    let rc = &stripped.raw_code;
    assert_eq!(rc.kind, module.raw_code.kind);
    assert_eq!(&rc.fun_data[..machine_code.len()], machine_code);
    assert_eq!(rc.fun_data.len(), fun_data.len() - 1);
    let decoded = NativePrelude::decode(&rc.fun_data, machine_code.len()).unwrap();
    assert!(decoded.line_table.entries.is_empty());
    assert_eq!(decoded.prelude, prelude);
    // --keep-lines leaves it.
    let kept = strip(&module, &StripOptions { keep_lines: true, ..Default::default() }).unwrap();
    assert_eq!(kept.raw_code.fun_data, fun_data);
}

/// One input of a merge: a compiled module and what it prints on its own.
struct Input {
    name: String,
    bytes: Vec<u8>,
    expected: String,
}

/// Programs of tests/py compiled by v1.29.
fn inputs(tools: &common::Tools, names: &[&str]) -> Vec<Input> {
    names
        .iter()
        .map(|n| {
            let p = program(n);
            Input { name: p.name.clone(), bytes: compile_program(v129(tools), &p), expected: p.expected }
        })
        .collect()
}

/// Merges `inputs`, checks the result verifies and prints in MicroPython the concatenation of the
/// inputs' outputs, and returns the decoded inputs and the merged module.
fn merge_and_run(
    tools: &common::Tools,
    inputs: &[Input],
    merged_name: &str,
) -> (Vec<Module<'static>>, Module<'static>) {
    let dir = common::scratch("transform-merge");
    let modules: Vec<Module<'static>> =
        inputs.iter().map(|i| Module::decode(&i.bytes).unwrap().into_owned()).collect();
    let merged = merge(&modules).unwrap_or_else(|e| {
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        panic!("{merged_name}: {}", e.display_with(&names))
    });
    assert_verifies(&merged, merged_name);
    let bytes = merged.encode().unwrap();
    assert_eq!(Module::decode(&bytes).unwrap(), merged, "{merged_name}: does not decode to itself");
    std::fs::write(dir.join(format!("{merged_name}.mpy")), &bytes).unwrap();
    let out = common::run_micropython(&tools.micropython, &dir, merged_name)
        .unwrap_or_else(|e| panic!("{merged_name}: merged module failed: {e}"));
    let expected: String = inputs.iter().map(|i| i.expected.as_str()).collect();
    pretty_assertions::assert_eq!(out, expected, "{merged_name}");
    (modules, merged)
}

/// Bytecode programs and one with `@native`/`@viper` code (not given first): the native file's
/// tables come first, at their own indices, and its raw code is copied verbatim; the programs
/// still run in the order given.
#[test]
fn merged_programs_with_native_code_run_in_micropython() {
    let Some(tools) = common::tools() else { return };
    let order = ["basics", "native_funcs", "closures", "calls", "comprehensions"];
    let (inputs, merged) = merge_and_run(&tools, &inputs(&tools, &order), "merged_native");
    let native = &inputs[1];
    assert_eq!(merged.header, native.header);
    assert_eq!(merged.qstrs[..native.qstrs.len()], native.qstrs[..], "native qstrs first");
    assert_eq!(merged.objects[..native.objects.len()], native.objects[..], "native objects first");
    assert_eq!(merged.raw_code.children.len(), order.len());
    assert_eq!(merged.raw_code.children[1], native.raw_code, "native raw code verbatim");
    for (k, input) in inputs.iter().enumerate() {
        assert_eq!(merged.raw_code.children[k].count(), input.raw_code.count(), "{}: raw codes", order[k]);
    }
    // Shared entries are not repeated.
    assert!(merged.qstrs.len() < inputs.iter().map(|m| m.qstrs.len()).sum::<usize>());
}

/// A program whose `if` body is just short enough for a 1-byte jump, made of loads of names
/// nothing else uses: merged after a file with more than 127 qstrs, each load's qstr operand grows
/// to two bytes and the jump must become a 2-byte one.
fn jump_at_the_edge() -> String {
    let names: Vec<String> = (0..16).map(|k| format!("edge_{k}")).collect();
    let mut src = String::new();
    for (k, n) in names.iter().enumerate() {
        src.push_str(&format!("{n} = {k}\n"));
    }
    src.push_str("def f(n):\n    t = 0\n    for i in range(n):\n        if i % 2:\n            t += ");
    src.push_str(&names.join(" + "));
    src.push_str("\n    return t\nprint(f(5))\n");
    src
}

/// Bytecode only, with a file of many names first: the others' qstr indices pass 127, operands
/// grow, and jumps are laid out again.
#[test]
fn merged_bytecode_programs_run_in_micropython() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("transform-merge-edge");
    let src = dir.join("edge.py");
    std::fs::write(&src, jump_at_the_edge()).unwrap();
    let edge_bytes = common::compile(v129(&tools), &src, &[]).unwrap();
    std::fs::remove_file(&src).unwrap();
    std::fs::write(dir.join("edge.mpy"), &edge_bytes).unwrap();
    let edge_expected = common::run_micropython(&tools.micropython, &dir, "edge").unwrap();
    assert_eq!(edge_expected, format!("{}\n", 2 * (0..16).sum::<u32>()));

    let mut all = inputs(&tools, &["many_names", "long_jumps", "generators"]);
    all.insert(1, Input { name: "edge".into(), bytes: edge_bytes, expected: edge_expected });
    all.extend(inputs(&tools, &["exceptions", "context_managers"]));
    let (modules, merged) = merge_and_run(&tools, &all, "merged_bytecode");
    assert_eq!(merged.header, Header { small_int_bits: 31, ..Header::default() });
    assert!(modules[0].qstrs.len() > 128);
    assert_eq!(merged.raw_code.children[0], modules[0].raw_code, "first file's indices do not change");

    // The `if` in edge's f: a 1-byte jump before, a 2-byte one after.
    let jump_widths = |rc: &RawCode<'_>| -> Vec<_> {
        let f = BytecodeFunction::decode(&rc.children[0].fun_data).unwrap();
        f.instructions.iter().filter_map(|i| i.jump()).map(|j| j.width).collect()
    };
    let (before, after) = (jump_widths(&modules[1].raw_code), jump_widths(&merged.raw_code.children[1]));
    assert_eq!(before.len(), after.len());
    assert!(before.iter().zip(&after).any(|(a, b)| a < b), "no jump grew: {before:?} -> {after:?}");
}

/// Upstream's `mpy-tool.py --merge` of the same bytecode files prints the same.
#[test]
fn merge_agrees_with_mpy_tool() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("transform-merge-upstream");
    let order = ["basics", "closures", "calls"];
    let inputs = inputs(&tools, &order);
    merge_and_run(&tools, &inputs, "merged_ours");
    let files: Vec<PathBuf> = inputs
        .iter()
        .map(|i| {
            let path = dir.join(format!("in_{}.mpy", i.name));
            std::fs::write(&path, &i.bytes).unwrap();
            path
        })
        .collect();
    let out = dir.join("merged_upstream.mpy");
    let status = Command::new(&tools.python)
        .args(["-m", "mpy_file_info", "--merge", "-o"])
        .arg(&out)
        .args(&files)
        .status()
        .unwrap();
    assert!(status.success());
    let theirs = common::run_micropython(&tools.micropython, &dir, "merged_upstream").unwrap();
    let expected: String = inputs.iter().map(|i| i.expected.as_str()).collect();
    assert_eq!(theirs, expected);
}

/// What cannot be merged, with which inputs are at fault.
#[test]
fn merge_errors() {
    let Some(tools) = common::tools() else { return };
    let native =
        Module::decode(&compile_program(v129(&tools), &program("native_funcs"))).unwrap().into_owned();
    let basics = program("basics");
    let compile = |release: &str, args: &[&str]| {
        let c = tools.compilers.iter().find(|c| c.release == release).unwrap();
        Module::decode(&common::compile(c, &basics.source, args).unwrap()).unwrap().into_owned()
    };
    let plain = compile("v1.29", &[]);

    assert_eq!(merge(&[]), Err(MergeError::NoInputs));
    let e = merge(&[plain.clone(), native.clone(), native.clone()]).unwrap_err();
    assert_eq!(e, MergeError::SeveralNative { first: 1, second: 2 });
    assert!(e.display_with(&["a.mpy", "n1.mpy", "n2.mpy"]).to_string().starts_with("n1.mpy and n2.mpy both"));

    // Two native files from compilers with different native ABIs: two native files.
    let old_native = {
        let c = tools.compilers.iter().find(|c| c.release == "v1.22").unwrap();
        let bytes = common::compile(c, &program("native_funcs").source, &["-march=x64"]).unwrap();
        Module::decode(&bytes).unwrap().into_owned()
    };
    assert_eq!(old_native.header.sub_version, 2);
    assert!(matches!(merge(&[old_native, native.clone()]), Err(MergeError::SeveralNative { .. })));
    // mpy-cross declares an arch only when it emits machine code; a file may still declare one
    // (it then loads only there). A bytecode file declaring x64 6.2 does not merge with 6.3 code.
    let mut old_x64 = plain.clone();
    old_x64.header.arch = Arch::X64;
    old_x64.header.sub_version = 2;
    assert_eq!(
        merge(&[old_x64.clone(), native.clone()]),
        Err(MergeError::SubVersionMismatch {
            first: 1,
            first_sub_version: 3,
            second: 0,
            second_sub_version: 2
        })
    );
    let e = merge(&[old_x64.clone(), native.clone()]).unwrap_err();
    assert_eq!(
        e.display_with(&["old.mpy", "native.mpy"]).to_string(),
        "native.mpy declares native sub-version 6.3 but old.mpy declares 6.2: the merged file can declare only one"
    );
    // Two bytecode-only files that declare different sub-versions.
    let mut new_x64 = plain.clone();
    new_x64.header.arch = Arch::X64;
    new_x64.header.sub_version = 3;
    assert!(matches!(merge(&[new_x64.clone(), old_x64]), Err(MergeError::SubVersionMismatch { .. })));
    // Different arches.
    let mut x86 = plain.clone();
    x86.header.arch = Arch::X86;
    x86.header.sub_version = 3;
    assert_eq!(
        merge(&[native.clone(), x86]),
        Err(MergeError::ArchMismatch { first: 0, first_arch: Arch::X64, second: 1, second_arch: Arch::X86 })
    );
    // Same arch and sub-version: fine, and the header is the native file's.
    let merged = merge(&[new_x64, native.clone(), plain.clone()]).unwrap();
    assert_eq!(merged.header, native.header);
    assert_verifies(&merged, "x64 + native + plain");

    // A bytecode file naming a qstr its table lacks.
    let mut broken = plain.clone();
    broken.qstrs.truncate(3);
    let e = merge(&[native.clone(), broken]).unwrap_err();
    assert!(matches!(e, MergeError::IndexOutOfRange { file: 1, what: "qstr", .. }), "{e:?}");
    assert!(e.to_string().starts_with("modules[1]: raw_code"), "{e}");

    // Small-int bits: the largest any input needs. One input: returned as it is.
    let big = compile("v1.29", &["-msmall-int-bits=63"]);
    assert_eq!(merge(&[plain.clone(), big.clone()]).unwrap().header.small_int_bits, 63);
    assert_eq!(merge(std::slice::from_ref(&big)).unwrap(), big);
}

/// Without the upstream tools: the committed corpus strips and merges into files that verify.
#[test]
fn corpus_strips_and_merges() {
    let root = common::repo_root().join("corpus/v1.29");
    let read = |p: &str| std::fs::read(root.join(p)).unwrap();
    let files: Vec<Vec<u8>> = [
        "bytecode/classes.mpy",
        "bytecode/generators.mpy",
        "x64/native_funcs.mpy",
        "bytecode/many_names.mpy",
        "bytecode/long_jumps.mpy",
        "bytecode-smallint63/constants.mpy",
    ]
    .iter()
    .map(|p| read(p))
    .collect();
    let modules: Vec<Module<'_>> = files.iter().map(|b| Module::decode(b).unwrap()).collect();
    for (k, m) in modules.iter().enumerate() {
        let stripped = strip(m, &StripOptions::default()).unwrap();
        assert_verifies(&stripped, &format!("corpus {k}"));
        check_stripped(m, &stripped, &format!("corpus {k}"));
    }
    let merged = merge(&modules).unwrap();
    assert_verifies(&merged, "merged corpus");
    assert_eq!(merged.header.arch, Arch::X64);
    assert_eq!(merged.header.small_int_bits, 63);
    assert_eq!(merged.qstrs[..modules[2].qstrs.len()], modules[2].qstrs[..]);
    assert_eq!(merged.raw_code.children.len(), modules.len());
    assert_eq!(merged.raw_code.children[2], modules[2].raw_code);
    // Stripping the merged file works too.
    let stripped = strip(&merged, &StripOptions::default()).unwrap();
    assert_verifies(&stripped, "merged and stripped corpus");
    assert!(stripped.encode().unwrap().len() < merged.encode().unwrap().len());
}
