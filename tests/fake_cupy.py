"""A NumPy-backed stand-in for CuPy, to check dmlpy's GPU backend on a machine without a GPU.

It behaves like CuPy where that matters for device cleanliness, and computes with NumPy:

  * its ``ndarray`` is its own class, not a NumPy array: NumPy refuses it (``np.asarray(a)``,
    ``np.exp(a)``, ``np.where(a > 0, ...)`` raise TypeError, as with CuPy), and it refuses
    NumPy arrays as operands, arguments or index arrays (CuPy: "Unsupported type");
  * reductions and scalar indexing give 0-d arrays, not Python or NumPy scalars;
  * ``float(a)``, ``int(a)``, ``bool(a)``, ``.item()``, ``.get()``, ``.tolist()`` and
    ``asnumpy`` are refused outside dmlpy/backend.py (stricter than CuPy, which syncs
    silently): every host<->device crossing must go through ``backend.item``,
    ``backend.to_host`` or ``backend.asarray``, which count it for ``-stats``;
  * only names that CuPy has exist (recorded from CuPy 14.2.0 in tests/data/cupy_api.json:
    functions, keyword arguments, ndarray methods, ufunc methods), so a NumPy-only function
    or keyword fails here as it would on the device;
  * ``ndarray.flags`` has only CuPy's attributes (c_contiguous, f_contiguous, owndata).

A RawKernel's CUDA C source is compiled with g++ and run on the CPU as one thread (see
RawKernel below): that checks a kernel's index arithmetic, not CUDA itself.
What it cannot check: speed, the other kernel kinds (they raise NotImplementedError), NVRTC's
view of the source, numerical differences between cuBLAS/CUB and NumPy, and CuPy's own bugs.
Those wait for a device.

``use_fake_cupy`` (a pytest fixture in tests/test_fake_cupy.py, and the ``-p fake_cupy``
plugin below) switches dmlpy.backend to this module.

Re-record the API list where CuPy is installed (no GPU needed):
    python tests/fake_cupy.py --record
"""
from __future__ import annotations

import inspect
import json
import os
import re
import sys
import types

import numpy as _np

API_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "cupy_api.json")
_DMLPY_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "dmlpy") + os.sep
_BACKEND_FILE = os.path.join(_DMLPY_DIR, "backend.py")


class DeviceCleanlinessError(TypeError):
    """dmlpy code did something that would fail, or silently sync/copy, on CuPy."""

    def __init__(self, message: str):
        f = sys._getframe(1)
        while f is not None and not os.path.abspath(f.f_code.co_filename).startswith(_DMLPY_DIR):
            f = f.f_back
        if f is not None:
            message += f" [at {os.path.relpath(f.f_code.co_filename, os.path.dirname(_DMLPY_DIR))}:{f.f_lineno}]"
        super().__init__(message)


def _check_crossing(what: str, depth: int = 2) -> None:
    """Host<->device crossings are allowed from dmlpy/backend.py and from test code only."""
    f = sys._getframe(depth)
    while f is not None and os.path.abspath(f.f_code.co_filename) == os.path.abspath(__file__):
        f = f.f_back
    fname = os.path.abspath(f.f_code.co_filename) if f is not None else ""
    if fname.startswith(_DMLPY_DIR) and fname != _BACKEND_FILE:
        if os.environ.get("FAKE_CUPY_AUDIT") == "1":
            where = f"{os.path.relpath(fname, os.path.dirname(_DMLPY_DIR))}:{f.f_lineno}"
            AUDIT[(what, where)] = AUDIT.get((what, where), 0) + 1
            return
        raise DeviceCleanlinessError(
            f"{what} in {os.path.relpath(fname, os.path.dirname(_DMLPY_DIR))}:{f.f_lineno}: a device<->host "
            "crossing outside dmlpy/backend.py (use backend.item / backend.to_host / backend.asarray)")


# ---------------------------------------------------------------------------- the recorded API

def _load_api() -> dict:
    with open(API_FILE) as fh:
        return json.load(fh)


API = _load_api() if os.path.exists(API_FILE) else None


def _check_kwargs(qualname: str, spec, kwargs) -> None:
    if spec is None or spec.get("varkw"):
        return
    for k in kwargs:
        if k not in spec["keywords"]:
            raise TypeError(f"{qualname}() got an unexpected keyword argument '{k}' (not in CuPy {API['version']})")


# ---------------------------------------------------------------------------- wrapping

def _unwrap(x, where: str):
    """A fake array's NumPy data; NumPy arrays are refused, as CuPy refuses them."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is _np.ndarray:
        raise DeviceCleanlinessError(f"{where}: Unsupported type <class 'numpy.ndarray'> (a host array mixed "
                                     "into device computation)")
    if t is list or t is tuple:
        return t(_unwrap(v, where) for v in x)
    return x


def _wrap(r):
    t = type(r)
    if t is _np.ndarray:
        return ndarray(r)
    if isinstance(r, _np.generic):                 # CuPy gives 0-d arrays, never NumPy scalars
        return ndarray(_np.asarray(r))
    if t is tuple or t is list:
        return t(_wrap(v) for v in r)
    return r


def _function(qualname: str, np_func, spec):
    def call(*args, **kwargs):
        _check_kwargs(qualname, spec, kwargs)
        a = _unwrap(args, qualname)
        k = {key: _unwrap(v, qualname) for key, v in kwargs.items()}
        return _wrap(np_func(*a, **k))
    call.__name__ = qualname.rsplit(".", 1)[-1]
    call.__qualname__ = qualname
    return call


class ufunc:
    """A CuPy ufunc: callable, with the methods CuPy's ufuncs have."""

    def __init__(self, name: str, np_ufunc):
        self.name = name
        self._u = np_ufunc
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def __call__(self, *args, **kwargs):
        _check_kwargs(f"cupy.{self.name}", API["ufunc_call"], kwargs)
        return _wrap(self._u(*_unwrap(args, f"cupy.{self.name}"),
                             **{k: _unwrap(v, f"cupy.{self.name}") for k, v in kwargs.items()}))

    def __getattr__(self, method):
        if method not in API["ufunc_methods"]:
            raise AttributeError(f"cupy ufunc has no method {method!r}")
        np_method = getattr(self._u, method)
        spec = API["ufunc_methods"][method]
        qual = f"cupy.{self.name}.{method}"

        def call(*args, **kwargs):
            _check_kwargs(qual, spec, kwargs)
            return _wrap(np_method(*_unwrap(args, qual), **{k: _unwrap(v, qual) for k, v in kwargs.items()}))
        return call


class Flags:
    """CuPy's ndarray.flags: no 'writeable' (every CuPy array is writeable)."""
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a):
        self.c_contiguous = bool(a.flags.c_contiguous)
        self.f_contiguous = bool(a.flags.f_contiguous)
        self.owndata = bool(a.flags.owndata)


def _index(key):
    if type(key) is tuple:
        return tuple(_index(k) for k in key)
    if type(key) is ndarray:
        return key._a
    if type(key) is _np.ndarray:
        raise DeviceCleanlinessError("indexing a device array with a NumPy array (an uncounted host->device copy)")
    if type(key) is list:               # CuPy copies a short list of ints to the device itself
        return [_index(k) for k in key]
    return key


# FAKE_CUPY_AUDIT=1: implicit syncs are allowed but counted per dmlpy source line (AUDIT), to list
# every site at once instead of stopping at the first.
AUDIT: dict = {}


def _refuse_sync(what):
    convert = {"float()": float, "int()": int, "use as an integer index": int, "complex()": complex,
               "bool() / a condition": bool}.get(what)

    def refuse(self, *args):
        if convert is not None and os.environ.get("FAKE_CUPY_AUDIT") == "1":
            f = sys._getframe(1)
            where = f"{os.path.relpath(f.f_code.co_filename, os.path.dirname(_DMLPY_DIR))}:{f.f_lineno}"
            AUDIT[(what, where)] = AUDIT.get((what, where), 0) + 1
            return convert(self._a)
        raise DeviceCleanlinessError(f"{what} of a device array: an implicit device->host sync "
                                     "(use backend.item or backend.to_host)")
    return refuse


class ndarray:
    """A device array: NumPy data behind CuPy's interface."""
    __slots__ = ("_a", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None          # NumPy ufuncs refuse it; ndarray OP fake defers to fake's reflected OP
    __hash__ = None

    def __init__(self, a):
        self._a = a
        if a.base is None:
            _POOL.allocated += a.nbytes

    # --- no implicit conversion to NumPy, no silent syncs
    def __array__(self, dtype=None, copy=None):
        raise DeviceCleanlinessError("Implicit conversion to a NumPy array is not allowed. "
                                     "Please use `.get()` to construct a NumPy array explicitly.")

    def __array_function__(self, func, types_, args, kwargs):
        raise DeviceCleanlinessError(f"numpy.{func.__name__}() called on a device array (use backend.xp)")

    __float__ = _refuse_sync("float()")
    __int__ = _refuse_sync("int()")
    __index__ = _refuse_sync("use as an integer index")
    __complex__ = _refuse_sync("complex()")
    __bool__ = _refuse_sync("bool() / a condition")

    def item(self):
        _check_crossing("ndarray.item()")
        return self._a.item()

    def get(self, stream=None, order="C", out=None):
        _check_crossing("ndarray.get()")
        return _np.array(self._a, order=order, copy=True)

    tolist = _refuse_sync("tolist()")
    tobytes = _refuse_sync("tobytes()")

    # --- attributes
    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: Flags(self._a))
    T = property(lambda self: ndarray(self._a.T))
    mT = property(lambda self: ndarray(_np.swapaxes(self._a, -1, -2)))
    real = property(lambda self: _wrap(self._a.real))
    imag = property(lambda self: _wrap(self._a.imag))

    @property
    def base(self):
        return None if self._a.base is None else ndarray(self._a.base)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (ndarray(self._a[i]) if self._a.ndim > 1 else ndarray(_np.asarray(self._a[i]))
                for i in range(len(self._a)))

    def __repr__(self):
        return f"fake_cupy.{self._a!r}"

    # --- indexing
    def __getitem__(self, key):
        return _wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        self._a[_index(key)] = _unwrap(value, "ndarray.__setitem__")

    # --- methods CuPy's ndarray has, delegated
    def __getattr__(self, attr):
        spec = API["ndarray"].get(attr, False)
        if spec is False or attr.startswith("_"):
            raise AttributeError(f"cupy.ndarray has no attribute {attr!r}")
        np_method = getattr(self._a, attr, None)
        if np_method is None:
            raise AttributeError(f"cupy.ndarray.{attr} has no NumPy counterpart in fake_cupy")
        qual = f"cupy.ndarray.{attr}"

        def call(*args, **kwargs):
            _check_kwargs(qual, spec, kwargs)
            return _wrap(np_method(*_unwrap(args, qual), **{k: _unwrap(v, qual) for k, v in kwargs.items()}))
        return call


def _binary(name):
    def op(self, other):
        if type(other) is _np.ndarray:
            raise DeviceCleanlinessError(f"operator {name}: Unsupported type <class 'numpy.ndarray'> "
                                         "(a host array mixed into device computation)")
        if type(other) is ndarray:
            other = other._a
        elif not isinstance(other, (int, float, bool, complex, _np.generic)):
            return NotImplemented
        return _wrap(getattr(self._a, name)(other))
    return op


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lshift", "rshift", "radd", "rsub", "rmul", "rtruediv", "rfloordiv", "rmod", "rpow", "rmatmul",
            "rand", "ror", "rxor", "lt", "le", "gt", "ge", "eq", "ne"):
    setattr(ndarray, f"__{_op}__", _binary(f"__{_op}__"))


def _inplace(name):
    def op(self, other):
        if type(other) is _np.ndarray:
            raise DeviceCleanlinessError(f"operator {name}: Unsupported type <class 'numpy.ndarray'>")
        getattr(self._a, name)(other._a if type(other) is ndarray else other)
        return self
    return op


for _op in ("iadd", "isub", "imul", "itruediv", "ifloordiv", "imod", "ipow", "iand", "ior", "ixor"):
    setattr(ndarray, f"__{_op}__", _inplace(f"__{_op}__"))

for _op in ("neg", "pos", "abs", "invert"):
    setattr(ndarray, f"__{_op}__", (lambda n: lambda self: _wrap(getattr(self._a, n)()))(f"__{_op}__"))


# ---------------------------------------------------------------------------- module namespace

def asarray(a, dtype=None, order=None, *, blocking=False):
    if type(a) is ndarray:
        return a if dtype is None or a.dtype == _np.dtype(dtype) else ndarray(a._a.astype(dtype))
    if not isinstance(a, (int, float, bool, _np.generic)):
        _check_crossing("cupy.asarray() of host data")
    return ndarray(_np.array(_unwrap_host(a), dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if type(obj) is ndarray:
        return ndarray(_np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    if not isinstance(obj, (int, float, bool, _np.generic)):
        _check_crossing("cupy.array() of host data")
    return ndarray(_np.array(_unwrap_host(obj), dtype=dtype, copy=True, order=order, ndmin=ndmin))


def _unwrap_host(a):
    if type(a) in (list, tuple):
        return type(a)(_unwrap_host(v) for v in a)
    if type(a) is ndarray:
        return a._a
    return a


def asnumpy(a, stream=None, order="C", out=None, *, blocking=True):
    _check_crossing("cupy.asnumpy()")
    if type(a) is ndarray:
        return _np.array(a._a, order=order, copy=True)
    return _np.asarray(a, order=order)


def get_array_module(*args):
    return sys.modules[__name__] if any(type(a) is ndarray for a in args) else _np


# A RawKernel's CUDA C source, compiled for the CPU with g++ and run as a single thread: block
# and grid of one, so a kernel covers its elements only if it walks them in a grid-stride
# loop (as dmlpy's do). Arguments as CuPy passes them: device arrays as pointers (C-contiguous
# here: the kernels index them flat), sizes and scalars as NumPy scalars of the parameter types.
_CPU_PRELUDE = r"""
struct fake_cupy_dim3 { unsigned int x, y, z; };
static const fake_cupy_dim3 threadIdx = {0, 0, 0}, blockIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1};
#define __global__
#define __device__
"""
_KERNEL_DIR = os.path.join(os.path.expanduser("~"), ".cache", "dmlpy", "fake_cupy_kernels")


def _nvrtc_library():
    """NVIDIA's runtime CUDA compiler (the one CuPy compiles RawKernels with), from the pip package
    nvidia-cuda-nvrtc-cu12 (the `test` extra, on Linux x86-64) or the system; None if absent. It
    needs no GPU."""
    import ctypes
    import ctypes.util
    candidates = []
    try:
        import nvidia.cuda_nvrtc
        candidates += [os.path.join(d, "lib", "libnvrtc.so.12") for d in nvidia.cuda_nvrtc.__path__]
    except ImportError:
        pass
    found = ctypes.util.find_library("nvrtc")
    if found:
        candidates.append(found)
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


NVRTC_ARCH = "compute_90"      # the lent machines' H100/H200


def nvrtc_compile(code: str, name: str = "kernel.cu") -> str:
    """The PTX NVRTC makes of a CUDA source; RuntimeError with its log if it does not compile,
    NotImplementedError if NVRTC is not installed."""
    import ctypes
    lib = _nvrtc_library()
    if lib is None:
        raise NotImplementedError("NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12)")
    prog = ctypes.c_void_p()
    if lib.nvrtcCreateProgram(ctypes.byref(prog), code.encode(), name.encode(), 0, None, None) != 0:
        raise RuntimeError("nvrtcCreateProgram failed")
    try:
        options = (ctypes.c_char_p * 1)(f"--gpu-architecture={NVRTC_ARCH}".encode())
        status = lib.nvrtcCompileProgram(prog, 1, options)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        if status != 0:
            raise RuntimeError(f"NVRTC does not compile {name}:\n{log.value.decode(errors='replace')}")
        lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
        ptx = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetPTX(prog, ptx)
        return ptx.value.decode()
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


class RawKernel:
    def __init__(self, code, name, options=(), backend="nvrtc", translate_cucomplex=False, **kwargs):
        self.code, self.name = code, name
        self._fn = None

    def _check_with_nvrtc(self, digest: str) -> None:
        """Where NVRTC is installed, the source must compile with it, for the lent machines' GPUs,
        and define the kernel (as CuPy would require); a source that passed is remembered."""
        if _nvrtc_library() is None:
            return
        marker = os.path.join(_KERNEL_DIR, f"{digest}.{self.name}.nvrtc-{NVRTC_ARCH}")
        if os.path.exists(marker):
            return
        try:
            ptx = nvrtc_compile(self.code, self.name + ".cu")
        except RuntimeError as e:
            raise RuntimeError(f"kernel {self.name} does not compile with NVRTC ({NVRTC_ARCH}): {e}") from None
        if f".entry {self.name}(" not in ptx:
            raise RuntimeError(f"NVRTC's PTX has no kernel {self.name}")
        os.makedirs(_KERNEL_DIR, exist_ok=True)
        with open(marker, "w"):
            pass

    def _compile(self):
        import ctypes
        import hashlib
        import shutil
        import subprocess
        self._check_with_nvrtc(hashlib.sha1(self.code.encode()).hexdigest())
        compiler = shutil.which("g++") or shutil.which("c++")
        if compiler is None:
            raise NotImplementedError("fake_cupy runs a RawKernel with g++, which is not installed here")
        source = _CPU_PRELUDE + self.code
        lib = os.path.join(_KERNEL_DIR, hashlib.sha1(source.encode()).hexdigest() + ".so")
        if not os.path.exists(lib):
            os.makedirs(_KERNEL_DIR, exist_ok=True)
            tmp = f"{lib}.{os.getpid()}"
            cpp = tmp + ".cpp"
            with open(cpp, "w") as fh:
                fh.write(source)
            p = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-x", "c++", "-o", tmp, cpp],
                               capture_output=True, text=True)
            os.unlink(cpp)
            if p.returncode != 0:
                raise RuntimeError(f"kernel {self.name} does not compile:\n{p.stderr}")
            os.replace(tmp, lib)
        self._fn = getattr(ctypes.CDLL(lib), self.name)
        return self._fn

    def __call__(self, grid, block, args, shared_mem=0):
        import ctypes
        fn = self._fn or self._compile()
        c_types = {_np.dtype(_np.int64): ctypes.c_longlong, _np.dtype(_np.int32): ctypes.c_int,
                   _np.dtype(_np.float64): ctypes.c_double, _np.dtype(_np.float32): ctypes.c_float}
        c_args = []
        for a in args:
            if type(a) is ndarray:
                if not a._a.flags.c_contiguous:
                    raise DeviceCleanlinessError(f"RawKernel {self.name}: an array argument is not C-contiguous")
                c_args.append(ctypes.c_void_p(a._a.ctypes.data))
            elif isinstance(a, _np.generic) and a.dtype in c_types:
                c_args.append(c_types[a.dtype](a.item()))
            else:
                raise DeviceCleanlinessError(f"RawKernel {self.name}: argument of type {type(a).__name__} "
                                             "(pass device arrays and NumPy scalars of the parameter types)")
        fn(*c_args)


def _not_on_this_machine(name):
    class Kernel:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, *args, **kwargs):
            raise NotImplementedError(f"cupy.{name} compiles CUDA code: it runs only on a device")
    Kernel.__name__ = name
    return Kernel


class _MemoryPool:
    """Counts the bytes of every array made (a stand-in for a pool's high-water mark)."""
    allocated = 0

    def used_bytes(self):
        return self.allocated

    def total_bytes(self):
        return self.allocated

    def free_bytes(self):
        return 0

    def free_all_blocks(self):
        pass


_POOL = _MemoryPool()


def get_default_memory_pool():
    return _POOL


class _ComputeTypes(types.ModuleType):
    """cupy._core._routines_linalg's compute-type switch (TF32), remembered only."""
    COMPUTE_TYPE_TBD, COMPUTE_TYPE_DEFAULT, COMPUTE_TYPE_PEDANTIC = 0, 1, 2
    COMPUTE_TYPE_FP16, COMPUTE_TYPE_FP32, COMPUTE_TYPE_FP64, COMPUTE_TYPE_BF16, COMPUTE_TYPE_TF32 = 3, 4, 5, 6, 7

    def __init__(self):
        super().__init__("fake_cupy._core._routines_linalg")
        self._types = {}

    def set_compute_type(self, dtype, compute_type):
        self._types[_np.dtype(dtype)] = compute_type

    def get_compute_type(self, dtype):
        return self._types.get(_np.dtype(dtype), self.COMPUTE_TYPE_DEFAULT)


_core = types.ModuleType("fake_cupy._core")
_core._routines_linalg = _ComputeTypes()


def install_as_cupy() -> None:
    """Make `import cupy` (and `from cupy._core import _routines_linalg`) give this module: for
    dry runs of the GPU tests and of benchmarks/gpu_check.py on a machine without a GPU."""
    sys.modules["cupy"] = sys.modules[__name__]
    sys.modules["cupy._core"] = _core
    sys.modules["cupy._core._routines_linalg"] = _core._routines_linalg


cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, runtimeGetVersion=lambda: 0, driverGetVersion=lambda: 0,
                                  getDeviceProperties=lambda i: {"name": b"fake_cupy (NumPy on the CPU)",
                                                                 "totalGlobalMem": 0}),
    Device=lambda *a: types.SimpleNamespace(synchronize=lambda: None),
    get_device_id=lambda: 0,
)


def _namespace_attr(ns_key: str, np_module, attr: str):
    entry = API["namespaces"][ns_key].get(attr)
    prefix = "cupy." + (ns_key + "." if ns_key else "")
    if entry is None:
        raise AttributeError(f"module '{prefix.rstrip('.')}' has no attribute '{attr}' (CuPy {API['version']})")
    kind = entry["kind"]
    np_obj = getattr(np_module, attr, None)
    if kind in ("type", "constant"):
        if np_obj is None:
            raise AttributeError(f"{prefix}{attr}: no NumPy counterpart in fake_cupy")
        return np_obj
    if kind == "ufunc":
        return ufunc(attr, np_obj)
    if kind == "function":
        if np_obj is None:
            raise AttributeError(f"{prefix}{attr} exists in CuPy but has no NumPy counterpart in fake_cupy")
        return _function(prefix + attr, np_obj, entry.get("spec"))
    if kind == "kernel":
        return RawKernel if attr == "RawKernel" else _not_on_this_machine(attr)
    if kind == "class" and attr in ("dtype", "finfo", "iinfo") and np_obj is not None:
        return np_obj                   # CuPy re-exports NumPy's
    raise AttributeError(f"{prefix}{attr} ({kind}) is not provided by fake_cupy")


class _SubModule(types.ModuleType):
    def __init__(self, key, np_module):
        super().__init__(f"fake_cupy.{key}")
        self._key, self._np = key, np_module

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = _namespace_attr(self._key, self._np, attr)
        setattr(self, attr, value)
        return value


linalg = _SubModule("linalg", _np.linalg)
fft = _SubModule("fft", _np.fft)
random = _SubModule("random", _np.random)
__version__ = (API or {"version": "?"})["version"] + "+fake"


def __getattr__(attr):          # module-level: everything else CuPy has, delegated to NumPy
    if attr.startswith("__"):
        raise AttributeError(attr)
    value = _namespace_attr("", _np, attr)
    globals()[attr] = value
    return value


# ---------------------------------------------------------------------------- pytest plugin

def activate():
    """Switch dmlpy to this module; returns a function that switches back."""
    from dmlpy import backend
    saved = (backend.xp, backend.name)
    backend.use_module(sys.modules[__name__], "fake_cupy")

    def restore():
        backend.use_module(*saved)
    return restore


_TESTS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _called_from_test_code() -> bool:
    f = sys._getframe(2)
    name = os.path.abspath(f.f_code.co_filename)
    return name.startswith(_TESTS_DIR) and name.endswith(".py")


def to_device(v):
    """Test inputs: NumPy arrays (also inside lists) become device arrays, uncounted."""
    from dmlpy.values import DMLList
    if type(v) is _np.ndarray:
        return ndarray(_np.array(v, copy=True))
    if type(v) is DMLList:
        return DMLList([to_device(x) for x in v.items], v.names)
    if type(v) in (list, tuple):
        return type(v)(to_device(x) for x in v)
    return v


def to_numpy(v):
    """Results for test code: device arrays (also inside lists and tuples) become NumPy arrays."""
    from dmlpy.values import DMLList
    if type(v) is ndarray:
        return _np.array(v._a, copy=True)
    if type(v) is DMLList:
        return DMLList([to_numpy(x) for x in v.items], v.names)
    if type(v) is tuple:
        return tuple(to_numpy(x) for x in v)
    return v


def check_value(v, what: str) -> None:
    """A DML value as the GPU backend must produce it: Python scalars, device matrices."""
    from dmlpy.values import DMLList, Frame
    t = type(v)
    if v is None or t in (bool, int, float, str, Frame):
        return
    if t is DMLList:
        for x in v.items:
            check_value(x, what)
        return
    if t is ndarray:
        if v.ndim != 2:
            raise DeviceCleanlinessError(f"{what} returned a {v.ndim}-d device array (matrices are 2-d)")
        if v.dtype not in (_np.float64, _np.float32):
            raise DeviceCleanlinessError(f"{what} returned a matrix of dtype {v.dtype}")
        return
    if t is _np.ndarray:
        raise DeviceCleanlinessError(f"{what} returned a NumPy (host) array on the GPU backend")
    if isinstance(v, _np.generic):
        raise DeviceCleanlinessError(f"{what} returned a NumPy scalar ({t.__name__}); DML scalars are Python's")
    raise DeviceCleanlinessError(f"{what} returned a {t.__name__}")


def _checked(func, what: str, returns: int):
    def call(*args, **kwargs):
        from_test = _called_from_test_code()
        if from_test:
            args = tuple(to_device(a) for a in args)
            kwargs = {k: to_device(v) for k, v in kwargs.items()}
        out = func(*args, **kwargs)
        for v in (out if returns > 1 and type(out) is tuple else (out,)):
            check_value(v, what)
        return to_numpy(out) if from_test else out
    call.__name__ = getattr(func, "__name__", what)
    call.__wrapped__ = func
    return call


_OPS = ("add", "sub", "mul", "div", "pow_", "mod", "intdiv", "matmul", "neg", "lt", "le", "gt", "ge", "eq",
        "ne", "and_", "or_", "not_", "index", "set_index")


def install_checks():
    """Activate this backend and check every builtin's and operator's results; returns an undo function."""
    from dmlpy import ops
    from dmlpy.builtins import REGISTRY
    restore = activate()
    saved_builtins = {name: b.func for name, b in REGISTRY.items()}
    saved_ops = {name: getattr(ops, name) for name in _OPS}
    saved_attrs = []
    for name, b in REGISTRY.items():
        original = b.func
        b.func = _checked(original, f"builtin {name}()", b.returns)
        module = sys.modules.get(getattr(original, "__module__", ""))
        attr = getattr(original, "__name__", "")
        if module is not None and getattr(module, attr, None) is original:   # tests call dio.read(...) too
            saved_attrs.append((module, attr, original))
            setattr(module, attr, b.func)
    for name in _OPS:
        setattr(ops, name, _checked(saved_ops[name], f"operator helper ops.{name}", 1))

    def undo():
        for name, func in saved_builtins.items():
            REGISTRY[name].func = func
        for name, func in saved_ops.items():
            setattr(ops, name, func)
        for module, attr, func in saved_attrs:
            setattr(module, attr, func)
        restore()
    return undo


try:
    import pytest

    @pytest.fixture(autouse=True)
    def fake_cupy_everywhere():
        """With `-p fake_cupy`, every test runs on this backend with checked builtins and operators."""
        undo = install_checks()
        try:
            yield
        finally:
            undo()
except ImportError:        # pytest is only needed to use this module as a plugin
    pass


# ---------------------------------------------------------------------------- API recording

_DOC_SIG = re.compile(r"^[\w.]*?\((.*?)\)")


def _spec_from_params(params) -> dict:
    keywords, varkw = [], False
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            varkw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            keywords.append(p.name)
    return {"keywords": keywords, "varkw": varkw}


def _spec_from_doc(doc: str | None):
    """Parameters from a Cython docstring's first line, e.g. 'sum(self, axis=None, dtype=None)'."""
    if not doc:
        return None
    m = _DOC_SIG.match(doc.strip().splitlines()[0])
    if not m:
        return None
    keywords, varkw, positional_only = [], False, False
    names = []
    for part in m.group(1).replace("\\*", "*").split(","):
        part = part.strip().split("=")[0].strip()
        if not part or part == "self":
            continue
        if part == "/":
            positional_only = True
            names = []           # everything before '/' is positional-only
            continue
        if part.startswith("**"):
            varkw = True
        elif part.startswith("*"):
            continue
        else:
            names.append(part.split()[-1])     # 'int axis' -> 'axis'
    keywords = names
    return {"keywords": keywords, "varkw": varkw}


def _spec(obj):
    try:
        return _spec_from_params(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return _spec_from_doc(getattr(obj, "__doc__", None))


def record_api(path: str = API_FILE) -> None:
    import cupy
    ufunc_type = type(cupy.add)

    def namespace(mod):
        out = {}
        for attr in sorted(dir(mod)):
            if attr.startswith("_"):
                continue
            obj = getattr(mod, attr)
            if isinstance(obj, ufunc_type):
                out[attr] = {"kind": "ufunc"}
            elif isinstance(obj, type) and issubclass(obj, _np.generic):
                out[attr] = {"kind": "type"}
            elif isinstance(obj, (int, float)) or obj is None:
                out[attr] = {"kind": "constant"}
            elif attr in ("RawKernel", "RawModule", "ElementwiseKernel", "ReductionKernel"):
                out[attr] = {"kind": "kernel"}
            elif isinstance(obj, types.ModuleType):
                out[attr] = {"kind": "module"}
            elif isinstance(obj, type):
                out[attr] = {"kind": "class"}
            elif callable(obj):
                out[attr] = {"kind": "function", "spec": _spec(obj)}
            else:
                out[attr] = {"kind": "other"}
        return out

    api = {
        "version": cupy.__version__,
        "namespaces": {"": namespace(cupy), "linalg": namespace(cupy.linalg), "fft": namespace(cupy.fft),
                       "random": namespace(cupy.random)},
        "ndarray": {m: _spec_from_doc(getattr(cupy.ndarray, m).__doc__)
                    for m in dir(cupy.ndarray) if not m.startswith("_")
                    and callable(getattr(cupy.ndarray, m, None))},
        "ufunc_call": _spec_from_doc(cupy.add.__doc__) or {"keywords": ["out", "casting", "dtype"], "varkw": False},
        "ufunc_methods": {m: _spec_from_doc(getattr(cupy.add, m).__doc__)
                          for m in ("reduce", "accumulate", "reduceat", "outer", "at")
                          if hasattr(cupy.add, m)},
    }
    with open(path, "w") as fh:
        json.dump(api, fh, indent=0, sort_keys=True)
        fh.write("\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--record"]:
        record_api()
        print(f"recorded CuPy's API in {API_FILE}")
    else:
        print(__doc__)
