"""The array module every builtin computes with, and the floating-point precision.

Builtins never import numpy for computation: they use ``backend.xp`` so that the
GPU backend (CuPy) is a switch, not a rewrite. Read the attributes at call time
(``backend.xp``, ``backend.dtype``), never bind them at import time.

On the GPU backend matrices live on the device and scalars on the host. Data crosses
only through three functions, which count every crossing for ``-stats``:
``asarray`` (host -> device), ``to_host`` (device -> host, whole arrays) and ``item``
(one value: a device sync, e.g. for sum(), as.scalar() or a check on the data).
Never call float()/int()/bool() on an array: CuPy would sync silently, uncounted.

The GPU backend is selected by ``-gpu``, ``gpu=True`` in the Python API, or the
environment variable DMLPY_GPU=1. It needs CuPy for the installed CUDA:
``pip install -e '.[gpu]'`` brings cupy-cuda12x (CUDA 12.x drivers); for CUDA 11.x
install cupy-cuda11x instead, for CUDA 13.x cupy-cuda13x (CuPy 14 and later).
"""
import os
import time

import numpy as np

xp = np              # numpy, or cupy when the GPU backend is selected
dtype = np.float64   # float64 by default, float32 with --precision single
name = "numpy"
tf32 = False         # float32 GEMMs on TF32 tensor cores (GPU only, --allow-tf32)


class Transfers:
    """Host<->device crossings since the GPU backend was selected (or reset)."""
    __slots__ = ("to_device", "to_device_bytes", "to_host", "to_host_bytes")

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.to_device = self.to_device_bytes = self.to_host = self.to_host_bytes = 0

    def __repr__(self):
        return (f"Transfers(to_device={self.to_device} ({self.to_device_bytes} B), "
                f"to_host={self.to_host} ({self.to_host_bytes} B))")


transfers = Transfers()


def set_precision(precision: str) -> None:
    global dtype
    if precision in ("double", "float64"):
        dtype = np.float64
    elif precision in ("single", "float32"):
        dtype = np.float32
    else:
        raise ValueError(f"unknown precision {precision!r} (use 'double' or 'single')")


def gpu_requested(flag=False) -> bool:
    """True if the GPU backend is asked for: by flag (-gpu, gpu=True) or by DMLPY_GPU=1."""
    if flag:
        return True
    return os.environ.get("DMLPY_GPU", "").strip().lower() in ("1", "true", "yes", "on")


def on_device() -> bool:
    return xp is not np


def use_numpy() -> None:
    global xp, name
    xp, name = np, "numpy"


def use_cupy(allow_tf32: bool = False) -> None:
    """Switch to CuPy; raises RuntimeError with one clear sentence when no GPU is usable."""
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device")
    except Exception as exc:  # ImportError, CUDARuntimeError, ...
        raise RuntimeError(f"-gpu needs CuPy and a CUDA GPU, and none is usable here "
                           f"({exc.__class__.__name__}: {str(exc).strip() or 'no detail'})") from None
    use_module(cupy, "cupy")
    set_tf32(allow_tf32)


def use_module(module, label: str) -> None:
    """Compute with a CuPy-compatible array module (tests use a NumPy-backed stand-in)."""
    global xp, name
    xp, name = module, label
    transfers.reset()


def set_tf32(allow: bool) -> None:
    """TF32 tensor cores for float32 GEMMs: off unless asked for (float32 results stay IEEE)."""
    global tf32
    tf32 = bool(allow)
    if xp is np:
        return
    try:        # CuPy's cuBLAS compute type; its CUPY_TF32 variable is read only at import
        from cupy._core import _routines_linalg as linalg
        linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_TF32 if tf32 else linalg.COMPUTE_TYPE_FP32)
    except (ImportError, AttributeError):
        if tf32:
            raise RuntimeError("--allow-tf32: this CuPy version offers no way to enable TF32") from None


def asarray(values) -> "np.ndarray":
    """A fresh 2-D array of the backend's dtype (host data is copied to the device, counted)."""
    if xp is not np and not isinstance(values, xp.ndarray):
        host = np.asarray(values, dtype=dtype)
        transfers.to_device += 1
        transfers.to_device_bytes += host.nbytes
        a = xp.asarray(host)
    else:
        a = xp.asarray(values, dtype=dtype)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(-1, 1)
    return a


def to_host(a):
    """A NumPy array for printing, writing and returning to Python (device data copied, counted)."""
    if xp is np or isinstance(a, np.ndarray):
        return a
    transfers.to_host += 1
    transfers.to_host_bytes += a.nbytes
    return xp.asnumpy(a)


def item(a):
    """The one value of a 0-d or one-cell array as a Python scalar (float, int or bool).

    On the GPU this waits for the device and copies one value: counted as a transfer.
    Python and NumPy scalars pass through (as Python scalars)."""
    if type(a) in (float, int, bool):
        return a
    if xp is not np and isinstance(a, xp.ndarray):
        transfers.to_host += 1
        transfers.to_host_bytes += a.itemsize
    return a.item()


def synchronize() -> None:
    """Wait until the device has finished all queued work (for timings); no-op on the CPU."""
    if xp is not np:
        xp.cuda.Device().synchronize()


def time_ms(step) -> float | None:
    """Milliseconds of step()'s second run (the first compiles kernels and lets cuBLAS pick its
    algorithms), waiting for the device around it; None if step() returns false (cannot run).
    For the GPU paths chosen by timing a shape's first use (convolutions, split-K products)."""
    if not step():
        return None
    synchronize()
    t0 = time.perf_counter()
    step()
    synchronize()
    return (time.perf_counter() - t0) * 1000


def peak_device_bytes() -> int | None:
    """Bytes CuPy's memory pool holds: it keeps freed blocks, so this is its high-water mark."""
    if xp is np:
        return None
    try:
        return int(xp.get_default_memory_pool().total_bytes())
    except AttributeError:
        return None
