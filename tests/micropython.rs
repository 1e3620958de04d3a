//! Modules changed through the library, encoded, and then imported and run by the real MicroPython
//! (the Unix port from PyPI): the output must be the edited program's output.

mod common;

use std::borrow::Cow;

use mpy_codec::{Module, Object, Qstr};

/// An edit applied through the model.
enum Edit {
    /// Replace the text of the dynamic qstr equal to `from`.
    Qstr { from: &'static str, to: &'static str },
    /// Replace the first object equal to `from` (as shown by its repr) with `to`.
    Object { from: &'static str, to: Object<'static> },
}

struct Case {
    name: &'static str,
    source: &'static str,
    expected_before: &'static str,
    edits: Vec<Edit>,
    expected_after: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "edit_qstrs",
            source: "def greet(who):\n    return 'hello, ' + who\nprint(greet('world'))\nprint(greet.__name__)\n",
            expected_before: "hello, world\ngreet\n",
            edits: vec![
                Edit::Qstr { from: "hello, ", to: "goodbye, " },
                Edit::Qstr { from: "greet", to: "welcome" },
            ],
            expected_after: "goodbye, world\nwelcome\n",
        },
        Case {
            name: "edit_objects",
            source: "big = 1000000000000000000000\nt = (1, 'long string constant that is not a qstr ' * 1, 2.5)\nprint(big + 1)\nprint(t[2] * 2)\nprint(b'\\x00\\x01' + b'!')\n",
            expected_before: "1000000000000000000001\n5.0\nb'\\x00\\x01!'\n",
            edits: vec![
                Edit::Object {
                    from: "1000000000000000000000",
                    to: Object::Int(Cow::Borrowed(b"-99999999999999999999999")),
                },
                Edit::Object { from: "b'\\x00\\x01'", to: Object::Bytes(Cow::Borrowed(b"edited")) },
            ],
            expected_after: "-99999999999999999999998\n5.0\nb'edited!'\n",
        },
    ]
}

fn apply(module: &mut Module<'_>, edit: &Edit) {
    match edit {
        Edit::Qstr { from, to } => {
            let q = module
                .qstrs
                .iter_mut()
                .find(|q| matches!(q, Qstr::Dynamic(b) if b.as_ref() == from.as_bytes()))
                .unwrap_or_else(|| panic!("no qstr {from:?}"));
            *q = Qstr::Dynamic(Cow::Owned(to.as_bytes().to_vec()));
        }
        Edit::Object { from, to } => {
            let o = module
                .objects
                .iter_mut()
                .find(|o| o.to_string() == *from)
                .unwrap_or_else(|| panic!("no object {from}"));
            *o = to.clone();
        }
    }
}

#[test]
fn edited_modules_run_in_micropython() {
    let Some(tools) = common::tools() else { return };
    let v129 = tools.compilers.iter().find(|c| c.release == "v1.29").unwrap();
    let dir = common::scratch("micropython-edits");
    for case in cases() {
        let src = dir.join(format!("{}.py", case.name));
        std::fs::write(&src, case.source).unwrap();
        let original = common::compile(v129, &src, &["-s", &format!("{}.py", case.name)]).unwrap();
        std::fs::remove_file(&src).unwrap();
        let mpy = dir.join(format!("{}.mpy", case.name));

        std::fs::write(&mpy, &original).unwrap();
        let before = common::run_micropython(&tools.micropython, &dir, case.name).unwrap();
        pretty_assertions::assert_eq!(before, case.expected_before, "{}: unedited output", case.name);

        let mut module = Module::decode(&original).unwrap();
        for edit in &case.edits {
            apply(&mut module, edit);
        }
        let edited = module.encode().unwrap();
        assert_ne!(edited, original);
        std::fs::write(&mpy, &edited).unwrap();
        let after = common::run_micropython(&tools.micropython, &dir, case.name)
            .unwrap_or_else(|e| panic!("{}: edited module failed in MicroPython: {e}", case.name));
        pretty_assertions::assert_eq!(after, case.expected_after, "{}: edited output", case.name);
    }
}

/// Every runnable program of tests/py, compiled by v1.29, round-trips through the model and the
/// re-encoded file prints what the original printed (recorded in NAME.expected).
#[test]
fn reencoded_programs_run_in_micropython() {
    let Some(tools) = common::tools() else { return };
    let v129 = tools.compilers.iter().find(|c| c.release == "v1.29").unwrap();
    let dir = common::scratch("micropython-programs");
    let mut ran = 0;
    for src in common::py_sources() {
        let expected_file = src.with_extension("expected");
        let Ok(expected) = std::fs::read_to_string(&expected_file) else { continue };
        let name = src.file_stem().unwrap().to_string_lossy().into_owned();
        let args: &[&str] = if name == "native_funcs" { &["-march=x64"] } else { &[] };
        let bytes = common::compile(v129, &src, args).unwrap();
        let module = Module::decode(&bytes).unwrap().into_owned();
        let encoded = module.encode().unwrap();
        std::fs::write(dir.join(format!("{name}.mpy")), &encoded).unwrap();
        let out = common::run_micropython(&tools.micropython, &dir, &name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        pretty_assertions::assert_eq!(out, expected, "{name}");
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} programs have .expected output");
}

/// `Header::check_target` predicts what the real MicroPython (v1.28, x64) does with files from
/// every compiler and several arches: import, or refuse with the same ValueError.
#[test]
fn target_check_agrees_with_the_real_loader() {
    let Some(tools) = common::tools() else { return };
    let dir = common::scratch("micropython-target");
    let src = dir.join("src.py");
    std::fs::write(&src, "@micropython.native\ndef f(x):\n    return x + 1\nprint(f(41))\n").unwrap();
    let plain = dir.join("plain.py");
    std::fs::write(&plain, "print(42)\n").unwrap();
    let target: mpy_codec::header::Target = "1.28:x64".parse().unwrap();
    let mut checked = 0;
    for c in &tools.compilers {
        let mut builds = vec![("bytecode".to_string(), plain.clone(), vec![])];
        for arch in ["x64", "x86", "armv7emsp", "xtensawin"] {
            builds.push((arch.to_string(), src.clone(), vec![format!("-march={arch}")]));
        }
        builds.push(("small-int-63".into(), plain.clone(), vec!["-msmall-int-bits=63".into()]));
        if c.has_rv32() {
            builds.push(("bytecode-archflags".into(), plain.clone(), vec!["-march-flags=zba".into()]));
        }
        for (label, source, args) in builds {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let bytes = common::compile(c, &source, &args).unwrap();
            let name = format!("m_{}_{}", c.release.replace('.', "_"), label.replace('-', "_"));
            std::fs::write(dir.join(format!("{name}.mpy")), &bytes).unwrap();
            let predicted = Module::decode(&bytes).unwrap().header.check_target(&target);
            let actual = common::run_micropython(&tools.micropython, &dir, &name);
            match (&predicted, &actual) {
                (Ok(_), Ok(out)) => assert_eq!(out, "42\n", "{name}"),
                (Err(refusal), Err(failure)) => assert!(
                    failure.contains(&format!("ValueError: {}", refusal.loader_error)),
                    "{name}: predicted {refusal:?}, MicroPython said {failure}"
                ),
                _ => panic!("{name}: predicted {predicted:?}, MicroPython gave {actual:?}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 25);
}

/// The JSON form edited as text, the way a script in any language would, assembles into a module
/// that runs with the edit.
#[test]
fn hand_edited_json_runs_in_micropython() {
    let Some(tools) = common::tools() else { return };
    let v129 = tools.compilers.iter().find(|c| c.release == "v1.29").unwrap();
    let dir = common::scratch("micropython-json");
    let src = dir.join("json_edit.py");
    std::fs::write(&src, "x = 12345678901234567890\nprint('greeting', x * 2)\n").unwrap();
    let bytes = common::compile(v129, &src, &["-s", "json_edit.py"]).unwrap();
    std::fs::remove_file(&src).unwrap();
    let json = mpy_codec::json::to_json(&Module::decode(&bytes).unwrap());
    // Edit the text: a qstr and the big-int constant.
    assert!(json.contains("\"text\": \"greeting\"") && json.contains("\"value\": \"12345678901234567890\""));
    let edited = json
        .replace("\"text\": \"greeting\"", "\"text\": \"edited by hand\"")
        .replace("\"value\": \"12345678901234567890\"", "\"value\": \"-5\"");
    let module = mpy_codec::json::from_json(&edited).unwrap();
    std::fs::write(dir.join("json_edit.mpy"), module.encode().unwrap()).unwrap();
    let out = common::run_micropython(&tools.micropython, &dir, "json_edit").unwrap();
    pretty_assertions::assert_eq!(out, "edited by hand -10\n");
}
