//! CLI tests as data, in the style of wasm-tools: each `tests/cli/NAME.cmd` holds one `mpy` command
//! line (arguments split on spaces, run from the repository root; `< FILE` on the line feeds FILE to
//! standard input). Beside it, `NAME.stdout`, `NAME.stderr` and `NAME.status` hold what it must
//! print and its exit status. `BLESS=1 cargo test --test cli` rewrites them from the real output:
//! review the diff before committing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cmd"))
        .collect();
    cases.sort();
    cases
}

struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: i32,
}

fn run(cmd_file: &Path) -> Output {
    let line = std::fs::read_to_string(cmd_file).unwrap();
    let line = line.lines().find(|l| !l.trim().is_empty() && !l.starts_with('#')).unwrap_or("").trim();
    let (args, stdin) = match line.split_once(" < ") {
        Some((args, file)) => (args, Some(file.trim())),
        None => (line, None),
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_mpy"));
    command.args(args.split_whitespace()).current_dir(root).env("NO_COLOR", "1");
    command.stdin(match stdin {
        Some(file) => Stdio::from(std::fs::File::open(root.join(file)).unwrap()),
        None => Stdio::null(),
    });
    let out = command.output().unwrap();
    Output { stdout: out.stdout, stderr: out.stderr, status: out.status.code().unwrap_or(-1) }
}

#[test]
fn cli_cases() {
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let cases = cases();
    assert!(cases.len() >= 10, "only {} CLI cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let out = run(case);
        let expected = [
            ("stdout", out.stdout.clone()),
            ("stderr", out.stderr.clone()),
            ("status", format!("{}\n", out.status).into_bytes()),
        ];
        for (ext, actual) in expected {
            let file = case.with_extension(ext);
            if bless {
                if actual.is_empty() {
                    let _ = std::fs::remove_file(&file);
                } else {
                    std::fs::write(&file, &actual).unwrap();
                }
                continue;
            }
            let wanted = std::fs::read(&file).unwrap_or_default();
            if wanted != actual {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                let wanted = String::from_utf8_lossy(&wanted).into_owned();
                let actual = String::from_utf8_lossy(&actual).into_owned();
                failures
                    .push(format!("{name}:\n{}", pretty_assertions::StrComparison::new(&wanted, &actual)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches (BLESS=1 rewrites):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
