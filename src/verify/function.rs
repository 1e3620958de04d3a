//! Checks of one raw code's contents: a bytecode function's prelude, operands and jumps, or a
//! native function's prelude; then stack discipline (in `stack.rs`).

use crate::bytecode::{BytecodeFunction, Flow, NativePrelude, Prelude};
use crate::error::Path;
use crate::flags::ScopeFlags;
use crate::module::Module;
use crate::raw_code::{Kind, RawCode};

use super::{Check, Findings};

pub(super) fn check(module: &Module<'_>, path: &Path, rc: &RawCode<'_>, f: &mut Findings) {
    match &rc.kind {
        Kind::Bytecode => {}
        Kind::NativePython { prelude_offset } => {
            let Ok(offset) = usize::try_from(*prelude_offset) else { return };
            if offset >= rc.fun_data.len() {
                return; // reported with the native record
            }
            match NativePrelude::decode(&rc.fun_data, offset) {
                Ok(native) => check_prelude(module, path, &native.prelude, None, f),
                Err(e) => f.add(path, Some(e.offset), Check::Decode, format!("native prelude: {e}")),
            }
            return;
        }
        Kind::Viper(_) | Kind::Asm(_) => return,
    }
    let (func, code_start) = match BytecodeFunction::decode_with_code_start(&rc.fun_data) {
        Ok(decoded) => decoded,
        Err(e) => {
            f.add(path, Some(e.offset), Check::Decode, e.to_string());
            return;
        }
    };
    let code_len = rc.fun_data.len() - code_start.min(rc.fun_data.len());
    check_prelude(module, path, &func.prelude, Some(&func), f);

    let n_qstr = module.qstrs.len() as u64;
    let n_obj = module.objects.len() as u64;
    let n_children = rc.children.len() as u64;
    let n_state = u64::from(func.prelude.signature.n_state);
    let mut boundaries = vec![false; code_len + 1];
    for ins in &func.instructions {
        if let Some(b) = boundaries.get_mut(ins.offset) {
            *b = true;
        }
    }
    for ins in &func.instructions {
        let at = Some(code_start + ins.offset);
        // Displays as its upstream name; formatted only when a finding is reported.
        let name = ins.opcode;
        if !ins.opcode.is_assigned() {
            f.add(path, at, Check::Opcode, format!("opcode {:#04x} is not assigned", ins.opcode.0));
        }
        if let Some(i) = ins.qstr_index().filter(|&i| i >= n_qstr) {
            f.add(path, at, Check::QstrIndex, format!("{name} names qstr {i}; the table has {n_qstr}"));
        }
        if let Some(i) = ins.const_index().filter(|&i| i >= n_obj) {
            f.add(path, at, Check::ConstIndex, format!("{name} loads constant {i}; the table has {n_obj}"));
        }
        if let Some(i) = ins.child_index().filter(|&i| i >= n_children) {
            f.add(
                path,
                at,
                Check::ChildIndex,
                format!("{name} makes child {i}; this raw code has {n_children}"),
            );
        }
        if let Some(i) = ins.local_index().filter(|&i| i >= n_state) {
            f.add(path, at, Check::LocalIndex, format!("{name} uses local {i}; n_state is {n_state}"));
        }
        if let Some(j) = ins.jump() {
            let ok = usize::try_from(j.target).ok().is_some_and(|t| t < code_len && boundaries[t]);
            if !ok {
                f.add(
                    path,
                    at,
                    Check::JumpTarget,
                    format!("{name} jumps to code offset {}, not the start of an instruction", j.target),
                );
            }
        }
    }
    match func.instructions.last() {
        None => f.add(path, Some(code_start), Check::FallsOffEnd, "the function has no instructions".into()),
        Some(last)
            if matches!(last.info().flow, Flow::Next | Flow::Branch | Flow::Handler | Flow::EndFinally) =>
        {
            f.add(
                path,
                Some(code_start + last.offset),
                Check::FallsOffEnd,
                format!("execution can continue past the last instruction ({})", last.opcode.upstream_name()),
            )
        }
        _ => {}
    }
    super::stack::check(module, path, &func, code_start, code_len, &boundaries, f);
}

/// Checks the prelude against itself and the module (`func` is `None` for native code).
fn check_prelude(
    module: &Module<'_>,
    path: &Path,
    prelude: &Prelude,
    func: Option<&BytecodeFunction>,
    f: &mut Findings,
) {
    let s = &prelude.signature;
    let n_qstr = module.qstrs.len() as u64;
    let mut bad = |message: String| f.add(path, Some(0), Check::Prelude, message);
    if s.n_def_pos_args > s.n_pos_args {
        bad(format!("{} positional defaults for {} positional arguments", s.n_def_pos_args, s.n_pos_args));
    }
    let flags = s.scope_flags;
    let n_args = u64::from(s.n_pos_args)
        + u64::from(s.n_kwonly_args)
        + u64::from(flags.contains(ScopeFlags::VARARGS))
        + u64::from(flags.contains(ScopeFlags::VARKEYWORDS));
    if func.is_some() && u64::from(s.n_state) < n_args.max(1) {
        bad(format!("n_state {} is too small for {n_args} argument slots", s.n_state));
    }
    if flags.bits() & !0x0f != 0 {
        bad(format!("scope flags {:#x} set bits beyond the four a prelude holds", flags.bits()));
    }
    if func.is_none() && s.n_exc_stack != 0 {
        bad(format!("a native prelude has n_exc_stack {}, expected 0", s.n_exc_stack));
    }
    for (what, index) in std::iter::once(("simple name", prelude.simple_name.value))
        .chain(prelude.arg_names.iter().map(|a| ("argument name", a.value)))
    {
        if index >= n_qstr {
            f.add(path, Some(0), Check::QstrIndex, format!("{what} is qstr {index}; the table has {n_qstr}"));
        }
    }
    if func.is_some() {
        for &cell in &prelude.cells {
            if u32::from(cell) >= s.n_state {
                f.add(
                    path,
                    Some(0),
                    Check::Prelude,
                    format!("cell local {cell} is at or past n_state {}", s.n_state),
                );
            }
        }
    }
}
