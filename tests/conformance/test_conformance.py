"""dmlpy against SystemDS 3.4.0's recorded outputs (recordings made by record.py; no Java needed)."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from dmlpy import backend
from dmlpy.errors import DMLError
from dmlpy.interpreter import Session, typed_arg
from dmlpy.parser import parse

from record import CASES, EXPECTED, case_args

def _listing(name: str) -> dict:
    return {line.split(" -- ")[0].strip(): line.split(" -- ", 1)[1].strip()
            for line in (Path(__file__).parent / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")}


EXTENSIONS = _listing("extensions.txt")           # SystemDS rejects, dmlpy accepts on purpose
KNOWN_DIFFERENCES = _listing("known_differences.txt")
RECORDED = sorted(p for p in CASES.rglob("*.dml") if (EXPECTED / p.relative_to(CASES).with_suffix(".json")).exists())


def _args(argv: list[str]) -> dict:
    out, mode = {}, None
    for a in argv:
        if a in ("-args", "-nvargs"):
            mode = a
        elif mode == "-args":
            out[str(len([k for k in out if k.isdigit()]) + 1)] = typed_arg(a)
        elif mode == "-nvargs":
            k, v = a.split("=", 1)
            out[k] = typed_arg(v)
    return out


def run_case(case: Path, workdir: Path):
    text = case.read_text()
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(workdir)
    backend.set_precision("double")
    try:
        session = Session(stdout=out, workdir=str(workdir))
        session.run_program(parse(text, str(case)), _args(case_args(text)))
        return False, out.getvalue(), None
    except DMLError as e:
        return True, out.getvalue(), e
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("case", RECORDED, ids=[str(p.relative_to(CASES)) for p in RECORDED])
def test_conformance(case: Path, tmp_path: Path):
    expected = json.loads((EXPECTED / case.relative_to(CASES).with_suffix(".json")).read_text())
    fails, stdout, err = run_case(case, tmp_path)
    rel = str(case.relative_to(CASES))
    if rel in KNOWN_DIFFERENCES:
        same = (fails == expected["fails"]) and (stdout == expected["stdout"] or expected["fails"])
        if same:
            pytest.fail(f"{rel} now matches SystemDS: remove it from known_differences.txt")
        pytest.xfail(KNOWN_DIFFERENCES[rel])
    if rel in EXTENSIONS:
        assert expected["fails"], f"{rel} is listed as an extension but SystemDS accepts it"
        assert not fails, f"documented extension ({EXTENSIONS[rel]}) failed: {err.report() if err else ''}"
        return
    if fails:   # a DML error of its own, never a Python exception passed through
        assert "internal error" not in str(err), err.report()
    if expected["fails"]:
        assert fails, f"SystemDS fails ({expected['error'][:300]}) but dmlpy succeeded; stdout:\n{stdout}"
        # SystemDS may run a block's instructions before an earlier print fails, and its error
        # report starts on a new line: what it printed must be a prefix of what dmlpy printed.
        assert stdout.startswith(expected["stdout"].rstrip("\n"))
    else:
        assert not fails, f"dmlpy failed: {err.report() if err else ''}\nstdout so far:\n{stdout}"
        assert stdout == expected["stdout"]
