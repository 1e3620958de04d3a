//! `mpy strip`: remove line-number tables and/or replace the source name (see
//! `mpy_codec::transform::strip`), and say how many bytes that saved.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use mpy_codec::Module;
use mpy_codec::transform::{StripOptions, strip};

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: input::Files,
    /// Write the stripped file here (`-` for standard output). With several inputs, an existing
    /// directory: each output is named as its input. Without -o, --in-place or --dry-run, a single
    /// input is written to standard output.
    #[arg(short, long, value_name = "OUT", conflicts_with_all = ["in_place", "dry_run"])]
    output: Option<PathBuf>,
    /// Overwrite each input with its stripped form.
    #[arg(long, conflicts_with = "dry_run")]
    in_place: bool,
    /// Only say how many bytes stripping would save; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep the line-number tables (tracebacks then still show source lines).
    #[arg(long)]
    keep_lines: bool,
    /// Replace the source file name (qstr 0, shown in tracebacks) with NAME.
    #[arg(long, value_name = "NAME")]
    source_name: Option<String>,
}

/// Where the stripped files go.
enum Dest {
    Stdout,
    File(PathBuf),
    /// Into this directory, named as the input.
    Dir(PathBuf),
    InPlace,
    Nowhere,
}

/// What one file came to: (name, bytes before, bytes after).
type Saved = (String, usize, usize);

pub fn run(args: &Args) -> bool {
    let dest = destination(args);
    let options = StripOptions {
        keep_lines: args.keep_lines,
        source_name: args.source_name.as_ref().map(|s| s.as_bytes().to_vec()),
    };
    let results = crate::batch::map(&args.input.files, |path| one(path, &dest, &options));
    let (mut before, mut after, mut failed) = (0, 0, 0);
    for result in results {
        match result {
            Ok((name, b, a)) => {
                before += b;
                after += a;
                let line = format!("{name}: {b} -> {a} bytes ({:+})", a as i64 - b as i64);
                // Standard output may carry the file itself.
                if matches!(dest, Dest::Stdout) {
                    eprintln!("{line}");
                } else {
                    outln!("{line}");
                }
            }
            Err(message) => {
                eprintln!("mpy strip: {message}");
                failed += 1;
            }
        }
    }
    if args.input.files.len() > 1 {
        let failed = if failed > 0 { format!(", {failed} failed") } else { String::new() };
        outln!(
            "{} files: {before} -> {after} bytes ({:+}){failed}",
            args.input.files.len(),
            after as i64 - before as i64
        );
    }
    failed == 0
}

/// Strips one file and writes it where it goes.
fn one(path: &PathBuf, dest: &Dest, options: &StripOptions) -> Result<Saved, String> {
    let inp = input::read(path)?;
    let module = Module::decode(&inp.bytes).map_err(|e| format!("{}: {e}", inp.name))?;
    let stripped = strip(&module, options).map_err(|e| format!("{}: {e}", inp.name))?;
    let bytes = stripped.encode().map_err(|e| format!("{}: cannot encode: {e}", inp.name))?;
    match dest {
        Dest::Stdout => crate::output::write(None, &bytes, true)?,
        Dest::File(out) => crate::output::write(Some(out), &bytes, true)?,
        Dest::Dir(dir) => {
            let out = dir.join(path.file_name().unwrap_or(path.as_os_str()));
            crate::output::write(Some(&out), &bytes, true)?
        }
        Dest::InPlace => crate::output::write(Some(path), &bytes, true)?,
        Dest::Nowhere => {}
    }
    Ok((inp.name, inp.bytes.len(), bytes.len()))
}

/// Where the outputs go; a usage error (exit status 2) when the options cannot work.
fn destination(args: &Args) -> Dest {
    let several = args.input.files.len() > 1;
    let stdin = args.input.files.iter().any(|f| f.as_os_str() == "-");
    if args.dry_run {
        return Dest::Nowhere;
    }
    if args.in_place {
        if stdin {
            usage("--in-place cannot overwrite standard input (`-`)");
        }
        return Dest::InPlace;
    }
    match &args.output {
        None if several => usage("several inputs: give -o DIRECTORY, --in-place or --dry-run"),
        None => Dest::Stdout,
        Some(out) if out.as_os_str() == "-" && !several => Dest::Stdout,
        Some(out) if out.is_dir() => {
            if stdin {
                usage("-o DIRECTORY names each output after its input, and standard input has no name");
            }
            let mut seen = HashSet::new();
            for f in &args.input.files {
                let name = f.file_name().unwrap_or(f.as_os_str());
                if !seen.insert(name) {
                    usage(&format!(
                        "two inputs are named {}: their outputs would overwrite each other in {}",
                        Path::new(name).display(),
                        out.display()
                    ));
                }
            }
            Dest::Dir(out.clone())
        }
        Some(_) if several => usage("several inputs: -o must name an existing directory"),
        Some(out) => Dest::File(out.clone()),
    }
}

fn usage(message: &str) -> ! {
    clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, format!("{message}\n")).exit()
}
