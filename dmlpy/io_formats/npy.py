"""format="binary": dmlpy's own fast format, a NumPy .npy file (version 1.0, float64, C order).

SystemDS's "binary" is a Hadoop SequenceFile of matrix blocks, which only the
JVM reads; dmlpy writes a .npy file under the path given instead (no ".npy"
is appended) and the usual .mtd beside it with "format": "binary". read()
accepts any 2-D numeric .npy file, with or without a .mtd, and recognises a
SystemDS binary file to say that it cannot read it.
"""
from __future__ import annotations

import numpy as np

from ..errors import DMLRuntimeError
from .files import head_bytes

NPY_MAGIC = b"\x93NUMPY"
SEQUENCE_FILE_MAGIC = b"SEQ"


def is_npy(path: str) -> bool:
    try:
        return head_bytes(path, len(NPY_MAGIC)) == NPY_MAGIC
    except OSError:
        return False


def read_npy(path: str, shown: str) -> np.ndarray:
    head = head_bytes(path, len(NPY_MAGIC))
    if head[:3] == SEQUENCE_FILE_MAGIC:
        raise DMLRuntimeError(f"{shown} is in SystemDS's Hadoop binary format, which dmlpy cannot read; "
                              "write it from SystemDS with format=\"csv\", \"text\" or \"mm\"")
    if head != NPY_MAGIC:
        raise DMLRuntimeError(f"{shown} is not a dmlpy binary file (a NumPy .npy file)")
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DMLRuntimeError(f"{shown}: cannot read the .npy file: {e}") from None
    if a.ndim != 2:
        raise DMLRuntimeError(f"{shown}: a matrix file holds a 2-D array, this one has {a.ndim} dimension(s)")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_) or np.iscomplexobj(a):
        raise DMLRuntimeError(f"{shown}: a matrix file holds real numbers, this one holds {a.dtype}")
    return a.astype(np.float64, copy=False)


def write_npy(f, a: np.ndarray) -> None:
    np.save(f, np.ascontiguousarray(a, dtype=np.float64), allow_pickle=False)
