"""read() and write(): DML's file input/output, as SystemDS 3.4.0 does it.

    X = read("X.csv")                                   # format etc. from X.csv.mtd
    X = read("m.csv", format="csv", header=TRUE, sep=";", fill=TRUE, default=-1)
    X = read("X.ijv", format="text", rows=10, cols=8)   # text needs the dimensions
    n = read("n", data_type="scalar", value_type="int")
    write(X, "out/X.csv", format="csv", header=TRUE, sep=",", sparse=FALSE, description="...")

Formats: "text" (i j v triples, 1-based; the default), "csv", "mm" (Matrix
Market), "libsvm", and "binary". SystemDS's binary format is a Hadoop
SequenceFile only the JVM reads; dmlpy's format="binary" is a NumPy .npy file
written under the given path (no ".npy" appended) with the usual .mtd beside
it, and read() reads .npy files (found by their magic bytes when there is no
.mtd). Byte layouts of each format: dmlpy/io_formats/.

read: a parameter given in the call must agree with the .mtd file when both
name it; a missing parameter comes from the .mtd, then from the defaults
(format "text", header FALSE, sep ",", fill TRUE, default 0, indSep ":").
Without .mtd and format, a file whose first line starts with "%%" is read as
Matrix Market; Matrix Market files never use a .mtd. libsvm needs cols (the
number of features) and gives cols+1 columns, the label last.

write: a matrix, a scalar, or a frame (csv, text) to path; creates missing
directories; writes the data to a temporary file in the same directory and
renames it over the target only once complete, then the .mtd the same way.
Matrix Market gets no .mtd (as in SystemDS); dmlpy also removes a stale one so
a later read() is not misled by it. Paths are relative to the program's
working directory. As in SystemDS, "ijv" is no format name (use "text").

Deliberate differences from SystemDS: blanks between text/mm fields may be tabs
or several spaces; Matrix Market "array" files are read; a description= is
escaped once in the .mtd (SystemDS escapes it twice) and a text frame's .mtd
gets no "description": "-1"; Java 17's rare non-shortest double digits (e.g.
2.82879384806159008E17) are written in their shortest form.
"""
from __future__ import annotations

import os

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from ..io_formats import coordinate, delimited, npy, scalar as scalar_io
from ..io_formats.files import (FormatError, atomic_write, atomic_write_text, head_bytes, numbered_lines,
                                remove_if_exists, sources)
from ..io_formats.javanum import java_trim, parse_double
from ..io_formats.mtd import author, created, format_mtd, matrix_entries, mtd_path, read_mtd, scalar_entries
from ..values import DMLList, Frame, a_type_name, format_scalar, is_matrix, type_name
from .registry import builtin

FORMATS = ("text", "csv", "mm", "libsvm", "binary")
_SCALAR_FORBIDDEN = ("rows", "cols", "rows_in_block", "cols_in_block", "format", "sep", "indSep",
                     "header", "fill", "default", "naStrings")
_NOT_PARAMETERS = ("description", "author", "created")   # .mtd keys that are no read parameters
_NA_SEP = "\u00b7"                                        # how SystemDS joins several naStrings


# ------------------------------------------------------------------ helpers

def _resolve(ctx, path) -> tuple[str, str]:
    """(path as the user wrote it, path on disk)."""
    if not isinstance(path, str):
        raise DMLRuntimeError(f"the file name must be a string, not {type_name(path)}")
    resolved = ctx.resolve_path(path) if ctx is not None and hasattr(ctx, "resolve_path") else path
    return path, resolved


def _as_bool(v, name: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    raise DMLRuntimeError(f"{name} must be TRUE or FALSE, not {v!r}")


def _as_int(v, name: str) -> int:
    if isinstance(v, bool):
        raise DMLRuntimeError(f"{name} must be an integer, not a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        d = parse_double(v)
        if d is not None and d.is_integer():
            return int(d)
    raise DMLRuntimeError(f"{name} must be an integer, not {v!r}")


def _as_float(v, name: str) -> float:
    if isinstance(v, bool):
        raise DMLRuntimeError(f"{name} must be a number, not a boolean")
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and parse_double(v) is not None:
        return parse_double(v)
    raise DMLRuntimeError(f"{name} must be a number, not {v!r}")


def _as_sep(v, name: str) -> str:
    if not isinstance(v, str) or v == "":
        raise DMLRuntimeError(f"{name} must be a non-empty string, not {v!r}")
    return v


def _shown_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _agree(given, stored) -> bool:
    if isinstance(given, bool) or isinstance(stored, bool):
        return _shown_value(given).lower() == _shown_value(stored).lower()
    if isinstance(given, (int, float)) and isinstance(stored, (int, float)):
        return float(given) == float(stored)
    return str(given).lower() == str(stored).lower()


def _merge_mtd(meta: dict, given: dict, shown: str) -> dict:
    """The read parameters: those given, then the .mtd's; a conflict is an error."""
    params = {}
    for key, stored in meta.items():
        if key in _NOT_PARAMETERS:
            continue
        if key in given and not _agree(given[key], stored):
            raise DMLRuntimeError(
                f"{shown}.mtd: parameter '{key}' has conflicting values in metadata and read statement. "
                f"MTD file value: '{_shown_value(stored)}'. Read statement value: '{_shown_value(given[key])}'.")
        params[key] = stored
    params.update(given)
    return params


def _dims_error(shown, actual, wanted) -> DMLRuntimeError:
    return DMLRuntimeError(f"{shown}: read matrix dimensions differ from meta data: "
                           f"[{actual[0]}x{actual[1]}] vs. [{wanted[0]}x{wanted[1]}]")


def _known(params: dict, key: str) -> int | None:
    """rows/cols when known (SystemDS writes -1 for unknown)."""
    if key not in params:
        return None
    v = _as_int(params[key], key)
    return v if v >= 0 else None


# --------------------------------------------------------------------- read

def read_value(ctx, iofilename, given: dict):
    """The value read() returns, for the parameters given in the call (None = not given)."""
    shown, path = _resolve(ctx, iofilename)
    given = {k: v for k, v in given.items() if v is not None}
    data_type = str(given.get("data_type", "")).lower()
    if data_type == "scalar":
        bad = [k for k in _SCALAR_FORBIDDEN if k in given]
        if bad:
            raise DMLRuntimeError(f"invalid parameters in read of a scalar: {', '.join(bad)}; "
                                  "only value_type is allowed")
    if not os.path.exists(path):
        where = f" (looked for {path})" if path != shown else ""
        raise DMLRuntimeError(f"read input file does not exist: {shown}{where}")

    fmt = str(given["format"]).lower() if "format" in given else None
    meta = None
    if fmt != "mm":
        meta = read_mtd(path, shown)
        if meta is None and fmt is None and data_type != "scalar":
            head = _head(path)
            if head.startswith(b"%%"):
                fmt = "mm"
            elif head.startswith(npy.NPY_MAGIC):
                fmt = "binary"
    params = _merge_mtd(meta, given, shown) if meta else dict(given)
    if fmt is not None:
        params["format"] = fmt

    data_type = str(params.get("data_type", "matrix")).lower()
    if data_type not in ("matrix", "scalar", "frame"):
        raise DMLRuntimeError(f"unknown data_type '{params['data_type']}' (valid: matrix, scalar, frame)")
    value_type = str(params.get("value_type", "double")).lower()
    if value_type not in scalar_io.VALUE_TYPES:
        raise DMLRuntimeError(f"unknown value_type '{params['value_type']}' (valid: double, int, boolean, string)")

    if data_type == "scalar":
        text = "".join(t for _, t in sources(path, shown))
        return scalar_io.parse_scalar(text, scalar_io.VALUE_TYPES[value_type], shown)

    fmt = str(params.get("format", "text")).lower()
    if fmt not in FORMATS:
        raise DMLRuntimeError(f"invalid format '{params['format']}' (valid: {', '.join(FORMATS)})")
    if data_type == "frame":
        return _read_frame(path, shown, fmt, params)
    return backend.asarray(_read_matrix(path, shown, fmt, params))


def _head(path: str) -> bytes:
    try:
        return head_bytes(path, 8)
    except OSError:
        return b""


def _read_matrix(path: str, shown: str, fmt: str, params: dict) -> np.ndarray:
    rows, cols = _known(params, "rows"), _known(params, "cols")
    if fmt == "binary":
        a = npy.read_npy(path, shown)
        if (rows is not None and rows != a.shape[0]) or (cols is not None and cols != a.shape[1]):
            raise _dims_error(shown, a.shape, (rows, cols))
        return a
    srcs = sources(path, shown)
    if fmt == "text":
        if rows is None or cols is None:
            raise DMLRuntimeError(f"missing or incomplete dimension information to read {shown} "
                                  "in text format: give rows= and cols= or a .mtd file")
        return coordinate.read_text(srcs, rows, cols)
    if fmt == "mm":
        a = coordinate.read_mm(srcs)
        for key, want, have in (("rows", rows, a.shape[0]), ("columns", cols, a.shape[1])):
            if want is not None and want != have:
                raise DMLRuntimeError(f"{shown}: MM file: invalid specified number of {key}: {want} vs {have}")
        return a
    if fmt == "libsvm":
        if cols is None:
            raise DMLRuntimeError(f"reading {shown} in libsvm format needs cols= (the number of features)")
        a = delimited.read_libsvm(srcs, cols, _as_sep(params.get("sep", ","), "sep"),
                                  _as_sep(params.get("indSep", ":"), "indSep"))
        if rows is not None and rows != a.shape[0]:
            raise _dims_error(shown, a.shape, (rows, cols + 1))
        return a
    # csv
    a = delimited.read_csv(srcs, _as_bool(params.get("header", False), "header"),
                           _as_sep(params.get("sep", ","), "sep"),
                           _as_bool(params.get("fill", True), "fill"),
                           _as_float(params.get("default", 0.0), "default"),
                           _na_strings(params.get("naStrings")))
    r, c = a.shape
    if (cols is not None and cols != c) or (rows is not None and rows < r):
        raise _dims_error(shown, a.shape, (rows if rows is not None else r, cols if cols is not None else c))
    if rows is not None and rows > r:       # SystemDS pads missing rows with zeros
        a = np.vstack([a, np.zeros((rows - r, c))])
    return a


def _na_strings(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, DMLList):                          # naStrings=["NA", ""]
        v = v.items
    if isinstance(v, (list, tuple)):
        return [s if type(s) is str else format_scalar(s) for s in v]
    return str(v).split(_NA_SEP)


def _read_frame(path: str, shown: str, fmt: str, params: dict) -> Frame:
    """A frame of string columns from a csv file (empty cells, and cells that are one of
    naStrings, are null: None)."""
    if fmt != "csv":
        raise DMLRuntimeError(f"dmlpy reads frames from csv files only, not format '{fmt}'")
    header = _as_bool(params.get("header", False), "header")
    sep = _as_sep(params.get("sep", ","), "sep")
    missing = {""} | set(_na_strings(params.get("naStrings")))
    names, rows = None, []
    for name, lineno, line in numbered_lines(sources(path, shown)):
        cells = line.split(sep)
        if header and names is None:
            names = cells
            continue
        if rows and len(cells) != len(rows[0]):
            raise FormatError(name, lineno, f"row has {len(cells)} fields, the first row {len(rows[0])}")
        trimmed = [java_trim(c) for c in cells]     # (SystemDS trims each field, as String.trim)
        rows.append([None if c in missing else c for c in trimmed])
    ncol = len(rows[0]) if rows else len(names or [])
    columns = [[r[j] for r in rows] for j in range(ncol)]
    return Frame(columns, names, ["STRING"] * ncol)      # (no header: default names C1, C2, ...)


def _write_frame(F: Frame, path: str, fmt: str, header: bool, sep: str, description) -> None:
    """A frame as csv (names as the header line) or text (i j v of the non-null cells)."""
    ncol = len(F.columns)
    nrow = len(F.columns[0]) if ncol else 0
    cell = lambda v: "" if v is None else scalar_io.scalar_text(v)
    if fmt == "csv":
        names = F.names or [f"C{j + 1}" for j in range(ncol)]
        lines = [sep.join(names) + "\n"] if header else []
        lines += [sep.join(cell(col[i]) for col in F.columns) + "\n" for i in range(nrow)]
    elif fmt == "text":
        lines = [f"{i + 1} {j + 1} {cell(col[i])}\n" for i in range(nrow)
                 for j, col in enumerate(F.columns) if col[i] is not None]
    else:
        raise DMLRuntimeError(f"dmlpy writes frames as csv or text, not format '{fmt}'")
    atomic_write_text(path, lines)
    schema = "".join(f"{t}," for t in (F.schema or ["STRING"] * ncol))
    entries = [("data_type", "frame"), ("schema", schema), ("rows", nrow), ("cols", ncol), ("format", fmt)]
    if description is not None:
        entries.append(("description", description))
    entries.append(("author", author()))
    if fmt == "csv":
        entries += [("header", header), ("sep", sep)]
    entries.append(("created", created()))
    atomic_write_text(mtd_path(path), format_mtd(entries))


@builtin("read")
def read(ctx, iofilename, format=None, header=None, sep=None, fill=None, default=None,
         rows=None, cols=None, data_type=None, value_type=None, nnz=None, naStrings=None,
         indSep=None, schema=None, rows_in_block=None, cols_in_block=None):
    """Read a matrix, scalar or frame from a file (see the module docstring)."""
    return read_value(ctx, iofilename, dict(
        format=format, header=header, sep=sep, fill=fill, default=default, rows=rows, cols=cols,
        data_type=data_type, value_type=value_type, nnz=nnz, naStrings=naStrings, indSep=indSep,
        schema=schema, rows_in_block=rows_in_block, cols_in_block=cols_in_block))


@builtin("readMM")
def read_mm(ctx, iofilename, rows=None, cols=None, nnz=None, data_type=None, value_type=None):
    """read(file, format="mm")."""
    return read_value(ctx, iofilename, dict(format="mm", rows=rows, cols=cols, nnz=nnz,
                                            data_type=data_type, value_type=value_type))


@builtin("read.csv")
def read_csv(ctx, iofilename, header=None, sep=None, fill=None, default=None, rows=None, cols=None,
             data_type=None, value_type=None, nnz=None, naStrings=None, schema=None):
    """read(file, format="csv")."""
    return read_value(ctx, iofilename, dict(
        format="csv", header=header, sep=sep, fill=fill, default=default, rows=rows, cols=cols,
        data_type=data_type, value_type=value_type, nnz=nnz, naStrings=naStrings, schema=schema))


# -------------------------------------------------------------------- write

@builtin("write", returns=0)
def write(ctx, X, iofilename, format="text", header=False, sep=",", sparse=False, description=None):
    """Write a matrix or scalar to a file and its metadata to <file>.mtd."""
    shown, path = _resolve(ctx, iofilename)
    if not isinstance(format, str):
        raise DMLRuntimeError(f"write: the format must be a string, not {a_type_name(format)}")
    fmt = format.lower()
    if fmt not in FORMATS:
        raise DMLRuntimeError(f"invalid format '{format}' for write (valid: {', '.join(FORMATS)})")
    if description is not None and not isinstance(description, str):
        description = str(description)
    if isinstance(X, (np.bool_, np.integer, np.floating)):
        X = X.item()
    if isinstance(X, (bool, int, float, str)):
        atomic_write_text(path, scalar_io.scalar_text(X))
        atomic_write_text(mtd_path(path), format_mtd(scalar_entries(scalar_io.value_type_of(X), description)))
        return None
    header = _as_bool(header, "header")
    sparse = _as_bool(sparse, "sparse")
    sep = _as_sep(sep, "sep")
    if isinstance(X, Frame):
        _write_frame(X, path, fmt, header, sep, description)
        return None
    if not is_matrix(X):
        raise DMLRuntimeError(f"write: cannot write a value of type {type_name(X)} "
                              "(dmlpy writes matrices, frames and scalars)")
    a = np.asarray(backend.to_host(X), dtype=np.float64)
    if fmt == "csv":
        atomic_write_text(path, delimited.csv_chunks(a, header, sep, sparse))
    elif fmt == "text":
        atomic_write_text(path, coordinate.cell_chunks(a))
    elif fmt == "mm":
        atomic_write_text(path, coordinate.mm_chunks(a))
        remove_if_exists(mtd_path(path))
        return None
    elif fmt == "libsvm":
        atomic_write_text(path, delimited.libsvm_chunks(a, sep))
    else:
        atomic_write(path, lambda f: npy.write_npy(f, a))
    nnz = int(np.count_nonzero(a))
    atomic_write_text(mtd_path(path), format_mtd(
        matrix_entries(a.shape[0], a.shape[1], nnz, fmt, description, header, sep)))
    return None
