"""The Java lambdas of map(): a small subset of Java expressions, evaluated in Python.

map(F, "x -> x.toLowerCase()") applies a Java lambda to every cell of a frame. SystemDS compiles
it with a Java compiler; dmlpy reads the expressions DML scripts use: string, number, boolean and
char literals, the lambda's parameter, `+ - * / %`, comparisons, `== !=`, `&& || !`, `c ? a : b`,
array indexing, the common String methods (length, toLowerCase, toUpperCase, trim, equals,
equalsIgnoreCase, contains, startsWith, endsWith, replace, replaceAll, split, substring, charAt,
indexOf, isEmpty, concat, matches), String.valueOf, Integer/Long/Double.valueOf and parse*,
Math.abs/min/max, and UtilFunctions.splitRecodeEntry and getAsciiAtIdx. Anything else is a DML error naming it.
"""
from __future__ import annotations

import math
import re
import warnings
from functools import lru_cache

from ..errors import DMLRuntimeError
from ..javadouble import java_double
from ..ops import scalar_div

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<char>'(?:[^'\\]|\\.)')
  | (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?[dDfF]?|\d+(?:[eE][+-]?\d+)?[lLdDfF]?|\.\d+(?:[eE][+-]?\d+)?[dDfF]?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op>->|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()\[\]{}])
)""", re.X)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "'": "'", '"': '"', "\\": "\\"}


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _tokens(text: str) -> list:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise DMLRuntimeError(f"map(): cannot read the Java lambda at '{text[pos:pos + 20]}': {text}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    out.append(("end", ""))
    return out


class _Parser:
    """Recursive descent over the tokens; each rule returns a function of the environment."""

    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, value=None):
        kind, v = self.toks[self.i]
        return v if value is None else (kind == "op" and v == value)

    def take(self, value=None):
        kind, v = self.toks[self.i]
        if value is not None and not (kind == "op" and v == value):
            self.fail(f"expected '{value}'")
        if kind == "end":
            self.fail("unexpected end")
        self.i += 1
        return kind, v

    def fail(self, what: str):
        kind, v = self.toks[self.i]
        raise DMLRuntimeError(f"map(): {what} at '{v or 'the end'}' in the Java lambda {self.text}")

    # lambda: x -> expr | (x, y) -> expr
    def lambda_(self):
        params = []
        if self.peek("("):
            self.take("(")
            while not self.peek(")"):
                params.append(self.take()[1])
                if self.peek(","):
                    self.take(",")
            self.take(")")
        else:
            kind, name = self.take()
            if kind != "name":
                self.fail("expected the lambda's parameter")
            params.append(name)
        self.take("->")
        body = self.expr()
        if self.toks[self.i][0] != "end":
            self.fail("unexpected text")
        return params, body

    def expr(self):
        cond = self.binary(0)
        if self.peek("?"):
            self.take("?")
            a = self.expr()
            self.take(":")
            b = self.expr()
            return lambda env: a(env) if bool(cond(env)) else b(env)
        return cond

    _LEVELS = [("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%")]

    def binary(self, level: int):
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.toks[self.i][0] == "op" and self.toks[self.i][1] in self._LEVELS[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            left = _binary(op, left, right)
        return left

    def unary(self):
        if self.peek("!"):
            self.take()
            operand = self.unary()
            return lambda env: not bool(operand(env))
        if self.peek("-"):
            self.take()
            operand = self.unary()
            return lambda env: -operand(env)
        return self.postfix(self.primary())

    def primary(self):
        kind, v = self.take()
        if kind == "string":
            s = _unescape(v[1:-1])
            return lambda env: s
        if kind == "char":
            c = _unescape(v[1:-1])
            return lambda env: c
        if kind == "number":
            text = v.rstrip("lLdDfF")
            n = int(text) if re.fullmatch(r"\d+", text) and v[-1] not in "dDfF" else float(text)
            return lambda env: n
        if kind == "op" and v == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "name":
            if v in ("true", "false"):
                b = v == "true"
                return lambda env: b
            if v == "null":
                return lambda env: None
            if self.peek("."):                   # a static call: Class.method(args)
                if v in _STATIC:
                    self.take(".")
                    method = self.take()[1]
                    args = self.arguments()
                    fn = _STATIC[v].get(method)
                    if fn is None:
                        raise DMLRuntimeError(f"map(): {v}.{method}() is not supported by dmlpy's Java lambdas")
                    return lambda env: fn(*[a(env) for a in args])
            return lambda env, name=v: _variable(env, name)
        self.fail("unexpected token")

    def arguments(self):
        self.take("(")
        args = []
        while not self.peek(")"):
            args.append(self.expr())
            if not self.peek(")"):
                self.take(",")
        self.take(")")
        return args

    def postfix(self, target):
        while True:
            if self.peek("."):
                self.take(".")
                method = self.take()[1]
                args = self.arguments()
                target = _method_call(target, method, args)
            elif self.peek("["):
                self.take("[")
                at = self.expr()
                self.take("]")
                target = (lambda t, a: lambda env: t(env)[int(a(env))])(target, at)
            else:
                return target


def _variable(env: dict, name: str):
    if name not in env:
        raise DMLRuntimeError(f"map(): the Java lambda uses '{name}', which dmlpy does not know")
    return env[name]


def _binary(op, left, right):
    def plus(a, b):
        if isinstance(a, str) or isinstance(b, str):
            return _text(a) + _text(b)
        return a + b

    def divide(a, b):
        if isinstance(a, int) and isinstance(b, int):
            if b == 0:
                raise DMLRuntimeError("map(): the Java lambda divides an integer by zero")
            q = abs(a) // abs(b)
            return q if (a >= 0) == (b > 0) else -q
        return scalar_div(a, b)             # (a double divided by zero: Infinity or NaN, as DML's /)

    if op == "||":
        return lambda env: bool(left(env)) or bool(right(env))
    if op == "&&":
        return lambda env: bool(left(env)) and bool(right(env))
    fn = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b,
          "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
          "+": plus, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": divide,
          "%": lambda a, b: math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else
          (abs(a) % abs(b)) * (1 if a >= 0 else -1)}[op]
    return lambda env: fn(left(env), right(env))


def _text(v) -> str:
    """String.valueOf: Java's text of a value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return java_double(v)
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    return str(v)


def _java_replacement(repl: str) -> str:
    """Java's $1 group references in a replacement, as Python's \\1 (a literal backslash kept)."""
    return re.sub(r"\\(.)|\$(\d+)", lambda m: m.group(1).replace("\\", "\\\\") if m.group(1) is not None
                  else "\\" + m.group(2), repl)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    """A Java regex as Python's (the common syntax is the same); Python's warnings about
    constructs it may read differently in future are not the DML user's business."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return re.compile(pattern)
        except re.error as e:
            raise DMLRuntimeError(f"map(): the regular expression '{pattern}' is not valid ({e})") from None


def _split(s: str, pattern: str, limit: int = 0) -> list:
    """String.split: a regex; with no limit, trailing empty strings are dropped (and a leading
    empty string from a zero-width match at 0)."""
    parts = _regex(pattern).split(s, maxsplit=max(limit - 1, 0))
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return [""] if s == "" else parts


_STRING_METHODS = {
    "length": lambda s: len(s),
    "toLowerCase": lambda s: s.lower(),
    "toUpperCase": lambda s: s.upper(),
    "trim": lambda s: s.strip("".join(chr(c) for c in range(33))),
    "isEmpty": lambda s: len(s) == 0,
    "equals": lambda s, o: isinstance(o, str) and s == o,
    "equalsIgnoreCase": lambda s, o: isinstance(o, str) and s.lower() == o.lower(),
    "contains": lambda s, o: o in s,
    "startsWith": lambda s, o: s.startswith(o),
    "endsWith": lambda s, o: s.endswith(o),
    "replace": lambda s, a, b: s.replace(_text(a), _text(b)),
    "replaceAll": lambda s, a, b: _regex(a).sub(_java_replacement(b), s),
    "replaceFirst": lambda s, a, b: _regex(a).sub(_java_replacement(b), s, count=1),
    "matches": lambda s, a: _regex(a).fullmatch(s) is not None,
    "split": _split,
    "substring": lambda s, a, b=None: s[a:] if b is None else s[a:b],
    "charAt": lambda s, i: s[i],
    "indexOf": lambda s, o: s.find(_text(o)),
    "concat": lambda s, o: s + o,
    "toString": lambda s: _text(s),
}


def _method_call(target, method, args):
    fn = _STRING_METHODS.get(method)
    if fn is None:
        raise DMLRuntimeError(f"map(): the method .{method}() is not supported by dmlpy's Java lambdas")

    def call(env):
        obj = target(env)
        if obj is None:
            raise DMLRuntimeError(f"map(): .{method}() of a null cell (NullPointerException in Java)")
        try:
            return fn(obj if isinstance(obj, str) else _text(obj), *[a(env) for a in args])
        except (IndexError, TypeError, re.error) as e:
            raise DMLRuntimeError(f"map(): .{method}() failed: {e}") from None
    return call


def _parse_number(kind):
    def parse(s):
        try:
            return kind(_text(s).strip()) if kind is float else int(_text(s).strip())
        except ValueError:
            raise DMLRuntimeError(f'map(): NumberFormatException -- For input string: "{s}"') from None
    return parse


_STATIC = {
    "String": {"valueOf": _text},
    "Integer": {"valueOf": _parse_number(int), "parseInt": _parse_number(int)},
    "Long": {"valueOf": _parse_number(int), "parseLong": _parse_number(int)},
    "Double": {"valueOf": _parse_number(float), "parseDouble": _parse_number(float)},
    "Math": {"abs": abs, "min": min, "max": max},
    "UtilFunctions": {"splitRecodeEntry": lambda s: list(_text(s).rpartition("·")[::2]),
                      # the code of the character at a 1-based position, 0 beyond the string
                      "getAsciiAtIdx": lambda s, i: ord(s[i - 1]) if 1 <= i <= len(s) else 0},
}


def compile_lambda(text: str):
    """A Python function of one cell's text (or of a row's texts, for a two-parameter lambda)."""
    if not isinstance(text, str):
        raise DMLRuntimeError("map(): the function must be a Java lambda given as a string")
    if "->" not in text:        # (SystemDS also takes whole-frame UtilFunctions calls here)
        raise DMLRuntimeError(f"map(): dmlpy's map takes a Java lambda (x -> ...), not {text}")
    params, body = _Parser(text).lambda_()
    if len(params) != 1:
        raise DMLRuntimeError(f"map(): lambdas of {len(params)} parameters are not supported by dmlpy: {text}")
    name = params[0]

    def apply(cell: str):
        try:
            result = body({name: cell})
        except (TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError) as e:
            raise DMLRuntimeError(f"map(): the Java lambda {text} fails on the cell '{cell}' ({e})") from None
        return None if result is None else _text(result)
    return apply
