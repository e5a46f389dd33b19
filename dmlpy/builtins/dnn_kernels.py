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
(and tests/fake_cupy.py can run the same source on the CPU as a single thread). Indices are
32-bit ints where every array involved is small enough (the usual case: integer division is
much cheaper on a GPU in 32 bits), else 64-bit.
Set DMLPY_GPU_KERNELS=0 to use the tap-by-tap CuPy code instead (also the fallback, with one
warning, if a kernel fails to compile or launch).
"""
from __future__ import annotations

import os
import sys

import numpy as np

from .. import backend

_SOURCE = r"""
// a grid-stride loop: any launch size covers all elements
#define FOR_EACH_ELEMENT(i, total) \
    for (idx_t i = (idx_t)blockIdx.x * (idx_t)blockDim.x + (idx_t)threadIdx.x; i < (total); \
         i += (idx_t)blockDim.x * (idx_t)gridDim.x)

extern "C" __global__ void dmlpy_im2col(
        const real_t* __restrict__ X, real_t* __restrict__ cols,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw) {
    const idx_t total = C * R * S * n * P * Q;
    FOR_EACH_ELEMENT(i, total) {
        idx_t k = i;
        const idx_t q = k % Q; k /= Q;
        const idx_t p = k % P; k /= P;
        const idx_t m = k % n; k /= n;
        const idx_t s = k % S; k /= S;
        const idx_t r = k % R;
        const idx_t c = k / R;
        const idx_t h = p * sh + r - ph, w = q * sw + s - pw;
        cols[i] = (h >= 0 && h < H && w >= 0 && w < W) ? X[((m * C + c) * H + h) * W + w] : (real_t)0;
    }
}

extern "C" __global__ void dmlpy_col2im(
        const real_t* __restrict__ cols, real_t* __restrict__ dX,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw) {
    const idx_t total = n * C * H * W;
    FOR_EACH_ELEMENT(i, total) {
        idx_t k = i;
        const idx_t w = k % W; k /= W;
        const idx_t h = k % H; k /= H;
        const idx_t c = k % C;
        const idx_t m = k / C;
        real_t sum = 0;
        for (idx_t r = 0; r < R; ++r) {
            const idx_t hp = h + ph - r;
            if (hp < 0 || hp % sh != 0 || hp / sh >= P) continue;
            for (idx_t s = 0; s < S; ++s) {
                const idx_t wq = w + pw - s;
                if (wq < 0 || wq % sw != 0 || wq / sw >= Q) continue;
                sum += cols[((((c * R + r) * S + s) * n + m) * P + hp / sh) * Q + wq / sw];
            }
        }
        dX[i] = sum;
    }
}

extern "C" __global__ void dmlpy_max_pool(
        const real_t* __restrict__ X, real_t* __restrict__ out,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw,
        real_t lowest) {
    const idx_t total = n * C * P * Q;
    FOR_EACH_ELEMENT(i, total) {
        const idx_t q = i % Q, p = (i / Q) % P, image = i / (P * Q);
        const real_t* x = X + image * H * W;
        real_t best = lowest;
        for (idx_t r = 0; r < R; ++r) {
            const idx_t h = p * sh + r - ph;
            if (h < 0 || h >= H) continue;          // padding: -infinity, never the maximum
            for (idx_t s = 0; s < S; ++s) {
                const idx_t w = q * sw + s - pw;
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
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw,
        real_t lowest) {
    const idx_t total = n * C * H * W;
    FOR_EACH_ELEMENT(i, total) {
        const idx_t w0 = i % W, h0 = (i / W) % H, image = i / (H * W);
        const real_t* x = X + image * H * W;
        const real_t* d = dout + image * P * Q;
        // the windows (p, q) that contain cell (h0, w0), in the order the CPU backend adds them
        const idx_t a = h0 + ph - R + 1, b = w0 + pw - S + 1;
        const idx_t p_lo = a <= 0 ? 0 : (a + sh - 1) / sh, q_lo = b <= 0 ? 0 : (b + sw - 1) / sw;
        const idx_t p_hi = (h0 + ph) / sh < P - 1 ? (h0 + ph) / sh : P - 1;
        const idx_t q_hi = (w0 + pw) / sw < Q - 1 ? (w0 + pw) / sw : Q - 1;
        double sum = 0;     // in double and rounded once, as the CPU backend's bincount does
        for (idx_t p = p_lo; p <= p_hi; ++p) {
            for (idx_t q = q_lo; q <= q_hi; ++q) {
                // the window's first maximal cell in row-major order; none if it holds a NaN
                // or no cell exceeds lowest
                real_t best = lowest;
                idx_t at = -1;
                bool has_nan = false;
                for (idx_t r = 0; r < R && !has_nan; ++r) {
                    const idx_t h = p * sh + r - ph;
                    if (h < 0 || h >= H) continue;
                    for (idx_t s = 0; s < S; ++s) {
                        const idx_t w = q * sw + s - pw;
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


# Below this many elements per array, indices fit a 32-bit int with room for the last
# grid-stride step (at most _MAX_BLOCKS * _BLOCK past the end).
_INT32_LIMIT = (1 << 31) - _MAX_BLOCKS * _BLOCK


def _kernel(name: str, dtype, index: str):
    key = (backend.xp, name, np.dtype(dtype).char, index)
    kernel = _compiled.get(key)
    if kernel is None:
        real = {np.dtype(np.float64): "double", np.dtype(np.float32): "float"}[np.dtype(dtype)]
        kernel = _compiled[key] = backend.xp.RawKernel(
            f"typedef {real} real_t;\ntypedef {index} idx_t;\n{_SOURCE}", name)
    return kernel


def _launch(name: str, dtype, elements: int, arrays: tuple, sizes: tuple, reals: tuple = ()) -> bool:
    """Runs a kernel over `elements` elements; False (and kernels off) if it cannot run."""
    global failure
    blocks = max(1, min(-(-elements // _BLOCK), _MAX_BLOCKS))
    real = np.dtype(dtype).type
    small = max(a.size for a in arrays) < _INT32_LIMIT
    index, integer = ("int", np.int32) if small else ("long long", np.int64)
    args = arrays + tuple(integer(v) for v in sizes) + tuple(real(v) for v in reals)
    try:
        _kernel(name, dtype, index)((blocks,), (_BLOCK,), args)
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
