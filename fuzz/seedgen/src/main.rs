//! Builds the seed corpora of the fuzz targets: `seedgen <repo root> <out dir>` writes
//! `<out>/<target>/<hash>` for `decode`, `roundtrip`, `structured` and `reloc`, from the committed
//! `corpus/**/*.mpy` files, the regression inputs under `tests/fuzz_regressions/<target>/`, and
//! inputs synthesized here from the model (every object tag, every raw-code kind, every relocation
//! op, the irregular forms the decoder accepts, and a few the decoder refuses).
//!
//! Every seed it writes is first run through its target's body (`fuzz/bodies/*.rs`; `structured`
//! needs the `arbitrary` feature and is left out), so a seed that breaks a property stops here.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mpy_codec::reloc::{Cursor, Region, RelocOp, Section, Target};
use mpy_codec::{Arch, Asm, Header, Kind, Module, NativeFlags, Object, Qstr, RawCode, Viper};

#[allow(dead_code)]
#[path = "../../bodies/bytecode.rs"]
mod bytecode_body;
#[allow(dead_code)]
#[path = "../../bodies/decode.rs"]
mod decode_body;
#[allow(dead_code)]
#[path = "../../bodies/reloc.rs"]
mod reloc_body;
#[allow(dead_code)]
#[path = "../../bodies/roundtrip.rs"]
mod roundtrip_body;
#[allow(dead_code)]
#[path = "../../bodies/verify.rs"]
mod verify_body;

const TARGETS: [&str; 6] = ["decode", "roundtrip", "structured", "reloc", "bytecode", "verify"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, root, out] = &args[..] else {
        eprintln!("usage: seedgen <repo root> <out dir>");
        std::process::exit(2);
    };
    let root = PathBuf::from(root);
    let out = PathBuf::from(out);

    let mut corpus = Vec::new();
    collect_mpy(&root.join("corpus"), &mut corpus);
    corpus.sort();
    let corpus: Vec<Vec<u8>> = corpus.iter().map(|p| std::fs::read(p).expect("read corpus file")).collect();

    let mut seeds: BTreeMap<&str, Vec<Vec<u8>>> = BTreeMap::new();
    let modules = synthesized_modules();
    let files: Vec<Vec<u8>> =
        corpus.iter().cloned().chain(modules.iter().map(encode)).chain(odd_files()).collect();
    seeds.insert("decode", files.clone());
    seeds.insert("roundtrip", files.clone());
    seeds.insert("verify", files);
    seeds.insert("bytecode", bytecode_seeds(&corpus, &modules));
    seeds.insert("reloc", reloc_seeds(&corpus, &modules));
    seeds.insert("structured", structured_seeds());

    for target in TARGETS {
        let list = seeds.entry(target).or_default();
        list.extend(regressions(&root, target));
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).expect("create seed dir");
        for seed in list.iter() {
            match target {
                "decode" => decode_body::run(seed),
                "roundtrip" => roundtrip_body::run(seed),
                "reloc" => reloc_body::run(seed),
                "bytecode" => bytecode_body::run(seed),
                "verify" => verify_body::run(seed),
                _ => {}
            }
            std::fs::write(dir.join(format!("{:016x}", fnv1a(seed))), seed).expect("write seed");
        }
        println!("{target}: {} seeds", list.len());
    }
}

fn collect_mpy(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_mpy(&path, out);
        } else if path.extension().is_some_and(|e| e == "mpy") {
            out.push(path);
        }
    }
}

fn regressions(root: &Path, target: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(root.join("tests/fuzz_regressions").join(target)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).expect("read regression")).collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn encode(module: &Module<'_>) -> Vec<u8> {
    module.encode().expect("synthesized module encodes")
}

fn bytes(b: &[u8]) -> Cow<'static, [u8]> {
    Cow::Owned(b.to_vec())
}

/// `def f(): return None`-like bytecode: sig (n_state 3), size (n_info 1), simple name qstr 1,
/// LOAD_CONST_NONE, RETURN_VALUE.
const TINY_BYTECODE: &[u8] = &[0x10, 0x02, 0x01, 0x51, 0x63];

fn bytecode(children: Vec<RawCode<'static>>) -> RawCode<'static> {
    RawCode { kind: Kind::Bytecode, fun_data: bytes(TINY_BYTECODE), children }
}

fn module(header: Header, objects: Vec<Object<'static>>, raw_code: RawCode<'static>) -> Module<'static> {
    Module { header, qstrs: vec![Qstr::Dynamic(bytes(b"seed.py")), Qstr::Static(7)], objects, raw_code }
}

fn native_header(arch: Arch) -> Header {
    Header { sub_version: 3, arch, small_int_bits: 31, ..Header::default() }
}

fn every_op() -> Vec<RelocOp> {
    let at = |region, word_offset| Some(Cursor { region, word_offset });
    let base = |section, count| Target::Base { section, count };
    vec![
        RelocOp { cursor: at(Region::Text, 0), target: base(Section::Text, None) },
        RelocOp { cursor: None, target: base(Section::Rodata, None) },
        RelocOp { cursor: None, target: base(Section::Bss, Some(3)) },
        RelocOp { cursor: at(Region::Rodata, 1), target: base(Section::Text, Some(2)) },
        RelocOp { cursor: None, target: Target::QstrTable },
        RelocOp { cursor: at(Region::Text, 8), target: Target::ObjTable },
        RelocOp { cursor: None, target: Target::FunTable },
        RelocOp { cursor: None, target: Target::FunTableEntry(0) },
        RelocOp { cursor: at(Region::Text, 12), target: Target::FunTableEntry(117) },
        RelocOp { cursor: None, target: Target::FunTableEntry(118) },
    ]
}

fn synthesized_modules() -> Vec<Module<'static>> {
    let plain = Header { small_int_bits: 31, ..Header::default() };
    let all_objects = vec![
        Object::FunTable,
        Object::None,
        Object::False,
        Object::True,
        Object::Ellipsis,
        Object::Str(bytes("h\u{e9}llo \u{1f40d}".as_bytes())),
        Object::Str(bytes(b"\xed\xa0\x80")),
        Object::Bytes(bytes(b"\x00\xff")),
        Object::Bytes(bytes(b"")),
        Object::Int(bytes(b"-1000000000000000000000")),
        Object::Float(bytes(b"2.5")),
        Object::Float(bytes(b"inf")),
        Object::Float(bytes(b"1e+300")),
        Object::Complex(bytes(b"2j")),
        Object::Complex(bytes(b"(1-2.5e-3j)")),
        Object::Tuple(vec![
            Object::Int(bytes(b"1")),
            Object::Tuple(vec![Object::Str(bytes(b"x")), Object::None]),
            Object::Bytes(bytes(b"")),
        ]),
    ];
    let mut deep_tuple = Object::Int(bytes(b"7"));
    for _ in 0..mpy_codec::limits::MAX_TUPLE_DEPTH {
        deep_tuple = Object::Tuple(vec![deep_tuple]);
    }
    let mut deep_code = bytecode(vec![]);
    for _ in 1..mpy_codec::limits::MAX_RAW_CODE_DEPTH {
        deep_code = bytecode(vec![deep_code]);
    }
    let viper = |v: Viper<'static>, fun_data: &[u8]| RawCode {
        kind: Kind::Viper(Box::new(v)),
        fun_data: bytes(fun_data),
        children: vec![],
    };
    let full_viper = Viper {
        flags: NativeFlags::RELOC | NativeFlags::RODATA | NativeFlags::BSS,
        rodata: Some(bytes(b"rodata\0\0")),
        bss_size: Some(16),
        relocs: Some(every_op()),
    };
    let asm = RawCode {
        kind: Kind::Asm(Box::new(Asm {
            flags: NativeFlags::RELOC,
            n_pos_args: 2,
            type_sig: 2,
            relocs: Some(vec![RelocOp {
                cursor: Some(Cursor { region: Region::Text, word_offset: 1 }),
                target: Target::FunTableEntry(5),
            }]),
        })),
        fun_data: bytes(&[0x90; 16]),
        children: vec![],
    };
    let native_py = RawCode {
        kind: Kind::NativePython { prelude_offset: 4 },
        fun_data: bytes(&[0xc3, 0x90, 0x90, 0x90, 0x08, 0x02, 0x01]),
        children: vec![],
    };
    vec![
        module(plain.clone(), vec![], bytecode(vec![])),
        module(
            plain.clone(),
            all_objects,
            bytecode(vec![bytecode(vec![]), bytecode(vec![bytecode(vec![])])]),
        ),
        module(plain.clone(), vec![deep_tuple], bytecode(vec![])),
        module(plain.clone(), vec![], deep_code),
        module(
            native_header(Arch::X64),
            vec![Object::FunTable],
            bytecode(vec![native_py.clone(), viper(Viper::default(), &[0xc3]), asm.clone()]),
        ),
        module(native_header(Arch::X64), vec![], viper(full_viper.clone(), &[0u8; 128])),
        module(native_header(Arch::XTENSAWIN), vec![], viper(full_viper, &[0u8; 64])),
        module(
            Header { arch_flags: Some(3), ..native_header(Arch::RV32IMC) },
            vec![Object::FunTable],
            bytecode(vec![asm, native_py]),
        ),
        module(
            Header { reserved_bit: true, sub_version: 1, small_int_bits: 63, ..plain },
            vec![],
            bytecode(vec![]),
        ),
    ]
}

/// Files the encoder does not write: irregular forms the decoder accepts, and some it refuses.
fn odd_files() -> Vec<Vec<u8>> {
    let m = |rest: &[u8]| [&[b'M', 6, 0, 31][..], rest].concat();
    vec![
        // Padded varuints (n_qstr, a qstr length, kind_len).
        m(&[0x80, 0x80, 0x01, 0x00, 0x80, 0x02, b'a', 0x00, 0x80, 0x28, 0x10, 0x02, 0x01, 0x51, 0x63]),
        // Trailing bytes after the outer raw code.
        m(&[0x00, 0x00, 0x28, 0x10, 0x02, 0x01, 0x51, 0x63, 0xde, 0xad]),
        // has-children bit with a child count of 0.
        m(&[0x00, 0x00, 0x2c, 0x10, 0x02, 0x01, 0x51, 0x63, 0x00]),
        // Non-NUL terminators (qstr, str).
        m(&[0x01, 0x01, 0x02, b'a', 0x7f, 0x05, 0x01, b'b', 0x01, 0x28, 0x10, 0x02, 0x01, 0x51, 0x63]),
        // Unknown object tag, a tuple nested one level too deep, raw codes nested too deep.
        m(&[0x00, 0x01, 0x0b, 0x00]),
        m(&[[0x00, 0x01].as_slice(), &[0x0a, 0x01].repeat(129), &[0x01, 0x00]].concat()),
        m(&[[0x00, 0x00].as_slice(), &[0x04, 0x01].repeat(129), &[0x00]].concat()),
        // Truncated, overflowing varuint, foreign headers.
        m(&[0x81]),
        m(&[0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
        b"C\x05\x00\x1f\x00\x00\x00".to_vec(),
        b"M\x05\x00\x1f\x00\x00\x00".to_vec(),
        b"M\x06\x7f\x1f\x01\x00\x00\x00".to_vec(),
        Vec::new(),
    ]
}

/// The stream bytes of `ops`: the wrapper module's encoding after its fixed prefix.
fn stream_of(ops: &[RelocOp]) -> Vec<u8> {
    let rc = RawCode {
        kind: Kind::Viper(Box::new(Viper {
            flags: NativeFlags::RELOC,
            relocs: Some(ops.to_vec()),
            ..Viper::default()
        })),
        fun_data: Cow::Borrowed(&[]),
        children: vec![],
    };
    let wrapper = Module { header: native_header(Arch::X64), qstrs: vec![], objects: vec![], raw_code: rc };
    let bytes = encode(&wrapper);
    assert_eq!(bytes[..reloc_body::PREFIX.len()], reloc_body::PREFIX, "wrapper prefix");
    bytes[reloc_body::PREFIX.len()..].to_vec()
}

fn selector(arch: Arch) -> u8 {
    match arch.word_size() {
        Some(8) => 1,
        _ => 0,
    }
}

fn clamp(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

fn reloc_seeds(corpus: &[Vec<u8>], modules: &[Module<'static>]) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let decoded: Vec<Module<'_>> = corpus.iter().filter_map(|f| mpy_codec::decode(f).ok()).collect();
    for m in decoded.iter().chain(modules) {
        for (_, rc) in m.raw_codes() {
            if let (Some(ops), Kind::Viper(_) | Kind::Asm(_)) = (rc.kind.relocs(), &rc.kind) {
                let rodata = match &rc.kind {
                    Kind::Viper(v) => v.rodata.as_ref().map_or(0, |r| r.len()),
                    _ => 0,
                };
                let stream = stream_of(ops);
                let sel = selector(m.header.arch);
                seeds.push(reloc_body::input(sel, clamp(rc.fun_data.len()), clamp(rodata), &stream));
                // The same stream in buffers one word too small.
                seeds.push(reloc_body::input(sel, clamp(rc.fun_data.len()) / 2, 0, &stream));
            }
        }
    }
    let at = |region, word_offset| Some(Cursor { region, word_offset });
    let base = |section, count| Target::Base { section, count };
    let streams: Vec<Vec<RelocOp>> = vec![
        vec![],
        every_op(),
        // A write through the NULL cursor, and a zero-count one.
        vec![RelocOp { cursor: None, target: Target::QstrTable }],
        vec![RelocOp { cursor: None, target: base(Section::Text, Some(0)) }],
        // A zero-count op at a cursor past the end, then a write there.
        vec![
            RelocOp { cursor: at(Region::Text, 1000), target: base(Section::Bss, Some(0)) },
            RelocOp { cursor: None, target: Target::FunTable },
        ],
        // A run that ends exactly at the end of text, then one more word.
        vec![
            RelocOp { cursor: at(Region::Text, 0), target: base(Section::Text, Some(16)) },
            RelocOp { cursor: None, target: Target::ObjTable },
        ],
        // Runs that overflow the cursor arithmetic.
        vec![RelocOp {
            cursor: at(Region::Rodata, u64::MAX >> 1),
            target: base(Section::Rodata, Some(u64::MAX)),
        }],
        vec![RelocOp { cursor: at(Region::Text, 2), target: base(Section::Text, Some(u64::MAX - 1)) }],
    ];
    for ops in &streams {
        let stream = stream_of(ops);
        for (sel, text, rodata) in [(0, 64, 32), (1, 128, 8), (0, 66, 0), (3, 16, 16), (2, 0, 0)] {
            seeds.push(reloc_body::input(sel, text, rodata, &stream));
        }
    }
    // Non-canonical and broken streams: padded varuints, trailing bytes, no terminator.
    for stream in [
        &[0x01, 0x80, 0x00, 0x03, 0x80, 0x02, 0x80, 0x04, 0xff][..],
        &[0x01, 0x00, 0xff, 0x00, 0x01],
        &[0x01, 0x00, 0x0c, 0x0e, 0x10, 0x12],
        &[0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff],
        &[0xfe, 0xff],
    ] {
        seeds.push(reloc_body::input(0, 64, 64, stream));
    }
    seeds
}

/// The `fun_data` of every bytecode raw code, and every native one (its prelude is found when byte 0
/// happens to name its offset; libFuzzer mutates from there).
fn bytecode_seeds(corpus: &[Vec<u8>], modules: &[Module<'static>]) -> Vec<Vec<u8>> {
    let decoded: Vec<Module<'_>> = corpus.iter().filter_map(|f| mpy_codec::decode(f).ok()).collect();
    let mut seeds = Vec::new();
    for m in decoded.iter().chain(modules) {
        for (_, rc) in m.raw_codes() {
            if let Kind::Bytecode | Kind::NativePython { .. } = rc.kind {
                seeds.push(rc.fun_data.to_vec());
            }
        }
    }
    seeds.sort();
    seeds.dedup();
    seeds
}

/// Byte strings for `structured`: xorshift noise of several lengths (libFuzzer grows from there).
fn structured_seeds() -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut seeds: Vec<Vec<u8>> =
        [16usize, 64, 256, 1024, 4096].iter().map(|&n| (0..n).map(|_| next() as u8).collect()).collect();
    // Deep tuples: a header, no qstrs, one object, then "Tuple with one more item" repeated.
    let mut deep = vec![0, 0, 0, 0, 31, 0, 1];
    deep.extend([0xff, 0xff, 0xff, 0xff, 0x01].repeat(300));
    seeds.push(deep);
    seeds
}
