//! `mpy dis`: disassemble every function of each file.

use std::path::PathBuf;

use mpy_codec::Module;

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    /// .mpy files (`-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// One JSON document per file, one per line (the form is documented in the README).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> bool {
    let mut ok = true;
    let results = crate::batch::map(&args.files, |path| {
        input::read(path).and_then(|inp| {
            let module = Module::decode(&inp.bytes).map_err(|e| format!("{}: {e}", inp.name))?;
            if args.json {
                let mut v = mpy_codec::dis::to_json(&mpy_codec::dis::disassemble(&module));
                v["file"] = serde_json::Value::String(inp.name.clone());
                return Ok(format!("{v}\n"));
            }
            let several = args.files.len() > 1;
            let mut text = if several { format!("{}:\n", inp.name) } else { String::new() };
            mpy_codec::dis::write_text(&module, &mut text).map_err(|e| format!("{}: {e}", inp.name))?;
            if several {
                text.push('\n');
            }
            Ok(text)
        })
    });
    for result in results {
        match result {
            Ok(text) => out!("{text}"),
            Err(message) => {
                eprintln!("mpy dis: {message}");
                ok = false;
            }
        }
    }
    ok
}
