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
(im2col kernel + cuBLAS GEMM + the copy to NCHW), the Winograd version with array-operation
transforms, the same with the transforms as two CUDA kernels (the filter transform left out, as a
step computes it once for the forward pass and the data gradient), its 16 batched GEMMs alone, the
speed-up of the kernel version over conv2d, and both versions' largest difference from conv2d
relative to conv2d's largest magnitude. Median of --repeat runs after a warm-up, CUDA events.
Winograd is worth building into dnn_conv.py (forward and data gradient) if the kernel version beats
conv2d clearly.
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


# The transforms as CUDA kernels (a thread per tile: reads the 4x4 input block straight from the
# NCHW rows, zero outside the image, and writes its 16 transformed values; the output kernel reads
# a tile's 16 products and writes the 2x2 output block inside the image), as a production version
# would have them. Grid-stride loops, so tests/fake_cupy.py runs them on the CPU too.
_KERNELS = r"""
#define FOR_EACH_ELEMENT(i, total) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (total); \
         i += (long long)blockDim.x * gridDim.x)

extern "C" __global__ void winograd_input(const real_t* X, real_t* V, long long N, long long C,
                                          long long H, long long TP, long long TQ) {
    const long long T = N * TP * TQ, total = C * T;
    FOR_EACH_ELEMENT(i, total) {
        const long long t = i % T, c = i / T;
        const long long tq = t % TQ, tp = (t / TQ) % TP, n = t / (TP * TQ);
        const real_t* x = X + (n * C + c) * H * H;
        real_t d[4][4];
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) {
                const long long h = 2 * tp + a - 1, w = 2 * tq + b - 1;       // padding 1
                d[a][b] = (h >= 0 && h < H && w >= 0 && w < H) ? x[h * H + w] : (real_t)0;
            }
        real_t e[4][4];                                   // B^T d
        for (int b = 0; b < 4; ++b) {
            e[0][b] = d[0][b] - d[2][b]; e[1][b] = d[1][b] + d[2][b];
            e[2][b] = d[2][b] - d[1][b]; e[3][b] = d[1][b] - d[3][b];
        }
        for (int a = 0; a < 4; ++a) {                     // (B^T d) B, to V[a*4+b][c][t]
            const real_t v[4] = {e[a][0] - e[a][2], e[a][1] + e[a][2], e[a][2] - e[a][1], e[a][1] - e[a][3]};
            for (int b = 0; b < 4; ++b) V[((a * 4 + b) * C + c) * T + t] = v[b];
        }
    }
}

extern "C" __global__ void winograd_output(const real_t* M, real_t* Y, long long N, long long K,
                                           long long P, long long TP, long long TQ) {
    const long long T = N * TP * TQ, total = K * T;
    FOR_EACH_ELEMENT(i, total) {
        const long long t = i % T, k = i / T;
        const long long tq = t % TQ, tp = (t / TQ) % TP, n = t / (TP * TQ);
        real_t m[4][4];
        for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) m[a][b] = M[((a * 4 + b) * K + k) * T + t];
        real_t r[2][4];                                   // A^T m
        for (int b = 0; b < 4; ++b) {
            r[0][b] = m[0][b] + m[1][b] + m[2][b];
            r[1][b] = m[1][b] - m[2][b] - m[3][b];
        }
        real_t* y = Y + (n * K + k) * P * P;
        for (int a = 0; a < 2; ++a) {                     // (A^T m) A: the 2x2 block inside the image
            const real_t out[2] = {r[a][0] + r[a][1] + r[a][2], r[a][1] - r[a][2] - r[a][3]};
            for (int b = 0; b < 2; ++b) {
                const long long h = 2 * tp + a, w = 2 * tq + b;
                if (h < P && w < P) y[h * P + w] = out[b];
            }
        }
    }
}
"""
_compiled: dict = {}


def _kernel(xp, name, dtype):
    key = (name, str(dtype))
    if key not in _compiled:
        real = "float" if str(dtype) == "float32" else "double"
        _compiled[key] = xp.RawKernel(f"typedef {real} real_t;\n{_KERNELS}", name)
    return _compiled[key]


def _launch(xp, name, dtype, total, args):
    import numpy as np
    block = 256
    grid = max(1, min(-(-total // block), 1 << 16))
    _kernel(xp, name, dtype)((grid,), (block,), tuple(args[:2]) + tuple(np.int64(v) for v in args[2:]))


def winograd_conv_kernels(xp, X, F, N, C, H, K, U=None):
    """The same convolution with the two transforms as CUDA kernels (U: a filter transform
    computed earlier, as a training step would reuse it for forward and data gradient)."""
    P = H
    TP = TQ = (P + 1) // 2
    T = N * TP * TQ
    if U is None:
        U = filter_transform(xp, F.reshape(K, C, 3, 3)).reshape(16, K, C)
    V = xp.empty((16, C, T), dtype=X.dtype)
    _launch(xp, "winograd_input", X.dtype, C * T, (X, V, N, C, H, TP, TQ))
    M = xp.matmul(U, V)
    Y = xp.empty((N, K * P * P), dtype=X.dtype)
    _launch(xp, "winograd_output", X.dtype, K * T, (M, Y, N, K, P, TP, TQ))
    return Y


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
    if opts.dry_run:
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
        import fake_cupy                                  # runs the CUDA kernels on the CPU (g++)
        kxp = fake_cupy
    else:
        kxp = xp
    print(f"{'layer':<7}{'precision':<10}{'conv2d ms':>10}{'Winograd ms':>12}{'kernels ms':>11}{'its GEMMs':>10}"
          f"{'speed-up':>9}{'max rel. diff':>15}{'kernels diff':>14}", flush=True)
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
            U = parts["U"]
            if opts.dry_run:                              # the kernels on fake_cupy's device arrays
                kX, kF, kU = (fake_cupy.asarray(a) for a in (X, F, U))
                kgot = winograd_conv_kernels(kxp, kX, kF, batch, C, H, K, kU).get()
                t_kern = measure(lambda: winograd_conv_kernels(kxp, kX, kF, batch, C, H, K, kU))
            else:
                kgot = winograd_conv_kernels(xp, X, F, batch, C, H, K, U)
                t_kern = measure(lambda: winograd_conv_kernels(xp, X, F, batch, C, H, K, U))
            kdiff = float(abs(kgot - want).max() / abs(want).max())
            t_conv = measure(lambda: conv2d(X, F, **shapes))
            t_wino = measure(lambda: winograd_conv(xp, X, F, batch, C, H, K))
            t_gemm = measure(lambda: xp.matmul(parts["U"], parts["V"]))
            print(f"{name:<7}{dtype:<10}{t_conv:>10.3f}{t_wino:>12.3f}{t_kern:>11.3f}{t_gemm:>10.3f}"
                  f"{t_conv / t_kern:>8.2f}x{diff:>15.2e}{kdiff:>14.2e}", flush=True)
            del X, F, want, got, parts, U, kgot
            if xp.__name__ != "numpy":
                xp.get_default_memory_pool().free_all_blocks()
    backend.set_precision("double")
    return 0


if __name__ == "__main__":
    sys.exit(main())
