"""The array module every builtin computes with, and the floating-point precision.

Builtins never import numpy for computation: they use ``backend.xp`` so that the
GPU backend (CuPy) is a switch, not a rewrite. Read the attributes at call time
(``backend.xp``, ``backend.dtype``), never bind them at import time.
"""
import numpy as np

xp = np              # numpy, or cupy when the GPU backend is selected
dtype = np.float64   # float64 by default, float32 with --precision single
name = "numpy"


def set_precision(precision: str) -> None:
    global dtype
    if precision in ("double", "float64"):
        dtype = np.float64
    elif precision in ("single", "float32"):
        dtype = np.float32
    else:
        raise ValueError(f"unknown precision {precision!r} (use 'double' or 'single')")


def use_numpy() -> None:
    global xp, name
    xp, name = np, "numpy"


def use_cupy() -> None:
    """Switch to CuPy; raises RuntimeError with one clear sentence when no GPU is usable."""
    global xp, name
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDARuntimeError, ...
        raise RuntimeError(f"-gpu needs CuPy and a CUDA GPU, and none is usable here ({exc.__class__.__name__})") from None
    xp, name = cupy, "cupy"


def asarray(values) -> "np.ndarray":
    """A fresh 2-D array of the backend's dtype."""
    a = xp.asarray(values, dtype=dtype)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(-1, 1)
    return a


def to_host(a):
    """A NumPy array for printing, writing and returning to Python."""
    if xp is np:
        return a
    return xp.asnumpy(a)
