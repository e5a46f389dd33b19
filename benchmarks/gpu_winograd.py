"""Does Winograd pay on the GPU? dmlpy's two convolution paths for AlexNet's stride-1 layers, timed.

    python benchmarks/gpu_winograd.py [--batch 128] [--repeat 10]
    python benchmarks/gpu_winograd.py --dry-run       # fake_cupy, batch 2: checks the script only

AlexNet's float32 step is bound by its convolution GEMMs (benchmarks/GPU_NOTES.md). Winograd's
F(m x m, r x r) computes each m x m output block of a stride-1 convolution from an (m+r-1)^2 input
tile with (m+r-1)^2 multiplications per (input channel, filter) instead of m^2 r^2, at the price
of memory-bound tile transforms (and, for larger m, more tile overhang on small images).

For conv2 (5x5) and conv3-5 (3x3) at batch N, in float32 and float64, this prints the time of
conv2d, conv2d_backward_data and conv2d_backward_filter on the im2col path and on each Winograd
tile size, the Winograd path's batched GEMMs alone, and the Winograd results' largest difference from
im2col's relative to their largest magnitude. Median of --repeat runs after a warm-up, CUDA events.
gpu_check.py then times the whole step with the paths the default timing picks, and lists them.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)
from gpu_gemm_layouts import timer  # noqa: E402

LAYERS = [  # name, C, H (= W), K, filter size, padding: AlexNet's stride-1 layers (upstream alexnet.dml)
    ("conv2", 96, 27, 256, 5, 2),
    ("conv3", 256, 13, 384, 3, 1),
    ("conv4", 384, 13, 384, 3, 1),
    ("conv5", 384, 13, 256, 3, 1),
]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--dry-run", action="store_true")
    opts = p.parse_args(argv)
    from dmlpy import backend
    from dmlpy.builtins.dnn_conv import conv2d, conv2d_backward_data, conv2d_backward_filter
    if opts.dry_run:
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        import fake_cupy                                  # NumPy behind CuPy's API; kernels run via g++
        backend.use_module(fake_cupy, "fake_cupy")
        batch, repeat = 2, 2
    else:
        backend.use_cupy()
        batch, repeat = opts.batch, opts.repeat
    xp = backend.xp
    measure = timer(np if opts.dry_run else xp, repeat)     # fake_cupy: host clocks
    from dmlpy.builtins.dnn_winograd_kernels import TILE_SIZES
    print(f"{'layer':<7}{'precision':<10}{'op':<11}{'im2col ms':>10}{'tile':>6}{'Winograd ms':>12}"
          f"{'its GEMMs':>10}{'speed-up':>9}{'max rel. diff':>15}", flush=True)
    for name, C, H, K, R, pad in LAYERS:
        P = H + 2 * pad - R + 1
        for dtype in ("float32", "float64"):
            backend.set_precision("single" if dtype == "float32" else "double")
            rng = np.random.default_rng(3)              # on the host, then to the device in dtype
            X = backend.asarray(rng.standard_normal((batch, C * H * H)))
            F = backend.asarray(rng.standard_normal((K, C * R * R)))
            D = backend.asarray(rng.standard_normal((batch, K * P * P)))
            shapes = dict(stride=[1, 1], padding=[pad, pad], input_shape=[batch, C, H, H], filter_shape=[K, C, R, R])
            # the filter gradient without the forward pass's kept input tiles: an upper bound
            ops = [("forward", lambda: conv2d(X, F, **shapes), (K, C)),
                   ("data grad", lambda: conv2d_backward_data(F, D, **shapes), (C, K)),
                   ("filter", lambda: conv2d_backward_filter(X, D, **shapes), (K, None))]
            for op, run, (rows, inner) in ops:
                os.environ["DMLPY_GPU_WINOGRAD"] = "0"
                want = run()
                t_im2col = measure(run)
                for m in TILE_SIZES[R]:
                    T = batch * (-(-P // m)) ** 2
                    alpha2 = (m + R - 1) ** 2
                    os.environ["DMLPY_GPU_WINOGRAD"] = str(m)
                    got = run()
                    t_wino = measure(run)
                    shape = (rows, inner or T, C if inner is None else T)
                    U = xp.ones((alpha2, shape[0], shape[1]), dtype=dtype)
                    V = xp.ones((alpha2, shape[1], shape[2]), dtype=dtype)
                    t_gemm = measure(lambda: xp.matmul(U, V))
                    diff = float(backend.item(abs(got - want).max() / abs(want).max()))
                    print(f"{name:<7}{dtype:<10}{op:<11}{t_im2col:>10.3f}{f'{m}x{m}':>6}{t_wino:>12.3f}"
                          f"{t_gemm:>10.3f}{t_im2col / t_wino:>8.2f}x{diff:>15.2e}", flush=True)
                    del got, U, V
                os.environ.pop("DMLPY_GPU_WINOGRAD", None)
                del want
            del X, F, D
            if not opts.dry_run:
                xp.get_default_memory_pool().free_all_blocks()
    backend.set_precision("double")
    backend.use_numpy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
