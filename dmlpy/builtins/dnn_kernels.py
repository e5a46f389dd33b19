"""CUDA kernels of the GPU backend: im2col and col2im for the convolutions.

On CuPy the convolutions would otherwise copy the patch matrix one filter tap at a time
(AlexNet's 11x11 conv1: 121 copies, and as many again for the gradients), each a kernel
launch with Python overhead. These kernels build the patch matrix, and fold it back into
image gradients, in one launch each, reading and writing the NCHW rows of the DML
matrices directly (no padded copy of the images).

Layouts are those of dnn_conv: ``cols[c, r, s, m, p, q]`` (C*R*S rows, n*P*Q columns)
holds image m's cell (p*sh + r - ph, q*sw + s - pw) of channel c, zero outside the image.
col2im gathers, for each image cell, the patch entries that read it, adding them in the
(r, s) order of the tap-by-tap version, so both give the same bits; it needs no atomics.

Every kernel walks its elements in a grid-stride loop, so any launch size covers them
(and tests/fake_cupy.py can run the same source on the CPU as a single thread).
Set DMLPY_GPU_KERNELS=0 to use the tap-by-tap CuPy code instead.
"""
from __future__ import annotations

import os

import numpy as np

from .. import backend

_SOURCE = r"""
extern "C" __global__ void dmlpy_im2col(
        const real_t* __restrict__ X, real_t* __restrict__ cols,
        long long n, long long C, long long H, long long W, long long R, long long S,
        long long P, long long Q, long long sh, long long sw, long long ph, long long pw) {
    const long long total = C * R * S * n * P * Q;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long k = i;
        const long long q = k % Q; k /= Q;
        const long long p = k % P; k /= P;
        const long long m = k % n; k /= n;
        const long long s = k % S; k /= S;
        const long long r = k % R;
        const long long c = k / R;
        const long long h = p * sh + r - ph, w = q * sw + s - pw;
        cols[i] = (h >= 0 && h < H && w >= 0 && w < W) ? X[((m * C + c) * H + h) * W + w] : (real_t)0;
    }
}

extern "C" __global__ void dmlpy_col2im(
        const real_t* __restrict__ cols, real_t* __restrict__ dX,
        long long n, long long C, long long H, long long W, long long R, long long S,
        long long P, long long Q, long long sh, long long sw, long long ph, long long pw) {
    const long long total = n * C * H * W;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long k = i;
        const long long w = k % W; k /= W;
        const long long h = k % H; k /= H;
        const long long c = k % C;
        const long long m = k / C;
        real_t sum = 0;
        for (long long r = 0; r < R; ++r) {
            const long long hp = h + ph - r;
            if (hp < 0 || hp % sh != 0 || hp / sh >= P) continue;
            for (long long s = 0; s < S; ++s) {
                const long long wq = w + pw - s;
                if (wq < 0 || wq % sw != 0 || wq / sw >= Q) continue;
                sum += cols[((((c * R + r) * S + s) * n + m) * P + hp / sh) * Q + wq / sw];
            }
        }
        dX[i] = sum;
    }
}
"""

_BLOCK = 256
_MAX_BLOCKS = 1 << 16
_compiled: dict = {}


def enabled() -> bool:
    """True on a backend that compiles CUDA kernels, unless DMLPY_GPU_KERNELS=0."""
    xp = backend.xp
    return xp is not np and hasattr(xp, "RawKernel") and os.environ.get("DMLPY_GPU_KERNELS", "1") != "0"


def _kernel(name: str, dtype):
    key = (backend.xp, name, np.dtype(dtype).char)
    kernel = _compiled.get(key)
    if kernel is None:
        real = {np.dtype(np.float64): "double", np.dtype(np.float32): "float"}[np.dtype(dtype)]
        kernel = _compiled[key] = backend.xp.RawKernel(f"typedef {real} real_t;\n{_SOURCE}", name)
    return kernel


def _launch(name: str, dtype, elements: int, arrays: tuple, sizes: tuple) -> None:
    blocks = max(1, min(-(-elements // _BLOCK), _MAX_BLOCKS))
    _kernel(name, dtype)((blocks,), (_BLOCK,), arrays + tuple(np.int64(v) for v in sizes))


def _sizes(g, n: int) -> tuple:
    return (n, g.C, g.H, g.W, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.ph, g.pw)


def im2col(g, X, out) -> None:
    """Rows of X (n, C*H*W), C-contiguous -> patch matrix out (C*R*S, n*P*Q), C-contiguous."""
    n = X.shape[0]
    _launch("dmlpy_im2col", X.dtype, out.size, (X, out), _sizes(g, n))


def col2im(g, cols, out) -> None:
    """Patch matrix cols (C*R*S, n*P*Q) -> image gradients out (n, C*H*W), both C-contiguous."""
    n = out.shape[0]
    _launch("dmlpy_col2im", cols.dtype, out.size, (cols, out), _sizes(g, n))
