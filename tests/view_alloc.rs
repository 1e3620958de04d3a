//! The view's memory does not grow with the input: a counting allocator measures the peak while
//! `view::parse` checks each hostile shape (those of tests/alloc_bounds.rs, which cost the tree up
//! to 64 bytes per input byte, and more), and while its accessors visit everything, at two sizes.
//! One test in this binary, so that no other test's allocations are counted.

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::peak_during;
use mpy_codec::view;

/// What the view may allocate, whatever the input size: the path (one segment per nesting level,
/// up to 2 × 128 + a few), the boxed native record of each raw code on the current branch (up to
/// 128), one irregularity or error (with a copy of the path). The tree's own constant.
const CONSTANT: usize = 64 * 1024;

/// Hostile shapes of about `n` bytes: (name, input, whether its objects are tuples, whose
/// decoding allocates their items by design).
fn hostile_inputs(n: usize) -> Vec<(&'static str, Vec<u8>, bool)> {
    let vuint = |v: usize| {
        let mut out = Vec::new();
        mpy_codec::varuint::encode(v as u64, &mut out);
        out
    };
    let with = |qstrs: &[u8], nq: usize, objs: &[u8], no: usize, raw: &[u8]| {
        [&[b'M', 6, 0, 31][..], &vuint(nq), &vuint(no), qstrs, objs, raw].concat()
    };
    let children = [&[0x04][..], &vuint(n), &vec![0u8; n]].concat();
    let tuple = [&[10][..], &vuint(n), &vec![1u8; n]].concat();
    let relocs = [&[0x0a, 0xc3, 0x10][..], &vec![0u8; n], &[0xff]].concat();
    let nest = [[10, 1].repeat(mpy_codec::limits::MAX_TUPLE_DEPTH), vec![1]].concat();
    let copies = n / nest.len();
    // Each level: a viper raw code (boxed record) with one child; the deepest branch allowed.
    let deep =
        [[0x06, 0x00, 0x01].repeat(mpy_codec::limits::MAX_RAW_CODE_DEPTH - 2), vec![0x02, 0x00]].concat();
    let deep_natives = [&[0x04][..], &vuint(n / deep.len()), &deep.repeat(n / deep.len())].concat();
    vec![
        ("one-byte objects", with(&[], 0, &vec![1u8; n], n, &[0]), false),
        ("empty qstrs", with(&vec![0u8; n], n / 2, &[], 0, &[0]), false),
        ("empty static qstrs", with(&vec![3u8; n], n, &[], 0, &[0]), false),
        ("non-NUL qstr terminators", with(&[0, 1].repeat(n / 2), n / 2, &[], 0, &[0]), false),
        ("padded varuints", with(&[0x80, 0x03].repeat(n / 2), n / 2, &[], 0, &[0]), false),
        ("one-byte children", with(&[], 0, &[], 0, &children), false),
        ("deep viper branches", with(&[], 0, &[], 0, &deep_natives), false),
        ("a wide tuple", with(&[], 0, &tuple, 1, &[0]), true),
        ("nested tuples", with(&[], 0, &nest.repeat(copies), copies, &[0]), true),
        ("one-byte relocation ops", with(&[], 0, &[], 0, &relocs), false),
        ("a truncated huge count", with(&[], 0, &[], 0, &[0x04, 0xff, 0xff, 0xff, 0x7f]), false),
    ]
}

/// Visits everything the view offers but the objects: every qstr, every raw code (one-pass walk)
/// with its relocation ops. Returns how many items it saw.
fn visit_all(v: &view::ModuleView<'_>) -> usize {
    let mut seen = v.qstrs().count();
    v.walk(|_, rc| seen += 1 + rc.relocs().map_or(0, Iterator::count));
    seen
}

#[test]
fn view_memory_is_bounded_by_a_constant() {
    for n in [100_000, 1_000_000] {
        for (name, input, tuples) in hostile_inputs(n) {
            let (parse, parsed) = peak_during(|| view::parse(&input));
            let (visit, objects) = match &parsed {
                Ok(v) => (peak_during(|| visit_all(v)).0, peak_during(|| v.objects().count()).0),
                Err(_) => (0, 0),
            };
            println!(
                "{name:<26} {:>8} bytes in: peak {parse:>5} bytes parsing, {visit:>5} visiting, \
                 {objects:>8} decoding the objects; {}",
                input.len(),
                parsed.as_ref().map_or_else(|e| e.to_string(), |_| "accepted".into())
            );
            assert!(parse <= CONSTANT, "{name}: parsing {} bytes allocated {parse}", input.len());
            assert!(visit <= CONSTANT, "{name}: visiting {} bytes allocated {visit}", input.len());
            if !tuples {
                assert!(objects <= CONSTANT, "{name}: objects of {} bytes allocated {objects}", input.len());
            }
        }
    }
}
