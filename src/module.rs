//! A whole .mpy file: header, qstr table, object table and the outer raw code.

use crate::decoder::{DecodeOptions, Decoder, FieldSpan};
use crate::error::{EncodeError, Error, Irregularity, IrregularityKind, Path, Segment};
use crate::header::Header;
use crate::object::Object;
use crate::qstr::{self, Qstr};
use crate::raw_code::RawCode;
use crate::varuint;

/// The buffer [`Module::encode`] starts with: about the median size of a compiled module (the
/// Python standard library's is 4 KiB), so that most files need one allocation or two, not a dozen
/// reallocations from 8 bytes up. Measuring the exact size first costs more than it saves (a
/// second walk over the whole tree).
const ENCODE_START_CAPACITY: usize = 4096;

/// A decoded .mpy file. Borrows names, strings, code and rodata from the input; call
/// [`Module::into_owned`] to keep it beyond the input's lifetime, or edit any field in place (the
/// byte fields are `Cow`s).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Module<'a> {
    pub header: Header,
    /// The qstr table; entry 0 is, by convention, the source file name.
    pub qstrs: Vec<Qstr<'a>>,
    /// The constant object table.
    pub objects: Vec<Object<'a>>,
    /// The outer (module-level) raw code.
    pub raw_code: RawCode<'a>,
}

/// A module with what the decoder noticed but the encoder will not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub module: Module<'a>,
    /// Empty exactly when re-encoding gives back the input byte for byte.
    pub irregularities: Vec<Irregularity>,
}

impl Decoded<'_> {
    /// True when `encode(decode(x)) == x` is guaranteed.
    pub fn is_canonical(&self) -> bool {
        self.irregularities.is_empty()
    }
}

impl<'a> Module<'a> {
    /// Decodes a file, accepting what MicroPython's loader accepts.
    pub fn decode(bytes: &'a [u8]) -> Result<Module<'a>, Error> {
        Self::decode_with(bytes, DecodeOptions::default()).map(|d| d.module)
    }

    /// Decodes a file with options, returning the irregularities found.
    pub fn decode_with(bytes: &'a [u8], options: DecodeOptions) -> Result<Decoded<'a>, Error> {
        Self::decode_in(Decoder::new(bytes, options)).map(|(d, _)| d).map_err(|(e, _)| e)
    }

    /// Decodes leniently and also returns every field's byte span, in file order (for annotated
    /// dumps). On an error, the spans read up to the error are returned with it.
    pub fn decode_with_spans(bytes: &'a [u8]) -> (Result<Decoded<'a>, Error>, Vec<FieldSpan>) {
        let mut d = Decoder::new(bytes, DecodeOptions::default());
        d.spans = Some(Vec::new());
        match Self::decode_in(d) {
            Ok((decoded, spans)) => (Ok(decoded), spans),
            Err((e, spans)) => (Err(e), spans),
        }
    }

    fn decode_in(d: Decoder<'a>) -> Result<(Decoded<'a>, Vec<FieldSpan>), (Error, Vec<FieldSpan>)> {
        let mut d = d;
        match Self::decode_body(&mut d) {
            Ok(module) => {
                let spans = d.spans.take().unwrap_or_default();
                Ok((Decoded { module, irregularities: d.irregularities }, spans))
            }
            Err(e) => Err((e, d.spans.take().unwrap_or_default())),
        }
    }

    fn decode_body(d: &mut Decoder<'a>) -> Result<Module<'a>, Error> {
        let bytes = d.whole();
        let (i, header) = Header::decode(d, bytes)?;
        let (i, n_qstr) = d.within(Segment::Field("qstrs"), |d| d.count(i, "n_qstr"))?;
        let (i, n_obj) = d.within(Segment::Field("objects"), |d| d.count(i, "n_obj"))?;
        let (i, qstrs) = qstr::decode_table(d, i, n_qstr)?;
        let (i, objects) = d.within(Segment::Field("objects"), |d| Object::decode_list(d, i, n_obj, 0))?;
        let (i, raw_code) = d.within(Segment::Field("raw_code"), |d| RawCode::decode(d, i, 0))?;
        if !i.is_empty() {
            d.irregular(i, IrregularityKind::TrailingBytes { count: i.len() })?;
        }
        Ok(Module { header, qstrs, objects, raw_code })
    }

    /// Encodes in canonical form.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(ENCODE_START_CAPACITY);
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.header.encode(out)?;
        varuint::encode(self.qstrs.len() as u64, out);
        varuint::encode(self.objects.len() as u64, out);
        for (k, q) in self.qstrs.iter().enumerate() {
            q.encode(out).map_err(|e| e.within(Segment::Index(k)).within(Segment::Field("qstrs")))?;
        }
        for (k, obj) in self.objects.iter().enumerate() {
            obj.encode(out, 0).map_err(|e| e.within(Segment::Index(k)).within(Segment::Field("objects")))?;
        }
        self.raw_code.encode(out, 0).map_err(|e| e.within(Segment::Field("raw_code")))
    }

    pub fn into_owned(self) -> Module<'static> {
        Module {
            header: self.header,
            qstrs: self.qstrs.into_iter().map(Qstr::into_owned).collect(),
            objects: self.objects.into_iter().map(Object::into_owned).collect(),
            raw_code: self.raw_code.into_owned(),
        }
    }

    /// The source file name (qstr 0, by convention), if there is one.
    pub fn source_name(&self) -> Option<&Qstr<'a>> {
        self.qstrs.first()
    }

    /// Every raw code with its path, parents first.
    pub fn raw_codes(&self) -> Vec<(Path, &RawCode<'a>)> {
        let mut all = Vec::new();
        let mut path = Path(vec![Segment::Field("raw_code")]);
        self.raw_code.walk(&mut path, &mut |p, rc| all.push((p.clone(), rc)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Arch;
    use crate::limits::{MAX_RAW_CODE_DEPTH, MAX_TUPLE_DEPTH};
    use crate::raw_code::{Asm, Kind};
    use crate::reloc::{Cursor, Region, RelocOp, Target};
    use std::borrow::Cow;

    fn leaf<'a>() -> RawCode<'a> {
        RawCode { kind: Kind::Bytecode, fun_data: Cow::Borrowed(b"\x00\x01"), children: vec![] }
    }

    fn module<'a>() -> Module<'a> {
        Module {
            header: Header { small_int_bits: 31, ..Header::default() },
            qstrs: vec![Qstr::Dynamic(Cow::Borrowed(b"a.py")), Qstr::Static(7)],
            objects: vec![Object::None, Object::Tuple(vec![Object::Int(Cow::Borrowed(b"1"))])],
            raw_code: RawCode { children: vec![leaf(), leaf()], ..leaf() },
        }
    }

    fn nest_tuples(depth: usize) -> Object<'static> {
        (0..depth).fold(Object::None, |inner, _| Object::Tuple(vec![Object::False, inner]))
    }

    fn nest_raw_codes(depth: usize) -> RawCode<'static> {
        (0..depth).fold(leaf(), |inner, _| RawCode { children: vec![leaf(), inner], ..leaf() })
    }

    fn asm_with_relocs(relocs: Vec<RelocOp>) -> RawCode<'static> {
        let asm = Asm { n_pos_args: 1, type_sig: 2, relocs: Some(relocs), ..Asm::default() };
        RawCode { kind: Kind::Asm(Box::new(asm)), ..leaf() }
    }

    /// Every refusal, with the path and message it reports (the text of `EncodeError`).
    #[test]
    fn encode_errors_name_the_path() {
        let text = |m: &Module<'_>| m.encode().expect_err("must be refused").to_string();
        let mut m = module();
        m.header.sub_version = 4;
        assert_eq!(text(&m), "header: sub-version 4 or arch code 0 does not fit the feature byte");

        let mut m = module();
        m.header.arch = Arch(16);
        assert_eq!(text(&m), "header: sub-version 0 or arch code 16 does not fit the feature byte");

        let mut m = module();
        m.qstrs.push(Qstr::Static(u64::MAX / 2 + 1));
        assert_eq!(text(&m), "qstrs[2]: qstr id or length too large for a varuint");

        let mut m = module();
        m.objects.push(nest_tuples(MAX_TUPLE_DEPTH + 1));
        let deepest = "[1]".repeat(MAX_TUPLE_DEPTH);
        assert_eq!(
            text(&m),
            format!("objects[2]{deepest}: tuples nested deeper than {MAX_TUPLE_DEPTH} levels")
        );

        let mut m = module();
        m.raw_code.children.push(nest_raw_codes(MAX_RAW_CODE_DEPTH));
        // The first child at depth MAX_RAW_CODE_DEPTH is the leaf before the nested one.
        let deepest = ".children[1]".repeat(MAX_RAW_CODE_DEPTH - 2);
        assert_eq!(
            text(&m),
            format!(
                "raw_code.children[2]{deepest}.children[0]: raw codes nested deeper than {MAX_RAW_CODE_DEPTH} levels"
            )
        );

        let op = RelocOp { cursor: None, target: Target::FunTableEntry(200) };
        let fits = |target| RelocOp { cursor: None, target };
        let mut m = module();
        m.raw_code.children[1].children = vec![
            asm_with_relocs(vec![]),
            asm_with_relocs(vec![fits(Target::QstrTable), fits(Target::ObjTable), op]),
        ];
        assert_eq!(
            text(&m),
            "raw_code.children[1].children[1].relocs[2]: FunTableEntry(200) does not fit a relocation op byte"
        );

        let far = Cursor { region: Region::Text, word_offset: u64::MAX / 2 + 1 };
        let mut m = module();
        m.raw_code = asm_with_relocs(vec![RelocOp { cursor: Some(far), target: Target::FunTable }]);
        assert_eq!(text(&m), "raw_code.relocs[0]: cursor word offset too large");
    }

    /// The deepest models within the caps encode, and decode back to the same model.
    #[test]
    fn deepest_accepted_models_round_trip() {
        let mut m = module();
        m.objects.push(nest_tuples(MAX_TUPLE_DEPTH));
        m.raw_code.children.push(nest_raw_codes(MAX_RAW_CODE_DEPTH - 2));
        let bytes = m.encode().expect("within the caps");
        assert_eq!(Module::decode(&bytes).unwrap(), m);
        let mut appended = vec![0xaa];
        m.encode_into(&mut appended).unwrap();
        assert_eq!(appended[1..], bytes[..]);
    }
}
