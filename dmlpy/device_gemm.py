"""Matrix products on the GPU that CuPy's plain cuBLAS call runs slowly, done another way.

Split-K (matmul): a product with few output cells and a long inner dimension leaves most of the GPU
idle. AlexNet's first affine layer at batch 128, (128 x 9216) %*% (9216 x 4096), is such a product:
cuBLAS covers the 128 x 4096 output with about a hundred thread blocks, each summing 9216 products
in turn (an H100's profile of the AlexNet step showed such GEMMs at about 7 TFLOP/s, where the
convolutions' ran at 40-50). Cut the inner dimension into s
pieces, multiply the pieces as one batched GEMM (s times the blocks) and add the s partial
products. Whether that pays is measured on each shape's first use (both ways, each run twice and
the second timed), as the convolutions' paths are (dnn_conv.ConvPathChooser); DMLPY_GPU_SPLIT_K=0
or 1 forces it off or on where it applies. The two differ by rounding only.

matmul_nt: batched A B^T without the copy of the transposed operand that CuPy's matmul makes of
any operand that is not C-contiguous: one cuBLAS strided-batched call with B transposed (the
Winograd filter gradient's products, whose B is hundreds of megabytes).
"""
from __future__ import annotations

import os

import numpy as np

from . import backend

_MIN_INNER = 2048            # shorter inner dimensions keep enough blocks busy as they are
_MIN_PIECE = 512             # each piece's inner dimension
_BLOCK_CELLS = 128 * 128     # the output cells of one cuBLAS thread block, roughly
_ENOUGH_BLOCKS = 4 * 132     # four waves of an H100's 132 multiprocessors


def split_for(M: int, K: int, N: int) -> int:
    """Into how many pieces to cut the inner dimension of an (M x K) times (K x N) product:
    1 where its output already fills the GPU or K is short, else a power of two dividing K."""
    blocks = -(-M * N // _BLOCK_CELLS)
    if K < _MIN_INNER or blocks >= _ENOUGH_BLOCKS // 4:
        return 1
    s = 1
    while s < 16 and K % (2 * s) == 0 and K // (2 * s) >= _MIN_PIECE and blocks * 2 * s <= _ENOUGH_BLOCKS:
        s *= 2
    return s


def way_name(s: int) -> str:
    """How a product ran: plain (s = 1) or split-K into s pieces."""
    return "plain" if s == 1 else f"split-K {s}"


def split_k(a, b, s: int):
    """a @ b as s batched partial products over pieces of the inner dimension, then added."""
    xp = backend.xp
    M, K = a.shape
    N = b.shape[1]
    pieces = xp.matmul(a.reshape(M, s, K // s).transpose(1, 0, 2), b.reshape(s, K // s, N))
    return pieces.sum(axis=0)


def mode() -> str:
    value = os.environ.get("DMLPY_GPU_SPLIT_K", "auto").strip().lower()
    return {"1": "on", "on": "on", "0": "off", "off": "off"}.get(value, "auto")


class SplitKChooser:
    """Per product shape (and operand layout, which decides CuPy's copies): split or not."""

    def __init__(self):
        # (M, K, N, dtype char, a C-contiguous, b C-contiguous) -> {"split": s, "ms": {1: ..., s: ...}}
        self.choices: dict[tuple, dict] = {}

    def matmul(self, a, b):
        M, K = a.shape
        N = b.shape[1]
        s = split_for(M, K, N)
        m = mode()
        if s == 1 or m == "off":
            return a @ b
        if m == "auto":
            key = (M, K, N, a.dtype.char, bool(a.flags.c_contiguous), bool(b.flags.c_contiguous))
            choice = self.choices.get(key)
            if choice is None:
                times = {1: self.time_ms(lambda: a @ b is not None), s: self.time_ms(lambda: split_k(a, b, s) is not None)}
                choice = self.choices[key] = {"split": min(times, key=times.get), "ms": times}
            s = choice["split"]
        return split_k(a, b, s) if s > 1 else a @ b

    @staticmethod
    def time_ms(step):
        return backend.time_ms(step)


products = SplitKChooser()


def matmul(a, b):
    """a @ b of two 2-D device arrays, split-K where that was timed faster."""
    return products.matmul(a, b)


def matmul_nt(A, B):
    """A (batch, m, k) times B (batch, n, k) transposed -> (batch, m, n); both C-contiguous."""
    xp = backend.xp
    if xp is np or getattr(xp, "__name__", "") != "cupy" or A.dtype not in (np.float32, np.float64):
        return xp.matmul(A, B.transpose(0, 2, 1))
    from cupy.cuda import device, runtime
    from cupy_backends.cuda.libs import cublas
    A, B = xp.ascontiguousarray(A), xp.ascontiguousarray(B)
    batch, m, k = A.shape
    n = B.shape[1]
    out = xp.empty((batch, m, n), dtype=A.dtype)
    single = A.dtype == np.float32
    cuda_type = runtime.CUDA_R_32F if single else runtime.CUDA_R_64F
    compute = (getattr(cublas, "CUBLAS_COMPUTE_32F_FAST_TF32", 77) if backend.tf32 else
               getattr(cublas, "CUBLAS_COMPUTE_32F", 68)) if single else getattr(cublas, "CUBLAS_COMPUTE_64F", 70)
    one, zero = np.array(1, dtype=A.dtype), np.array(0, dtype=A.dtype)
    # cuBLAS is column-major: out^T (n x m) = B (read as k x n, transposed) times A^T (A read as k x m)
    try:
        cublas.gemmStridedBatchedEx(
            device.get_cublas_handle(), 1, 0, n, m, k, one.ctypes.data,     # 1: CUBLAS_OP_T, 0: CUBLAS_OP_N
            B.data.ptr, cuda_type, k, n * k, A.data.ptr, cuda_type, k, m * k,
            zero.ctypes.data, out.data.ptr, cuda_type, n, m * n, batch, compute, -1)   # -1: CUBLAS_GEMM_DEFAULT
    except Exception:       # (a CuPy without this binding) CuPy's matmul, copying B
        return xp.matmul(A, B.transpose(0, 2, 1))
    return out
