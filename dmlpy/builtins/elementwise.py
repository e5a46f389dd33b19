"""Cell-wise builtins: math functions, NaN/Inf tests, ifelse and xor.

Matrix inputs give matrices of the same shape. Scalar inputs give scalars whose
DML type follows SystemDS 3.4.0 (measured, see tests/data/builtins_matrix/):
  * abs keeps int as int; round, floor, ceil, sign, exp, log, sqrt, the trig
    functions and sigmoid always give a double (a boolean counts as 0/1).
  * is.na/is.nan/is.infinite give 0/1 of the input's type (int or double).
  * abs, is.na, is.nan and is.infinite reject booleans.
  * round is Java's Math.round: halves go up (-2.5 -> -2), NaN -> 0, and values
    beyond the 64-bit integer range clamp to it; -0.0 rounds to 0.0.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from ..values import a_type_name, format_scalar, is_matrix, type_name
from .registry import builtin

_LONG_MAX = 9.223372036854775807e18      # 2**63 as a double: Math.round's clamp


def _scalar_number(name, x):
    """A scalar argument as a float for math functions; booleans count as 0/1."""
    t = type(x)
    if t is float or t is int or t is bool:
        return float(x)
    raise DMLRuntimeError(f"{name}() needs a number or a matrix, not {a_type_name(x)}")


def _numeric_non_bool(name, x):
    t = type(x)
    if t is bool:
        raise DMLRuntimeError(f"{name}() is not defined for a boolean")
    if t is not int and t is not float:
        raise DMLRuntimeError(f"{name}() needs a number or a matrix, not {a_type_name(x)}")


def _unary(name, matrix_fn, scalar_fn):
    """Register a math function: matrix_fn on matrices, scalar_fn (float -> float) on scalars."""
    def apply(x):
        if is_matrix(x):
            return matrix_fn(backend.xp, x)
        v = _scalar_number(name, x)
        try:
            return float(scalar_fn(v))
        except (ValueError, OverflowError):
            # math.* raises where Java returns NaN/Infinity: compute on a 1x1 array instead
            return float(backend.item(matrix_fn(backend.xp, backend.asarray([[v]]))[0, 0]))
    apply.__name__ = name.replace(".", "_")
    apply.__doc__ = f"{name}(x): cell-wise on a matrix, a double for a scalar."
    return apply


def _java_round(xp, X):
    """Math.round cell-wise: floor(x + 0.5) computed exactly, NaN -> 0, clamped to the long range."""
    f = xp.floor(X)
    r = f + (X - f >= 0.5)
    r = xp.where(xp.isnan(X), 0.0, xp.clip(r, -_LONG_MAX, _LONG_MAX))
    return (r + 0.0).astype(backend.dtype)       # + 0.0 turns -0.0 into 0.0, as a long would


def _round_scalar(v: float) -> float:
    if v != v:
        return 0.0
    if v >= _LONG_MAX:
        return _LONG_MAX
    if v <= -_LONG_MAX:
        return -_LONG_MAX
    f = math.floor(v)
    return float(f + (1 if v - f >= 0.5 else 0)) + 0.0


def _sign_scalar(v: float) -> float:
    if v != v or v == 0:
        return v                                  # NaN, 0.0 and -0.0 are their own sign
    return 1.0 if v > 0 else -1.0


def _log_scalar(v: float) -> float:
    if v != v or v < 0:
        return math.nan
    if v == 0:
        return -math.inf
    return math.log(v) if v != math.inf else math.inf


def _sqrt_scalar(v: float) -> float:
    if v != v or v < 0:
        return math.nan
    return math.sqrt(v)


def _signed_zero(r: int, v: float) -> float:
    """Java's floor/ceil keep the sign of a zero result (ceil(-0.5) is -0.0); math's ints cannot."""
    return float(r) if r != 0 else math.copysign(0.0, v)


def _sigmoid(xp, X):
    return (1.0 / (1.0 + xp.exp(-X))).astype(backend.dtype)


def _sigmoid_scalar(v: float) -> float:
    try:
        return 1.0 / (1.0 + math.exp(-v))
    except OverflowError:                         # exp(-v) = Infinity
        return 0.0


_FUNCS = {
    "round": (_java_round, _round_scalar),
    "floor": (lambda xp, X: xp.floor(X), lambda v: _signed_zero(math.floor(v), v)),
    "ceil": (lambda xp, X: xp.ceil(X), lambda v: _signed_zero(math.ceil(v), v)),
    "sign": (lambda xp, X: xp.where(X == 0, X, xp.sign(X)), _sign_scalar),   # keeps -0.0
    "exp": (lambda xp, X: xp.exp(X), math.exp),
    "sqrt": (lambda xp, X: xp.sqrt(X), _sqrt_scalar),
    "sin": (lambda xp, X: xp.sin(X), math.sin),
    "cos": (lambda xp, X: xp.cos(X), math.cos),
    "tan": (lambda xp, X: xp.tan(X), math.tan),
    "asin": (lambda xp, X: xp.arcsin(X), math.asin),
    "acos": (lambda xp, X: xp.arccos(X), math.acos),
    "atan": (lambda xp, X: xp.arctan(X), math.atan),
    "sinh": (lambda xp, X: xp.sinh(X), math.sinh),
    "cosh": (lambda xp, X: xp.cosh(X), math.cosh),
    "tanh": (lambda xp, X: xp.tanh(X), math.tanh),
    "sigmoid": (_sigmoid, _sigmoid_scalar),
}

for _name, (_mfn, _sfn) in _FUNCS.items():
    _aliases = ("ceil", "ceiling") if _name == "ceil" else (_name,)
    builtin(*_aliases)(_unary(_name, _mfn, _sfn))


@builtin("log")
def log(x, base=None):
    """log(x) natural logarithm; log(x, base) = log(x) / log(base).

    As SystemDS 3.4.0: log(scalar, matrix) is computed as log(matrix, scalar), and for
    two matrices a cell where either is 0 gives 0."""
    xp = backend.xp
    if base is None:
        if is_matrix(x):
            return xp.log(x)
        return _log_scalar(_scalar_number("log", x))
    if is_matrix(x) and is_matrix(base):
        if x.shape != base.shape:
            raise DMLRuntimeError(f"log(): matrices of different shapes {x.shape[0]}x{x.shape[1]} "
                                  f"and {base.shape[0]}x{base.shape[1]}")
        r = xp.log(x) / xp.log(base)
        return xp.where((x == 0) | (base == 0), 0.0, r).astype(backend.dtype)
    if is_matrix(base):
        x, base = base, x
    if is_matrix(x):
        return (xp.log(x) / xp.log(xp.asarray(_scalar_number("log", base), dtype=x.dtype))).astype(backend.dtype)
    a = _log_scalar(_scalar_number("log", x))
    b = _log_scalar(_scalar_number("log", base))
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b))


@builtin("abs")
def abs_(x):
    """abs(x): int stays int, double stays double; booleans are rejected (as SystemDS does)."""
    if is_matrix(x):
        return backend.xp.abs(x)
    _numeric_non_bool("abs", x)
    return abs(x)


def _indicator(name, matrix_test, scalar_test):
    def apply(x):
        if is_matrix(x):
            return matrix_test(backend.xp, x).astype(backend.dtype)
        _numeric_non_bool(name, x)
        hit = scalar_test(float(x))
        return int(hit) if type(x) is int else float(hit)
    apply.__name__ = name.replace(".", "_")
    apply.__doc__ = f"{name}(x): 1 where the test holds, else 0 (cell-wise; a scalar keeps its type)."
    return apply


builtin("is.na", "isNA")(_indicator("is.na", lambda xp, X: xp.isnan(X), math.isnan))
builtin("is.nan", "isNaN")(_indicator("is.nan", lambda xp, X: xp.isnan(X), math.isnan))
builtin("is.infinite", "isInf")(_indicator("is.infinite", lambda xp, X: xp.isinf(X), math.isinf))


# ------------------------------------------------------------------ ifelse, xor

_SCALAR_KINDS = {"boolean", "int", "double", "string"}


def _scalar_kind(v):
    """The DML value type of a scalar (type_name's words), None for anything else."""
    kind = type_name(v)
    return kind if kind in _SCALAR_KINDS else None


def _truth(v) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0                             # NaN != 0: true
    if t is str:
        return v.lower() == "true"                # as Java's Boolean.parseBoolean
    raise DMLRuntimeError(f"ifelse(): the condition must be a scalar or a matrix, not {a_type_name(v)}")


def _branch_type(yes, no):
    """The DML type of a scalar ifelse: the common type of both branches."""
    ky, kn = _scalar_kind(yes), _scalar_kind(no)
    if ky is None or kn is None:
        raise DMLRuntimeError(f"ifelse(): branches must be scalars or matrices, not "
                              f"{type_name(yes)} and {type_name(no)}")
    if ky == kn:
        return ky
    if "string" in (ky, kn):
        return "string"
    if "boolean" in (ky, kn):
        raise DMLRuntimeError(f"ifelse(): cannot mix a {ky} and a {kn} branch")
    return "double"                               # int with double


@builtin("ifelse")
def ifelse(test, yes, no):
    """Cell-wise choice: yes where test != 0 (NaN counts as true), else no."""
    xp = backend.xp
    if not (is_matrix(test) or is_matrix(yes) or is_matrix(no)):
        kind = _branch_type(yes, no)
        v = yes if _truth(test) else no
        if kind == "double":
            return float(v)
        if kind == "string" and type(v) is not str:
            return format_scalar(v)
        return v
    shapes = {a.shape for a in (test, yes, no) if is_matrix(a)}
    if len(shapes) > 1:
        raise DMLRuntimeError("ifelse(): matrix arguments of different shapes "
                              + ", ".join(f"{r}x{c}" for r, c in sorted(shapes)))
    shape = shapes.pop()

    def cells(v, what):
        if is_matrix(v):
            return v
        t = type(v)
        if t is bool or t is int or t is float:
            return float(v)
        raise DMLRuntimeError(f"ifelse(): the {what} must be a number or a matrix, not {a_type_name(v)}")

    if not is_matrix(test):
        chosen = cells(yes if _truth(test) else no, "branch")
        return chosen.copy() if is_matrix(chosen) else xp.full(shape, chosen, dtype=backend.dtype)
    r = xp.where(test != 0, cells(yes, "yes branch"), cells(no, "no branch"))
    return xp.broadcast_to(r, shape).astype(backend.dtype)


@builtin("xor")
def xor(a, b):
    """(a != 0) XOR (b != 0). Two booleans give a boolean, two doubles give 0.0/1.0,
    matrices give a 0/1 matrix; SystemDS 3.4.0 rejects two ints and boolean/number mixes."""
    xp = backend.xp
    if is_matrix(a) or is_matrix(b):
        def cells(v):
            if is_matrix(v):
                return v != 0
            t = type(v)
            if t is bool or t is int or t is float:
                return v != 0
            raise DMLRuntimeError(f"xor() needs numbers, booleans or matrices, not {a_type_name(v)}")
        if is_matrix(a) and is_matrix(b) and a.shape != b.shape:
            raise DMLRuntimeError(f"xor(): matrices of different shapes {a.shape[0]}x{a.shape[1]} "
                                  f"and {b.shape[0]}x{b.shape[1]}")
        r = xp.logical_xor(cells(a), cells(b))
        return backend.asarray(r) if not is_matrix(r) else r.astype(backend.dtype)
    ka, kb = _scalar_kind(a), _scalar_kind(b)
    if ka is None or kb is None or "string" in (ka, kb):
        raise DMLRuntimeError(f"xor() needs numbers, booleans or matrices, not {type_name(a)} and {type_name(b)}")
    if ka == "boolean" and kb == "boolean":
        return a != b
    if "boolean" in (ka, kb):
        raise DMLRuntimeError(f"xor(): cannot mix a {ka} and a {kb}")
    if ka == "int" and kb == "int":
        raise DMLRuntimeError("xor() is not defined for two int operands (SystemDS 3.4.0)")
    return float((a != 0) != (b != 0))

