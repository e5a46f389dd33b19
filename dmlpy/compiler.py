"""AST -> Python source, compiled once and then run.

Each DML function becomes a Python function and the main program a function
``__main__(_env)``; DML variables become Python locals (``v_<name>``), which makes
loops run at Python speed. Operators call the helpers in ``ops`` unless static
typing has proven both operands numeric scalars, in which case Python's own
operator is emitted. Every emitted line is mapped back to its DML source
position so that runtime errors report file:line:column and the DML call stack.

Validation happens while compiling, before anything runs: name resolution and
argument checks come from ``validate``, static types from ``types``; undefined
variables, arity and multi-assignment checks are made here (DMLValidationError).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from . import ast as A
from .builtins import bind_call
from .errors import DMLValidationError, Location
from .hoist import PURE_BUILTINS, PureReads, assigned_in
from .types import CONSTANTS, NUMERIC, TYPE_WORDS, Scope, TypeInference, type_of_spec
from .validate import Resolver, loop_carried_variables

_PY_OPS = {"+": "+", "-": "-", "*": "*", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}
_HELPERS = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "^": "_pow", "%%": "_mod", "%/%": "_intdiv",
            "%*%": "_matmul", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge", "==": "_eq", "!=": "_ne",
            "&": "_and", "&&": "_and", "|": "_or", "||": "_or"}


# Scalar parameters and results are cast to their declared value type, as SystemDS does.
_SCALAR_CASTS = {("scalar", "double"): "_cast_double", ("scalar", "int"): "_cast_int",
                 ("scalar", "boolean"): "_cast_boolean", ("scalar", "string"): "_cast_string"}
# ... and where a function is not one statement block, arguments only between int and double
# (a string given for a number or boolean is refused: see interpreter._no_string)
_NUMBER_CASTS = {("scalar", "double"): "_number_to_double", ("scalar", "int"): "_number_to_int",
                 ("scalar", "boolean"): "_boolean_as_given"}
_NUMBER = {"i", "d", "n"}
_LOOP_OPTIONS = {"check", "par", "mode", "opt", "log", "taskpartitioner", "tasksize", "datapartitioner",
                 "resultmerge", "profile"}
_ARITH = {"+", "-", "*", "/", "^", "%%", "%/%"}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
# static types by data type (unknown ones, "?" and "n", are not listed)
_DATA_KIND = {"i": "scalar", "d": "scalar", "b": "scalar", "s": "scalar", "m": "matrix", "l": "list"}


@lru_cache(maxsize=None)
def mangle(name: str) -> str:
    return "v_" + name.replace(".", "_dot_")


def unmangle(py: str) -> str:
    return py[2:].replace("_dot_", ".")


def py_literal(v) -> str:
    if type(v) is float:
        if math.isnan(v):
            return "_NAN"
        if math.isinf(v):
            return "_INF" if v > 0 else "(-_INF)"
    return repr(v)


# ------------------------------------------------------------------ linking data

@dataclass
class FunctionInfo:
    node: A.FunctionDef
    unit: "Unit"
    py_name: str


@dataclass
class Unit:
    """One DML file: its functions and the namespaces it imports."""
    uid: int
    file: str
    program: A.Program
    functions: dict = field(default_factory=dict)     # name -> FunctionInfo
    imports: dict = field(default_factory=dict)       # namespace -> Unit
    script_builtin: bool = False                      # a script-level builtin (scripts/builtin/NAME.dml)


class LineTable:
    """Python line number -> DML (file, line, col) for one compiled chunk, and within a line the
    Python column (UTF-8 byte offset) where the code of each DML operation or call starts."""

    def __init__(self):
        self.lines: list[Optional[tuple]] = [None]      # 1-based
        self.spans: dict[int, list[tuple[int, tuple]]] = {}
        self.func_names: dict[str, str] = {}            # python function name -> DML name
        self.node_locs: list[tuple] = []                # marker id -> DML (file, line, col)

    def locate(self, lineno: int, col: Optional[int]):
        """The DML position of the operation at a Python line and column (else the statement's)."""
        if col is not None:
            best = None
            for start, loc in self.spans.get(lineno, ()):
                if start <= col and (best is None or start >= best[0]):
                    best = (start, loc)
            if best is not None:
                return best[1]
        return self.lines[lineno] if 0 < lineno < len(self.lines) else None


_MARK = re.compile(r"\x00(\d+)\x01")


# ------------------------------------------------------------------- the emitter

@dataclass
class _Loop:
    """A loop being compiled: what its body assigns, and the hoisted values reset before it."""
    assigned: set
    line: int                      # index in the emitter's output of the line before the header
    indent: int
    hoisted: list = field(default_factory=list)


class _Emitter:
    def __init__(self, table: LineTable):
        self.out: list[str] = []
        self.table = table
        self.indent = 0
        self.loc = None

    def line(self, text: str, loc=None):
        text = "    " * self.indent + text
        if "\x00" in text:
            # split into code, marker id, code, marker id, ...: each marker becomes a span that
            # starts at the (UTF-8 byte) column where the marked code starts once markers are gone
            parts = _MARK.split(text)
            code, col, spans = [parts[0]], len(parts[0].encode("utf-8")), []
            for i in range(1, len(parts), 2):
                spans.append((col, self.table.node_locs[int(parts[i])]))
                code.append(parts[i + 1])
                col += len(parts[i + 1].encode("utf-8"))
            text = "".join(code)
            self.table.spans[len(self.table.lines)] = spans
        self.out.append(text)
        self.table.lines.append(loc if loc is not None else self.loc)


class Compiler(Resolver, TypeInference):
    """Compiles linked units to Python source. One instance per compilation request."""

    def __init__(self, cmd_args: dict, fast_ops: bool = True, table: Optional[LineTable] = None):
        self.cmd_args = cmd_args
        self.fast = fast_ops
        self.tmp = 0
        self.table = table
        self.loops: list[_Loop] = []        # enclosing loops, outermost first (hoisting)
        self.hoisting = False               # compiling an expression that is being hoisted
        self.pure_reads = PureReads()

    def mark(self, node, unit, code: str) -> str:
        """Tag the code of an operation so that a runtime error points at its DML position."""
        if self.table is None:
            return code
        self.table.node_locs.append((unit.file, node.line, node.col))
        return f"\x00{len(self.table.node_locs) - 1}\x01{code}"

    # --------------------------------------------------------- expressions
    def expr(self, e, scope: Scope, unit: Unit) -> str:
        if type(e) in (A.Binary, A.Unary, A.Index, A.Call):
            if self.loops and not self.hoisting:
                hoisted = self.hoist(e, scope, unit)
                if hoisted is not None:
                    return hoisted
            return self.mark(e, unit, self._expr(e, scope, unit))
        return self._expr(e, scope, unit)

    def hoist(self, e, scope: Scope, unit: Unit) -> Optional[str]:
        """Code that computes a loop-invariant expression once, when it is first reached, and
        reuses its value in later iterations; None where that is not possible or not worth it."""
        # worth it for matrix results and for calls; scalar arithmetic is cheaper than the check
        if type(e) is not A.Call and self.expr_type(e, scope, unit) != "m":
            return None
        names = self.pure_reads(e, lambda c: self._is_pure_builtin(c, unit))
        if names is None:
            return None
        # the outermost loop that assigns none of the names read (inner loops assign a subset)
        loop = next((lp for lp in self.loops if not names & lp.assigned), None)
        if loop is None:
            return None
        self.hoisting = True
        try:
            code = self.mark(e, unit, self._expr(e, scope, unit))
        finally:
            self.hoisting = False
        self.tmp += 1
        h = f"_h{self.tmp}"
        loop.hoisted.append(h)
        return f"({h} if {h} is not None else ({h} := {code}))"

    def _is_pure_builtin(self, c: A.Call, unit: Unit) -> bool:
        if c.name not in PURE_BUILTINS:
            return False
        try:        # (a DML function of that name hides the builtin)
            return self.resolve_function(c.name, unit, c)[0] == "builtin"
        except DMLValidationError:       # the normal compilation reports it
            return False

    def enter_loop(self, body, em: "_Emitter", loop_var: Optional[str] = None) -> "_Loop":
        """Before a loop's header: a line that later resets the values hoisted to this loop."""
        assigned = assigned_in(body)
        if loop_var is not None:
            assigned.add(loop_var)
        loop = _Loop(assigned, len(em.out), em.indent)
        em.line("pass")
        return loop

    def leave_loop(self, loop: "_Loop", em: "_Emitter") -> None:
        if loop.hoisted:
            em.out[loop.line] = "    " * loop.indent + " = ".join(loop.hoisted) + " = None"

    def _expr(self, e, scope: Scope, unit: Unit) -> str:
        t = type(e)
        if t is A.IntLit or t is A.DoubleLit or t is A.StrLit or t is A.BoolLit:
            return py_literal(e.value)
        if t is A.Name:
            if e.name in CONSTANTS:         # a constant wins even over a parameter or loop variable
                return CONSTANTS[e.name]
            if not scope.known(e.name):
                raise self.err(f"undefined variable '{e.name}'", e, unit)
            return mangle(e.name)
        if t is A.CmdArg:
            if e.name not in self.cmd_args:
                raise self.err(f"command-line parameter ${e.name} is not given "
                               f"(pass it with -nvargs {e.name}=... or use ifdef(${e.name}, default))", e, unit)
            return py_literal(self.cmd_args[e.name])
        if t is A.Unary:
            x = self.expr(e.operand, scope, unit)
            ot = self.expr_type(e.operand, scope, unit)
            if e.op == "-" and ot == "b":
                raise self.err("unary minus is not defined for a boolean", e, unit)
            if e.op == "+":
                return x
            if e.op == "-":
                return f"(-{x})" if self.fast and ot in ("i", "d", "n") else f"_neg({x})"
            return f"(not {x})" if self.fast and ot == "b" else f"_not({x})"
        if t is A.Binary:
            negated = self._negated_comparison(e)
            if negated is not None:
                return self._expr(negated, scope, unit)
            a = self.expr(e.left, scope, unit)
            b = self.expr(e.right, scope, unit)
            ta, tb = self.expr_type(e.left, scope, unit), self.expr_type(e.right, scope, unit)
            if e.op == "&&":
                raise self.err("conditional AND (&&) is not supported by SystemDS: use &", e, unit)
            if e.op in _ARITH and (ta == "b" or tb == "b") and not (e.op == "+" and "s" in (ta, tb)):
                if ta == "b" and tb == "b":     # SystemDS computes between two booleans, as doubles
                    return f"{_HELPERS[e.op]}(float({a}), float({b}))"
                raise self.err(f"operator {e.op} is not defined for boolean operands "
                               f"({TYPE_WORDS.get(ta, 'unknown')} {e.op} {TYPE_WORDS.get(tb, 'unknown')})",
                               e, unit)
            if self.fast and e.op in _PY_OPS and ta in NUMERIC and tb in NUMERIC:
                return f"({a} {_PY_OPS[e.op]} {b})"
            # matrix with a number: the array module's operator has DML's semantics already
            if self.fast and e.op in ("+", "-", "*", "/") and (
                    (ta == "m" and tb in _NUMBER) or (tb == "m" and ta in _NUMBER)):
                return f"({a} {e.op} {b})"
            return f"{_HELPERS[e.op]}({a}, {b})"
        if t is A.Index:
            if not scope.known(e.name):
                raise self.err(f"undefined variable '{e.name}'", e, unit)
            return f"_index({mangle(e.name)}, {self.index_args(e, scope, unit)}, {e.name!r})"
        if t is A.ListLit:
            return "_DMLList([" + ", ".join(self.expr(x, scope, unit) for x in e.items) + "])"
        if t is A.Call:
            return self.call(e, scope, unit, nret=1)
        raise self.err(f"unsupported expression {t.__name__}", e, unit)

    @staticmethod
    def _negated_comparison(e: A.Binary):
        """(a < b) == 0 as a >= b, and so on: SystemDS rewrites it so, which differs for NaN
        (NaN < 1 is FALSE, so the written form is TRUE and the rewritten one FALSE; upstream
        imputeByMode depends on it). Only this form: 0 == (a < b) and !(a < b) stay as written.
        The node is made once and kept (the compiler's memos key nodes by identity)."""
        if e.op != "==" or type(e.left) is not A.Binary or e.left.op not in _NEGATED:
            return None
        r = e.right
        if not ((type(r) is A.IntLit or type(r) is A.DoubleLit) and r.value == 0):
            return None
        node = e.__dict__.get("_negated")
        if node is None:
            c = e.left
            node = e.__dict__["_negated"] = A.Binary(c.line, c.col, _NEGATED[c.op], c.left, c.right)
        return node

    def index_args(self, e: A.Index, scope, unit) -> str:
        def dim(r):
            if r is None:
                return "None, None"
            lo = self.expr(r.lower, scope, unit)
            hi = self.expr(r.upper, scope, unit) if r.is_range else "_SAME"
            return f"{lo}, {hi}"
        return f"{dim(e.rows)}, {dim(e.cols)}"

    def call(self, c: A.Call, scope, unit, nret: int) -> str:
        name = c.name
        if name == "ifdef":
            if not c.whole_rhs:
                raise self.err("ifdef($name, default) may only be the whole right-hand side of an assignment "
                               "(x = ifdef($name, default)), as in SystemDS", c, unit)
            if len(c.args) != 2 or not isinstance(c.args[0].value, A.CmdArg):
                raise self.err("ifdef() takes a $parameter and a default value: ifdef($name, default)", c, unit)
            p = c.args[0].value.name
            if p in self.cmd_args:
                return py_literal(self.cmd_args[p])
            return self.expr(c.args[1].value, scope, unit)
        if (name == "unique" and len(c.args) == 1 and c.args[0].name is None and type(c.args[0].value) is A.Call
                and c.args[0].value.name in ("rbind", "rev") and self.resolve_function(name, unit, c)[0] == "builtin"
                and self.resolve_function(c.args[0].value.name, unit, c.args[0].value)[0] == "builtin"):
            # SystemDS rewrites these two (measured): unique(rbind(...)) comes in first-occurrence
            # order (other unique() calls in hash order; union() is exactly this call), and
            # unique(rev(X)) is unique(X)
            inner = c.args[0].value
            if inner.name == "rbind":
                return f"_unique_first_occurrence({self.expr(inner, scope, unit)})"
            if len(inner.args) == 1 and inner.args[0].name is None:
                return f"{self.builtin_ref('unique')}({self.expr(inner.args[0].value, scope, unit)})"
        if name == "exists" and len(c.args) == 1:
            # TRUE for a defined matrix/list/frame variable, named directly or by a string literal
            # (SystemDS constant-propagates scalars away, so a scalar variable never "exists").
            arg = c.args[0].value
            if isinstance(arg, A.Name):
                return f"_exists({mangle(arg.name)!r}, locals())"
            if isinstance(arg, A.StrLit):
                return f"_exists({mangle(arg.value)!r}, locals())"
            self.expr(arg, scope, unit)
            return "False"
        kind, target = self.resolve_function(name, unit, c)
        positional = [a for a in c.args if a.name is None]
        named = [a for a in c.args if a.name is not None]
        if any(a.name is None for a in c.args[len(positional):]):
            raise self.err(f"{name}(): a positional argument follows a named one", c, unit)
        pos_code = [self.expr(a.value, scope, unit) for a in positional]
        if kind == "builtin":
            b = target
            if b.returns == 0 and nret >= 1:
                raise self.err(f"{name}() is a statement and returns nothing: it cannot be used as a value", c, unit)
            if b.returns != nret and not (nret == 0 or (b.returns == 1 and nret == 1)):
                if nret > 1:
                    raise self.err(f"{name}() returns {b.returns} value(s), but {nret} targets are assigned", c, unit)
                if b.returns > 1:
                    raise self.err(f"{name}() returns {b.returns} values: assign them with [a, b, ...] = {name}(...)", c, unit)
            py_names = bind_call(b, len(positional), [a.name for a in named], Location(unit.file, c.line, c.col))
            parts = (["_ctx"] if b.wants_ctx else []) + pos_code
            parts += [f"{pn}={self.expr(a.value, scope, unit)}" for pn, a in zip(py_names, named)]
            return f"{self.builtin_ref(name)}({', '.join(parts)})"
        fi: FunctionInfo = target
        fd = fi.node
        if fd.external:
            raise self.err(f"{name}() is an externalFunction: dmlpy does not support external functions", c, unit)
        nouts = len(fd.returns)
        first_only = False
        if nret == 1 and nouts != 1:
            if nouts == 0:
                raise self.err(f"{name}() returns nothing: it cannot be used as a value", c, unit)
            first_only = True       # as in SystemDS, a function with several results gives its first
        if nret > 1 and nouts != nret:
            raise self.err(f"{name}() returns {nouts} value(s), but {nret} targets are assigned", c, unit)
        pnames = [p.name for p in fd.params]
        if positional and named:
            raise self.err(f"{name}(): a call of a DML function takes either all arguments by name or "
                           "all by position, not a mix (as SystemDS requires)", c, unit)
        for p, a in list(zip(fd.params, positional)) + [(next((q for q in fd.params if q.name == a.name), None), a)
                                                        for a in named]:
            if p is not None:
                self._check_argument_type(name, p, a, scope, unit)
        if len(positional) > len(pnames):
            raise self.err(f"{name}() takes {len(pnames)} argument(s), {len(positional)} given", c, unit)
        given = set(pnames[:len(positional)])
        kw = []
        for a in named:
            if a.name not in pnames:
                raise self.err(f"{name}() has no parameter '{a.name}' (parameters: {', '.join(pnames) or 'none'})",
                               a, unit)
            if a.name in given:
                raise self.err(f"{name}(): argument '{a.name}' given twice", a, unit)
            given.add(a.name)
            kw.append(f"{mangle(a.name)}={self.expr(a.value, scope, unit)}")
        missing = [p.name for p in fd.params if p.name not in given and p.default is None]
        if missing:
            raise self.err(f"{name}(): missing argument(s) {', '.join(missing)}", c, unit)
        code = f"{fi.py_name}({', '.join(pos_code + kw)})"
        return f"{code}[0]" if first_only else code

    def builtin_ref(self, name: str) -> str:
        return "_b_" + name.replace(".", "_dot_")

    # ---------------------------------------------------------- statements
    def block(self, stmts, scope, unit, em: _Emitter):
        n = len(em.out)
        for s in stmts:
            self.stmt(s, scope, unit, em)
        if len(em.out) == n:
            em.line("pass")

    def stmt(self, s, scope, unit, em: _Emitter):
        loc = (unit.file, s.line, s.col)
        em.loc = loc
        t = type(s)
        if t is A.Assign:
            if s.accumulate and not scope.known(s.target.name):
                raise self.err(f"'+=' on the undefined variable '{s.target.name}'", s, unit)
            value = s.right_hand_side()
            if isinstance(value, A.Call) and value.name == "ifdef":
                value.whole_rhs = True
            self._assign_target(s.target, self.expr(value, scope, unit), scope, unit, em, loc)
        elif t is A.MultiAssign:
            kind, target = self.resolve_function(s.call.name, unit, s.call)
            # a DML function binds its first results to the targets and leaves the rest alone, as
            # SystemDS does; a builtin must return exactly as many values as there are targets
            nouts = len(target.node.returns) if kind == "user" and target.node.returns else len(s.targets)
            self.tmp += 1
            tmp = f"_t{self.tmp}"
            em.line(f"{tmp} = {self.call(s.call, scope, unit, nret=nouts)}", loc)
            for i, tg in enumerate(s.targets[:nouts]):
                self._assign_target(tg, tmp if nouts == 1 else f"{tmp}[{i}]", scope, unit, em, loc)
        elif t is A.CallStmt:
            kind, target = self.resolve_function(s.call.name, unit, s.call)
            if kind == "user" and target.node.returns and not target.unit.script_builtin:
                raise self.err(f"{s.call.name}() returns {len(target.node.returns)} value(s): assign "
                               + ("it" if len(target.node.returns) == 1 else "them")
                               + " (SystemDS does not allow a call with results as a statement)", s, unit)
            em.line(self.call(s.call, scope, unit, nret=0), loc)
        elif t is A.If:
            em.line(f"if {self._condition(s.cond, scope, unit)}:", loc)
            em.indent += 1
            self.block(s.then, scope, unit, em)
            em.indent -= 1
            if s.orelse:
                em.line("else:", loc)
                em.indent += 1
                self.block(s.orelse, scope, unit, em)
                em.indent -= 1
        elif t is A.For:
            loop = self.enter_loop(s.body, em, s.var) if self.fast else None
            it = s.iterable
            args = [self.expr(it.start, scope, unit), self.expr(it.stop, scope, unit)]
            if it.step is not None:
                args.append(self.expr(it.step, scope, unit))
            for opt in s.options:
                if opt.name not in _LOOP_OPTIONS:
                    raise self.err(f"unknown {'parfor' if s.parfor else 'for'} option '{opt.name}' "
                                   f"(options: {', '.join(sorted(_LOOP_OPTIONS))})", opt, unit)
            if s.parfor and not any(o.name == "check" and isinstance(o.value, A.IntLit) and o.value.value == 0
                                    for o in s.options):
                # (a variable whose static type is unknown may be a matrix: its += is then an
                # aggregation, which SystemDS, knowing the type, accepts)
                carried = loop_carried_variables(s.body, lambda name: scope.type(name) in ("m", "?"))
                if carried:
                    raise self.err("parfor loop dependency analysis: inter-iteration (loop-carried) dependencies "
                                   f"for variable(s) {', '.join(sorted(carried))}; make the iterations independent "
                                   "or disable the check with parfor(..., check=0)", s, unit)
            fn = "_colon_range" if it.step is None and not it.is_seq else "_loop_range"
            em.line(f"for {mangle(s.var)} in {fn}({', '.join(args)}):", loc)
            self.loop_body(loop, s.body, scope, unit, em)
        elif t is A.While:
            loop = self.enter_loop(s.body, em) if self.fast else None
            if loop is not None:
                self.loops.append(loop)      # the condition is evaluated in every iteration too
            em.line(f"while {self._condition(s.cond, scope, unit)}:", loc)
            if loop is not None:
                self.loops.pop()
            self.loop_body(loop, s.body, scope, unit, em)
        elif t is A.Source or t is A.Setwd:
            pass        # resolved when the program was linked
        else:
            raise self.err(f"unsupported statement {t.__name__}", s, unit)

    def loop_body(self, loop, body, scope, unit, em: _Emitter):
        if loop is not None:
            self.loops.append(loop)
        em.indent += 1
        try:
            self.block(body, scope, unit, em)
        finally:
            em.indent -= 1
            if loop is not None:
                self.loops.pop()
                self.leave_loop(loop, em)

    def _condition(self, cond, scope, unit) -> str:
        """The Python test of an if/while condition: direct for a known boolean, else via _truth."""
        code = self.expr(cond, scope, unit)
        return code if self.fast and self.expr_type(cond, scope, unit) == "b" else f"_truth({code})"

    def _assign_target(self, tg, code, scope, unit, em, loc):
        if tg.name in CONSTANTS:
            raise self.err(f"cannot assign a value to the builtin constant {tg.name}", tg, unit)
        if isinstance(tg, A.Name):
            em.line(f"{mangle(tg.name)} = {code}", loc)
        else:
            if not scope.known(tg.name):
                raise self.err(f"left indexing into undefined variable '{tg.name}'", tg, unit)
            v = mangle(tg.name)
            em.line(f"{v} = _set_index({v}, {self.index_args(tg, scope, unit)}, {code}, {tg.name!r})", loc)

    # ----------------------------------------------------------- top level
    def function(self, fi: FunctionInfo, em: _Emitter):
        fd, unit = fi.node, fi.unit
        # SystemDS casts scalar arguments and results to their declared value types where the
        # body is one statement block (no if/for/while, no call of a DML function: such a
        # function it inlines). Other functions convert arguments between int and double only
        # and return their values as they are (measured: a double result holding 3 prints 3, a
        # boolean parameter given 1 prints 1, when the body has an if).
        cast_results = self._single_block(fd.body, unit)
        param_casts = _SCALAR_CASTS if cast_results else _NUMBER_CASTS
        params = {p.name: type_of_spec(p.type) for p in fd.params}
        scope = Scope("function", params)
        self.infer_scope(fd.body, scope, unit)
        loc = (unit.file, fd.line, fd.col)
        # every Python parameter defaults to _MISSING: calls were checked for missing arguments when
        # they were compiled, and DML defaults are evaluated in the function body (they may be any
        # expression), so a default may precede a parameter without one
        em.line(f"def {fi.py_name}({', '.join(self._py_signature(fd))}):", loc)
        em.indent += 1
        for p in fd.params:
            if p.default is not None:
                em.loc = (unit.file, p.line, p.col)
                em.line(f"if {mangle(p.name)} is _MISSING: {mangle(p.name)} = {self.expr(p.default, scope, unit)}")
            cast = param_casts.get((p.type.data_type, p.type.value_type))
            if p.type.data_type == "matrix":    # (an argument whose type is known only at run time)
                cast = "_matrix_param"
            if cast:
                em.line(f"{mangle(p.name)} = {cast}({mangle(p.name)})", (unit.file, p.line, p.col))
        self.block(fd.body, scope, unit, em)
        em.loc = loc
        rets = [f"{_SCALAR_CASTS[(r.type.data_type, r.type.value_type)]}({mangle(r.name)})"
                if cast_results and (r.type.data_type, r.type.value_type) in _SCALAR_CASTS else mangle(r.name)
                for r in fd.returns]
        for r in fd.returns:
            if not scope.known(r.name):
                raise self.err(f"function {fd.name}() never assigns its output '{r.name}'", r, unit)
            if type_of_spec(r.type) == "i" and scope.type(r.name) == "d":
                raise self.err(f"function {fd.name}(): output '{r.name}' is declared int but holds a double "
                               "(a double is not cast to int implicitly)", r, unit)
            declared, held = _DATA_KIND.get(type_of_spec(r.type)), _DATA_KIND.get(scope.type(r.name))
            if declared and held and declared != held:      # (SystemDS checks this when it compiles)
                raise self.err(f"function {fd.name}(): output '{r.name}' is declared a {declared} "
                               f"but holds a {held}", r, unit)
        if not rets:
            em.line("return None", loc)
        elif len(rets) == 1:
            em.line(f"return {rets[0]}", loc)
        else:
            em.line(f"return ({', '.join(rets)})", loc)
        em.indent -= 1
        em.table.func_names[fi.py_name] = fd.name if unit.uid == 0 else f"{fd.name} ({unit.file})"

    def _single_block(self, body, unit: Unit) -> bool:
        """Whether a function body is one SystemDS statement block: no control flow and no call
        of a DML function (each such call starts a block of its own)."""
        def simple(x) -> bool:
            if isinstance(x, (A.If, A.For, A.While)):
                return False
            if isinstance(x, A.Call):
                try:
                    if self.resolve_function(x.name, unit, x)[0] == "user":
                        return False
                except DMLValidationError:
                    pass                    # reported where the call is compiled
            if isinstance(x, list):
                return all(simple(y) for y in x)
            if isinstance(x, A.Node):
                return all(simple(v) for v in vars(x).values() if isinstance(v, (A.Node, list)))
            return True
        return simple(body)

    @staticmethod
    def _py_signature(fd: A.FunctionDef):
        return [f"{mangle(p.name)}=_MISSING" for p in fd.params]

    def main(self, unit: Unit, em: _Emitter, preset: dict[str, str], py_name="__main__"):
        scope = Scope("main", preset=preset)
        stmts = unit.program.statements
        self.infer_scope(stmts, scope, unit)
        em.line(f"def {py_name}(_env):", (unit.file, 1, 1))
        em.indent += 1
        used = self._names_used(stmts)
        for name in sorted(used & set(preset)):
            em.line(f"{mangle(name)} = _env[{name!r}]", (unit.file, 1, 1))
        em.line("try:", (unit.file, 1, 1))
        em.indent += 1
        self.block(stmts, scope, unit, em)
        em.indent -= 1
        em.line("finally:", (unit.file, 1, 1))
        em.indent += 1
        em.line("_export(locals(), _env)", (unit.file, 1, 1))
        em.indent -= 2
        em.table.func_names[py_name] = "main"

    def _names_used(self, stmts) -> set[str]:
        names: set[str] = set()

        def visit(x):
            if isinstance(x, (A.Name, A.Index)):
                names.add(x.name)
            if isinstance(x, A.For):
                names.add(x.var)
            if isinstance(x, list):
                for y in x:
                    visit(y)
            elif isinstance(x, A.Node):
                for v in vars(x).values():
                    if isinstance(v, (A.Node, list)):
                        visit(v)
        visit(stmts)
        return names
