"""Scalars in files: the value's text alone, no newline after it (measured on SystemDS 3.4.0).

write: a double as Java's Double.toString ("2.5", "1.0E20", "NaN"), an int in
decimal, a boolean as "true"/"false", a string as it is; the .mtd says
"data_type": "scalar" and the value type. read (data_type="scalar"):
value_type "double" (the default) and "int" parse the trimmed text (as Java
does: "3.7" is no int), "boolean" is TRUE exactly when the text is "true" in
any case, "string" is the file's lines joined by "\\n" (no final newline).
"""
from __future__ import annotations

from ..errors import DMLRuntimeError
from .files import split_lines
from .javanum import format_double, java_trim, parse_double, parse_long

# value_type spellings SystemDS accepts (external names and its internal ones).
VALUE_TYPES = {"double": "double", "fp64": "double", "fp32": "double", "float": "double",
               "int": "int", "integer": "int", "int64": "int", "int32": "int",
               "boolean": "boolean", "bool": "boolean", "string": "string", "str": "string"}


def value_type_of(v) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    return "string"


def scalar_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_double(v)
    return str(v)


def parse_scalar(text: str, value_type: str, shown: str):
    if value_type == "string":
        return "\n".join(split_lines(text))
    first = split_lines(text)[0] if text else ""
    if value_type == "boolean":
        return java_trim(first).lower() == "true"
    if value_type == "int":
        v = parse_long(first)
        if v is None:
            raise DMLRuntimeError(f"{shown}: cannot read {java_trim(first)!r} as an int")
        return v
    v = parse_double(first)
    if v is None:
        raise DMLRuntimeError(f"{shown}: cannot read {java_trim(first)!r} as a double")
    return v
