"""Reading a data file's text and replacing a file atomically.

A path read may name a file or, as SystemDS/Hadoop write for large outputs, a
directory of part files ("part-00000", ...), read in name order as one file.
Every format error names the file and line (``FormatError``).

Writes go to a temporary file in the target's directory that is then renamed
over the target (``os.replace``), so a reader never sees a half-written file
and an interrupted write leaves the old file intact.
"""
from __future__ import annotations

import os
import shutil
from typing import Callable, Iterator

from ..errors import DMLRuntimeError


class FormatError(DMLRuntimeError):
    """A malformed data file: the message starts with ``file:line:``."""

    def __init__(self, name: str, line: int | None, message: str):
        where = f"{name}:{line}" if line else name
        super().__init__(f"{where}: {message}")


def part_files(path: str) -> list[str]:
    """The part files of a directory output, in name order."""
    names = sorted(n for n in os.listdir(path) if n.startswith("part") and not n.endswith(".crc"))
    return [os.path.join(path, n) for n in names]


def sources(path: str, shown: str) -> list[tuple[str, str]]:
    """[(name shown in errors, text)] for a file, or for each part file of a directory."""
    if os.path.isdir(path):
        files = [(os.path.join(shown, os.path.basename(p)), p) for p in part_files(path)]
    else:
        files = [(shown, path)]
    out = []
    for name, p in files:
        try:
            with open(p, "rb") as f:
                data = f.read()
        except OSError as e:
            raise DMLRuntimeError(f"cannot read {name}: {e.strerror}") from None
        try:
            out.append((name, data.decode("utf-8")))
        except UnicodeDecodeError as e:
            line = data[:e.start].count(b"\n") + 1
            raise FormatError(name, line, "not a text file (invalid UTF-8); "
                              "give format= if this is another format") from None
    return out


def head_bytes(path: str, n: int) -> bytes:
    """The first n bytes of a file (of the first part file of a directory)."""
    if os.path.isdir(path):
        parts = part_files(path)
        if not parts:
            return b""
        path = parts[0]
    with open(path, "rb") as f:
        return f.read(n)


def split_lines(text: str) -> list[str]:
    """Lines as Java's readLine gives them: \\n, \\r\\n or \\r end a line; no empty last line."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def numbered_lines(srcs: list[tuple[str, str]]) -> Iterator[tuple[str, int, str]]:
    """(file name, 1-based line number, line) over all sources."""
    for name, text in srcs:
        for i, line in enumerate(split_lines(text), 1):
            yield name, i, line


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _clear_part_directory(path: str) -> None:
    """Remove a previous directory-of-part-files output that a write replaces."""
    for n in os.listdir(path):
        if not (n.startswith("part") or n.startswith(".part") or n.startswith("_SUCCESS")
                or n.startswith("._SUCCESS") or n.endswith(".crc")):
            raise DMLRuntimeError(f"cannot write {path}: it is a directory that holds other files than part files")
    shutil.rmtree(path)


def atomic_write(path: str, fill: Callable[[object], None]) -> None:
    """Write a file by calling fill(binary file object), then rename it over `path`."""
    import tempfile     # (here: with shutil, random and the compressors it costs ~8 ms of every start-up)
    directory = os.path.dirname(path) or "."
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        raise DMLRuntimeError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if os.path.isdir(path):
            _clear_part_directory(path)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise DMLRuntimeError(f"cannot write {path}: {e.strerror}") from None
        raise


def atomic_write_text(path: str, chunks) -> None:
    """Write text (a string or an iterable of strings) as UTF-8, atomically."""
    def fill(f):
        if isinstance(chunks, str):
            f.write(chunks.encode("utf-8"))
        else:
            for c in chunks:
                f.write(c.encode("utf-8"))
    atomic_write(path, fill)


def remove_if_exists(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise DMLRuntimeError(f"cannot remove {path}: {e.strerror}") from None
