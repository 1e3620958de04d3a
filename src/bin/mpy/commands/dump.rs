//! `mpy dump`: the decoded tree, readable.

use std::path::PathBuf;

use mpy_codec::{DecodeOptions, Module};

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    /// .mpy files (`-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> bool {
    let mut ok = true;
    for path in &args.files {
        let result = input::read(path).and_then(|inp| {
            let decoded = Module::decode_with(&inp.bytes, DecodeOptions::default())
                .map_err(|e| format!("{}: {e}", inp.name))?;
            let mut text = String::new();
            if args.files.len() > 1 {
                text.push_str(&format!("{}:\n", inp.name));
            }
            text.push_str(&mpy_codec::dump::tree(&decoded.module));
            for irr in &decoded.irregularities {
                text.push_str(&format!("irregular: {irr}\n"));
            }
            Ok(text)
        });
        match result {
            Ok(text) => print!("{text}"),
            Err(message) => {
                eprintln!("mpy dump: {message}");
                ok = false;
            }
        }
    }
    ok
}
