"""CUDA kernels of the GPU backend: im2col and col2im for the convolutions, max pooling, and the
launchers of Winograd's tile transforms (their source: dnn_winograd_kernels).

On CuPy the convolutions would otherwise copy the patch matrix one filter tap at a time
(AlexNet's 11x11 conv1: 121 copies, and as many again for the gradients), each a kernel
launch with Python overhead. These kernels build the patch matrix, and fold it back into
image gradients, in one launch each, reading and writing the NCHW rows of the DML
matrices directly (no padded copy of the images).

Layouts are those of dnn_conv: ``cols[c, r, s, m, p, q]`` (C*R*S rows, n*P*Q columns)
holds image m's cell (p*sh + r - ph, q*sw + s - pw) of channel c, zero outside the image.
col2im gathers, for each image cell, the patch entries that read it, adding them in the
(r, s) order of the tap-by-tap version, so both give the same bits; it needs no atomics.
Max pooling takes a window per thread. Its gradient takes two kernels: a window per thread
finds the window's first maximal cell (SystemDS's rule, see dnn_pool), then a cell per thread
adds the gradients of the windows it is the maximum of, in the order the CPU backend does.

Every kernel walks its elements in a grid-stride loop (im2col in two dimensions), so any launch size covers them
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
from . import dnn_winograd_kernels

_PRELUDE = r"""
// a grid-stride loop: any launch size covers all elements
#define FOR_EACH_ELEMENT(i, total) \
    for (idx_t i = (idx_t)blockIdx.x * (idx_t)blockDim.x + (idx_t)threadIdx.x; i < (total); \
         i += (idx_t)blockDim.x * (idx_t)gridDim.x)

// a 2-D grid: y walks the rows of a matrix, x the elements of a row
#define FOR_EACH_ROW(row, rows) for (idx_t row = blockIdx.y; row < (rows); row += gridDim.y)
#define FOR_EACH_COLUMN(col, cols) \
    for (idx_t col = (idx_t)blockIdx.x * (idx_t)blockDim.x + (idx_t)threadIdx.x; col < (cols); \
         col += (idx_t)blockDim.x * (idx_t)gridDim.x)
"""

_SOURCE = _PRELUDE + r"""
// A thread per patch-matrix row (c, r, s) (the grid's y), image m and output column q, walking the
// output rows p: an element's position is decoded (divisions, dear on a GPU) once per P elements.
extern "C" __global__ void dmlpy_im2col(
        const real_t* __restrict__ X, real_t* __restrict__ cols,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw) {
    const idx_t PQ = P * Q, width = n * PQ;
    FOR_EACH_ROW(row, C * R * S) {
        const idx_t s = row % S, r = (row / S) % R, c = row / (R * S);
        FOR_EACH_COLUMN(t, n * Q) {
            const idx_t m = t / Q, q = t - m * Q;
            const idx_t w = q * sw + s - pw;
            const bool w_inside = w >= 0 && w < W;
            const idx_t image = (m * C + c) * H * W + w;
            real_t* out = cols + row * width + m * PQ + q;
            idx_t h = r - ph;
            for (idx_t p = 0; p < P; ++p, h += sh)
                out[p * Q] = (w_inside && h >= 0 && h < H) ? X[image + h * W] : (real_t)0;
        }
    }
}

// The taps t (filter rows or columns) whose window position o = (x + pad - t) / stride is a
// whole number in [0, O), for image coordinate x: t steps by the stride from the first such t,
// o counts down by one; the first tap and its position need no division in the loop.
#define FIRST_TAP(t0, o0, x, pad, stride, O) \
    idx_t t0 = (x + pad) % stride, o0 = (x + pad) / stride; \
    if (o0 > O - 1) { t0 += (o0 - (O - 1)) * stride; o0 = O - 1; }

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
        FIRST_TAP(r0, p0, h, ph, sh, P)
        FIRST_TAP(s0, q0, w, pw, sw, Q)
        real_t sum = 0;     // in the (r, s) order of the tap-by-tap code: the same bits
        for (idx_t r = r0, p = p0; r < R && p >= 0; r += sh, --p) {
            for (idx_t s = s0, q = q0; s < S && q >= 0; s += sw, --q) {
                sum += cols[((((c * R + r) * S + s) * n + m) * P + p) * Q + q];
            }
        }
        dX[i] = sum;
    }
}

// Window (p, q) of image x: its maximum, from lowest up (a NaN cell ends the scan and is the
// maximum), and in *where the offset of its first maximal cell in row-major order (-1 where no
// cell exceeds lowest): SystemDS's rule for where the gradient goes.
__device__ real_t window_max(const real_t* x, idx_t p, idx_t q, idx_t H, idx_t W, idx_t R, idx_t S,
                             idx_t sh, idx_t sw, idx_t ph, idx_t pw, real_t lowest, int* where) {
    real_t best = lowest;
    *where = -1;
    for (idx_t r = 0; r < R; ++r) {
        const idx_t h = p * sh + r - ph;
        if (h < 0 || h >= H) continue;          // padding: -infinity, never the maximum
        for (idx_t s = 0; s < S; ++s) {
            const idx_t w = q * sw + s - pw;
            if (w < 0 || w >= W) continue;
            const real_t v = x[h * W + w];
            if (v != v) return v;
            if (v > best) { best = v; *where = (int)(h * W + w); }
        }
    }
    return best;
}

extern "C" __global__ void dmlpy_max_pool(
        const real_t* __restrict__ X, real_t* __restrict__ out,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw,
        real_t lowest) {
    const idx_t total = n * C * P * Q;
    FOR_EACH_ELEMENT(i, total) {
        const idx_t q = i % Q, p = (i / Q) % P, image = i / (P * Q);
        int where;
        out[i] = window_max(X + image * H * W, p, q, H, W, R, S, sh, sw, ph, pw, lowest, &where);
    }
}

// Each window's first maximal cell (its offset in the image), or -1 where it holds a NaN or no
// cell exceeds lowest.
extern "C" __global__ void dmlpy_max_pool_argmax(
        const real_t* __restrict__ X, int* __restrict__ at,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw,
        real_t lowest) {
    const idx_t total = n * C * P * Q;
    FOR_EACH_ELEMENT(i, total) {
        const idx_t q = i % Q, p = (i / Q) % P, image = i / (P * Q);
        int where;
        const real_t best = window_max(X + image * H * W, p, q, H, W, R, S, sh, sw, ph, pw, lowest, &where);
        at[i] = best != best ? -1 : where;
    }
}

// A cell per thread: adds the gradients of the windows whose maximum it is (from
// dmlpy_max_pool_argmax), in the order the CPU backend adds them; all zero where the flag
// says the input holds no nonzero cell (SystemDS's rule, decided on the device: no sync).
extern "C" __global__ void dmlpy_max_pool_backward(
        const int* __restrict__ at, const real_t* __restrict__ dout, const bool* __restrict__ any_nonzero,
        real_t* __restrict__ dX,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t R, idx_t S,
        idx_t P, idx_t Q, idx_t sh, idx_t sw, idx_t ph, idx_t pw) {
    const idx_t total = n * C * H * W;
    const bool zero = !*any_nonzero;
    FOR_EACH_ELEMENT(i, total) {
        const idx_t w0 = i % W, h0 = (i / W) % H, image = i / (H * W);
        const int* a = at + image * P * Q;
        const real_t* d = dout + image * P * Q;
        const int cell = (int)(h0 * W + w0);
        // the windows (p, q) that contain cell (h0, w0)
        const idx_t lo_h = h0 + ph - R + 1, lo_w = w0 + pw - S + 1;
        const idx_t p_lo = lo_h <= 0 ? 0 : (lo_h + sh - 1) / sh, q_lo = lo_w <= 0 ? 0 : (lo_w + sw - 1) / sw;
        const idx_t p_hi = (h0 + ph) / sh < P - 1 ? (h0 + ph) / sh : P - 1;
        const idx_t q_hi = (w0 + pw) / sw < Q - 1 ? (w0 + pw) / sw : Q - 1;
        double sum = 0;     // in double and rounded once, as the CPU backend's bincount does
        if (!zero) {
            for (idx_t p = p_lo; p <= p_hi; ++p)
                for (idx_t q = q_lo; q <= q_hi; ++q)
                    if (a[p * Q + q] == cell) sum += d[p * Q + q];
        }
        dX[i] = (real_t)sum;
    }
}
"""

_BLOCK = 256
_MAX_BLOCKS = 1 << 16
_MAX_GRID_ROWS = 65535       # CUDA's limit on gridDim.y
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


def kernel_source(name: str) -> str:
    """The CUDA source that defines kernel `name` (the Winograd ones are generated per r, m)."""
    if name.startswith("dmlpy_winograd_"):
        r, m = name.split("_")[-2:]
        return _PRELUDE + dnn_winograd_kernels.source(int(r), int(m))
    return _SOURCE


def _kernel(name: str, dtype, index: str):
    key = (backend.xp, name, np.dtype(dtype).char, index)
    kernel = _compiled.get(key)
    if kernel is None:
        real = {np.dtype(np.float64): "double", np.dtype(np.float32): "float"}[np.dtype(dtype)]
        kernel = _compiled[key] = backend.xp.RawKernel(
            f"typedef {real} real_t;\ntypedef {index} idx_t;\n{kernel_source(name)}", name)
    return kernel


def _launch(name: str, dtype, elements: int, arrays: tuple, sizes: tuple, reals: tuple = (),
            rows: int = 1) -> bool:
    """Runs a kernel over `elements` elements (per row, for a kernel with rows); False (and
    kernels off) if it cannot run."""
    global failure
    blocks = max(1, min(-(-elements // _BLOCK), _MAX_BLOCKS))
    grid = (blocks,) if rows == 1 else (blocks, max(1, min(rows, _MAX_GRID_ROWS)))
    real = np.dtype(dtype).type
    small = max(a.size for a in arrays) < _INT32_LIMIT
    index, integer = ("int", np.int32) if small else ("long long", np.int64)
    args = arrays + tuple(integer(v) for v in sizes) + tuple(real(v) for v in reals)
    try:
        _kernel(name, dtype, index)(grid, (_BLOCK,), args)
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
    return _launch("dmlpy_im2col", X.dtype, X.shape[0] * g.Q, (X, out), _sizes(g, X.shape[0]),
                   rows=g.C * g.R * g.S)


def col2im(g, cols, out) -> bool:
    """Patch matrix cols (C*R*S, n*P*Q) -> image gradients out (n, C*H*W), both C-contiguous."""
    return _launch("dmlpy_col2im", cols.dtype, out.size, (cols, out), _sizes(g, out.shape[0]))


def max_pool(g, X, out, lowest: float) -> bool:
    """Rows of X (n, C*H*W) -> window maxima out (n, C*P*Q); lowest for a window without cells."""
    return _launch("dmlpy_max_pool", X.dtype, out.size, (X, out), _sizes(g, X.shape[0]), (lowest,))


def max_pool_backward(g, X, dout, out, lowest: float) -> bool:
    """Rows of X (n, C*H*W) and dout (n, C*P*Q) -> the gradient out (n, C*H*W), zero where X
    holds no nonzero cell."""
    xp = backend.xp
    at = xp.empty(dout.shape, dtype=np.int32)
    any_nonzero = xp.any(X)
    return (_launch("dmlpy_max_pool_argmax", X.dtype, at.size, (X, at), _sizes(g, X.shape[0]), (lowest,))
            and _launch("dmlpy_max_pool_backward", X.dtype, out.size, (at, dout, any_nonzero, out),
                        _sizes(g, X.shape[0])))


# Winograd F(m x m, r x r) (dnn_winograd; the kernels in dnn_winograd_kernels): alpha = m + r - 1

def winograd_filter(r: int, m: int, F, U, O: int, I: int, flip: bool) -> bool:
    """Filters F (O, I*r*r), or with flip F (I, O*r*r) turned 180 degrees -> U (alpha^2, O, I)."""
    return _launch(f"dmlpy_winograd_filter_{r}_{m}", F.dtype, O * I, (F, U), (O, I, int(flip)))


def winograd_input(r: int, m: int, X, V, n: int, C: int, H: int, W: int, TP: int, TQ: int,
                   ph: int, pw: int) -> bool:
    """Images X (n, C*H*W) -> input tiles V (alpha^2, C, n*TP*TQ), tile (tp, tq) at (m*tp - ph, m*tq - pw)."""
    return _launch(f"dmlpy_winograd_input_{r}_{m}", X.dtype, C * n * TP * TQ, (X, V), (n, C, H, W, TP, TQ, ph, pw))


def winograd_output(r: int, m: int, M, Y, n: int, K: int, P: int, Q: int, TP: int, TQ: int) -> bool:
    """Products M (alpha^2, K, n*TP*TQ) -> output images Y (n, K*P*Q)."""
    return _launch(f"dmlpy_winograd_output_{r}_{m}", M.dtype, K * n * TP * TQ, (M, Y), (n, K, P, Q, TP, TQ))


def winograd_dout(r: int, m: int, dout, D, n: int, K: int, P: int, Q: int, TP: int, TQ: int) -> bool:
    """dout (n, K*P*Q) -> its transformed m x m blocks D (alpha^2, K, n*TP*TQ)."""
    return _launch(f"dmlpy_winograd_dout_{r}_{m}", dout.dtype, K * n * TP * TQ, (dout, D), (n, K, P, Q, TP, TQ))


def winograd_wgrad(r: int, m: int, M, dW, K: int, C: int) -> bool:
    """Summed tile products M (alpha^2, K, C) -> the filter gradient dW (K, C*r*r)."""
    return _launch(f"dmlpy_winograd_wgrad_{r}_{m}", M.dtype, K * C, (M, dW), (K, C))
