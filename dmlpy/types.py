"""Static types of DML expressions, inferred before code generation.

The lattice: 'i' int, 'd' double, 'b' boolean, 'n' some numeric scalar, 's' string,
'm' matrix, 'l' list, 'f' frame, '?' unknown, None not yet known. Inference is
flow-insensitive per scope (a function body or the main program): a variable's type
joins the types of all its assignments, iterated to a fixpoint. The compiler uses the
result to emit Python's own operators for numeric scalars and to check calls.
"""
from __future__ import annotations

from typing import Optional

from . import ast as A
from .errors import DMLValidationError

# 'i' int, 'd' double, 'b' boolean, 'n' some numeric scalar, 's' string,
# 'm' matrix, 'l' list, 'f' frame, '?' unknown, None not yet known.
NUMERIC = {"i", "d", "b", "n"}


def join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "n"
    return "?"


def type_of_spec(spec: A.TypeSpec) -> str:
    if spec.data_type == "scalar":
        return {"int": "i", "double": "d", "boolean": "b", "string": "s"}.get(spec.value_type, "?")
    return {"matrix": "m", "list": "l", "frame": "f"}.get(spec.data_type, "?")


# Result types of builtins the compiler can rely on (others are '?').
_BUILTIN_TYPES = {
    "nrow": "i", "ncol": "i", "length": "i", "as.integer": "i", "time": "i",
    "sum": "d", "mean": "d", "avg": "d", "var": "d", "sd": "d", "prod": "d", "as.double": "d",
    "det": "d", "trace": "d", "median": "d", "moment": "d", "cov": "d",
    "as.logical": "b", "as.boolean": "b", "exists": "b",
    "toString": "s",
    "matrix": "m", "seq": "m", "rand": "m", "Rand": "m", "t": "m", "as.matrix": "m", "rowSums": "m", "colSums": "m",
    "rowMeans": "m", "colMeans": "m", "rowMaxs": "m", "colMaxs": "m", "rowMins": "m", "colMins": "m",
    "cbind": "m", "rbind": "m", "diag": "m", "exp": "?", "list": "l", "append": "?",
}

# Names SystemDS reads as double constants unless a variable of that name exists.
CONSTANTS = {"NaN": "_NAN", "Inf": "_INF", "pi": "_PI"}
TYPE_WORDS = {"i": "int", "d": "double", "b": "boolean", "n": "number", "s": "string", "m": "matrix",
              "l": "list", "f": "frame"}


class Scope:
    """Variables of one function body or of the main program, with static types."""

    def __init__(self, kind: str, params: dict[str, str] | None = None, preset: dict[str, str] | None = None):
        self.kind = kind
        self.fixed = dict(params or {})         # parameter types, from declarations
        self.preset = dict(preset or {})        # variables that exist before the chunk runs (sessions)
        self.types: dict[str, Optional[str]] = {}
        self.assigned: set[str] = set()
        self.expr_types: Optional[dict] = None      # memo of expression types once inference is done

    def type(self, name):
        if name in self.fixed:
            return join(self.fixed[name], self.types.get(name))
        t = self.types.get(name)
        if name in self.preset:
            return join(self.preset[name], t)
        return t

    def known(self, name) -> bool:
        return name in self.fixed or name in self.assigned or name in self.preset


class TypeInference:
    """Mixin for the compiler: static types of expressions and of each scope's variables."""
    def infer_scope(self, stmts, scope: Scope, unit: Unit):
        """Flow-insensitive fixpoint over all assignments of a scope.

        Afterwards the scope's types are final, so expression types are memoized in
        ``scope.expr_types`` (code generation asks for the same subexpressions repeatedly)."""
        scope.expr_types = None
        for _ in range(20):
            before = dict(scope.types)
            self._infer_block(stmts, scope, unit)
            if scope.types == before:
                break
        scope.expr_types = {}

    def _assign_type(self, scope, name, t):
        scope.assigned.add(name)
        scope.types[name] = join(scope.types.get(name), t)

    def _infer_block(self, stmts, scope, unit):
        for s in stmts:
            if isinstance(s, A.Assign):
                t = self.expr_type(s.value, scope, unit)
                if isinstance(s.target, A.Name):
                    if s.accumulate:
                        t = self._binary_type("+", scope.type(s.target.name), t)
                    self._assign_type(scope, s.target.name, t)
                else:
                    self._assign_type(scope, s.target.name, scope.type(s.target.name) or "?")
            elif isinstance(s, A.MultiAssign):
                rtypes = self._call_return_types(s.call, scope, unit)
                for i, tg in enumerate(s.targets):
                    t = rtypes[i] if rtypes and i < len(rtypes) else "?"
                    self._assign_type(scope, tg.name, t if isinstance(tg, A.Name) else "?")
            elif isinstance(s, A.If):
                self._infer_block(s.then, scope, unit)
                if s.orelse:
                    self._infer_block(s.orelse, scope, unit)
            elif isinstance(s, A.For):
                it = s.iterable
                ts = [self.expr_type(e, scope, unit) for e in (it.start, it.stop, it.step) if e is not None]
                self._assign_type(scope, s.var, "n" if all(t in NUMERIC or t is None for t in ts) else "?")
                self._infer_block(s.body, scope, unit)
            elif isinstance(s, A.While):
                self._infer_block(s.body, scope, unit)

    def _call_return_types(self, call: A.Call, scope, unit):
        try:
            kind, target = self.resolve_function(call.name, unit, call)
        except DMLValidationError:
            return None
        if kind == "user":
            return [type_of_spec(p.type) for p in target.node.returns]
        return None

    def _binary_type(self, op, a, b):
        if a is None:
            return b if op in ("+", "-", "*") else None
        if b is None:
            return a if op in ("+", "-", "*") else None
        if op in ("<", "<=", ">", ">=", "==", "!=", "&", "&&", "|", "||"):
            if a == "m" or b == "m":
                return "m"
            if (a in NUMERIC or a == "s") and (b in NUMERIC or b == "s"):
                return "b"
            return "?"
        if a == "m" or b == "m":
            return "m" if (a in NUMERIC or a == "m") and (b in NUMERIC or b == "m") else "?"
        if op == "+" and (a == "s" or b == "s"):
            return "s"
        if a == "b" and b == "b":       # arithmetic between two booleans gives a double
            return "d"
        if a in NUMERIC and b in NUMERIC:
            if op in ("/", "^"):
                return "d"
            if a == "d" or b == "d":
                return "d"
            if a == "i" and b == "i":
                return "i"
            return "n"
        return "?"

    def expr_type(self, e, scope, unit):
        memo = scope.expr_types
        if memo is None:
            return self._expr_type(e, scope, unit)
        key = id(e)
        r = memo.get(key, memo)
        if r is memo:
            r = memo[key] = self._expr_type(e, scope, unit)
        return r

    def _expr_type(self, e, scope, unit):
        t = type(e)
        if t is A.IntLit:
            return "i"
        if t is A.DoubleLit:
            return "d"
        if t is A.StrLit:
            return "s"
        if t is A.BoolLit:
            return "b"
        if t is A.Name:
            if e.name in CONSTANTS:
                return "d"
            return scope.type(e.name)
        if t is A.CmdArg:
            v = self.cmd_args.get(e.name)
            return {int: "i", float: "d", bool: "b", str: "s"}.get(type(v), "?")
        if t is A.Unary:
            ot = self.expr_type(e.operand, scope, unit)
            if e.op == "!":
                return "m" if ot == "m" else ("b" if ot in NUMERIC else "?")
            if ot == "b":
                return "i"
            return ot
        if t is A.Binary:
            if e.op == "%*%":
                return "m"
            return self._binary_type(e.op, self.expr_type(e.left, scope, unit), self.expr_type(e.right, scope, unit))
        if t is A.Index:
            base = scope.type(e.name)
            return "m" if base == "m" else "?"
        if t is A.ListLit:
            return "l"
        if t is A.Call:
            if e.name == "ifdef" and len(e.args) == 2 and isinstance(e.args[0].value, A.CmdArg):
                if e.args[0].value.name in self.cmd_args:
                    return self.expr_type(e.args[0].value, scope, unit)
                return self.expr_type(e.args[1].value, scope, unit)
            try:
                kind, target = self.resolve_function(e.name, unit, e)
            except DMLValidationError:
                return "?"
            if kind == "user":
                rets = target.node.returns
                return type_of_spec(rets[0].type) if rets else "?"
            if e.name in ("as.scalar", "castAsScalar") and len(e.args) == 1:
                # a cell of a matrix is a double (of a list: whatever it holds)
                return "d" if self.expr_type(e.args[0].value, scope, unit) == "m" else "?"
            return _BUILTIN_TYPES.get(e.name, "?")
        return "?"
