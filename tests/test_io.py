"""read() and write() against SystemDS 3.4.0's recorded behaviour (tests/data/io/, see record.py there).

  * every recorded read case: dmlpy fails where SystemDS fails, else reads the same values;
  * every recorded write: dmlpy's data file is byte-identical to SystemDS's, its .mtd
    identical up to the "author" and "created" values;
  * round trips, atomic replacement, error messages, .npy, part-file directories, DML level.
"""
from __future__ import annotations

import getpass
import io
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

import dmlpy
from dmlpy.builtins import io as dio
from dmlpy.errors import DMLError, DMLRuntimeError
from dmlpy.values import Frame

DATA = Path(__file__).resolve().parent / "data" / "io"
EXPECTED = json.loads((DATA / "expected.json").read_text())


class Ctx:
    """The one thing read/write ask of the interpreter: paths relative to a working directory."""

    def __init__(self, workdir):
        self.workdir = str(workdir)

    def resolve_path(self, path):
        return path if os.path.isabs(path) else os.path.join(self.workdir, path)


# ------------------------------------------------------- DML argument lists
_ARG = re.compile(r'\s*(?:(\w+)\s*=\s*)?("(?:[^"\\]|\\.)*"|TRUE|FALSE|[-+\w.]+)\s*(?:,|$)')
_ESCAPES = {"t": "\t", "n": "\n", '"': '"', "\\": "\\"}


def dml_args(text: str):
    """(positional, named) Python values of a recorded DML argument list."""
    pos, named, at = [], {}, 0
    while at < len(text):
        m = _ARG.match(text, at)
        assert m, f"cannot parse DML arguments {text!r} at {at}"
        at = m.end()
        raw = m.group(2)
        if raw.startswith('"'):
            v = re.sub(r"\\(.)", lambda e: _ESCAPES[e.group(1)], raw[1:-1])
        elif raw in ("TRUE", "FALSE"):
            v = raw == "TRUE"
        elif re.fullmatch(r"[-+]?\d+", raw):
            v = int(raw)
        else:
            v = float(raw)
        if m.group(1):
            named[m.group(1)] = v
        else:
            pos.append(v)
    return pos, named


def java_cells(rows) -> np.ndarray:
    """SystemDS's csv cells ("0", "1.0E-5", "NaN", "Infinity") as floats."""
    return np.array([[float(c) for c in row] for row in rows], dtype=np.float64).reshape(len(rows), -1)


# ------------------------------------------------------ recorded reads
# Cases where dmlpy deliberately does more than SystemDS: name -> why, and the independent expectation.
EXTENSIONS = {
    # The Matrix Market spec stores an array column by column; SystemDS reads only coordinates.
    "mm_array": np.array([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]),
}


@pytest.mark.parametrize("case", EXPECTED["reads"], ids=lambda c: c["name"])
def test_read_like_systemds(case):
    pos, named = dml_args(case["read"])
    ctx = Ctx(DATA)
    if case["name"] in EXTENSIONS:
        assert case["fails"]
        np.testing.assert_array_equal(dio.read(ctx, *pos, **named), EXTENSIONS[case["name"]])
        return
    if case["fails"]:
        with pytest.raises(DMLError):
            dio.read(ctx, *pos, **named)
        return
    got = dio.read(ctx, *pos, **named)
    if "cells" in case:
        want = java_cells(case["cells"])
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    else:
        want = {"int": int, "double": float, "boolean": lambda s: s == "true", "string": str}[
            case["value_type"]](case["value"])
        assert type(got) is type(want)
        assert got == want or (isinstance(want, float) and math.isnan(want) and math.isnan(got))


def test_every_recorded_failure_is_a_runtime_error_that_names_the_file():
    """Failures that come from the data file say which file (and line, for malformed content)."""
    ctx = Ctx(DATA)
    for name, needle in [("csv_letters", "letters.csv:1:"), ("csv_ragged", "ragged.csv:2:"),
                         ("csv_quoted", "quoted.csv:1:"), ("csv_empty_line", "empty_line.csv:2:"),
                         ("csv_fill_false", "empty_cells.csv:1:"), ("csv_python_inf", "python_inf.csv:1:"),
                         ("text_out_of_bounds", "out_of_bounds.txt:2:"),
                         ("libsvm_space_default_sep", "space.libsvm:1:"),
                         ("missing_file", "inputs/does_not_exist.csv"),
                         ("mtd_invalid_key", "bad_key.csv.mtd"),
                         ("csv_mtd_conflict_format", "with_mtd.csv.mtd"),
                         ("text_no_dims", "cells.txt")]:
        case = next(c for c in EXPECTED["reads"] if c["name"] == name)
        assert case["fails"], name
        pos, named = dml_args(case["read"])
        with pytest.raises(DMLRuntimeError) as e:
            dio.read(ctx, *pos, **named)
        assert needle in str(e.value), (name, str(e.value))


# ------------------------------------------------------ recorded writes
def _normalised_mtd(text: str) -> str:
    return re.sub(r'"(author|created)": "[^"]*"', r'"\1": "..."', text)


WRITE_FILES = [(w, f) for w in EXPECTED["writes"] for f in w["files"]]


@pytest.mark.parametrize("written,file", WRITE_FILES, ids=[f["file"] for _, f in WRITE_FILES])
def test_write_matches_systemds_bytes(tmp_path, written, file):
    X = np.array([float(c) for c in written["cells"]]).reshape(written["rows"], written["cols"])
    pos, named = dml_args(file["args"])
    dio.write(Ctx(tmp_path), X, file["file"], *pos, **named)
    assert (tmp_path / file["file"]).read_bytes() == (DATA / "sysds" / file["file"]).read_bytes()
    sysds_mtd = DATA / "sysds" / (file["file"] + ".mtd")
    ours = tmp_path / (file["file"] + ".mtd")
    assert ours.exists() == sysds_mtd.exists()       # Matrix Market gets no .mtd
    if ours.exists():
        assert _normalised_mtd(ours.read_text()) == _normalised_mtd(sysds_mtd.read_text())
        meta = json.loads(ours.read_text())
        assert meta["author"] == getpass.getuser()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", meta["created"])


SCALAR_VALUES = {"int": 3, "double": 2.5, "big": 1e20, "nan": math.nan, "negzero": -0.0, "true": True,
                 "false": False, "string": "hello world", "multiline": "line1\nline2"}


@pytest.mark.parametrize("case", EXPECTED["scalars"], ids=lambda c: c["name"])
def test_scalar_write_matches_systemds_bytes(tmp_path, case):
    dio.write(Ctx(tmp_path), SCALAR_VALUES[case["name"]], case["file"])
    assert (tmp_path / case["file"]).read_bytes() == (DATA / "sysds" / case["file"]).read_bytes()
    assert (_normalised_mtd((tmp_path / (case["file"] + ".mtd")).read_text())
            == _normalised_mtd((DATA / "sysds" / (case["file"] + ".mtd")).read_text()))


@pytest.mark.parametrize("case", EXPECTED["scalars"], ids=lambda c: c["name"])
def test_scalar_written_by_systemds_reads_back(case):
    got = dio.read(Ctx(DATA), "sysds/" + case["file"])
    want = SCALAR_VALUES[case["name"]]
    assert type(got) is type(want)
    if isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want and math.copysign(1, got) == math.copysign(1, want) if isinstance(want, float) \
            else got == want


@pytest.mark.parametrize("case", EXPECTED["frames"], ids=lambda c: c["file"])
def test_frame_read_and_write_match_systemds_bytes(tmp_path, case):
    F = dio.read(Ctx(DATA), "inputs/frame.csv", data_type="frame", format="csv", header=True)
    pos, named = dml_args(case["args"])
    dio.write(Ctx(tmp_path), F, case["file"], *pos, **named)
    assert (tmp_path / case["file"]).read_bytes() == (DATA / "sysds" / case["file"]).read_bytes()
    # SystemDS puts "description": "-1" into a text frame's .mtd when none is given; dmlpy does not.
    sysds_mtd = re.sub(r'\n    "description": "-1",', "", (DATA / "sysds" / (case["file"] + ".mtd")).read_text())
    assert _normalised_mtd((tmp_path / (case["file"] + ".mtd")).read_text()) == _normalised_mtd(sysds_mtd)


# ---------------------------------------------------------- round trips
def _matrix(seed=7, rows=13, cols=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, cols)) * 10.0 ** rng.integers(-12, 12, size=(rows, cols))
    X[rng.random((rows, cols)) < 0.3] = 0.0
    X[0, :4] = [math.nan, math.inf, -math.inf, 1e-320]
    return X


@pytest.mark.parametrize("fmt", ["csv", "text", "mm", "binary"])
def test_round_trip_is_exact(tmp_path, fmt):
    X = _matrix()
    ctx = Ctx(tmp_path)
    dio.write(ctx, X, "x.out", format=fmt)
    np.testing.assert_array_equal(dio.read(ctx, "x.out"), X)


def test_csv_round_trip_with_header_sep_and_sparse(tmp_path):
    X = _matrix(seed=3)
    ctx = Ctx(tmp_path)
    dio.write(ctx, X, "x.csv", format="csv", header=True, sep="|", sparse=True)
    np.testing.assert_array_equal(dio.read(ctx, "x.csv"), X)


def test_libsvm_round_trip_moves_the_label_behind_a_zero_column(tmp_path):
    """write takes the last column as label; read gives cols+1 columns, the label last (as SystemDS)."""
    X = _matrix(seed=5)
    ctx = Ctx(tmp_path)
    dio.write(ctx, X, "x.libsvm", format="libsvm")
    got = dio.read(ctx, "x.libsvm")
    want = np.hstack([X[:, :-1], np.zeros((X.shape[0], 1)), X[:, -1:]])
    np.testing.assert_array_equal(got, want)


def test_binary_is_a_npy_file_that_keeps_negative_zero(tmp_path):
    X = np.array([[-0.0, 1.5], [math.nan, 2.0]])
    ctx = Ctx(tmp_path)
    dio.write(ctx, X, "x.bin", format="binary")
    assert not (tmp_path / "x.bin.npy").exists()
    np.testing.assert_array_equal(np.load(tmp_path / "x.bin"), X)
    meta = json.loads((tmp_path / "x.bin.mtd").read_text())
    assert (meta["format"], meta["rows"], meta["cols"], meta["nnz"]) == ("binary", 2, 2, 3)
    got = dio.read(ctx, "x.bin")
    assert math.copysign(1.0, got[0, 0]) == -1.0


def test_any_2d_npy_file_reads_without_mtd(tmp_path):
    np.save(tmp_path / "ints.npy", np.arange(6, dtype=np.int32).reshape(2, 3))
    got = dio.read(Ctx(tmp_path), "ints.npy")
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[0, 1, 2], [3, 4, 5]])
    np.save(tmp_path / "vec.npy", np.arange(3.0))
    with pytest.raises(DMLRuntimeError, match="2-D"):
        dio.read(Ctx(tmp_path), "vec.npy")


def test_systemds_hadoop_binary_is_refused_with_a_clear_message(tmp_path):
    (tmp_path / "h.bin").write_bytes(b"SEQ\x06org.apache.hadoop...")
    with pytest.raises(DMLRuntimeError, match="Hadoop binary"):
        dio.read(Ctx(tmp_path), "h.bin", format="binary")


def test_matrix_market_write_removes_a_stale_mtd(tmp_path):
    """SystemDS leaves an old .mtd behind (and a later read then trusts it); dmlpy removes it."""
    ctx = Ctx(tmp_path)
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    dio.write(ctx, X, "m", format="csv")
    dio.write(ctx, X, "m", format="mm")
    assert not (tmp_path / "m.mtd").exists()
    np.testing.assert_array_equal(dio.read(ctx, "m"), X)


def test_matrix_market_symmetric_array(tmp_path):
    (tmp_path / "s.mm").write_text("%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n")
    np.testing.assert_array_equal(dio.read(Ctx(tmp_path), "s.mm"), [[1, 2], [2, 3]])


# ------------------------------------------------------ files and errors
def test_write_replaces_the_target_only_when_complete(tmp_path, monkeypatch):
    ctx = Ctx(tmp_path)
    dio.write(ctx, np.ones((2, 2)), "x.csv", format="csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(a, header, sep, sparse):
        yield "1.0,1.0\n"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dio.delimited, "csv_chunks", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        dio.write(ctx, np.zeros((3, 3)), "x.csv", format="csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before    # no temp files left


def test_write_creates_directories_and_files_readable_by_others(tmp_path):
    dio.write(Ctx(tmp_path), np.eye(2), "a/b/x.csv", format="csv")
    mode = (tmp_path / "a" / "b" / "x.csv").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_read_a_directory_of_part_files(tmp_path):
    d = tmp_path / "big.csv"
    d.mkdir()
    (d / "part-00000").write_text("1,2\n3,4\n")
    (d / "part-00001").write_text("5,6\n")
    (d / "_SUCCESS").write_text("")
    np.testing.assert_array_equal(dio.read(Ctx(tmp_path), "big.csv", format="csv"), [[1, 2], [3, 4], [5, 6]])
    (d / "part-00001").write_text("5,x\n")
    with pytest.raises(DMLRuntimeError, match=r"big.csv/part-00001:1:"):
        dio.read(Ctx(tmp_path), "big.csv", format="csv")
    dio.write(Ctx(tmp_path), np.eye(2), "big.csv", format="csv")      # replaces the directory
    assert (tmp_path / "big.csv").read_text() == "1.0,0\n0,1.0\n"


def test_missing_file_error_names_the_path_given_and_resolved(tmp_path):
    with pytest.raises(DMLRuntimeError) as e:
        dio.read(Ctx(tmp_path), "nope/x.csv", format="csv")
    assert "nope/x.csv" in str(e.value) and str(tmp_path) in str(e.value)


def test_unknown_formats_are_rejected(tmp_path):
    with pytest.raises(DMLRuntimeError, match="ijv"):
        dio.write(Ctx(tmp_path), np.eye(2), "x", format="ijv")
    assert not any(tmp_path.iterdir())


def test_scalar_read_refuses_matrix_parameters(tmp_path):
    (tmp_path / "s").write_text("1")
    with pytest.raises(DMLRuntimeError, match="rows"):
        dio.read(Ctx(tmp_path), "s", data_type="scalar", rows=1)


def test_frame_from_csv_holds_the_strings(tmp_path):
    (tmp_path / "f.csv").write_text("name,age\nann,31\nbob,\n")
    f = dio.read(Ctx(tmp_path), "f.csv", data_type="frame", format="csv", header=True)
    assert isinstance(f, Frame)
    assert f.names == ["name", "age"] and f.columns == [["ann", "bob"], ["31", None]]


def test_frame_from_csv_trims_fields_and_has_default_names(tmp_path):
    # SystemDS 3.4.0 read this file as [pad] [x] / [b] [c] (measured with a map over the cells),
    # and a frame read without a header has default names, which indexing renumbers
    (tmp_path / "m.csv").write_text("  pad ,x\nb, c \n")
    f = dio.read(Ctx(tmp_path), "m.csv", data_type="frame", format="csv", header=False)
    assert f.columns == [["pad", "b"], ["x", "c"]] and f.names is None


@pytest.mark.parametrize("na", ["NA", ["NA", "?"], "NA\u00b7?"])
def test_frame_from_csv_reads_na_strings_as_null(tmp_path, na):
    # SystemDS 3.4.0 printed this file, read with naStrings=["NA"], as a 1 / null 2 / c null / a 4
    (tmp_path / "m.csv").write_text("a,1\nNA,2\nc,NA\n?,4\n")
    f = dio.read(Ctx(tmp_path), "m.csv", data_type="frame", format="csv", header=False, naStrings=na)
    question = None if "?" in na else "?"
    assert f.columns == [["a", None, "c", question], ["1", "2", None, "4"]]


# -------------------------------------------------------------- DML level
def test_dml_list_of_na_strings(tmp_path):
    (tmp_path / "m.csv").write_text("a,1\nNA,2\nc,-\n")
    out = io.StringIO()
    dmlpy.Session(stdout=out, workdir=str(tmp_path)).run(
        'F = read("m.csv", data_type="frame", format="csv", header=FALSE, naStrings=["NA", "-"])\n'
        'print(toString(F))\n')
    assert out.getvalue() == "# FRAME: nrow = 3, ncol = 2\n# C1 C2\n# STRING STRING\na 1\nnull 2\nc null\n\n"


def test_dml_program_writes_and_reads(tmp_path):
    out = []

    class Out:
        def write(self, s):
            out.append(s)

        def flush(self):
            pass

    s = dmlpy.Session(stdout=Out(), workdir=str(tmp_path))
    s.run('X = matrix("1 0 2.5 -3", rows=2, cols=2)\n'
          'write(X, "m/x.csv", format="csv", header=TRUE, sep=";")\n'
          'n = 42\nwrite(n, "m/n")\n'
          'Y = read("m/x.csv")\nk = read("m/n", data_type="scalar", value_type="int")\n'
          'print(sum(Y) + k)\n')
    assert (tmp_path / "m" / "x.csv").read_text() == "C1;C2\n1.0;0\n2.5;-3.0\n"
    assert "".join(out) == "42.5\n"


def test_dml_read_of_a_systemds_file(tmp_path):
    res = dmlpy.Session(workdir=str(DATA)).run('X = read("sysds/mixed.csv")', outputs=["X"])
    np.testing.assert_array_equal(res["X"], [[1, 2.5, 0], [-3, 1e-5, 123456789], [0.1, 1e20, 0]])


def test_dml_read_errors_are_runtime_errors_naming_the_file(tmp_path):
    (tmp_path / "bad.csv").write_text("1,2\n3,oops\n")
    s = dmlpy.Session(workdir=str(tmp_path))
    with pytest.raises(DMLRuntimeError, match=r"bad\.csv:2: cannot read 'oops' as a number"):
        s.run('X = read("bad.csv", format="csv")\nprint(sum(X))\n')
    with pytest.raises(DMLRuntimeError, match="missing.csv"):
        s.run('X = read("missing.csv", format="csv")\nprint(sum(X))\n')
