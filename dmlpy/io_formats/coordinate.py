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

import numpy as np

from .files import FormatError, numbered_lines
from .javanum import PLAIN_NUMBER_CHARS, format_double, parse_double, parse_long

_PLAIN = frozenset(PLAIN_NUMBER_CHARS)
_CELLS_PER_CHUNK = 4096


def _values(tokens: list[str], where: list[tuple[str, int]]) -> np.ndarray:
    """Java-parsed doubles; `where` gives (file, line) of each token for errors."""
    try:
        if all(_PLAIN.issuperset(t) for t in tokens):
            return np.array(list(map(float, tokens)), dtype=np.float64)
    except ValueError:
        pass
    out = np.empty(len(tokens), dtype=np.float64)
    for k, t in enumerate(tokens):
        v = parse_double(t)
        if v is None:
            raise FormatError(*where[k], f"cannot read {t!r} as a number")
        out[k] = v
    return out


def _indices(tokens: list[str], where: list[tuple[str, int]], what: str) -> np.ndarray:
    try:
        return np.array(list(map(int, tokens)), dtype=np.int64)
    except ValueError:
        for k, t in enumerate(tokens):
            if parse_long(t) is None:
                raise FormatError(*where[k], f"{what} index {t!r} is not an integer") from None
        raise


def _scatter(rows: int, cols: int, i, j, v, where, symmetry: str = "general") -> np.ndarray:
    """A dense rows x cols array from 1-based cells; the last value of a repeated cell wins."""
    out = np.zeros((rows, cols), dtype=np.float64)
    if len(i) == 0:
        return out
    empty_marker = (i == 0) & (j == 0) & (v == 0)       # "0 0 0": SystemDS's empty matrix
    if empty_marker.any():
        keep = ~empty_marker
        i, j, v = i[keep], j[keep], v[keep]
        where = [w for w, k in zip(where, keep) if k]
    bad = (i < 1) | (i > rows) | (j < 1) | (j > cols)
    if bad.any():
        k = int(np.argmax(bad))
        raise FormatError(*where[k], f"cell ({i[k]}, {j[k]}) is outside the {rows} x {cols} matrix")
    flat = (i - 1) * cols + (j - 1)
    last = len(flat) - 1 - np.unique(flat[::-1], return_index=True)[1]
    out.flat[flat[last]] = v[last]
    if symmetry != "general":
        off = i != j
        sign = -1.0 if symmetry == "skew-symmetric" else 1.0
        out[j[off] - 1, i[off] - 1] = sign * v[off]
    return out


def read_text(srcs, rows: int, cols: int) -> np.ndarray:
    ti, tj, tv, where = [], [], [], []
    for name, lineno, line in numbered_lines(srcs):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise FormatError(name, lineno, f"expected 'row col value', found {line!r}")
        ti.append(parts[0])
        tj.append(parts[1])
        tv.append(parts[2])
        where.append((name, lineno))
    i = _indices(ti, where, "row")
    j = _indices(tj, where, "column")
    return _scatter(rows, cols, i, j, _values(tv, where), where)


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


def _parse_banner_and_size(srcs):
    it = numbered_lines(srcs)
    name, lineno, banner = next(it, (srcs[0][0] if srcs else "?", 1, ""))
    words = banner.split()
    if len(words) != 5 or words[0] != "%%MatrixMarket" or words[1].lower() != "matrix":
        raise FormatError(name, lineno, "not a Matrix Market file: the first line must be "
                          "'%%MatrixMarket matrix <coordinate|array> <field> <symmetry>'")
    layout, field, symmetry = (w.lower() for w in words[2:])
    if layout not in ("coordinate", "array"):
        raise FormatError(name, lineno, f"Matrix Market layout {words[2]!r} is not supported (coordinate, array)")
    if field not in ("real", "double", "integer", "pattern"):
        raise FormatError(name, lineno, f"Matrix Market field {words[3]!r} is not supported (real, integer, pattern)")
    if symmetry not in ("general", "symmetric", "skew-symmetric"):
        raise FormatError(name, lineno, f"Matrix Market symmetry {words[4]!r} is not supported "
                          "(general, symmetric, skew-symmetric)")
    if layout == "array" and field == "pattern":
        raise FormatError(name, lineno, "a Matrix Market array cannot have the pattern field")
    banner_info = {"layout": layout, "field": field, "symmetry": symmetry}
    for name, lineno, line in it:
        if line.startswith("%") or not line.strip():
            continue
        parts = line.split()
        want = 3 if layout == "coordinate" else 2
        nums = [parse_long(p) for p in parts]
        if len(parts) != want or any(n is None or n < 0 for n in nums):
            raise FormatError(name, lineno, f"the size line must be <rows> <cols>"
                              f"{' <entries>' if want == 3 else ''} (non-negative integers), found {line!r}")
        entries = nums[2] if want == 3 else None
        return banner_info, nums[0], nums[1], entries, it
    raise FormatError(name, lineno, "Matrix Market file without a size line")


def read_mm(srcs) -> np.ndarray:
    info, rows, cols, _entries, it = _parse_banner_and_size(srcs)
    tokens, where = [], []
    for name, lineno, line in it:
        if line.startswith("%"):
            continue
        parts = line.split()
        if not parts:
            continue
        tokens.append(parts)
        where.append((name, lineno))
    if info["layout"] == "array":
        return _mm_array(tokens, where, rows, cols, info["symmetry"], srcs)
    width = 2 if info["field"] == "pattern" else 3
    for parts, w in zip(tokens, where):
        if len(parts) != width:
            raise FormatError(*w, f"expected {'row col' if width == 2 else 'row col value'}, "
                              f"found {' '.join(parts)!r}")
    i = _indices([p[0] for p in tokens], where, "row")
    j = _indices([p[1] for p in tokens], where, "column")
    v = np.ones(len(tokens)) if width == 2 else _values([p[2] for p in tokens], where)
    if info["symmetry"] != "general":
        above = i < j
        if above.any():
            k = int(np.argmax(above))
            raise FormatError(*where[k], f"a {info['symmetry']} Matrix Market file lists only cells "
                              f"on or below the diagonal, found ({i[k]}, {j[k]})")
    return _scatter(rows, cols, i, j, v, where, info["symmetry"])


def _mm_array(tokens, where, rows, cols, symmetry, srcs) -> np.ndarray:
    for parts, w in zip(tokens, where):
        if len(parts) != 1:
            raise FormatError(*w, f"expected one value per line in a Matrix Market array, found {' '.join(parts)!r}")
    vals = _values([p[0] for p in tokens], where)
    if symmetry == "general":
        expected = rows * cols
    else:
        if rows != cols:
            raise FormatError(srcs[0][0], None, f"a {symmetry} Matrix Market array must be square")
        expected = rows * (rows + 1) // 2 if symmetry == "symmetric" else rows * (rows - 1) // 2
    if len(vals) != expected:
        last = where[-1] if where else (srcs[0][0], None)
        raise FormatError(*last, f"the Matrix Market array holds {len(vals)} values, the size line asks for {expected}")
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
    lower = np.tril(out, -1)
    return out + sign * lower.T

