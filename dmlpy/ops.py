"""Runtime helpers for DML operators, indexing and loops, called from compiled code.

Each helper dispatches on the operand types at run time: Python scalars follow
DML's scalar rules, matrices go through ``backend.xp`` with SystemDS's
broadcasting rules (same shape, or a row/column vector against a matrix).
The compiler calls Python's own operators directly where it has proven both
operands are numeric scalars, so these helpers are the general path.
"""
from __future__ import annotations

import math
import sys

import numpy as np

from . import backend, device_gemm
from .errors import DMLRuntimeError
from . import frame_ops
from .values import DMLList, Frame, a_type_name, as_int, format_scalar, type_name

np.seterr(all="ignore")     # DML gives Infinity/NaN, never a warning

_ND = np.ndarray
# NumPy's C function behind its __array_function__ dispatcher: ndarray operands need no dispatch
_np_dot = getattr(np.dot, "_implementation", np.dot)
_NUM = (int, float, bool)
_ARITHMETIC = frozenset(("+", "-", "*", "/", "^", "%%", "%/%"))


def _ismat(v) -> bool:
    return type(v) is _ND or (backend.xp is not np and isinstance(v, backend.xp.ndarray))


def _shape(m) -> str:
    return f"{m.shape[0]}x{m.shape[1]}"


def check_conformant(op: str, a, b) -> None:
    """SystemDS's cell-wise rule: equal shapes, or the right operand a row/column vector matching the left."""
    sa, sb = a.shape, b.shape
    if sa == sb:
        return
    if (sb[0] == 1 and sb[1] == sa[1]) or (sb[1] == 1 and sb[0] == sa[0]) or sb == (1, 1):
        return      # a 1x1 right operand acts as a scalar
    raise DMLRuntimeError(f"operator {op}: non-conformant matrices {_shape(a)} and {_shape(b)}")


def _bad_operands(op, a, b):
    return DMLRuntimeError(f"operator {op} is not defined for {type_name(a)} and {type_name(b)}")


def _reject_bool(op, a, b):
    raise DMLRuntimeError(f"operator {op} is not defined for boolean operands ({type_name(a)} {op} {type_name(b)})")


def _with_booleans(op, fn, a, b):
    """Arithmetic where an operand is a boolean: SystemDS computes between two booleans (on 1.0
    and 0.0, giving a double) and rejects a boolean with anything else."""
    if type(a) is bool and type(b) is bool:
        return fn(float(a), float(b))
    _reject_bool(op, a, b)


def _scalar_operand(op, v):
    t = type(v)
    if t is bool and op in _ARITHMETIC:
        raise DMLRuntimeError(f"operator {op} is not defined for a boolean operand")
    if t is int or t is float or t is bool:
        return v
    if t is str and op in _ARITHMETIC:      # (SystemDS's own words for it)
        raise DMLRuntimeError(f"arithmetic '{op}' is not supported over string inputs")
    raise DMLRuntimeError(f"operator {op} is not defined for {a_type_name(v)} operand")


def _mat_binary(op, fn, a, b):
    """Apply fn to matrix/scalar operands with DML's rules; returns a matrix. The callers take
    two numbers themselves, so here at least one operand must be a matrix."""
    if _ismat(a):
        if _ismat(b):
            check_conformant(op, a, b)
        else:
            b = _scalar_operand(op, b)
    else:
        a = _scalar_operand(op, a)
        if not _ismat(b):
            _scalar_operand(op, b)
            raise _bad_operands(op, a, b)
    r = fn(a, b)
    if r.dtype != backend.dtype:        # (booleans become 0/1 numbers)
        r = r.astype(backend.dtype)
    return r


# ------------------------------------------------------------------ arithmetic

def add(a, b):
    ta, tb = type(a), type(b)
    if ta is _ND and tb is _ND and a.shape == b.shape:
        return a + b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a + b
    if ta is str or tb is str:
        # a 1x1 matrix (typically X[i, j]) joins a string as its value, as SystemDS allows for X[i, j]
        if _ismat(a) and a.shape == (1, 1):
            a, ta = backend.item(a[0, 0]), float
        if _ismat(b) and b.shape == (1, 1):
            b, tb = backend.item(b[0, 0]), float
        if _ismat(a) or _ismat(b) or ta is DMLList or tb is DMLList:
            raise _bad_operands("+", a, b)
        return (a if ta is str else format_scalar(a)) + (b if tb is str else format_scalar(b))
    if ta is bool or tb is bool:
        return _with_booleans("+", add, a, b)
    if ta is _ND and tb is _ND and a.shape == b.shape:
        return a + b
    return _mat_binary("+", backend.xp.add, a, b)


def sub(a, b):
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a - b
    if ta is bool or tb is bool:
        return _with_booleans("-", sub, a, b)
    if ta is _ND and tb is _ND and a.shape == b.shape:
        return a - b
    return _mat_binary("-", backend.xp.subtract, a, b)


def mul(a, b):
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a * b
    if ta is bool or tb is bool:
        return _with_booleans("*", mul, a, b)
    if ta is _ND and (tb is float or tb is int):
        return a * b
    if tb is _ND and (ta is float or ta is int):
        return a * b
    if ta is _ND and tb is _ND and a.shape == b.shape:
        return a * b
    return _mat_binary("*", backend.xp.multiply, a, b)


def scalar_div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a != a:
            return math.nan
        if a == 0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def div(a, b):
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return _with_booleans("/", div, a, b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if b == 0:
            return scalar_div(float(a), float(b))
        return a / b
    if ta is _ND and (tb is float or tb is int):
        return a / b
    if ta is _ND and tb is _ND and a.shape == b.shape:
        return a / b
    return _mat_binary("/", backend.xp.true_divide, a, b)


def scalar_pow(a, b) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or float(b).is_integer() and int(b) % 2 == 0 else -math.inf
    except ValueError:      # negative base with a fractional exponent, 0 ** negative
        if a == 0:
            return math.inf
        return math.nan


def pow_(a, b):
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return _with_booleans("^", pow_, a, b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return scalar_pow(a, b)
    if ta is _ND and (tb is int or tb is float) and b == 2:
        return a * a
    return _mat_binary("^", backend.xp.power, a, b)


def _int_mod(a: int, b: int) -> int:
    if b == 0:
        return 0
    r = abs(a) % abs(b)
    return r if a >= 0 else -r


def mod(a, b):
    """%%: the remainder takes the sign of the dividend (as SystemDS computes it)."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return _with_booleans("%%", mod, a, b)
    if ta is int and tb is int:
        return _int_mod(a, b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if b == 0 or math.isinf(a) or math.isinf(b):
            return math.nan         # (SystemDS's a - trunc(a / b) * b is NaN with an infinite operand)
        return math.fmod(a, b)
    return _mat_binary("%%", _matrix_mod, a, b)


def _matrix_mod(x, y):
    xp = backend.xp
    r = xp.fmod(x, y)
    return xp.where(xp.isinf(x) | xp.isinf(y), xp.nan, r)


def intdiv(a, b):
    """%/%: the quotient truncated toward zero (as SystemDS computes it)."""
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return _with_booleans("%/%", intdiv, a, b)
    if ta is int and tb is int:
        if b == 0:
            raise DMLRuntimeError(f"integer division {a} %/% 0: the result overflows a 64-bit integer")
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b > 0) else -q
    if (ta is int or ta is float) and (tb is int or tb is float):
        q = scalar_div(float(a), float(b))
        return float(math.trunc(q)) if math.isfinite(q) else q
    xp = backend.xp
    return _mat_binary("%/%", lambda x, y: xp.trunc(xp.true_divide(x, y)), a, b)


def neg(a):
    t = type(a)
    if t is int or t is float:
        return -a
    if _ismat(a):
        return -a
    raise DMLRuntimeError(f"unary minus is not defined for {a_type_name(a)}")


# ------------------------------------------------------------------ comparison

def _compare(op, pyop, xpfn):
    def compare(a, b):
        ta, tb = type(a), type(b)
        if (ta is int or ta is float or ta is bool) and (tb is int or tb is float or tb is bool):
            return pyop(a, b)
        if ta is str and tb is str:
            return pyop(a, b)
        if ta is str or tb is str:
            if _ismat(a) or _ismat(b):
                raise _bad_operands(op, a, b)
            # SystemDS compares a string with another scalar as strings
            return pyop(a if ta is str else format_scalar(a), b if tb is str else format_scalar(b))
        return _mat_binary(op, xpfn, a, b)
    compare.__name__ = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}[op]
    return compare


import operator as _operator

def _cells_as_numbers(ufunc: str):
    """Cell-wise comparison written straight into a matrix of the backend's dtype (0/1): one pass,
    where comparing and then converting the booleans took two (ReLU's gradient, (X > 0) * dout,
    does this on every layer of a network)."""
    def cells(a, b):
        xp = backend.xp
        out = xp.empty(np.broadcast_shapes(getattr(a, "shape", ()), getattr(b, "shape", ())), dtype=backend.dtype)
        getattr(xp, ufunc)(a, b, out=out)
        return out
    return cells


lt = _compare("<", _operator.lt, _cells_as_numbers("less"))
le = _compare("<=", _operator.le, _cells_as_numbers("less_equal"))
gt = _compare(">", _operator.gt, _cells_as_numbers("greater"))
ge = _compare(">=", _operator.ge, _cells_as_numbers("greater_equal"))
eq = _compare("==", _operator.eq, _cells_as_numbers("equal"))
ne = _compare("!=", _operator.ne, _cells_as_numbers("not_equal"))


# --------------------------------------------------------------------- logical

def _as_bool(op, v) -> bool:
    """The boolean a logical operator sees. SystemDS 3.4.0 quirk, reproduced: a number that is
    not a boolean counts as FALSE (2 | 0 is FALSE, !5 is TRUE)."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return False
    raise DMLRuntimeError(f"operator {op} is not defined for {a_type_name(v)} operand")


def _logical_scalar(v):
    """SystemDS 3.4.0 quirk, reproduced: in a matrix-scalar & or |, a number that is not a boolean
    counts as FALSE (A & 1 is all zeros, A | 1 is A); TRUE and FALSE behave as expected."""
    if type(v) is bool:
        return 1.0 if v else 0.0
    if type(v) in (int, float):
        return 0.0
    return v


def _logical(op, a, b):
    """& and |: cell-wise on matrices (0/1 doubles), boolean on scalars."""
    if _ismat(a) or _ismat(b):
        xp = backend.xp
        cells = xp.logical_and if op == "&" else xp.logical_or
        if not _ismat(a):
            a = _logical_scalar(a)
        if not _ismat(b):
            b = _logical_scalar(b)
        return _mat_binary(op, lambda x, y: cells(x != 0, y != 0), a, b)
    if op == "&":
        return _as_bool(op, a) and _as_bool(op, b)
    return _as_bool(op, a) or _as_bool(op, b)


def and_(a, b):
    return _logical("&", a, b)


def or_(a, b):
    return _logical("|", a, b)


def not_(a):
    if _ismat(a):
        return (a == 0).astype(backend.dtype)
    return not _as_bool("!", a)


def matmul(a, b):
    if type(a) is _ND and type(b) is _ND and a.shape[1] == b.shape[0]:
        return _np_dot(a, b)        # the same BLAS product as @, with less dispatch for small ones
    if not (_ismat(a) and _ismat(b)):
        raise DMLRuntimeError(f"operator %*% needs two matrices, not {type_name(a)} and {type_name(b)}")
    if a.shape[1] != b.shape[0]:
        raise DMLRuntimeError(f"operator %*%: non-conformant matrices {_shape(a)} and {_shape(b)} "
                              f"({a.shape[1]} columns against {b.shape[0]} rows)")
    return a @ b if backend.xp is np else device_gemm.matmul(a, b)


def truth(v) -> bool:
    """The value of a condition (if/while): a boolean, number or 1x1 matrix."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    raise DMLRuntimeError(f"a condition must be a boolean scalar, not {a_type_name(v)}"
                          + (f" of {_shape(v)} (use as.scalar() for a 1x1 matrix)" if _ismat(v) else ""))


# ------------------------------------------------------------------- indexing

SAME = object()        # marks X[i, j]: the upper bound equals the lower bound


def _bound(v, what) -> int:
    if type(v) is int:
        return v
    if type(v) is str:
        raise DMLRuntimeError(f"{what} must be a number, not a string")
    return as_int(v, what)


def _range_of(lo, hi, n, dim, name):
    """0-based slice bounds for a 1-based inclusive DML range (None: whole dimension)."""
    if lo is None:
        return 0, n
    l = _bound(lo, f"{dim} index")
    u = l if hi is SAME else _bound(hi, f"{dim} index")
    if l < 1 or u > n or l > u:
        raise DMLRuntimeError(
            f"index out of bounds: {name}[{dim} {l}{'' if u == l else ':' + str(u)}] "
            f"but {name} has {n} {dim}s")
    return l - 1, u


def index(X, rl, ru, cl, cu, name="matrix"):
    """X[rl:ru, cl:cu] (1-based, inclusive); None bounds select the whole dimension."""
    if type(X) is DMLList:
        return list_index(X, rl, ru, name)
    if type(X) is Frame:
        n, m = frame_ops.shape(X)
        return frame_ops.index(X, *_range_of(rl, ru, n, "row", name), *_range_of(cl, cu, m, "column", name))
    if not _ismat(X):
        raise DMLRuntimeError(f"cannot index {name}: it is {a_type_name(X)}, not a matrix, frame or list")
    n, m = X.shape
    r0, r1 = _range_of(rl, ru, n, "row", name)
    c0, c1 = _range_of(cl, cu, m, "column", name)
    return X[r0:r1, c0:c1]


def list_index(L, lo, hi, name="list"):
    # As in SystemDS, L[i] and L["name"] give a one-element list; as.matrix/as.scalar/as.list unwrap it
    if lo is None:
        return L
    if type(lo) is str:
        i = L.index_of(lo)
        return DMLList([L.items[i]], [lo])
    l = _bound(lo, "list index")
    u = l if hi is SAME else _bound(hi, "list index")
    if l < 1 or u > len(L) or l > u:
        raise DMLRuntimeError(f"index out of bounds: {name}[{l}{'' if u == l else ':' + str(u)}] "
                              f"but {name} has {len(L)} elements")
    return DMLList(L.items[l - 1:u], L.names[l - 1:u] if L.names else None)


def _calibrate_refcount() -> int:
    """References to an array held by exactly one variable, as seen inside set_index."""
    def probe(x):
        return sys.getrefcount(x)
    holder = np.zeros(1)
    return probe(holder)


_REFS_ONE_OWNER = _calibrate_refcount()


def set_index(X, rl, ru, cl, cu, value, name="matrix"):
    """X[rl:ru, cl:cu] = value, returning the updated matrix.

    DML values are immutable, so this copies X unless the caller's variable is the
    array's only owner (reference count) and X owns its data: then the update is
    done in place, which keeps loops of cell updates linear.
    """
    if type(X) is DMLList:
        return list_set_index(X, rl, ru, value, name)
    if type(X) is Frame:
        n, m = frame_ops.shape(X)
        return frame_ops.set_index(X, *_range_of(rl, ru, n, "row", name), *_range_of(cl, cu, m, "column", name),
                                   value, name)
    if not _ismat(X):
        raise DMLRuntimeError(f"cannot assign into {name}[...]: it is {a_type_name(X)}, not a matrix, frame or list")
    n, m = X.shape
    r0, r1 = _range_of(rl, ru, n, "row", name)
    c0, c1 = _range_of(cl, cu, m, "column", name)
    if _ismat(value):
        if value.shape != (r1 - r0, c1 - c0):
            raise DMLRuntimeError(
                f"left indexing {name}[{r0 + 1}:{r1}, {c0 + 1}:{c1}] selects {r1 - r0}x{c1 - c0} cells "
                f"but the right-hand side is {_shape(value)}")
    elif type(value) in _NUM:
        if r1 - r0 != 1 or c1 - c0 != 1:
            raise DMLRuntimeError(f"left indexing {name}[{r0 + 1}:{r1}, {c0 + 1}:{c1}] with a scalar: "
                                  "a scalar can only be assigned to a single cell (use matrix(value, rows, cols))")
        value = float(value)
    else:
        raise DMLRuntimeError(f"cannot assign {a_type_name(value)} into matrix cells")
    # refcount: the caller's variable + this frame's parameter + getrefcount's argument
    # (CuPy's flags have no 'writeable': its arrays always are)
    flags = X.flags
    if not (sys.getrefcount(X) <= _REFS_ONE_OWNER and flags.owndata and getattr(flags, "writeable", True)):
        X = X.copy()
    X[r0:r1, c0:c1] = value
    return X


def list_set_index(L, lo, hi, value, name="list"):
    out = L.copy()
    if type(lo) is str:     # (as in SystemDS, a name updates an element; it does not add one)
        if out.names is None:
            raise DMLRuntimeError(f"cannot index the unnamed list {name} by the name '{lo}'")
        if lo not in out.names:
            raise DMLRuntimeError(f"the list {name} has no element named '{lo}'")
        out.items[out.names.index(lo)] = value
        return out
    l = _bound(lo, "list index")
    if hi is not SAME and hi is not None and _bound(hi, "list index") != l:
        raise DMLRuntimeError("assigning a range of list elements is not supported")
    if l == len(out.items) + 1:
        out.items.append(value)
        if out.names is not None:
            out.names.append(str(l))
    elif 1 <= l <= len(out.items):
        out.items[l - 1] = value
    else:
        raise DMLRuntimeError(f"index out of bounds: {name}[{l}] but {name} has {len(out.items)} elements")
    return out


# ---------------------------------------------------------------------- loops

def _loop_number(v, what):
    t = type(v)
    if t is int or t is float:
        return v
    if t is bool:
        return int(v)
    if _ismat(v) and v.shape == (1, 1):
        return float(backend.item(v[0, 0]))
    raise DMLRuntimeError(f"the {what} of a loop range must be a number, not {a_type_name(v)}")


def colon_range(start, stop):
    """The values of `for (i in start:stop)`: SystemDS truncates both bounds to integers."""
    a = int(_loop_number(start, "start"))
    b = int(_loop_number(stop, "end"))
    return range(a, b + 1) if b >= a else range(a, b - 1, -1)


def loop_range(start, stop, step=None):
    """The values of `for (i in seq(start, stop, step))`.

    As in SystemDS, the bounds and the increment are truncated to integers; an increment that
    truncates to 0 or points away from the end gives no iteration.
    """
    a = int(_loop_number(start, "start"))
    b = int(_loop_number(stop, "end"))
    s = (1 if b >= a else -1) if step is None else int(_loop_number(step, "increment"))
    if s == 0 or (b - a) * s < 0:
        return range(0)
    return range(a, b + (1 if s > 0 else -1), s)
