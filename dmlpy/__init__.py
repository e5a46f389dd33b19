"""dmlpy: Apache SystemDS's DML language in Python, on NumPy (or CuPy on a GPU)."""
__version__ = "0.1.0"

from .errors import DMLError, DMLRuntimeError, DMLSyntaxError, DMLValidationError  # noqa: E402
from .parser import parse, parse_file  # noqa: E402
from .api import Session, run  # noqa: E402

__all__ = ["run", "Session", "parse", "parse_file", "DMLError", "DMLSyntaxError", "DMLValidationError",
           "DMLRuntimeError", "__version__"]
