"""Frame transformations: transformencode, transformapply, transformdecode.

A JSON spec names the columns to transform (by 1-based index with "ids": true, else by
name) and how; columns it does not name pass through as numbers. Supported: recode (each
distinct token a code 1, 2, ... in order of first occurrence) and dummycode (recode, then
one 0/1 column per code). The metadata frame holds one column per input column: "token·code"
entries of the recoded ones, in the order SystemDS writes them (a java.util.HashMap's
iteration order over the token strings), padded with nulls.

Tokens are the cells' texts as Java writes them: integers without a fraction, doubles by
Double.toString (NaN is a token too), booleans "true"/"false", strings as they are.
"""
from __future__ import annotations

import json
import re

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from ..javadouble import java_double
from ..values import Frame, a_type_name, is_matrix
from .registry import builtin

_SEPARATOR = "·"           # between token and code in the metadata (SystemDS's choice)
_SUPPORTED = ("recode", "dummycode")
_KNOWN = _SUPPORTED + ("bin", "hash", "impute", "omit", "word_embedding", "bag_of_words", "udf")
# a quoted string, or a bare word (SystemDS's JSON reader takes unquoted keys and values)
_STRING_OR_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![0-9.])([A-Za-z_][A-Za-z0-9_.\-]*)')


# ------------------------------------------------------------------ the spec

def _quoted(m: re.Match) -> str:
    word = m.group(1)
    return m.group(0) if word is None or word in ("true", "false", "null") else f'"{word}"'


def _parse_spec(func: str, spec) -> dict:
    """SystemDS's specs are JSON, keys often unquoted ({ids:true,recode:[1]})."""
    if type(spec) is not str:
        raise DMLRuntimeError(f"{func}(): spec must be a JSON string, not {a_type_name(spec)}")
    try:
        parsed = json.loads(_STRING_OR_WORD.sub(_quoted, spec))
    except json.JSONDecodeError as e:
        raise DMLRuntimeError(f"{func}(): spec is not valid JSON ({e.msg} at character {e.pos}): {spec}") from None
    if not isinstance(parsed, dict):
        raise DMLRuntimeError(f"{func}(): spec must be a JSON object: {spec}")
    for method in parsed:
        if method in _KNOWN and method not in _SUPPORTED:
            raise DMLRuntimeError(f"{func}(): the '{method}' transformation is not supported by dmlpy "
                                  f"(supported: {', '.join(_SUPPORTED)})")
    return parsed


def _columns(func: str, spec: dict, method: str, names: list[str]) -> list[int]:
    """The 0-based columns a method names."""
    out = []
    for c in spec.get(method, []):
        if spec.get("ids", False):
            if type(c) is not int or not 1 <= c <= len(names):
                raise DMLRuntimeError(f"{func}(): {method} names column {c}, but the frame has {len(names)}")
            out.append(c - 1)
        else:
            if c not in names:
                raise DMLRuntimeError(f"{func}(): {method} names column '{c}', which the frame does not have "
                                      f"(its columns: {', '.join(names)})")
            out.append(names.index(c))
    return out


class _Plan:
    """Which columns a spec recodes and dummycodes, for a frame of n columns."""

    def __init__(self, func: str, spec_text, names: list[str]):
        spec = _parse_spec(func, spec_text)
        self.dummy = set(_columns(func, spec, "dummycode", names))
        self.recode = set(_columns(func, spec, "recode", names)) | self.dummy


# ------------------------------------------------------------------ tokens

def _token(value, kind: str):
    """A frame cell's text, as SystemDS recodes it (None stays None: not recoded)."""
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


def _java_string_hash(s: str) -> int:
    """Java's String.hashCode: over UTF-16 code units, in 32 bits."""
    data = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def _hash_map_order(tokens: list[str]) -> list[str]:
    """Distinct tokens (given in order of first occurrence) in a java.util.HashMap's iteration
    order: by bucket (String.hashCode, spread, masked by the table size: 16, doubled while more
    than 3/4 full), then by insertion. (Buckets Java turns into trees are not modelled.)"""
    size = 16
    while len(tokens) > 0.75 * size:
        size *= 2
    buckets = []
    for i, t in enumerate(tokens):
        h = _java_string_hash(t)
        buckets.append(((h ^ (h >> 16)) & (size - 1), i))
    return [tokens[i] for _, i in sorted(buckets)]


def _frame(func: str, target) -> Frame:
    if type(target) is not Frame:
        raise DMLRuntimeError(f"{func}(): target must be a frame, not {a_type_name(target)}")
    return target


def _names(f: Frame) -> list[str]:
    return list(f.names) if f.names else [f"C{j + 1}" for j in range(len(f.columns))]


def _number(func: str, value, column: int) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DMLRuntimeError(f"{func}(): column {column + 1} passes through untransformed, but holds "
                              f"the text '{value}', which is not a number") from None


# ------------------------------------------------------------------ encoding

def _encode_columns(func: str, f: Frame, plan: _Plan, maps: list) -> np.ndarray:
    """The matrix of a frame under the code maps (one dict per column, None where passed through)."""
    schema = f.schema or ["STRING"] * len(f.columns)
    nrow = len(f.columns[0]) if f.columns else 0
    blocks = []
    for j, column in enumerate(f.columns):
        codes = maps[j]
        if codes is None:
            blocks.append(np.array([_number(func, v, j) for v in column], dtype=np.float64).reshape(nrow, 1))
            continue
        coded = np.array([codes.get(_token(v, schema[j]), np.nan) for v in column], dtype=np.float64)
        if j in plan.dummy:
            block = np.zeros((nrow, len(codes)))
            seen = ~np.isnan(coded)
            block[np.nonzero(seen)[0], coded[seen].astype(np.int64) - 1] = 1.0
            blocks.append(block)
        else:
            blocks.append(coded.reshape(nrow, 1))
    if not blocks:
        return np.zeros((nrow, 0))
    return np.hstack(blocks)


def _metadata(f: Frame, maps: list) -> Frame:
    """One column per input column: its "token·code" entries (none where passed through),
    padded with nulls to the longest."""
    entries = [[] if m is None else [f"{t}{_SEPARATOR}{m[t]}" for t in _hash_map_order(list(m))] for m in maps]
    nrow = max((len(e) for e in entries), default=0)
    columns = [e + [None] * (nrow - len(e)) for e in entries]
    return Frame(columns, _names(f), ["STRING"] * len(columns))


def _read_metadata(func: str, meta, names: list[str], plan: _Plan) -> list:
    meta = _frame(func, meta)
    if len(meta.columns) != len(names):
        raise DMLRuntimeError(f"{func}(): meta has {len(meta.columns)} columns, but the frame has {len(names)}")
    maps = []
    for j, column in enumerate(meta.columns):
        if j not in plan.recode:
            maps.append(None)
            continue
        codes = {}
        for entry in column:
            if entry is None:
                continue
            token, sep, code = str(entry).rpartition(_SEPARATOR)
            if not sep:
                raise DMLRuntimeError(f"{func}(): meta column {j + 1} holds '{entry}', not token{_SEPARATOR}code")
            codes[token] = int(code)
        maps.append(codes)
    return maps


@builtin("transformencode", returns=2, named_only=True)
def transformencode(target, spec):
    """[X, M] = transformencode(target=F, spec=json): the matrix of F and the metadata frame."""
    f = _frame("transformencode", target)
    plan = _Plan("transformencode", spec, _names(f))
    schema = f.schema or ["STRING"] * len(f.columns)
    maps = []
    for j, column in enumerate(f.columns):
        if j not in plan.recode:
            maps.append(None)
            continue
        codes: dict = {}
        for v in column:
            t = _token(v, schema[j])
            if t is not None and t not in codes:
                codes[t] = len(codes) + 1
        maps.append(codes)
    X = _encode_columns("transformencode", f, plan, maps)
    return backend.asarray(X), _metadata(f, maps)


@builtin("transformapply", named_only=True)
def transformapply(target, spec, meta):
    """X = transformapply(target=F, spec=json, meta=M): F encoded with the codes of M (a token
    M does not hold: NaN where recoded, a zero row where dummycoded)."""
    f = _frame("transformapply", target)
    names = _names(f)
    plan = _Plan("transformapply", spec, names)
    maps = _read_metadata("transformapply", meta, names, plan)
    return backend.asarray(_encode_columns("transformapply", f, plan, maps))


@builtin("transformdecode", named_only=True)
def transformdecode(target, spec, meta):
    """F = transformdecode(target=X, spec=json, meta=M): the frame whose encoding X is."""
    if not is_matrix(target):
        raise DMLRuntimeError(f"transformdecode(): target must be a matrix, not {a_type_name(target)}")
    X = np.asarray(backend.to_host(target), dtype=np.float64)
    meta = _frame("transformdecode", meta)
    names = _names(meta)
    plan = _Plan("transformdecode", spec, names)
    maps = _read_metadata("transformdecode", meta, names, plan)
    widths = [len(m) if j in plan.dummy else 1 for j, m in enumerate(maps)]
    if sum(widths) != X.shape[1]:
        raise DMLRuntimeError(f"transformdecode(): the matrix has {X.shape[1]} columns, but the spec and "
                              f"meta describe {sum(widths)}")
    columns, schema, at = [], [], 0
    for j, width in enumerate(widths):
        block = X[:, at:at + width]
        at += width
        if maps[j] is None:
            columns.append([float(v) for v in block[:, 0]])
            schema.append("FP64")
            continue
        tokens = {code: token for token, code in maps[j].items()}
        if j in plan.dummy:
            codes = [int(np.argmax(row)) + 1 if row.any() else None for row in block]
        else:
            codes = [None if v != v else int(v) for v in block[:, 0]]
        columns.append([tokens.get(c) for c in codes])
        schema.append("STRING")
    return Frame(columns, names, schema)
