"""Builtins that build or reorganise matrices: sample, table, order, removeEmpty,
replace, rev, cbind/rbind, diag, outer, lower.tri/upper.tri, toOneHot, unique.

Semantics measured on SystemDS 3.4.0 (recordings in tests/data/builtins_matrix/):
  * order is a stable sort in both directions: ties keep their input order, also
    with decreasing=TRUE; `by` may list several columns (lexicographic).
  * removeEmpty counts NaN as non-empty; an all-empty result is one row (column)
    of zeros, or 0 rows (columns) with empty.return=FALSE.
  * table truncates values toward zero, skips rows with a NaN, and rejects values
    below 1; output dimensions, when given, crop or pad.
  * toOneHot truncates values toward zero and rejects 0 and values above numClasses.
"""
from __future__ import annotations

import numpy as np

from .. import backend, frame_ops, ops
from ..errors import DMLRuntimeError
from ..values import Frame, a_type_name, format_scalar, is_matrix, matrix_argument
from .core import as_bool, as_float, as_int
from .registry import builtin


def _dims(M) -> str:
    return f"{M.shape[0]}x{M.shape[1]}"


# ------------------------------------------------------------------------ sample

@builtin("sample")
def sample(ctx, range_, size, replacement=False, seed=-1):
    """size x 1 random integers from 1..range; sample(r, n, seed) takes an int third argument as the seed."""
    if type(replacement) is int or type(replacement) is float:
        if not (type(seed) is int and seed == -1):
            raise DMLRuntimeError("sample(): replacement must be a boolean")
        replacement, seed = False, replacement
    n_pop = as_int(range_, "sample's range")
    n = as_int(size, "sample's size")
    repl = as_bool(replacement, "sample's replacement")
    if n_pop < 1:
        raise DMLRuntimeError(f"sample(): the range must be at least 1, not {n_pop}")
    if n < 0:
        raise DMLRuntimeError(f"sample(): the size must not be negative, not {n}")
    if n > n_pop and not repl:
        raise DMLRuntimeError(f"sample(): a sample of size {n} larger than the population ({n_pop}) "
                              "needs replacement=TRUE")
    gen = ctx.rng(as_int(seed, "sample's seed"))
    values = gen.choice(n_pop, size=n, replace=repl) + 1
    return backend.asarray(np.asarray(values, dtype=np.float64).reshape(n, 1))


# ------------------------------------------------------------------------- table

def _table_named_dims(rest: tuple, dims: dict) -> tuple:
    """table()'s optional arguments, positional, from positional ones and named dimensions."""
    aliases = {"odim1": "rows", "rows": "rows", "odim2": "cols", "cols": "cols"}
    named: dict = {}
    for k, v in dims.items():
        if k not in aliases or aliases[k] in named:
            raise DMLRuntimeError(f"table(): unknown or repeated argument '{k}' (output dimensions: "
                                  "odim1=/rows=, odim2=/cols=)")
        named[aliases[k]] = v
    rest = list(rest)
    if "rows" not in named and rest and len(rest) in (1, 2):
        named["rows"] = rest.pop()          # table(A, B, [W,] rows, cols=m)
    if "rows" not in named or "cols" not in named or len(rest) > 1:
        raise DMLRuntimeError("table(): give both output dimensions (rows and cols), after the optional weights")
    return (*rest, named["rows"], named["cols"])


def _table_operand(name, v, n, what):
    """A table argument as a length-n vector: a vector matrix, or a scalar repeated."""
    xp = backend.xp
    if is_matrix(v):
        if min(v.shape) > 1 and v.size != n:
            raise DMLRuntimeError(f"{name}(): {what} must be a vector, not {_dims(v)}")
        if v.size != n:
            raise DMLRuntimeError(f"{name}(): {what} has {v.size} cells but the first argument has {n}")
        return v.reshape(-1)
    t = type(v)
    if t is int or t is float or t is bool:
        return xp.full(n, float(v), dtype=backend.dtype)
    raise DMLRuntimeError(f"{name}(): {what} must be a matrix or a number, not {a_type_name(v)}")


@builtin("table", "ctable")
def table(A, B, *rest, **dims):
    """Contingency table: F[i, j] = sum of weights of k with A[k] = i and B[k] = j.

    table(A, B), table(A, B, W), table(A, B, rows, cols), table(A, B, W, rows, cols);
    B and W may be scalars. The output dimensions may be named odim1/odim2 (or rows/cols),
    as upstream scripts do: table(A, B, W, odim1=n, odim2=m), table(A, B, n, cols=m)."""
    xp = backend.xp
    if dims:
        rest = _table_named_dims(rest, dims)
    if len(rest) == 0:
        W, dims = 1.0, None
    elif len(rest) == 1:
        W, dims = rest[0], None
    elif len(rest) == 2:
        W, dims = 1.0, rest
    elif len(rest) == 3:
        W, dims = rest[0], rest[1:]
    elif len(rest) == 4 and type(rest[3]) is bool:
        # a 6th argument, outputEmptyBlocks (decisionTree passes FALSE), only tunes SystemDS's
        # distributed blocks
        W, dims = rest[0], rest[1:3]
    else:
        raise DMLRuntimeError(f"table() takes 2 to 5 arguments, or 6 with outputEmptyBlocks last "
                              f"({2 + len(rest)} given)")
    A = matrix_argument("table", A, "first argument")
    if min(A.shape) > 1:
        raise DMLRuntimeError(f"table(): the first argument must be a vector, not {_dims(A)}")
    n = A.size
    a = A.reshape(-1)
    b = _table_operand("table", B, n, "the second argument")
    w = _table_operand("table", W, n, "the weights")
    ok = ~(xp.isnan(a) | xp.isnan(b))
    a, b, w = a[ok], b[ok], w[ok]
    ai = xp.trunc(a)
    bi = xp.trunc(b)
    low = (ai < 1) | (bi < 1)
    if backend.item(xp.any(low)):
        k = int(backend.item(xp.argmax(low)))
        raise DMLRuntimeError("table(): values must be at least 1, found "
                              f"({format_scalar(float(backend.item(a[k])))}, {format_scalar(float(backend.item(b[k])))})")
    if dims is None:
        rows = int(backend.item(xp.max(ai))) if ai.size else 0
        cols = int(backend.item(xp.max(bi))) if bi.size else 0
    else:
        rows, cols = as_int(dims[0], "table's rows"), as_int(dims[1], "table's cols")
        if rows < 0 or cols < 0:
            raise DMLRuntimeError(f"table(): invalid output dimensions {rows}x{cols}")
        inside = (ai <= rows) & (bi <= cols)
        ai, bi, w = ai[inside], bi[inside], w[inside]
    cell = (ai.astype(xp.int64) - 1) * cols + (bi.astype(xp.int64) - 1)
    counts = xp.bincount(cell, weights=w, minlength=rows * cols)
    return counts.reshape(rows, cols).astype(backend.dtype)


# ------------------------------------------------------------------------- order

@builtin("order", named_only=True)
def order(target, by=1, decreasing=False, index_return=False):
    """Sort the rows of target by column `by` (or by several columns, a vector of
    indices, lexicographically); index.return gives the 1-based row order instead."""
    xp = backend.xp
    X = matrix_argument("order", target, "target")
    n, m = X.shape
    if is_matrix(by):
        cols = [int(c) for c in backend.to_host(by).ravel()]
    else:
        cols = [as_int(by, "order's by")]
    for c in cols:
        if c < 1 or c > m:
            raise DMLRuntimeError(f"order(): by={c} is out of range for a matrix with {m} columns")
    desc = as_bool(decreasing, "decreasing")
    keys = [(-X[:, c - 1]) if desc else X[:, c - 1] for c in reversed(cols)]
    perm = xp.lexsort(xp.stack(keys)) if len(keys) > 1 else xp.argsort(keys[0], kind="stable")
    if as_bool(index_return, "index.return"):
        return (perm + 1).reshape(n, 1).astype(backend.dtype)
    return X[perm]


# ------------------------------------------------------------------ removeEmpty

@builtin("removeEmpty", named_only=True)
def remove_empty(target, margin, select=None, empty_return=True):
    """Drop all-zero rows (margin="rows") or columns ("cols"), or keep those where
    select != 0. NaN is not empty."""
    xp = backend.xp
    X = matrix_argument("removeEmpty", target, "target")
    if margin not in ("rows", "cols"):
        raise DMLRuntimeError(f"removeEmpty(): margin must be 'rows' or 'cols', not '{margin}'")
    by_rows = margin == "rows"
    n = X.shape[0] if by_rows else X.shape[1]
    if select is None:
        keep = xp.any(X != 0, axis=1 if by_rows else 0)
    else:
        S = matrix_argument("removeEmpty", select, "select")
        if min(S.shape) > 1 or S.size != n:
            raise DMLRuntimeError(f"removeEmpty(): select must be a vector of {n} cells for margin "
                                  f"'{margin}', not {_dims(S)}")
        keep = S.reshape(-1) != 0
    out = X[keep] if by_rows else X[:, keep]
    if out.size == 0 and (out.shape[0] if by_rows else out.shape[1]) == 0 \
            and as_bool(empty_return, "empty.return"):
        shape = (1, X.shape[1]) if by_rows else (X.shape[0], 1)
        return xp.zeros(shape, dtype=backend.dtype)
    return out.copy()


# ---------------------------------------------------------------- replace, rev

@builtin("replace", named_only=True)
def replace(target, pattern, replacement):
    """Copy of target with every cell equal to pattern replaced (a NaN pattern matches NaN)."""
    xp = backend.xp
    X = matrix_argument("replace", target, "target")
    p = as_float(pattern, "pattern")
    r = as_float(replacement, "replacement")
    hit = xp.isnan(X) if p != p else (X == p)
    return xp.where(hit, r, X).astype(backend.dtype)


@builtin("rev")
def rev(X):
    """The rows in reverse order."""
    return matrix_argument("rev", X)[::-1].copy()


# ------------------------------------------------------------------ cbind, rbind

def _bind(name, args, axis):
    xp = backend.xp
    if len(args) < 2:
        raise DMLRuntimeError(f"{name}() needs at least two matrices")
    for a in args:
        matrix_argument(name, a)
    other = 1 - axis
    for a in args[1:]:
        if a.shape[other] != args[0].shape[other]:
            what = "nRow" if axis == 1 else "nCol"
            raise DMLRuntimeError(f"{name}(): {'rows' if axis == 1 else 'columns'} do not match "
                                  f"({what} {a.shape[other]}, should be {args[0].shape[other]})")
    return xp.concatenate(args, axis=axis).astype(backend.dtype, copy=False)


@builtin("cbind")
def cbind(*matrices):
    """Matrices (or frames) side by side (same number of rows)."""
    if matrices and type(matrices[0]) is Frame:
        return frame_ops.bind("cbind", matrices, 1)
    return _bind("cbind", matrices, 1)


@builtin("rbind")
def rbind(*matrices):
    """Matrices (or frames) stacked (same number of columns)."""
    if matrices and type(matrices[0]) is Frame:
        return frame_ops.bind("rbind", matrices, 0)
    return _bind("rbind", matrices, 0)


# --------------------------------------------------------------------------- diag

@builtin("diag")
def diag(X):
    """A column vector becomes a diagonal matrix; a square matrix gives its diagonal as a column."""
    xp = backend.xp
    X = matrix_argument("diag", X)
    n, m = X.shape
    if m == 1:
        return xp.diag(X[:, 0]).astype(backend.dtype)
    if n == m:
        return xp.diag(X).reshape(n, 1).copy()
    raise DMLRuntimeError("diag() takes a column vector (n x 1) or a square matrix, "
                          f"not a {n}x{m} matrix")


# -------------------------------------------------------------------------- outer

def _log_op(a, b):
    """As SystemDS's log of two matrices: a cell where either operand is 0 gives 0."""
    xp = backend.xp
    return xp.where((a == 0) | (b == 0), 0.0, xp.log(a) / xp.log(b))


_OUTER_OPS = {
    "+": ops.add, "-": ops.sub, "*": ops.mul, "/": ops.div, "^": ops.pow_,
    "%%": ops.mod, "%/%": ops.intdiv,
    "<": ops.lt, "<=": ops.le, ">": ops.gt, ">=": ops.ge, "==": ops.eq, "!=": ops.ne,
    "min": lambda a, b: backend.xp.minimum(a, b), "max": lambda a, b: backend.xp.maximum(a, b),
    "log": _log_op,
}


@builtin("outer")
def outer(X, Y, op):
    """R[i, j] = X[i] op Y[j] for a column vector X and a row vector Y. A matrix Y with X's
    rows (and several columns) gives R[i, j] = X[i] op Y[i, j], as SystemDS computes it at run time (upstream
    raJoin relies on it; SystemDS rejects it only where the shapes are known when compiling)."""
    xp = backend.xp
    X = matrix_argument("outer", X, "first argument")
    Y = matrix_argument("outer", Y, "second argument")
    if X.shape[1] != 1 or (Y.shape[0] != 1 and (Y.shape[0] != X.shape[0] or Y.shape[1] == 1)):
        raise DMLRuntimeError("outer() needs a column vector and a row vector, "
                              f"not {_dims(X)} and {_dims(Y)}")
    fn = _OUTER_OPS.get(op)
    if fn is None:
        raise DMLRuntimeError(f"outer(): unknown operator '{op}' ({' '.join(_OUTER_OPS)})")
    shape = (X.shape[0], Y.shape[1])
    r = fn(xp.broadcast_to(X, shape), xp.broadcast_to(Y, shape))
    return r.astype(backend.dtype)


# ---------------------------------------------------------------- triangular parts

def _triangle(name, X, lower, diag_, values):
    xp = backend.xp
    X = matrix_argument(name, X, "target")
    n, m = X.shape
    i = xp.arange(n).reshape(n, 1)
    j = xp.arange(m).reshape(1, m)
    if lower:
        mask = (j <= i) if as_bool(diag_, "diag") else (j < i)
    else:
        mask = (j >= i) if as_bool(diag_, "diag") else (j > i)
    if as_bool(values, "values"):
        return xp.where(mask, X, 0.0).astype(backend.dtype)
    return mask.astype(backend.dtype)


@builtin("lower.tri")
def lower_tri(target, diag=False, values=False):
    """The cells below (diag=TRUE: and on) the diagonal: ones, or target's values."""
    return _triangle("lower.tri", target, True, diag, values)


@builtin("upper.tri")
def upper_tri(target, diag=False, values=False):
    """The cells above (diag=TRUE: and on) the diagonal: ones, or target's values."""
    return _triangle("upper.tri", target, False, diag, values)


# ------------------------------------------------------------------------ toOneHot

@builtin("toOneHot")
def to_one_hot(X, numClasses):
    """Row k has a 1 in column X[k] (truncated toward zero), for a column vector X of class ids."""
    xp = backend.xp
    X = matrix_argument("toOneHot", X)
    k = as_int(numClasses, "numClasses")
    ids = xp.trunc(X.reshape(-1))
    if ids.size and backend.item(xp.max(ids)) > k:
        raise DMLRuntimeError("toOneHot(): numClasses must be >= largest value in X to prevent cropping")
    if ids.size and backend.item(xp.any((ids < 1) | xp.isnan(ids))):
        raise DMLRuntimeError("toOneHot(): class ids must be at least 1")
    return (ids.reshape(-1, 1) == xp.arange(1, k + 1).reshape(1, k)).astype(backend.dtype)


# -------------------------------------------------------------------------- unique

@builtin("unique")
def unique(X, dir=None):
    """Distinct values as a column, in the order SystemDS gives them (see _java_hash_order);
    dir="r": distinct rows, dir="c": distinct columns (sorted here; SystemDS: hash order)."""
    xp = backend.xp
    X = matrix_argument("unique", X)
    if dir is not None and type(dir) is not str:
        raise DMLRuntimeError(f"unique(): dir must be 'r' or 'c', not {a_type_name(dir)}")
    if dir is None:
        v = backend.to_host(X).reshape(-1).astype(np.float64) + 0.0      # (-0.0 counts as 0.0)
        if v.size == 0:
            return xp.zeros((0, 1), dtype=backend.dtype)
        return backend.asarray(_java_hash_order(v).reshape(-1, 1))
    if dir == "r":
        return _unique_rows(X)
    if dir == "c":
        return _unique_rows(X.T).T.copy()
    raise DMLRuntimeError(f"unique(): dir must be 'r' or 'c', not '{dir}'")


def unique_first_occurrence(X):
    """unique(rbind(...)) as SystemDS computes it: the distinct values in the order they first
    occur (measured: unique(rbind(X, Y)) of 1 2 3 5 7 and 4 5 6 8 is 1 2 3 5 7 4 6 8)."""
    v = backend.to_host(matrix_argument("unique", X)).reshape(-1).astype(np.float64) + 0.0
    _, first = np.unique(v, return_index=True)
    return backend.asarray(v[np.sort(first)].reshape(-1, 1))


def _java_hash_order(v: np.ndarray) -> np.ndarray:
    """The distinct values of v in the order a java.util.HashMap<Double, ..> filled with them
    in order iterates: by bucket (Double.hashCode, spread, masked by the table size: 16,
    doubled while more than 3/4 full), and within a bucket by first occurrence. SystemDS's
    unique() returns exactly this (measured: 3 1 3 2 1 5 4 2 gives 1 2 4 5 3). Buckets of 8 or
    more values in tables of 64 or more, which Java turns into trees, are not modelled."""
    values, first = np.unique(v, return_index=True)          # NaN once (equal_nan)
    bits = values.view(np.uint64).copy()
    bits[np.isnan(values)] = 0x7FF8000000000000                # Double.doubleToLongBits's NaN
    h = (bits ^ (bits >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    size = 16
    while values.size > 0.75 * size:
        size *= 2
    bucket = h & np.uint64(size - 1)
    return values[np.lexsort((first, bucket))]


def _unique_rows(X):
    xp = backend.xp
    n, m = X.shape
    if n == 0 or m == 0:
        return X.copy()
    perm = xp.lexsort(xp.stack([X[:, j] for j in range(m - 1, -1, -1)]))
    S = X[perm]
    same = (S[1:] == S[:-1]) | (xp.isnan(S[1:]) & xp.isnan(S[:-1]))
    new = xp.ones(n, dtype=bool)
    new[1:] = ~xp.all(same, axis=1)
    return S[new].copy()
