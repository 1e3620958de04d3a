//! Checks of the container: header, qstr table, objects, native records and relocations.

use crate::error::{Path, Segment};
use crate::header::{Arch, Release};
use crate::module::Module;
use crate::object::Object;
use crate::qstr::{Qstr, STATIC_QSTR_COUNT};
use crate::raw_code::{Kind, RawCode};
use crate::reloc::{self, RelocSpace, Target};

use super::{Check, Findings};

/// Entries in `mp_fun_table` by sub-version (py/nativeglue.h): 50 for the compiler-generated native
/// code, then the dynamic-runtime entries. 6.2 added `get_buffer_raise`; 6.3 added three
/// `mp_binary_*` helpers. A relocation may read only entries below this.
pub const FUN_TABLE_LEN: [u64; 4] = [79, 79, 80, 83];

pub(super) fn check(module: &Module<'_>, f: &mut Findings) {
    let h = &module.header;
    let top = Path::default();
    if h.is_native() {
        let last_release = match h.sub_version {
            0 => Release(1, 19),
            1 => Release(1, 21),
            2 => Release(1, 22),
            _ => Release(255, 0),
        };
        match h.arch.known_in() {
            None => f.add(&top, None, Check::Header, format!("unknown native arch code {}", h.arch.0)),
            Some((first, _)) if first > last_release => f.add(
                &top,
                None,
                Check::Header,
                format!(
                    "arch {} appeared in {first}, but sub-version 6.{} is read only up to {last_release}",
                    h.arch, h.sub_version
                ),
            ),
            _ => {}
        }
    }
    if h.arch_flags.is_some() && h.arch != Arch::RV32IMC && h.arch != Arch::NONE {
        f.add(&top, None, Check::Header, format!("arch flags are defined only for rv32imc, not {}", h.arch));
    }
    if h.reserved_bit {
        f.add(&top, None, Check::Header, "feature-byte bit 7 is reserved and must be 0".into());
    }
    let mut has_native = false;
    module
        .raw_code
        .walk(&mut Path(Vec::with_capacity(16)), &mut |_, rc| has_native |= rc.kind != Kind::Bytecode);
    if has_native && !h.is_native() {
        f.add(&top, None, Check::Header, "native code in a file whose header says bytecode only".into());
    }

    for (k, q) in module.qstrs.iter().enumerate() {
        if let Qstr::Static(id) = q
            && !(1..=STATIC_QSTR_COUNT as u64).contains(id)
        {
            let path = Path(vec![Segment::Field("qstrs"), Segment::Index(k)]);
            f.add(
                &path,
                None,
                Check::StaticQstr,
                format!("static qstr id {id} is outside 1..={STATIC_QSTR_COUNT}"),
            );
        }
    }

    let mut path = Path::starting_at(Segment::Field("objects"));
    for (k, obj) in module.objects.iter().enumerate() {
        path.push(Segment::Index(k));
        check_object(obj, &mut path, f);
        path.pop();
    }

    let mut path = Path::starting_at(Segment::Field("raw_code"));
    module.raw_code.walk(&mut path, &mut |path, rc| check_native(module, path, rc, f));
}

fn check_object(obj: &Object<'_>, path: &mut Path, f: &mut Findings) {
    let text = |t: &[u8]| String::from_utf8_lossy(t).into_owned();
    match obj {
        Object::Int(t) if !is_decimal_integer(t) => {
            f.add(path, None, Check::NumberText, format!("int text {:?} is not a decimal integer", text(t)))
        }
        Object::Float(t) if obj.float_value().is_none() => {
            f.add(path, None, Check::NumberText, format!("float text {:?} is not a float", text(t)))
        }
        Object::Complex(t) if obj.complex_value().is_none() => f.add(
            path,
            None,
            Check::NumberText,
            format!("complex text {:?} is not a complex number", text(t)),
        ),
        Object::Tuple(items) => {
            for (k, item) in items.iter().enumerate() {
                path.push(Segment::Index(k));
                check_object(item, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether `text` is a decimal integer as [`Object::int_value`] reads it. Plain digits with an
/// optional minus sign, the compiler's form, are answered without building the number.
fn is_decimal_integer(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
        || Object::Int(std::borrow::Cow::Borrowed(text)).int_value().is_some()
}

fn check_native(module: &Module<'_>, path: &Path, rc: &RawCode<'_>, f: &mut Findings) {
    let h = &module.header;
    let code_len = rc.fun_data.len();
    match &rc.kind {
        Kind::NativePython { prelude_offset } if *prelude_offset >= code_len as u64 => f.add(
            path,
            None,
            Check::NativeRecord,
            format!("prelude offset {prelude_offset} is outside the {code_len} bytes of machine code"),
        ),
        Kind::Asm(a)
            if a.flags.intersects(crate::flags::NativeFlags::RODATA | crate::flags::NativeFlags::BSS) =>
        {
            f.add(
                path,
                None,
                Check::NativeRecord,
                "rodata/bss flags on an asm record (the loader reads neither)".into(),
            )
        }
        _ => {}
    }
    let Some(ops) = rc.kind.relocs() else { return };
    let Some(word_size) = h.arch.word_size() else {
        f.add(
            path,
            None,
            Check::Relocation,
            format!("relocations for arch {}, whose word size is unknown", h.arch),
        );
        return;
    };
    let rodata_len = match &rc.kind {
        Kind::Viper(v) => v.rodata.as_ref().map_or(0, |r| r.len()),
        _ => 0,
    };
    if let Err(v) = reloc::check_bounds(ops, RelocSpace { word_size, text_len: code_len, rodata_len }) {
        let op_path = path.with(Segment::Field("relocs")).with(Segment::Index(v.op));
        f.add(&op_path, None, Check::Relocation, v.message);
    }
    let table_len = FUN_TABLE_LEN[usize::from(h.sub_version.min(3))];
    for (k, op) in ops.iter().enumerate() {
        if let Target::FunTableEntry(e) = op.target
            && u64::from(e) >= table_len
        {
            let op_path = path.with(Segment::Field("relocs")).with(Segment::Index(k));
            f.add(
                &op_path,
                None,
                Check::Relocation,
                format!(
                    "mp_fun_table entry {e} is past the {table_len} entries of sub-version 6.{}",
                    h.sub_version
                ),
            );
        }
        if matches!(op.target, Target::Base { section: crate::reloc::Section::Bss, .. })
            && !matches!(&rc.kind, Kind::Viper(v) if v.bss_size.is_some())
        {
            let op_path = path.with(Segment::Field("relocs")).with(Segment::Index(k));
            f.add(&op_path, None, Check::Relocation, "adds the bss base, but the record has no bss".into());
        }
        if matches!(op.target, Target::Base { section: crate::reloc::Section::Rodata, .. }) && rodata_len == 0
        {
            let op_path = path.with(Segment::Field("relocs")).with(Segment::Index(k));
            f.add(
                &op_path,
                None,
                Check::Relocation,
                "adds the rodata base, but the record has no rodata".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut for plain digits answers as the full parse does, on both sides of it.
    #[test]
    fn decimal_integers_are_what_int_value_reads() {
        for text in [
            "0",
            "-0",
            "007",
            "-12",
            "123456789012345678901234567890",
            "",
            "-",
            "+5",
            "1_000",
            "_1",
            "12a",
            " 1",
            "--1",
            "1-",
            "٣",
        ] {
            let parsed = Object::Int(std::borrow::Cow::Borrowed(text.as_bytes())).int_value().is_some();
            assert_eq!(is_decimal_integer(text.as_bytes()), parsed, "{text:?}");
        }
    }
}
