"""CUDA kernels of the GPU backend: im2col and col2im for the convolutions, max pooling.

On CuPy the convolutions would otherwise copy the patch matrix one filter tap at a time
(AlexNet's 11x11 conv1: 121 copies, and as many again for the gradients), each a kernel
launch with Python overhead. These kernels build the patch matrix, and fold it back into
image gradients, in one launch each, reading and writing the NCHW rows of the DML
matrices directly (no padded copy of the images).

Layouts are those of dnn_conv: ``cols[c, r, s, m, p, q]`` (C*R*S rows, n*P*Q columns)
holds image m's cell (p*sh + r - ph, q*sw + s - pw) of channel c, zero outside the image.
col2im gathers, for each image cell, the patch entries that read it, adding them in the
(r, s) order of the tap-by-tap version, so both give the same bits; it needs no atomics.
Max pooling takes a window per thread; its gradient, a cell per thread, finds each covering
window's first maximal cell (SystemDS's rule, see dnn_pool) and adds the windows' gradients in
the order the CPU backend does.

Every kernel walks its elements in a grid-stride loop, so any launch size covers them
(and tests/fake_cupy.py can run the same source on the CPU as a single thread).
Set DMLPY_GPU_KERNELS=0 to use the tap-by-tap CuPy code instead (also the fallback, with one
warning, if a kernel fails to compile or launch).
"""
from __future__ import annotations

import os
import sys

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

extern "C" __global__ void dmlpy_max_pool(
        const real_t* __restrict__ X, real_t* __restrict__ out,
        long long n, long long C, long long H, long long W, long long R, long long S,
        long long P, long long Q, long long sh, long long sw, long long ph, long long pw,
        real_t lowest) {
    const long long total = n * C * P * Q;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        const long long q = i % Q, p = (i / Q) % P, image = i / (P * Q);
        const real_t* x = X + image * H * W;
        real_t best = lowest;
        for (long long r = 0; r < R; ++r) {
            const long long h = p * sh + r - ph;
            if (h < 0 || h >= H) continue;          // padding: -infinity, never the maximum
            for (long long s = 0; s < S; ++s) {
                const long long w = q * sw + s - pw;
                if (w < 0 || w >= W) continue;
                const real_t v = x[h * W + w];
                if (v != v || best != best) best = v != v ? v : best;     // NaN propagates
                else if (v > best) best = v;
            }
        }
        out[i] = best;
    }
}

extern "C" __global__ void dmlpy_max_pool_backward(
        const real_t* __restrict__ X, const real_t* __restrict__ dout, real_t* __restrict__ dX,
        long long n, long long C, long long H, long long W, long long R, long long S,
        long long P, long long Q, long long sh, long long sw, long long ph, long long pw,
        real_t lowest) {
    const long long total = n * C * H * W;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        const long long w0 = i % W, h0 = (i / W) % H, image = i / (H * W);
        const real_t* x = X + image * H * W;
        const real_t* d = dout + image * P * Q;
        // the windows (p, q) that contain cell (h0, w0), in the order the CPU backend adds them
        const long long a = h0 + ph - R + 1, b = w0 + pw - S + 1;
        const long long p_lo = a <= 0 ? 0 : (a + sh - 1) / sh, q_lo = b <= 0 ? 0 : (b + sw - 1) / sw;
        const long long p_hi = (h0 + ph) / sh < P - 1 ? (h0 + ph) / sh : P - 1;
        const long long q_hi = (w0 + pw) / sw < Q - 1 ? (w0 + pw) / sw : Q - 1;
        double sum = 0;     // in double and rounded once, as the CPU backend's bincount does
        for (long long p = p_lo; p <= p_hi; ++p) {
            for (long long q = q_lo; q <= q_hi; ++q) {
                // the window's first maximal cell in row-major order; none if it holds a NaN
                // or no cell exceeds lowest
                real_t best = lowest;
                long long at = -1;
                bool has_nan = false;
                for (long long r = 0; r < R && !has_nan; ++r) {
                    const long long h = p * sh + r - ph;
                    if (h < 0 || h >= H) continue;
                    for (long long s = 0; s < S; ++s) {
                        const long long w = q * sw + s - pw;
                        if (w < 0 || w >= W) continue;
                        const real_t v = x[h * W + w];
                        if (v != v) { has_nan = true; break; }
                        if (v > best) { best = v; at = h * W + w; }
                    }
                }
                if (!has_nan && at == h0 * W + w0) sum += d[p * Q + q];
            }
        }
        dX[i] = (real_t)sum;
    }
}
"""

_BLOCK = 256
_MAX_BLOCKS = 1 << 16
_compiled: dict = {}
# Why the kernels were given up, if they were: these kernels were written without a device at
# hand, so a kernel that does not compile or launch falls back to the CuPy code (with one warning)
# rather than failing the program; tests/test_gpu.py asserts this stays None.
failure: str | None = None


def enabled() -> bool:
    """True on a backend that compiles CUDA kernels, unless DMLPY_GPU_KERNELS=0 or they failed."""
    xp = backend.xp
    return (failure is None and xp is not np and hasattr(xp, "RawKernel")
            and os.environ.get("DMLPY_GPU_KERNELS", "1") != "0")


def _kernel(name: str, dtype):
    key = (backend.xp, name, np.dtype(dtype).char)
    kernel = _compiled.get(key)
    if kernel is None:
        real = {np.dtype(np.float64): "double", np.dtype(np.float32): "float"}[np.dtype(dtype)]
        kernel = _compiled[key] = backend.xp.RawKernel(f"typedef {real} real_t;\n{_SOURCE}", name)
    return kernel


def _launch(name: str, dtype, elements: int, arrays: tuple, sizes: tuple, reals: tuple = ()) -> bool:
    """Runs a kernel over `elements` elements; False (and kernels off) if it cannot run."""
    global failure
    blocks = max(1, min(-(-elements // _BLOCK), _MAX_BLOCKS))
    real = np.dtype(dtype).type
    args = arrays + tuple(np.int64(v) for v in sizes) + tuple(real(v) for v in reals)
    try:
        _kernel(name, dtype)((blocks,), (_BLOCK,), args)
    except Exception as e:     # NVRTC's CompileException, a launch error: CuPy has no common base
        failure = f"{name}: {type(e).__name__}: {e}"
        print(f"dmlpy: warning: the CUDA kernel {failure.splitlines()[0][:300]}; "
              "using the CuPy code instead", file=sys.stderr)
        return False
    return True


def _sizes(g, n: int) -> tuple:
    return (n, g.C, g.H, g.W, g.R, g.S, g.P, g.Q, g.sh, g.sw, g.ph, g.pw)


# Each returns False where the kernel cannot run: the caller then computes without it.

def im2col(g, X, out) -> bool:
    """Rows of X (n, C*H*W), C-contiguous -> patch matrix out (C*R*S, n*P*Q), C-contiguous."""
    return _launch("dmlpy_im2col", X.dtype, out.size, (X, out), _sizes(g, X.shape[0]))


def col2im(g, cols, out) -> bool:
    """Patch matrix cols (C*R*S, n*P*Q) -> image gradients out (n, C*H*W), both C-contiguous."""
    return _launch("dmlpy_col2im", cols.dtype, out.size, (cols, out), _sizes(g, out.shape[0]))


def max_pool(g, X, out, lowest: float) -> bool:
    """Rows of X (n, C*H*W) -> window maxima out (n, C*P*Q); lowest for a window without cells."""
    return _launch("dmlpy_max_pool", X.dtype, out.size, (X, out), _sizes(g, X.shape[0]), (lowest,))


def max_pool_backward(g, X, dout, out, lowest: float) -> bool:
    """Rows of X (n, C*H*W) and dout (n, C*P*Q) -> the gradient out (n, C*H*W)."""
    return _launch("dmlpy_max_pool_backward", X.dtype, out.size, (X, dout, out), _sizes(g, X.shape[0]),
                   (lowest,))
