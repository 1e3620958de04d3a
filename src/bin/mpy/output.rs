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
