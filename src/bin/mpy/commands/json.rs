//! `mpy to-json` and `mpy from-json`: the lossless JSON form (see `mpy_codec::json`).

use std::path::PathBuf;

use mpy_codec::Module;

use crate::input;

#[derive(clap::Args)]
pub struct ToArgs {
    /// A .mpy file (`-` for standard input).
    file: PathBuf,
    /// Write the JSON here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct FromArgs {
    /// A JSON file made by `mpy to-json` (`-` for standard input).
    file: PathBuf,
    /// Write the .mpy here (required unless standard output is not a terminal).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn to_json(args: &ToArgs) -> bool {
    let result = input::read(&args.file).and_then(|inp| {
        let module = Module::decode(&inp.bytes).map_err(|e| format!("{}: {e}", inp.name))?;
        crate::output::write(args.output.as_ref(), mpy_codec::json::to_json(&module).as_bytes(), false)
    });
    crate::report("to-json", result)
}

pub fn from_json(args: &FromArgs) -> bool {
    let result = input::read(&args.file).and_then(|inp| {
        let text = String::from_utf8(inp.bytes).map_err(|_| format!("{}: not UTF-8 text", inp.name))?;
        let module = mpy_codec::json::from_json(&text).map_err(|e| format!("{}: {e}", inp.name))?;
        let bytes = module.encode().map_err(|e| format!("{}: cannot encode: {e}", inp.name))?;
        crate::output::write(args.output.as_ref(), &bytes, true)
    });
    crate::report("from-json", result)
}
