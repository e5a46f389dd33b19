"""Winograd's F(2x2, 3x3) for the 3x3, stride-1 convolutions on the GPU (opt-in, unmeasured).

Each 2x2 block of the output comes from a 4x4 block of the input with 16 multiplications per
(input channel, filter) instead of 36: U = G g G^T per filter, V = B^T d B per input tile (a CUDA
kernel, dnn_kernels.winograd_input), 16 GEMMs M = U V (one batched cuBLAS call), and Y = A^T m A
per tile (dnn_kernels.winograd_output). AlexNet's conv3-5 are such layers, and their data
gradient is one too: a 3x3 stride-1 convolution of dout, padded by 2 - p, with the filters turned
by 180 degrees and input and output channels swapped.

Off unless DMLPY_GPU_WINOGRAD=1: it has not been timed on a device yet
(benchmarks/gpu_winograd.py and gpu_check.py decide that). The results differ from the im2col
GEMM's by rounding only (float64: ~1e-15 relative to the largest output).
"""
from __future__ import annotations

import os

from .. import backend
from . import dnn_kernels


def applies(g) -> bool:
    """Whether conv2d and its data gradient of geometry g take this path."""
    return (g.R == 3 and g.S == 3 and g.sh == 1 and g.sw == 1 and g.ph <= 2 and g.pw <= 2
            and os.environ.get("DMLPY_GPU_WINOGRAD") == "1" and dnn_kernels.enabled())


def _filter_transform(F4):
    """U = G g G^T for each 3x3 filter g of F4 (Cout, Cin, 3, 3) -> (16, Cout, Cin)."""
    xp = backend.xp
    rows = [F4[:, :, 0, :], (F4[:, :, 0, :] + F4[:, :, 1, :] + F4[:, :, 2, :]) * 0.5,
            (F4[:, :, 0, :] - F4[:, :, 1, :] + F4[:, :, 2, :]) * 0.5, F4[:, :, 2, :]]
    U = xp.empty((4, 4) + F4.shape[:2], dtype=F4.dtype)
    for a, r in enumerate(rows):
        U[a, 0] = r[..., 0]
        U[a, 1] = (r[..., 0] + r[..., 1] + r[..., 2]) * 0.5
        U[a, 2] = (r[..., 0] - r[..., 1] + r[..., 2]) * 0.5
        U[a, 3] = r[..., 2]
    return U.reshape(16, F4.shape[0], F4.shape[1])


def _convolve(images, U, n: int, C: int, H: int, W: int, ph: int, pw: int):
    """3x3 stride-1 convolution of images (n, C*H*W) by transformed filters U (16, K, C), padding
    (ph, pw) -> (n, K*P*Q), or None if a kernel cannot run."""
    xp = backend.xp
    K = U.shape[1]
    P, Q = H + 2 * ph - 2, W + 2 * pw - 2
    TP, TQ = (P + 1) // 2, (Q + 1) // 2
    V = xp.empty((16, C, n * TP * TQ), dtype=images.dtype)
    if not dnn_kernels.winograd_input(xp.ascontiguousarray(images), V, n, C, H, W, TP, TQ, ph, pw):
        return None
    M = xp.matmul(U, V)
    Y = xp.empty((n, K * P * Q), dtype=images.dtype)
    return Y if dnn_kernels.winograd_output(M, Y, n, K, P, Q, TP, TQ) else None


def forward(g, K: int, X, F):
    """conv2d(X, F) for geometry g -> (N, K*P*Q), or None if a kernel cannot run."""
    U = _filter_transform(F.reshape(K, g.C, 3, 3))
    return _convolve(X, U, g.N, g.C, g.H, g.W, g.ph, g.pw)


def backward_data(g, K: int, F, dout):
    """conv2d_backward_data(F, dout) for geometry g -> (N, C*H*W), or None."""
    turned = F.reshape(K, g.C, 3, 3)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    U = _filter_transform(backend.xp.ascontiguousarray(turned))
    return _convolve(dout, U, g.N, K, g.P, g.Q, 2 - g.ph, 2 - g.pw)
