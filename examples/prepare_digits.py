#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turn scikit-learn's handwritten digits into AlexNet training data (SystemDS csv + .mtd).

The 1,797 8x8 grey-scale digits that ship inside scikit-learn (no download) are resized to
SIZE x SIZE pixels (default 64: AlexNet's conv/pool stack needs at least 63), scaled to [0, 1]
and standardised with the training set's mean and standard deviation, optionally repeated into
3 channels, shuffled with a fixed seed and split into training and validation sets. It writes

    OUT/train_X.csv  OUT/train_Y.csv  OUT/val_X.csv  OUT/val_Y.csv   (each with a .mtd file)

where every X row is one image flattened channel by channel, row-major (the nn library's
layout) and every Y row is the one-hot label of digits 0-9 (column d+1 for digit d).

Needs numpy and scikit-learn (`pip install scikit-learn`; not a dmlpy dependency).

    python examples/prepare_digits.py --out /tmp/alexnet_digits
    systemds scripts/nn/examples/Example-AlexNet_BN_LARS.dml -nvargs \\
        X=/tmp/alexnet_digits/train_X.csv Y=/tmp/alexnet_digits/train_Y.csv \\
        Xval=/tmp/alexnet_digits/val_X.csv Yval=/tmp/alexnet_digits/val_Y.csv C=1 H=64 W=64
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np


def alexnet_feature_side(n: int) -> int:
    """Side of AlexNet's pool5 map for an input side n (conv1 11/4 pad 2, three 3/2 pools)."""
    m = math.floor((n + 4 - 11) / 4) + 1
    for _ in range(3):
        m = math.floor((m - 3) / 2) + 1
    return m


def min_alexnet_side() -> int:
    n = 1
    while alexnet_feature_side(n) < 1:
        n += 1
    return n


def linear_resize_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) matrix of linear interpolation weights, pixel centres aligned."""
    weights = np.zeros((dst, src))
    for i in range(dst):
        pos = (i + 0.5) * src / dst - 0.5
        pos = min(max(pos, 0.0), src - 1.0)
        lo = int(math.floor(pos))
        hi = min(lo + 1, src - 1)
        frac = pos - lo
        weights[i, lo] += 1.0 - frac
        weights[i, hi] += frac
    return weights


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (N, h, w) images to (N, size, size)."""
    rows = linear_resize_matrix(images.shape[1], size)
    cols = linear_resize_matrix(images.shape[2], size)
    return np.einsum("ih,nhw,jw->nij", rows, images, cols)


def write_matrix(path: str, matrix: np.ndarray, fmt: str) -> None:
    """Write a SystemDS csv matrix (no header) and its .mtd metadata file."""
    np.savetxt(path, matrix, fmt=fmt, delimiter=",")
    meta = {
        "data_type": "matrix",
        "value_type": "double",
        "rows": int(matrix.shape[0]),
        "cols": int(matrix.shape[1]),
        "nnz": int(np.count_nonzero(matrix)),
        "format": "csv",
        "header": False,
        "sep": ",",
    }
    with open(path + ".mtd", "w") as handle:
        json.dump(meta, handle, indent=4)
        handle.write("\n")


def prepare(out: str, size: int, channels: int, val_fraction: float, seed: int,
            limit: int | None) -> dict:
    from sklearn.datasets import load_digits

    if size < min_alexnet_side():
        raise SystemExit(f"--size {size} is too small: AlexNet needs at least "
                         f"{min_alexnet_side()}x{min_alexnet_side()} pixels")
    if channels not in (1, 3):
        raise SystemExit("--channels must be 1 or 3")
    if not 0.0 < val_fraction < 1.0:
        raise SystemExit("--val-fraction must lie strictly between 0 and 1")

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0          # (N, 8, 8) in [0, 1]
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    if limit is not None:
        order = order[:limit]
    images, labels = images[order], labels[order]

    n_val = max(1, int(round(len(labels) * val_fraction)))
    n_train = len(labels) - n_val
    if n_train < 1:
        raise SystemExit("not enough images for a training set; raise --limit")

    resized = resize_images(images, size)                      # (N, size, size)
    flat = resized.reshape(len(labels), size * size)
    mean = flat[:n_train].mean()
    std = flat[:n_train].std()
    flat = (flat - mean) / std
    if channels == 3:
        flat = np.concatenate([flat] * 3, axis=1)              # channel-major: R plane, G, B
    onehot = np.eye(10)[labels]

    os.makedirs(out, exist_ok=True)
    write_matrix(os.path.join(out, "train_X.csv"), flat[:n_train], "%.6g")
    write_matrix(os.path.join(out, "train_Y.csv"), onehot[:n_train], "%d")
    write_matrix(os.path.join(out, "val_X.csv"), flat[n_train:], "%.6g")
    write_matrix(os.path.join(out, "val_Y.csv"), onehot[n_train:], "%d")
    return {"train": n_train, "val": n_val, "C": channels, "H": size, "W": size,
            "mean": mean, "std": std}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="/tmp/alexnet_digits", help="output folder")
    parser.add_argument("--size", type=int, default=64,
                        help="image side after resizing (at least 63; default 64)")
    parser.add_argument("--channels", type=int, default=1, help="1 (grey) or 3 (grey repeated)")
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42, help="seed of the shuffle")
    parser.add_argument("--limit", type=int, default=None,
                        help="use only this many images (quick runs)")
    args = parser.parse_args(argv)
    info = prepare(args.out, args.size, args.channels, args.val_fraction, args.seed, args.limit)
    print(f"wrote {info['train']} training and {info['val']} validation images "
          f"{info['C']}x{info['H']}x{info['W']} to {args.out} "
          f"(pixels standardised with mean {info['mean']:.4f}, std {info['std']:.4f})")
    d = args.out
    print("train AlexNet-BN with LARS on them (from the repository root):")
    print(f"  systemds scripts/nn/examples/Example-AlexNet_BN_LARS.dml -nvargs "
          f"X={d}/train_X.csv Y={d}/train_Y.csv Xval={d}/val_X.csv Yval={d}/val_Y.csv "
          f"C={info['C']} H={info['H']} W={info['W']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
