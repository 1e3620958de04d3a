"""Times upstream's .mpy reader, mpy-tool.py as packaged in mpy-file-info==0.1.2, over many files
in ONE Python process, so that interpreter start-up is not what is measured.

It calls what `mpy_tool.main()` calls (`read_mpy`, then `CompiledModule.disassemble` for `-d`),
after the same configuration main() does, with two changes that only ever make upstream faster:

* the files are read into memory first, and `open` inside mpy_tool hands out in-memory copies, so
  no file I/O is timed (ours is timed the same way);
* `-d` output goes to a sink that drops it (the formatting is still done, the writing is not).

State: main() keeps one global qstr list for all its files (every dynamic qstr is appended to it,
and short str constants are looked up in it linearly), and RawCode keeps a class-wide set of
escaped names. `--state per-file` (the default) resets both before every file, exactly as one
`mpy-tool FILE` process per file would have them; `--state shared` keeps them across the files of
a pass, as one `mpy-tool FILE...` invocation does (slower: the list grows). Both are reset between
passes.

Files upstream cannot read (non-UTF-8 strings, other sub-versions, ...) are found in an untimed
first pass, counted by reason, and left out; the list of the files kept is written to --accepted
so that our side is timed on exactly the same files.

Prints one line per measurement:
  upstream read: files=N bytes=B iters=I seconds=S cpu_seconds=C MB/s=X cpu_MB/s=Y
  upstream read+disasm: ...
"""

import argparse
import collections
import io
import sys
import time

from mpy_file_info import mpy_tool as T


class Sink:
    """A text stream that drops everything written to it."""

    def write(self, s):
        return len(s)

    def flush(self):
        pass


def configure():
    """What main() sets before reading (its defaults: -mlongint-impl=mpz, -mmpz-dig-size=16)."""
    T.config.MICROPY_LONGINT_IMPL = T.config.MICROPY_LONGINT_IMPL_MPZ
    T.config.MPZ_DIG_SIZE = 16
    T.config.native_arch = T.MP_NATIVE_ARCH_NONE
    T.config.MICROPY_QSTR_BYTES_IN_LEN = 1
    T.config.MICROPY_QSTR_BYTES_IN_HASH = 1


PRISTINE_QSTRS = None


def reset_state():
    """The state main() starts with: a fresh global qstr list, no escaped names, no arch."""
    global PRISTINE_QSTRS
    if PRISTINE_QSTRS is None:
        PRISTINE_QSTRS = T.GlobalQStrList()
    g = T.GlobalQStrList.__new__(T.GlobalQStrList)
    g.qstrs = list(PRISTINE_QSTRS.qstrs)
    T.global_qstrs = g
    T.RawCode.escaped_names.clear()
    T.config.native_arch = T.MP_NATIVE_ARCH_NONE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", required=True, help="file with one .mpy path per line")
    ap.add_argument("--accepted", help="write the paths upstream reads to this file")
    ap.add_argument("--iters", type=int, default=1, help="timed passes (default 1)")
    ap.add_argument("--state", choices=["per-file", "shared"], default="per-file")
    ap.add_argument("--no-disasm", action="store_true", help="time reading only")
    args = ap.parse_args()

    paths = [p for p in open(args.list).read().splitlines() if p]
    data = {}
    for p in paths:
        with open(p, "rb") as f:
            data[p] = f.read()
    # mpy_tool's `open(filename, "rb")` now returns an in-memory copy.
    T.open = lambda name, mode="r": io.BytesIO(data[name])
    configure()

    # Untimed pass: which files upstream reads and disassembles.
    sink = Sink()
    skipped = collections.Counter()
    accepted = []
    real_stdout = sys.stdout
    for p in paths:
        reset_state()
        try:
            cm = T.read_mpy(p)
            if not args.no_disasm:
                sys.stdout = sink
                try:
                    cm.disassemble()
                finally:
                    sys.stdout = real_stdout
            accepted.append(p)
        except Exception as e:  # noqa: BLE001 - counted by kind, reported below
            reason = type(e).__name__
            if isinstance(e, T.MPYReadError):
                reason += ": " + e.msg
            skipped[reason] += 1
    nbytes = sum(len(data[p]) for p in accepted)
    print(
        "upstream accepts %d of %d files (%d bytes); skipped: %s"
        % (len(accepted), len(paths), nbytes, dict(skipped) or "none"),
        file=sys.stderr,
    )
    if args.accepted:
        with open(args.accepted, "w") as f:
            f.write("".join(p + "\n" for p in accepted))

    def timed(name, body):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.iters):
            reset_state()
            for p in accepted:
                if args.state == "per-file":
                    reset_state()
                body(p)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        total = nbytes * args.iters
        print(
            "upstream %s: files=%d bytes=%d iters=%d seconds=%.6f cpu_seconds=%.6f MB/s=%.4f cpu_MB/s=%.4f state=%s"
            % (name, len(accepted), nbytes, args.iters, w, c, total / w / 1e6, total / c / 1e6, args.state),
            flush=True,
        )

    timed("read", T.read_mpy)
    if not args.no_disasm:

        def read_disasm(p):
            cm = T.read_mpy(p)
            sys.stdout = sink
            try:
                cm.disassemble()
            finally:
                sys.stdout = real_stdout

        timed("read+disasm", read_disasm)


if __name__ == "__main__":
    # Big int constants: the same as running with PYTHONINTMAXSTRDIGITS=0.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    main()
