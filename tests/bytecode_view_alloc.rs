//! Reading a function in place allocates nothing: a counting allocator watches
//! `BytecodeView::decode` (prelude, names, cells, line-table check) and `NativePrelude::view` over
//! every function of the committed corpus, and over truncations of them (the error path).
//! One test in this binary, so that no other test's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mpy_codec::bytecode::{BytecodeView, NativePrelude};
use mpy_codec::{Kind, RawCode};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mpy_files(dir: std::path::PathBuf, out: &mut Vec<Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            mpy_files(path, out);
        } else if path.extension().is_some_and(|e| e == "mpy") {
            out.push(std::fs::read(&path).unwrap());
        }
    }
}

/// Every function's `fun_data`, with the native prelude offset for `@native` code.
fn functions<'a>(rc: &'a RawCode<'_>, out: &mut Vec<(&'a [u8], Option<usize>)>) {
    match &rc.kind {
        Kind::Bytecode => out.push((&rc.fun_data, None)),
        Kind::NativePython { prelude_offset } => {
            out.push((&rc.fun_data, Some(usize::try_from(*prelude_offset).unwrap())));
        }
        _ => {}
    }
    for child in &rc.children {
        functions(child, out);
    }
}

/// Reads the function in place and touches everything the prelude holds; returns a checksum.
fn read(fun_data: &[u8], native: Option<usize>) -> u64 {
    let prelude = match native {
        None => match BytecodeView::decode(fun_data) {
            Ok(view) => view.prelude,
            Err(e) => return e.offset as u64,
        },
        Some(offset) => match NativePrelude::view(fun_data, offset) {
            Ok(prelude) => prelude,
            Err(e) => return e.offset as u64,
        },
    };
    let names: u64 = prelude.arg_names().map(|a| a.value + u64::from(a.pad)).sum();
    let cells: u64 = prelude.cells.iter().map(|&c| u64::from(c)).sum();
    u64::from(prelude.signature.n_state) + prelude.simple_name.value + names + cells
}

#[test]
fn reading_functions_in_place_allocates_nothing() {
    let mut files = Vec::new();
    mpy_files(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), &mut files);
    let modules: Vec<_> = files.iter().filter_map(|bytes| mpy_codec::decode(bytes).ok()).collect();
    let mut all = Vec::new();
    for module in &modules {
        functions(&module.raw_code, &mut all);
    }
    let natives = all.iter().filter(|(_, native)| native.is_some()).count();
    assert!(all.len() > 100 && natives > 0, "{} functions, {natives} native", all.len());

    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut sum = 0u64;
    for &(fun_data, native) in &all {
        for end in [fun_data.len(), fun_data.len() / 2, 3, 1] {
            sum = sum.wrapping_add(read(&fun_data[..end.min(fun_data.len())], native));
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    std::hint::black_box(sum);
    assert_eq!(allocations, 0, "reading {} functions in place allocated", all.len());
}
