"""dmlpy prints doubles as SystemDS does: Java 17's Double.toString, which is not always the
shortest text that reads back (1e23 prints 9.999999999999999E22, 2^-31 4.6566128730773926E-10,
Double.MIN_VALUE 4.9E-324). The recording (tests/record_java_doubles.py) holds every double of a
wide sample whose Java text differs from Python's shortest repr, and as many others."""
import io
import json
from pathlib import Path

import pytest

import dmlpy
from dmlpy.javadouble import java_double

RECORDED = json.loads((Path(__file__).parent / "data" / "java_doubles.json").read_text())["cases"]


@pytest.mark.parametrize("chunk", range(8))
def test_every_recorded_double_prints_as_java_does(chunk):
    wrong = [(v, java, java_double(float(v))) for v, java in RECORDED[chunk::8]
             if java_double(float(v)) != java]
    assert wrong == []
    wrong = [(v, java) for v, java in RECORDED[chunk::8] if java_double(-float(v)) != "-" + java]
    assert wrong == []


def test_print_and_string_concatenation_use_it():
    out = dmlpy.run('a = 1e23\nb = 2^-31\ns = "x" + a', outputs=["s"])
    assert out["s"] == "x9.999999999999999E22"
    buf = io.StringIO()
    dmlpy.run("print(2^-31)\nprint(5e-324)\nprint(8.41e21)\nprint(0.1)", stdout=buf)
    assert buf.getvalue() == "4.6566128730773926E-10\n4.9E-324\n8.409999999999999E21\n0.1\n"


def test_toString_rounds_javas_digits():
    # DecimalFormat rounds the digits Double.toString has (recorded from SystemDS 3.4.0)
    out = dmlpy.run('X = matrix("1e23 5e22 2.0118919930868186e25 0.125", rows=1, cols=4)\n'
                    's = toString(X)\nt = toString(matrix(2^-31, 1, 1), decimal=25)', outputs=["s", "t"])
    assert out["s"] == ("99999999999999990000000.000 49999999999999996000000.000 "
                        "20118919930868185000000000.000 0.125\n")
    assert out["t"] == "0.0000000004656612873077393\n"
