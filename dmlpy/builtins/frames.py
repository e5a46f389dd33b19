"""Frame builtins: frame(), colnames(), map().

The frame operations the runtime itself needs (indexing, binding, a cell as a scalar) live in
dmlpy/frame_ops.py; transformencode and its kin in transform.py.
"""
from __future__ import annotations

from ..errors import DMLRuntimeError
from ..frame_ops import cell_text, column_names, frame_argument, stored
from ..values import DMLList, Frame, a_type_name, as_int
from .java_lambda import compile_lambda
from .registry import builtin

_TYPES = ("STRING", "FP64", "FP32", "INT64", "INT32", "BOOLEAN")


@builtin("frame")
def frame(data, rows, cols, schema=None):
    """frame(value or [values], rows=, cols=[, schema=[types]]): a frame filled with one value, or
    with a list's values row by row; cells take the schema's types (default STRING)."""
    r, c = as_int(rows, "rows"), as_int(cols, "cols")
    if r < 0 or c < 0:
        raise DMLRuntimeError(f"frame(): invalid dimensions {r}x{c}")
    if schema is None:
        kinds = ["STRING"] * c
    else:
        kinds = [str(k).upper() for k in (schema.items if type(schema) is DMLList else [schema])]
        if len(kinds) != c or any(k not in _TYPES for k in kinds):
            raise DMLRuntimeError(f"frame(): schema must list {c} of {', '.join(_TYPES)}, not {kinds}")
    if type(data) is DMLList:
        values = data.items
        if len(values) != r * c:
            raise DMLRuntimeError(f"frame(): {len(values)} values given for a {r}x{c} frame")
        cell = lambda i, j: values[i * c + j]      # noqa: E731
    elif isinstance(data, (str, int, float, bool)):
        cell = lambda i, j: data                   # noqa: E731
    else:
        raise DMLRuntimeError(f"frame(): data must be a value or a list of values, not {a_type_name(data)}")
    columns = [[stored(cell(i, j), kinds[j], "frame") for i in range(r)] for j in range(c)]
    return Frame(columns, None, kinds)


@builtin("colnames")
def colnames(target):
    """The column names of a frame, as a one-row frame of strings."""
    names = column_names(frame_argument("colnames", target))
    return Frame([[n] for n in names], None, ["STRING"] * len(names))


@builtin("map")
def map_(target, fn, margin=0):
    """map(F, "x -> expr"): a Java lambda applied to the text of every cell (as SystemDS gives
    cells to it: integers without a fraction, doubles as Java prints them), giving a frame of
    strings (null cells stay null)."""
    f = frame_argument("map", target)
    if margin != 0:
        raise DMLRuntimeError("map(): margin (a lambda over whole rows or columns) is not supported by dmlpy")
    apply = compile_lambda(fn)
    schema = f.schema or ["STRING"] * len(f.columns)
    columns = [[None if v is None else apply(cell_text(v, kind)) for v in column]
               for column, kind in zip(f.columns, schema)]
    return Frame(columns, f.names, ["STRING"] * len(columns))
