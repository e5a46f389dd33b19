"""DML errors: every failure a user sees is one of these, carrying where it happened."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class DMLError(Exception):
    """Base of all errors reported to DML users.

    ``location`` is where in the DML source the error arose (None if unknown);
    ``dml_stack`` lists the function frames (name, Location) innermost last.
    """
    kind = "error"
    exit_code = 1

    def __init__(self, message: str, location: Location | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.dml_stack: list[tuple[str, Location]] = []
        self.source_line: str | None = None

    def __str__(self) -> str:
        if self.location is not None:
            return f"{self.location}: {self.message}"
        return self.message

    def report(self) -> str:
        """The text printed to stderr for this error (no Python traceback)."""
        head = f"{self.location}: " if self.location else ""
        lines = [f"{head}{self.kind}: {self.message}"]
        if self.source_line is not None and self.location is not None:
            lines.append("    " + self.source_line.rstrip("\n"))
            lines.append("    " + " " * max(self.location.column - 1, 0) + "^")
        if self.dml_stack:
            lines.append("DML call stack (innermost last):")
            for fname, loc in self.dml_stack:
                lines.append(f"  {loc} in {fname}")
        return "\n".join(lines)


class DMLSyntaxError(DMLError):
    kind = "syntax error"
    exit_code = 2


class DMLValidationError(DMLError):
    kind = "validation error"
    exit_code = 2


class DMLRuntimeError(DMLError):
    kind = "runtime error"
    exit_code = 1


class DMLStop(DMLRuntimeError):
    """Raised by stop(): the user's message, exit code 1."""
    kind = "stop"


class DMLUsageError(DMLError):
    kind = "usage error"
    exit_code = 2
