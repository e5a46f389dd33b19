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
Computation loops over the R*S window taps only, on whole-batch strided slices.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from .registry import builtin
from .dnn_shapes import Geometry, check_matrix, from_padded, geometry, int_list, to_padded


def _pool_geometry(name, input, stride, padding, input_shape, pool_size) -> Geometry:
    R, S = int_list(pool_size, 2, "pool_size", name)
    g = geometry(name, input_shape, (R, S), stride, padding)
    if input is not None:
        check_matrix(name, "input", input, g.N, g.C * g.H * g.W)
    return g


def _lowest(dtype) -> float:
    # The initial value of SystemDS's running maximum: -Double.MAX_VALUE.
    return float(-np.finfo(dtype).max)


def _window_max(g: Geometry, Xp, lowest):
    """Max over each window of the padded (C, N, Hp, Wp) array -> (C, N, P, Q)."""
    xp = backend.xp
    out = xp.full((g.C, g.N, g.P, g.Q), lowest, dtype=Xp.dtype)
    for r in range(g.R):
        for s in range(g.S):
            xp.maximum(out, Xp[g.tap(r, s)], out=out)
    return out


def _cpq_to_rows(g: Geometry, A):
    """(C, N, P, Q) -> (N, C*P*Q)."""
    return backend.xp.ascontiguousarray(A.transpose(1, 0, 2, 3)).reshape(g.N, g.C * g.P * g.Q)


def _rows_to_cpq(g: Geometry, A):
    """(N, C*P*Q) -> (C, N, P, Q)."""
    return A.reshape(g.N, g.C, g.P, g.Q).transpose(1, 0, 2, 3)


@builtin("max_pool")
def max_pool(input, stride, padding, input_shape, pool_size):
    """Max pooling -> (N, C*P*Q)."""
    xp = backend.xp
    g = _pool_geometry("max_pool", input, stride, padding, input_shape, pool_size)
    lowest = _lowest(input.dtype)
    out = _cpq_to_rows(g, _window_max(g, to_padded(g, input, -np.inf), lowest))
    if g.has_window_outside_image():
        out = xp.where(xp.any(input != 0), out, 0.0).astype(input.dtype, copy=False)
    return out


@builtin("max_pool_backward")
def max_pool_backward(input, dout, stride, padding, input_shape, pool_size):
    """Gradient of max_pool with respect to its input -> (N, C*H*W)."""
    xp = backend.xp
    g = _pool_geometry("max_pool_backward", input, stride, padding, input_shape, pool_size)
    check_matrix("max_pool_backward", "dout", dout, g.N, g.C * g.P * g.Q)
    Xp = to_padded(g, input, -np.inf)
    wmax = _window_max(g, Xp, _lowest(input.dtype))
    d = _rows_to_cpq(g, dout)
    # Visit taps in row-major window order; the first tap equal to the window max takes
    # the gradient. A window over padding only keeps max == -DBL_MAX and matches no cell.
    pending = wmax > _lowest(input.dtype)
    dXp = xp.zeros(Xp.shape, dtype=input.dtype)
    for r in range(g.R):
        for s in range(g.S):
            idx = g.tap(r, s)
            hit = Xp[idx] == wmax
            hit &= pending
            dXp[idx] += xp.where(hit, d, 0.0)   # one tap's cells are distinct: no scatter
            pending ^= hit
    dX = from_padded(g, dXp)
    return xp.where(xp.any(input != 0), dX, 0.0).astype(input.dtype, copy=False)


@builtin("avg_pool")
def avg_pool(input, stride, padding, input_shape, pool_size):
    """Average pooling (padded cells count as zeros) -> (N, C*P*Q)."""
    xp = backend.xp
    g = _pool_geometry("avg_pool", input, stride, padding, input_shape, pool_size)
    Xp = to_padded(g, input, 0.0)
    total = xp.zeros((g.C, g.N, g.P, g.Q), dtype=input.dtype)
    for r in range(g.R):
        for s in range(g.S):
            total += Xp[g.tap(r, s)]
    return _cpq_to_rows(g, total * (1.0 / (g.R * g.S)))


@builtin("avg_pool_backward")
def avg_pool_backward(input, dout, stride, padding, input_shape, pool_size):
    """Gradient of avg_pool with respect to its input -> (N, C*H*W)."""
    xp = backend.xp
    # SystemDS never reads the input here (the gradient does not depend on it).
    g = _pool_geometry("avg_pool_backward", None, stride, padding, input_shape, pool_size)
    check_matrix("avg_pool_backward", "dout", dout, g.N, g.C * g.P * g.Q)
    share = _rows_to_cpq(g, dout) * (1.0 / (g.R * g.S))
    dXp = xp.zeros((g.C, g.N, g.padded_h, g.padded_w), dtype=dout.dtype)
    for r in range(g.R):
        for s in range(g.S):
            dXp[g.tap(r, s)] += share
    return from_padded(g, dXp)
