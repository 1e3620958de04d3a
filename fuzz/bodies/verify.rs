//! Fuzz body `verify`: any bytes, decoded leniently and verified.
//!
//! The verifier never panics or hangs, and is deterministic; its one-pass proof of clean functions
//! changes nothing (the findings equal those of the exhaustive passes alone, with a reused
//! `Verifier` too). When it finds nothing, this body checks
//! independently, from the bytecode model, a part of what "nothing found" promises:
//! * every static qstr id is one of the 165;
//! * every bytecode `fun_data` decodes; its opcodes are assigned; its prelude is consistent
//!   (`n_def_pos_args <= n_pos_args`, cells below `n_state`); every qstr, constant and child index
//!   is in range; every jump lands on the start of an instruction;
//! * every native prelude decodes and its names are in range;
//! * every relocation stream stays inside its buffers (`reloc::check_bounds`).
//!
//! Shared by `fuzz/fuzz_targets/verify.rs` and `tests/fuzz_replay.rs`.

use mpy_codec::bytecode::{BytecodeFunction, NativePrelude, Prelude};
use mpy_codec::reloc::{self, RelocSpace};
use mpy_codec::{Kind, Module, Qstr, verify};

thread_local! {
    /// One verifier for every input, as a build that checks many files would use it.
    static VERIFIER: std::cell::RefCell<verify::Verifier> = std::cell::RefCell::new(verify::Verifier::new());
}

pub fn run(data: &[u8]) {
    let Ok(module) = Module::decode(data) else { return };
    let findings = verify::verify(&module);
    for finding in &findings {
        let _ = finding.to_string();
    }
    assert_eq!(verify::verify(&module), findings, "the verifier is not deterministic");
    assert_eq!(
        verify::Verifier::exhaustive().verify(&module),
        findings,
        "the one-pass proof and the exhaustive passes disagree"
    );
    VERIFIER.with_borrow_mut(|v| assert_eq!(v.verify(&module), findings, "a reused Verifier disagrees"));
    if findings.is_empty() {
        check_clean(&module);
    }
}

fn check_names(prelude: &Prelude, n_qstr: u64, path: &str) {
    let names = std::iter::once(&prelude.simple_name).chain(&prelude.arg_names);
    for name in names {
        assert!(
            name.value < n_qstr,
            "{path}: name qstr {} of {n_qstr}, yet verify found nothing",
            name.value
        );
    }
}

fn check_clean(module: &Module<'_>) {
    let n_qstr = module.qstrs.len() as u64;
    let n_obj = module.objects.len() as u64;
    for q in &module.qstrs {
        if let Qstr::Static(id) = q {
            assert!((1..=165).contains(id), "static qstr {id}, yet verify found nothing");
        }
    }
    for (path, rc) in module.raw_codes() {
        let path = path.to_string();
        match &rc.kind {
            Kind::Bytecode => {
                let f = BytecodeFunction::decode(&rc.fun_data)
                    .unwrap_or_else(|e| panic!("{path}: {e}, yet verify found nothing"));
                let s = &f.prelude.signature;
                assert!(s.n_def_pos_args <= s.n_pos_args, "{path}: more defaults than positional args");
                for &cell in &f.prelude.cells {
                    assert!(u32::from(cell) < s.n_state, "{path}: cell {cell} at or past n_state");
                }
                check_names(&f.prelude, n_qstr, &path);
                for ins in &f.instructions {
                    let at = ins.offset;
                    assert!(
                        ins.opcode.is_assigned(),
                        "{path} @{at}: unassigned opcode {:#04x}",
                        ins.opcode.0
                    );
                    assert!(ins.qstr_index().is_none_or(|i| i < n_qstr), "{path} @{at}: qstr index");
                    assert!(ins.const_index().is_none_or(|i| i < n_obj), "{path} @{at}: constant index");
                    let n_children = rc.children.len() as u64;
                    assert!(ins.child_index().is_none_or(|i| i < n_children), "{path} @{at}: child index");
                    if let Some(j) = ins.jump() {
                        let lands = usize::try_from(j.target).ok().and_then(|t| f.index_of_offset(t));
                        assert!(lands.is_some(), "{path} @{at}: jump to {} is not an instruction", j.target);
                    }
                }
            }
            Kind::NativePython { prelude_offset } => {
                let offset = usize::try_from(*prelude_offset).expect("prelude offset fits usize");
                let p = NativePrelude::decode(&rc.fun_data, offset)
                    .unwrap_or_else(|e| panic!("{path}: native prelude {e}, yet verify found nothing"));
                check_names(&p.prelude, n_qstr, &path);
            }
            Kind::Viper(_) | Kind::Asm(_) => {}
        }
        if let Some(ops) = rc.kind.relocs() {
            let word_size = module.header.arch.word_size().expect("relocations with a known word size");
            let rodata_len = match &rc.kind {
                Kind::Viper(v) => v.rodata.as_ref().map_or(0, |r| r.len()),
                _ => 0,
            };
            let space = RelocSpace { word_size, text_len: rc.fun_data.len(), rodata_len };
            assert!(reloc::check_bounds(ops, space).is_ok(), "{path}: relocation out of bounds");
        }
    }
}
