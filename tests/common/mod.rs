//! Shared by the integration tests: the pinned upstream tools (installed by
//! `tests/upstream/setup.sh` into `target/upstream-venv`), compiling with them, and round-trip
//! checks that show a diff of the two dumps when bytes differ.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use mpy_codec::{DecodeOptions, Module};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every committed `.mpy` file under `corpus/` (with `corpus/handmade/`), as (path, bytes), sorted
/// by path.
pub fn corpus_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![repo_root().join("corpus")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "mpy") {
                files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "corpus/ holds no .mpy files");
    files
}

/// One upstream compiler: its release, the sub-version it writes for native code, its binary.
#[derive(Clone, Debug)]
pub struct Compiler {
    pub release: &'static str,
    pub sub_version: u8,
    pub path: PathBuf,
}

impl Compiler {
    /// Knows `-march=rv32imc` (v1.24+) and `-march-flags` (v1.27+).
    pub fn has_rv32(&self) -> bool {
        self.release == "v1.29"
    }
}

pub struct Tools {
    pub compilers: Vec<Compiler>,
    pub micropython: PathBuf,
    pub python: PathBuf,
    pub stdlib: PathBuf,
}

/// The tools, or `None` when `MPY_SKIP_UPSTREAM=1` says to run without them. Without that variable
/// a missing installation is a test failure that says how to install.
pub fn tools() -> Option<Tools> {
    if std::env::var("MPY_SKIP_UPSTREAM").is_ok_and(|v| v == "1") {
        eprintln!("MPY_SKIP_UPSTREAM=1: skipping the upstream differential checks");
        return None;
    }
    let paths_file = repo_root().join("target/upstream-venv/paths.txt");
    let text = std::fs::read_to_string(&paths_file).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nInstall the pinned upstream tools with `bash tests/upstream/setup.sh` \
             (or set MPY_SKIP_UPSTREAM=1 to skip these tests)",
            paths_file.display()
        )
    });
    let map: HashMap<&str, PathBuf> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), PathBuf::from(v.trim())))
        .collect();
    let get =
        |k: &str| map.get(k).cloned().unwrap_or_else(|| panic!("{k} missing from {}", paths_file.display()));
    let compilers = vec![
        Compiler { release: "v1.19", sub_version: 0, path: get("MPY_CROSS_1_19") },
        Compiler { release: "v1.20", sub_version: 1, path: get("MPY_CROSS_1_20") },
        Compiler { release: "v1.22", sub_version: 2, path: get("MPY_CROSS_1_22") },
        Compiler { release: "v1.23", sub_version: 3, path: get("MPY_CROSS_1_23") },
        Compiler { release: "v1.29", sub_version: 3, path: get("MPY_CROSS_1_29") },
    ];
    Some(Tools { compilers, micropython: get("MICROPYTHON"), python: get("PYTHON"), stdlib: get("STDLIB") })
}

/// A scratch directory under `target/` for this test binary.
pub fn scratch(name: &str) -> PathBuf {
    let dir = repo_root().join("target/test-scratch").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Compiles `src` with `args`; `Err` holds the compiler's message when it rejects the source.
pub fn compile(compiler: &Compiler, src: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = scratch("compile").join(format!(
        "{}-{}.mpy",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = Command::new(&compiler.path)
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg(src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", compiler.path.display()));
    let bytes = std::fs::read(&out);
    let _ = std::fs::remove_file(&out);
    if !result.status.success() {
        return Err(String::from_utf8_lossy(&result.stderr).into_owned());
    }
    bytes.map_err(|e| format!("no output: {e}"))
}

/// Every `.py` file of the machine's standard library (not site-packages), sorted.
pub fn stdlib_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && !entry.file_type().is_ok_and(|t| t.is_symlink()) {
                if name != "site-packages" && name != "__pycache__" {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Our own programs in `tests/py/`.
pub fn py_sources() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join("tests/py"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    files
}

/// Decodes (strictly: mpy-cross output has no irregularities), re-encodes and compares. On a
/// mismatch the message holds a diff of the two dumps.
pub fn check_roundtrip(bytes: &[u8]) -> Result<(), String> {
    let decoded =
        Module::decode_with(bytes, DecodeOptions { strict: true }).map_err(|e| format!("decode: {e}"))?;
    let encoded = decoded.module.encode().map_err(|e| format!("encode: {e}"))?;
    if encoded == bytes {
        return Ok(());
    }
    let first = encoded.iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(encoded.len().min(bytes.len()));
    let original = mpy_codec::dump::tree(&decoded.module);
    let again = match Module::decode(&encoded) {
        Ok(m) => mpy_codec::dump::tree(&m),
        Err(e) => format!("re-encoded bytes do not decode: {e}"),
    };
    Err(format!(
        "re-encoding differs at offset {first:#x} ({} vs {} bytes)\n{}",
        bytes.len(),
        encoded.len(),
        pretty_assertions::StrComparison::new(&original, &again)
    ))
}

/// Runs `import NAME` from `dir` in the real MicroPython; returns its standard output, or the
/// failure (exit status, both outputs).
pub fn run_micropython(micropython: &Path, dir: &Path, name: &str) -> Result<String, String> {
    let script = format!("import sys; sys.path.insert(0, '{}'); import {name}", dir.display());
    let out = Command::new(micropython).arg("-c").arg(&script).output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "exit {:?}\nstdout: {stdout}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(stdout)
}

/// A splitmix64 generator: a fixed, portable sequence for a seed, so a failure reproduces.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
