"""Splitting a batch of images over the CPU cores for the deep-learning builtins.

NumPy releases the GIL in copies, ufuncs and BLAS calls, so Python threads that each
take a contiguous range of images run in parallel. Every stage then runs on all cores
(im2col copies, scatter-adds, pooling), not only the GEMMs; and each GEMM runs on a
single BLAS thread, which avoids BLAS threads spinning on each other when the machine
is busy. BLAS is limited to one thread through threadpoolctl while the workers run;
without threadpoolctl (or off NumPy) everything runs on the calling thread as one range.

Results do not depend on timing: the ranges are fixed by the batch size and the number
of workers, and partial results are combined in range order.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import backend

try:
    from threadpoolctl import ThreadpoolController
except ImportError:       # optional: without it the builtins run single-threaded (BLAS still threads)
    ThreadpoolController = None

# Below this many floating-point operations per call, thread start-up costs more than it saves.
MIN_PARALLEL_FLOPS = 20_000_000

# Scratch arrays up to this size are kept per thread between calls: reusing them avoids
# faulting in fresh pages (tens of MB per call), which costs system time on a busy host.
MAX_KEPT_SCRATCH_BYTES = 32 << 20

_state = threading.local()
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_controller = None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def workers() -> int:
    """How many image ranges a batch is split into (1: no threads)."""
    if backend.xp is not np or ThreadpoolController is None or getattr(_state, "busy", False):
        return 1
    return _cores()


def workers_split_batch() -> bool:
    """True where batches are split over single-threaded-BLAS workers (NumPy, threadpoolctl)."""
    return backend.xp is np and ThreadpoolController is not None and _cores() > 1


def _ensure_pool(n: int):
    global _pool, _pool_size, _controller
    with _lock:
        if _controller is None:
            _controller = ThreadpoolController()
        if _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(n, thread_name_prefix="dmlpy-dnn")
            _pool_size = n
    return _pool, _controller


def ranges(n: int, parts: int) -> list[tuple[int, int]]:
    """[0, n) cut into `parts` contiguous ranges whose sizes differ by at most one."""
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def _marked(fn):
    def run(a, b):
        _state.busy = True          # nested builtins in a worker stay on that worker
        try:
            return fn(a, b)
        finally:
            _state.busy = False
    return run


def map_ranges(fn, n: int, flops: float) -> list:
    """[fn(a, b) for each image range (a, b) of [0, n)], on several threads when worth it.

    fn must only write to its own range of any shared output.
    """
    parts = min(workers(), n) if flops >= MIN_PARALLEL_FLOPS else 1
    if parts <= 1:
        return [fn(0, n)]
    pool, controller = _ensure_pool(parts - 1)
    spans = ranges(n, parts)
    with controller.limit(limits=1, user_api="blas"):
        futures = [pool.submit(_marked(fn), a, b) for a, b in spans[1:]]
        try:
            first = _marked(fn)(*spans[0])
        finally:
            rest = [f.exception() for f in futures]     # wait for all before BLAS threads return
        for e in rest:
            if e is not None:
                raise e
        return [first] + [f.result() for f in futures]


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
