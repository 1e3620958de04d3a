//! `mpy info`: one line per file (or one JSON object per line with `--json`).

use mpy_codec::header::Target;
use mpy_codec::{Module, json};
use serde_json::json;

use crate::input;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: input::Files,
    /// Say whether each file loads on VERSION[:ARCH] (e.g. `1.22:armv7emsp`), and the loader's
    /// reason if not. Exit status 1 when one does not.
    #[arg(long, value_name = "VERSION[:ARCH]")]
    target: Option<Target>,
    /// One JSON object per file, one per line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> bool {
    let mut ok = true;
    let results = crate::batch::map(&args.input.files, |path| {
        input::with_module(path, |name, module| Ok(describe(name, module, args)))
    });
    for result in results {
        match result {
            Ok((line, loads)) => {
                outln!("{line}");
                ok &= loads;
            }
            Err(message) => {
                eprintln!("mpy info: {message}");
                ok = false;
            }
        }
    }
    ok
}

/// The line (or JSON) for one file, and whether it loads on the target (true without one).
fn describe(name: &str, module: &Module<'_>, args: &Args) -> (String, bool) {
    let h = &module.header;
    let mut kinds = [0usize; 4];
    for (_, rc) in module.raw_codes() {
        kinds[usize::from(rc.kind.code())] += 1;
    }
    let verdict = args.target.map(|t| (t, h.check_target(&t)));
    let loads = !matches!(verdict, Some((_, Err(_))));
    if args.json {
        let target = verdict.map(|(t, v)| {
            let (note, error, reason) = match v {
                Ok(note) => (note, None, None),
                Err(r) => (None, Some(r.loader_error), Some(r.reason)),
            };
            json!({
                "release": t.release.to_string(),
                "arch": t.arch.map(|a| a.to_string()),
                "loads": error.is_none(),
                "loader_error": error,
                "reason": reason,
                "note": note,
            })
        });
        let value = json!({
            "file": name,
            "version": 6,
            "sub_version": h.sub_version,
            "arch": h.arch.name().map(str::to_string).unwrap_or_else(|| h.arch.0.to_string()),
            "arch_code": h.arch.0,
            "arch_flags": h.arch_flags,
            "small_int_bits": h.small_int_bits,
            "qstrs": module.qstrs.len(),
            "objects": module.objects.len(),
            "raw_codes": { "bytecode": kinds[0], "native": kinds[1], "viper": kinds[2], "asm": kinds[3] },
            "loadable_by": h.loadable_by(),
            "target": target,
        });
        let _ = json::FORMAT;
        return (value.to_string(), loads);
    }
    let mut line = format!("{name}: {}", summary(module, kinds));
    if let Some((t, v)) = verdict {
        let board = match t.arch {
            Some(a) => format!("{} on {a}", t.release),
            None => t.release.to_string(),
        };
        match v {
            Ok(None) => line = format!("{name}: loads on {board}; {}", summary(module, kinds)),
            Ok(Some(note)) => line = format!("{name}: loads on {board} {note}; {}", summary(module, kinds)),
            Err(r) => {
                line = format!(
                    "{name}: does NOT load on {board}: ValueError: {} ({}); {}",
                    r.loader_error,
                    r.reason,
                    summary(module, kinds)
                )
            }
        }
    }
    (line, loads)
}

/// `mpy 6.3, x64, small-int 31 bits, 12 qstrs, 1 object, 3 raw codes (2 bytecode, 1 native); ...`
fn summary(module: &Module<'_>, kinds: [usize; 4]) -> String {
    let h = &module.header;
    let total: usize = kinds.iter().sum();
    let by_kind: Vec<String> = ["bytecode", "native", "viper", "asm"]
        .iter()
        .zip(kinds)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    let version = if h.is_native() { format!("6.{}", h.sub_version) } else { "6".to_string() };
    let arch = match h.arch_flags {
        Some(flags) => format!(
            "{} (arch flags {flags:#x})",
            if h.is_native() { h.arch.to_string() } else { "no native code".into() }
        ),
        None if h.is_native() => h.arch.to_string(),
        None => "no native code".to_string(),
    };
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
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
