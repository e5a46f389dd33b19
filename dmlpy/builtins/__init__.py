"""The DML builtin library: importing this package registers every builtin family."""
import importlib

from .registry import REGISTRY, Builtin, bind_call, builtin, lookup  # noqa: F401 (the package's API)

# One module per family; each registers its builtins on import.
FAMILIES = ["core", "construct", "aggregate", "elementwise", "linalg", "distributions", "misc", "dnn", "io", "transform", "frames"]

for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")
