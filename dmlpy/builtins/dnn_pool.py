"""2-D pooling builtins: max_pool, avg_pool and their backward passes.

SystemDS semantics (measured on 3.4.0):
  * max_pool ignores padded cells (they act as -infinity); a window that covers no
    image cell yields -DBL_MAX, except that an all-zero input matrix yields zeros.
  * avg_pool counts padded cells as zeros and always divides by pool height*width.
  * max_pool_backward routes each window's gradient to the first maximal cell of the
    window in row-major order; an all-zero input matrix gets an all-zero gradient.
    Where windows overlap (stride < pool size) and share a maximal cell, their
    gradients are summed here. SystemDS 3.4.0 does not sum them (it appends them to a
    sparse row as duplicate entries), so its result is not the gradient there; we
    deliberately keep the true gradient.
Computation loops over the R*S window taps only, on strided slices of whole images in
NCHW order (no transposes; no padded copy when windows tile the image exactly), and on
NumPy splits the batch over the cores (dnn_parallel). On CuPy, max pooling and its gradient
are one CUDA kernel each (dnn_kernels).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from . import dnn_kernels
from .dnn_parallel import chunks, map_chunks
from .registry import builtin
from .dnn_shapes import Geometry, check_matrix, geometry, int_list


def _pool_geometry(name, input, stride, padding, input_shape, pool_size) -> Geometry:
    R, S = int_list(pool_size, 2, "pool_size", name)
    g = geometry(name, input_shape, (R, S), stride, padding)
    if input is not None:
        check_matrix(name, "input", input, g.N, g.C * g.H * g.W)
    return g


# Input cells per chunk of images on NumPy: chunks for the workers to share, each large
# enough that per-tap overheads do not matter.
CHUNK_CELLS = 1 << 20


def _spans(g: Geometry) -> list[tuple[int, int]]:
    if backend.xp is not np:
        return [(0, g.N)]
    return chunks(g.N, max(1, CHUNK_CELLS // (g.C * g.H * g.W)))


def _lowest(dtype) -> float:
    # The initial value of SystemDS's running maximum: -Double.MAX_VALUE.
    return float(-np.finfo(dtype).max)


def _unpadded(g: Geometry) -> bool:
    return g.padded_h == g.H and g.padded_w == g.W


def _padded(g: Geometry, X, a: int, b: int, fill: float):
    """Images a..b-1 of X (N, C*H*W) as (n, C, Hp, Wp), padding cells set to fill (a view if none)."""
    X4 = X[a:b].reshape(b - a, g.C, g.H, g.W)
    if _unpadded(g):
        return X4
    Xp = backend.xp.full((b - a, g.C, g.padded_h, g.padded_w), fill, dtype=X.dtype)
    Xp[g.interior()] = X4
    return Xp


def _unpad_into(g: Geometry, dXp, dst):
    """Padded (n, C, Hp, Wp) gradient -> its image cells, written to dst (n, C, H, W)."""
    dst[...] = dXp[g.interior()]


def _window_max(g: Geometry, Xp, lowest):
    """Max over each window of padded (n, C, Hp, Wp) images -> (n, C, P, Q); NaN propagates."""
    xp = backend.xp
    out = xp.maximum(Xp[g.tap(0, 0)], lowest)
    for r in range(g.R):
        for s in range(g.S):
            if r or s:
                xp.maximum(out, Xp[g.tap(r, s)], out=out)
    return out


def _first_max_tap(g: Geometry, Xp, lowest):
    """Per window of padded (n, C, Hp, Wp) images, the index r*S+s of its first maximal
    cell in row-major order, and whether the window passes a gradient at all (not when
    its maximum is NaN or no cell exceeds -DBL_MAX, i.e. padding only: SystemDS then
    matches no cell)."""
    xp = backend.xp
    Xt = Xp[g.tap(0, 0)]
    best = xp.maximum(Xt, lowest)
    first = xp.zeros(best.shape, dtype=np.int32)
    step = xp.empty(best.shape, dtype=np.int32)
    for r in range(g.R):
        for s in range(g.S):
            if r or s:
                Xt = Xp[g.tap(r, s)]
                better = Xt > best                      # strict: ties keep the earlier tap
                xp.subtract(r * g.S + s, first, out=step)
                step *= better
                first += step                           # first = r*S+s where better
                xp.maximum(best, Xt, out=best)
    return first, best > lowest                         # False for NaN too


def _cell_index(g: Geometry, n: int, first):
    """Flat index into padded (n, C, Hp, Wp) images of each window's tap `first`."""
    xp = backend.xp
    Hp, Wp = g.padded_h, g.padded_w
    image = xp.arange(n * g.C, dtype=np.int64).reshape(n, g.C, 1, 1) * (Hp * Wp)
    row = xp.arange(g.P, dtype=np.int64).reshape(1, 1, g.P, 1) * (g.sh * Wp)
    col = xp.arange(g.Q, dtype=np.int64).reshape(1, 1, 1, g.Q) * g.sw
    k = xp.arange(g.R * g.S, dtype=np.int64)                # tap r*S+s reads cell (r, s) of its window
    tap = (k // g.S) * Wp + k % g.S
    return ((image + row) + col) + xp.take(tap, first)


@builtin("max_pool")
def max_pool(input, stride, padding, input_shape, pool_size):
    """Max pooling -> (N, C*P*Q)."""
    xp = backend.xp
    g = _pool_geometry("max_pool", input, stride, padding, input_shape, pool_size)
    if g.has_window_outside_image() and not backend.item(xp.any(input)):
        return xp.zeros((g.N, g.C * g.P * g.Q), dtype=input.dtype)
    lowest = _lowest(input.dtype)
    out = xp.empty((g.N, g.C, g.P, g.Q), dtype=input.dtype)
    if dnn_kernels.enabled() and dnn_kernels.max_pool(g, xp.ascontiguousarray(input), out, lowest):
        return out.reshape(g.N, g.C * g.P * g.Q)

    def images(a, b):
        out[a:b] = _window_max(g, _padded(g, input, a, b, -np.inf), lowest)

    map_chunks(images, _spans(g), 2.0 * input.size * g.R * g.S / (g.sh * g.sw))
    return out.reshape(g.N, g.C * g.P * g.Q)


@builtin("max_pool_backward")
def max_pool_backward(input, dout, stride, padding, input_shape, pool_size):
    """Gradient of max_pool with respect to its input -> (N, C*H*W)."""
    xp = backend.xp
    g = _pool_geometry("max_pool_backward", input, stride, padding, input_shape, pool_size)
    check_matrix("max_pool_backward", "dout", dout, g.N, g.C * g.P * g.Q)
    lowest = _lowest(input.dtype)
    dX = xp.empty((g.N, g.C, g.H, g.W), dtype=input.dtype)
    if dnn_kernels.enabled() and dnn_kernels.max_pool_backward(g, xp.ascontiguousarray(input),
                                                                xp.ascontiguousarray(dout), dX, lowest):
        return dX.reshape(g.N, g.C * g.H * g.W)
    if not backend.item(xp.any(input)):
        return xp.zeros(input.shape, dtype=input.dtype)
    d4 = dout.reshape(g.N, g.C, g.P, g.Q)

    def images(a, b):
        n = b - a
        first, passes = _first_max_tap(g, _padded(g, input, a, b, -np.inf), lowest)
        # Each window adds its gradient to one cell; bincount sums the windows sharing a cell.
        share = xp.where(passes, d4[a:b], 0.0)
        size = n * g.C * g.padded_h * g.padded_w
        dXp = xp.bincount(_cell_index(g, n, first).ravel(), weights=share.ravel(), minlength=size)
        dXp = dXp.reshape(n, g.C, g.padded_h, g.padded_w)
        dX[a:b] = dXp if _unpadded(g) else dXp[g.interior()]

    map_chunks(images, _spans(g), 6.0 * input.size * g.R * g.S / (g.sh * g.sw))
    return dX.reshape(g.N, g.C * g.H * g.W)


@builtin("avg_pool")
def avg_pool(input, stride, padding, input_shape, pool_size):
    """Average pooling (padded cells count as zeros) -> (N, C*P*Q)."""
    xp = backend.xp
    g = _pool_geometry("avg_pool", input, stride, padding, input_shape, pool_size)
    out = xp.empty((g.N, g.C, g.P, g.Q), dtype=input.dtype)

    def images(a, b):
        Xp = _padded(g, input, a, b, 0.0)
        total = xp.zeros((b - a, g.C, g.P, g.Q), dtype=input.dtype)
        for r in range(g.R):
            for s in range(g.S):
                total += Xp[g.tap(r, s)]
        xp.multiply(total, 1.0 / (g.R * g.S), out=out[a:b])

    map_chunks(images, _spans(g), 2.0 * input.size * g.R * g.S / (g.sh * g.sw))
    return out.reshape(g.N, g.C * g.P * g.Q)


@builtin("avg_pool_backward")
def avg_pool_backward(input, dout, stride, padding, input_shape, pool_size):
    """Gradient of avg_pool with respect to its input -> (N, C*H*W)."""
    xp = backend.xp
    # SystemDS never reads the input here (the gradient does not depend on it).
    g = _pool_geometry("avg_pool_backward", None, stride, padding, input_shape, pool_size)
    check_matrix("avg_pool_backward", "dout", dout, g.N, g.C * g.P * g.Q)
    d4 = dout.reshape(g.N, g.C, g.P, g.Q)
    dX = xp.zeros((g.N, g.C, g.H, g.W), dtype=dout.dtype)

    def images(a, b):
        share = d4[a:b] * (1.0 / (g.R * g.S))
        dXp = dX[a:b] if _unpadded(g) else xp.zeros((b - a, g.C, g.padded_h, g.padded_w), dtype=dout.dtype)
        for r in range(g.R):
            for s in range(g.S):
                dXp[g.tap(r, s)] += share
        if not _unpadded(g):
            _unpad_into(g, dXp, dX[a:b])

    map_chunks(images, _spans(g), 2.0 * dout.size * g.R * g.S)
    return dX.reshape(g.N, g.C * g.H * g.W)
