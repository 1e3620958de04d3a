//! Fuzz body `structured`: an `Arbitrary` [`Module`] built from the input.
//!
//! `encode` never panics; it fails exactly when the model holds something the format cannot
//! represent (decided here independently, by [`unrepresentable`]); otherwise its output decodes
//! strictly to the same model, after [`normalise`] applies what the encoder derives by design.
//!
//! Depth: `arbitrary`'s derive builds recursive values (tuples in tuples, raw codes in raw codes) by
//! recursion, and so do `Drop` and `Debug`; only the input's length bounds that recursion. The body
//! therefore reads at most [`MAX_INPUT`] bytes, which bounds any nesting the derive can build at a
//! few thousand levels: far beyond the codec's own caps (`mpy_codec::limits`, 128), so the
//! encoder's depth refusals are still exercised, and far below what overflows a stack, even an
//! AddressSanitizer one. The encoder itself never recurses past its caps, whatever the depth of the
//! model (`tests/fuzz_replay.rs` checks a 100 000-deep tuple on a large stack).
//!
//! Shared by `fuzz/fuzz_targets/structured.rs` and `tests/fuzz_replay.rs`.

use arbitrary::{Arbitrary, Unstructured};
use mpy_codec::limits::{MAX_RAW_CODE_DEPTH, MAX_TUPLE_DEPTH};
use mpy_codec::reloc::{RelocOp, Target};
use mpy_codec::{DecodeOptions, Kind, Module, Object, Qstr, RawCode};

/// Bytes of input used to build the model (the rest is ignored). Each level of nesting takes at
/// least five bytes (a 4-byte variant choice and a 1-byte continue flag), so this caps nesting
/// at about 1 600 levels.
pub const MAX_INPUT: usize = 8192;

pub fn run(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let mut u = Unstructured::new(data);
    if let Ok(module) = Module::arbitrary(&mut u) {
        check(&module);
        // Most arbitrary headers have a sub-version or arch that does not fit the feature byte,
        // which ends the check early; check the model with those two fields masked as well.
        let masked = masked(&module);
        if masked.header != module.header {
            check(&masked);
        }
    }
}

/// `module` with the header's sub-version and arch masked to the bits the feature byte has.
pub fn masked<'a>(module: &Module<'a>) -> Module<'a> {
    let mut m = module.clone();
    m.header.sub_version &= 3;
    m.header.arch.0 &= 0x0f;
    m
}

/// The property, for any model (also used directly by the tests).
pub fn check(module: &Module<'_>) {
    let expected_failure = unrepresentable(module);
    let bytes = match (module.encode(), expected_failure) {
        (Ok(bytes), None) => bytes,
        (Err(_), Some(_)) => return,
        (Ok(_), Some(why)) => panic!("encoded a model the format cannot represent: {why}"),
        (Err(e), None) => panic!("refused to encode a representable model: {e}"),
    };
    let decoded = match Module::decode_with(&bytes, DecodeOptions { strict: true }) {
        Ok(decoded) => decoded,
        Err(e) => panic!("the encoder's output does not decode strictly: {e}"),
    };
    assert!(decoded.is_canonical());
    let expected = normalise(module);
    if decoded.module != expected {
        panic!(
            "decode(encode(m)) != normalise(m)\n--- expected\n{}\n--- decoded\n{}",
            mpy_codec::dump::tree(&expected),
            mpy_codec::dump::tree(&decoded.module)
        );
    }
    assert_eq!(decoded.module.encode().as_ref(), Ok(&bytes), "encoding is not stable");
}

/// The model as the decoder will return it: the viper/asm flag bits that announce optional parts
/// (`RELOC`, `RODATA`, `BSS`) follow the parts' presence (`Kind::effective_flags`). Everything else
/// (the header's arch-flags bit comes from `arch_flags.is_some()`, the has-children bit from the
/// children) is not stored twice in the model and needs no normalising.
pub fn normalise<'a>(module: &Module<'a>) -> Module<'a> {
    fn raw_code<'a>(rc: &RawCode<'a>) -> RawCode<'a> {
        let mut kind = rc.kind.clone();
        let flags = kind.effective_flags();
        match &mut kind {
            Kind::Viper(v) => v.flags = flags.expect("viper has flags"),
            Kind::Asm(a) => a.flags = flags.expect("asm has flags"),
            Kind::Bytecode | Kind::NativePython { .. } => {}
        }
        RawCode { kind, fun_data: rc.fun_data.clone(), children: rc.children.iter().map(raw_code).collect() }
    }
    Module {
        header: module.header.clone(),
        qstrs: module.qstrs.clone(),
        objects: module.objects.clone(),
        raw_code: raw_code(&module.raw_code),
    }
}

/// Why the format cannot represent `module`, if it cannot. Written from the format's rules, not from
/// the encoder's code. Never recurses deeper than the caps.
pub fn unrepresentable(module: &Module<'_>) -> Option<String> {
    let h = &module.header;
    if h.sub_version > 3 || h.arch.0 > 0x0f {
        return Some("sub-version or arch does not fit the feature byte".into());
    }
    for q in &module.qstrs {
        let head = match q {
            Qstr::Static(id) => *id,
            Qstr::Dynamic(b) => b.len() as u64,
        };
        if head > u64::MAX >> 1 {
            return Some("qstr id or length does not fit a varuint with its tag bit".into());
        }
    }
    for obj in &module.objects {
        if let Some(why) = object(obj, 0) {
            return Some(why);
        }
    }
    raw_code(&module.raw_code, 0)
}

fn object(obj: &Object<'_>, depth: usize) -> Option<String> {
    let Object::Tuple(items) = obj else {
        return None;
    };
    // A tuple at depth d (top-level objects are at depth 0) is allowed for d < MAX_TUPLE_DEPTH.
    if depth >= MAX_TUPLE_DEPTH {
        return Some(format!("tuple at nesting depth {depth}"));
    }
    items.iter().find_map(|item| object(item, depth + 1))
}

fn raw_code(rc: &RawCode<'_>, depth: usize) -> Option<String> {
    if depth >= MAX_RAW_CODE_DEPTH {
        return Some(format!("raw code at nesting depth {depth}"));
    }
    if rc.fun_data.len() as u64 > u64::MAX >> 3 {
        return Some("fun_data too long for kind_len".into());
    }
    if let Some(why) = rc.kind.relocs().and_then(|ops| ops.iter().find_map(reloc_op)) {
        return Some(why);
    }
    rc.children.iter().find_map(|child| raw_code(child, depth + 1))
}

fn reloc_op(op: &RelocOp) -> Option<String> {
    // op byte = k << 1 | has_cursor, with k = 9 + index for a fun-table entry; 0xFF ends the stream.
    if let Target::FunTableEntry(index) = op.target {
        let byte = (9 + u32::from(index)) << 1 | u32::from(op.cursor.is_some());
        if byte >= 0xff {
            return Some(format!("fun-table entry {index} does not fit an op byte"));
        }
    }
    if op.cursor.is_some_and(|c| c.word_offset > u64::MAX >> 1) {
        return Some("cursor word offset does not fit a varuint with its region bit".into());
    }
    None
}
