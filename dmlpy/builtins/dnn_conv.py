"""2-D convolution builtins: conv2d, conv2d_backward_filter, conv2d_backward_data.

All three use one im2col layout, ``cols[c, r, s, n, p, q] = Xpad[c, n, r + p*sh, s + q*sw]``,
reshaped to (C*R*S, n*P*Q), and one GEMM per chunk of images. Chunking keeps the patch
matrix small enough to stay in cache and to be reused from chunk to chunk (no fresh
pages for a whole-batch patch matrix of hundreds of MB), and writes results straight in
the NCHW layout of the output. Zero padding; windows that run past the padded border
read zeros.

On NumPy the patch matrix of a chunk is one strided copy of a window view
(as_strided); other backends copy the R*S filter taps one strided slice at a time.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from .registry import builtin
from .dnn_shapes import Geometry, check_matrix, from_padded, geometry, int_list, to_padded

# Bytes of patch matrix per chunk of images: large enough for efficient GEMMs (a few
# thousand columns), small enough to stay in cache and keep peak memory low.
CHUNK_BYTES = 16 << 20


def _conv_geometry(name, input_shape, filter_shape, stride, padding) -> tuple[Geometry, int]:
    K, Cf, R, S = int_list(filter_shape, 4, "filter_shape", name)
    g = geometry(name, input_shape, (R, S), stride, padding)
    if K <= 0:
        raise DMLRuntimeError(f"{name}(): the number of filters must be positive, got {K}")
    if Cf != g.C:
        raise DMLRuntimeError(f"{name}(): filter_shape has {Cf} channels but input_shape has {g.C}")
    return g, K


def _chunks(g: Geometry, itemsize: int):
    """Image ranges [n0, n1) processed together; the whole batch off NumPy (GPU)."""
    if backend.xp is not np:
        yield 0, g.N
        return
    per_image = g.C * g.R * g.S * g.P * g.Q * itemsize
    step = max(1, min(g.N, CHUNK_BYTES // max(per_image, 1)))
    for n0 in range(0, g.N, step):
        yield n0, min(g.N, n0 + step)


def _im2col_chunk(g: Geometry, Xp, n0: int, n1: int, out=None):
    """Patch matrix (C*R*S, n*P*Q) of images n0..n1-1 of the padded (C, N, Hp, Wp) array."""
    xp = backend.xp
    n = n1 - n0
    shape = (g.C, g.R, g.S, n, g.P, g.Q)
    cols = xp.empty(shape, dtype=Xp.dtype) if out is None else out[:g.C * g.R * g.S * n * g.P * g.Q].reshape(shape)
    if xp is np:
        sc, sn, sh, sw = Xp.strides
        windows = np.lib.stride_tricks.as_strided(Xp[:, n0:n1], shape, (sc, sh, sw, sn, sh * g.sh, sw * g.sw),
                                                  writeable=False)
        np.copyto(cols, windows)
    else:
        part = Xp[:, n0:n1]
        for r in range(g.R):
            for s in range(g.S):
                cols[:, r, s] = part[g.tap(r, s)]
    return cols.reshape(g.C * g.R * g.S, n * g.P * g.Q)


def _col2im_chunk_add(g: Geometry, cols, dXp, n0: int, n1: int):
    """Adds the patch matrix (C*R*S, n*P*Q) of images n0..n1-1 into padded (C, N, Hp, Wp) dXp."""
    cols = cols.reshape(g.C, g.R, g.S, n1 - n0, g.P, g.Q)
    part = dXp[:, n0:n1]
    for r in range(g.R):
        for s in range(g.S):
            part[g.tap(r, s)] += cols[:, r, s]     # one tap's cells are distinct: no scatter needed


def _buffer(g: Geometry, rows: int, dtype):
    """A scratch array big enough for the largest chunk's (rows, n*P*Q) matrix."""
    n_max = max(n1 - n0 for n0, n1 in _chunks(g, np.dtype(dtype).itemsize))
    return backend.xp.empty(rows * n_max * g.P * g.Q, dtype=dtype)


def _rows_of_chunk(A, n0: int, n1: int, K: int, L: int, out=None):
    """(N, K*L) images n0..n1-1 -> (K, n*L): channels become rows."""
    xp = backend.xp
    n = n1 - n0
    dst = xp.empty((K, n, L), dtype=A.dtype) if out is None else out[:K * n * L].reshape(K, n, L)
    dst[...] = A[n0:n1].reshape(n, K, L).transpose(1, 0, 2)
    return dst.reshape(K, n * L)


@builtin("conv2d")
def conv2d(input, filter, stride, padding, input_shape, filter_shape):
    """2-D convolution (cross-correlation) of N images by K filters -> (N, K*P*Q)."""
    xp = backend.xp
    g, K = _conv_geometry("conv2d", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d", "input", input, g.N, g.C * g.H * g.W)
    check_matrix("conv2d", "filter", filter, K, g.C * g.R * g.S)
    L = g.P * g.Q
    Xp = to_padded(g, input, 0.0)
    out = xp.empty((g.N, K, L), dtype=input.dtype)
    cols_buf = _buffer(g, g.C * g.R * g.S, input.dtype)
    prod_buf = _buffer(g, K, input.dtype)
    for n0, n1 in _chunks(g, input.dtype.itemsize):
        n = n1 - n0
        prod = xp.matmul(filter, _im2col_chunk(g, Xp, n0, n1, cols_buf),
                         out=prod_buf[:K * n * L].reshape(K, n * L))
        out[n0:n1] = prod.reshape(K, n, L).transpose(1, 0, 2)
    return out.reshape(g.N, K * L)


@builtin("conv2d_backward_filter")
def conv2d_backward_filter(input, dout, stride, padding, input_shape, filter_shape):
    """Gradient of conv2d with respect to the filter -> (K, C*R*S)."""
    xp = backend.xp
    g, K = _conv_geometry("conv2d_backward_filter", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d_backward_filter", "input", input, g.N, g.C * g.H * g.W)
    check_matrix("conv2d_backward_filter", "dout", dout, g.N, K * g.P * g.Q)
    L = g.P * g.Q
    Xp = to_padded(g, input, 0.0)
    cols_buf = _buffer(g, g.C * g.R * g.S, input.dtype)
    dout_buf = _buffer(g, K, input.dtype)
    dW = None
    for n0, n1 in _chunks(g, input.dtype.itemsize):
        cols = _im2col_chunk(g, Xp, n0, n1, cols_buf)
        part = _rows_of_chunk(dout, n0, n1, K, L, dout_buf) @ cols.T        # (K, C*R*S)
        if dW is None:
            dW = part
        else:
            dW += part
    return dW


@builtin("conv2d_backward_data")
def conv2d_backward_data(filter, dout, stride, padding, input_shape, filter_shape):
    """Gradient of conv2d with respect to the input images -> (N, C*H*W)."""
    xp = backend.xp
    g, K = _conv_geometry("conv2d_backward_data", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d_backward_data", "filter", filter, K, g.C * g.R * g.S)
    check_matrix("conv2d_backward_data", "dout", dout, g.N, K * g.P * g.Q)
    L = g.P * g.Q
    CRS = g.C * g.R * g.S
    filter_t = xp.ascontiguousarray(filter.T)
    dXp = xp.zeros((g.C, g.N, g.padded_h, g.padded_w), dtype=dout.dtype)
    cols_buf = _buffer(g, CRS, dout.dtype)
    dout_buf = _buffer(g, K, dout.dtype)
    for n0, n1 in _chunks(g, dout.dtype.itemsize):
        n = n1 - n0
        cols = xp.matmul(filter_t, _rows_of_chunk(dout, n0, n1, K, L, dout_buf),
                         out=cols_buf[:CRS * n * L].reshape(CRS, n * L))
        _col2im_chunk_add(g, cols, dXp, n0, n1)
    return from_padded(g, dXp)
