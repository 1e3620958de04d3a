#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs the pinned upstream tools (once),
# checks formatting and lints, runs the unit, integration, differential and doc tests, and the
# short fuzz runs when a nightly toolchain and cargo-fuzz are available (FUZZ=0 skips them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

step "upstream tools (tests/upstream/setup.sh)"
bash tests/upstream/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --all-targets --features arbitrary -- -D warnings

step "tests (unit, integration, CLI, fuzz-target bodies; the differential suite follows)"
# The differential tests run next, alone, so that their table is printed.
# (Benches are built by clippy above; criterion does not take the test harness flags.)
cargo test --lib --bins --tests --features arbitrary -- --skip stdlib_ --skip own_programs_
step "doc tests"
cargo test --doc

step "differential suite against upstream mpy-cross (table)"
cargo test --test differential -- --nocapture --test-threads=1

if [ -x fuzz/run-short.sh ] && [ "${FUZZ:-1}" != 0 ]; then
    step "short fuzz runs (fuzz/run-short.sh)"
    fuzz/run-short.sh
fi
printf '\nall tests passed\n'
