//! `mpy info`: one line per file.

use std::path::PathBuf;

use mpy_codec::{Kind, Module};

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
        match input::read(path).and_then(|inp| {
            let module = Module::decode(&inp.bytes).map_err(|e| format!("{}: {e}", inp.name))?;
            Ok(format!("{}: {}", inp.name, summary(&module)))
        }) {
            Ok(line) => println!("{line}"),
            Err(message) => {
                eprintln!("mpy info: {message}");
                ok = false;
            }
        }
    }
    ok
}

/// `mpy 6.3, x64, small-int 31 bits, 12 qstrs, 1 object, 3 raw codes (2 bytecode, 1 native); ...`
pub fn summary(module: &Module<'_>) -> String {
    let h = &module.header;
    let mut kinds = [0usize; 4];
    for (_, rc) in module.raw_codes() {
        kinds[usize::from(rc.kind.code())] += 1;
    }
    let total: usize = kinds.iter().sum();
    let by_kind: Vec<String> = ["bytecode", "native", "viper", "asm"]
        .iter()
        .zip(kinds)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    let version = if h.is_native() { format!("6.{}", h.sub_version) } else { "6".to_string() };
    let arch = match h.arch_flags {
        Some(flags) => format!("{} (arch flags {flags:#x})", h.arch),
        None if h.is_native() => h.arch.to_string(),
        None => "no native code".to_string(),
    };
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = Kind::Bytecode;
    format!(
        "mpy {version}, {arch}, small-int {} bits, {}, {}, {} ({}); {}",
        h.small_int_bits,
        plural(module.qstrs.len(), "qstr"),
        plural(module.objects.len(), "object"),
        plural(total, "raw code"),
        by_kind.join(", "),
        h.loadable_by()
    )
}
