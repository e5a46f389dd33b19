"""The DML abstract syntax tree: plain dataclasses, each node with its source position.

``line`` and ``col`` are 1-based; the file a node belongs to is the ``file`` of
the enclosing ``Program``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Optional, Union


@dataclass(eq=False, repr=False)
class Node:
    line: int
    col: int

    def __repr__(self):
        # what dataclass(repr=True) would print, written once here: generating a __repr__ per node
        # class costs start-up time (about a third of this module's import)
        return f"{type(self).__name__}(" + ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr) + ")"


# ------------------------------------------------------------------ expressions

@dataclass(eq=False, repr=False)
class IntLit(Node):
    value: int


@dataclass(eq=False, repr=False)
class DoubleLit(Node):
    value: float


@dataclass(eq=False, repr=False)
class StrLit(Node):
    value: str


@dataclass(eq=False, repr=False)
class BoolLit(Node):
    value: bool


@dataclass(eq=False, repr=False)
class Name(Node):
    name: str


@dataclass(eq=False, repr=False)
class CmdArg(Node):
    """A command-line parameter: $name or $1."""
    name: str          # without the '$'


@dataclass(eq=False, repr=False)
class Unary(Node):
    op: str            # '-', '+', '!'
    operand: "Expr"


@dataclass(eq=False, repr=False)
class Binary(Node):
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(eq=False, repr=False)
class Arg(Node):
    name: Optional[str]   # None for a positional argument
    value: "Expr"


@dataclass(eq=False, repr=False)
class Call(Node):
    name: str             # possibly "ns::f" or a dotted builtin name
    args: list[Arg]
    whole_rhs: bool = False   # the whole right-hand side of an assignment (where ifdef may stand)


@dataclass(eq=False, repr=False)
class IndexRange(Node):
    """One dimension of X[...]: lower, or lower:upper. All None means the whole dimension."""
    lower: Optional["Expr"]
    upper: Optional["Expr"]
    is_range: bool


@dataclass(eq=False, repr=False)
class Index(Node):
    name: str
    rows: Optional[IndexRange]     # None: empty (all rows)
    cols: Optional[IndexRange]     # None: empty (all columns)
    has_comma: bool                # X[i] (no comma) versus X[i,]


@dataclass(eq=False, repr=False)
class ListLit(Node):
    items: list["Expr"]


Expr = Union[IntLit, DoubleLit, StrLit, BoolLit, Name, CmdArg, Unary, Binary, Call, Index, ListLit]


# ------------------------------------------------------------------- statements

@dataclass(eq=False, repr=False)
class Assign(Node):
    target: Union[Name, Index]
    value: Expr
    accumulate: bool = False       # '+='

    def right_hand_side(self) -> Expr:
        """The value assigned: for x += e, the node x + e (made once and kept, since the
        compiler's memos key expression nodes by identity)."""
        if not self.accumulate:
            return self.value
        node = self.__dict__.get("_sum")
        if node is None:
            node = self.__dict__["_sum"] = Binary(self.line, self.col, "+", self.target, self.value)
        return node


@dataclass(eq=False, repr=False)
class MultiAssign(Node):
    targets: list[Union[Name, Index]]
    call: Call


@dataclass(eq=False, repr=False)
class CallStmt(Node):
    call: Call


@dataclass(eq=False, repr=False)
class If(Node):
    cond: Expr
    then: list["Stmt"]
    orelse: Optional[list["Stmt"]]


@dataclass(eq=False, repr=False)
class Iterable(Node):
    start: Expr
    stop: Expr
    step: Optional[Expr]          # only for seq(...)
    is_seq: bool = False          # seq(from, to[, incr]) rather than from:to


@dataclass(eq=False, repr=False)
class For(Node):
    var: str
    iterable: Iterable
    body: list["Stmt"]
    parfor: bool = False
    options: list[Arg] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class While(Node):
    cond: Expr
    body: list["Stmt"]


@dataclass(eq=False, repr=False)
class Source(Node):
    path: str
    namespace: str


@dataclass(eq=False, repr=False)
class Setwd(Node):
    path: str


Stmt = Union[Assign, MultiAssign, CallStmt, If, For, While, Source, Setwd]


# -------------------------------------------------------------------- functions

@dataclass(eq=False, repr=False)
class TypeSpec(Node):
    data_type: str        # "scalar", "matrix", "frame", "list", "tensor"
    value_type: str       # "double", "int", "boolean", "string", "unknown"


@dataclass(eq=False, repr=False)
class Param(Node):
    type: TypeSpec
    name: str
    default: Optional[Expr] = None


@dataclass(eq=False, repr=False)
class FunctionDef(Node):
    name: str
    params: list[Param]
    returns: list[Param]
    body: list[Stmt]
    external: bool = False
    file: str = ""


@dataclass(eq=False, repr=False)
class Program(Node):
    file: str
    statements: list[Stmt]
    functions: list[FunctionDef]
    source_text: str = ""
