"""DML values, their type names, conversions and printing.

Representation (chosen so that scalar code runs at Python speed):
  int     -> Python int          double -> Python float
  boolean -> Python bool         string -> Python str
  matrix  -> 2-D backend array (numpy/cupy) of backend.dtype
  list    -> DMLList             frame  -> Frame (a type placeholder for now)
Matrices are treated as immutable once bound to a variable; the interpreter
copies on write (see interpreter left indexing).
"""
from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Context, Decimal

import numpy as np

from . import backend
from .errors import DMLRuntimeError
from .javadouble import java_digits, java_double, shortest_is_java


class DMLList:
    """A DML list: ordered values, optionally named (all or none)."""
    __slots__ = ("items", "names")

    def __init__(self, items=(), names=None):
        self.items = list(items)
        self.names = list(names) if names is not None else None

    def __len__(self):
        return len(self.items)

    def index_of(self, key):
        if isinstance(key, str):
            if self.names is None or key not in self.names:
                raise DMLRuntimeError(f"list has no element named '{key}'")
            return self.names.index(key)
        i = int(key)
        if i < 1 or i > len(self.items):
            raise DMLRuntimeError(f"list index {i} out of bounds [1, {len(self.items)}]")
        return i - 1

    def get(self, key):
        return self.items[self.index_of(key)]

    def copy(self):
        return DMLList(self.items, self.names)

    def __repr__(self):
        if self.names is None:
            return f"DMLList({self.items!r})"
        return f"DMLList({dict(zip(self.names, self.items))!r})"


class Frame:
    """A DML frame: a list of columns (lists of cells, None for null), their names (None: the
    default C1, C2, ...) and value types (schema). fill: per column, the value transformencode
    imputed for missing cells (SystemDS keeps it in a frame's column metadata, out of sight of
    toString), for transformapply to impute with; None where there is none."""
    __slots__ = ("columns", "names", "schema", "fill")

    def __init__(self, columns, names=None, schema=None, fill=None):
        self.columns = columns
        self.names = names
        self.schema = schema
        self.fill = fill


def is_matrix(v) -> bool:
    return type(v) is np.ndarray or (backend.xp is not np and isinstance(v, backend.xp.ndarray))


def with_article(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def a_type_name(v) -> str:
    """'an int', 'a matrix', ...: type_name with its article, for error messages."""
    return with_article(type_name(v))


def type_name(v) -> str:
    """The DML type name of a value, as used in error messages."""
    t = type(v)
    if t is bool:
        return "boolean"
    if t is int:
        return "int"
    if t is float:
        return "double"
    if t is str:
        return "string"
    if t is DMLList:
        return "list"
    if t is Frame:
        return "frame"
    if is_matrix(v):
        return "matrix"
    return t.__name__


# ---------------------------------------------------------------- printing

def format_scalar(v) -> str:
    t = type(v)
    if t is bool:
        return "TRUE" if v else "FALSE"
    if t is float:
        return java_double(v)
    if t is int or t is str:
        return str(v)
    if isinstance(v, (np.floating,)):
        return java_double(float(v))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    raise DMLRuntimeError(f"cannot print a value of type {type_name(v)} as a scalar")


_WIDE_DECIMALS = Context(prec=700)        # a double's 309 integer digits and toString's 340 decimals


def fixed_decimal(x: float, decimal: int) -> str:
    """toString's cell format, as Java's DecimalFormat: the double's digits as Double.toString has
    them (javadouble.java_digits; zero-padded, so 0.1 with 17 decimals is 0.10000000000000000, and
    1e23 is 99999999999999990000000.000), rounded half-even; at a tie in those digits the exact
    binary value decides (0.15 is below its tie, giving 0.1). A zero, even -0.0, prints without a
    sign; a negative value that rounds to zero keeps it (-0.000)."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        x = 0.0
    # (the default context's 28 digits hold the quantized value only while its integer digits and
    # decimals together stay below that: 1e300 has 301 digits, 3e15 with 20 decimals 36)
    ctx = _WIDE_DECIMALS if abs(x) >= 1e15 or decimal > 12 else None
    if x == 0:
        shortest = Decimal(0)
    elif shortest_is_java(abs(x)):
        shortest = Decimal(repr(x))
    else:
        digits, exp10 = java_digits(abs(x))
        shortest = Decimal((int(x < 0), tuple(map(int, digits)), exp10 - len(digits) + 1))
    step = Decimal(1).scaleb(-decimal)
    q = shortest.quantize(step, rounding=ROUND_HALF_EVEN, context=ctx)
    rest = abs(shortest - shortest.quantize(step, rounding=ROUND_DOWN, context=ctx))
    if rest == step / 2:                       # a tie in the shortest digits
        exact = Decimal(x)
        if exact != shortest:
            q = shortest.quantize(step, rounding=ROUND_UP if abs(exact) > abs(shortest) else ROUND_DOWN,
                                  context=ctx)
    out = format(q, "f")
    if x < 0 and not out.startswith("-"):
        out = "-" + out
    return out


_MAX_FRACTION_DIGITS = 340


def matrix_to_string(m, rows=100, cols=100, decimal=3, sparse=False, sep=" ", linesep="\n") -> str:
    """toString(X): at most rows x cols cells, each with `decimal` fraction digits (at most 340, as
    Java's DecimalFormat allows; a negative count gives up to 3 digits, without trailing zeros)."""
    a = backend.to_host(m)
    nr, nc = a.shape
    r, c = min(rows, nr), min(cols, nc)
    if decimal < 0:
        def cell(v):
            text = fixed_decimal(v, 3)
            return text.rstrip("0").rstrip(".") if "." in text else text
    else:
        digits = min(decimal, _MAX_FRACTION_DIGITS)

        def cell(v):
            return fixed_decimal(v, digits)
    out = []
    if sparse:
        for i in range(r):
            for j in range(c):
                v = float(a[i, j])
                if v != 0:
                    out.append(f"{i + 1}{sep}{j + 1}{sep}{cell(v)}{linesep}")
        return "".join(out)
    for i in range(r):
        out.append(sep.join(cell(float(a[i, j])) for j in range(c)))
        out.append(linesep)
    return "".join(out)


def list_to_string(lst: DMLList) -> str:
    parts = []
    for v in lst.items:
        if is_matrix(v):
            parts.append("\nMatrix:\n" + matrix_to_string(v))
        elif type(v) is DMLList:
            parts.append(list_to_string(v))
        else:
            parts.append(format_scalar(v))
    return "List containing:\n[" + ", ".join(parts) + "]"


def to_string(v) -> str:
    """The text print() and toString() give for any value."""
    if is_matrix(v):
        return matrix_to_string(v)
    if type(v) is DMLList:
        return list_to_string(v)
    if type(v) is Frame:
        return frame_to_string(v)
    return format_scalar(v)


def frame_to_string(f: Frame, rows: int = 100, cols: int = 100) -> str:
    """SystemDS's frame layout: a header with the shape, then the names and schema of the first
    `cols` columns, then their first `rows` rows."""
    ncol = len(f.columns)
    nrow = len(f.columns[0]) if ncol else 0
    shown_cols, shown_rows = min(ncol, max(cols, 0)), min(nrow, max(rows, 0))
    names = (f.names or [f"C{j + 1}" for j in range(ncol)])[:shown_cols]
    schema = (f.schema or ["STRING"] * ncol)[:shown_cols]
    lines = [f"# FRAME: nrow = {nrow}, ncol = {ncol}", "# " + " ".join(names), "# " + " ".join(schema)]
    for i in range(shown_rows):
        cells = []
        for j in range(shown_cols):
            v = f.columns[j][i]
            kind = schema[j]
            if v is None:
                cells.append("null")
            elif kind in ("INT32", "INT64") and isinstance(v, (int, float)):
                cells.append(str(int(v)))
            elif kind == "BOOLEAN" and isinstance(v, (int, float, bool)):
                cells.append("TRUE" if v else "FALSE")
            elif kind == "FP32" and isinstance(v, (int, float)):
                cells.append(java_double(float(str(np.float32(v)))))     # Java's Float.toString
            elif kind == "FP64" and isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(fixed_decimal(float(v), 3))
            elif isinstance(v, (int, float, bool)):
                cells.append(format_scalar(v))
            else:
                cells.append(str(v))
        lines.append(" ".join(cells))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------- conversions

def _number(v, convert, what: str, kind: str):
    """v (a number, boolean, 1x1 matrix or numeric string) through convert (int or float)."""
    t = type(v)
    if t is int or t is float or t is bool:
        number = v
    elif is_matrix(v) and v.shape == (1, 1):
        number = backend.item(v[0, 0])
    elif t is str:
        try:
            number = float(v)
        except ValueError:
            raise DMLRuntimeError(f"{what} must be {kind}, not the string {v!r}") from None
    else:
        raise DMLRuntimeError(f"{what} must be {kind}, not {a_type_name(v)}")
    try:
        return convert(number)
    except (ValueError, OverflowError):      # int() of NaN or infinity
        raise DMLRuntimeError(f"{what} must be {kind}, not {format_scalar(number)}") from None


def matrix_argument(func: str, X, what="argument"):
    """X, if it is a matrix; else the error that func() needs one."""
    if not is_matrix(X):
        raise DMLRuntimeError(f"{func}() needs a matrix {what}, not {a_type_name(X)}")
    return X


def as_int(v, what="argument") -> int:
    return v if type(v) is int else _number(v, int, what, "an integer")


def as_float(v, what="argument") -> float:
    return v if type(v) is float else _number(v, float, what, "a number")


def as_bool(v, what="argument") -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    if t is str and v.upper() in ("TRUE", "FALSE"):
        return v.upper() == "TRUE"
    if is_matrix(v) and v.shape == (1, 1):
        return backend.item(v[0, 0]) != 0
    raise DMLRuntimeError(f"{what} must be a boolean, not {a_type_name(v)}")



def to_python(v):
    """A value as the Python API returns it: numpy arrays, Python scalars, lists."""
    if is_matrix(v):
        return np.array(backend.to_host(v), dtype=np.float64 if backend.dtype == np.float64 else backend.dtype)
    if type(v) is DMLList:
        items = [to_python(x) for x in v.items]
        return dict(zip(v.names, items)) if v.names is not None else items
    return v


def from_python(v, what="input"):
    """A Python/numpy value as a DML value: 1-D arrays become column vectors."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (DMLList, Frame)):
        return v
    if isinstance(v, dict):
        return DMLList([from_python(x) for x in v.values()], [str(k) for k in v.keys()])
    if isinstance(v, (list, tuple)) and not (len(v) and isinstance(v[0], (list, tuple))):
        if all(isinstance(x, (int, float, np.number)) and not isinstance(x, bool) for x in v) and len(v) > 0:
            return backend.asarray(np.asarray(v, dtype=np.float64).reshape(-1, 1))
        return DMLList([from_python(x) for x in v])
    if backend.on_device() and isinstance(v, backend.xp.ndarray):     # already on the device: no transfer
        if v.ndim > 2:
            raise DMLRuntimeError(f"{what}: arrays of {v.ndim} dimensions are not DML matrices")
        return backend.asarray(v.astype(backend.dtype, copy=True))
    if v is None or isinstance(v, (set, frozenset, bytes, bytearray)):
        raise DMLRuntimeError(f"{what}: a Python {type(v).__name__} is not a DML value "
                              "(numbers, strings, booleans, arrays, lists and dicts are)")
    a = np.asarray(v)
    if a.ndim > 2:
        raise DMLRuntimeError(f"{what}: arrays of {a.ndim} dimensions are not DML matrices")
    if a.dtype.kind not in "biufO":      # DML matrices hold real numbers
        kind = {"U": "string", "S": "bytes", "c": "complex", "M": "datetime", "m": "timedelta"}.get(a.dtype.kind, str(a.dtype))
        raise DMLRuntimeError(f"{what}: an array of {kind} values is not a DML matrix (one of numbers is)")
    try:
        return backend.asarray(np.array(a, dtype=np.float64, copy=True))
    except (TypeError, ValueError):     # an object array holding something else than numbers
        raise DMLRuntimeError(f"{what}: an array holding values that are not numbers is not a DML matrix") from None
