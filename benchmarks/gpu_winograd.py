"""Would Winograd convolutions pay on the GPU? A feasibility measurement for a lent GPU.

    python benchmarks/gpu_winograd.py [--batch 128] [--repeat 10]
    python benchmarks/gpu_winograd.py --dry-run       # NumPy, batch 2: checks the arithmetic only

AlexNet's float32 step is bound by its convolution GEMMs (benchmarks/GPU_NOTES.md). Winograd's
F(2x2, 3x3) computes each 2x2 block of a 3x3, stride-1 convolution's output from a 4x4 block of
its input with 16 multiplications per (input channel, filter) instead of 36: the GEMM work of
AlexNet's conv3-5 shrinks 2.25x (less the tiles' overhang), at the price of transforms, which are
memory-bound. Here the transforms are plain array operations (slices, adds, transposing copies),
not fused kernels, so they are an upper bound on what a production version would pay.

For conv3, conv4 and conv5 at batch N, in float32 and float64, it prints: dmlpy's conv2d
(im2col kernel + cuBLAS GEMM + the copy to NCHW), the Winograd version in all, its 16 batched GEMMs
alone, and the largest difference from conv2d relative to conv2d's largest magnitude. Median of
--repeat runs after a warm-up, CUDA events. Winograd is worth building into dnn_conv.py (forward
and data gradient) if "all" beats conv2d clearly; if only "GEMMs" does, fused transform kernels
would be needed first.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from gpu_gemm_layouts import timer  # noqa: E402

LAYERS = [  # name, C, H (= W), K: AlexNet's 3x3, stride-1, padding-1 layers (upstream alexnet.dml)
    ("conv3", 256, 13, 384),
    ("conv4", 384, 13, 384),
    ("conv5", 384, 13, 256),
]


def filter_transform(xp, F4):
    """U = G g G^T for each (k, c): (K, C, 3, 3) -> (4, 4, K, C)."""
    g = [F4[:, :, i, :] for i in range(3)]                    # rows of each filter, (K, C, 3)
    rows = [g[0], (g[0] + g[1] + g[2]) * 0.5, (g[0] - g[1] + g[2]) * 0.5, g[2]]
    out = xp.empty((4, 4) + F4.shape[:2], dtype=F4.dtype)
    for a, r in enumerate(rows):
        out[a, 0] = r[..., 0]
        out[a, 1] = (r[..., 0] + r[..., 1] + r[..., 2]) * 0.5
        out[a, 2] = (r[..., 0] - r[..., 1] + r[..., 2]) * 0.5
        out[a, 3] = r[..., 2]
    return out


def input_transform(xp, Xp, TP, TQ):
    """V = B^T d B for each 4x4 tile d (stride 2) of padded images (N, C, 2TP+2, 2TQ+2) ->
    (4, 4, C, N, TP, TQ)."""
    N, C = Xp.shape[:2]
    rows = [Xp[:, :, i:i + 2 * TP:2, :] for i in range(4)]        # tile row i of every tile row
    rows = [rows[0] - rows[2], rows[1] + rows[2], rows[2] - rows[1], rows[1] - rows[3]]
    out = xp.empty((4, 4, C, N, TP, TQ), dtype=Xp.dtype)
    for a, r in enumerate(rows):
        cols = [r[:, :, :, j:j + 2 * TQ:2] for j in range(4)]
        for b, v in enumerate((cols[0] - cols[2], cols[1] + cols[2], cols[2] - cols[1], cols[1] - cols[3])):
            out[a, b] = v.transpose(1, 0, 2, 3)
    return out


def output_transform(xp, M, N, K, TP, TQ, P, Q):
    """Y = A^T m A for each tile's (4, 4, K, N, TP, TQ) products -> (N, K, P, Q)."""
    r0 = M[0] + M[1] + M[2]                                    # A^T's rows: (1, 1, 1, 0), (0, 1, -1, -1)
    r1 = M[1] - M[2] - M[3]
    Y = xp.empty((N, K, TP, 2, TQ, 2), dtype=M.dtype)
    for a, r in enumerate((r0, r1)):
        Y[:, :, :, a, :, 0] = (r[0] + r[1] + r[2]).transpose(1, 0, 2, 3)
        Y[:, :, :, a, :, 1] = (r[1] - r[2] - r[3]).transpose(1, 0, 2, 3)
    return Y.reshape(N, K, 2 * TP, 2 * TQ)[:, :, :P, :Q]


def winograd_conv(xp, X, F, N, C, H, K, parts=None):
    """conv2d(X, F), 3x3 filters, stride 1, padding 1, by F(2x2, 3x3): (N, K*H*H)."""
    P = Q = H
    TP = TQ = (P + 1) // 2
    Xp = xp.zeros((N, C, 2 * TP + 2, 2 * TQ + 2), dtype=X.dtype)
    Xp[:, :, 1:1 + H, 1:1 + H] = X.reshape(N, C, H, H)
    U = filter_transform(xp, F.reshape(K, C, 3, 3)).reshape(16, K, C)
    V = input_transform(xp, Xp, TP, TQ).reshape(16, C, N * TP * TQ)
    M = xp.matmul(U, V)
    if parts is not None:
        parts.update(U=U, V=V)
    return output_transform(xp, M.reshape(4, 4, K, N, TP, TQ), N, K, TP, TQ, P, Q).reshape(N, K * P * Q)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--dry-run", action="store_true")
    opts = p.parse_args(argv)
    from dmlpy import backend
    from dmlpy.builtins.dnn_conv import conv2d
    if opts.dry_run:
        import numpy as xp
        batch, repeat = 2, 2
    else:
        import cupy as xp
        backend.use_cupy()
        batch, repeat = opts.batch, opts.repeat
    measure = timer(xp, repeat)
    print(f"{'layer':<7}{'precision':<10}{'conv2d ms':>10}{'Winograd ms':>12}{'its GEMMs':>10}"
          f"{'speed-up':>9}{'max rel. diff':>15}", flush=True)
    for name, C, H, K in LAYERS:
        for dtype in ("float32", "float64"):
            backend.set_precision("single" if dtype == "float32" else "double")
            rng = xp.random.default_rng(3)
            X = rng.standard_normal((batch, C * H * H)).astype(dtype)
            F = rng.standard_normal((K, C * 9)).astype(dtype)
            shapes = dict(stride=[1, 1], padding=[1, 1], input_shape=[batch, C, H, H], filter_shape=[K, C, 3, 3])
            want = conv2d(X, F, **shapes)
            parts: dict = {}
            got = winograd_conv(xp, X, F, batch, C, H, K, parts)
            diff = float(abs(got - want).max() / abs(want).max())
            t_conv = measure(lambda: conv2d(X, F, **shapes))
            t_wino = measure(lambda: winograd_conv(xp, X, F, batch, C, H, K))
            t_gemm = measure(lambda: xp.matmul(parts["U"], parts["V"]))
            print(f"{name:<7}{dtype:<10}{t_conv:>10.3f}{t_wino:>12.3f}{t_gemm:>10.3f}"
                  f"{t_conv / t_wino:>8.2f}x{diff:>15.2e}", flush=True)
            del X, F, want, got, parts
            if xp.__name__ != "numpy":
                xp.get_default_memory_pool().free_all_blocks()
    backend.set_precision("double")
    return 0


if __name__ == "__main__":
    sys.exit(main())
