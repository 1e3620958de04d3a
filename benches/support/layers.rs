//! The work above the container, per module: decoding every bytecode function into instructions,
//! verifying, and disassembling to a text sink (`mpy dis`: what `mpy-tool.py -d` prints, in our
//! format).

use std::fmt::{self, Write};

use mpy_codec::bytecode::{BytecodeFunction, BytecodeView};
use mpy_codec::verify::Verifier;
use mpy_codec::{Kind, Module};

/// A `fmt::Write` that drops the text (the formatting is still done).
pub struct Sink;

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        std::hint::black_box(s);
        Ok(())
    }
}

/// Decodes the `fun_data` of every bytecode raw code; returns the number of instructions.
pub fn decode_functions(module: &Module<'_>) -> usize {
    let mut n = 0;
    let mut stack = vec![&module.raw_code];
    while let Some(rc) = stack.pop() {
        if matches!(rc.kind, Kind::Bytecode) {
            if let Ok(f) = BytecodeFunction::decode(&rc.fun_data) {
                n += f.instructions.len();
            }
        }
        stack.extend(&rc.children);
    }
    n
}

/// Decodes every instruction of every bytecode raw code in place ([`BytecodeView`]: the prelude
/// decoded, instructions decoded one at a time from the borrowed bytes, nothing collected); returns
/// the number of instructions.
pub fn decode_instructions(module: &Module<'_>) -> usize {
    let mut n = 0;
    let mut stack = vec![&module.raw_code];
    while let Some(rc) = stack.pop() {
        if matches!(rc.kind, Kind::Bytecode) {
            if let Ok(view) = BytecodeView::decode(&rc.fun_data) {
                for ins in view.instructions().map_while(Result::ok) {
                    std::hint::black_box(ins);
                    n += 1;
                }
            }
        }
        stack.extend(&rc.children);
    }
    n
}

/// Runs the verifier (which decodes every function itself); returns the number of findings. One
/// [`Verifier`] serves every module, as in a build that checks many files.
pub fn verify(verifier: &mut Verifier, module: &Module<'_>) -> usize {
    verifier.verify(module).len()
}

/// Disassembles a whole module into `out` as `mpy dis` does ([`mpy_codec::dis::write_text`]): every
/// raw code with its path and name, bytecode as instructions with names resolved through the
/// module.
pub fn disassemble(module: &Module<'_>, out: &mut impl Write) -> fmt::Result {
    mpy_codec::dis::write_text(module, out)
}
