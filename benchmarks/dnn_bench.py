"""Micro-benchmark of the DNN builtins on AlexNet's first layer, batch 16.

    python benchmarks/dnn_bench.py [--gpu] [--single] [--repeat 3] [--batch 16]

conv1: 3x224x224 input, 64 filters of 11x11, stride 4, padding 2 -> 64x55x55;
pool1: 3x3 max pool, stride 2 -> 64x27x27. Prints the best time of --repeat runs.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from dmlpy import backend  # noqa: E402
from dmlpy.builtins import dnn_conv, dnn_pool  # noqa: E402


def best_time(fn, repeat, sync):
    fn()                                   # warm-up (GPU kernels compile, caches fill)
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpu", action="store_true", help="run on CuPy")
    ap.add_argument("--single", action="store_true", help="float32 instead of float64")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    if args.gpu:
        backend.use_cupy()
    if args.single:
        backend.set_precision("single")
    xp, dt = backend.xp, backend.dtype
    sync = (lambda: xp.cuda.Stream.null.synchronize()) if args.gpu else (lambda: None)

    N, C, H, W, K, R, S = args.batch, 3, 224, 224, 64, 11, 11
    conv = dict(stride=[4, 4], padding=[2, 2], input_shape=[N, C, H, W], filter_shape=[K, C, R, S])
    P = (H + 4 - R) // 4 + 1
    rng = xp.random.default_rng(0) if hasattr(xp.random, "default_rng") else xp.random
    X = rng.standard_normal((N, C * H * W)).astype(dt)
    F = rng.standard_normal((K, C * R * S)).astype(dt)
    dout = rng.standard_normal((N, K * P * P)).astype(dt)
    A = rng.standard_normal((N, K * P * P)).astype(dt)
    pool = dict(stride=[2, 2], padding=[0, 0], input_shape=[N, K, P, P], pool_size=[3, 3])
    Pp = (P - 3) // 2 + 1
    dpool = rng.standard_normal((N, K * Pp * Pp)).astype(dt)

    gflop = 2 * N * K * C * R * S * P * P / 1e9
    rows = [
        ("conv2d", lambda: dnn_conv.conv2d(X, F, **conv), gflop),
        ("conv2d_backward_filter", lambda: dnn_conv.conv2d_backward_filter(X, dout, **conv), gflop),
        ("conv2d_backward_data", lambda: dnn_conv.conv2d_backward_data(F, dout, **conv), gflop),
        ("max_pool 3x3/2", lambda: dnn_pool.max_pool(A, **pool), None),
        ("max_pool_backward 3x3/2", lambda: dnn_pool.max_pool_backward(A, dpool, **pool), None),
    ]
    print(f"AlexNet conv1 on {backend.name} ({np.dtype(dt).name}), batch {N}: "
          f"{C}x{H}x{W} * {K}x{C}x{R}x{S}, stride 4, pad 2 -> {K}x{P}x{P}")
    for name, fn, gf in rows:
        t = best_time(fn, args.repeat, sync)
        rate = f"  {gf / t:7.1f} GFLOP/s" if gf else ""
        print(f"  {name:26s} {t * 1e3:9.1f} ms{rate}")


if __name__ == "__main__":
    main()
