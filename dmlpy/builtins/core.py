"""The core builtins every DML program uses: printing, checks, construction, shape, casts, lists."""
from __future__ import annotations

import math
import re
import time as _time

import numpy as np

from .. import backend, frame_ops
from ..errors import DMLRuntimeError, DMLStop
from ..values import (DMLList, Frame, a_type_name, as_bool, as_float, as_int, format_scalar, is_matrix,  # noqa: F401
                      frame_to_string, list_to_string, matrix_to_string, to_string, type_name)
from ..io_formats.javanum import is_plain, parse_double
from .registry import builtin

_SCALAR = (int, float, bool)


# ----------------------------------------------------------------- conversions
# as_int, as_float and as_bool live in values.py (the runtime's indexing uses them too).

def as_matrix_arg(v, what="argument"):
    if is_matrix(v):
        return v
    raise DMLRuntimeError(f"{what} must be a matrix, not {a_type_name(v)}")


# ------------------------------------------------------------------ printing

_FORMAT_SPEC = re.compile(r"%(-?\d*(?:\.\d+)?)([dsfegx%])")


def java_format(fmt: str, args) -> str:
    """print("...%d...%s", a, b): Java's String.format for the common conversions."""
    it = iter(args)

    def conv(m):
        flags, kind = m.group(1), m.group(2)
        if kind == "%":
            return "%"
        try:
            v = next(it)
        except StopIteration:
            raise DMLRuntimeError(f"print(): the format {fmt!r} needs more arguments") from None
        if kind == "s":
            text = to_string(v)
            return ("%" + flags + "s") % text
        if kind in "dx":
            if type(v) is not int:
                raise DMLRuntimeError(f"print(): %{kind} needs an integer, not {a_type_name(v)}")
            return ("%" + flags + kind) % v
        if type(v) not in (int, float):
            raise DMLRuntimeError(f"print(): %{kind} needs a number, not {a_type_name(v)}")
        return ("%" + flags + kind) % float(v)
    return _FORMAT_SPEC.sub(conv, fmt)


@builtin("print")
def print_(ctx, value="", *args):
    """print(x): the value's text and a newline; print(format, args...) formats like Java."""
    if args:
        if type(value) is not str:
            raise DMLRuntimeError("print() with several arguments needs a format string first")
        ctx.write(java_format(value, args) + "\n")
        return
    ctx.write(to_string(value) + "\n")


@builtin("stop")
def stop(message=""):
    raise DMLStop(to_string(message))


@builtin("assert")
def assert_(condition):
    if not as_bool(condition, "assert's condition"):
        raise DMLRuntimeError("assertion failed")


@builtin("toString")
def to_string_(target, rows=100, cols=100, decimal=3, sparse=False, sep=" ", linesep="\n"):
    if is_matrix(target):
        return matrix_to_string(target, as_int(rows, "rows"), as_int(cols, "cols"), as_int(decimal, "decimal"),
                                as_bool(sparse, "sparse"), str(sep), str(linesep))
    if type(target) is DMLList:
        return list_to_string(target)
    if type(target) is Frame:
        return frame_to_string(target, as_int(rows, "rows"), as_int(cols, "cols"))
    return to_string(target)


@builtin("time")
def time_():
    """Nanoseconds since the epoch, as a DML int."""
    return _time.time_ns()


# -------------------------------------------------------------- construction

def _parse_values(text: str):
    if "," in text:
        raise DMLRuntimeError(f"matrix(): the values in {text!r} must be separated by spaces, not commas")
    parts = text.split()
    if is_plain(text):          # digits, signs, points and exponents: Python's float reads as Java's
        try:
            return [float(p) for p in parts]
        except ValueError:
            pass
    values = [parse_double(p) for p in parts]       # Java's parseDouble: "Infinity", not "Inf"
    if None in values:
        bad = parts[values.index(None)]
        raise DMLRuntimeError(f"matrix(): cannot read the number '{bad}' in {text!r}")
    return values


_MAX_DIMENSION = 2 ** 31 - 1      # SystemDS's matrices index rows and columns with Java ints


def new_dimensions(func: str, rows, cols) -> tuple[int, int]:
    """The rows and columns of a matrix to be built, checked as SystemDS checks them."""
    r, c = as_int(rows, "rows"), as_int(cols, "cols")
    if r < 0 or c < 0:
        raise DMLRuntimeError(f"{func}(): invalid dimensions {r}x{c}")
    for count, what in ((r, "rows"), (c, "columns")):
        if count > _MAX_DIMENSION:
            shown = count if count < 10 ** 15 else format_scalar(float(count))
            raise DMLRuntimeError(f"{func}(): {shown} {what} are more than SystemDS supports "
                                  f"(at most {_MAX_DIMENSION})")
    return r, c


@builtin("matrix")
def matrix(data, rows=None, cols=None, byrow=True):
    """matrix(value, rows, cols), matrix("1 2 3 4", rows, cols), matrix(X, rows, cols, byrow)."""
    xp = backend.xp
    byrow = as_bool(byrow, "byrow")
    if is_matrix(data):
        n = data.size
        r = as_int(rows, "rows") if rows is not None else None
        c = as_int(cols, "cols") if cols is not None else None
        if r is None and c is None:
            r, c = data.shape
        elif r is None:
            r = n // c if c else 0
        elif c is None:
            c = n // r if r else 0
        if r * c != n:
            raise DMLRuntimeError(f"matrix(): cannot reshape {data.shape[0]}x{data.shape[1]} "
                                  f"({n} cells) into {r}x{c}")
        order = "C" if byrow else "F"
        src = data if byrow else data
        return xp.reshape(src.ravel(order="C") if byrow else src.ravel(order="F"), (r, c), order=order).astype(backend.dtype, copy=True)
    if rows is None or cols is None:
        raise DMLRuntimeError("matrix(): rows and cols are required unless the data is a matrix")
    r, c = new_dimensions("matrix", rows, cols)
    if type(data) is str:
        # values in a string always fill row by row (SystemDS ignores byrow here)
        vals = _parse_values(data)
        if len(vals) == r * c:
            a = np.array(vals, dtype=np.float64).reshape((r, c))
            return backend.asarray(a)
        if len(vals) == 1:
            return xp.full((r, c), vals[0], dtype=backend.dtype)
        raise DMLRuntimeError(f"matrix(): {len(vals)} values given for a {r}x{c} matrix")
    if type(data) in (int, float):
        return xp.full((r, c), float(data), dtype=backend.dtype)
    raise DMLRuntimeError(f"matrix(): cannot build a matrix from {a_type_name(data)}")


@builtin("seq")
def seq(from_, to, incr=None):
    """seq(from, to, incr): a column vector from `from` to `to` (inclusive)."""
    a = as_float(from_, "seq's from")
    b = as_float(to, "seq's to")
    if incr is None:
        s = 1.0 if b >= a else -1.0
    else:
        s = as_float(incr, "seq's incr")
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(s)):
        raise DMLRuntimeError(f"seq(): invalid parameters ({format_scalar(a)}, {format_scalar(b)}, "
                              f"{format_scalar(s)})")
    if s == 0 or (b - a) * s < 0:
        if a == b:
            return backend.asarray([[a]])
        raise DMLRuntimeError(f"seq(): wrong sign for the increment {format_scalar(s)} "
                              f"from {format_scalar(a)} to {format_scalar(b)}")
    n = int(np.floor((b - a) / s + 1e-10)) + 1
    xp = backend.xp
    return (a + s * xp.arange(n, dtype=backend.dtype)).reshape(-1, 1).astype(backend.dtype)


@builtin("rand", "Rand")
def rand(ctx, rows=1, cols=1, min=0.0, max=1.0, pdf="uniform", sparsity=1.0, seed=-1, lambda_=1.0):
    """Random matrix: pdf uniform in [min, max], normal (standard), or poisson(lambda)."""
    r, c = new_dimensions("rand", rows, cols)
    lo, hi = as_float(min, "min"), as_float(max, "max")
    sp = as_float(sparsity, "sparsity")
    kind = str(pdf).lower()
    if kind == "uniform" and lo == hi and sp >= 1.0 and r * c > 0:
        # every cell is min: no random numbers (on the GPU, no host-to-device copy either;
        # e.g. nn's dropout layer with keep probability 1 asks for such a matrix every step)
        as_int(seed, "seed")
        return backend.xp.full((r, c), lo, dtype=backend.dtype)
    gen = ctx.rng(as_int(seed, "seed"))
    if kind == "uniform":
        a = lo + (hi - lo) * gen.random((r, c))
    elif kind == "normal":
        a = gen.standard_normal((r, c))
    elif kind == "poisson":
        a = gen.poisson(as_float(lambda_, "lambda"), (r, c)).astype(np.float64)
    else:
        raise DMLRuntimeError(f"rand(): unknown pdf '{pdf}' (uniform, normal or poisson)")
    if sp < 1.0:
        a = np.where(gen.random((r, c)) < sp, a, 0.0)
    return backend.asarray(a)


# --------------------------------------------------------------------- shape

@builtin("nrow")
def nrow(X):
    if is_matrix(X):
        return int(X.shape[0])
    if type(X) is Frame:
        return len(X.columns[0]) if X.columns else 0
    if type(X) is DMLList:          # (SystemDS: a list is a column of its elements)
        return len(X.items)
    raise DMLRuntimeError(f"nrow() needs a matrix, frame or list, not {a_type_name(X)}")


@builtin("ncol")
def ncol(X):
    if is_matrix(X):
        return int(X.shape[1])
    if type(X) is Frame:
        return len(X.columns)
    if type(X) is DMLList:
        return 1
    raise DMLRuntimeError(f"ncol() needs a matrix, frame or list, not {a_type_name(X)}")


@builtin("length")
def length(X):
    if is_matrix(X):
        return int(X.shape[0] * X.shape[1])
    if type(X) is DMLList:
        return len(X.items)
    if type(X) is Frame:
        rows, cols = frame_ops.shape(X)
        return rows * cols
    raise DMLRuntimeError(f"length() needs a matrix, frame or list, not {a_type_name(X)}")


# Below this many cells sum() accumulates in extended precision: SystemDS's Kahan-compensated sum
# prints the correctly rounded digits (sum of 0.1, 0.2, 0.3 is 0.6), which plain float64 summation
# misses; above it, numpy's pairwise float64 sum keeps large sums fast.
_WIDE_SUM_LIMIT = 1 << 16
# Up to this many cells the extended sum is a dot product with ones in long double, which
# numpy dispatches faster than a reduction that casts (a hot spot of small-matrix loops).
_DOT_SUM_LIMIT = 1024
_LONG_ONES: dict[int, np.ndarray] = {}       # cell count -> ones in long double
_F64 = np.dtype(np.float64)
_vdot = getattr(np.vdot, "_implementation", np.vdot)     # (ndarray operands need no dispatch)


def _sum_float64(X) -> float:
    n = X.size
    if n <= _DOT_SUM_LIMIT:
        ones = _LONG_ONES[n] = np.ones(n, np.longdouble)
        return float(_vdot(X, ones))
    if n <= _WIDE_SUM_LIMIT:
        return float(X.sum(dtype=np.longdouble))
    return float(X.sum())


def kahan_infinities(X, R, axis=None):
    """Sums as SystemDS's Kahan sum gives them where X holds an infinity: an infinite value
    replaces the running sum, and later finite or NaN values leave an infinite sum as it is, so
    the sum is the last infinity met (row by row; Inf + -Inf is not NaN there). R: the IEEE sums
    (a float for axis None, else keepdims); only non-finite ones can need it."""
    xp = backend.xp
    if axis is None:
        cells = xp.ravel(X)
        where = xp.flatnonzero(xp.isinf(cells))
        return float(backend.item(cells[where[-1]])) if where.size else R
    mask = xp.isinf(X)
    has = xp.any(mask, axis=axis, keepdims=True)
    last = X.shape[axis] - 1 - xp.argmax(xp.flip(mask, axis=axis), axis=axis)
    values = xp.take_along_axis(X, xp.expand_dims(last, axis), axis=axis)
    return xp.where(has, values, R)


@builtin("sum")
def sum_(X):
    if type(X) is np.ndarray and X.dtype is _F64:        # the common case, without the dispatch below
        ones = _LONG_ONES.get(X.size)
        r = float(_vdot(X, ones)) if ones is not None else _sum_float64(X)
        return r if r - r == 0.0 else kahan_infinities(X, r)     # (r - r is 0 for a finite r)
    if is_matrix(X):
        if X.dtype == np.float64 and X.size <= _WIDE_SUM_LIMIT:
            # (on the GPU too: a small matrix copies to the host as fast as a reduction syncs)
            r = float(backend.to_host(X).sum(dtype=np.longdouble))
        else:
            r = float(backend.item(X.sum()))
        return r if r - r == 0.0 else kahan_infinities(X, r)
    if type(X) in _SCALAR:
        return X
    raise DMLRuntimeError(f"sum() needs a matrix, not {a_type_name(X)}")


@builtin("t")
def transpose(X):
    return as_matrix_arg(X, "t()'s argument").T


# --------------------------------------------------------------------- casts

@builtin("as.scalar", "castAsScalar")
def as_scalar(X):
    if is_matrix(X):
        if X.shape != (1, 1):
            raise DMLRuntimeError(f"as.scalar() needs a 1x1 matrix, not {X.shape[0]}x{X.shape[1]}")
        return float(backend.item(X[0, 0]))
    if type(X) is DMLList:
        if len(X.items) != 1:
            raise DMLRuntimeError(f"as.scalar() needs a list of one element, not {len(X.items)}")
        return X.items[0]
    if type(X) is Frame:
        return frame_ops.cell_value(X)
    raise DMLRuntimeError(f"as.scalar() needs a 1x1 matrix or frame or a one-element list, not {a_type_name(X)}")


@builtin("as.matrix")
def as_matrix(X):
    if is_matrix(X):
        return X
    if type(X) is Frame:
        try:
            cols = [[float(v) if v is not None else 0.0 for v in col] for col in X.columns]
        except (TypeError, ValueError):
            raise DMLRuntimeError("as.matrix(): the frame holds values that are not numbers") from None
        return backend.asarray(np.array(cols, dtype=np.float64).T.reshape(len(cols[0]) if cols else 0, len(cols)))
    if type(X) in _SCALAR:
        return backend.asarray([[float(X)]])
    if type(X) is DMLList and len(X.items) == 1 and is_matrix(X.items[0]):
        return X.items[0]
    if type(X) is DMLList:
        vals = []
        for v in X.items:
            if is_matrix(v) and v.shape == (1, 1):
                vals.append(float(backend.item(v[0, 0])))
            elif type(v) in _SCALAR:
                vals.append(float(v))
            else:
                raise DMLRuntimeError("as.matrix(): a list converts to a matrix only if it holds scalars")
        return backend.asarray(np.array(vals).reshape(-1, 1))
    raise DMLRuntimeError(f"as.matrix() is not defined for {a_type_name(X)}")


def _cast_scalar(X, name, conv):
    if is_matrix(X):
        raise DMLRuntimeError(f"{name}() needs a scalar, not a {X.shape[0]}x{X.shape[1]} matrix "
                              "(use as.scalar() first)")
    if type(X) in _SCALAR or type(X) is str:
        return conv(X, f"{name}()'s argument")
    raise DMLRuntimeError(f"{name}() is not defined for {a_type_name(X)}")


@builtin("as.integer")
def as_integer(X):
    return _cast_scalar(X, "as.integer", as_int)


@builtin("as.double")
def as_double(X):
    return _cast_scalar(X, "as.double", as_float)


@builtin("as.logical", "as.boolean")
def as_logical(X):
    return _cast_scalar(X, "as.logical", as_bool)


_FRAME_TYPES = ("BOOLEAN", "INT32", "INT64", "FP32", "FP64")


def _frame_value_type(v: float) -> int:
    """The narrowest frame value type SystemDS gives a matrix cell (measured): 0 and 1 boolean,
    whole numbers INT32 or INT64, numbers a float32 shows with the same digits (0.1, 3.0E9, NaN)
    FP32, the rest FP64 (0.30000000000000004, 1e-50, 1e300)."""
    if v == 0 or v == 1:
        return 0
    if v == v and math.isfinite(v) and v == math.floor(v):
        if -2 ** 31 <= v < 2 ** 31:
            return 1
        if -2 ** 63 <= v < 2 ** 63:
            return 2
    with np.errstate(over="ignore", under="ignore"):
        as_float32 = np.float32(v)
    return 3 if v != v or float(str(as_float32)) == v else 4


def _frame_column_type(values) -> str:
    return _FRAME_TYPES[max((_frame_value_type(float(v)) for v in values), default=4)]


@builtin("as.frame")
def as_frame(X):
    """A frame of double columns from a matrix (frames are a placeholder type for now)."""
    if type(X) is Frame:
        return X
    if is_matrix(X):
        a = backend.to_host(X)
        schema = [_frame_column_type(a[:, j]) for j in range(a.shape[1])]
        # an FP32 column holds floats, as in SystemDS: 3e15 beside 0.5 becomes 3000000028082176
        columns = [[float(v) for v in (a[:, j].astype(np.float32) if kind == "FP32" else a[:, j])]
                   for j, kind in enumerate(schema)]
        return Frame(columns, None, schema)
    if type(X) in _SCALAR or type(X) is str:
        return Frame([[X]], None, ["STRING" if type(X) is str else "FP64"])
    raise DMLRuntimeError(f"as.frame() is not defined for {a_type_name(X)}")


# --------------------------------------------------------------------- lists

@builtin("as.list")
def as_list(X):
    """A list as is (a one-element list holding a list gives the inner list); anything else wrapped."""
    if type(X) is DMLList:
        if len(X.items) == 1 and type(X.items[0]) is DMLList:
            return X.items[0]
        return X
    return DMLList([X])


@builtin("list")
def list_(*items, **named):
    if items and named:
        raise DMLRuntimeError("list(): use either all named or all unnamed elements")
    if named:
        return DMLList(list(named.values()), list(named.keys()))
    return DMLList(items)


@builtin("remove", returns=2)
def remove(target, pos):
    """[rest, removed] = remove(L, i): the list without its i-th element, and that element as a
    one-element list (by position; names go with their elements)."""
    if type(target) is not DMLList:
        raise DMLRuntimeError(f"remove() needs a list, not {a_type_name(target)}")
    i = target.index_of(as_int(pos, "remove's position"))
    names = target.names
    rest = DMLList(target.items[:i] + target.items[i + 1:],
                   None if names is None else names[:i] + names[i + 1:])
    return rest, DMLList([target.items[i]], None if names is None else [names[i]])


@builtin("append")
def append(target, value):
    """A list with one more element; for strings, the two joined by a line break; for matrices,
    cbind (append's old meaning, which SystemDS keeps)."""
    if type(target) is DMLList:
        if target.names is not None:        # (a named element is added by L["name"] = value)
            raise DMLRuntimeError("append(): cannot add an unnamed element to a named list")
        out = target.copy()
        out.items.append(value)
        return out
    if type(target) is str:
        if type(value) is not str:
            raise DMLRuntimeError(f"append() of a string takes a string, not {a_type_name(value)}")
        return target + "\n" + value
    if is_matrix(target):
        from .construct import _bind
        return _bind("append", (target, value), 1)
    raise DMLRuntimeError(f"append() needs a list, a string or a matrix, not {a_type_name(target)}")
