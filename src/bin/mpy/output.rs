//! Writing a command's result to `-o FILE` or standard output.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Writes `bytes` to `path`, or to standard output when `path` is `None` or `-`. Binary output is
/// refused on a terminal.
pub fn write(path: Option<&PathBuf>, bytes: &[u8], binary: bool) -> Result<(), String> {
    match path {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, bytes).map_err(|e| format!("{}: {e}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            if binary && out.is_terminal() {
                return Err("refusing to write a binary .mpy to a terminal: use -o FILE".into());
            }
            out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| format!("standard output: {e}"))
        }
    }
}

/// Writes text to standard output; exits with status 0 if the reader closed the pipe, and with
/// status 1 on any other write error.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("mpy: standard output: {e}");
        std::process::exit(1);
    }
}
