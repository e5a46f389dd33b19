"""Write the inputs of alexnet_driver.dml: X (4 x 3*67*67) and one-hot Y (4 x 10), csv + .mtd.

The values are a fixed formula (no random generator), so the files can be regenerated exactly.
"""
import json
import os
import sys

import numpy as np


def write_csv(path, a):
    with open(path, "w") as f:
        for row in a:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    with open(path + ".mtd", "w") as f:
        json.dump({"data_type": "matrix", "value_type": "double", "rows": a.shape[0], "cols": a.shape[1],
                   "nnz": int(np.count_nonzero(a)), "format": "csv", "header": False, "sep": ","}, f, indent=4)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    n, d, k = 4, 3 * 67 * 67, 10
    idx = np.arange(n * d, dtype=np.float64).reshape(n, d)
    X = np.round(np.cos(idx * 0.013) * 0.5 + 0.5, 6)
    Y = np.zeros((n, k))
    Y[np.arange(n), [3, 7, 1, 3]] = 1.0
    write_csv(os.path.join(folder, "X.csv"), X)
    write_csv(os.path.join(folder, "Y.csv"), Y)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data"))
