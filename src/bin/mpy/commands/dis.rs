//! `mpy dis`: disassemble every function of each file.

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: input::Files,
    /// One JSON document per file, one per line (the form is documented in the README).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> bool {
    let mut ok = true;
    let results = crate::batch::map(&args.input.files, |path| {
        input::with_module(path, |name, module| {
            if args.json {
                let mut v = mpy_codec::dis::to_json(&mpy_codec::dis::disassemble(module));
                v["file"] = serde_json::Value::String(name.to_owned());
                return Ok(format!("{v}\n"));
            }
            let several = args.input.files.len() > 1;
            let mut text = if several { format!("{name}:\n") } else { String::new() };
            mpy_codec::dis::write_text(module, &mut text).map_err(|e| format!("{name}: {e}"))?;
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
