"""The Python API: run DML from Python, numpy in, numpy out.

    >>> import dmlpy, numpy as np
    >>> dmlpy.run("Y = X %*% t(X)", inputs={"X": np.ones((2, 3))}, outputs=["Y"])["Y"]
    array([[3., 3.],
           [3., 3.]])
"""
from __future__ import annotations

import os
import re

import numpy as np

from . import backend
from .errors import DMLError
from .interpreter import Session as _Session, typed_arg
from .parser import parse, parse_file
from .values import from_python, to_python


def _command_args(args) -> dict:
    """-nvargs as a dict, or -args as a list/tuple ($1, $2, ...)."""
    if args is None:
        return {}
    if isinstance(args, (list, tuple)):
        items = {str(i + 1): v for i, v in enumerate(args)}
    else:
        items = dict(args)
    out = {}
    for k, v in items.items():
        if not isinstance(v, (str, bool, int, float, np.bool_, np.integer, np.floating)):
            raise DMLError(f"args: ${k} must be a number, string or boolean (a command-line parameter), "
                           f"not a Python {type(v).__name__}")
        out[str(k)] = typed_arg(v) if isinstance(v, str) else from_python(v)
    return out


# what the grammar reads as a variable name (no namespace), less its keywords
_VARIABLE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)*")
_KEYWORDS = frozenset(("FALSE", "TRUE", "as", "else", "externalFunction", "for", "function", "if",
                       "implemented", "in", "parfor", "return", "setwd", "source", "while"))


def _variable_name(name) -> str:
    if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name) or name in _KEYWORDS:
        raise DMLError(f"{name!r} is not a DML variable name")
    return name


def _load(script: str, file: str | None):
    if file is not None:
        return parse(script, file)
    looks_like_path = "\n" not in script and script.strip().endswith(".dml")
    if looks_like_path:
        if not os.path.isfile(script):
            raise DMLError(f"no DML script file {script!r} (from {os.getcwd()})")
        return parse_file(script)
    return parse(script, "<string>")


class Session:
    """A DML session: variables and sourced namespaces persist between runs.

    >>> s = dmlpy.Session()
    >>> s.run("x = 40")
    >>> s.run("y = x + 2", outputs=["y"])
    {'y': 42}
    """

    def __init__(self, stdout=None, workdir: str | None = None, precision: str = "double", gpu: bool = False):
        backend.set_precision(precision)
        # the backend is process-wide: once a session asks for the GPU, later ones use it too
        if backend.gpu_requested(gpu):      # gpu=True or DMLPY_GPU=1
            backend.use_cupy()
        self._session = _Session(stdout=stdout, workdir=workdir)

    def run(self, script: str, inputs: dict | None = None, outputs=None, args=None, file: str | None = None):
        """Run DML text or a .dml file; returns {name: value} for the requested outputs."""
        program = _load(script, file)
        if inputs is not None and not isinstance(inputs, dict):
            raise TypeError(f"inputs must be a dict of name -> value, not a {type(inputs).__name__}")
        for name, value in (inputs or {}).items():
            self._session.variables[_variable_name(name)] = from_python(value, f"input '{name}'")
        self._session.run_program(program, _command_args(args))
        if outputs is None:
            return None
        if isinstance(outputs, str):
            outputs = [outputs]
        return {name: self.get(name) for name in outputs}

    def get(self, name: str):
        """A variable's value as Python: numpy arrays, Python scalars, lists/dicts."""
        if name not in self._session.variables:
            raise DMLError(f"no variable '{name}' in this session")
        return to_python(self._session.variables[name])

    def set(self, name: str, value) -> None:
        self._session.variables[_variable_name(name)] = from_python(value, f"variable '{name}'")

    __getitem__ = get
    __setitem__ = set

    def __contains__(self, name: str) -> bool:
        return name in self._session.variables

    @property
    def variables(self) -> list[str]:
        return sorted(self._session.variables)


def run(script: str, inputs: dict | None = None, outputs=None, args=None, stdout=None,
        precision: str = "double", gpu: bool = False, workdir: str | None = None):
    """Run a DML script (text, or a path to a .dml file) and return the requested outputs.

    inputs: {name: value} bound before the script runs (numpy arrays become matrices,
    1-D arrays column vectors); outputs: names to return; args: {name: value} for
    $name parameters (or a list for $1, $2, ...). Raises dmlpy.DMLError on failure.
    """
    s = Session(stdout=stdout, workdir=workdir, precision=precision, gpu=gpu)
    result = s.run(script, inputs=inputs, outputs=outputs if outputs is not None else [], args=args)
    return result
