"""The scripts a lent GPU machine runs (benchmarks/gpu_*.py) in their --dry-run modes.

Device time is scarce (minutes per session, when a machine is lent at all), so a script that
broke here must not be found broken there: each runs on the CPU with fake_cupy or NumPy at tiny
sizes and must print its whole report.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script: str, *args: str, timeout: int = 240) -> str:
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), "--dry-run", *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_gpu_check_dry_run_reports_agreement_and_both_step_rows():
    out = _run("gpu_check.py", "--skip", "tests", "--steps", "2")
    assert "[DRY RUN: fake_cupy, no device]" in out
    assert re.search(r"agreement, every builtin family\s+passed", out)
    for label in ("float64", r"float32 \(TF32 off\)"):
        assert re.search(rf"^  {label}\s+\d+\.\d", out, re.M), label   # a measured dmlpy step time


def test_gpu_profile_dry_run_prints_stats_and_small_batch_steps():
    out = _run("gpu_profile.py", "--skip", "cprofile", "--skip", "kernels", "--steps", "2", "--small", "2")
    assert "Heavy hitter instructions:" in out and re.search(r"^\s+\d+\s+conv2d\s+\d", out, re.M)
    assert re.search(r"^step 2 ms \d", out, re.M)


def test_gpu_gemm_layouts_dry_run_times_every_layer_and_variant():
    out = _run("gpu_gemm_layouts.py")
    rows = re.findall(r"^(conv\d)\s+(forward|data grad|filter)\s+(now|alt|bat)\s+\d", out, re.M)
    assert len(rows) == 5 * 7 and {r[0] for r in rows} == {f"conv{i}" for i in range(1, 6)}


def test_gpu_winograd_dry_run_compares_both_convolution_paths():
    """The Winograd timing script: on fake_cupy (kernels through g++) im2col and each Winograd tile
    size run for each layer, operation and precision, and give the same convolution to rounding."""
    out = _run("gpu_winograd.py")
    rows = re.findall(r"^(conv[2345])\s+(float32|float64)\s+(forward|data grad|filter)\s+[\d.]+\s+(2x2|4x4)"
                      r"(?:\s+[\d.]+){2}\s+[\d.]+x\s+(\S+)$", out, re.M)
    # conv2 (5x5): F(2x2); conv3-5 (3x3): F(2x2) and F(4x4); two precisions, three operations
    assert len(rows) == (1 + 3 * 2) * 2 * 3 and {r[3] for r in rows if r[0] == "conv2"} == {"2x2"}
    for layer, dtype, op, tile, diff in rows:      # the project's float32 tolerance
        assert float(diff) < (1e-4 if dtype == "float32" else 1e-12), (layer, dtype, op, diff)
