#!/usr/bin/env bash
# Short, bounded fuzz runs for CI (tests/run.sh calls this when it is executable).
#
#   fuzz/run-short.sh [TARGET...]      default: every target in fuzz/Cargo.toml
#
# Installs cargo-fuzz if missing, builds every target with the nightly toolchain (optimised, with
# debug assertions and AddressSanitizer), regenerates the seed corpora (fuzz/seeds.sh), and runs
# each target for FUZZ_SECONDS (default 30) on the seeds and its local corpus (fuzz/corpus/<target>),
# with the dictionary, two at a time. Prints per target the executions, executions per second and
# libFuzzer's final cov/ft figures. Any crash, timeout, leak or out-of-memory fails the script;
# the input is kept in fuzz/artifacts/<target>/ (see fuzz/README.md to turn it into a regression).
#
# Environment:
#   FUZZ_SECONDS      time per target (default 30)
#   FUZZ_RUNS         executions per target, whichever of the two comes first (default: no limit)
#   FUZZ_PARALLEL     targets at once (default 2; one libFuzzer process each, no forking)
#   FUZZ_SANITIZER    address | none (default address)
#   FUZZ_TARGET_DIR   cargo target directory for the fuzz build (default fuzz/target)
#   FUZZ_NICE         niceness of the fuzzing processes (default 0)
#   FUZZ_LOG_DIR      keep the libFuzzer logs there (default: a temporary directory)
#   FUZZ_REQUIRE_NIGHTLY=1  fail instead of skipping when no nightly toolchain is installed
# A long run, as done before a release: FUZZ_SECONDS=1800 FUZZ_RUNS=10000000 fuzz/run-short.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

seconds="${FUZZ_SECONDS:-30}"
runs="${FUZZ_RUNS:--1}"
parallel="${FUZZ_PARALLEL:-2}"
sanitizer="${FUZZ_SANITIZER:-address}"
target_dir="${FUZZ_TARGET_DIR:-$here/target}"
niceness="${FUZZ_NICE:-0}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    if [ "${FUZZ_REQUIRE_NIGHTLY:-0}" = 1 ]; then
        echo "run-short.sh: no nightly toolchain (rustup toolchain install nightly)" >&2
        exit 1
    fi
    echo "run-short.sh: no nightly toolchain installed; skipping the fuzz runs"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

mapfile -t all_targets < <(cargo +nightly fuzz list)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

start=$SECONDS
echo "building ${targets[*]} (nightly, -O, debug assertions, sanitizer $sanitizer)"
build_log="$(mktemp)"
if ! cargo +nightly fuzz build -O --debug-assertions --sanitizer "$sanitizer" --target-dir "$target_dir" \
    >"$build_log" 2>&1; then
    cat "$build_log" >&2
    exit 1
fi
rm -f "$build_log"
echo "built in $((SECONDS - start)) s"

./seeds.sh "$here/seeds" >/dev/null
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"
if [ -n "${FUZZ_LOG_DIR:-}" ]; then
    logs="$FUZZ_LOG_DIR"
    mkdir -p "$logs"
else
    logs="$(mktemp -d)"
    trap 'rm -rf "$logs"' EXIT
fi

max_len_of() {
    case "$1" in
        structured) echo 8192 ;;   # the body reads at most 8 KiB (fuzz/bodies/structured.rs)
        *) echo 65536 ;;
    esac
}

run_one() {
    local t="$1"
    local rc=0
    mkdir -p "corpus/$t" "artifacts/$t"
    nice -n "$niceness" "$bin_dir/$t" "corpus/$t" "seeds/$t" \
        -dict="$here/mpy.dict" -max_total_time="$seconds" -runs="$runs" -max_len="$(max_len_of "$t")" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$here/artifacts/$t/" >"$logs/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$logs/$t.rc"
}

running=0
for t in "${targets[@]}"; do
    [ -x "$bin_dir/$t" ] || { echo "run-short.sh: no binary for target $t" >&2; exit 1; }
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

failed=0
printf '\n%-12s %12s %10s %8s %8s %8s  %s\n' target execs execs/s cov ft seconds result
for t in "${targets[@]}"; do
    log="$logs/$t.log"
    rc="$(cat "$logs/$t.rc" 2>/dev/null || echo 1)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    last="$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
    result=ok
    if [ "$rc" != 0 ]; then
        result="FAILED (exit $rc)"
        failed=1
    fi
    secs="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
    printf '%-12s %12s %10s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${secs:-?}" "$result"
    if [ "$rc" != 0 ]; then
        echo "---- $t: last lines of the libFuzzer log" >&2
        grep -v '^#[0-9]' "$log" | tail -40 >&2
        ls -1 "artifacts/$t/" >&2 || true
    fi
done
echo "total $((SECONDS - start)) s"
if [ "$failed" != 0 ]; then
    echo "run-short.sh: a fuzz target failed; see fuzz/README.md (\"Adding a regression\")" >&2
    exit 1
fi
