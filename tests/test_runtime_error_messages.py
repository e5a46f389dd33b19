"""Bad values reaching operators and builtins stop with a DML error that says what is wrong,
never with an "internal error" (a Python exception passed through). The programs are those a
mutation fuzzer of the conformance cases found; where SystemDS rejects the same program, the
conformance case beside it (tests/conformance/cases/errors) records that."""
import io
import warnings

import pytest

import dmlpy

CASES = [
    # operators with a string or list operand
    ('x = 3\nprint(x %% " ")', r"arithmetic '%%' is not supported over string inputs"),
    ('p = 3\nprint(p / "2")', r"arithmetic '/' is not supported over string inputs"),
    ('t = 5\ns = list(a=1)\nprint(t + s)', r"operator \+ is not defined for a list operand"),
    ('print(2 ^ list(a=1))', r"operator \^ is not defined for a list operand"),
    # a string argument of a function of one statement block is cast, and must read as a number
    ('add = function(int a, int b) return (int c) { c = a + b }\nprint(add("a", 3))',
     r'an int scalar is declared here, but the string "a" given is not a number'),
    # ... in a function with control flow it is refused (SystemDS passes it on as text)
    ('add = function(int a) return (int c) {\n  c = a\n  if (c > 0) { c = c + 1 }\n}\nprint(add("5"))',
     r'an int scalar is declared here, but the string "5" is given'),
    # numbers that are no integers where one is needed
    ('B = matrix(1, rows=2, cols=NaN)', r"cols must be an integer, not NaN"),
    ('v = matrix(1.5, rows=2, cols=2)\nprint(toString(v, decimal=Inf))', r"decimal must be an integer, not Infinity"),
    ('X = matrix(seq(1, 12), rows=4, cols=3)\nprint(toString(roll(X, Inf)))',
     r"Infinity given where an integer is needed"),
    ('print(toString(seq(0, 1, NaN)))', r"seq\(\): invalid parameters \(0\.0, 1\.0, NaN\)"),
    ('print(toString(seq(0, Inf, 1)))', r"seq\(\): invalid parameters \(0\.0, Infinity, 1\.0\)"),
    ('A = matrix("1.7 2.2 1e308", rows=3, cols=1)\nprint(toString(table(A, matrix(1, rows=3, cols=1))))',
     r"a number too large for a 64-bit integer"),
    # (dmlpy's ints do not wrap at 2^63, a known difference; a huge one in a division)
    ('x = 1\nwhile (x / 100) x = x * 3', r"an integer too large for a double"),
    # dimensions SystemDS cannot hold
    ('X = matrix(3, rows=1e10, cols=2)', r"matrix\(\): 10000000000 rows are more than SystemDS supports"),
    ('X = rand(rows=2, cols=1e308)', r"rand\(\): 1\.0E308 columns are more than SystemDS supports"),
    # arguments of the wrong kind
    ('B = sample(100, 6, 42, matrix("1 2 3 4", rows=2, cols=2))', r"sample\(\): replacement must be a boolean"),
    ('X = matrix(1, rows=2, cols=2)\nwrite(X, "m.out", X)', r"write: the format must be a string, not a matrix"),
    ('print(toString(unique(matrix(1, rows=2, cols=1), matrix(1, rows=2, cols=1))))',
     r"unique\(\): dir must be 'r' or 'c', not a matrix"),
    ('print(toString(ppred(matrix(0, rows=2, cols=2), 1, matrix(1, rows=1, cols=1))))',
     r"ppred\(\): unknown relational operator"),
    ('print(toString(bias_add(1, "a")))', r"bias_add\(\) needs a matrix input, not an int"),
    ('print(det(TRUE))', r"det\(\) needs a matrix argument, not a boolean"),
    # a list reaching a matrix parameter (its type known only at run time)
    ('f = function(matrix[double] X) return (matrix[double] Y) { Y = X + 1e-10 }\n'
     'L = list(list(1))\nY = f(as.list(L))', r"a matrix is declared here, but a list is given"),
    # eval with arguments that do not fit the function
    ('g = function(matrix[double] X) return (matrix[double] Y) { Y = X * 2 }\n'
     'Y = eval("g", list(matrix(1, rows=2, cols=2), 3))', r"eval\(\): g\(\) takes 1 argument, but 2 are given"),
    ('g = function(matrix[double] X, double s) return (matrix[double] Y) { Y = X * s }\n'
     'Y = eval("g", list(matrix(1, rows=2, cols=2)))', r"eval\(\): g\(\) needs a value for its parameter 's'"),
]


@pytest.mark.parametrize("script, message", CASES, ids=[c[1][:50] for c in CASES])
def test_bad_values_give_a_dml_error(script, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(dmlpy.DMLError, match=message) as e:
        dmlpy.Session(stdout=io.StringIO()).run(script)
    assert "internal error" not in str(e.value)
    assert e.value.location is not None and e.value.location.line >= 1


def test_toString_decimal_bounds_as_java():
    # Java's DecimalFormat keeps at most 340 fraction digits; a negative count: up to 3, no padding
    out = dmlpy.run('v = matrix("1.23456 0.1 100 -2.5", rows=1, cols=4)\n'
                    'a = toString(v, decimal=-1)\nb = toString(matrix(1/3, rows=1, cols=1), decimal=400)',
                    outputs=["a", "b"])
    assert out["a"] == "1.235 0.1 100 -2.5\n"
    assert out["b"] == "0.3333333333333333" + "0" * 324 + "\n"


def test_numpy_warnings_do_not_reach_the_user():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = dmlpy.run("m = colMeans(matrix(0, rows=0, cols=3)); v = colVars(matrix(0, rows=0, cols=2))",
                        outputs=["m", "v"])
    assert out["m"].shape == (1, 3) and out["v"].shape == (1, 2)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("script, message", [
    ('out = max_pool(list(a=1), input_shape=[1,1,4,4], pool_size=[2,2], stride=[2,2], padding=[0,0])',
     r"max_pool\(\) needs a matrix input, not a list"),
    ('dW = conv2d_backward_filter(as.frame(matrix(1, 2, 2)), matrix(1, 2, 4), input_shape=[2,1,3,3], '
     'filter_shape=[1,1,2,2], stride=[2,2], padding=[1,1])', r"conv2d_backward_filter\(\) needs a matrix input, not a frame"),
    ('[a, b, c, d, e] = lstm(1, 2, 3, 4, 5, TRUE)', r"lstm\(\) needs a matrix X, not an int"),
    ('[a, b, c, d, e] = lstm(matrix(1, 2, 6), matrix(1, 5, 8), matrix(1, 1, 8), matrix(1, 2, 2), matrix(1, 2, 2), "x")',
     r"lstm\(\)'s return_sequences must be a boolean"),
    ('print(qchisq(target=1e308, df=10))', r"OutOfRangeException -- 100,000,000,000"),
], ids=["max_pool", "conv2d_backward_filter", "lstm", "lstm_return_sequences", "qchisq"])
def test_bad_builtin_arguments_give_a_dml_error(script, message):
    with pytest.raises(dmlpy.DMLError, match=message) as e:
        dmlpy.Session(stdout=io.StringIO()).run(script)
    assert "internal error" not in str(e.value)


def test_degrees_of_freedom_beyond_a_java_int_saturate():
    # SystemDS casts df to a Java int: 1e308 becomes 2147483647 (a t distribution that close to
    # the normal gives the normal's quantile; the chi-squared one's far tail gives 0)
    out = dmlpy.run('a = icdf(target=0.9, dist="t", df=1e308)\nb = pchisq(target=3, df=1e308)', outputs=["a", "b"])
    assert round(out["a"], 5) == 1.28155 and out["b"] == 0.0


def test_toString_of_large_values_with_many_decimals():
    # (Python's default decimal context held 28 digits: 3e15 with 20 decimals needs 36)
    out = dmlpy.run("s = toString(matrix(3e15, 1, 1), decimal=20)", outputs=["s"])
    assert out["s"] == "3000000000000000." + "0" * 20 + "\n"
