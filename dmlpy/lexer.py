"""DML source text -> tokens, for the LALR parser (lalr.py).

The terminals are the grammar's (grammar/dml.lark, as Lark compiled them: lalr.py stores them with
the parse tables). One compiled pattern tries them in the order Lark's basic lexer would (priority,
then longest possible match, then name; the first alternative that matches wins), keywords are told
from names by a dictionary lookup, and the loop keeps its state in locals.

The lexer is contextual, as Lark's is by default: a token's terminal must be one the parser accepts
in its current state. The pattern over all terminals finds it in one step nearly always; where its
choice is not acceptable there (`=` is EQUAL in a call's arguments and _ASSIGN in a statement; a
keyword where only a name fits), the token is matched again with the terminals of that state alone.

It also does the work of a post-lexer:
- a '[' that does not directly follow a name on the same line opens a list or the targets of a
  multi-assignment: it becomes _LIST_OPEN. LALR(1) cannot tell `x = y` + newline + `[a, b] = f()`
  from indexing `y[a, b]`; SystemDS's parser can, by unbounded look-ahead. Indexing always follows
  its name on the same line, so the token before a '[' decides.
- characters no token uses (STRAY) are skipped with a warning, as SystemDS's lexer does.
"""
from __future__ import annotations

import re

_warnings: list[str] = []


def take_warnings() -> list[str]:
    """The warnings of the lexing since the last call (and forget them)."""
    out = _warnings[:]
    _warnings.clear()
    return out


class Token(str):
    """A token: its text (the str itself), its terminal's name and where it starts (1-based line
    and column)."""

    __slots__ = ("type", "line", "column")

    def __new__(cls, type, value, line, column):
        tok = str.__new__(cls, value)
        tok.type, tok.line, tok.column = type, line, column
        return tok

    @property
    def value(self) -> str:
        return str(self)

    def __repr__(self):
        return f"Token({self.type!r}, {str(self)!r})"


class UnexpectedCharacter(Exception):
    """No terminal matches the text at `pos`."""

    def __init__(self, text: str, pos: int, line: int, column: int):
        super().__init__(f"unexpected character {text[pos]!r} at line {line}, column {column}")
        self.char, self.pos, self.line, self.column = text[pos], pos, line, column


class UnexpectedToken(Exception):
    """A token the parser cannot take in its state; `expected` are the terminals it could take."""

    def __init__(self, token: Token, expected):
        super().__init__(f"unexpected {token.type} {str(token)!r} at line {token.line}, column {token.column}")
        self.token, self.expected = token, set(expected)
        self.line, self.column = token.line, token.column


class Terminal:
    """A terminal as lalr.py stores it: name, regular expression, and what Lark's basic lexer
    orders terminals by (priority, longest possible match, length of the pattern as written)."""

    __slots__ = ("name", "regexp", "priority", "max_width", "pattern_length")

    def __init__(self, name, regexp, priority, max_width, pattern_length):
        self.name, self.regexp, self.priority = name, regexp, priority
        self.max_width, self.pattern_length = max_width, pattern_length

    def sort_key(self):
        return (-self.priority, -self.max_width, -self.pattern_length, self.name)


class _Scanner:
    """One compiled pattern for a set of terminals.

    The pattern first skips whatever the ignored terminals match (whitespace and comments; no other
    terminal of DML begins as they do), then matches one token, or nothing at the end of the text.
    STRAY, though ignored, stays an alternative of its own (it warns).
    """

    def __init__(self, terminals, keywords, ignore):
        terminals = sorted(terminals, key=Terminal.sort_key)
        names = {t.name for t in terminals}
        # (regex terminal, literal) -> literal's terminal, for the literals in this set
        self.keywords: dict[str, dict[str, str]] = {}
        embedded = set()
        for regex_name, literal, literal_name in keywords:
            if regex_name in names and literal_name in names:
                self.keywords.setdefault(regex_name, {})[literal] = literal_name
                embedded.add(literal_name)
        skip = "|".join(t.regexp for t in terminals if t.name in ignore and t.name != "STRAY")
        tokens = "|".join(f"(?P<{t.name}>{t.regexp})" for t in terminals
                          if t.name not in embedded and (t.name not in ignore or t.name == "STRAY"))
        self.match = re.compile(f"(?:{skip})*(?:{tokens})?").match

    def token_type(self, kind: str, value: str) -> str:
        retype = self.keywords.get(kind)
        return retype.get(value, kind) if retype else kind


class Lexer:
    """The grammar's terminals (with the keyword relation and the ignored terminals, as lalr.py
    stores them) -> tokens of a text, for one parser."""

    def __init__(self, terminals: list[Terminal], keywords, ignore):
        self.terminals = terminals
        self.terminal_names = frozenset(t.name for t in terminals) | {"$END"}
        self.keywords = keywords
        self.ignore = frozenset(ignore)
        self.all = _Scanner(terminals, keywords, self.ignore)
        self._by_state: dict[int, _Scanner] = {}
        self._by_terminals: dict[frozenset, _Scanner] = {}

    def _state_scanner(self, states, position) -> _Scanner:
        """The scanner of the terminals acceptable in one parser state (made once per state)."""
        sc = self._by_state.get(position)
        if sc is None:
            key = frozenset(states[position])
            sc = self._by_terminals.get(key)
            if sc is None:
                sc = _Scanner([t for t in self.terminals if t.name in key or t.name in self.ignore
                               or t.name == "LSQB"], self.keywords, self.ignore)
                self._by_terminals[key] = sc
            self._by_state[position] = sc
        return sc

    def tokens(self, text: str, states, stack):
        """The tokens of `text`, then one of type $END; `stack` is the parser's live state stack (its
        top decides what is acceptable), `states` its action table."""
        match, keywords = self.all.match, self.all.keywords
        count = text.count
        pos, end = 0, len(text)
        line, line_start = 1, 0
        after_name_line = 0  # the line a NAME token ended on, while it is the last token
        while True:
            m = match(text, pos, end)
            kind = m.lastgroup
            if kind is None:  # nothing but ignored text up to the end, or a character no token has
                if m.end() != end:
                    bad = m.end()
                    raise UnexpectedCharacter(text, bad, 1 + count("\n", 0, bad), bad - text.rfind("\n", 0, bad))
                line += count("\n", m.start(), end)
                yield Token("$END", "", line, end - text.rfind("\n", 0, end))
                return
            start, pos = m.span(kind)
            if count("\n", m.start(), start):  # newlines in the skipped text
                line += count("\n", m.start(), start)
                line_start = text.rfind("\n", 0, start) + 1
            value = m.group(kind)
            if kind in keywords:
                kind = keywords[kind].get(value, kind)
            if kind not in states[stack[-1]] and kind != "LSQB" and kind != "STRAY":
                kind, value = self._in_context(kind, value, text, start, line, line_start, states, stack[-1])
                pos = start + len(value)
            col = start - line_start + 1
            if kind == "STRAY":
                _warnings.append(f"line {line}:{col}: ignored the unexpected character {value!r}")
                continue
            if kind == "LSQB" and after_name_line != line:
                kind = "_LIST_OPEN"
            yield Token(kind, value, line, col)
            if "\n" in value:  # a string over several lines
                line += value.count("\n")
                line_start = start + value.rindex("\n") + 1
            after_name_line = line if kind == "NAME" else 0

    def _in_context(self, kind, value, text, start, line, line_start, states, position):
        """The token at `start` matched with only the terminals the parser accepts now."""
        scanner = self._state_scanner(states, position)
        m = scanner.match(text, start)
        if m.lastgroup is None or m.start(m.lastgroup) != start:
            raise UnexpectedToken(Token(kind, value, line, start - line_start + 1),
                                  [n for n in states[position] if n in self.terminal_names])
        value = m.group(m.lastgroup)
        return scanner.token_type(m.lastgroup, value), value
