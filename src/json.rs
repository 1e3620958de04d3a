//! The lossless, versioned JSON form of a module, so that any language can edit a .mpy file and
//! assemble it back: `from_json(to_json(m)) == m`, and encoding gives the same bytes.
//!
//! # Format (version 1)
//!
//! ```json
//! {
//!   "format": "mpy-codec module",
//!   "version": 1,
//!   "header": { "sub_version": 3, "arch": "x64", "arch_flags": null, "small_int_bits": 31 },
//!   "qstrs": [ { "text": "hello.py" }, { "static": 7, "text": "<module>" }, { "hex": "ed a0 80" } ],
//!   "objects": [ { "type": "str", "text": "hi" }, { "type": "int", "value": "10000000000000000000" },
//!                { "type": "tuple", "items": [ { "type": "none" }, { "type": "bytes", "hex": "00 01" } ] } ],
//!   "raw_code": { "kind": "bytecode", "fun_data": "18 06 01 ...", "children": [] }
//! }
//! ```
//!
//! - Byte strings (qstrs, `str` and `bytes` objects) are `"text"` when they are valid UTF-8 and
//!   `"hex"` otherwise; either is accepted on input. A static qstr is `{"static": id}`; its
//!   `"text"` is shown for reading and, if given on input, must match the id's text.
//! - `header.arch` is the `-march` name (`"bytecode"` for none) or the numeric code.
//!   `reserved_bit` appears only when set.
//! - Objects have a `"type"`: `fun_table`, `none`, `false`, `true`, `ellipsis`, `str`, `bytes`
//!   (always `"hex"` on output), `int`, `float`, `complex` (these three keep their exact repr text
//!   as `"value"`, or `"hex"` if it is not UTF-8) and `tuple` (`"items"`).
//! - Raw codes have a `"kind"`: `bytecode`; `native` (`prelude_offset`); `viper` (`flags`,
//!   `rodata` hex or null, `bss_size` or null, `relocs` or null); `asm` (`flags`, `n_pos_args`,
//!   `type_sig`, `relocs` or null). `fun_data` is hex; `children` a list of raw codes.
//! - A relocation op is `{"cursor": {"region": "text"|"rodata", "word_offset": n}` (optional)
//!   `, "target": "text"|"rodata"|"bss"|"qstr_table"|"obj_table"|"fun_table"|{"fun_table_entry": k}`
//!   `, "count": n` (optional, base targets only) `}`.
//! - Hex may contain spaces. Numbers are JSON integers (u64; consumers in JavaScript should read
//!   them as big integers above 2^53). Nesting is limited by serde_json's recursion limit (128).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::dump::hex;
use crate::flags::NativeFlags;
use crate::header::{Arch, Header};
use crate::module::Module;
use crate::object::Object;
use crate::qstr::{Qstr, static_qstr};
use crate::raw_code::{Asm, Kind, RawCode, Viper};
use crate::reloc::{Cursor, Region, RelocOp, Section, Target};

/// The value of `"format"`.
pub const FORMAT: &str = "mpy-codec module";
/// The value of `"version"` this crate writes and reads.
pub const VERSION: u32 = 1;

/// Why a JSON document is not a module.
#[derive(Debug)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

fn err<T>(message: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError(message.into()))
}

/// The module as pretty-printed JSON.
pub fn to_json(module: &Module<'_>) -> String {
    let doc = JModule {
        format: FORMAT.into(),
        version: VERSION,
        header: JHeader::from(&module.header),
        qstrs: module.qstrs.iter().map(JQstr::from).collect(),
        objects: module.objects.iter().map(JObject::from).collect(),
        raw_code: JRawCode::from(&module.raw_code),
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("the JSON model always serialises");
    text.push('\n');
    text
}

/// Reads a module from its JSON form.
pub fn from_json(text: &str) -> Result<Module<'static>, JsonError> {
    let doc: JModule = serde_json::from_str(text).map_err(|e| JsonError(format!("JSON: {e}")))?;
    if doc.format != FORMAT {
        return err(format!("\"format\" is {:?}, expected {FORMAT:?}", doc.format));
    }
    if doc.version != VERSION {
        return err(format!(
            "\"version\" {} is not supported (this tool reads version {VERSION})",
            doc.version
        ));
    }
    let qstrs = doc
        .qstrs
        .into_iter()
        .enumerate()
        .map(|(k, q)| q.into_model().map_err(|e| JsonError(format!("qstrs[{k}]: {e}"))))
        .collect::<Result<_, _>>()?;
    let objects = doc
        .objects
        .into_iter()
        .enumerate()
        .map(|(k, o)| o.into_model().map_err(|e| JsonError(format!("objects[{k}]: {e}"))))
        .collect::<Result<_, _>>()?;
    Ok(Module {
        header: doc.header.into_model()?,
        qstrs,
        objects,
        raw_code: doc.raw_code.into_model().map_err(|e| JsonError(format!("raw_code{e}")))?,
    })
}

fn unhex(text: &str) -> Result<Vec<u8>, JsonError> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return err("hex has an odd number of digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| JsonError(format!("{:?} is not hex", String::from_utf8_lossy(pair))))
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct JModule {
    format: String,
    version: u32,
    header: JHeader,
    qstrs: Vec<JQstr>,
    objects: Vec<JObject>,
    raw_code: JRawCode,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum JArch {
    Name(String),
    Code(u8),
}

#[derive(Serialize, Deserialize)]
struct JHeader {
    sub_version: u8,
    arch: JArch,
    arch_flags: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reserved_bit: bool,
    small_int_bits: u8,
}

impl From<&Header> for JHeader {
    fn from(h: &Header) -> Self {
        JHeader {
            sub_version: h.sub_version,
            arch: match h.arch.name() {
                Some(name) => JArch::Name(name.into()),
                None => JArch::Code(h.arch.0),
            },
            arch_flags: h.arch_flags,
            reserved_bit: h.reserved_bit,
            small_int_bits: h.small_int_bits,
        }
    }
}

impl JHeader {
    fn into_model(self) -> Result<Header, JsonError> {
        let arch = match self.arch {
            JArch::Code(c) => Arch(c),
            JArch::Name(n) => match Arch::from_name(&n) {
                Some(a) => a,
                None => return err(format!("header: unknown arch name {n:?}")),
            },
        };
        Ok(Header {
            sub_version: self.sub_version,
            arch,
            arch_flags: self.arch_flags,
            reserved_bit: self.reserved_bit,
            small_int_bits: self.small_int_bits,
        })
    }
}

/// Text when valid UTF-8, hex otherwise.
#[derive(Serialize, Deserialize, Default)]
struct JBytes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

impl JBytes {
    fn from_bytes(b: &[u8]) -> Self {
        match std::str::from_utf8(b) {
            Ok(t) => JBytes { text: Some(t.into()), hex: None },
            Err(_) => JBytes { text: None, hex: Some(hex(b)) },
        }
    }

    fn into_bytes(self) -> Result<Vec<u8>, JsonError> {
        match (self.text, self.hex) {
            (Some(t), None) => Ok(t.into_bytes()),
            (None, Some(h)) => unhex(&h),
            _ => err("give exactly one of \"text\" and \"hex\""),
        }
    }
}

/// A number's repr text as `"value"`; as `"hex"` in the (hostile) case that it is not UTF-8.
#[derive(Serialize, Deserialize)]
struct JNumber {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

impl JNumber {
    fn from_bytes(b: &[u8]) -> Self {
        let JBytes { text, hex } = JBytes::from_bytes(b);
        JNumber { value: text, hex }
    }

    fn into_bytes(self) -> Result<Vec<u8>, JsonError> {
        JBytes { text: self.value, hex: self.hex }.into_bytes()
    }
}

#[derive(Serialize, Deserialize)]
struct JQstr {
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "static")]
    static_id: Option<u64>,
    #[serde(flatten)]
    bytes: JBytes,
}

impl From<&Qstr<'_>> for JQstr {
    fn from(q: &Qstr<'_>) -> Self {
        match q {
            Qstr::Static(id) => JQstr {
                static_id: Some(*id),
                bytes: static_qstr(*id).map(JBytes::from_bytes).unwrap_or_default(),
            },
            Qstr::Dynamic(b) => JQstr { static_id: None, bytes: JBytes::from_bytes(b) },
        }
    }
}

impl JQstr {
    fn into_model(self) -> Result<Qstr<'static>, JsonError> {
        match self.static_id {
            Some(id) => {
                if self.bytes.text.is_some() || self.bytes.hex.is_some() {
                    let given = self.bytes.into_bytes()?;
                    if static_qstr(id) != Some(&given[..]) {
                        return err(format!(
                            "static qstr {id} is not {:?}: drop \"static\" to make it a dynamic qstr",
                            String::from_utf8_lossy(&given)
                        ));
                    }
                }
                Ok(Qstr::Static(id))
            }
            None => Ok(Qstr::Dynamic(Cow::Owned(self.bytes.into_bytes()?))),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JObject {
    FunTable,
    None,
    False,
    True,
    Ellipsis,
    Str(JBytes),
    Bytes(JBytes),
    Int(JNumber),
    Float(JNumber),
    Complex(JNumber),
    Tuple { items: Vec<JObject> },
}

impl From<&Object<'_>> for JObject {
    fn from(o: &Object<'_>) -> Self {
        match o {
            Object::FunTable => JObject::FunTable,
            Object::None => JObject::None,
            Object::False => JObject::False,
            Object::True => JObject::True,
            Object::Ellipsis => JObject::Ellipsis,
            Object::Str(b) => JObject::Str(JBytes::from_bytes(b)),
            Object::Bytes(b) => JObject::Bytes(JBytes { text: None, hex: Some(hex(b)) }),
            Object::Int(t) => JObject::Int(JNumber::from_bytes(t)),
            Object::Float(t) => JObject::Float(JNumber::from_bytes(t)),
            Object::Complex(t) => JObject::Complex(JNumber::from_bytes(t)),
            Object::Tuple(items) => JObject::Tuple { items: items.iter().map(JObject::from).collect() },
        }
    }
}

impl JObject {
    fn into_model(self) -> Result<Object<'static>, JsonError> {
        Ok(match self {
            JObject::FunTable => Object::FunTable,
            JObject::None => Object::None,
            JObject::False => Object::False,
            JObject::True => Object::True,
            JObject::Ellipsis => Object::Ellipsis,
            JObject::Str(b) => Object::Str(Cow::Owned(b.into_bytes()?)),
            JObject::Bytes(b) => Object::Bytes(Cow::Owned(b.into_bytes()?)),
            JObject::Int(n) => Object::Int(Cow::Owned(n.into_bytes()?)),
            JObject::Float(n) => Object::Float(Cow::Owned(n.into_bytes()?)),
            JObject::Complex(n) => Object::Complex(Cow::Owned(n.into_bytes()?)),
            JObject::Tuple { items } => {
                Object::Tuple(items.into_iter().map(JObject::into_model).collect::<Result<_, _>>()?)
            }
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum JKind {
    Bytecode,
    Native { prelude_offset: u64 },
    Viper { flags: u64, rodata: Option<String>, bss_size: Option<u64>, relocs: Option<Vec<JReloc>> },
    Asm { flags: u64, n_pos_args: u64, type_sig: u64, relocs: Option<Vec<JReloc>> },
}

#[derive(Serialize, Deserialize)]
struct JRawCode {
    #[serde(flatten)]
    kind: JKind,
    fun_data: String,
    #[serde(default)]
    children: Vec<JRawCode>,
}

impl From<&RawCode<'_>> for JRawCode {
    fn from(rc: &RawCode<'_>) -> Self {
        let relocs = |r: &Option<Vec<RelocOp>>| r.as_ref().map(|ops| ops.iter().map(JReloc::from).collect());
        let kind = match &rc.kind {
            Kind::Bytecode => JKind::Bytecode,
            Kind::NativePython { prelude_offset } => JKind::Native { prelude_offset: *prelude_offset },
            Kind::Viper(v) => JKind::Viper {
                flags: v.flags.bits(),
                rodata: v.rodata.as_deref().map(hex),
                bss_size: v.bss_size,
                relocs: relocs(&v.relocs),
            },
            Kind::Asm(a) => JKind::Asm {
                flags: a.flags.bits(),
                n_pos_args: a.n_pos_args,
                type_sig: a.type_sig,
                relocs: relocs(&a.relocs),
            },
        };
        JRawCode {
            kind,
            fun_data: hex(&rc.fun_data),
            children: rc.children.iter().map(JRawCode::from).collect(),
        }
    }
}

impl JRawCode {
    /// The error text starts with the path below `raw_code` (`.children[2]: ...`).
    fn into_model(self) -> Result<RawCode<'static>, String> {
        let relocs = |r: Option<Vec<JReloc>>| -> Result<Option<Vec<RelocOp>>, String> {
            r.map(|ops| ops.into_iter().map(JReloc::into_model).collect()).transpose()
        };
        let kind = match self.kind {
            JKind::Bytecode => Kind::Bytecode,
            JKind::Native { prelude_offset } => Kind::NativePython { prelude_offset },
            JKind::Viper { flags, rodata, bss_size, relocs: r } => Kind::Viper(Box::new(Viper {
                flags: NativeFlags::from_bits_retain(flags),
                rodata: rodata
                    .map(|h| unhex(&h).map(Cow::Owned))
                    .transpose()
                    .map_err(|e| format!(": rodata: {e}"))?,
                bss_size,
                relocs: relocs(r).map_err(|e| format!(": relocs: {e}"))?,
            })),
            JKind::Asm { flags, n_pos_args, type_sig, relocs: r } => Kind::Asm(Box::new(Asm {
                flags: NativeFlags::from_bits_retain(flags),
                n_pos_args,
                type_sig,
                relocs: relocs(r).map_err(|e| format!(": relocs: {e}"))?,
            })),
        };
        let fun_data = unhex(&self.fun_data).map_err(|e| format!(": fun_data: {e}"))?;
        let children = self
            .children
            .into_iter()
            .enumerate()
            .map(|(k, c)| c.into_model().map_err(|e| format!(".children[{k}]{e}")))
            .collect::<Result<_, _>>()?;
        Ok(RawCode { kind, fun_data: Cow::Owned(fun_data), children })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum JRegion {
    Text,
    Rodata,
}

#[derive(Serialize, Deserialize)]
struct JCursor {
    region: JRegion,
    word_offset: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum JTarget {
    Text,
    Rodata,
    Bss,
    QstrTable,
    ObjTable,
    FunTable,
    FunTableEntry(u8),
}

#[derive(Serialize, Deserialize)]
struct JReloc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<JCursor>,
    target: JTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
}

impl From<&RelocOp> for JReloc {
    fn from(op: &RelocOp) -> Self {
        let cursor = op.cursor.map(|c| JCursor {
            region: if c.region == Region::Text { JRegion::Text } else { JRegion::Rodata },
            word_offset: c.word_offset,
        });
        let (target, count) = match op.target {
            Target::Base { section: Section::Text, count } => (JTarget::Text, count),
            Target::Base { section: Section::Rodata, count } => (JTarget::Rodata, count),
            Target::Base { section: Section::Bss, count } => (JTarget::Bss, count),
            Target::QstrTable => (JTarget::QstrTable, None),
            Target::ObjTable => (JTarget::ObjTable, None),
            Target::FunTable => (JTarget::FunTable, None),
            Target::FunTableEntry(e) => (JTarget::FunTableEntry(e), None),
        };
        JReloc { cursor, target, count }
    }
}

impl JReloc {
    fn into_model(self) -> Result<RelocOp, String> {
        let cursor = self.cursor.map(|c| Cursor {
            region: match c.region {
                JRegion::Text => Region::Text,
                JRegion::Rodata => Region::Rodata,
            },
            word_offset: c.word_offset,
        });
        let base = |section| Target::Base { section, count: self.count };
        let target = match self.target {
            JTarget::Text => base(Section::Text),
            JTarget::Rodata => base(Section::Rodata),
            JTarget::Bss => base(Section::Bss),
            other => {
                if self.count.is_some() {
                    return Err("\"count\" goes only with text, rodata and bss targets".into());
                }
                match other {
                    JTarget::QstrTable => Target::QstrTable,
                    JTarget::ObjTable => Target::ObjTable,
                    JTarget::FunTable => Target::FunTable,
                    JTarget::FunTableEntry(e) => Target::FunTableEntry(e),
                    _ => unreachable!("base targets handled above"),
                }
            }
        };
        Ok(RelocOp { cursor, target })
    }
}
