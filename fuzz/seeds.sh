#!/usr/bin/env bash
# Builds the per-target seed corpora: fuzz/seeds.sh [OUT_DIR] (default: fuzz/seeds).
#
# Writes OUT_DIR/<target>/ for decode, roundtrip, structured and reloc from the committed
# corpus/**/*.mpy files, tests/fuzz_regressions/<target>/ and inputs synthesized from the model
# (fuzz/seedgen, a small stable-Rust program; reloc streams are extracted from every raw code
# with relocations, or synthesized). Each seed is checked against its target's body first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="${1:-$here/seeds}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
rm -rf "${out:?}"/{decode,roundtrip,structured,reloc}
# Plain build: no sanitizer or coverage flags from a fuzzing environment (OSS-Fuzz sets RUSTFLAGS).
env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
    CARGO_TARGET_DIR="$here/seedgen/target" \
    cargo run --quiet --manifest-path "$here/seedgen/Cargo.toml" -- "$root" "$out"
