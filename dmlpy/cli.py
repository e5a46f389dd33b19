"""The `dmlpy` command: SystemDS's command line, run on dmlpy.

Exit codes: 0 success; 1 runtime error or stop(); 2 syntax, validation or usage error.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import traceback

from . import __version__, backend
from .errors import DMLError, DMLUsageError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dmlpy", allow_abbrev=False,
        description="Run Apache SystemDS DML scripts in Python (NumPy, or CuPy with -gpu).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="With no script and a terminal on stdin, dmlpy starts a REPL; with no script and\n"
               "piped stdin, it runs the DML read from stdin.\n\n"
               "environment:\n"
               "  DMLPY_GPU=1            as -gpu\n"
               "  DMLPY_GPU_WINOGRAD=0|1|2|4 im2col, Winograd, or Winograd F(2x2)/F(4x4) for 3x3/5x5\n"
               "                         stride-1 convolutions on the GPU (default: the fastest, timed\n"
               "                         on each geometry's first use)\n"
               "  DMLPY_GPU_KERNELS=0    CuPy code instead of dmlpy's CUDA kernels\n"
               "  DMLPY_CACHE=DIR        where the parser's tables are kept (default ~/.cache/dmlpy)")
    p.add_argument("script", nargs="?", help="the .dml script to run")
    p.add_argument("-f", dest="file", metavar="SCRIPT", help="the .dml script to run (SystemDS's spelling)")
    p.add_argument("-c", "-s", dest="code", metavar="CODE",
                   help="run DML code given on the command line (-s: SystemDS's spelling)")
    p.add_argument("-args", dest="args", nargs="*", default=None, metavar="VALUE",
                   help="positional parameters $1, $2, ...")
    p.add_argument("-nvargs", dest="nvargs", nargs="*", default=None, metavar="NAME=VALUE",
                   help="named parameters $NAME")
    p.add_argument("-stats", "--stats", dest="stats", nargs="?", const=_HEAVY_HITTERS, type=int, default=None, metavar="N",
                   help="print total time and the N heaviest builtins/operators (default 10)")
    p.add_argument("--check", action="store_true", help="parse and validate only, do not run")
    p.add_argument("--debug", "-debug", action="store_true", help="show Python tracebacks on errors")
    p.add_argument("--precision", choices=["double", "single"], default="double",
                   help="floating-point precision of matrices (default double)")
    p.add_argument("-gpu", "--gpu", dest="gpu", action="store_true",
                   help="run matrix operations on a GPU (CuPy); also selected by DMLPY_GPU=1")
    p.add_argument("--allow-tf32", dest="allow_tf32", action="store_true",
                   help="with -gpu and --precision single: TF32 tensor cores for matrix products")
    p.add_argument("-exec", dest="exec_mode", default=None, help="accepted for SystemDS compatibility (ignored)")
    p.add_argument("--version", action="version", version=f"dmlpy {__version__}")
    p.add_argument("-help", action="help", help=argparse.SUPPRESS)
    # SystemDS options that have no meaning here: accepted, so that a systemds command line runs
    # unchanged, with a warning (a -seed in particular does not make rand() reproducible here)
    for flag, takes in _IGNORED_SYSTEMDS_OPTIONS.items():
        kind = {"value": {}, "optional value": {"nargs": "?", "const": True},
                "no value": {"action": "store_const", "const": True}}[takes]
        p.add_argument(flag, dest="ignored_" + flag[1:], default=None, help=argparse.SUPPRESS, **kind)
    return p


_IGNORED_SYSTEMDS_OPTIONS = {"-explain": "optional value", "-config": "value", "-seed": "value",
                             "-mem": "no value", "-lineage": "optional value"}


def _warn_ignored(opts) -> None:
    for flag in _IGNORED_SYSTEMDS_OPTIONS:
        if getattr(opts, "ignored_" + flag[1:]) is not None:
            print(f"dmlpy: warning: SystemDS's {flag} has no effect here (ignored)", file=sys.stderr)


def _named_args(items) -> dict:
    from .interpreter import typed_arg
    out = {}
    for it in items or []:
        if "=" not in it:
            raise DMLUsageError(f"-nvargs expects NAME=VALUE, got '{it}'")
        k, v = it.split("=", 1)
        if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", k):
            raise DMLUsageError(f"-nvargs: '{k}' is not a DML variable name (a letter, then letters, "
                                "digits or underscores)")
        out[k] = typed_arg(v)
    return out


_HEAVY_HITTERS = 10        # -stats without a count lists this many, as SystemDS does


def _stats_count_optional(argv: list[str]) -> list[str]:
    """`-stats SCRIPT`: argparse would read the script as -stats's count; SystemDS's count is
    optional, so a -stats followed by anything but a number gets its default count here."""
    out = []
    for i, a in enumerate(argv):
        out.append(a)
        if a in ("-stats", "--stats") and i + 1 < len(argv) and not re.fullmatch(r"\d+", argv[i + 1]):
            out[-1] = f"{a}={_HEAVY_HITTERS}"
    return out


def main(argv=None) -> int:
    argv = _stats_count_optional(list(sys.argv[1:] if argv is None else argv))
    p = _parser()
    try:
        opts = p.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 2
    debug = opts.debug
    _warn_ignored(opts)
    try:
        return _run(opts)
    except DMLError as e:
        sys.stdout.flush()
        if debug:
            traceback.print_exc()
        print(e.report(), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # whoever read the output has gone (dmlpy ... | head): stop quietly, as command-line
        # tools do; stdout goes to /dev/null so that Python's own last flush does not fail too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141          # 128 + SIGPIPE: what a shell reports for a tool the signal stopped
    except Exception:
        sys.stdout.flush()
        if debug:
            traceback.print_exc()
        else:
            etype, evalue, _ = sys.exc_info()
            print(f"internal error: {etype.__name__}: {evalue} (run with --debug for the traceback)",
                  file=sys.stderr)
        return 1


def _run(opts) -> int:
    from .interpreter import Session, typed_arg
    from .parser import parse, parse_file

    sources = [x for x in (opts.script, opts.file, opts.code) if x is not None]
    if len(sources) > 1:
        raise DMLUsageError("give one script: SCRIPT, -f SCRIPT or -c CODE")
    backend.set_precision(opts.precision)
    if backend.gpu_requested(opts.gpu):
        try:
            backend.use_cupy(opts.allow_tf32)
        except RuntimeError as e:
            raise DMLUsageError(str(e)) from None
    args = {}
    for i, v in enumerate(opts.args or []):
        args[str(i + 1)] = typed_arg(v)
    args.update(_named_args(opts.nvargs))

    if opts.code is not None:
        program = parse(opts.code, "<command line>")
    elif opts.script or opts.file:
        program = parse_file(opts.script or opts.file)
    elif sys.stdin.isatty():
        from .repl import Repl
        return Repl().loop()
    else:
        program = parse(sys.stdin.read(), "<stdin>")

    stats = None
    if opts.stats is not None:
        from .stats import Stats
        stats = Stats(opts.stats)
    session = Session(stats=stats)
    main_fn = session.compile(program, args, check_only=opts.check)
    if opts.check:
        return 0
    try:
        session.execute(main_fn)
    finally:
        if stats is not None:
            sys.stdout.write(stats.report())
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
