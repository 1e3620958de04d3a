//! `mpy dump`: an annotated hex dump (every field's bytes and meaning), or with `--tree` the
//! decoded tree.

use std::io::IsTerminal;

use mpy_codec::dump::{AnnotatedLine, Part};
use mpy_codec::{DecodeOptions, Module};

use crate::input;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: input::Files,
    /// Show the decoded tree instead of the annotated bytes.
    #[arg(long)]
    tree: bool,
    /// Colour the parts of the file (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
    /// The annotated lines as JSON: one object per file with `lines` of `offset`, `bytes` (hex),
    /// `part` and `meaning`, and `error` when the file does not decode whole.
    #[arg(long, conflicts_with = "tree")]
    json: bool,
}

pub fn run(args: &Args) -> bool {
    let colour = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let mut ok = true;
    for path in &args.input.files {
        let inp = match input::read(path) {
            Ok(inp) => inp,
            Err(message) => {
                eprintln!("mpy dump: {message}");
                ok = false;
                continue;
            }
        };
        if args.input.files.len() > 1 {
            outln!("{}:", inp.name);
        }
        if args.tree {
            match Module::decode_with(&inp.bytes, DecodeOptions::default()) {
                Ok(decoded) => {
                    out!("{}", mpy_codec::dump::tree(&decoded.module));
                    for irr in &decoded.irregularities {
                        outln!("irregular: {irr}");
                    }
                }
                Err(e) => {
                    eprintln!("mpy dump: {}: {e}", inp.name);
                    ok = false;
                }
            }
            continue;
        }
        let (lines, error) = mpy_codec::dump::annotated(&inp.bytes);
        if args.json {
            let list: Vec<_> = lines
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "offset": l.offset,
                        "bytes": mpy_codec::dump::hex(&l.bytes),
                        "part": format!("{:?}", l.part).to_lowercase(),
                        "meaning": l.meaning,
                    })
                })
                .collect();
            let error = error.as_ref().map(|e| e.to_string());
            ok &= error.is_none();
            outln!("{}", serde_json::json!({"file": inp.name, "lines": list, "error": error}));
            continue;
        }
        for line in &lines {
            out!("{}", render(line, colour));
        }
        if let Some(e) = error {
            eprintln!("mpy dump: {}: {e}", inp.name);
            ok = false;
        }
    }
    ok
}

/// `offset  hex bytes (16 a row)  meaning`, continuation rows without a meaning.
fn render(line: &AnnotatedLine, colour: bool) -> String {
    let (on, off) = if colour {
        let code = match line.part {
            Part::Header => "35",
            Part::Qstr => "32",
            Part::Object => "33",
            Part::RawCode => "36",
            Part::Code => "34",
            Part::Reloc => "31",
            Part::Trailing => "41",
        };
        (format!("\x1b[{code}m"), "\x1b[0m".to_string())
    } else {
        (String::new(), String::new())
    };
    let mut out = String::new();
    let rows: Vec<&[u8]> =
        if line.bytes.is_empty() { vec![&[][..]] } else { line.bytes.chunks(16).collect() };
    for (k, row) in rows.iter().enumerate() {
        let hex = mpy_codec::dump::hex(row);
        let meaning = if k == 0 { line.meaning.as_str() } else { "" };
        let text = format!("{:06x}  {hex:<47}  {meaning}", line.offset + 16 * k);
        out.push_str(&format!("{on}{}{off}\n", text.trim_end()));
    }
    out
}
