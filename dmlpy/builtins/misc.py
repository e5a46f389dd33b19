"""Miscellaneous builtins: eval, evalList, the bitw* integer bit operations, ppred,
roll, compress/decompress and the countDistinctApprox family.

Bit operations follow SystemDS's integer semantics: two int scalars are cut to
their low 32 bits (Java's long-to-int), doubles and matrix cells are truncated
toward zero and clamped to the int range (NaN is 0); shifts count modulo 32,
except bitwShiftR of two ints, which shifts the 64-bit value (count modulo 64).
A left shift whose result is Integer.MIN_VALUE yields NaN (0 as an int).
"""
from __future__ import annotations

import inspect
import math
import numbers

from .registry import builtin, lookup
from .. import backend
from ..errors import DMLRuntimeError
from ..values import DMLList, is_matrix, type_name

_INT_MIN = -2 ** 31


# ------------------------------------------------------------------- eval

def _eval_outputs(ctx, fname, args, kwargs, func):
    if not isinstance(fname, str):
        raise DMLRuntimeError(f"{func}(): the first argument must be a function name (string), got {type_name(fname)}")
    if len(args) == 1 and not kwargs and isinstance(args[0], DMLList):
        values, names = list(args[0].items), args[0].names
    else:
        values, names = list(args), None
    if kwargs:
        names = [None] * len(values) + list(kwargs)
        values = values + list(kwargs.values())
    if names is None or all(n is None for n in names):
        result = ctx.call_function(fname, values)
    elif "names" in inspect.signature(ctx.call_function).parameters:
        result = ctx.call_function(fname, values, names=names)
    else:
        raise DMLRuntimeError(f"{func}(): calling a function with named arguments is not supported yet")
    return list(result) if isinstance(result, tuple) else [result]


@builtin("eval")
def eval_(ctx, fname, *args, **kwargs):
    """Call the DML function named fname with the given arguments (or the elements of one
    list, bound by name when the list is named). The result is its first output, as a
    matrix: SystemDS turns a scalar result into a 1x1 matrix."""
    outputs = _eval_outputs(ctx, fname, args, kwargs, "eval")
    if not outputs:
        raise DMLRuntimeError(f"eval(): function '{fname}' returns no value")
    value = outputs[0]
    if is_matrix(value):
        return value
    if isinstance(value, (bool, int, float)):
        return backend.xp.full((1, 1), float(value), dtype=backend.dtype)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = 0.0
        return backend.xp.full((1, 1), number, dtype=backend.dtype)
    raise DMLRuntimeError(f"Invalid eval return type: {type_name(value).upper()} "
                          "(valid: matrix/frame/scalar; where frames or scalars are converted to output matrices)")


@builtin("evalList")
def eval_list(ctx, fname, *args, **kwargs):
    """Like eval, but returns all outputs of the function as a list."""
    return DMLList(_eval_outputs(ctx, fname, args, kwargs, "evalList"))


# ---------------------------------------------------------- bit operations

def _java_int_of_long(v: int) -> int:
    return ((v + 2 ** 31) % 2 ** 32) - 2 ** 31


def _java_int_of_double(v: float) -> int:
    if math.isnan(v):
        return 0
    t = math.copysign(math.floor(abs(v) + 2.0 ** -53), v) if v != 0 else 0.0
    if t >= 2 ** 31 - 1:
        return 2 ** 31 - 1
    if t <= _INT_MIN:
        return _INT_MIN
    return int(t)


def _ints_of(xp, a):
    """Matrix cells as Java ints (truncated, clamped, NaN -> 0), held in int64."""
    t = xp.sign(a) * xp.floor(xp.abs(a) + 2.0 ** -53)
    t = xp.where(xp.isnan(t), 0.0, t)
    return xp.clip(t, _INT_MIN, 2 ** 31 - 1).astype(xp.int64)


def _wrap32(xp, v):
    return ((v + 2 ** 31) % 2 ** 32) - 2 ** 31


def _scalar_number(v, func):
    """A number argument; NumPy integers count as DML ints."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise DMLRuntimeError(f"{func}(): expects numbers or matrices, got {type_name(v)}")
    return int(v) if isinstance(v, numbers.Integral) else float(v)


def _bitwise(func: str, int_op, long_shift_right: bool = False, shift_left: bool = False):
    def op(X, Y):
        xm, ym = is_matrix(X), is_matrix(Y)
        if not xm and not ym:
            X = _scalar_number(X, func)
            Y = _scalar_number(Y, func)
            if isinstance(X, int) and isinstance(Y, int):
                if long_shift_right:                     # 64-bit shift, count modulo 64
                    x64 = ((X + 2 ** 63) % 2 ** 64) - 2 ** 63
                    return x64 >> (_java_int_of_long(Y) & 63)
                r = _java_int_of_long(int_op(_java_int_of_long(X), _java_int_of_long(Y)))
                return 0 if shift_left and r == _INT_MIN else r
            r = _java_int_of_long(int_op(_java_int_of_double(float(X)), _java_int_of_double(float(Y))))
            return math.nan if shift_left and r == _INT_MIN else float(r)
        xp = backend.xp
        a = X if xm else xp.full((1, 1), float(_scalar_number(X, func)), dtype=backend.dtype)
        b = Y if ym else xp.full((1, 1), float(_scalar_number(Y, func)), dtype=backend.dtype)
        if xm and ym and a.shape != b.shape and not (b.shape[0] == 1 and b.shape[1] == a.shape[1]
                                                    or b.shape[1] == 1 and b.shape[0] == a.shape[0]):
            raise DMLRuntimeError(f"{func}(): matrix dimensions do not match "
                                  f"({a.shape[0]}x{a.shape[1]} vs {b.shape[0]}x{b.shape[1]})")
        r = _wrap32(xp, int_op(_ints_of(xp, a), _ints_of(xp, b)))
        out = r.astype(backend.dtype)
        if shift_left:
            out = xp.where(r == _INT_MIN, xp.nan, out)
        return xp.ascontiguousarray(out, dtype=backend.dtype)
    op.__name__ = func
    op.__doc__ = f"{func}(X, Y): cell-wise on 32-bit integers, as SystemDS."
    return op


builtin("bitwAnd")(_bitwise("bitwAnd", lambda a, b: a & b))
builtin("bitwOr")(_bitwise("bitwOr", lambda a, b: a | b))
builtin("bitwXor")(_bitwise("bitwXor", lambda a, b: a ^ b))
builtin("bitwShiftL")(_bitwise("bitwShiftL", lambda a, b: a << (b & 31), shift_left=True))
builtin("bitwShiftR")(_bitwise("bitwShiftR", lambda a, b: a >> (b & 31), long_shift_right=True))


# ------------------------------------------------------------------ ppred

_COMPARISONS = {
    "<": lambda xp, a, b: a < b, "<=": lambda xp, a, b: a <= b,
    ">": lambda xp, a, b: a > b, ">=": lambda xp, a, b: a >= b,
    "==": lambda xp, a, b: a == b, "!=": lambda xp, a, b: a != b,
}


@builtin("ppred")
def ppred(X, Y, op):
    """Cell-wise comparison X op Y as a 0/1 matrix (op: <, <=, >, >=, ==, !=); deprecated in DML."""
    if not is_matrix(X) and not is_matrix(Y):
        raise DMLRuntimeError("ppred() requires at least one matrix input.")
    if type(op) is not str or op not in _COMPARISONS:
        raise DMLRuntimeError(f"ppred(): unknown relational operator '{op}' (use <, <=, >, >=, ==, !=)")
    xp = backend.xp
    a = X if is_matrix(X) else float(_scalar_number(X, "ppred"))
    b = Y if is_matrix(Y) else float(_scalar_number(Y, "ppred"))
    if is_matrix(X) and is_matrix(Y) and X.shape != Y.shape:
        raise DMLRuntimeError(f"ppred(): matrix dimensions do not match "
                              f"({X.shape[0]}x{X.shape[1]} vs {Y.shape[0]}x{Y.shape[1]})")
    return xp.ascontiguousarray(_COMPARISONS[op](xp, a, b), dtype=backend.dtype)


# ----------------------------------------------------------- reorganise

@builtin("roll")
def roll(X, shift):
    """The rows of X rotated down by shift (negative: up); shift is truncated to an integer."""
    if not is_matrix(X):
        from ..values import to_string
        shown = to_string(X) if isinstance(X, (bool, int, float, str)) else type_name(X)
        raise DMLRuntimeError(f"Expected {shown} to be a matrix argument for function roll().")
    s = _scalar_number(shift, "roll")
    s = int(s) if isinstance(s, int) else int(math.trunc(s))
    return backend.xp.ascontiguousarray(backend.xp.roll(X, s, axis=0))


@builtin("compress")
def compress(X):
    """A compressed copy in SystemDS; here the matrix itself (matrices are immutable)."""
    return X


@builtin("decompress")
def decompress(X):
    """The inverse of compress: the matrix itself."""
    return X


# ------------------------------------------------------ distinct counting

def _distinct(name: str, X):
    b = lookup(name)
    if b is None:
        raise DMLRuntimeError(f"{name} is not available")
    return b.func(X)


@builtin("countDistinctApprox")
def count_distinct_approx(X, dir="rc", type="KMV"):
    """The number of distinct values (dir="rc"), per row ("r") or per column ("c").
    SystemDS estimates it; the exact count is always within the estimate's bounds."""
    if not is_matrix(X):
        raise DMLRuntimeError(f"countDistinctApprox() expects a matrix, got {type_name(X)}")
    d = str(dir).lower()
    if d == "rc":
        return _distinct("countDistinct", X)
    if d == "r":
        return _distinct("rowCountDistinct", X)
    if d == "c":
        return _distinct("colCountDistinct", X)
    raise DMLRuntimeError(f"countDistinctApprox(): invalid direction '{dir}' (use \"rc\", \"r\" or \"c\")")


@builtin("rowCountDistinctApprox")
def row_count_distinct_approx(X, type="KMV"):
    """The number of distinct values of each row (n x 1)."""
    return count_distinct_approx(X, "r")


@builtin("colCountDistinctApprox")
def col_count_distinct_approx(X, type="KMV"):
    """The number of distinct values of each column (1 x m)."""
    return count_distinct_approx(X, "c")
