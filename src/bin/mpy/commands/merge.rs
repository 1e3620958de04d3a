//! `mpy merge`: several .mpy files into one module that runs each in turn (see
//! `mpy_codec::transform::merge`).

use std::path::PathBuf;

use mpy_codec::Module;

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    /// .mpy files, in the order they are to run (`-` for standard input). At most one may contain
    /// native code; its qstr and constant tables come first in the merged file.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the merged file here (`-` for standard output, the default when it is not a
    /// terminal).
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
}

pub fn run(args: &Args) -> bool {
    let inputs: Vec<_> = args.files.iter().map(input::read).collect();
    let mut ok = true;
    for failed in inputs.iter().filter_map(|r| r.as_ref().err()) {
        eprintln!("mpy merge: {failed}");
        ok = false;
    }
    let inputs: Vec<input::Input> = inputs.into_iter().filter_map(Result::ok).collect();
    let mut modules = Vec::with_capacity(inputs.len());
    for inp in &inputs {
        match Module::decode(&inp.bytes) {
            Ok(m) => modules.push(m),
            Err(e) => {
                eprintln!("mpy merge: {}: {e}", inp.name);
                ok = false;
            }
        }
    }
    if !ok {
        return false;
    }
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    let result = mpy_codec::transform::merge(&modules)
        .map_err(|e| e.display_with(&names).to_string())
        .and_then(|merged| merged.encode().map_err(|e| format!("cannot encode the merged file: {e}")))
        .and_then(|bytes| {
            crate::output::write(args.output.as_ref(), &bytes, true)?;
            Ok(bytes.len())
        });
    let to_stdout = args.output.as_ref().is_none_or(|o| o.as_os_str() == "-");
    let out_name = match &args.output {
        Some(o) if !to_stdout => o.display().to_string(),
        _ => "<stdout>".to_string(),
    };
    let total: usize = inputs.iter().map(|i| i.bytes.len()).sum();
    let result = result.map(|len| {
        let n = inputs.len();
        let line = format!(
            "{out_name}: {n} file{} merged, {total} -> {len} bytes ({:+})",
            if n == 1 { "" } else { "s" },
            len as i64 - total as i64
        );
        // Standard output may carry the file itself.
        if to_stdout {
            eprintln!("{line}");
        } else {
            outln!("{line}");
        }
    });
    crate::report("merge", result)
}
