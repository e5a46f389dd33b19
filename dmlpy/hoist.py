"""Loop-invariant expressions: which ones the compiler may compute once per loop.

A DML value never changes under a name that is not assigned, and operators and the
builtins listed here are pure, so an expression inside a loop body that reads only
variables the loop never assigns has the same value in every iteration. The compiler
evaluates such an expression the first time it is reached (not before the loop: a loop
that runs zero times, or a branch never taken, must not raise its errors) and reuses
the value afterwards.
"""
from __future__ import annotations

from typing import Callable, Optional

from . import ast as A

# deterministic builtins without side effects (no rand, time, print, read, eval, ...)
PURE_BUILTINS = frozenset({
    "t", "sum", "mean", "avg", "prod", "min", "max", "colSums", "rowSums", "colMeans", "rowMeans",
    "colMaxs", "colMins", "rowMaxs", "rowMins", "colProds", "rowProds", "colVars", "rowVars",
    "colSds", "rowSds", "var", "sd", "nrow", "ncol", "length", "sqrt", "exp", "log", "abs", "sign",
    "round", "floor", "ceil", "ceiling", "sin", "cos", "tan", "tanh", "sigmoid", "matrix", "diag",
    "seq", "rev", "cumsum", "cumprod", "as.scalar", "as.matrix", "as.double", "as.integer",
    "cbind", "rbind", "trace", "solve", "inv", "outer", "replace", "ifelse",
})

_LEAVES = (A.IntLit, A.DoubleLit, A.StrLit, A.BoolLit, A.CmdArg)


def assigned_in(stmts) -> set[str]:
    """Every variable a block assigns, as a whole or through left indexing, at any depth."""
    out: set[str] = set()

    def visit(block):
        for s in block:
            if isinstance(s, A.Assign):
                out.add(s.target.name)
            elif isinstance(s, A.MultiAssign):
                out.update(t.name for t in s.targets)
            elif isinstance(s, A.If):
                visit(s.then)
                visit(s.orelse or [])
            elif isinstance(s, A.For):
                out.add(s.var)
                visit(s.body)
            elif isinstance(s, A.While):
                visit(s.body)
    visit(stmts)
    return out


class PureReads:
    """Per expression node: the variables it reads if it has no side effects, else None.
    Memoized, because the compiler asks for every node of a nested expression."""

    def __init__(self):
        self.memo: dict[int, Optional[frozenset]] = {}

    def __call__(self, e, is_pure_call: Callable[[A.Call], bool]) -> Optional[frozenset]:
        """is_pure_call: whether a call has no side effects (the node's file decides what
        a name calls, so the same predicate serves a whole expression)."""
        key = id(e)
        if key in self.memo:
            return self.memo[key]
        r = self.memo[key] = self._reads(e, is_pure_call)
        return r

    def _reads(self, e, is_pure_call):
        t = type(e)
        if e is None or t in _LEAVES:
            return _NOTHING
        if t is A.Name:
            return frozenset((e.name,))
        if t is A.Unary:
            parts = [e.operand]
        elif t is A.Binary:
            parts = [e.left, e.right]
        elif t is A.Index:
            parts = [b for r in (e.rows, e.cols) if r is not None for b in (r.lower, r.upper)]
        elif t is A.Call:
            if not is_pure_call(e):
                return None
            parts = [a.value for a in e.args]
        else:
            return None
        names = {e.name} if t is A.Index else set()
        for p in parts:
            f = self(p, is_pure_call)
            if f is None:
                return None
            names |= f
        return frozenset(names)


_NOTHING: frozenset = frozenset()
