"""The LALR(1) parser: Lark compiles grammar/dml.lark into tables once, this module runs them.

Lark builds the tables (states, rules, terminals) the first time a grammar file is seen; they are
then kept as plain data in the cache folder and loaded with marshal, so a run that finds them needs
no Lark at all (importing Lark and loading its own cache took about 50 ms of every start-up).

The driver reduces exactly as Lark's LALR parser with an embedded transformer and
maybe_placeholders=True does: a rule's children lose the tokens the grammar filters out (anonymous
strings and terminals whose names start with '_'), gain a None for each absent [optional] part,
take in the children of inlined rules (names starting with '_'), and a ?rule with a single child
is that child; then the transformer's method named after the rule's alias or name builds the
value. tests/test_lalr.py checks the ASTs against Lark's own parser over every DML file at hand.
"""
from __future__ import annotations

import marshal
import os
import sys

from .lexer import Lexer, Terminal, UnexpectedToken

FORMAT = 2  # the layout of the stored data


class _Inline:
    """The value of a rule without a method of its own (an inlined `_rule`): its children."""

    __slots__ = ("name", "children")

    def __init__(self, name, children):
        self.name, self.children = name, children

    def __repr__(self):
        return f"_Inline({self.name!r}, {self.children!r})"


# ------------------------------------------------------------------ building (with Lark)

def build_tables(grammar_text: str, start: str) -> dict:
    """Lark's LALR tables for the grammar, as plain data (dicts, lists, tuples, str, int)."""
    import re

    from lark import Lark
    from lark.lexer import PatternStr
    from lark.parsers.lalr_analysis import Shift

    lk = Lark(grammar_text, start=start, parser="lalr", lexer="basic", maybe_placeholders=True)
    table = lk.parser.parser.parser.parse_table
    rules, rule_index = [], {}

    def rule_id(rule) -> int:
        if rule not in rule_index:
            rule_index[rule] = len(rules)
            rules.append(_rule_spec(rule))
        return rule_index[rule]

    n_states = max(table.states) + 1
    states = [dict() for _ in range(n_states)]
    for s, actions in table.states.items():
        for sym, (action, arg) in actions.items():
            # a shift (or goto) is the new state, >= 0; a reduction is ~rule (< 0)
            states[s][str(sym)] = arg if action is Shift else ~rule_id(arg)

    terminals = [(str(t.name), t.pattern.to_regexp(), t.priority, t.pattern.max_width, len(t.pattern.value))
                 for t in lk.terminals]
    # A literal that a regex terminal of the same priority matches whole (a keyword such as `if`,
    # which NAME matches) is found as that regex's match and retyped.
    keywords = [(str(rt.name), st.pattern.value, str(st.name))
                for rt in lk.terminals if not isinstance(rt.pattern, PatternStr)
                for st in lk.terminals if isinstance(st.pattern, PatternStr) and st.priority == rt.priority
                and re.fullmatch(rt.pattern.to_regexp(), st.pattern.value)]
    return {"format": FORMAT, "states": states, "rules": rules, "start": table.start_states[start],
            "end": table.end_states[start], "terminals": terminals, "keywords": keywords,
            "ignore": [str(n) for n in lk.ignore_tokens]}


def _rule_spec(rule) -> tuple:
    """(origin, number of symbols, callback name, expand single child, child filter or None).

    The child filter: ((index, splice, Nones before), ...) and the Nones to append."""
    opts = rule.options
    expansion = rule.expansion
    empty = opts.empty_indices
    if empty:
        # how many Nones go before each symbol (and after the last): the runs of True between Falses
        nones_at = [len(run) for run in "".join(str(int(b)) for b in empty).split("0")]
    else:
        nones_at = [0] * (len(expansion) + 1)
    include, pending = [], 0
    for i, sym in enumerate(expansion):
        pending += nones_at[i]
        if opts.keep_all_tokens or not (sym.is_term and sym.filter_out):
            include.append((i, (not sym.is_term) and sym.name.startswith("_"), pending))
            pending = 0
    pending += nones_at[len(expansion)]
    needs_filter = bool(empty) or len(include) < len(expansion) or any(x[1] for x in include)
    child_filter = (tuple(include), pending) if needs_filter else None
    name = str(rule.alias or opts.template_source or rule.origin.name)
    return (str(rule.origin.name), len(expansion), name, bool(opts.expand1 and not rule.alias), child_filter)


# ------------------------------------------------------------------ loading and caching

def cache_path(grammar_path: str, start: str) -> str | None:
    """Where the tables of this grammar file are kept: the name changes with the grammar file, with
    this module (which derives them) and with Python's version (marshal's format may change)."""
    folder = os.environ.get("DMLPY_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "dmlpy")
    try:
        grammar, code = os.stat(grammar_path), os.stat(__file__)
    except OSError:
        return None
    py = "".join(map(str, sys.version_info[:2]))
    return os.path.join(folder, f"dml-{start}-{grammar.st_mtime_ns}-{grammar.st_size}-{code.st_mtime_ns}"
                                f"-py{py}-v{FORMAT}.tables")


def load_tables(grammar_path: str, start: str) -> dict:
    """The tables from the cache, or built by Lark and cached (a cache that cannot be read or
    written is rebuilt or skipped, never an error)."""
    path = cache_path(grammar_path, start)
    if path is not None:
        try:
            with open(path, "rb") as f:
                data = marshal.loads(f.read())     # (marshal.load(f) reads in small pieces: ~5x slower)
            if isinstance(data, dict) and data.get("format") == FORMAT:
                return data
        except (OSError, ValueError, EOFError, TypeError):
            pass
    with open(grammar_path, encoding="utf-8") as f:
        data = build_tables(f.read(), start)
    if path is not None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                marshal.dump(data, f)
            os.replace(tmp, path)      # readers never see a half-written file
        except OSError:
            pass
    return data


# ------------------------------------------------------------------ running

class Parser:
    """Runs the tables over a text, building values with a transformer's methods."""

    def __init__(self, data: dict, transformer):
        self.states = data["states"]
        self.start, self.end = data["start"], data["end"]
        self.lexer = Lexer([Terminal(*t) for t in data["terminals"]], data["keywords"], data["ignore"])
        self.rules = [(origin, size, _builder(name, expand1, child_filter, transformer))
                      for origin, size, name, expand1, child_filter in data["rules"]]

    def parse(self, text: str):
        states, rules, end = self.states, self.rules, self.end
        stack, values = [self.start], []
        for token in self.lexer.tokens(text, states, stack):   # the last is $END
            ttype = token.type
            while True:
                action = states[stack[-1]].get(ttype)
                if action is None or (action >= 0 and ttype == "$END"):
                    raise UnexpectedToken(token, _expected(states[stack[-1]]))
                if action >= 0:
                    stack.append(action)
                    values.append(token)
                    break
                origin, size, build = rules[~action]
                if size:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                else:
                    children = []
                values.append(build(children))
                goto = states[stack[-1]][origin]
                if goto == end:     # the start symbol, reduced at $END: done
                    return values[-1]
                stack.append(goto)


def _expected(actions) -> set:
    return {s for s in actions if s.isupper()}


def _builder(name, expand1, child_filter, transformer):
    """The function that makes a rule's value from the values of its symbols."""
    method = getattr(transformer, name, None) if not name.startswith("_") else None
    make = method if method is not None else (lambda children: _Inline(name, children))
    if child_filter is None:
        if expand1:
            return lambda children: children[0] if len(children) == 1 else make(children)
        return make
    include, append_nones = child_filter

    def build(children):
        kept = []
        for i, splice, nones in include:
            if nones:
                kept += [None] * nones
            if splice:
                kept += children[i].children
            else:
                kept.append(children[i])
        if append_nones:
            kept += [None] * append_nones
        if expand1 and len(kept) == 1:
            return kept[0]
        return make(kept)
    return build
