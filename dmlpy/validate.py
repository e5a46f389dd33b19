"""Validation that needs no code: name resolution, argument checks, parfor dependencies.

Everything here runs before the program does and raises DMLValidationError with the
DML position, as SystemDS's validation does.
"""
from __future__ import annotations

from . import ast as A
from .builtins import REGISTRY
from .errors import DMLValidationError, Location
from .types import TYPE_WORDS
from .values import with_article


def _reads(node, out: set) -> None:
    """Names read by an expression (or the index bounds of a target)."""
    if isinstance(node, A.Name):
        out.add(node.name)
    elif isinstance(node, A.Index):
        out.add(node.name)
    if isinstance(node, list):
        for x in node:
            _reads(x, out)
    elif isinstance(node, A.Node):
        for v in vars(node).values():
            if isinstance(v, (A.Node, list)):
                _reads(v, out)


def _whole_assignments(s) -> list[str]:
    """Variables a statement assigns as a whole (not through left indexing)."""
    if isinstance(s, A.Assign) and isinstance(s.target, A.Name):
        return [s.target.name]
    if isinstance(s, A.MultiAssign):
        return [t.name for t in s.targets if isinstance(t, A.Name)]
    return []


def script_builtin_function(script, name: str):
    """The function a script-level builtin's file provides for NAME: m_NAME (matrix), else
    s_NAME (scalar or list arguments, e.g. ffPredict), else f_NAME (frames); None if none.
    (Only sigmoid has two, and dmlpy implements sigmoid natively.)"""
    for prefix in ("m_", "s_", "f_"):
        fi = script.functions.get(prefix + name)
        if fi is not None:
            return fi
    return None


def loop_carried_variables(body, is_matrix=lambda name: False) -> set[str]:
    """Variables a parfor body reads before it assigns them in the same iteration, and assigns:
    their value flows from one iteration to the next (SystemDS rejects such a parfor).
    is_matrix(name): whether a variable may be a matrix (statically)."""
    assigned: set[str] = set()

    def collect_assigned(stmts):
        for s in stmts:
            assigned.update(_whole_assignments(s))
            if isinstance(s, A.If):
                collect_assigned(s.then)
                collect_assigned(s.orelse or [])
            elif isinstance(s, (A.For, A.While)):
                collect_assigned(s.body)
    collect_assigned(body)
    carried: set[str] = set()
    written: set[str] = set()

    def visit(stmts):
        for s in stmts:
            reads: set[str] = set()
            if isinstance(s, A.Assign):
                _reads(s.value, reads)
                # X += e reads X, but for a matrix SystemDS takes it as a result aggregation
                if s.accumulate and not is_matrix(s.target.name):
                    reads.add(s.target.name)
                if isinstance(s.target, A.Index):
                    _reads([s.target.rows, s.target.cols], reads)
            elif isinstance(s, A.MultiAssign):
                _reads(s.call, reads)
            elif isinstance(s, A.CallStmt):
                _reads(s.call, reads)
            elif isinstance(s, A.If):
                _reads(s.cond, reads)
            elif isinstance(s, A.For):
                _reads(s.iterable, reads)
            elif isinstance(s, A.While):
                _reads(s.cond, reads)
            carried.update(n for n in reads if n in assigned and n not in written)
            written.update(_whole_assignments(s))
            if isinstance(s, A.If):
                visit(s.then)
                visit(s.orelse or [])
            elif isinstance(s, (A.For, A.While)):
                if isinstance(s, A.For):
                    written.add(s.var)
                visit(s.body)
    visit(body)
    return carried


class Resolver:
    """Mixin for the compiler: resolve function names and check arguments against declarations.

    ``script_builtin(name)`` (set by the session) returns the loaded unit of a script-level
    builtin, or None.
    """

    script_builtin = None

    def err(self, msg, node, unit) -> DMLValidationError:
        return DMLValidationError(msg, Location(unit.file, node.line, node.col))

    def resolve_function(self, name: str, unit: Unit, node):
        """('user', FunctionInfo) or ('builtin', Builtin); raises for unknown names."""
        if "::" in name:
            ns, fname = name.split("::", 1)
            target = unit.imports.get(ns)
            if target is None:
                raise self.err(f"unknown namespace '{ns}' in call {name}() "
                               f"(no source(...) as {ns} in this file)", node, unit)
            fi = target.functions.get(fname)
            if fi is None:
                raise self.err(f"function '{fname}' is not defined in namespace '{ns}' ({target.file})", node, unit)
            return "user", fi
        fi = unit.functions.get(name)
        if fi is not None:
            return "user", fi
        b = REGISTRY.get(name)
        if b is not None:
            return "builtin", b
        # a script-level builtin (SystemDS implements these in DML as scripts/builtin/NAME.dml)
        script = self.script_builtin(name) if self.script_builtin is not None else None
        fi = script_builtin_function(script, name) if script is not None else None
        if fi is not None:
            return "user", fi
        raise self.err(f"unknown function '{name}'", node, unit)

    def _check_argument_type(self, fname, p: A.Param, a: A.Arg, scope, unit):
        """A matrix/list/frame parameter given a scalar, or a scalar parameter given a matrix, is
        rejected before the program runs (as SystemDS's validation does)."""
        t = self.expr_type(a.value, scope, unit)
        scalar_given = t in ("i", "d", "b", "n", "s")
        if p.type.data_type in ("matrix", "frame", "list") and scalar_given:
            raise self.err(f"{fname}(): parameter {p.name} is a {p.type.data_type}, but "
                           f"{with_article(TYPE_WORDS[t])} scalar is given", a, unit)
        if p.type.data_type == "scalar" and t in ("m", "l", "f"):
            raise self.err(f"{fname}(): parameter {p.name} is {with_article(p.type.value_type)} scalar, "
                           f"but {with_article(TYPE_WORDS[t])} is given", a, unit)
        if p.type.data_type == "matrix" and t in ("l", "f"):      # (SystemDS: "Invalid Datatypes")
            raise self.err(f"{fname}(): parameter {p.name} is a matrix, but {with_article(TYPE_WORDS[t])} "
                           "is given", a, unit)
