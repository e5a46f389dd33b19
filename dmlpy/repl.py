"""The interactive DML prompt.

Statements run in one session, so variables and functions stay defined. A bare
expression prints its value. An open brace, parenthesis or bracket continues the
statement on the next line. Errors are reported and the session goes on; Ctrl-C
stops the running statement (or discards the pending input) and keeps the session.
"""
from __future__ import annotations

import os
import re
import sys

from . import __version__
from .errors import DMLError, DMLSyntaxError
from .interpreter import Session
from .parser import parse
from . import ast as A
from .values import to_string

PROMPT, CONTINUE = "dml> ", "...> "
_VALUE = "dmlpyReplValue"
# what Python's and R's users type to leave (DML has no such function; one the session defines wins)
_EXIT = re.compile(r"\s*(quit|exit|q)\(\s*\)\s*;?\s*")


def open_brackets(text: str) -> int:
    """Unclosed ( [ { in DML text, ignoring strings and comments."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return depth + 1
            i = end + 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    return depth


class Repl:
    def __init__(self, stdin=None, stdout=None, stderr=None):
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self.interactive = self.stdin is sys.stdin and sys.stdin.isatty()
        self.session = Session(stdout=self.stdout)
        self.count = 0

    # ------------------------------------------------------------ input
    def _read_line(self, prompt: str):
        if self.interactive:
            return input(prompt)
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def _setup_history(self):
        if not self.interactive:
            return
        try:
            import atexit
            import readline
        except ImportError:
            return
        path = os.path.join(os.path.expanduser("~"), ".dmlpy_history")
        try:
            readline.read_history_file(path)
        except OSError:
            pass
        readline.set_history_length(2000)
        atexit.register(lambda: _save_history(readline, path))

    # ------------------------------------------------------------ evaluation
    def execute(self, text: str) -> None:
        """Run one complete input; a bare expression (or a call with a value) prints its value."""
        self.count += 1
        name = f"<repl:{self.count}>"
        try:
            program = parse(text, name)
        except DMLSyntaxError as first:
            try:
                program = parse(f"{_VALUE} = {text}\n", name)
            except DMLSyntaxError:
                raise first from None
            self._run_value(program)
            return
        if len(program.statements) == 1 and isinstance(program.statements[0], A.CallStmt) and not program.functions:
            try:
                self._run_value(parse(f"{_VALUE} = {text}\n", name))
                return
            except DMLError as e:
                if "cannot be used as a value" not in str(e):
                    raise
        self.session.run_program(program)

    def _run_value(self, program) -> None:
        try:
            self.session.run_program(program)
        except DMLError as e:
            # point into what the user typed, not into the wrapper assignment
            loc = e.location
            if loc is not None and loc.file == program.file and loc.line == 1:
                from .errors import Location
                e.location = Location(loc.file, 1, max(1, loc.column - len(_VALUE) - 3))
                if e.source_line is not None:
                    e.source_line = e.source_line[len(_VALUE) + 3:]
            raise
        finally:
            value = self.session.variables.pop(_VALUE, None)
        if value is not None:
            self.stdout.write(to_string(value).rstrip("\n") + "\n")

    # ------------------------------------------------------------ the loop
    def _is_exit(self, text: str) -> bool:
        m = _EXIT.fullmatch(text)
        return m is not None and not any(m.group(1) in u.functions for u in self.session.main_units)

    def loop(self) -> int:
        self._setup_history()
        if self.interactive:
            self.stdout.write(f"dmlpy {__version__} - DML on NumPy. Ctrl-D or quit() exits.\n")
        buffer: list[str] = []
        while True:
            try:
                line = self._read_line(CONTINUE if buffer else PROMPT)
            except EOFError:
                if self.interactive:
                    self.stdout.write("\n")
                return 0
            except KeyboardInterrupt:
                self.stdout.write("\n")
                buffer = []
                continue
            buffer.append(line)
            text = "\n".join(buffer)
            if not text.strip():
                buffer = []
                continue
            if open_brackets(text) > 0:
                continue
            buffer = []
            if self._is_exit(text):
                return 0
            try:
                self.execute(text)
            except DMLError as e:
                self.stdout.flush()
                self.stderr.write(e.report() + "\n")
            except KeyboardInterrupt:
                self.stderr.write("interrupted\n")
            self.stdout.flush()


def _save_history(readline, path):
    try:
        readline.write_history_file(path)
    except OSError:
        pass
