"""The Python API: dmlpy.run, dmlpy.Session, numpy in / numpy out, DMLError with locations."""
import io

import numpy as np
import pytest

import dmlpy


def test_run_numpy_in_numpy_out():
    X = np.arange(6, dtype=float).reshape(2, 3)
    out = dmlpy.run("Y = X %*% t(X); s = sum(X); n = nrow(X)", inputs={"X": X}, outputs=["Y", "s", "n"])
    np.testing.assert_array_equal(out["Y"], X @ X.T)
    assert out["s"] == 15.0 and type(out["s"]) is float
    assert out["n"] == 2 and type(out["n"]) is int


def test_one_dimensional_input_is_a_column_vector():
    out = dmlpy.run("r = nrow(v); c = ncol(v)", inputs={"v": np.array([1.0, 2.0, 3.0])}, outputs=["r", "c"])
    assert (out["r"], out["c"]) == (3, 1)


def test_inputs_are_not_modified():
    X = np.zeros((2, 2))
    dmlpy.run("X[1, 1] = 5", inputs={"X": X}, outputs=["X"])
    assert X[0, 0] == 0.0


def test_lists_and_scalars_come_back_as_python():
    out = dmlpy.run('L = list(a=1, b="x", c=TRUE); U = list(1.5, 2)', outputs=["L", "U"])
    assert out["L"] == {"a": 1, "b": "x", "c": True}
    assert out["U"] == [1.5, 2]


def test_args_become_command_line_parameters():
    out = dmlpy.run("y = $k * 2; z = $name + '!'", args={"k": "21", "name": "hi"}, outputs=["y", "z"])
    assert out == {"y": 42, "z": "hi!"}


def test_run_a_file(tmp_path):
    f = tmp_path / "s.dml"
    f.write_text("r = 2 ^ 10\n")
    assert dmlpy.run(str(f), outputs=["r"]) == {"r": 1024.0}


def test_stdout_is_captured():
    buf = io.StringIO()
    dmlpy.run('print("hello")', stdout=buf)
    assert buf.getvalue() == "hello\n"


def test_session_keeps_variables_and_functions():
    s = dmlpy.Session(stdout=io.StringIO())
    s.run("f = function(double x) return (double y) { y = x * 2 }")
    s.run("a = f(20)")
    assert s.run("b = f(a) + 1", outputs=["b"]) == {"b": 81.0}
    assert s["a"] == 40.0
    s["M"] = np.eye(2)
    assert s.run("t = sum(M)", outputs="t") == {"t": 2.0}


def test_session_keeps_sourced_namespaces(tmp_path):
    lib = tmp_path / "lib.dml"
    lib.write_text("twice = function(double x) return (double y) { y = 2 * x }\n")
    s = dmlpy.Session(stdout=io.StringIO(), workdir=str(tmp_path))
    s.run('source("lib.dml") as lib')
    assert s.run("v = lib::twice(4)", outputs=["v"]) == {"v": 8.0}


def test_errors_raise_dmlerror_with_location():
    with pytest.raises(dmlpy.DMLError) as e:
        dmlpy.run('x = 1\ny = matrix(1, 2, 2) %*% matrix(1, 3, 3)\n', stdout=io.StringIO())
    assert e.value.location.line == 2
    assert "non-conformant" in e.value.message
    with pytest.raises(dmlpy.DMLSyntaxError) as e:
        dmlpy.run("x = = 1")
    assert (e.value.location.line, e.value.location.column) == (1, 5)


def test_parse_returns_the_ast():
    prog = dmlpy.parse("x = 1 + 2\nf = function(int a) return (int b) { b = a }\n")
    assert len(prog.statements) == 1 and prog.functions[0].name == "f"
    assert prog.statements[0].target.name == "x"


def test_left_indexing_in_a_loop_does_not_alias():
    out = dmlpy.run("""
        X = matrix(0, 3, 3)
        Y = X
        for (i in 1:3) { X[i, i] = i }
        sx = sum(X); sy = sum(Y)
    """, outputs=["sx", "sy"])
    assert out == {"sx": 6.0, "sy": 0.0}


def test_eval_refuses_a_matrix_for_a_scalar_parameter():
    # (SystemDS 3.4.0 runs such a call and computes garbage; the compiled body trusts its types)
    with pytest.raises(dmlpy.DMLError, match=r"eval\(\): f\(\) parameter reg is a double scalar, but a matrix is given"):
        dmlpy.run('f = function(Double reg) return (Matrix[Double] y) { y = matrix(1, rows=4, cols=1) * reg }\n'
                  'y = eval("f", list(reg=matrix(1, rows=40, cols=1)))')


def test_a_matrix_for_a_declared_scalar_parameter_is_a_dml_error():
    # the argument's type is unknown until it runs (an element of a list), so no static check
    with pytest.raises(dmlpy.DMLError, match="a double scalar is declared here, but a matrix is given") as e:
        dmlpy.run("f = function(Double reg) return (Double y) { y = reg * 2 }\n"
                  "L = list(matrix(1, rows=2, cols=2))\ny = f(as.scalar(L))")
    assert (e.value.location.line, e.value.location.column) == (1, 14)


@pytest.mark.parametrize("value, message", [
    (np.array([["a", "b"]]), "an array of string values is not a DML matrix"),
    (np.ones((2, 2), complex), "an array of complex values is not a DML matrix"),
    (np.array([["a", 1]], dtype=object), "an array holding values that are not numbers"),
    (None, "a Python NoneType is not a DML value"),
    ({1, 2}, "a Python set is not a DML value"),
    (b"abc", "a Python bytes is not a DML value"),
])
def test_inputs_that_are_no_dml_values_are_refused(value, message):
    with pytest.raises(dmlpy.DMLError, match=message):
        dmlpy.run("y = X", inputs={"X": value}, outputs=["y"])


def test_object_array_of_numbers_is_a_matrix():
    out = dmlpy.run("y = X * 2", inputs={"X": np.array([[2, 1.5]], dtype=object)}, outputs=["y"])
    np.testing.assert_array_equal(out["y"], [[4.0, 3.0]])


@pytest.mark.parametrize("name", ["1x", "if", "a b", "x::y", ""])
def test_input_names_must_be_dml_variable_names(name):
    with pytest.raises(dmlpy.DMLError, match="is not a DML variable name"):
        dmlpy.run("y = 1", inputs={name: 2})


def test_dotted_input_name_is_a_variable():
    assert dmlpy.run("y = a.b + 1", inputs={"a.b": 2}, outputs=["y"]) == {"y": 3}


def test_command_line_parameters_are_scalars():
    with pytest.raises(dmlpy.DMLError, match=r"args: \$n must be a number, string or boolean"):
        dmlpy.run("print($n)", args={"n": np.ones(2)})
    out = io.StringIO()
    dmlpy.run("print($n + 1)", args={"n": np.float64(2.5)}, stdout=out)
    assert out.getvalue() == "3.5\n"


def test_a_missing_script_file_is_named():
    with pytest.raises(dmlpy.DMLError, match="no DML script file 'no_such_script.dml'"):
        dmlpy.run("no_such_script.dml")


def test_inputs_must_be_a_dict():
    with pytest.raises(TypeError, match="inputs must be a dict"):
        dmlpy.run("x = 1", inputs=[1, 2])
