//! `mpy verify`: prove files safe to load, or list every finding.

use mpy_codec::verify::Verifier;
use serde_json::json;

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: input::Files,
    /// One JSON object per file, one per line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> bool {
    let (mut passed, mut failed) = (0usize, 0usize);
    // One verifier per worker: its buffers serve every file the worker takes.
    let results = crate::batch::map_init(&args.input.files, Verifier::new, |verifier, path| {
        input::with_module(path, |name, module| Ok((name.to_owned(), verifier.verify(module))))
    });
    for result in results {
        match result {
            Ok((name, findings)) => {
                if findings.is_empty() {
                    passed += 1;
                } else {
                    failed += 1;
                }
                if args.json {
                    let list: Vec<_> = findings
                        .iter()
                        .map(|f| {
                            json!({"path": f.path.to_string(), "offset": f.offset, "check": f.check.name(), "message": f.message})
                        })
                        .collect();
                    outln!("{}", json!({"file": name, "ok": findings.is_empty(), "findings": list}));
                } else if findings.is_empty() {
                    outln!("{name}: ok");
                } else {
                    outln!(
                        "{name}: {} finding{}",
                        findings.len(),
                        if findings.len() == 1 { "" } else { "s" }
                    );
                    for finding in &findings {
                        outln!("  {finding}");
                    }
                }
            }
            Err(message) => {
                eprintln!("mpy verify: {message}");
                failed += 1;
            }
        }
    }
    if !args.json && args.input.files.len() > 1 {
        outln!("{} files: {passed} passed, {failed} failed", args.input.files.len());
    }
    failed == 0
}
