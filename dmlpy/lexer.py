"""DML source text -> tokens for Lark's LALR parser.

The terminals are the grammar's (dml.lark); this lexer only matches them faster than Lark's own.
Lark's lexers go through a generic loop per token (a scanner object, a line counter, a callback
table): about half the time of parsing a 1,200-line script. Here one compiled pattern tries the
terminals in the order Lark's basic lexer would (priority, then longest possible match, then name;
the first alternative that matches wins), keywords are told from names by a dictionary lookup, and
the token loop keeps its state in locals.

It also does the work of a post-lexer:
- a '[' that does not directly follow a name on the same line opens a list or the targets of a
  multi-assignment: it becomes _LIST_OPEN. LALR(1) cannot tell `x = y` + newline + `[a, b] = f()`
  from indexing `y[a, b]`; SystemDS's parser can, by unbounded look-ahead. Indexing always follows
  its name on the same line, so the token before a '[' decides.
- characters no token uses (STRAY) are skipped with a warning, as SystemDS's lexer does.
"""
from __future__ import annotations

import re

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.lexer import Lexer, PatternStr

_warnings: list[str] = []


def take_warnings() -> list[str]:
    """The warnings of the lexing since the last call (and forget them)."""
    out = _warnings[:]
    _warnings.clear()
    return out


class _Scanner:
    """One compiled pattern for a set of terminals, tried in the order of Lark's basic lexer.

    The pattern first skips whatever the ignored terminals match (whitespace and comments; no other
    terminal of DML begins as they do), then matches one token, or nothing at the end of the text.
    Ignored terminals listed in `keep` stay alternatives of their own (STRAY, which warns).
    """

    def __init__(self, terminals, ignore, keep, flags):
        terminals = sorted(terminals,
                           key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        # A literal that a regex terminal of the same priority matches whole (a keyword such as
        # `if`, which NAME matches) is found as that regex's match and then retyped.
        self.keywords: dict[str, dict[str, str]] = {}
        embedded = set()
        for rt in terminals:
            if isinstance(rt.pattern, PatternStr):
                continue
            for st in terminals:
                if isinstance(st.pattern, PatternStr) and st.priority == rt.priority \
                        and re.fullmatch(rt.pattern.to_regexp(), st.pattern.value, flags):
                    self.keywords.setdefault(str(rt.name), {})[st.pattern.value] = str(st.name)
                    embedded.add(st.name)
        skip = "|".join(t.pattern.to_regexp() for t in terminals if t.name in ignore and t.name not in keep)
        tokens = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals
                          if t.name not in embedded and (t.name not in ignore or t.name in keep))
        self.match = re.compile(f"(?:{skip})*(?:{tokens})?", flags).match

    def token_type(self, kind: str, value: str) -> str:
        retype = self.keywords.get(kind)
        return retype.get(value, kind) if retype else kind


class DMLLexer(Lexer):
    """Lark custom lexer, contextual as Lark's own: a token's terminal must be one the parser
    accepts in its current state. The scanner over all terminals finds it in one step nearly
    always; where its choice is not acceptable there (`=` is EQUAL in a call's arguments and
    _ASSIGN in a statement; a keyword where only a name fits), the token is matched again with the
    terminals of that state alone, as Lark's contextual lexer does for every token."""

    __future_interface__ = 2

    def __init__(self, conf):
        self.terminals = list(conf.terminals)
        self.terminal_names = frozenset(t.name for t in self.terminals) | {"$END"}
        self.flags = conf.g_regex_flags
        self.ignore = frozenset(conf.ignore)
        self.all = _Scanner(self.terminals, self.ignore, ("STRAY",), self.flags)
        self._by_state: dict[int, _Scanner] = {}  # parser state -> scanner (one parse table per lexer)
        self._by_terminals: dict[frozenset, _Scanner] = {}

    def _state_scanner(self, states, position) -> _Scanner:
        """The scanner of the terminals acceptable in one parser state (made once per state)."""
        sc = self._by_state.get(position)
        if sc is None:
            accepts = states[position]
            sc = self._by_terminals.get(frozenset(accepts))
            if sc is None:
                sc = _Scanner([t for t in self.terminals if t.name in accepts or t.name in self.ignore
                               or t.name == "LSQB"], self.ignore, ("STRAY",), self.flags)
                self._by_terminals[frozenset(accepts)] = sc
            self._by_state[position] = sc
        return sc

    def lex(self, lexer_state, parser_state):
        text, pos, end = lexer_state.text.text, lexer_state.text.start, lexer_state.text.end
        match, keywords = self.all.match, self.all.keywords
        states, stack = parser_state.parse_conf.states, parser_state.state_stack
        count = text.count
        line, line_start = 1 + count("\n", 0, pos), text.rfind("\n", 0, pos) + 1
        after_name_line = 0  # the line a NAME token ended on, while it is the last token
        while True:
            m = match(text, pos, end)
            kind = m.lastgroup
            if kind is None:  # nothing but ignored text up to the end, or a character no token has
                if m.end() != end:
                    self._unexpected_character(text, m.end(), parser_state)
                return
            start, pos = m.span(kind)
            if count("\n", m.start(), start):  # newlines in the skipped text
                line += count("\n", m.start(), start)
                line_start = text.rfind("\n", 0, start) + 1
            value = m.group(kind)
            if kind in keywords:
                kind = keywords[kind].get(value, kind)
            if kind not in states[stack[-1]] and kind != "LSQB" and kind != "STRAY":
                kind, value = self._in_context(kind, value, text, start, end, line, line_start, parser_state)
                pos = start + len(value)
            col = start - line_start + 1
            if kind == "STRAY":
                _warnings.append(f"line {line}:{col}: ignored the unexpected character {value!r}")
                continue
            if kind == "LSQB" and after_name_line != line:
                kind = "_LIST_OPEN"
            if "\n" in value:  # a string over several lines
                first = line
                line += value.count("\n")
                line_start = start + value.rindex("\n") + 1
                yield Token(kind, value, start, first, col, line, pos - line_start + 1, pos)
            else:
                yield Token(kind, value, start, line, col, line, col + len(value), pos)
            after_name_line = line if kind == "NAME" else 0

    def _unexpected_character(self, text, pos, parser_state):
        line = 1 + text.count("\n", 0, pos)
        raise UnexpectedCharacters(text, pos, line, pos - text.rfind("\n", 0, pos), state=parser_state)

    def _in_context(self, kind, value, text, start, end, line, line_start, parser_state):
        """The token at `start` matched with only the terminals the parser accepts now."""
        states, position = parser_state.parse_conf.states, parser_state.position
        scanner = self._state_scanner(states, position)
        m = scanner.match(text, start, end)
        if m.lastgroup is None or m.start(m.lastgroup) != start:
            tok = Token(kind, value, start, line, start - line_start + 1)
            raise UnexpectedToken(tok, {n for n in states[position] if n in self.terminal_names}, state=parser_state)
        return scanner.token_type(m.lastgroup, m.group(m.lastgroup)), m.group(m.lastgroup)
