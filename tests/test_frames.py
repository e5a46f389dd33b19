"""Frames: transformencode/apply/decode, indexing and binding, beyond the recorded conformance cases
(tests/conformance/cases/builtins/transform_*.dml, frame_*.dml): the spec's lenient JSON, and
the errors of bad input."""
import io

import pytest

import dmlpy
from dmlpy.builtins.transform import _parse_spec

F = 'F = as.frame(matrix("3 1 2 3", rows=2, cols=2))\n'


def test_spec_takes_unquoted_keys_and_words():
    spec = _parse_spec("t", '{ids:true,recode:["C 1", x],dummycode:[{id:2,method:one-hot}],a:1e5,b:-2.5E-3}')
    assert spec == {"ids": True, "recode": ["C 1", "x"], "dummycode": [{"id": 2, "method": "one-hot"}],
                    "a": 100000.0, "b": -0.0025}


def test_recode_by_column_name():
    out = dmlpy.run(F + '[X, M] = transformencode(target=F, spec="{recode:[\\"C2\\"]}")', outputs=["X"])
    assert out["X"].tolist() == [[3.0, 1.0], [2.0, 2.0]]


@pytest.mark.parametrize("script, message", [
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,recode:[1]")',
     r"transformencode\(\): spec is not valid JSON"),
    ('[X, M] = transformencode(target=matrix(1, 2, 2), spec="{ids:true,recode:[1]}")',
     r"transformencode\(\): target must be a frame, not a matrix"),
    (F + '[X, M] = transformencode(target=F, spec="{recode:[\\"name\\"]}")',
     r"recode names column 'name', which the frame does not have \(its columns: C1, C2\)"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,recode:[3]}")',
     r"recode names column 3, but the frame has 2"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,bag_of_words:[1]}")',
     r"the 'bag_of_words' transformation is not supported by dmlpy"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,recode:[1],impute:[{id:1,method:constant,value:9}]}")',
     r"transformencode\(\): column 1 is recoded, and its impute value '9' is none of its tokens"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,impute:[{id:1,method:median}]}")',
     r'impute needs entries like \{id: 1, method: global_mean\} with a method of global_mean, global_mode, '
     r'constant, not \{"id": 1, "method": "median"\}'),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,impute:[{id:1,method:constant}]}")',
     r"impute by constant needs a value"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,impute:[{id:2,method:global_mean}]}")\n'
     'Y = transformapply(target=F, spec="{ids:true,impute:[{id:2,method:global_mean}]}", meta=rbind(M, M))',
     r"transformapply\(\): meta carries no imputed value for column 2 \(global_mean\): pass the metadata "
     r"frame transformencode returned, unchanged"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,hash:[1]}")',
     r"transformencode\(\): hash needs K, the number of buckets, in the spec"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,hash:[1],K:0}")',
     r"hash's K must be a positive integer, not 0"),
    (F + 'M = frame(["x", "y"], rows=1, cols=2)\nX = transformapply(target=F, spec="{ids:true,hash:[1]}", meta=M)',
     r"transformapply\(\): meta column 1 does not hold the hash's K"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,recode:[1]}")\n'
         'Y = transformapply(target=F, spec="{ids:true,recode:[1]}", meta=as.frame(matrix(1, 2, 3)))',
     r"transformapply\(\): meta has 3 columns, but the frame has 2"),
    (F + '[X, M] = transformencode(target=F, spec="{ids:true,recode:[1]}")\n'
         'D = transformdecode(target=matrix(1, 2, 3), spec="{ids:true,recode:[1]}", meta=M)',
     r"transformdecode\(\): the matrix has 3 columns, but the spec and meta describe 2"),
    # indexing and binding
    (F + 'print(toString(F[3, ]))', r"index out of bounds: F\[row 3\] but F has 2 rows"),
    (F + 'F[1, 1] = "x"', r"cannot store the string 'x' in F's INT32 column"),
    (F + 'G = cbind(F, matrix(1, 2, 2))', r"cbind\(\) binds frames with frames only, not with a matrix"),
    (F + 'G = rbind(F, as.frame(matrix(1, 2, 3)))', r"rbind\(\): frames of 2 and 3 columns"),
    (F + 'F[1:2, 1] = 5', r"a scalar can only be assigned to a single cell"),
    (F + 'print(as.scalar(F))', r"as.scalar\(\) needs a 1x1 frame, not 2x2"),
    # map's Java lambdas
    (F + 'G = map(F, "x -> x.foo()")', r"map\(\): the method .foo\(\) is not supported"),
    (F + 'G = map(F, "x -> Foo.bar(x)")', r"map\(\): the method .bar\(\) is not supported"),
    (F + 'G = map(F, "x -> x.length(")', r"map\(\): unexpected end"),
    (F + 'G = map(F, "(x, y) -> x + y")', r"map\(\): lambdas of 2 parameters are not supported"),
    (F + 'G = map(F, "x -> x", margin=1)', r"map\(\): margin .* is not supported"),
    (F + 'G = map(F, "x -> Integer.valueOf(x + \\"a\\")")', r'NumberFormatException -- For input string: "3a"'),
    ('G = map(matrix(1, 2, 2), "x -> x")', r"map\(\): target must be a frame, not a matrix"),
])
def test_bad_input_is_a_dml_error(script, message):
    with pytest.raises(dmlpy.DMLError, match=message) as e:
        dmlpy.Session(stdout=io.StringIO()).run(script)
    assert "internal error" not in str(e.value)
