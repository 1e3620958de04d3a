#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build script for mpy-codec (the layout their Rust projects use).
#
#   OUT=/path/to/out fuzz/build.sh
#
# Builds every cargo-fuzz target (optimised, debug assertions on; the fuzzing environment's
# RUSTFLAGS and $SANITIZER choose the sanitizer) and puts into $OUT, per target:
#   <target>                    the fuzzer binary
#   <target>_seed_corpus.zip    its seed corpus (fuzz/seeds.sh)
#   <target>.dict               the dictionary (fuzz/mpy.dict)
#   <target>.options            libFuzzer options (max_len)
# .clusterfuzzlite/build.sh calls this; an OSS-Fuzz projects/mpy-codec/build.sh would too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${OUT:?set OUT to the output directory}"
mkdir -p "$OUT"
cd "$here"

sanitizer_flag=()
case "${SANITIZER:-address}" in
    address | memory | thread | leak) sanitizer_flag=(--sanitizer "${SANITIZER:-address}") ;;
    *) sanitizer_flag=(--sanitizer none) ;; # coverage, undefined, introspector: no Rust sanitizer
esac
# OSS-Fuzz's default toolchain is a nightly; elsewhere ask rustup for one.
cargo=(cargo)
rustc --version | grep -q nightly || cargo=(cargo +nightly)
"${cargo[@]}" fuzz build -O --debug-assertions "${sanitizer_flag[@]}"

triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="${CARGO_TARGET_DIR:-$here/target}/$triple/release"
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
./seeds.sh "$seeds" >/dev/null

zip_dir() { # zip_dir DIR ZIPFILE: the files of DIR, flat
    if command -v zip >/dev/null; then
        (cd "$1" && zip -q -r "$2" .)
    else
        python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(src)):
        z.write(os.path.join(src, name), name)
PY
    fi
}

for target in $("${cargo[@]}" fuzz list); do
    cp "$bin_dir/$target" "$OUT/"
    rm -f "$OUT/${target}_seed_corpus.zip"
    zip_dir "$seeds/$target" "$OUT/${target}_seed_corpus.zip"
    cp mpy.dict "$OUT/$target.dict"
    max_len=65536
    [ "$target" = structured ] && max_len=8192 # the body reads at most 8 KiB
    printf '[libfuzzer]\nmax_len = %s\n' "$max_len" >"$OUT/$target.options"
done
echo "built $("${cargo[@]}" fuzz list | tr '\n' ' ')into $OUT"
