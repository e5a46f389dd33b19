"""2-D convolution builtins: conv2d, conv2d_backward_filter, conv2d_backward_data.

All three use one im2col layout, ``cols[c, r, s, n, p, q] = Xpad[c, n, r + p*sh, s + q*sw]``,
reshaped to (C*R*S, N*P*Q), so each builtin is a single GEMM plus a loop over the
R*S filter taps that copies (im2col) or adds (col2im) strided slices of whole
batches. Zero padding; windows that run past the padded border read zeros.
"""
from __future__ import annotations

from .. import backend
from ..errors import DMLRuntimeError
from .registry import builtin
from .dnn_shapes import (Geometry, check_matrix, cn_to_nchw, from_padded, geometry, int_list,
                         nchw_to_cn, to_padded)


def _conv_geometry(name, input_shape, filter_shape, stride, padding) -> tuple[Geometry, int]:
    K, Cf, R, S = int_list(filter_shape, 4, "filter_shape", name)
    g = geometry(name, input_shape, (R, S), stride, padding)
    if K <= 0:
        raise DMLRuntimeError(f"{name}(): the number of filters must be positive, got {K}")
    if Cf != g.C:
        raise DMLRuntimeError(f"{name}(): filter_shape has {Cf} channels but input_shape has {g.C}")
    return g, K


def im2col(g: Geometry, X):
    """Images (N, C*H*W) -> patch matrix (C*R*S, N*P*Q)."""
    xp = backend.xp
    Xp = to_padded(g, X, 0.0)
    cols = xp.empty((g.C, g.R, g.S, g.N, g.P, g.Q), dtype=X.dtype)
    for r in range(g.R):
        for s in range(g.S):
            cols[:, r, s] = Xp[g.tap(r, s)]
    return cols.reshape(g.C * g.R * g.S, g.N * g.P * g.Q)


def col2im(g: Geometry, cols):
    """Patch matrix (C*R*S, N*P*Q) -> images (N, C*H*W), summing overlapping patches."""
    xp = backend.xp
    cols = cols.reshape(g.C, g.R, g.S, g.N, g.P, g.Q)
    Xp = xp.zeros((g.C, g.N, g.padded_h, g.padded_w), dtype=cols.dtype)
    for r in range(g.R):
        for s in range(g.S):
            Xp[g.tap(r, s)] += cols[:, r, s]     # one tap's cells are distinct: no scatter needed
    return from_padded(g, Xp)


@builtin("conv2d")
def conv2d(input, filter, stride, padding, input_shape, filter_shape):
    """2-D convolution (cross-correlation) of N images by K filters -> (N, K*P*Q)."""
    g, K = _conv_geometry("conv2d", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d", "input", input, g.N, g.C * g.H * g.W)
    check_matrix("conv2d", "filter", filter, K, g.C * g.R * g.S)
    out = filter @ im2col(g, input)                            # (K, N*P*Q)
    return cn_to_nchw(out, g.N, K, g.P * g.Q)


@builtin("conv2d_backward_filter")
def conv2d_backward_filter(input, dout, stride, padding, input_shape, filter_shape):
    """Gradient of conv2d with respect to the filter -> (K, C*R*S)."""
    g, K = _conv_geometry("conv2d_backward_filter", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d_backward_filter", "input", input, g.N, g.C * g.H * g.W)
    check_matrix("conv2d_backward_filter", "dout", dout, g.N, K * g.P * g.Q)
    dout_k = nchw_to_cn(dout, g.N, K, g.P * g.Q)               # (K, N*P*Q)
    # cols @ dout_k.T keeps the long N*P*Q axis contiguous in both operands; the
    # equivalent dout_k @ cols.T is several times slower in OpenBLAS.
    return backend.xp.ascontiguousarray((im2col(g, input) @ dout_k.T).T)


@builtin("conv2d_backward_data")
def conv2d_backward_data(filter, dout, stride, padding, input_shape, filter_shape):
    """Gradient of conv2d with respect to the input images -> (N, C*H*W)."""
    g, K = _conv_geometry("conv2d_backward_data", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d_backward_data", "filter", filter, K, g.C * g.R * g.S)
    check_matrix("conv2d_backward_data", "dout", dout, g.N, K * g.P * g.Q)
    dout_k = nchw_to_cn(dout, g.N, K, g.P * g.Q)
    return col2im(g, filter.T @ dout_k)
