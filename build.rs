//! Embeds the 165 static qstr names (data/static_qstrs_v6.txt, line N = id N) as a Rust array.

use std::{env, fs, path::PathBuf};

fn main() {
    let src = "data/static_qstrs_v6.txt";
    println!("cargo::rerun-if-changed={src}");
    let text = fs::read_to_string(src).expect("read the static qstr list");
    let mut out = String::from("/// Static qstrs by id - 1 (id 1 is the empty string).\n");
    out.push_str("pub static STATIC_QSTRS: [&[u8]; STATIC_QSTR_COUNT] = [\n");
    let mut n = 0;
    for line in text.split('\n').take(165) {
        // Line 3 holds the two characters `\n`, standing for one newline byte; no other escapes.
        let name: &[u8] = if line == "\\n" { b"\n" } else { line.as_bytes() };
        out.push_str(&format!("    b{:?},\n", String::from_utf8_lossy(name)));
        n += 1;
    }
    assert_eq!(n, 165, "the static qstr list has 165 entries");
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap()).join("static_qstrs.rs");
    fs::write(dest, out).expect("write static_qstrs.rs");
}
