"""Frame operations: indexing (right and left), cbind/rbind, and a cell as a scalar.

A Frame holds one Python list per column and a schema of SystemDS value types (STRING, FP64,
FP32, INT64, INT32, BOOLEAN); numeric cells are Python floats (FP32 ones rounded to float),
strings str, missing ones None. Frames are values: every operation returns a new frame and
shares the columns it does not change.
"""
from __future__ import annotations

import numpy as np

from .errors import DMLRuntimeError
from .javadouble import java_double
from .values import Frame, a_type_name, format_scalar, is_matrix


def shape(f: Frame) -> tuple[int, int]:
    return (len(f.columns[0]) if f.columns else 0), len(f.columns)


def _schema(f: Frame) -> list[str]:
    return list(f.schema) if f.schema else ["STRING"] * len(f.columns)


def column_names(f: Frame) -> list[str]:
    """The frame's column names; unnamed columns are C1, C2, ... by position."""
    return list(f.names) if f.names else [f"C{j + 1}" for j in range(len(f.columns))]


def frame_argument(func: str, target) -> Frame:
    """target, if it is a frame; else the error that func() needs one."""
    if type(target) is not Frame:
        raise DMLRuntimeError(f"{func}(): target must be a frame, not {a_type_name(target)}")
    return target


def cell_text(value, kind: str):
    """A cell's text as SystemDS hands it on (recode tokens, map's lambdas): integers without a
    fraction, doubles as Java prints them, booleans true/false; a missing cell stays None."""
    if value is None:
        return None
    if kind == "STRING" or type(value) is str:
        return str(value)
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind in ("INT32", "INT64"):
        return str(int(value))
    if kind == "FP32":
        return java_double(float(str(np.float32(value))))
    return java_double(float(value))


def _select_names(f: Frame, c0: int, c1: int):
    """Default names (C1, C2, ...) are positions, so a selection numbers its columns anew."""
    return list(f.names[c0:c1]) if f.names else None


def index(f: Frame, r0: int, r1: int, c0: int, c1: int) -> Frame:
    """F[r0+1:r1, c0+1:c1] (0-based half-open bounds, already checked)."""
    return Frame([col[r0:r1] for col in f.columns[c0:c1]], _select_names(f, c0, c1), _schema(f)[c0:c1])


def cell_value(f: Frame, name: str = "frame"):
    """as.scalar of a 1x1 frame: the cell typed by its column (a missing cell is an error)."""
    if shape(f) != (1, 1):
        rows, cols = shape(f)
        raise DMLRuntimeError(f"as.scalar() needs a 1x1 frame, not {rows}x{cols}")
    v, kind = f.columns[0][0], _schema(f)[0]
    if v is None:
        raise DMLRuntimeError(f"as.scalar(): the cell of {name} is missing (null)")
    if kind in ("INT32", "INT64") and not isinstance(v, str):
        return int(v)
    if kind == "BOOLEAN" and not isinstance(v, str):
        return bool(v)
    if kind in ("FP32", "FP64") and not isinstance(v, str):
        return float(v)
    return v if isinstance(v, str) else format_scalar(v)


def stored(value, kind: str, name: str):
    """A scalar as a cell of a column of the given type."""
    if value is None:
        return None
    if kind == "STRING":
        return value if isinstance(value, str) else format_scalar(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise DMLRuntimeError(f"cannot store the string '{value}' in {name}'s {kind} column") from None
    else:
        number = float(value)
    if kind == "BOOLEAN":
        return bool(number)
    if kind == "FP32":
        return float(np.float32(number))
    if kind in ("INT32", "INT64"):
        return float(int(number)) if number == number else number
    return number


def set_index(f: Frame, r0: int, r1: int, c0: int, c1: int, value, name: str = "frame") -> Frame:
    """F[r0+1:r1, c0+1:c1] = value (a scalar for one cell, or a frame of the selection's shape)."""
    schema = _schema(f)
    rows, cols = r1 - r0, c1 - c0
    if type(value) is Frame:
        if shape(value) != (rows, cols):
            vr, vc = shape(value)
            raise DMLRuntimeError(f"left indexing {name}[{r0 + 1}:{r1}, {c0 + 1}:{c1}] selects {rows}x{cols} "
                                  f"cells but the right-hand side is a {vr}x{vc} frame")
        source = value.columns
    elif isinstance(value, (bool, int, float, str)):
        if (rows, cols) != (1, 1):
            raise DMLRuntimeError(f"left indexing {name}[{r0 + 1}:{r1}, {c0 + 1}:{c1}] with a scalar: a "
                                  "scalar can only be assigned to a single cell")
        source = [[value]]
    else:
        raise DMLRuntimeError(f"cannot assign {a_type_name(value)} into frame cells")
    columns = list(f.columns)
    for k in range(cols):
        j = c0 + k
        column = list(columns[j])
        column[r0:r1] = [stored(v, schema[j], name) for v in source[k]]
        columns[j] = column
    return Frame(columns, f.names, schema)


def bind(func: str, frames, axis: int) -> Frame:
    """cbind (axis 1) or rbind (axis 0) of frames."""
    for f in frames:
        if type(f) is not Frame:
            raise DMLRuntimeError(f"{func}() binds frames with frames only, not with {a_type_name(f)}"
                                  + (" (use as.frame first)" if is_matrix(f) else ""))
    first = frames[0]
    if axis == 1:
        rows = shape(first)[0]
        for f in frames[1:]:
            if shape(f)[0] != rows:
                raise DMLRuntimeError(f"{func}(): frames of {rows} and {shape(f)[0]} rows")
        names = None
        if any(f.names for f in frames):
            names = [n for f in frames for n in column_names(f)]
        return Frame([col for f in frames for col in f.columns], names, [k for f in frames for k in _schema(f)])
    cols = shape(first)[1]
    for f in frames[1:]:
        if shape(f)[1] != cols:
            raise DMLRuntimeError(f"{func}(): frames of {cols} and {shape(f)[1]} columns")
    # each column takes the widest of the frames' types for it (INT32 under FP32 is FP32)
    schema = [max((_schema(f)[j] for f in frames), key=_WIDTH.index) for j in range(cols)]
    columns = [[stored(v, schema[j], func) for f in frames for v in f.columns[j]] for j in range(cols)]
    return Frame(columns, first.names, schema)


_WIDTH = ["BOOLEAN", "INT32", "INT64", "FP32", "FP64", "STRING"]
