"""DML source text -> AST, with syntax errors that point at file:line:column."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from . import ast as A
from .errors import DMLSyntaxError, Location
from .lalr import Parser, load_tables
from .lexer import Token, UnexpectedCharacter, UnexpectedToken, take_warnings

GRAMMAR = Path(__file__).with_name("grammar") / "dml.lark"

_VALUE_TYPES = {
    "int": "int", "integer": "int", "Int": "int", "Integer": "int",
    "double": "double", "Double": "double",
    "boolean": "boolean", "Boolean": "boolean",
    "string": "string", "String": "string",
    "unknown": "unknown", "Unknown": "unknown",
}
_DATA_TYPES = {"matrix", "frame", "list", "scalar", "tensor"}

# Readable names for the terminals an error message lists as expected.
_TERMINAL_TEXT = {
    "NAME": "a name", "INT": "an integer", "DOUBLE": "a number", "STRING": "a string",
    "CMDARG": "a $parameter", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "_LIST_OPEN": "'['", "RSQB": "']'",
    "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "SEMICOLON": "';'", "COLON": "':'",
    "EQUAL": "'='", "_ASSIGN": "'=' or '<-'", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "MOD_OP": "'%%' or '%/%'", "MATMUL_OP": "'%*%'", "POW_OP": "'^'", "REL_OP": "a comparison",
    "AND_OP": "'&'", "OR_OP": "'|'", "BANG": "'!'", "$END": "end of input", "_RETURN": "'return'",
    "_ELSE": "'else'", "TRUE": "TRUE", "FALSE": "FALSE", "__ANON_0": "'+='",
}


@lru_cache(maxsize=None)
def _parser(start: str) -> Parser:
    return Parser(load_tables(str(GRAMMAR), start), _TRANSFORMER)


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    # SystemDS keeps an escaped backslash as two characters
    table = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "'": "'", "\\": "\\\\"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in table:
            out.append(table[body[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _pos(x):
    """(line, column) of the first token under a parse result (Token, AST node or list)."""
    if isinstance(x, Token):
        return x.line, x.column
    if isinstance(x, A.Node):
        return x.line, x.col
    if isinstance(x, (list, tuple)):
        for y in x:
            if y is not None:
                p = _pos(y)
                if p is not None:
                    return p
    return None


class _ToAst:
    """The parser's reductions -> dmlpy.ast nodes, applied while parsing (no parse tree is built):
    a method per rule (alias or name), called with the rule's children (see lalr.py).

    Positions come from the first token of each construct; ``file`` is set before each parse.
    """

    file = "<string>"

    # -- literals and names
    def int_lit(self, c):
        t = c[0]
        return A.IntLit(t.line, t.column, int(str(t)))

    def double_lit(self, c):
        t = c[0]
        return A.DoubleLit(t.line, t.column, float(str(t)))

    def string_lit(self, c):
        t = c[0]
        return A.StrLit(t.line, t.column, _unescape(str(t)))

    def true_lit(self, c):
        return A.BoolLit(c[0].line, c[0].column, True)

    def false_lit(self, c):
        return A.BoolLit(c[0].line, c[0].column, False)

    def name(self, c):
        t = c[0]
        return A.Name(t.line, t.column, str(t))

    def cmdarg(self, c):
        t = c[0]
        return A.CmdArg(t.line, t.column, str(t)[1:])

    def list_lit(self, c):
        line, col = _pos(c)
        return A.ListLit(line, col, list(c))

    # -- operators: a flat chain of operands and operator tokens, built by precedence climbing
    def expr(self, c):
        if len(c) == 1:
            return c[0]
        return _ChainParser(c).parse()

    # -- calls and indexing
    def named_arg(self, c):
        t = c[0]
        return A.Arg(t.line, t.column, str(t), c[1])

    def call(self, c):
        name = c[0]
        args = []
        for a in c[1:]:
            if a is None or isinstance(a, Token):
                continue
            if isinstance(a, A.Arg):
                args.append(a)
            else:
                args.append(A.Arg(a.line, a.col, None, a))
        return A.Call(name.line, name.column, str(name), args)

    def index_range(self, c):
        lower, upper = c
        line, col = _pos(c) or (0, 0)
        return A.IndexRange(line, col, lower, upper, upper is not None)

    def index_cols(self, c):
        return ("cols", c[0])

    def _index(self, c):
        name, rows, cols = c
        has_comma = cols is not None
        col_range = cols[1] if cols is not None else None
        return A.Index(name.line, name.column, str(name), rows, col_range, has_comma)

    def index_expr(self, c):
        return self._index(c)

    # -- statements
    def assign_name(self, c):
        name, value = c
        return A.Assign(name.line, name.column, A.Name(name.line, name.column, str(name)), value)

    def assign_indexed(self, c):
        *idx, value = c
        return A.Assign(idx[0].line, idx[0].column, self._index(idx), value)

    def accum_name(self, c):
        name, value = c
        return A.Assign(name.line, name.column, A.Name(name.line, name.column, str(name)), value, True)

    def accum_indexed(self, c):
        *idx, value = c
        return A.Assign(idx[0].line, idx[0].column, self._index(idx), value, True)

    def name_target(self, c):
        t = c[0]
        return A.Name(t.line, t.column, str(t))

    def indexed_target(self, c):
        return self._index(c)

    def multi_assign_stmt(self, c):
        *targets, call = c
        return A.MultiAssign(targets[0].line, targets[0].col, targets, call)

    def call_stmt(self, c):
        return A.CallStmt(c[0].line, c[0].col, c[0])

    def body(self, c):
        return [s for s in c if s is not None and not isinstance(s, Token)]

    def if_stmt(self, c):
        kw, cond, then, orelse = c
        return A.If(kw.line, kw.column, cond, then, orelse)

    def range_iter(self, c):
        return A.Iterable(c[0].line, c[0].col, c[0], c[1], None)

    def seq_iter(self, c):
        fname, start, stop, step = c
        if str(fname) != "seq":
            raise DMLSyntaxError(f"a loop iterates over a:b or seq(from, to, incr), not {fname}(...)",
                                 Location(self.file, fname.line, fname.column))
        return A.Iterable(fname.line, fname.column, start, stop, step, True)

    def _for(self, c, parfor):
        kw, var, iterable, *rest = c
        body = rest[-1]
        options = [a for a in rest[:-1] if a is not None]
        return A.For(kw.line, kw.column, str(var), iterable, body, parfor, options)

    def for_stmt(self, c):
        return self._for(c, False)

    def parfor_stmt(self, c):
        return self._for(c, True)

    def while_stmt(self, c):
        return A.While(c[0].line, c[0].column, c[1], c[2])

    def source_stmt(self, c):
        return A.Source(c[0].line, c[0].column, _unescape(str(c[1])), str(c[2]))

    def setwd_stmt(self, c):
        return A.Setwd(c[0].line, c[0].column, _unescape(str(c[1])))

    # -- functions
    def value_type(self, c):
        t = c[0]
        if str(t) not in _VALUE_TYPES:
            raise DMLSyntaxError(f"unknown type '{t}' (expected int, integer, double, boolean, string, "
                                 f"or matrix[...], frame[...], list[...])",
                                 Location(self.file, t.line, t.column))
        return A.TypeSpec(t.line, t.column, "scalar", _VALUE_TYPES[str(t)])

    def data_type(self, c):
        dt, vt = c
        if str(dt).lower() not in _DATA_TYPES:
            raise DMLSyntaxError(f"unknown data type '{dt}' (expected matrix, frame, list, scalar or tensor)",
                                 Location(self.file, dt.line, dt.column))
        if str(vt) not in _VALUE_TYPES:
            raise DMLSyntaxError(f"unknown value type '{vt}'", Location(self.file, vt.line, vt.column))
        return A.TypeSpec(dt.line, dt.column, str(dt).lower(), _VALUE_TYPES[str(vt)])

    def typed_arg(self, c):
        t, name, default = c
        return A.Param(t.line, t.col, t, str(name), default)

    def typed_param(self, c):
        t, name = c
        return A.Param(t.line, t.col, t, str(name), None)

    def typed_args(self, c):
        return list(c)

    typed_params = typed_args

    def funcdef(self, c):
        name, params, returns, *body = c
        stmts = [s for s in body if s is not None and not isinstance(s, Token)]
        return A.FunctionDef(name.line, name.column, str(name), params or [], returns or [], stmts, False, self.file)

    def kv_string(self, c):
        return (str(c[0]), _unescape(str(c[1])))

    def kv_strings(self, c):
        return list(c)

    def extfuncdef(self, c):
        name, params, returns, _kv = c
        return A.FunctionDef(name.line, name.column, str(name), params or [], returns or [], [], True, self.file)

    def program(self, c):
        stmts, funcs = [], []
        for x in c:
            if isinstance(x, A.FunctionDef):
                funcs.append(x)
            elif x is not None and not isinstance(x, Token):
                stmts.append(x)
        return A.Program(1, 1, self.file, stmts, funcs)


_TRANSFORMER = _ToAst()


# Binding power of each binary operator (higher binds tighter) and of the prefixes.
_BINARY_BP = {"|": 1, "||": 1, "&": 2, "&&": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
              "+": 5, "-": 5, "*": 6, "/": 6, "%/%": 7, "%%": 7, "%*%": 8, "^": 10}
_NOT_BP = 3        # '!' takes everything up to the next & or |
_NEG_BP = 9        # unary minus takes only ^
_RIGHT_ASSOC = {"^"}


class _ChainParser:
    """Precedence climbing over [prefix*, operand, (op, prefix*, operand)*] from the grammar."""

    def __init__(self, items):
        self.items = items
        self.i = 0

    def parse(self):
        return self.expression(0)

    def _is_op(self, x):
        return isinstance(x, Token)

    def operand(self):
        x = self.items[self.i]
        if self._is_op(x):                    # a prefix operator
            self.i += 1
            if x.type == "BANG":
                inner = self.expression(_NOT_BP)
                return A.Unary(x.line, x.column, "!", inner)
            inner = self.expression(_NEG_BP)
            return A.Unary(x.line, x.column, str(x), inner)
        self.i += 1
        return x

    def expression(self, min_bp):
        left = self.operand()
        while self.i < len(self.items):
            op = self.items[self.i]
            bp = _BINARY_BP[str(op)]
            if bp <= min_bp:
                break
            self.i += 1
            # a right-associative operator lets its right operand take the same operator again
            right = self.expression(bp - 0.5 if str(op) in _RIGHT_ASSOC else bp)
            left = A.Binary(op.line, op.column, str(op), left, right)
        return left


def _expected_text(names) -> str:
    items = sorted({_TERMINAL_TEXT.get(n, repr(n.lower()) if n.isupper() else n) for n in names})
    if len(items) > 8:
        items = items[:8] + ["..."]
    return ", ".join(items)


def _syntax_error(e: Exception, text: str, file: str) -> DMLSyntaxError:
    line, col = e.line, e.column
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
            what = "unexpected end of input"
        else:
            what = f"unexpected {tok.value!r}"
        msg = f"{what}; expected {_expected_text(e.expected)}"
    else:
        msg = f"unexpected character {e.char!r}"
    err = DMLSyntaxError(msg, Location(file, line, col))
    src_lines = text.splitlines()
    if 1 <= line <= len(src_lines):
        err.source_line = src_lines[line - 1]
    return err


@contextmanager
def gc_paused():
    """Python's cyclic garbage collector off for a while: parsing and compiling make many objects
    and no garbage cycles, and the collector's passes over them cost about 10% of their time."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def parse(text: str, file: str = "<string>") -> A.Program:
    """Parse DML source text into a Program (raises DMLSyntaxError)."""
    take_warnings()
    _TRANSFORMER.file = file
    try:
        with gc_paused():
            prog = _parser("program").parse(text)
    except (UnexpectedToken, UnexpectedCharacter) as e:
        raise _syntax_error(e, text, file) from None
    except DMLSyntaxError as e:  # raised while building the AST
        if e.location and 1 <= e.location.line <= len(text.splitlines()):
            e.source_line = text.splitlines()[e.location.line - 1]
        raise
    for w in take_warnings():
        import sys
        print(f"{file}: warning: {w}", file=sys.stderr)
    prog.source_text = text
    return prog


def parse_file(path) -> A.Program:
    """Parse a .dml file into a Program (raises DMLSyntaxError; DMLError if unreadable)."""
    from .errors import DMLError
    p = str(path)
    try:
        with open(p, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise DMLError(f"cannot read script {p}: {e.strerror}") from None
    return parse(text, p)
