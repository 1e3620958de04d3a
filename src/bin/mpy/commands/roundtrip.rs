//! `mpy roundtrip`: decode, re-encode, compare.

use std::path::PathBuf;

use mpy_codec::{DecodeOptions, Module};

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: input::Files,
    /// One JSON object per file (`file`, `status`: identical/differs/failed, `detail`), then a
    /// summary object.
    #[arg(long)]
    json: bool,
}

enum Outcome {
    Identical,
    Differs(String),
    Failed(String),
}

fn check(path: &PathBuf) -> Outcome {
    let inp = match input::read(path) {
        Ok(inp) => inp,
        Err(e) => return Outcome::Failed(e),
    };
    let decoded = match Module::decode_with(&inp.bytes, DecodeOptions::default()) {
        Ok(d) => d,
        Err(e) => return Outcome::Failed(format!("{}: {e}", inp.name)),
    };
    let encoded = match decoded.module.encode() {
        Ok(bytes) => bytes,
        Err(e) => return Outcome::Failed(format!("{}: cannot encode: {e}", inp.name)),
    };
    if encoded == inp.bytes {
        return Outcome::Identical;
    }
    let first = encoded
        .iter()
        .zip(&inp.bytes)
        .position(|(a, b)| a != b)
        .unwrap_or(encoded.len().min(inp.bytes.len()));
    let why = match decoded.irregularities.first() {
        Some(irr) => format!(" ({irr})"),
        None => String::new(),
    };
    Outcome::Differs(format!(
        "{}: differs at offset {first:#x} (input {} bytes, re-encoded {} bytes){why}",
        inp.name,
        inp.bytes.len(),
        encoded.len()
    ))
}

pub fn run(args: &Args) -> bool {
    let (mut identical, mut differ, mut failed) = (0, 0, 0);
    let outcomes = crate::batch::map(&args.input.files, check);
    if args.json {
        for (path, outcome) in args.input.files.iter().zip(&outcomes) {
            let (status, detail) = match outcome {
                Outcome::Identical => ("identical", None),
                Outcome::Differs(d) => ("differs", Some(d.as_str())),
                Outcome::Failed(d) => ("failed", Some(d.as_str())),
            };
            outln!(
                "{}",
                serde_json::json!({"file": path.display().to_string(), "status": status, "detail": detail})
            );
        }
    }
    for outcome in outcomes {
        match outcome {
            Outcome::Identical => identical += 1,
            Outcome::Differs(line) => {
                if !args.json {
                    outln!("{line}");
                }
                differ += 1;
            }
            Outcome::Failed(message) => {
                if !args.json {
                    eprintln!("mpy roundtrip: {message}");
                }
                failed += 1;
            }
        }
    }
    let n = args.input.files.len();
    if args.json {
        outln!(
            "{}",
            serde_json::json!({"files": n, "identical": identical, "differ": differ, "failed": failed})
        );
        return differ == 0 && failed == 0;
    }
    outln!(
        "{n} file{}: {identical} identical, {differ} differ, {failed} failed",
        if n == 1 { "" } else { "s" }
    );
    differ == 0 && failed == 0
}
