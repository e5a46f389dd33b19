"""Frame transformations: transformencode, transformapply, transformdecode.

A JSON spec names the columns to transform (by 1-based index with "ids": true, else by
name) and how; columns it does not name pass through as numbers. Supported: recode (each
distinct token a code 1, 2, ... in order of first occurrence), bin (equi-width: bins of equal
width between the column's min and max; equi-height: bin edges at the values ranked
ceil(i * n / numbins); a value on an edge goes to the lower bin) and dummycode (the codes or
bins, one 0/1 column each). The metadata frame holds one column per input column: for a
recoded one its "token·code" entries in the order SystemDS writes them (a java.util.HashMap's
iteration order over the token strings), for a binned one "lower·upper" per bin; padded with
nulls.

Tokens are the cells' texts as Java writes them: integers without a fraction, doubles by
Double.toString (NaN is a token too), booleans "true"/"false", strings as they are.
"""
from __future__ import annotations

import json
import math
import re

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from ..frame_ops import cell_text, column_names, frame_argument
from ..javadouble import java_double
from ..values import Frame, a_type_name, is_matrix
from .registry import builtin

_SEPARATOR = "·"           # between token and code in the metadata (SystemDS's choice)
_SUPPORTED = ("recode", "dummycode", "bin", "hash", "impute", "omit")
_KNOWN = _SUPPORTED + ("word_embedding", "bag_of_words", "udf")
_IMPUTE_METHODS = ("global_mean", "global_mode", "constant")
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


def _column(func: str, spec: dict, method: str, c, names: list[str]) -> int:
    """The 0-based column an entry of a method's list names."""
    if isinstance(c, dict):         # {id: 1, ...} or {name: "C1", ...}
        c = c.get("id") if spec.get("ids", False) else c.get("name")
    if spec.get("ids", False):
        if type(c) is not int or not 1 <= c <= len(names):
            raise DMLRuntimeError(f"{func}(): {method} names column {c}, but the frame has {len(names)}")
        return c - 1
    if c not in names:
        raise DMLRuntimeError(f"{func}(): {method} names column '{c}', which the frame does not have "
                              f"(its columns: {', '.join(names)})")
    return names.index(c)


class _Plan:
    """What a spec does to each column of a frame: recode, bin (method, count), dummycode."""

    def __init__(self, func: str, spec_text, names: list[str]):
        spec = _parse_spec(func, spec_text)
        self.bins = {}
        for entry in spec.get("bin", []):
            method = entry.get("method", "equi-width") if isinstance(entry, dict) else "equi-width"
            count = entry.get("numbins", 10) if isinstance(entry, dict) else 10
            if method not in ("equi-width", "equi-height"):
                raise DMLRuntimeError(f"{func}(): bin method '{method}' (equi-width or equi-height)")
            if type(count) is not int or count < 1:
                raise DMLRuntimeError(f"{func}(): numbins must be a positive integer, not {count}")
            self.bins[_column(func, spec, "bin", entry, names)] = (method, count)
        self.hash = {_column(func, spec, "hash", c, names) for c in spec.get("hash", [])}
        self.buckets = spec.get("K")          # the hash's bucket count (encode; apply reads meta's)
        if self.hash and func == "transformencode" and (type(self.buckets) is not int or self.buckets < 1):
            raise DMLRuntimeError(f"{func}(): hash needs K, the number of buckets, in the spec" if self.buckets is None
                                  else f"{func}(): hash's K must be a positive integer, not {json.dumps(self.buckets)}")
        self.dummy = {_column(func, spec, "dummycode", c, names) for c in spec.get("dummycode", [])}
        self.recode = ({_column(func, spec, "recode", c, names) for c in spec.get("recode", [])}
                       | self.dummy) - set(self.bins) - self.hash
        self.omit = {_column(func, spec, "omit", c, names) for c in spec.get("omit", [])}
        self.impute = {}                      # column -> (method, the constant's text or None)
        for entry in spec.get("impute", []):
            method = entry.get("method") if isinstance(entry, dict) else None
            if method not in _IMPUTE_METHODS:
                raise DMLRuntimeError(f"{func}(): impute needs entries like {{id: 1, method: global_mean}} "
                                      f"with a method of {', '.join(_IMPUTE_METHODS)}, not {json.dumps(entry)}")
            value = entry.get("value")
            if method == "constant" and (value is None or isinstance(value, (list, dict))):
                raise DMLRuntimeError(f"{func}(): impute by constant needs a value: {json.dumps(entry)}")
            text = None if value is None else value if type(value) is str else \
                java_double(float(value)) if type(value) is float else json.dumps(value)
            self.impute[_column(func, spec, "impute", entry, names)] = (method, text)
        if self.dummy:      # SystemDS 3.4.0 imputes nothing, in any column, where a spec also dummycodes
            self.impute = {}


# ------------------------------------------------------------------ tokens

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


def _schema(f: Frame) -> list[str]:
    """f's column value types (a frame without a schema holds strings)."""
    return f.schema or ["STRING"] * len(f.columns)


def _number(func: str, value, column: int) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DMLRuntimeError(f"{func}(): column {column + 1} holds the text '{value}', which is not a "
                              "number (only recoded columns may hold text)") from None


# ------------------------------------------------------------------ column coders

class _Recoder:
    """Codes 1, 2, ... for the distinct tokens of a column."""

    def __init__(self, codes: dict):
        self.codes = codes

    @classmethod
    def build(cls, column, kind):
        codes: dict = {}
        for v in column:
            t = cell_text(v, kind)
            if t is not None and t not in codes:
                codes[t] = len(codes) + 1
        return cls(codes)

    @classmethod
    def from_meta(cls, func, entries, j):
        codes = {}
        for token, code in _meta_pairs(func, entries, j):
            codes[token] = int(code)
        return cls(codes)

    def size(self) -> int:
        return len(self.codes)

    def encode(self, func, column, kind, j) -> np.ndarray:
        """Codes, NaN for a token the map does not hold."""
        return np.array([self.codes.get(cell_text(v, kind), np.nan) for v in column], dtype=np.float64)

    def meta(self) -> list:
        return [f"{t}{_SEPARATOR}{self.codes[t]}" for t in _hash_map_order(list(self.codes))]

    def decoder(self):
        tokens = {code: token for token, code in self.codes.items()}
        return tokens.get


class _Binner:
    """Bins 1..n between edges (a value on an edge goes to the lower bin; outside, the end bins)."""

    def __init__(self, method: str, edges: list):
        self.method, self.edges = method, edges       # n + 1 edges

    @classmethod
    def build(cls, func, column, j, method: str, count: int):
        values = np.array([_number(func, v, j) for v in column], dtype=np.float64)
        values = np.sort(values[~np.isnan(values)])
        if values.size == 0:
            raise DMLRuntimeError(f"{func}(): column {j + 1} has no numbers to bin")
        lo, hi = float(values[0]), float(values[-1])
        if method == "equi-width":
            edges = [lo + (hi - lo) * i / count for i in range(count + 1)]
        else:       # equi-height: the i-th upper edge is the value ranked ceil(i * n / count)
            n = values.size
            edges = [lo] + [float(values[-(-i * n // count) - 1]) for i in range(1, count)] + [hi]
        return cls(method, edges)

    @classmethod
    def from_meta(cls, func, entries, j, method: str):
        pairs = list(_meta_pairs(func, entries, j))
        try:
            edges = [float(pairs[0][0])] + [float(upper) for _, upper in pairs]
        except (IndexError, ValueError):
            raise DMLRuntimeError(f"{func}(): meta column {j + 1} does not hold bin edges (lower·upper)") from None
        return cls(method, edges)

    def size(self) -> int:
        return len(self.edges) - 1

    def encode(self, func, column, kind, j) -> np.ndarray:
        values = np.array([_number(func, v, j) for v in column], dtype=np.float64)
        n = self.size()
        if self.method == "equi-width":
            width = (self.edges[-1] - self.edges[0]) / n
            bins = np.ceil((values - self.edges[0]) / width) if width > 0 else np.ones_like(values)
        else:
            bins = np.searchsorted(np.array(self.edges[1:-1]), values, side="left") + 1.0
        bins = np.clip(bins, 1, n)
        bins[np.isnan(values)] = np.nan
        return bins

    def meta(self) -> list:
        return [f"{java_double(lo)}{_SEPARATOR}{java_double(hi)}" for lo, hi in zip(self.edges, self.edges[1:])]

    def decoder(self):
        """A bin's middle, as text."""
        def middle(code):
            if code is None or not 1 <= code <= self.size():
                return None
            return java_double((self.edges[code - 1] + self.edges[code]) / 2)
        return middle


class _Hasher:
    """Feature hashing: a token's code is |String.hashCode % K| + 1 (Java's remainder keeps the
    sign), so codes need no dictionary; the metadata holds K alone."""

    def __init__(self, buckets: int):
        self.buckets = buckets

    @classmethod
    def from_meta(cls, func, entries, j):
        try:
            return cls(int(next(e for e in entries if e is not None)))
        except (StopIteration, ValueError):
            raise DMLRuntimeError(f"{func}(): meta column {j + 1} does not hold the hash's K") from None

    def size(self) -> int:
        return self.buckets

    def encode(self, func, column, kind, j) -> np.ndarray:
        def code(v):
            t = cell_text(v, kind)
            if t is None:
                return np.nan
            h = _java_string_hash(t)
            h = h - (1 << 32) if h >= 1 << 31 else h
            return abs(int(math.fmod(h, self.buckets))) + 1
        return np.array([code(v) for v in column], dtype=np.float64)

    def meta(self) -> list:
        return [str(self.buckets)]

    def decoder(self):
        """The code itself, as SystemDS decodes hashed columns (as text where dummycoded)."""
        return lambda code: None if code is None else java_double(float(code))


# ------------------------------------------------------------------ missing values

def _global_fill(func: str, column, kind, j: int, method: str):
    """The text a global_mean or global_mode imputation fills column j's missing cells with, or
    None if the column has no values."""
    if method == "global_mean":
        values = [_number(func, v, j) for v in column if v is not None]
        values = [v for v in values if v == v]
        return java_double(math.fsum(values) / len(values)) if values else None
    counts: dict = {}
    for v in column:
        t = cell_text(v, kind)
        if t is not None:
            counts[t] = counts.get(t, 0) + 1
    best = None       # the first most frequent token in java.util.HashMap's order, as SystemDS
    for t in _hash_map_order(list(counts)):
        if best is None or counts[t] > counts[best]:
            best = t
    return best


def _impute(func: str, f: Frame, plan: _Plan, fills: list) -> Frame:
    """f with each imputed column's missing cells (None) filled (a number for a numeric column)."""
    schema = _schema(f)
    columns = list(f.columns)
    for j in plan.impute:
        fill = fills[j]
        if fill is not None:
            value = fill if schema[j] == "STRING" else _number(func, fill, j)
            columns[j] = [value if v is None else v for v in columns[j]]
    return Frame(columns, f.names, f.schema)


def _fills_at_encode(func: str, f: Frame, plan: _Plan) -> list:
    schema = _schema(f)
    fills = [None] * len(f.columns)
    for j, (method, text) in plan.impute.items():
        fills[j] = text if method == "constant" else _global_fill(func, f.columns[j], schema[j], j, method)
    return fills


def _fills_at_apply(func: str, meta: Frame, plan: _Plan) -> list:
    fills = [None] * len(meta.columns)
    for j, (method, text) in plan.impute.items():
        if method == "constant":
            fills[j] = text
        elif meta.fill is None:
            raise DMLRuntimeError(f"{func}(): meta carries no imputed value for column {j + 1} ({method}): "
                                  "pass the metadata frame transformencode returned, unchanged")
        else:
            fills[j] = meta.fill[j]
    return fills


def _check_fills(func: str, plan: _Plan, fills: list, coders: list) -> None:
    """A recoded column's codes come from its cells before imputation: its fill must be one."""
    for j in plan.impute:
        if fills[j] is not None and isinstance(coders[j], _Recoder) and fills[j] not in coders[j].codes:
            raise DMLRuntimeError(f"{func}(): column {j + 1} is recoded, and its impute value '{fills[j]}' "
                                  "is none of its tokens")


def _kept_rows(f: Frame, plan: _Plan):
    """The rows omit keeps (those with a value in every omitted column), or None: all."""
    if not plan.omit:
        return None
    nrow = len(f.columns[0]) if f.columns else 0
    return [i for i in range(nrow) if all(f.columns[j][i] is not None for j in plan.omit)]


def _meta_pairs(func, entries, j):
    for entry in entries:
        if entry is None:
            continue
        first, sep, second = str(entry).rpartition(_SEPARATOR)
        if not sep:
            raise DMLRuntimeError(f"{func}(): meta column {j + 1} holds '{entry}', not two values "
                                  f"joined by {_SEPARATOR}")
        yield first, second


def _build_coders(func: str, f: Frame, plan: _Plan) -> list:
    schema = _schema(f)
    coders = []
    for j, column in enumerate(f.columns):
        if j in plan.bins:
            coders.append(_Binner.build(func, column, j, *plan.bins[j]))
        elif j in plan.hash:
            coders.append(_Hasher(plan.buckets))
        elif j in plan.recode:
            coders.append(_Recoder.build(column, schema[j]))
        else:
            coders.append(None)
    return coders


def _coders_from_meta(func: str, meta: Frame, names: list[str], plan: _Plan) -> list:
    if len(meta.columns) != len(names):
        raise DMLRuntimeError(f"{func}(): meta has {len(meta.columns)} columns, but the frame has {len(names)}")
    coders = []
    for j, entries in enumerate(meta.columns):
        if j in plan.bins:
            coders.append(_Binner.from_meta(func, entries, j, plan.bins[j][0]))
        elif j in plan.hash:
            coders.append(_Hasher.from_meta(func, entries, j))
        elif j in plan.recode:
            coders.append(_Recoder.from_meta(func, entries, j))
        else:
            coders.append(None)
    return coders


def _encode_columns(func: str, f: Frame, plan: _Plan, coders: list) -> np.ndarray:
    """The matrix of a frame under its columns' coders (None: passed through as numbers); a
    dummycoded column becomes one 0/1 column per code (all zeros for an unknown token)."""
    schema = _schema(f)
    nrow = len(f.columns[0]) if f.columns else 0
    blocks = []
    for j, column in enumerate(f.columns):
        coder = coders[j]
        if coder is None:
            blocks.append(np.array([_number(func, v, j) for v in column], dtype=np.float64).reshape(nrow, 1))
            continue
        coded = coder.encode(func, column, schema[j], j)
        if j in plan.dummy:
            block = np.zeros((nrow, coder.size()))
            seen = ~np.isnan(coded)
            block[np.nonzero(seen)[0], coded[seen].astype(np.int64) - 1] = 1.0
            blocks.append(block)
        else:
            blocks.append(coded.reshape(nrow, 1))
    if not blocks:
        return np.zeros((nrow, 0))
    return np.hstack(blocks)


def _metadata(f: Frame, coders: list) -> Frame:
    """One column per input column, its coder's entries (none where passed through), padded
    with nulls to the longest."""
    entries = [[] if c is None else c.meta() for c in coders]
    nrow = max((len(e) for e in entries), default=0)
    columns = [e + [None] * (nrow - len(e)) for e in entries]
    return Frame(columns, column_names(f), ["STRING"] * len(columns))


@builtin("transformencode", returns=2, named_only=True)
def transformencode(target, spec):
    """[X, M] = transformencode(target=F, spec=json): the matrix of F and the metadata frame
    (codes and bins from the cells as they are, of every row, omitted ones included; then
    imputation fills missing cells, and omit drops the rows missing a value in an omitted column)."""
    f = frame_argument("transformencode", target)
    plan = _Plan("transformencode", spec, column_names(f))
    kept = _kept_rows(f, plan)
    fills = _fills_at_encode("transformencode", f, plan)
    coders = _build_coders("transformencode", f, plan)       # (from the cells as they are)
    _check_fills("transformencode", plan, fills, coders)
    X = _encode_columns("transformencode", _impute("transformencode", f, plan, fills), plan, coders)
    M = _metadata(f, coders)
    M.fill = fills if plan.impute else None
    return backend.asarray(X if kept is None else X[kept]), M


@builtin("transformapply", named_only=True)
def transformapply(target, spec, meta):
    """X = transformapply(target=F, spec=json, meta=M): F encoded with the codes and bins of M (a
    token M does not hold: NaN where recoded, a zero row where dummycoded; a value outside the
    bins: the first or last bin)."""
    f = frame_argument("transformapply", target)
    names = column_names(f)
    plan = _Plan("transformapply", spec, names)
    meta = frame_argument("transformapply", meta)
    coders = _coders_from_meta("transformapply", meta, names, plan)
    kept = _kept_rows(f, plan)
    fills = _fills_at_apply("transformapply", meta, plan)
    _check_fills("transformapply", plan, fills, coders)
    X = _encode_columns("transformapply", _impute("transformapply", f, plan, fills), plan, coders)
    return backend.asarray(X if kept is None else X[kept])


@builtin("transformdecode", named_only=True)
def transformdecode(target, spec, meta):
    """F = transformdecode(target=X, spec=json, meta=M): the frame whose encoding X is (a bin
    decodes to its middle)."""
    if not is_matrix(target):
        raise DMLRuntimeError(f"transformdecode(): target must be a matrix, not {a_type_name(target)}")
    X = np.asarray(backend.to_host(target), dtype=np.float64)
    meta = frame_argument("transformdecode", meta)
    names = column_names(meta)
    plan = _Plan("transformdecode", spec, names)
    coders = _coders_from_meta("transformdecode", meta, names, plan)
    widths = [c.size() if j in plan.dummy else 1 for j, c in enumerate(coders)]
    if sum(widths) != X.shape[1]:
        raise DMLRuntimeError(f"transformdecode(): the matrix has {X.shape[1]} columns, but the spec and "
                              f"meta describe {sum(widths)}")
    columns, schema, at = [], [], 0
    for j, width in enumerate(widths):
        block = X[:, at:at + width]
        at += width
        if coders[j] is None or (j in plan.hash and j not in plan.dummy):   # (a hashed column: its codes)
            columns.append([float(v) for v in block[:, 0]])
            schema.append("FP64")
            continue
        decode = coders[j].decoder()
        if j in plan.dummy:
            codes = [int(np.argmax(row)) + 1 if row.any() else None for row in block]
        else:
            codes = [None if v != v else int(v) for v in block[:, 0]]
        columns.append([decode(c) for c in codes])
        schema.append("STRING")
    return Frame(columns, names, schema)
