"""Numbers in files, as SystemDS (Java) reads and writes them.

Reading uses Java's Double.parseDouble grammar: surrounding blanks allowed,
"NaN" and "Infinity" (case-sensitive, with a sign), an optional f/F/d/D suffix,
hex floats; Python-only spellings such as "inf", "nan" or "1_000" are rejected.
Writing uses Java's Double.toString (dmlpy/javadouble.py): plain notation for
1e-3 <= |x| < 1e7, otherwise "d.dddE<exp>".
"""
from __future__ import annotations

import re

from ..javadouble import java_double

_JAVA_DOUBLE = re.compile(
    r"[+-]?(?:NaN|Infinity"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+[fFdD]?)")
_JAVA_LONG = re.compile(r"[+-]?\d+")
# Java's String.trim() removes every character <= ' '.
_JAVA_BLANKS = "".join(chr(c) for c in range(33))
# Text made only of these characters parses identically with Python's float();
# anything else (letters, underscores) takes the exact, slower Java-grammar path.
PLAIN_NUMBER_CHARS = "0123456789.eE+- \t\r\n"


def is_plain(text: str, extra: str = "") -> bool:
    """Whether text holds only PLAIN_NUMBER_CHARS (and the characters of `extra`)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return False
    return not raw.translate(None, (PLAIN_NUMBER_CHARS + extra).encode("utf-8"))


def java_trim(s: str) -> str:
    return s.strip(_JAVA_BLANKS)


def parse_double(s: str) -> float | None:
    """Java's Double.parseDouble(s), or None where Java throws NumberFormatException."""
    t = s.strip(_JAVA_BLANKS)
    if not _JAVA_DOUBLE.fullmatch(t):
        return None
    sign = -1.0 if t[0] == "-" else 1.0
    body = t[1:] if t[0] in "+-" else t
    if body == "NaN":
        return float("nan")
    if body == "Infinity":
        return sign * float("inf")
    if body[-1] in "fFdD":          # a type suffix (hex digits end before the p exponent)
        body = body[:-1]
    if body[:2].lower() == "0x":
        return sign * float.fromhex(body)
    return sign * float(body)


def parse_long(s: str) -> int | None:
    """Java's Long.parseLong on the trimmed text, or None where Java throws."""
    t = s.strip(_JAVA_BLANKS)
    if not _JAVA_LONG.fullmatch(t):
        return None
    v = int(t)
    return v if -(1 << 63) <= v < (1 << 63) else None


def format_double(x: float) -> str:
    """Java's Double.toString(x); repr() agrees with it on 1e-3 <= |x| < 1e7."""
    if 1e-3 <= abs(x) < 1e7:
        return repr(x)
    return java_double(x)
