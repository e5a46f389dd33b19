"""Printing rules: Java's Double.toString layout, round trips, toString's fixed decimals."""
import math

from hypothesis import given, strategies as st

from dmlpy.javadouble import java_double
from dmlpy.values import fixed_decimal


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_java_double_round_trips(x):
    s = java_double(x)
    assert float(s) == x or (x == 0 and float(s) == 0)
    assert "." in s                                  # Java always prints a fraction digit
    mantissa = s.split("E")[0].lstrip("-")
    if "E" in s:
        assert 1 <= float(mantissa) < 10            # computerized scientific notation
        assert not (1e-3 <= abs(x) < 1e7)
    else:
        assert x == 0 or 1e-3 <= abs(x) < 1e7


def test_java_double_layout():
    cases = {1.0: "1.0", 1e7: "1.0E7", 9999999.0: "9999999.0", 0.001: "0.001", 0.00099: "9.9E-4",
             -0.0: "-0.0", 1.5e-10: "1.5E-10", 0.1 + 0.2: "0.30000000000000004", 123456789012.0: "1.23456789012E11",
             math.nan: "NaN", math.inf: "Infinity", -math.inf: "-Infinity"}
    for x, s in cases.items():
        assert java_double(x) == s


def test_fixed_decimal_is_javas_decimalformat():
    # Java's DecimalFormat (what toString uses): half-even, ties decided by the exact binary value
    assert fixed_decimal(0.125, 2) == "0.12"
    assert fixed_decimal(-2.5, 0) == "-2"
    assert fixed_decimal(0.15, 1) == "0.1"          # 0.15 is 0.1499999... in binary
    assert fixed_decimal(-0.0004, 3) == "-0.000"    # a negative value keeps its sign
    assert fixed_decimal(-0.0, 3) == "0.000"        # a zero does not
    assert fixed_decimal(40000000000.0, 3) == "40000000000.000"
    # the digits are the shortest representation, padded: not the exact binary expansion
    assert fixed_decimal(0.1, 17) == "0.10000000000000000"
    assert fixed_decimal(0.1 + 0.2, 17) == "0.30000000000000004"
