"""Which way round should the convolution GEMMs be asked of cuBLAS? A question for a lent GPU.

    python benchmarks/gpu_gemm_layouts.py [--batch 128] [--repeat 20]
    python benchmarks/gpu_gemm_layouts.py --dry-run       # NumPy, batch 2: checks the script only

AlexNet's float32 step is bound by its GEMMs (benchmarks/GPU_NOTES.md: 19 of 30 ms), and cuBLAS
picks its kernels by the operands' shapes and layouts: the filter-gradient GEMMs ran at about
61 TFLOP/s, the forward and data-gradient ones at about 41. For each conv layer of AlexNet at batch
N, this times, in float32 and float64, the products dnn_conv.py computes today and the alternatives
that give the same numbers in the same memory order afterwards (the transposing copy counted where
one is needed), with CUDA events, median of --repeat runs after a warm-up:

  forward    now:  F (K, CRS) @ cols (CRS, NL) -> (K, N, L), copied to (N, K, L)
             alt:  cols.T @ F.T -> (NL, K) = (N, L, K), copied to (N, K, L)
             bat:  F @ cols3 (N, CRS, L) -> (N, K, L) directly (a batched GEMM; needs an im2col
                   that writes image-major patches)
  data grad  now:  F.T (CRS, K) @ D (K, NL) -> cols (CRS, NL)
             alt:  (D.T @ F).T, i.e. an (NL, CRS) product read transposed by col2im
  filter     now:  D (K, NL) @ cols.T -> (K, CRS)
             alt:  (cols @ D.T).T

Prints one table; a variant more than 10% faster than "now" in both precisions is worth taking
into dnn_conv.py (and col2im/im2col's index order where the layout changes).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

LAYERS = [  # name, C, H, K, R, stride, pad (AlexNet's conv layers, upstream alexnet.dml)
    ("conv1", 3, 224, 96, 11, 4, 2),
    ("conv2", 96, 27, 256, 5, 1, 2),
    ("conv3", 256, 13, 384, 3, 1, 1),
    ("conv4", 384, 13, 384, 3, 1, 1),
    ("conv5", 384, 13, 256, 3, 1, 1),
]


def timer(xp, repeat: int):
    """fn -> median milliseconds of fn() on the device (CUDA events), or on the host (dry run)."""
    if xp.__name__ == "numpy":
        def host(fn):
            fn()
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e3)
            return statistics.median(times)
        return host

    def device(fn):
        fn()
        xp.cuda.Device().synchronize()
        times = []
        for _ in range(repeat):
            start, stop = xp.cuda.Event(), xp.cuda.Event()
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            times.append(xp.cuda.get_elapsed_time(start, stop))
        return statistics.median(times)
    return device


def variants(xp, N, C, H, K, R, stride, pad, dtype):
    P = (H + 2 * pad - R) // stride + 1
    L, CRS, NL = P * P, C * R * R, N * P * P
    rng = xp.random.default_rng(1) if hasattr(xp.random, "default_rng") else xp.random
    F = rng.standard_normal((K, CRS)).astype(dtype)
    cols = rng.standard_normal((CRS, NL)).astype(dtype)
    cols3 = rng.standard_normal((N, CRS, L)).astype(dtype)
    D = rng.standard_normal((K, NL)).astype(dtype)
    out = xp.empty((N, K, L), dtype=dtype)

    def fwd_now():
        out[...] = (F @ cols).reshape(K, N, L).transpose(1, 0, 2)

    def fwd_alt():
        out[...] = (cols.T @ F.T).reshape(N, L, K).transpose(0, 2, 1)

    def fwd_bat():
        xp.matmul(F, cols3, out=out)

    return 2.0 * K * CRS * NL, [
        ("forward", "now", fwd_now), ("forward", "alt", fwd_alt), ("forward", "bat", fwd_bat),
        ("data grad", "now", lambda: F.T @ D), ("data grad", "alt", lambda: D.T @ F),
        ("filter", "now", lambda: D @ cols.T), ("filter", "alt", lambda: (cols @ D.T).T),
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--dry-run", action="store_true")
    opts = p.parse_args(argv)
    if opts.dry_run:
        import numpy as xp
        batch, repeat = 2, 3
    else:
        import cupy as xp
        batch, repeat = opts.batch, opts.repeat
    measure = timer(xp, repeat)
    print(f"{'layer':<7}{'GEMM':<11}{'way':<5}{'float32 ms':>11}{'TFLOP/s':>9}{'float64 ms':>12}{'TFLOP/s':>9}",
          flush=True)
    for name, C, H, K, R, stride, pad in LAYERS:
        rows = {}
        for dtype in ("float32", "float64"):
            flops, cases = variants(xp, batch, C, H, K, R, stride, pad, dtype)
            for gemm, way, fn in cases:
                rows.setdefault((gemm, way), []).append(measure(fn))
            del cases
            if xp.__name__ != "numpy":
                xp.get_default_memory_pool().free_all_blocks()
        for (gemm, way), (ms32, ms64) in rows.items():
            print(f"{name:<7}{gemm:<11}{way:<5}{ms32:>11.3f}{flops / ms32 / 1e9:>9.1f}{ms64:>12.3f}"
                  f"{flops / ms64 / 1e9:>9.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
