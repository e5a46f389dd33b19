"""csv and libsvm: one matrix row per line.

csv (measured on SystemDS 3.4.0):
  * write: cells joined by sep, each row ending in "\\n"; a zero cell is "0"
    ("" with sparse=TRUE; -0.0 counts as zero), any other value is Java's
    Double.toString ("1.0", "2.5", "1.0E-5", "1.23456789E8", "NaN", "Infinity");
    header=TRUE adds a first line "C1<sep>C2...".
  * read: an empty cell is `default` when fill=TRUE (the default) and an error
    otherwise; cells equal to one of naStrings are NaN; the column count comes
    from the first row and every row must match it; an empty line is an error;
    quoted cells are not numbers.
libsvm (measured): a row is "<label><sep><j>:<v><sep>..." with 1-based feature
  indices of the non-zero features. write takes the LAST column as the label and
  the others as features (label always printed, "0.0" included); read takes
  cols= features and returns cols+1 columns, the label last. sep defaults to ","
  for libsvm too, and indSep to ":".
"""
from __future__ import annotations

import re

import numpy as np

from .files import FormatError, numbered_lines
from .javanum import PLAIN_NUMBER_CHARS, format_double, java_trim, parse_double, parse_long

_ROWS_PER_CHUNK = 2048


def _non_plain(sep: str):
    """A regex finding any character Python's float() might read differently from Java."""
    allowed = set(PLAIN_NUMBER_CHARS) | set(sep)
    return re.compile("[^" + "".join(re.escape(c) for c in sorted(allowed)) + "]")


def _cell(text: str, name: str, line: int, fill: bool, default: float, na: frozenset) -> float:
    if text in na or java_trim(text) in na:
        return float("nan")
    v = parse_double(text)
    if v is not None:
        return v
    if java_trim(text) == "":
        if fill:
            return default
        raise FormatError(name, line, "empty field in a delimited file; "
                          "use fill=TRUE to read empty fields as the default value")
    raise FormatError(name, line, f"cannot read {text!r} as a number")


def read_csv(srcs, header: bool, sep: str, fill: bool, default: float, na_strings=()) -> np.ndarray:
    """A host float64 array from csv text sources (the header, if any, is the first line)."""
    na = frozenset(s for s in na_strings if s != "")
    non_plain = _non_plain(sep)
    rows, ncol, skip_header = [], None, header
    for name, lineno, line in numbered_lines(srcs):
        if skip_header:
            skip_header = False
            if ncol is None:
                ncol = len(line.split(sep))
            continue
        if line == "":
            raise FormatError(name, lineno, "empty line in a csv file")
        cells = line.split(sep)
        if ncol is None or not rows:
            ncol = len(cells)
        if len(cells) != ncol:
            raise FormatError(name, lineno, f"row has {len(cells)} fields, the first row {ncol}")
        row = None
        if not na and non_plain.search(line) is None:
            try:
                row = list(map(float, cells))
            except ValueError:          # empty or malformed cells: the exact path decides
                row = None
        if row is None:
            row = [_cell(c, name, lineno, fill, default, na) for c in cells]
        rows.append(row)
    if not rows:
        return np.zeros((0, ncol or 0), dtype=np.float64)
    return np.array(rows, dtype=np.float64)


def csv_chunks(a: np.ndarray, header: bool, sep: str, sparse: bool):
    """The csv text of a host matrix, in chunks of rows."""
    zero = "" if sparse else "0"
    if header:
        yield sep.join(f"C{j + 1}" for j in range(a.shape[1])) + "\n"
    for start in range(0, a.shape[0], _ROWS_PER_CHUNK):
        block = a[start:start + _ROWS_PER_CHUNK].tolist()
        yield "".join(sep.join([zero if v == 0 else format_double(v) for v in row]) + "\n" for row in block)


def read_libsvm(srcs, cols: int, sep: str, ind_sep: str) -> np.ndarray:
    """A host array of cols+1 columns (features, then the label) from libsvm text."""
    rows: list[float] = []
    feat_r: list[int] = []
    feat_c: list[int] = []
    feat_v: list[float] = []
    for name, lineno, line in numbered_lines(srcs):
        tokens = [t for t in line.split(sep) if java_trim(t) != ""]
        if not tokens:
            raise FormatError(name, lineno, "empty line in a libsvm file")
        label = parse_double(tokens[0])
        if label is None:
            raise FormatError(name, lineno, f"cannot read the label {tokens[0]!r} as a number "
                              f"(libsvm fields are separated by sep={sep!r})")
        r = len(rows)
        rows.append(label)
        for t in tokens[1:]:
            idx, found, val = t.partition(ind_sep)
            j = parse_long(idx) if found else None
            v = parse_double(val) if found else None
            if j is None or v is None:
                raise FormatError(name, lineno, f"feature {t!r} is not <index>{ind_sep}<value>")
            if not 1 <= j <= cols:
                raise FormatError(name, lineno, f"feature index {j} is outside 1..{cols} (cols={cols})")
            feat_r.append(r)
            feat_c.append(j - 1)
            feat_v.append(v)
    out = np.zeros((len(rows), cols + 1), dtype=np.float64)
    if feat_r:
        out[np.asarray(feat_r), np.asarray(feat_c)] = feat_v
    out[:, cols] = rows
    return out


def libsvm_chunks(a: np.ndarray, sep: str):
    """libsvm text of a host matrix: the last column is the label."""
    n = a.shape[1]
    for start in range(0, a.shape[0], _ROWS_PER_CHUNK):
        lines = []
        for row in a[start:start + _ROWS_PER_CHUNK].tolist():
            parts = [format_double(row[n - 1]) if n else ""]
            parts += [f"{j + 1}:{format_double(v)}" for j, v in enumerate(row[:n - 1]) if v != 0]
            lines.append(sep.join(parts) + "\n")
        yield "".join(lines)
