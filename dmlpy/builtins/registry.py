"""One registry of DML builtins.

A builtin is a Python function registered under its DML name::

    @builtin("rowSums")
    def row_sums(X): ...

    @builtin("rand", returns=1)
    def rand(ctx, rows=1, cols=1, min=0.0, max=1.0, pdf="uniform", sparsity=1.0, seed=-1, lambda_=1.0): ...

The Python signature *is* the DML signature: parameter order gives positional
order, defaults make a parameter optional, ``*args`` accepts any number of
positional arguments (cbind, min, max), ``**kwargs`` any named ones (list).
DML names that are not Python identifiers are spelled with ``_``:
``index.return`` -> ``index_return``, ``lambda`` -> ``lambda_``.
A first parameter named ``ctx`` receives the execution context (see
``Context`` below) and is not a DML parameter.

Binding DML arguments to the signature happens once, when a call is compiled
(``bind_call``), so argument-count and argument-name errors are reported before
the program runs, with the DML location, in one uniform wording.

A builtin returns one value, or a tuple of ``returns`` values. It raises
``DMLRuntimeError(message)`` for bad input; the interpreter attaches the
location and DML call stack.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from ..errors import DMLValidationError


@dataclass
class Builtin:
    name: str                       # DML name, e.g. "as.scalar"
    func: Callable
    params: list[str]               # DML parameter names in positional order
    py_params: list[str]            # the matching Python parameter names
    required: set[str]              # DML names without a default
    varargs: bool                   # takes any number of positional arguments
    varkw: bool                     # takes any named arguments
    returns: int                    # number of values returned
    wants_ctx: bool                 # first Python parameter is the context
    doc: str = ""
    named_only: bool = False        # SystemDS's "parameterized builtins" take only named arguments


REGISTRY: dict[str, Builtin] = {}


def _dml_name(py_name: str) -> str:
    if py_name.endswith("_") and not py_name.endswith("__"):
        return py_name[:-1]                     # lambda_ -> lambda
    return py_name.replace("_", ".") if py_name in _DOTTED else py_name


# Python parameter names that stand for dotted DML names.
_DOTTED = {"index_return", "empty_return", "lower_tail"}


def builtin(*names: str, returns: int = 1, named_only: bool = False):
    """Register a function under one or more DML names (named_only: no positional arguments)."""
    def register(func: Callable) -> Callable:
        sig = inspect.signature(func)
        params, py_params, required = [], [], set()
        varargs = varkw = wants_ctx = False
        for i, p in enumerate(sig.parameters.values()):
            if i == 0 and p.name == "ctx":
                wants_ctx = True
                continue
            if p.kind is p.VAR_POSITIONAL:
                varargs = True
                continue
            if p.kind is p.VAR_KEYWORD:
                varkw = True
                continue
            dml = _dml_name(p.name)
            params.append(dml)
            py_params.append(p.name)
            if p.default is inspect.Parameter.empty:
                required.add(dml)
        for n in names:
            if n in REGISTRY:
                raise RuntimeError(f"builtin {n} registered twice")
            REGISTRY[n] = Builtin(n, func, params, py_params, required, varargs, varkw,
                                  returns, wants_ctx, (func.__doc__ or "").strip(), named_only)
        return func
    return register


def lookup(name: str) -> Builtin | None:
    return REGISTRY.get(name)


def bind_call(b: Builtin, n_positional: int, names: list[str], location=None):
    """Check a call's argument shape against the builtin's signature.

    Returns the Python keyword name for each named argument, in order.
    Raises DMLValidationError with one uniform wording.
    """
    if b.named_only and n_positional:
        raise DMLValidationError(
            f"{b.name}() takes named arguments only ({', '.join(p + '=...' for p in b.params if p in b.required)})",
            location)
    if n_positional > len(b.params) and not b.varargs:
        raise DMLValidationError(
            f"{b.name}() takes at most {len(b.params)} positional argument"
            f"{'s' if len(b.params) != 1 else ''} ({n_positional} given)", location)
    given = set(b.params[:n_positional])
    py_names = []
    for n in names:
        if n in b.params:
            if n in given:
                raise DMLValidationError(f"{b.name}(): argument '{n}' given twice", location)
            given.add(n)
            py_names.append(b.py_params[b.params.index(n)])
        elif b.varkw:
            py_names.append(n)
        else:
            expected = ", ".join(b.params) or "none"
            raise DMLValidationError(
                f"{b.name}(): unknown argument '{n}' (parameters: {expected})", location)
    missing = [p for p in b.params if p in b.required and p not in given]
    if missing:
        raise DMLValidationError(
            f"{b.name}(): missing required argument{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"'{m}'" for m in missing), location)
    return py_names


class Context:
    """What a builtin may ask of the running program (a ``ctx`` parameter).

    The interpreter provides the implementation; builtins use only these:
      ctx.write(text)               print to the program's stdout
      ctx.call_function(name, args) call a DML function by name (eval)
      ctx.resolve_path(path)        a file path relative to the working directory
      ctx.rng(seed)                 a numpy Generator (seed -1: fresh random)
      ctx.variable_exists(name)     exists()
    """
