"""Where one AlexNet step's time goes with -gpu: a diagnostic for a lent GPU machine.

    python benchmarks/gpu_profile.py [--precision single] [--batch 128] [--small 8]

Runs the step of benchmarks/gpu_check.py (upstream alexnet.dml when build/gpu_vendor holds it)
four ways, each in its own process:
  1. `-stats`: builtins and operators by time, each waiting for the device before its clock
     stops (so the table is GPU time plus launch cost, and the total is slower than a real step);
  2. the device's kernels by GPU time (PyTorch's profiler, which sees CuPy's kernels too);
  3. cProfile of plain steps (no extra waits): host-side Python cost by function;
  4. the plain step at a small batch: if it costs about what batch 128 costs, the step is bound
     by the host (interpreter and kernel launches), not by the device.
Prepare build/gpu_vendor first (python benchmarks/gpu_check.py --prepare) and carry it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gpu_check  # noqa: E402

# Runs the script twice in one process: the second run finds CuPy's kernels compiled, so its
# -stats table is the steady state (init included: rand and friends are easy to tell apart).
STATS_CHILD = """
import io, sys, contextlib
from dmlpy import cli
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(sys.argv[1:])
sys.exit(cli.main(sys.argv[1:]))
"""

# The kernels each step runs on the device, with their GPU time: PyTorch's profiler (CUPTI) sees
# every kernel of the process, CuPy's and cuBLAS's included. A first run warms the kernels up.
KERNELS_CHILD = """
import io, sys, contextlib
import torch
from torch.profiler import profile, ProfilerActivity
from dmlpy import cli
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(sys.argv[1:])
with profile(activities=[ProfilerActivity.CUDA]) as prof:
    rc = cli.main(sys.argv[1:])
for key in ("self_device_time_total", "self_cuda_time_total"):
    try:
        print(prof.key_averages().table(sort_by=key, row_limit={top}, max_name_column_width=70))
        break
    except Exception as e:
        print("sort by", key, "failed:", e)
sys.exit(rc)
"""

PROFILE_CHILD = """
import cProfile, pstats, sys
from dmlpy import cli
prof = cProfile.Profile()
prof.enable()
rc = cli.main(sys.argv[1:])
prof.disable()
st = pstats.Stats(prof)
st.sort_stats("tottime").print_stats({top})
st.sort_stats("cumulative").print_stats({top})
sys.exit(rc)
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--precision", default="single", choices=["double", "single"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--small", type=int, default=8)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--top", type=int, default=45)
    p.add_argument("--skip", action="append", default=[], choices=["stats", "kernels", "cprofile", "small"])
    p.add_argument("--dry-run", action="store_true", help="fake_cupy and tiny sizes (no GPU)")
    opts = p.parse_args(argv)
    shim = gpu_check.make_shim() if opts.dry_run else None
    env = gpu_check.environment(opts.dry_run, shim)
    env["PYTHONUNBUFFERED"] = "1"
    nn, which = gpu_check.nn_folder(env)
    h, k = (99, 10) if opts.dry_run else (224, 1000)
    print(f"network: {which}; precision {opts.precision}", flush=True)

    def script(n, steps):
        fh = tempfile.NamedTemporaryFile("w", suffix=".dml", delete=False)
        fh.write(gpu_check.STEP_DML.format(nn=nn, n=n, h=h, k=k, steps=steps))
        fh.close()
        return fh.name

    base = ["-gpu", "--precision", opts.precision]
    batch = 2 if opts.dry_run else opts.batch
    runs = []
    if "stats" not in opts.skip:
        runs.append(("-stats, second run in one process (each builtin waits for the device)",
                     [sys.executable, "-c", STATS_CHILD, *base, "-stats", "45", "-f", script(batch, 2)]))
    if "kernels" not in opts.skip:
        runs.append(("device kernels by GPU time (PyTorch profiler), second run in one process",
                     [sys.executable, "-c", KERNELS_CHILD.format(top=opts.top), *base, "-f", script(batch, 3)]))
    if "cprofile" not in opts.skip:
        runs.append(("cProfile of plain steps (host time)",
                     [sys.executable, "-c", PROFILE_CHILD.format(top=opts.top), *base, "-f",
                      script(batch, opts.steps)]))
    if "small" not in opts.skip:
        runs.append((f"plain steps at batch {opts.small}",
                     [sys.executable, "-m", "dmlpy", *base, "-f", script(opts.small, opts.steps)]))
    for title, cmd in runs:
        print(f"\n== {title}", flush=True)
        subprocess.run(cmd, env=env, cwd=gpu_check.ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
