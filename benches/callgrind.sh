#!/usr/bin/env bash
# Instructions executed per pass and per input byte, counted by valgrind's callgrind: a figure that
# does not move with the load of a shared machine, for comparing two versions of the library.
#
#   bash benches/callgrind.sh [OP...]     OP: decode functions verify disasm (default: all four)
#
# A pass is `codec time OP N LIST` over the corpus (or the first LIMIT files, default 300: the
# layers are slow under valgrind); per pass = (Ir of 3 passes - Ir of 1 pass) / 2, so start-up,
# reading the files and the untimed warm-up pass cancel out.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
limit="${LIMIT:-300}"
ops=("$@")
[ ${#ops[@]} -gt 0 ] || ops=(decode functions verify disasm)
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is needed" >&2; exit 1; }

bin="$(cargo bench --bench codec --no-run --message-format=json \
    | grep '"kind":\["bench"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)"
[ -x "$bin" ] || { echo "callgrind.sh: could not find the codec bench binary" >&2; exit 1; }

list="$(mktemp "${TMPDIR:-/tmp}/mpy-callgrind.XXXXXX")"
trap 'rm -f "$list"' EXIT
"$bin" corpus-list 2>/dev/null >"$list.all"
head -n "$limit" "$list.all" >"$list"
rm -f "$list.all"
bytes="$(xargs stat -c %s <"$list" | awk '{s += $1} END {print s}')"

ir() { # OP PASSES
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" time "$1" "$2" "$list" 2>&1 \
        | sed -n 's/.*Collected : //p'
}
printf '%d files, %d bytes\n' "$(wc -l <"$list")" "$bytes"
for op in "${ops[@]}"; do
    one="$(ir "$op" 1)"
    three="$(ir "$op" 3)"
    awk -v op="$op" -v a="$one" -v b="$three" -v n="$bytes" \
        'BEGIN { p = (b - a) / 2; printf "%-10s %14.0f instructions/pass %10.2f per byte\n", op, p, p / n }'
done
