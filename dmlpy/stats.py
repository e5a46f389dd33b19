"""-stats: total time and a heavy-hitter table of builtins and operators, as SystemDS prints them.

On the GPU backend each timed builtin/operator waits for the device before its clock stops
(otherwise only kernel launches would be timed), and the report adds the host<->device
transfers (count and bytes each way) and the peak memory of CuPy's pool."""
from __future__ import annotations

import time
from collections import defaultdict

from . import backend

_OP_NAMES = {"_add": "+", "_sub": "-", "_mul": "*", "_div": "/", "_pow": "^", "_mod": "%%", "_intdiv": "%/%",
             "_matmul": "%*%", "_neg": "u-", "_lt": "<", "_le": "<=", "_gt": ">", "_ge": ">=", "_eq": "==",
             "_ne": "!=", "_and": "&", "_or": "|", "_not": "!", "_index": "rightIndex", "_set_index": "leftIndex"}


class Stats:
    def __init__(self, top: int = 10):
        self.top = top
        self.start = time.perf_counter()
        self.time = defaultdict(float)
        self.count = defaultdict(int)

    def _wrap(self, label, fn):
        tm, cnt, clock = self.time, self.count, time.perf_counter
        if backend.on_device():
            sync = backend.synchronize

            def timed(*args, **kwargs):
                t0 = clock()
                try:
                    return fn(*args, **kwargs)
                finally:
                    sync()
                    tm[label] += clock() - t0
                    cnt[label] += 1
            timed.__name__ = getattr(fn, "__name__", label)
            return timed

        def timed(*args, **kwargs):
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                tm[label] += clock() - t0
                cnt[label] += 1
        timed.__name__ = getattr(fn, "__name__", label)
        return timed

    def instrument(self, g: dict) -> None:
        """Replace the builtins and operator helpers of a compiled program's globals with timed ones."""
        for key in list(g):
            if key.startswith("_b_"):
                g[key] = self._wrap(key[3:].replace("_dot_", "."), g[key])
            elif key in _OP_NAMES:
                g[key] = self._wrap(_OP_NAMES[key], g[key])

    def report(self) -> str:
        backend.synchronize()
        total = time.perf_counter() - self.start
        lines = ["SystemDS Statistics:", f"Total execution time:\t\t{total:.3f} sec."]
        if backend.on_device():
            lines += self._device_lines()
        hh = sorted(self.time.items(), key=lambda kv: -kv[1])[: self.top]
        if hh:
            lines.append("Heavy hitter instructions:")
            w = max(len("Instruction"), *(len(k) for k, _ in hh))
            lines.append(f"  #  {'Instruction'.ljust(w)}  Time(s)  Count")
            for i, (name, t) in enumerate(hh, 1):
                lines.append(f"{i:>3}  {name.ljust(w)}  {t:7.3f}  {self.count[name]:>5}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _device_lines() -> list[str]:
        t = backend.transfers
        peak = backend.peak_device_bytes()
        return [f"GPU backend ({backend.name}, {backend.xp.dtype(backend.dtype).name}"
                f"{', TF32 products' if backend.tf32 else ''}):",
                f"  host->device transfers:\t{t.to_device} ({_bytes(t.to_device_bytes)})",
                f"  device->host transfers:\t{t.to_host} ({_bytes(t.to_host_bytes)})",
                f"  peak device memory (pool):\t{_bytes(peak) if peak is not None else 'unknown'}"] \
            + timed_path_lines()


def timed_path_lines() -> list[str]:
    """How 3x3/5x5 stride-1 convolutions ran on the device, each timed geometry's choice, and
    each matrix product shape timed for split-K."""
    from .builtins import dnn_conv, dnn_winograd
    mode = dnn_winograd.mode()
    lines = ["  3x3/5x5 stride-1 convolutions:\t" + {
        "on": "Winograd (DMLPY_GPU_WINOGRAD=1), the faster tile size timed on each geometry's first use",
        "off": "im2col (DMLPY_GPU_WINOGRAD=0)",
        "2": "Winograd F(2x2) (DMLPY_GPU_WINOGRAD=2)", "4": "Winograd F(4x4) where it applies (DMLPY_GPU_WINOGRAD=4)",
        "auto": "the fastest of im2col and Winograd, timed on each geometry's first use"}[mode]]
    for (g, K, dtype), c in dnn_conv.conv_paths.choices.items():
        times = ", ".join(f"{dnn_conv.path_name(m)} " + ("cannot run" if ms is None else f"{ms:.3f} ms")
                          for m, ms in c["ms"].items())
        lines.append(f"    {g.N}x{g.C}x{g.H}x{g.W} by {K}x{g.R}x{g.S}, padding {g.ph},{g.pw} "
                     f"({backend.xp.dtype(dtype).name}): {times} -> {dnn_conv.path_name(c['path'])}")
    from . import device_gemm
    for (M, K, N, dtype, _, b_rows), c in device_gemm.products.choices.items():
        times = ", ".join(f"{device_gemm.way_name(s)} {ms:.3f} ms" for s, ms in c["ms"].items())
        lines.append(f"  %*% {M}x{K} by {K}x{N}{'' if b_rows else ' (transposed)'} "
                     f"({backend.xp.dtype(dtype).name}): {times} -> {device_gemm.way_name(c['split'])}")
    return lines


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3f} {unit}"
    return f"{n} B"
