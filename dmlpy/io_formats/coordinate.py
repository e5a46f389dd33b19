"""text (i j v triples) and Matrix Market: the non-zero cells, 1-based, one per line.

Measured on SystemDS 3.4.0:
  * text write: "i j v\\n" for each non-zero cell in row-major order, v as Java's
    Double.toString; a matrix without non-zeros is the single line "0 0 0".
    text read needs rows and cols (.mtd or arguments); a repeated cell keeps
    its last value; a cell outside the dimensions is an error.
  * mm write: "%%MatrixMarket matrix coordinate real general", then
    "rows cols nnz", then the cells as in text ("0 0 0" when there are none);
    SystemDS writes no .mtd for mm and reads mm without one (the dimensions
    come from the size line). SystemDS rejects the "array" layout on read;
    dmlpy reads it too (column-major values, as the Matrix Market spec says).
Fields are separated by blanks (spaces or tabs) here; SystemDS wants single spaces.
"""
from __future__ import annotations

import io
import warnings

import numpy as np

from .files import FormatError, split_lines
from .javanum import format_double, is_plain, parse_double, parse_long

_CELLS_PER_CHUNK = 4096


class _Table:
    """Whitespace-separated numeric fields, `width` per line, from text segments.

    A segment is (file name, text, line number of its first line). Blank lines
    (and, for Matrix Market, "%" comment lines) are skipped. Plain numeric text
    takes NumPy's C parser; anything else is parsed line by line with Java's
    number grammar, which also yields the file:line of each error.
    """

    def __init__(self, segments, width: int, comments: bool):
        self.segments, self.width, self.comments = segments, width, comments
        self.counts = []
        parts = [self._parse(seg) for seg in segments]
        self.values = np.vstack(parts) if parts else np.zeros((0, width))

    def _skip(self, line: str) -> bool:
        return not line.strip() or (self.comments and line.startswith("%"))

    def _parse(self, seg) -> np.ndarray:
        name, text, first = seg
        if is_plain(text):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")       # "input contained no data"
                    a = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2, comments=None)
                if a.size == 0:
                    a = np.zeros((0, self.width))
                if a.shape[1] == self.width:
                    self.counts.append(a.shape[0])
                    return a
            except ValueError:
                pass
        rows = []
        for lineno, line in enumerate(split_lines(text), first):
            if self._skip(line):
                continue
            fields = line.split()
            if len(fields) != self.width:
                want = {1: "one value", 2: "'row col'", 3: "'row col value'"}[self.width]
                raise FormatError(name, lineno, f"expected {want} per line, found {line!r}")
            row = [parse_double(f) for f in fields]
            for f, v in zip(fields, row):
                if v is None:
                    raise FormatError(name, lineno, f"cannot read {f!r} as a number")
            rows.append(row)
        self.counts.append(len(rows))
        return np.array(rows, dtype=np.float64).reshape(len(rows), self.width)

    def where(self, k: int) -> tuple[str, int]:
        """(file, line) of the k-th data line (found again only when an error is reported)."""
        for (name, text, first), n in zip(self.segments, self.counts):
            if k >= n:
                k -= n
                continue
            for lineno, line in enumerate(split_lines(text), first):
                if not self._skip(line):
                    if k == 0:
                        return name, lineno
                    k -= 1
        return self.segments[-1][0], None

    def indices(self, col: int, what: str) -> np.ndarray:
        x = self.values[:, col]
        bad = ~np.isfinite(x) | (x != np.floor(x))
        if bad.any():
            k = int(np.argmax(bad))
            raise FormatError(*self.where(k), f"{what} index {format_double(float(x[k]))} is not an integer")
        return x.astype(np.int64)


def _scatter(rows: int, cols: int, i, j, v, where, symmetry: str = "general") -> np.ndarray:
    """A dense rows x cols array from 1-based cells; the last value of a repeated cell wins."""
    out = np.zeros((rows, cols), dtype=np.float64)
    if len(i) == 0:
        return out
    marker = (i == 0) & (j == 0) & (v == 0)     # "0 0 0": how SystemDS writes an empty matrix
    bad = ((i < 1) | (i > rows) | (j < 1) | (j > cols)) & ~marker
    if bad.any():
        k = int(np.argmax(bad))
        raise FormatError(*where(k), f"cell ({i[k]}, {j[k]}) is outside the {rows} x {cols} matrix")
    if marker.any():
        i, j, v = i[~marker], j[~marker], v[~marker]
    flat = (i - 1) * cols + (j - 1)
    last = len(flat) - 1 - np.unique(flat[::-1], return_index=True)[1]
    out.flat[flat[last]] = v[last]
    if symmetry != "general":
        off = i != j
        sign = -1.0 if symmetry == "skew-symmetric" else 1.0
        out[j[off] - 1, i[off] - 1] = sign * v[off]
    return out


def read_text(srcs, rows: int, cols: int) -> np.ndarray:
    table = _Table([(name, text, 1) for name, text in srcs], 3, comments=False)
    i, j = table.indices(0, "row"), table.indices(1, "column")
    return _scatter(rows, cols, i, j, table.values[:, 2], table.where)


def cell_chunks(a: np.ndarray):
    """'i j v' lines of the non-zero cells (row-major), or '0 0 0' when there are none."""
    r, c = np.nonzero(a)
    if len(r) == 0:
        yield "0 0 0\n"
        return
    vals = a[r, c].tolist()
    r = (r + 1).tolist()
    c = (c + 1).tolist()
    for s in range(0, len(vals), _CELLS_PER_CHUNK):
        yield "".join(f"{i} {j} {format_double(v)}\n"
                      for i, j, v in zip(r[s:s + _CELLS_PER_CHUNK], c[s:s + _CELLS_PER_CHUNK],
                                         vals[s:s + _CELLS_PER_CHUNK]))


MM_HEADER = "%%MatrixMarket matrix coordinate real general\n"


def mm_chunks(a: np.ndarray):
    yield MM_HEADER
    yield f"{a.shape[0]} {a.shape[1]} {int(np.count_nonzero(a))}\n"
    yield from cell_chunks(a)


def _mm_header(srcs):
    """(banner fields, rows, cols, body segments after the size line) of a Matrix Market file."""
    name, text = srcs[0]
    pos = lineno = 0

    def next_line():
        nonlocal pos, lineno
        if pos >= len(text):
            return None
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line, pos, lineno = text[pos:end].rstrip("\r"), end + 1, lineno + 1
        return line

    words = (next_line() or "").split()
    if len(words) != 5 or words[0] != "%%MatrixMarket" or words[1].lower() != "matrix":
        raise FormatError(name, 1, "not a Matrix Market file: the first line must be "
                          "'%%MatrixMarket matrix <coordinate|array> <field> <symmetry>'")
    layout, field, symmetry = (w.lower() for w in words[2:])
    if layout not in ("coordinate", "array"):
        raise FormatError(name, 1, f"Matrix Market layout {words[2]!r} is not supported (coordinate, array)")
    if field not in ("real", "double", "integer", "pattern"):
        raise FormatError(name, 1, f"Matrix Market field {words[3]!r} is not supported (real, integer, pattern)")
    if symmetry not in ("general", "symmetric", "skew-symmetric"):
        raise FormatError(name, 1, f"Matrix Market symmetry {words[4]!r} is not supported "
                          "(general, symmetric, skew-symmetric)")
    if layout == "array" and field == "pattern":
        raise FormatError(name, 1, "a Matrix Market array cannot have the pattern field")
    while (line := next_line()) is not None:
        if line.startswith("%") or not line.strip():
            continue
        want = 3 if layout == "coordinate" else 2
        nums = [parse_long(p) for p in line.split()]
        if len(nums) != want or any(n is None or n < 0 for n in nums):
            raise FormatError(name, lineno, f"the size line must be <rows> <cols>"
                              f"{' <entries>' if want == 3 else ''} (non-negative integers), found {line!r}")
        body = [(name, text[pos:], lineno + 1)] + [(n, t, 1) for n, t in srcs[1:]]
        return {"layout": layout, "field": field, "symmetry": symmetry}, nums[0], nums[1], body
    raise FormatError(name, lineno, "Matrix Market file without a size line")


def read_mm(srcs) -> np.ndarray:
    info, rows, cols, body = _mm_header(srcs)
    if info["layout"] == "array":
        return _mm_array(_Table(body, 1, comments=True), rows, cols, info["symmetry"], srcs[0][0])
    pattern = info["field"] == "pattern"
    table = _Table(body, 2 if pattern else 3, comments=True)
    i, j = table.indices(0, "row"), table.indices(1, "column")
    v = np.ones(len(i)) if pattern else table.values[:, 2]
    if info["symmetry"] != "general":
        above = i < j
        if above.any():
            k = int(np.argmax(above))
            raise FormatError(*table.where(k), f"a {info['symmetry']} Matrix Market file lists only cells "
                              f"on or below the diagonal, found ({i[k]}, {j[k]})")
    return _scatter(rows, cols, i, j, v, table.where, info["symmetry"])


def _mm_array(table: _Table, rows: int, cols: int, symmetry: str, name: str) -> np.ndarray:
    vals = table.values[:, 0]
    if symmetry == "general":
        expected = rows * cols
    else:
        if rows != cols:
            raise FormatError(name, None, f"a {symmetry} Matrix Market array must be square")
        expected = rows * (rows + 1) // 2 if symmetry == "symmetric" else rows * (rows - 1) // 2
    if len(vals) != expected:
        raise FormatError(name, None, f"the Matrix Market array holds {len(vals)} values, "
                          f"the size line asks for {expected}")
    if symmetry == "general":
        return vals.reshape(cols, rows).T.copy()
    out = np.zeros((rows, cols), dtype=np.float64)
    k = 0
    first_below = 0 if symmetry == "symmetric" else 1
    for c in range(cols):                       # column-major lower triangle
        n = rows - c - first_below
        out[c + first_below:, c] = vals[k:k + n]
        k += n
    sign = -1.0 if symmetry == "skew-symmetric" else 1.0
    return out + sign * np.tril(out, -1).T
