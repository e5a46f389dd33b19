"""Winograd's F(2x2, 3x3) and F(2x2, 5x5) for stride-1 convolutions on the GPU.

Each 2x2 block of the output of an r x r convolution comes from an (r+1) x (r+1) tile of the
input with (r+1)^2 multiplications per (input channel, filter) instead of 4 r^2 (3x3: 16 instead of
36; 5x5: 36 instead of 100): U = G g G^T per filter, V = B^T d B per input tile (a CUDA kernel,
dnn_kernels.winograd_input), (r+1)^2 GEMMs M = U V (one batched cuBLAS call) and Y = A^T m A per
tile (dnn_kernels.winograd_output). AlexNet's conv2 (5x5) and conv3-5 (3x3) are such layers, and
so are their data gradients: a stride-1 convolution of dout, padded by r - 1 - p, with the filters
turned by 180 degrees and input and output channels swapped. The filter gradient is F(r x r, 2x2)
per tile (dout's 2x2 blocks are the "filters"), with the same input tiles as the forward pass
(dnn_conv keeps them for it, as it keeps im2col's patch matrix) and the tiles' products summed by
one batched GEMM.

The transform matrices come from Toom-Cook: evaluate the filter and the output at the points
below and infinity (G and A^T), and interpolate (B^T, the inverse transposed Vandermonde matrix),
computed exactly in rationals once. Which path a geometry takes is measured, not assumed: by default
dnn_conv times both on the geometry's first use (DMLPY_GPU_WINOGRAD=1 or 0 forces one). The results
differ from the im2col GEMM's by rounding only.
"""
from __future__ import annotations

import os

import numpy as np

from .. import backend
from . import dnn_kernels

# Interpolation points (besides infinity) for a tile size alpha: small integers keep the
# transforms exact in binary and their rounding errors small.
POINTS = {4: (0, 1, -1), 6: (0, 1, -1, 2, -2)}
_matrices: dict = {}


def eligible(g) -> bool:
    """Whether conv2d and its gradients of geometry g can take this path (3x3 or 5x5, stride 1,
    padding below the filter size, the CUDA kernels on)."""
    return (g.R == g.S and g.R + 1 in POINTS and g.sh == 1 and g.sw == 1 and g.ph < g.R and g.pw < g.R
            and dnn_kernels.enabled())


def mode() -> str:
    """DMLPY_GPU_WINOGRAD: "on" (1) for every eligible geometry, "off" (0) for none, else "auto":
    dnn_conv times both paths on each geometry's first use and keeps the faster."""
    value = os.environ.get("DMLPY_GPU_WINOGRAD", "auto").strip().lower()
    return {"1": "on", "on": "on", "0": "off", "off": "off"}.get(value, "auto")


def toom_cook(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A^T (m, alpha), G (alpha, r), B^T (alpha, alpha) of F(m, r), alpha = m + r - 1. F(2, r)
    convolves (forward, data gradient); F(r, 2) gives the filter gradient, with the same B^T."""
    from fractions import Fraction      # (once per tile size; not at start-up)
    alpha = m + r - 1
    points = [Fraction(p) for p in POINTS[alpha]]

    def evaluation(n):          # a polynomial of n coefficients at each point, then its leading one
        return [[p ** k for k in range(n)] for p in points] + [[Fraction(0)] * (n - 1) + [Fraction(1)]]

    E_out, E_filter, V = evaluation(m), evaluation(r), evaluation(alpha)
    # invert V exactly (Gauss-Jordan over the rationals)
    rows = [row + [Fraction(int(i == j)) for j in range(alpha)] for i, row in enumerate(V)]
    for c in range(alpha):
        pivot = next(i for i in range(c, alpha) if rows[i][c] != 0)
        rows[c], rows[pivot] = rows[pivot], rows[c]
        rows[c] = [x / rows[c][c] for x in rows[c]]
        for i in range(alpha):
            if i != c and rows[i][c] != 0:
                rows[i] = [x - rows[i][c] * y for x, y in zip(rows[i], rows[c])]
    V_inv = [row[alpha:] for row in rows]
    AT = [[E_out[j][i] for j in range(alpha)] for i in range(m)]
    BT = [[V_inv[j][i] for j in range(alpha)] for i in range(alpha)]
    return (np.array(AT, dtype=np.float64), np.array(E_filter, dtype=np.float64),
            np.array(BT, dtype=np.float64))


def _device_matrices(m: int, r: int, dtype):
    key = (backend.xp, m, r, np.dtype(dtype).char)
    if key not in _matrices:
        _matrices[key] = tuple(backend.asarray(a).astype(dtype, copy=False) for a in toom_cook(m, r))
    return _matrices[key]


def _tiles(P: int, Q: int) -> tuple[int, int]:
    return (P + 1) // 2, (Q + 1) // 2


def _input_tiles(images, r: int, n: int, C: int, H: int, W: int, ph: int, pw: int, P: int, Q: int):
    """B^T d B of each input tile of images (n, C*H*W) -> (alpha^2, C, n*TP*TQ), or None."""
    xp = backend.xp
    BT = _device_matrices(2, r, images.dtype)[2]
    TP, TQ = _tiles(P, Q)
    V = xp.empty(((r + 1) ** 2, C, n * TP * TQ), dtype=images.dtype)
    ok = dnn_kernels.winograd_input(xp.ascontiguousarray(images), BT, V, n, C, H, W, TP, TQ, ph, pw)
    return V if ok else None


def _convolve(V, filters, n: int, P: int, Q: int):
    """Stride-1 convolution by filters (K, C, r, r) of the images whose input tiles are V
    -> (n, K*P*Q), or None if a kernel cannot run."""
    xp = backend.xp
    K, C, r = filters.shape[0], filters.shape[1], filters.shape[2]
    AT, G, _ = _device_matrices(2, r, V.dtype)
    alpha = r + 1
    U = xp.matmul(xp.matmul(G, filters), G.T)                  # (K, C, alpha, alpha)
    U = xp.ascontiguousarray(U.transpose(2, 3, 0, 1)).reshape(alpha * alpha, K, C)
    M = xp.matmul(U, V)
    Y = xp.empty((n, K * P * Q), dtype=V.dtype)
    TP, TQ = _tiles(P, Q)
    return Y if dnn_kernels.winograd_output(M, AT, Y, n, K, P, Q, TP, TQ) else None


def forward(g, K: int, X, F):
    """conv2d(X, F) for geometry g -> (result (N, K*P*Q), X's input tiles for the filter
    gradient), or None if a kernel cannot run."""
    V = _input_tiles(X, g.R, g.N, g.C, g.H, g.W, g.ph, g.pw, g.P, g.Q)
    Y = None if V is None else _convolve(V, F.reshape(K, g.C, g.R, g.S), g.N, g.P, g.Q)
    return None if Y is None else (Y, V)


def backward_data(g, K: int, F, dout):
    """conv2d_backward_data(F, dout) for geometry g -> (N, C*H*W), or None."""
    turned = backend.xp.ascontiguousarray(F.reshape(K, g.C, g.R, g.S)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    V = _input_tiles(dout, g.R, g.N, K, g.P, g.Q, g.R - 1 - g.ph, g.S - 1 - g.pw, g.H, g.W)
    return None if V is None else _convolve(V, turned, g.N, g.H, g.W)


def backward_filter(g, K: int, X, dout, V=None):
    """conv2d_backward_filter(X, dout) for geometry g -> (K, C*R*S), or None; V: X's input tiles
    from the forward pass, if kept. Per tile, F(r x r, 2x2) correlates the input tile with dout's
    2x2 block; the tiles' products are summed (a batched GEMM over all tiles) before A^T . A."""
    xp = backend.xp
    r, alpha = g.R, g.R + 1
    if V is None:
        V = _input_tiles(X, r, g.N, g.C, g.H, g.W, g.ph, g.pw, g.P, g.Q)
        if V is None:
            return None
    AT, G, _ = _device_matrices(r, 2, dout.dtype)
    TP, TQ = _tiles(g.P, g.Q)
    D = xp.empty((alpha * alpha, K, g.N * TP * TQ), dtype=dout.dtype)
    if not dnn_kernels.winograd_dout(xp.ascontiguousarray(dout), G, D, g.N, K, g.P, g.Q, TP, TQ):
        return None
    M = xp.matmul(D, V.transpose(0, 2, 1))                     # (alpha^2, K, C)
    M = M.transpose(1, 2, 0).reshape(K, g.C, alpha, alpha)
    return xp.ascontiguousarray(xp.matmul(xp.matmul(AT, M), AT.T)).reshape(K, g.C * r * r)
