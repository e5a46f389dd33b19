"""2-D convolution builtins: conv2d, conv2d_backward_filter, conv2d_backward_data.

All three use one im2col layout, ``cols[c, r, s, n, p, q] = Xpad[c, n, r + p*sh, s + q*sw]``,
reshaped to (C*R*S, n*P*Q), and one GEMM per chunk of n images. A chunk holds just enough
images for an efficient GEMM, so the patch matrix stays tens of MB instead of hundreds
(its buffer is reused from chunk to chunk; no fresh pages), and results go straight to
the NCHW rows of the output. On NumPy the batch is also split over the cores
(dnn_parallel). Zero padding; windows that run past the padded border read zeros.

On NumPy the patch matrix of a chunk is one copy of a strided window view (as_strided).
CuPy takes the whole batch as one chunk and builds the patch matrix, and folds it back, with
one CUDA kernel each (dnn_kernels); without them it copies the R*S filter taps one strided
slice at a time. On CuPy, conv2d also keeps the patch matrix of its input for the
conv2d_backward_filter of the same input that training runs later (PatchCache): the patch
matrix is then built once per step instead of twice. On CuPy, 3x3 and 5x5 stride-1 convolutions
and their gradients may go through dnn_winograd instead: ConvPathChooser times both paths.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from . import dnn_kernels, dnn_winograd
from .dnn_parallel import chunks, map_chunks, scratch, workers_split_batch
from .dnn_shapes import Geometry, check_matrix, geometry, int_list
from .registry import builtin

# Images per chunk on NumPy: enough GEMM columns (n*P*Q) for BLAS to run near its peak,
# as few images as that takes so the patch matrix stays small (in cache, reused from
# chunk to chunk), and at most MAX_CHUNK_BYTES of patch matrix.
MIN_CHUNK_COLUMNS = 700
MAX_CHUNK_BYTES = 24 << 20
# Without single-threaded BLAS workers (no threadpoolctl), BLAS threads each GEMM itself
# and needs much wider ones to scale.
MIN_CHUNK_COLUMNS_THREADED_BLAS = 16384
MAX_CHUNK_BYTES_THREADED_BLAS = 256 << 20


class PatchCache:
    """Patch matrices conv2d built on the device, by input array and geometry, for the
    conv2d_backward_filter of the same input (a training step's backward pass runs it for each
    forward conv2d). An entry is given out once, then dropped; the oldest go first past the
    byte limit (a forward pass without backward pass only cycles through it). The entry holds
    its input array: DML values are immutable and ops.set_index updates in place only an array
    that nothing else references, so a kept input cannot change under its patch matrix."""

    def __init__(self):
        self.entries: OrderedDict = OrderedDict()
        self.bytes = 0
        self.limit: int | None = None

    def _limit(self) -> int:
        """An eighth of the device's memory, at least 1 GiB and at most 6 GiB (AlexNet's five
        conv layers at batch 128 in float64: 4.5 GB)."""
        if self.limit is None:
            try:
                total = int(backend.xp.cuda.runtime.getDeviceProperties(0)["totalGlobalMem"])
            except Exception:
                total = 0
            self.limit = max(1 << 30, min(6 << 30, total // 8))
        return self.limit

    def put(self, X, g: Geometry, cols, kind: str = "im2col") -> None:
        """Keeps cols, X's patch matrix ("im2col") or Winograd input tiles ("winograd")."""
        if cols.nbytes > self._limit():
            return
        key = (id(X), g, kind)
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1].nbytes
        self.entries[key] = (X, cols)
        self.bytes += cols.nbytes
        while self.bytes > self._limit():
            _, (_, dropped) = self.entries.popitem(last=False)
            self.bytes -= dropped.nbytes

    def take(self, X, g: Geometry, kind: str = "im2col"):
        entry = self.entries.pop((id(X), g, kind), None)   # the entry holds X: its id is X's alone
        if entry is None:
            return None
        self.bytes -= entry[1].nbytes
        return entry[1]

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0


patch_cache = PatchCache()


def _conv_geometry(name, input_shape, filter_shape, stride, padding) -> tuple[Geometry, int]:
    K, Cf, R, S = int_list(filter_shape, 4, "filter_shape", name)
    g = geometry(name, input_shape, (R, S), stride, padding)
    if K <= 0:
        raise DMLRuntimeError(f"{name}(): the number of filters must be positive, got {K}")
    if Cf != g.C:
        raise DMLRuntimeError(f"{name}(): filter_shape has {Cf} channels but input_shape has {g.C}")
    return g, K


def _chunk_spans(g: Geometry, dtype) -> list[tuple[int, int]]:
    """The image chunks [c0, c1) of the batch: whole batch off NumPy."""
    if backend.xp is not np:
        return [(0, g.N)]
    per_image = g.C * g.R * g.S * g.P * g.Q * np.dtype(dtype).itemsize
    if workers_split_batch():
        columns, limit = MIN_CHUNK_COLUMNS, MAX_CHUNK_BYTES
    else:
        columns, limit = MIN_CHUNK_COLUMNS_THREADED_BLAS, MAX_CHUNK_BYTES_THREADED_BLAS
    step = max(1, min(-(-columns // (g.P * g.Q)), limit // max(per_image, 1)))
    return chunks(g.N, step)


def _matrix_buffer(g: Geometry, key: str, rows: int, n: int, dtype):
    """A flat scratch buffer for a (rows, n*P*Q) matrix."""
    return scratch(key, rows * n * g.P * g.Q, dtype)


def _images_buffer(g: Geometry, n: int, dtype):
    """A zeroed (C, n, Hp, Wp) scratch buffer for padded images."""
    shape = (g.C, n, g.padded_h, g.padded_w)
    buf = scratch("images", shape[0] * shape[1] * shape[2] * shape[3], dtype).reshape(shape)
    buf.fill(0)
    return buf


def _view(buf, *shape):
    size = 1
    for d in shape:
        size *= d
    return buf[:size].reshape(shape)


def _padded(g: Geometry, X, c0: int, c1: int, buf):
    """Images c0..c1-1 of X (N, C*H*W) -> channel-major padded (C, n, Hp, Wp), in buf.

    Only the interior is written: buf's padding cells stay zero from chunk to chunk."""
    Xp = buf[:, :c1 - c0]
    Xp[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W] = X[c0:c1].reshape(c1 - c0, g.C, g.H, g.W).transpose(1, 0, 2, 3)
    return Xp


def _im2col(g: Geometry, Xp, buf):
    """Padded (C, n, Hp, Wp) -> patch matrix (C*R*S, n*P*Q), in buf."""
    n = Xp.shape[1]
    shape = (g.C, g.R, g.S, n, g.P, g.Q)
    cols = _view(buf, *shape)
    if backend.xp is np:
        sc, sn, sh, sw = Xp.strides
        windows = np.lib.stride_tricks.as_strided(Xp, shape, (sc, sh, sw, sn, sh * g.sh, sw * g.sw),
                                                  writeable=False)
        np.copyto(cols, windows)
    else:
        for r in range(g.R):
            for s in range(g.S):
                cols[:, r, s] = Xp[g.tap(r, s)]
    return cols.reshape(g.C * g.R * g.S, n * g.P * g.Q)


def _patches(g: Geometry, X, c0: int, c1: int, buf):
    """Images c0..c1-1 of X (N, C*H*W) -> their patch matrix (C*R*S, n*P*Q), in buf."""
    n = c1 - c0
    if dnn_kernels.enabled():
        cols = _view(buf, g.C * g.R * g.S, n * g.P * g.Q)
        if dnn_kernels.im2col(g, backend.xp.ascontiguousarray(X[c0:c1]), cols):
            return cols
    return _im2col(g, _padded(g, X, c0, c1, _images_buffer(g, n, X.dtype)), buf)


def _col2im_add(g: Geometry, cols, dXp):
    """Adds the patch matrix (C*R*S, n*P*Q) into padded (C, n, Hp, Wp) images."""
    cols = cols.reshape(g.C, g.R, g.S, dXp.shape[1], g.P, g.Q)
    for r in range(g.R):
        for s in range(g.S):
            dXp[g.tap(r, s)] += cols[:, r, s]     # one tap's cells are distinct: no scatter needed


def _channel_rows(A, c0: int, c1: int, K: int, L: int, buf):
    """Rows c0..c1-1 of A (N, K*L) -> (K, n*L): channels become rows, in buf."""
    n = c1 - c0
    dst = _view(buf, K, n, L)
    dst[...] = A[c0:c1].reshape(n, K, L).transpose(1, 0, 2)
    return dst.reshape(K, n * L)


def path_name(m: int) -> str:
    """A convolution path's name: im2col (m = 0) or Winograd F(m x m, r x r)."""
    return "im2col" if m == 0 else f"Winograd F({m}x{m})"


class ConvPathChooser:
    """On the GPU, whether a convolution geometry takes im2col or Winograd (dnn_winograd), and
    which Winograd output block size m: tile_size() answers 0 for im2col, else m.

    DMLPY_GPU_WINOGRAD decides where it says so (dnn_winograd.mode). By default the first use of
    a geometry (and precision) that has more than one path times one training step's worth of
    each: conv2d, then conv2d_backward_filter with what conv2d kept, then conv2d_backward_data,
    on arrays of the geometry's shapes, each path run twice and its second run timed; the
    fastest is kept for the rest of the process, as cuDNN's benchmark mode does. Dense GEMMs and
    the tile transforms take the same time whatever the values, so the arrays are constant."""

    def __init__(self):
        # (geometry, K, dtype char) -> {"path": m, "ms": {m: milliseconds, or None: cannot run}}
        self.choices: dict[tuple, dict] = {}

    def tile_size(self, g: Geometry, K: int, dtype) -> int:
        sizes = dnn_winograd.tile_sizes(g) if backend.xp is not np else ()
        mode = dnn_winograd.mode()
        if not sizes or mode == "off":
            return 0
        if mode in ("2", "4"):
            return int(mode) if int(mode) in sizes else sizes[0]
        candidates = sizes if mode == "on" else (0,) + sizes
        if len(candidates) == 1:
            return candidates[0]
        key = (g, K, np.dtype(dtype).char)
        if key not in self.choices:
            self.choices[key] = self._measure(g, K, np.dtype(dtype), candidates)
        return self.choices[key]["path"]

    def _measure(self, g: Geometry, K: int, dtype, candidates) -> dict:
        xp = backend.xp
        X = xp.full((g.N, g.C * g.H * g.W), 0.5, dtype=dtype)
        F = xp.full((K, g.C * g.R * g.S), 0.25, dtype=dtype)
        D = xp.full((g.N, K * g.P * g.Q), 0.125, dtype=dtype)

        def im2col_step():
            _conv2d_im2col(g, K, X, F)
            _backward_filter_im2col(g, K, X, D)
            _backward_data_im2col(g, K, F, D)
            return True

        def winograd_step(m):
            def step():
                done = dnn_winograd.forward(g, K, X, F, m)
                return (done is not None and dnn_winograd.backward_filter(g, K, X, D, m, done[1]) is not None
                        and dnn_winograd.backward_data(g, K, F, D, m) is not None)
            step.__name__ = f"winograd{m}_step"
            return step

        # (the im2col step's filter gradient takes what its conv2d kept: the patch cache is left as found)
        times = {m: self.time_ms(winograd_step(m) if m else im2col_step) for m in candidates}
        ran = [m for m in candidates if times[m] is not None]
        return {"path": min(ran, key=lambda m: times[m]) if ran else 0, "ms": times}

    @staticmethod
    def time_ms(step):
        return backend.time_ms(step)


conv_paths = ConvPathChooser()


def _conv2d_im2col(g: Geometry, K: int, input, filter):
    xp, L, CRS = backend.xp, g.P * g.Q, g.C * g.R * g.S
    out = xp.empty((g.N, K, L), dtype=input.dtype)

    def chunk(c0, c1):
        n = c1 - c0
        cols = _patches(g, input, c0, c1, _matrix_buffer(g, "cols", CRS, n, input.dtype))
        if xp is not np:                        # one chunk: the whole batch's patch matrix
            patch_cache.put(input, g, cols)
        prod = xp.matmul(filter, cols, out=_view(_matrix_buffer(g, "rows", K, n, input.dtype), K, n * L))
        out[c0:c1] = prod.reshape(K, n, L).transpose(1, 0, 2)

    map_chunks(chunk, _chunk_spans(g, input.dtype), 2.0 * K * CRS * g.N * L)
    return out.reshape(g.N, K * L)


def _backward_filter_im2col(g: Geometry, K: int, input, dout):
    L, CRS = g.P * g.Q, g.C * g.R * g.S
    single_blas = workers_split_batch()

    def chunk(c0, c1):
        n = c1 - c0
        cols = patch_cache.take(input, g) if backend.xp is not np else None
        if cols is None:
            cols = _patches(g, input, c0, c1, _matrix_buffer(g, "cols", CRS, n, input.dtype))
        d = _channel_rows(dout, c0, c1, K, L, _matrix_buffer(g, "rows", K, n, input.dtype))
        # (K, C*R*S); multi-threaded OpenBLAS is much faster on the transposed product
        return d @ cols.T if single_blas else (cols @ d.T).T

    def add(total, part):
        total += part
        return total

    dW = map_chunks(chunk, _chunk_spans(g, input.dtype), 2.0 * K * CRS * g.N * L, fold=add)
    return backend.xp.ascontiguousarray(dW)


def _backward_data_im2col(g: Geometry, K: int, filter, dout):
    xp, L, CRS = backend.xp, g.P * g.Q, g.C * g.R * g.S
    dX = xp.empty((g.N, g.C, g.H, g.W), dtype=dout.dtype)
    filter_t = filter.T

    def chunk(c0, c1):
        n = c1 - c0
        d = _channel_rows(dout, c0, c1, K, L, _matrix_buffer(g, "rows", K, n, dout.dtype))
        cols = xp.matmul(filter_t, d, out=_view(_matrix_buffer(g, "cols", CRS, n, dout.dtype), CRS, n * L))
        if dnn_kernels.enabled() and dnn_kernels.col2im(g, cols, dX[c0:c1]):
            return
        dXp = _images_buffer(g, n, dout.dtype)
        _col2im_add(g, cols, dXp)
        dX[c0:c1] = dXp[:, :, g.ph:g.ph + g.H, g.pw:g.pw + g.W].transpose(1, 0, 2, 3)

    map_chunks(chunk, _chunk_spans(g, dout.dtype), 2.0 * K * CRS * g.N * L)
    return dX.reshape(g.N, g.C * g.H * g.W)


@builtin("conv2d")
def conv2d(input, filter, stride, padding, input_shape, filter_shape):
    """2-D convolution (cross-correlation) of N images by K filters -> (N, K*P*Q)."""
    g, K = _conv_geometry("conv2d", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d", "input", input, g.N, g.C * g.H * g.W)
    check_matrix("conv2d", "filter", filter, K, g.C * g.R * g.S)
    m = conv_paths.tile_size(g, K, input.dtype)
    if m:
        done = dnn_winograd.forward(g, K, input, filter, m)
        if done is not None:
            out, tiles = done
            patch_cache.put(input, g, tiles, f"winograd{m}")
            return out
    return _conv2d_im2col(g, K, input, filter)


@builtin("conv2d_backward_filter")
def conv2d_backward_filter(input, dout, stride, padding, input_shape, filter_shape):
    """Gradient of conv2d with respect to the filter -> (K, C*R*S)."""
    g, K = _conv_geometry("conv2d_backward_filter", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d_backward_filter", "input", input, g.N, g.C * g.H * g.W)
    check_matrix("conv2d_backward_filter", "dout", dout, g.N, K * g.P * g.Q)
    m = conv_paths.tile_size(g, K, input.dtype)
    if m:
        dW = dnn_winograd.backward_filter(g, K, input, dout, m, patch_cache.take(input, g, f"winograd{m}"))
        if dW is not None:
            return dW
    return _backward_filter_im2col(g, K, input, dout)


@builtin("conv2d_backward_data")
def conv2d_backward_data(filter, dout, stride, padding, input_shape, filter_shape):
    """Gradient of conv2d with respect to the input images -> (N, C*H*W)."""
    g, K = _conv_geometry("conv2d_backward_data", input_shape, filter_shape, stride, padding)
    check_matrix("conv2d_backward_data", "filter", filter, K, g.C * g.R * g.S)
    check_matrix("conv2d_backward_data", "dout", dout, g.N, K * g.P * g.Q)
    m = conv_paths.tile_size(g, K, dout.dtype)
    if m:
        dX = dnn_winograd.backward_data(g, K, filter, dout, m)
        if dX is not None:
            return dX
    return _backward_data_im2col(g, K, filter, dout)
