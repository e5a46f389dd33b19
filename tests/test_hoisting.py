"""Loop-invariant expressions are computed once per loop, with unchanged results and errors.

(The results themselves are checked against SystemDS by the loop_invariant_* conformance cases.)
"""
import io

import numpy as np
import pytest

import dmlpy
from dmlpy import ops


@pytest.fixture
def matmul_calls(monkeypatch):
    calls = []
    real = ops.matmul

    def counting(a, b):
        calls.append(a.shape)
        return real(a, b)
    monkeypatch.setattr(ops, "matmul", counting)     # sessions bind the operators when created
    return calls


def run(code, outputs):
    return dmlpy.Session(stdout=io.StringIO()).run(code, outputs=outputs)


def test_invariant_product_is_computed_once(matmul_calls):
    out = run("A = matrix(2, rows=3, cols=3); s = 0\n"
              "for (i in 1:100) { s = s + sum(A %*% A) + i }", ["s"])
    assert out["s"] == 100 * 108 + 5050
    assert len(matmul_calls) == 1


def test_product_of_a_variable_the_loop_assigns_is_not_hoisted(matmul_calls):
    run("A = matrix(1, rows=2, cols=2)\nfor (i in 1:10) { A = A %*% A / 2 }", ["A"])
    assert len(matmul_calls) == 10


def test_left_indexed_variable_is_not_invariant(matmul_calls):
    out = run("A = matrix(1, rows=2, cols=2); s = 0\n"
              "for (i in 1:4) { A[1, 1] = i; s = s + sum(A %*% A) }", ["s"])
    assert len(matmul_calls) == 4
    assert out["s"] == sum(np.sum(np.array([[i, 1.0], [1, 1]]) @ np.array([[i, 1.0], [1, 1]])) for i in range(1, 5))


def test_inner_loop_value_is_recomputed_in_each_outer_iteration(matmul_calls):
    out = run("A = matrix(1, rows=2, cols=2); s = 0\n"
              "for (j in 1:3) { A = A * 2\n  for (i in 1:5) { s = s + sum(A %*% A) } }", ["s"])
    assert len(matmul_calls) == 3
    assert out["s"] == 5 * sum(8 * 4 ** j for j in range(1, 4))


def test_rand_is_not_hoisted():
    out = run("R = matrix(0, rows=20, cols=1)\n"
              "for (i in 1:20) { R[i, 1] = sum(rand(rows=2, cols=2) * 2) }", ["R"])
    assert len(np.unique(out["R"])) == 20


def test_error_in_an_invariant_expression_points_at_the_operator():
    with pytest.raises(dmlpy.DMLError) as e:
        run("A = matrix(1, rows=2, cols=3)\nfor (i in 1:3) {\n  if (i == 2) {\n    C = A %*% A\n  }\n}", [])
    assert (e.value.location.line, e.value.location.column) == (4, 11)
    assert "non-conformant matrices 2x3 and 2x3" in str(e.value)


def test_stats_mode_counts_every_evaluation(tmp_path, capsys):
    from dmlpy.cli import main
    f = tmp_path / "s.dml"
    f.write_text("A = matrix(1, rows=2, cols=2); s = 0\nfor (i in 1:7) { s = s + sum(A %*% A) }\nprint(s)\n")
    assert main([str(f), "-stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("56.0\n")
    counts = {row.split()[1]: int(row.split()[-1]) for row in out.splitlines()[5:]}
    assert counts["%*%"] == 7 and counts["sum"] == 7


def test_plus_equals_in_successive_loops_is_never_taken_for_invariant():
    # x += e is compiled as the node x + e; each loop's is its own (the compiler's memos
    # key nodes by identity, so a node made and dropped per statement could be mistaken)
    code = "".join(f"A{k} = matrix({k}, rows=2, cols=2)\nX{k} = matrix(0, rows=2, cols=2)\n"
                   f"for (i in 1:3) {{ X{k} += A{k} }}\n" for k in range(1, 9))
    out = run(code, [f"X{k}" for k in range(1, 9)])
    assert [float(out[f"X{k}"].sum()) for k in range(1, 9)] == [12.0 * k for k in range(1, 9)]


def test_a_dml_function_named_like_a_pure_builtin_is_called_every_time():
    out = io.StringIO()
    dmlpy.Session(stdout=out).run(
        'colSums = function(matrix[double] X) return (matrix[double] Y) { print("called"); Y = X }\n'
        "A = matrix(1, rows=2, cols=2); s = 0\nfor (i in 1:3) { s = s + sum(colSums(A)) }\nprint(s)")
    assert out.getvalue() == "called\ncalled\ncalled\n12.0\n"
