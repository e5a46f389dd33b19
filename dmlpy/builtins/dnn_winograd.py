"""Winograd's F(m x m, r x r) for stride-1 convolutions on the GPU: F(2x2, 3x3), F(4x4, 3x3), F(2x2, 5x5).

Each m x m block of the output of an r x r convolution comes from an alpha x alpha tile of the
input (alpha = m + r - 1) with alpha^2 multiplications per (input channel, filter) instead of
m^2 r^2 (3x3: 16 for 2x2 outputs or 36 for 4x4, instead of 36 or 144; 5x5: 36 instead of 100):
U = G g G^T per filter, V = B^T d B per input tile, alpha^2 GEMMs M = U V (one batched cuBLAS call)
and Y = A^T m A per tile; the transforms are CUDA kernels with the matrices' constants written in
(dnn_winograd_kernels, which also computes the matrices, exactly, by Toom-Cook). AlexNet's conv2 (5x5)
and conv3-5 (3x3) are such layers, and so are their data gradients: a stride-1 convolution of dout,
padded by r - 1 - p, with the filters turned by 180 degrees and input and output channels swapped.
The filter gradient is F(r x r, m x m) per tile (dout's m x m blocks are the "filters"), with the
same input tiles as the forward pass (dnn_conv keeps them for it, as it keeps im2col's patch matrix)
and the tiles' products summed by one batched GEMM.

Larger tiles save more multiplications but overhang more of a small image (13x13 in 4x4 blocks
covers 16x16) and round more; which path a geometry takes is measured, not assumed: by default
dnn_conv times each on the geometry's first use (DMLPY_GPU_WINOGRAD forces one). The results
differ from the im2col GEMM's by rounding only.
"""
from __future__ import annotations

import os

from .. import backend, device_gemm
from . import dnn_kernels
from .dnn_winograd_kernels import TILE_SIZES


def tile_sizes(g) -> tuple:
    """The output block sizes m of the Winograd algorithms geometry g can take: () unless its
    filter is 3x3 or 5x5, stride 1, padding below the filter size, the CUDA kernels on."""
    if (g.R == g.S and g.R in TILE_SIZES and g.sh == 1 and g.sw == 1 and g.ph < g.R and g.pw < g.R
            and dnn_kernels.enabled()):
        return TILE_SIZES[g.R]
    return ()


def mode() -> str:
    """DMLPY_GPU_WINOGRAD: "off" (0) im2col everywhere; "on" (1) Winograd wherever it applies, the
    tile size timed; "2" or "4" that output block size (2 where 4 does not apply); else "auto":
    dnn_conv times every path on each geometry's first use and keeps the fastest."""
    value = os.environ.get("DMLPY_GPU_WINOGRAD", "auto").strip().lower()
    return {"1": "on", "on": "on", "0": "off", "off": "off", "2": "2", "4": "4"}.get(value, "auto")


def _tiles(P: int, Q: int, m: int) -> tuple[int, int]:
    return -(-P // m), -(-Q // m)


def _input_tiles(images, r: int, m: int, n: int, C: int, H: int, W: int, ph: int, pw: int, P: int, Q: int):
    """B^T d B of each input tile of images (n, C*H*W) -> (alpha^2, C, n*TP*TQ), or None."""
    xp, alpha = backend.xp, m + r - 1
    TP, TQ = _tiles(P, Q, m)
    V = xp.empty((alpha * alpha, C, n * TP * TQ), dtype=images.dtype)
    ok = dnn_kernels.winograd_input(r, m, xp.ascontiguousarray(images), V, n, C, H, W, TP, TQ, ph, pw)
    return V if ok else None


def _convolve(V, F, r: int, m: int, O: int, I: int, flip: bool, n: int, P: int, Q: int):
    """Stride-1 convolution of the images whose input tiles are V by the filters F (O output, I
    input channels; with flip, F is (I, O*r*r) turned by 180 degrees) -> (n, O*P*Q), or None."""
    xp, alpha = backend.xp, m + r - 1
    U = xp.empty((alpha * alpha, O, I), dtype=V.dtype)
    if not dnn_kernels.winograd_filter(r, m, xp.ascontiguousarray(F), U, O, I, flip):
        return None
    M = xp.matmul(U, V)                                         # (alpha^2, O, tiles)
    Y = xp.empty((n, O * P * Q), dtype=V.dtype)
    TP, TQ = _tiles(P, Q, m)
    return Y if dnn_kernels.winograd_output(r, m, M, Y, n, O, P, Q, TP, TQ) else None


def forward(g, K: int, X, F, m: int):
    """conv2d(X, F) for geometry g by F(m x m, r x r) -> (result (N, K*P*Q), X's input tiles for
    the filter gradient), or None if a kernel cannot run."""
    V = _input_tiles(X, g.R, m, g.N, g.C, g.H, g.W, g.ph, g.pw, g.P, g.Q)
    Y = None if V is None else _convolve(V, F, g.R, m, K, g.C, False, g.N, g.P, g.Q)
    return None if Y is None else (Y, V)


def backward_data(g, K: int, F, dout, m: int):
    """conv2d_backward_data(F, dout) for geometry g -> (N, C*H*W), or None."""
    V = _input_tiles(dout, g.R, m, g.N, K, g.P, g.Q, g.R - 1 - g.ph, g.S - 1 - g.pw, g.H, g.W)
    return None if V is None else _convolve(V, F, g.R, m, g.C, K, True, g.N, g.H, g.W)


def backward_filter(g, K: int, X, dout, m: int, V=None):
    """conv2d_backward_filter(X, dout) for geometry g -> (K, C*R*S), or None; V: X's input tiles
    from the forward pass with the same m, if kept. Per tile, F(r x r, m x m) correlates the input
    tile with dout's m x m block; the tiles' products are summed (a batched GEMM over all tiles)
    before A^T . A."""
    xp, r = backend.xp, g.R
    alpha = m + r - 1
    if V is None:
        V = _input_tiles(X, r, m, g.N, g.C, g.H, g.W, g.ph, g.pw, g.P, g.Q)
        if V is None:
            return None
    TP, TQ = _tiles(g.P, g.Q, m)
    D = xp.empty((alpha * alpha, K, g.N * TP * TQ), dtype=dout.dtype)
    if not dnn_kernels.winograd_dout(r, m, xp.ascontiguousarray(dout), D, g.N, K, g.P, g.Q, TP, TQ):
        return None
    M = device_gemm.matmul_nt(D, V)                            # (alpha^2, K, C), V not copied
    dW = xp.empty((K, g.C * r * r), dtype=dout.dtype)
    return dW if dnn_kernels.winograd_wgrad(r, m, M, dW, K, g.C) else None
