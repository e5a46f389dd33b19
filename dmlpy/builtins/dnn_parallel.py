"""Splitting a batch of images over the CPU cores for the deep-learning builtins.

NumPy releases the GIL in copies, ufuncs and BLAS calls, so Python threads that each
take chunks of images run in parallel. Every stage then runs on all cores (im2col
copies, scatter-adds, pooling), not only the GEMMs; and each GEMM runs on a single BLAS
thread, which avoids BLAS threads spinning on each other when the machine is busy. BLAS
is limited to one thread through threadpoolctl while the workers run; without
threadpoolctl (or off NumPy) everything runs on the calling thread.

Results do not depend on timing: chunks are fixed by the batch size, each writes its own
part of the output, and partial sums are combined in chunk order.
"""
from __future__ import annotations

import os
import threading

import numpy as np

from .. import backend

# Below this many floating-point operations per call, thread start-up costs more than it saves.
MIN_PARALLEL_FLOPS = 20_000_000

# Scratch arrays up to this size are kept per thread between calls: reusing them avoids
# faulting in fresh pages (tens of MB per call), which costs system time on a busy host.
MAX_KEPT_SCRATCH_BYTES = 32 << 20

_state = threading.local()
_lock = threading.Lock()
_pool = None               # a concurrent.futures.ThreadPoolExecutor once a batch is split
_pool_size = 0
_controller = None
_controller_class = None   # threadpoolctl's ThreadpoolController; False where it is not installed


def _threadpoolctl():
    """threadpoolctl's controller class, or False: imported at the first split, not at start-up
    (with concurrent.futures it costs about 10 ms that scripts without convolutions never use)."""
    global _controller_class
    if _controller_class is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:   # optional: without it the builtins run single-threaded (BLAS still threads)
            ThreadpoolController = False
        _controller_class = ThreadpoolController
    return _controller_class


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def workers() -> int:
    """How many image ranges a batch is split into (1: no threads)."""
    if backend.xp is not np or getattr(_state, "busy", False) or not _threadpoolctl():
        return 1
    return _cores()


def workers_split_batch() -> bool:
    """True where batches are split over single-threaded-BLAS workers (NumPy, threadpoolctl)."""
    return backend.xp is np and bool(_threadpoolctl()) and _cores() > 1


def _ensure_pool(n: int):
    global _pool, _pool_size, _controller
    with _lock:
        if _controller is None:
            _controller = _threadpoolctl()()
        if _pool_size < n:
            from concurrent.futures import ThreadPoolExecutor
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(n, thread_name_prefix="dmlpy-dnn")
            _pool_size = n
    return _pool, _controller


def chunks(n: int, step: int) -> list[tuple[int, int]]:
    """[0, n) cut into contiguous chunks of at most `step`, of (nearly) equal sizes."""
    step = max(1, min(step, n))
    count = -(-n // step)
    base, extra = divmod(n, count)
    out, start = [], 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def map_chunks(fn, spans: list[tuple[int, int]], flops: float, fold=None):
    """fn(c0, c1) for every chunk of images, on all workers when the work is worth it.

    Idle workers take the next chunk, so a worker slowed down by a busy machine does
    fewer. Returns the results in chunk order; with fold, returns
    fold(...fold(fold(r0, r1), r2)..., rk), folded in chunk order as results arrive (so
    the value does not depend on timing) without keeping them all. fn must write only
    to its own chunk of any shared output."""
    parts = min(workers(), len(spans)) if flops >= MIN_PARALLEL_FLOPS else 1
    if parts <= 1:
        if fold is None:
            return [fn(a, b) for a, b in spans]
        acc = None
        for i, (a, b) in enumerate(spans):
            r = fn(a, b)
            acc = r if i == 0 else fold(acc, r)
        return acc
    pool, controller = _ensure_pool(parts - 1)
    lock = threading.Lock()
    results = [None] * len(spans)
    todo = iter(range(len(spans)))
    ready = {}                      # with fold: results waiting for their predecessors
    shared = {"acc": None, "next": 0, "failed": False}

    def work():
        _state.busy = True          # builtins called inside a worker stay on that worker
        try:
            while True:
                with lock:
                    i = None if shared["failed"] else next(todo, None)
                if i is None:
                    return
                try:
                    r = fn(*spans[i])
                except BaseException:
                    shared["failed"] = True
                    raise
                if fold is None:
                    results[i] = r
                    continue
                with lock:
                    ready[i] = r
                    while shared["next"] in ready:
                        r = ready.pop(shared["next"])
                        shared["acc"] = r if shared["next"] == 0 else fold(shared["acc"], r)
                        shared["next"] += 1
        finally:
            _state.busy = False

    with controller.limit(limits=1, user_api="blas"):
        futures = [pool.submit(work) for _ in range(parts - 1)]
        try:
            work()
        finally:
            errors = [f.exception() for f in futures]     # wait for all before BLAS threads return
        for e in errors:
            if e is not None:
                raise e
    return results if fold is None else shared["acc"]


def scratch(key: str, size: int, dtype):
    """A flat array of `size` items for temporary use by the calling thread within one call.

    On NumPy, arrays up to MAX_KEPT_SCRATCH_BYTES are kept per thread and key, and reused
    by the next call that asks for at most as many; contents are arbitrary."""
    xp = backend.xp
    dtype = np.dtype(dtype)
    if xp is not np or size * dtype.itemsize > MAX_KEPT_SCRATCH_BYTES:
        return xp.empty(size, dtype=dtype)
    kept = getattr(_state, "scratch", None)
    if kept is None:
        kept = _state.scratch = {}
    buf = kept.get((key, dtype))
    if buf is None or buf.size < size:
        buf = kept[(key, dtype)] = np.empty(size, dtype=dtype)
    return buf[:size]
