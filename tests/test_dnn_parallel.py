"""The DNN builtins' chunked and threaded paths give the same results as the direct ones: rerun the
whole DNN test module (recorded SystemDS outputs, finite differences) with those paths forced."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_dnn_builtins_with_forced_chunks_and_threads():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "dnn_force_parallel", "-p", "no:cacheprovider",
                        os.path.join(HERE, "test_dnn_builtins.py")], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert " passed" in p.stdout and " failed" not in p.stdout
