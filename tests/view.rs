//! The lazy view against the tree: over the corpus, every truncation of it, byte corruptions of it,
//! hand-made hostile files and the fuzz regressions, `view::parse` accepts exactly what
//! `Module::decode` accepts (lenient and strict), rejects with the identical error (kind, offset,
//! path), and its accessors yield exactly the module's contents.

mod common;

use mpy_codec::view::{ModuleView, RawCodeView};
use mpy_codec::{DecodeOptions, Decoded, IrregularityKind, Kind, Module, RawCode};

const LENIENT: DecodeOptions = DecodeOptions { strict: false };
const STRICT: DecodeOptions = DecodeOptions { strict: true };

fn files_under(dir: &str, keep: impl Fn(&std::path::Path) -> bool) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if keep(&path) {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// Rebuilds a raw-code tree from the view's accessors alone.
fn rebuild<'a>(view: &RawCodeView<'a>) -> RawCode<'a> {
    let mut kind = view.kind().clone();
    let relocs = view.relocs().map(|ops| ops.collect());
    match &mut kind {
        Kind::Viper(v) => v.relocs = relocs,
        Kind::Asm(a) => a.relocs = relocs,
        _ => assert!(relocs.is_none(), "relocation ops on a {}", kind.name()),
    }
    let children: Vec<_> = view.children().map(|c| rebuild(&c)).collect();
    assert_eq!(children.len(), view.n_children());
    RawCode { kind, fun_data: view.fun_data().into(), children }
}

fn same_contents(name: &str, tree: &Decoded<'_>, view: &ModuleView<'_>) {
    let module = &tree.module;
    assert_eq!(view.header(), &module.header, "{name}: header");
    assert_eq!(view.qstrs().len(), module.qstrs.len(), "{name}: qstr count");
    assert!(view.qstrs().eq(module.qstrs.iter().cloned()), "{name}: qstrs");
    assert_eq!(view.source_name().as_ref(), module.source_name(), "{name}: source name");
    assert_eq!(view.objects().len(), module.objects.len(), "{name}: object count");
    assert!(view.objects().eq(module.objects.iter().cloned()), "{name}: objects");
    assert_eq!(rebuild(view.raw_code()), module.raw_code, "{name}: raw codes");

    // One-pass walk: the same raw codes, paths and depths, parents first.
    let expected = module.raw_codes();
    let mut walked = Vec::new();
    view.walk(|path, rc| walked.push((path.clone(), rc.depth(), rc.fun_data(), rc.kind().code())));
    assert_eq!(walked.len(), expected.len(), "{name}: walk");
    for ((path, depth, fun_data, code), (want_path, rc)) in walked.iter().zip(&expected) {
        assert_eq!(path, want_path, "{name}");
        assert_eq!(*depth, want_path.0.len() - 1, "{name}: depth of {path}");
        assert_eq!((*fun_data, *code), (&rc.fun_data[..], rc.kind.code()), "{name}: {path}");
    }

    // Irregularities: counted, the first kept; trailing bytes exposed.
    assert_eq!(view.irregularity_count(), tree.irregularities.len(), "{name}: irregularities");
    assert_eq!(view.first_irregularity(), tree.irregularities.first(), "{name}: first irregularity");
    assert_eq!(view.is_canonical(), tree.is_canonical(), "{name}");
    let trailing = tree.irregularities.iter().find_map(|i| match i.kind {
        IrregularityKind::TrailingBytes { count } => Some(count),
        _ => None,
    });
    assert_eq!(view.trailing_bytes().len(), trailing.unwrap_or(0), "{name}: trailing bytes");
}

/// Both decoders, lenient and strict, on one input: same verdict, same error or same contents.
/// The tree is also decoded with field spans recorded, which reads every entry with the general
/// decoders (without, canonical qstrs and objects take a shorter path): the same again. Returns
/// whether the input decoded leniently.
fn check(name: &str, bytes: &[u8]) -> bool {
    match (Module::decode_with(bytes, LENIENT), Module::decode_with_spans(bytes).0) {
        (Ok(plain), Ok(spans)) => {
            assert_eq!(plain.module, spans.module, "{name}: with spans");
            assert_eq!(plain.irregularities, spans.irregularities, "{name}: with spans");
        }
        (Err(plain), Err(spans)) => assert_eq!(plain, spans, "{name}: with spans"),
        (plain, spans) => panic!("{name}: {:?} without spans, {:?} with", plain.is_ok(), spans.is_ok()),
    }
    let mut accepted = false;
    for options in [LENIENT, STRICT] {
        match (Module::decode_with(bytes, options), ModuleView::with_options(bytes, options)) {
            (Ok(tree), Ok(view)) => {
                same_contents(name, &tree, &view);
                accepted |= options == LENIENT;
            }
            (Err(tree), Err(view)) => assert_eq!(view, tree, "{name} ({options:?}): {tree} / {view}"),
            (tree, view) => panic!(
                "{name} ({options:?}): the tree says {:?}, the view says {:?}",
                tree.map(|_| "ok"),
                view.map(|_| "ok")
            ),
        }
    }
    accepted
}

#[test]
fn corpus_files_give_the_same_contents() {
    for (name, bytes) in common::corpus_files() {
        assert!(check(&name, &bytes), "{name} must decode");
    }
}

#[test]
fn every_truncation_gives_the_same_error() {
    for (name, bytes) in common::corpus_files() {
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            let (tree, view) = (Module::decode(cut), mpy_codec::view::parse(cut));
            match (tree, view) {
                (Err(tree), Err(view)) => {
                    assert_eq!(view, tree, "{name} cut to {len}");
                    let spans = Module::decode_with_spans(cut).0.err();
                    assert_eq!(spans.as_ref(), Some(&tree), "{name} cut to {len}, with spans");
                }
                _ => panic!("{name} cut to {len}: both must fail"),
            }
        }
    }
}

/// Each corpus file with single bytes replaced, at up to this many offsets spread over the file.
const CORRUPTED_OFFSETS_PER_FILE: usize = 160;

#[test]
fn corrupted_bytes_give_the_same_verdict() {
    let (mut accepted, mut rejected) = (0, 0);
    for (name, bytes) in common::corpus_files() {
        let stride = bytes.len().div_ceil(CORRUPTED_OFFSETS_PER_FILE).max(1);
        for at in (0..bytes.len()).step_by(stride) {
            let b = bytes[at];
            // Kind and has-children bits, continuation bit, flag bits, and the extremes.
            for value in [0x00, 0xff, 0x80, b ^ 0x04, b ^ 0x03, b ^ 0x80, b.wrapping_add(1)] {
                let mut corrupt = bytes.clone();
                corrupt[at] = value;
                match check(&format!("{name} with byte {at:#x} = {value:#04x}"), &corrupt) {
                    true => accepted += 1,
                    false => rejected += 1,
                }
            }
        }
    }
    println!("corruptions: {accepted} accepted, {rejected} rejected");
    assert!(accepted > 0 && rejected > 0);
}

/// A file: header (bytecode, 31-bit small ints), then `parts`.
fn file(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = vec![b'M', 6, 0, 31];
    for p in parts {
        v.extend_from_slice(p);
    }
    v
}

fn repeat(unit: &[u8], n: usize) -> Vec<u8> {
    unit.repeat(n)
}

#[test]
fn hand_made_and_hostile_files_give_the_same_verdict() {
    let depth = mpy_codec::limits::MAX_TUPLE_DEPTH;
    let nested = |levels: usize| [repeat(&[10, 1], levels), vec![1]].concat();
    let rc_depth = mpy_codec::limits::MAX_RAW_CODE_DEPTH;
    let nested_children = |levels: usize| [repeat(&[0x04, 0x01], levels), vec![0]].concat();
    let viper_everything: &[&[u8]] = &[
        &[0, 0],
        &[0x26, 0xde, 0xad, 0xbe, 0xef],
        &[0x70, 0x04, 0x08, 1, 2, 3, 4],
        &[0x01, 0x00],
        &[0x01, 0x02, 0x03, 0x01, 0x03, 0x05, 0x0c, 0x12, 0xfe, 0xff],
    ];
    // (name, input, decodes leniently)
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("empty input", vec![], false),
        ("not an mpy", b"\x7fELF".to_vec(), false),
        ("format 5", vec![b'M', 5, 0, 31], false),
        ("circuitpython", vec![b'C', 5, 0, 31], false),
        ("minimal module", file(&[&[0, 0, 0]]), true),
        ("arch flags", vec![b'M', 6, 0x4b, 31, 0x03, 0, 0, 0], true),
        (
            "huge qstr count",
            file(&[&[0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], &[0]]),
            false,
        ),
        (
            "varuint beyond 64 bits",
            file(&[&[0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]]),
            false,
        ),
        ("varuint padded beyond the cap", file(&[&[0x80; 80], &[0, 0, 0]]), false),
        ("qstr longer than the file", file(&[&[1, 0, 0x20, b'a']]), false),
        ("unknown object tag", file(&[&[0, 1, 11, 0]]), false),
        ("tuples at the depth limit", file(&[&[0, 1], &nested(depth), &[0]]), true),
        ("tuples one past the depth limit", file(&[&[0, 1], &nested(depth + 1), &[0]]), false),
        ("tuples nested a million deep", file(&[&[0, 1], &nested(1_000_000), &[0]]), false),
        ("tuple count larger than the file", file(&[&[0, 1, 10, 0x7f, 1]]), false),
        ("tuple cut inside an item", file(&[&[0, 1, 10, 2, 1, 5, 3, b'a']]), false),
        ("fun_data longer than the file", file(&[&[0, 0, 0x99, 0x60], &[0; 40]]), false),
        ("child count larger than the file", file(&[&[0, 0, 0x04, 0x7f]]), false),
        ("raw codes at the depth limit", file(&[&[0, 0], &nested_children(rc_depth - 1)]), true),
        ("raw codes one past the depth limit", file(&[&[0, 0], &nested_children(rc_depth)]), false),
        ("raw codes nested 100000 deep", file(&[&[0, 0], &nested_children(100_000)]), false),
        ("relocation stream without its terminator", file(&[&[0, 0, 0x0a, 0xc3, 0x10, 0x01, 0, 0]]), false),
        ("rodata longer than the file", file(&[&[0, 0, 0x0a, 0xc3, 0x20, 0x10, 0xaa]]), false),
        ("viper record with everything", file(viper_everything), true),
        ("asm record with relocations", file(&[&[0, 0, 0x0b, 0xc3, 0x10, 2, 0, 0x11, 0x05, 0xff]]), true),
        ("native python", file(&[&[0, 0, 0x11, 0xaa, 0xbb, 0x01]]), true),
        ("padded varuint", file(&[&[0x80, 0, 0, 0]]), true),
        ("trailing bytes", file(&[&[0, 0, 0], b"junk"]), true),
        ("has-children bit, no children", file(&[&[0, 0, 0x04, 0]]), true),
        ("qstr terminator not NUL", file(&[&[1, 0, 2, b'a', b'!'], &[0]]), true),
        ("str terminator not NUL", file(&[&[0, 1, 5, 1, b'a', 7], &[0]]), true),
        (
            "many irregularities",
            file(&[&[0x80, 50], &repeat(&[0, 1], 50), &[0], &[0x80, 0x80, 0], b"!"]),
            true,
        ),
        ("one-byte objects", file(&[&[0, 0x83, 0x68], &[1; 1000], &[0]]), true),
        ("empty qstrs", file(&[&[0x87, 0x68, 0], &[0; 2000], &[0]]), true),
        ("one-byte children", file(&[&[0, 0, 0x04, 0x87, 0x68], &[0; 1000]]), true),
        ("a wide tuple", file(&[&[0, 1, 10, 0x87, 0x68], &[1; 1000], &[0]]), true),
        ("one-byte relocation ops", file(&[&[0, 0, 0x0a, 0xc3, 0x10], &[0; 1000], &[0xff]]), true),
        ("a truncated huge count", file(&[&[0, 0, 0x04, 0xff, 0xff, 0xff, 0x7f]]), false),
    ];
    for (name, input, ok) in cases {
        assert_eq!(check(name, &input), ok, "{name}");
    }
}

#[test]
fn fuzz_regressions_give_the_same_verdict() {
    for (name, bytes) in files_under("tests/fuzz_regressions", |p| p.extension().is_none_or(|e| e != "md")) {
        check(&name, &bytes);
    }
}

#[test]
fn children_can_be_visited_partly_and_in_any_order() {
    // Stop after the first child, come back later: each iterator is independent.
    for (name, bytes) in common::corpus_files() {
        let module = Module::decode(&bytes).unwrap();
        let view = mpy_codec::view::parse(&bytes).unwrap();
        let outer = view.raw_code();
        if let Some(first) = outer.children().next() {
            assert_eq!(first.fun_data(), &module.raw_code.children[0].fun_data[..], "{name}");
        }
        let last = outer.children().last();
        assert_eq!(
            last.map(|c| c.fun_data()),
            module.raw_code.children.last().map(|c| &c.fun_data[..]),
            "{name}"
        );
        let mut children = outer.children();
        assert_eq!(children.len(), module.raw_code.children.len(), "{name}");
        children.next();
        assert_eq!(children.len(), module.raw_code.children.len().saturating_sub(1), "{name}");
    }
}
