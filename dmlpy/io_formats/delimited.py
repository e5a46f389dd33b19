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

import io
import re
import warnings

import numpy as np

from .files import FormatError, numbered_lines, split_lines
from .javanum import PLAIN_NUMBER_CHARS, format_double, is_plain, java_trim, parse_double, parse_long

_ROWS_PER_CHUNK = 2048
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def _has_blank_line(body: str) -> bool:
    """A blank line (which loadtxt would skip, but SystemDS fails on) in text without final newline."""
    first, _, _ = body.partition("\n")
    last = body[body.rfind("\n") + 1:]
    return not first.strip() or not last.strip() or _BLANK_LINE.search(body) is not None


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


def _csv_fast(text: str, sep: str) -> np.ndarray | None:
    """NumPy's C parser for plain numeric csv text, or None where the exact path must decide."""
    if len(sep) != 1 or sep in PLAIN_NUMBER_CHARS.replace("\t", ""):
        return None
    body = text[:-1] if text.endswith("\n") else text
    if body == "":
        return None
    if not is_plain(body, sep) or _has_blank_line(body):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.loadtxt(io.StringIO(body), dtype=np.float64, delimiter=sep, ndmin=2,
                              comments=None, quotechar=None)
    except ValueError:              # empty or malformed cells, ragged rows
        return None


def _csv_exact(name: str, text: str, first: int, sep: str, fill: bool, default: float,
               na: frozenset) -> list[list[float]]:
    non_plain = _non_plain(sep)
    rows, ncol = [], None
    for lineno, line in enumerate(split_lines(text), first):
        if line == "":
            raise FormatError(name, lineno, "empty line in a csv file")
        cells = line.split(sep)
        if ncol is None:
            ncol = len(cells)
        if len(cells) != ncol:
            raise FormatError(name, lineno, f"row has {len(cells)} fields, the first row {ncol}")
        row = None
        if not na and non_plain.search(line) is None:
            try:
                row = list(map(float, cells))
            except ValueError:
                row = None
        if row is None:
            row = [_cell(c, name, lineno, fill, default, na) for c in cells]
        rows.append(row)
    return rows


def read_csv(srcs, header: bool, sep: str, fill: bool, default: float, na_strings=()) -> np.ndarray:
    """A host float64 array from csv text sources (the header, if any, is the first line)."""
    na = frozenset(s for s in na_strings if s != "")
    blocks, ncol = [], None
    for k, (name, text) in enumerate(srcs):
        first = 1
        if header and k == 0:
            cut = text.find("\n")
            head, text = (text, "") if cut < 0 else (text[:cut], text[cut + 1:])
            ncol, first = len(head.rstrip("\r").split(sep)), 2
        a = None if na else _csv_fast(text, sep)
        if a is None:
            rows = _csv_exact(name, text, first, sep, fill, default, na)
            a = np.array(rows, dtype=np.float64) if rows else None
        if a is None:
            continue
        if blocks and a.shape[1] != blocks[0].shape[1]:
            raise FormatError(name, first, f"row has {a.shape[1]} fields, the first row {blocks[0].shape[1]}")
        blocks.append(a)
    if not blocks:
        return np.zeros((0, ncol or 0), dtype=np.float64)
    return blocks[0] if len(blocks) == 1 else np.vstack(blocks)


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
