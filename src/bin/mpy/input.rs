//! Reading the files named on the command line (`-` is standard input).

use std::io::Read;
use std::path::PathBuf;

use mpy_codec::Module;

/// The files most commands take, as their first arguments (`#[command(flatten)]`).
#[derive(clap::Args)]
pub struct Files {
    /// .mpy files (`-` for standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// A file's name as shown in messages, and its bytes.
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads one input; the error message names the file.
pub fn read(path: &PathBuf) -> Result<Input, String> {
    let name = path.display().to_string();
    let bytes = if name == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map(|_| buf)
    } else {
        std::fs::read(path)
    };
    match bytes {
        Ok(bytes) => Ok(Input { name: if name == "-" { "<stdin>".into() } else { name }, bytes }),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// Reads and decodes one input, then runs `work` on its name and module; the error message names
/// the file.
pub fn with_module<T>(
    path: &PathBuf,
    work: impl FnOnce(&str, &Module<'_>) -> Result<T, String>,
) -> Result<T, String> {
    let inp = read(path)?;
    let module = Module::decode(&inp.bytes).map_err(|e| format!("{}: {e}", inp.name))?;
    work(&inp.name, &module)
}
