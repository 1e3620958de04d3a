//! `mpy`: inspect, check and transform MicroPython .mpy files. A thin layer over `mpy_codec`.
// The doc comments are also the --help texts, which use the usual `VERSION[:ARCH]` notation.
#![allow(rustdoc::broken_intra_doc_links)]

/// `println!` to standard output that ends the program quietly when the reader has gone away
/// (`mpy dis x.mpy | head`), instead of panicking on a broken pipe.
macro_rules! outln {
    ($($t:tt)*) => { $crate::output::emit(&format!("{}\n", format_args!($($t)*))) };
}

/// `print!` with the same behaviour as [`outln!`].
macro_rules! out {
    ($($t:tt)*) => { $crate::output::emit(&format!($($t)*)) };
}

mod batch;
mod commands;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Read, write, verify and disassemble MicroPython .mpy files (format 6).
#[derive(Parser)]
#[command(name = "mpy", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXIT_CODES: &str = "Exit status: 0 success; 1 a file failed (could not be read or decoded, \
differs, or did not verify); 2 usage error.";

#[derive(Subcommand)]
enum Command {
    /// One line per file: format version, arch, small-int bits, counts, and which MicroPython
    /// releases can load it.
    #[command(after_help = EXIT_CODES)]
    Info(commands::info::Args),
    /// An annotated hex dump: every field's bytes and meaning, bytecode as instructions (colour on
    /// a terminal); `--tree` for the decoded tree.
    #[command(after_help = EXIT_CODES)]
    Dump(commands::dump::Args),
    /// Disassemble: every function with its path, name and signature, one instruction per line
    /// (offset, bytes, opcode, resolved operands, source line); native code as hex.
    #[command(after_help = EXIT_CODES)]
    Dis(commands::dis::Args),
    /// Decode, re-encode and compare each file byte for byte.
    #[command(after_help = EXIT_CODES)]
    Roundtrip(commands::roundtrip::Args),
    /// Prove files safe to load: indices, opcodes, jumps, preludes, relocations and stack
    /// discipline. Lists every finding; exit status 0 only when every file passes.
    #[command(after_help = EXIT_CODES)]
    Verify(commands::verify::Args),
    /// The lossless, versioned JSON form of a module.
    #[command(after_help = EXIT_CODES)]
    ToJson(commands::json::ToArgs),
    /// Assemble a .mpy from its JSON form (as written by `to-json`, possibly edited).
    #[command(after_help = EXIT_CODES)]
    FromJson(commands::json::FromArgs),
    /// Make files smaller: remove the line-number tables (tracebacks then say line 1) and/or
    /// replace the source name; prints the bytes saved per file.
    #[command(after_help = EXIT_CODES)]
    Strip(commands::strip::Args),
    /// Merge .mpy files into one module that runs each in the order given (like `mpy-tool.py
    /// --merge`); at most one may contain native code.
    #[command(after_help = EXIT_CODES)]
    Merge(commands::merge::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ok = match cli.command {
        Command::Info(args) => commands::info::run(&args),
        Command::Dump(args) => commands::dump::run(&args),
        Command::Roundtrip(args) => commands::roundtrip::run(&args),
        Command::Dis(args) => commands::dis::run(&args),
        Command::Verify(args) => commands::verify::run(&args),
        Command::ToJson(args) => commands::json::to_json(&args),
        Command::FromJson(args) => commands::json::from_json(&args),
        Command::Strip(args) => commands::strip::run(&args),
        Command::Merge(args) => commands::merge::run(&args),
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Prints a command's failure (the message names the file) and says whether it succeeded.
fn report(command: &str, result: Result<(), String>) -> bool {
    match result {
        Ok(()) => true,
        Err(message) => {
            eprintln!("mpy {command}: {message}");
            false
        }
    }
}
