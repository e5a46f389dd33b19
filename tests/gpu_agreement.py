"""CPU-versus-GPU agreement: one small DML program per builtin family, run on two backends.

Used by tests/test_gpu.py (NumPy against CuPy on a GPU), tests/test_fake_cupy.py (NumPy
against the NumPy-backed stand-in fake_cupy, on any machine) and benchmarks/gpu_check.py
(which prints the largest differences as a table). Inputs are fixed random data given to
both runs; every output is compared: matrices cell by cell relative to the matrix's largest
magnitude, scalars relative to themselves.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile

import numpy as np

# Relative tolerance per precision (issue 5): float64 1e-9, float32 1e-4.
TOLERANCE = {"double": 1e-9, "single": 1e-4}

N_IMG, C_IMG, H_IMG, W_IMG, K_FILT = 3, 2, 6, 5, 4

PROGRAMS = {
    "core": ("""
        s = sum(X)
        m = matrix(X, rows=ncol(X), cols=nrow(X))
        mb = matrix(X, rows=ncol(X), cols=nrow(X), byrow=FALSE)
        tX = t(X)
        sc = as.scalar(X[2, 3])
        sq = seq(1, 10, 2)
        r = rand(rows=3, cols=4, min=-1, max=2, seed=7)
        rn = rand(rows=3, cols=4, pdf="normal", seed=8)
        l = list(a=X, b=2)
        lx = as.matrix(l["a"])
        n = nrow(X) + ncol(X) + length(X)
        txt = toString(X[1:2, 1:2])
        """, ["s", "m", "mb", "tX", "sc", "sq", "r", "rn", "lx", "n", "txt"]),
    "construct": ("""
        T = table(G, H)
        Tw = table(G, H, v, 5, 5)
        o = order(target=X, by=2, decreasing=TRUE)
        oi = order(target=X, by=1, index.return=TRUE)
        re = removeEmpty(target=Z, margin="rows")
        rc = removeEmpty(target=Z, margin="cols")
        rp = replace(target=Z, pattern=0, replacement=-1)
        rv = rev(X)
        cb = cbind(X, Y)
        rb = rbind(X, Y)
        d1 = diag(v)
        d2 = diag(S)
        ou = outer(v, t(v), "*")
        lt = lower.tri(target=S, diag=TRUE, values=TRUE)
        ut = upper.tri(target=S)
        oh = toOneHot(G, 4)
        u = unique(G)
        smp = sample(10, 5, FALSE, 3)
        """, ["T", "Tw", "o", "oi", "re", "rc", "rp", "rv", "cb", "rb", "d1", "d2", "ou", "lt", "ut", "oh", "u",
              "smp"]),
    "aggregate": ("""
        rs = rowSums(X)
        cs = colSums(X)
        rm = rowMeans(X)
        cm = colMeans(X)
        rvr = rowVars(X)
        csd = colSds(X)
        rmx = rowMaxs(X)
        cmn = colMins(X)
        rpr = rowProds(X)
        rim = rowIndexMax(X)
        rin = rowIndexMin(X)
        mx = max(X)
        mn = min(X)
        pm = max(X, Y)
        pr = prod(S)
        me = mean(X)
        va = var(X)
        sdv = sd(X)
        mo = moment(v, 3)
        cv = cov(v, w)
        md = median(v)
        q = quantile(v, 0.3)
        qs = quantile(v, P)
        iqm = interQuartileMean(v)
        cu = cumsum(X)
        cp = cumprod(S)
        cmi = cummin(X)
        cma = cummax(X)
        rcs = rowcumsum(X)
        csp = cumsumprod(cbind(v, w * 0.5))
        ag = aggregate(target=v, groups=G, fn="mean")
        agc = aggregate(target=v, groups=G, fn="count")
        agm = aggregate(target=v, groups=G, fn="max")
        cd = countDistinct(G)
        rcd = rowCountDistinct(round(X * 3))
        ct = contains(target=Z, pattern=0)
        """, ["rs", "cs", "rm", "cm", "rvr", "csd", "rmx", "cmn", "rpr", "rim", "rin", "mx", "mn", "pm", "pr",
              "me", "va", "sdv", "mo", "cv", "md", "q", "qs", "iqm", "cu", "cp", "cmi", "cma", "rcs", "csp", "ag",
              "agc", "agm", "cd", "rcd", "ct"]),
    "elementwise": ("""
        a = abs(X - 0.5)
        e = exp(X)
        lg = log(X + 1)
        lgb = log(X + 1, 2)
        sq = sqrt(X)
        r = round(X * 10)
        f = floor(X * 10)
        c = ceil(X * 10)
        sg = sign(X - 0.5)
        tr = sin(X) + cos(X) + tan(X) + asin(X) + acos(X) + atan(X) + sinh(X) + cosh(X) + tanh(X)
        sgm = sigmoid(X)
        na = is.na(X / (X - X))
        inf = is.infinite(1 / (X - X))
        ie = ifelse(X > 0.5, X, -X)
        xo = xor(X > 0.5, Y > 0.5)
        """, ["a", "e", "lg", "lgb", "sq", "r", "f", "c", "sg", "tr", "sgm", "na", "inf", "ie", "xo"]),
    "operators": ("""
        A = X %*% t(Y)
        B = X * Y + X / (Y + 1) - X ^ 2 + 2 ^ X
        C = (X > Y) & (X < 0.7) | !(Y > 0.2)
        D = X %% 0.3 + X %/% 0.3
        E = X[2:4, 1:3]
        F = X
        F[1:2, 2:3] = matrix(7, 2, 2)
        for (i in 1:3) {
          F[i, 1] = i * 2
        }
        s = 0
        for (i in 1:nrow(X)) {
          if (as.scalar(X[i, 1]) > 0.5) {
            s = s + 1
          }
        }
        k = 0
        while (sum(F) > k) {
          k = k + 10
        }
        rowv = X + rowSums(X)
        colv = X - colMeans(X)
        cmp = (X == Y) + (X != Y) + (X <= 0.5) + (X >= 0.5)
        """, ["A", "B", "C", "D", "E", "F", "s", "k", "rowv", "colv", "cmp"]),
    "linalg": ("""
        A = t(X) %*% X + diag(matrix(1, ncol(X), 1))
        iv = inv(A)
        sv = solve(A, b)
        ch = cholesky(A)
        dt = det(A)
        [q, r] = qr(A)
        qr_rec = q %*% r
        [l, u, p] = lu(A)
        lu_rec = t(p) %*% l %*% u
        [ev, evec] = eigen(A)
        eig_rec = evec %*% diag(ev) %*% t(evec)
        [su, ss, sv2] = svd(X)
        svd_rec = su %*% ss %*% t(sv2)
        trc = trace(A)
        [fre, fim] = fft(matrix(seq(1, 16), 4, 4))
        es = einsum("ij,ij->i", X, Y)
        """, ["iv", "sv", "ch", "dt", "qr_rec", "lu_rec", "ev", "eig_rec", "ss", "svd_rec", "trc", "fre", "fim",
              "es"]),
    "distributions": ("""
        x = as.scalar(X[1, 1])
        p1 = cdf(target=x, dist="normal", mean=0.2, sd=1.5)
        p2 = cdf(target=x * 3, dist="chisq", df=3)
        p3 = cdf(target=x, dist="t", df=4)
        p4 = cdf(target=x, dist="f", df1=3, df2=7)
        p5 = cdf(target=x, dist="exp", rate=2)
        q1 = icdf(target=x, dist="normal", mean=0, sd=1)
        q2 = icdf(target=x, dist="t", df=5)
        """, ["p1", "p2", "p3", "p4", "p5", "q1", "q2"]),
    "misc": ("""
        rl = roll(X, 2)
        pp = ppred(X, 0.5, ">")
        ba = bitwAnd(12, 10)
        cda = countDistinctApprox(round(X * 4))
        """, ["rl", "pp", "ba", "cda"]),
    "dnn": (f"""
        N = {N_IMG}
        C = {C_IMG}
        H = {H_IMG}
        W = {W_IMG}
        K = {K_FILT}
        cv = conv2d(I, F, input_shape=[N, C, H, W], filter_shape=[K, C, 3, 3], stride=[1, 1], padding=[1, 1])
        cvs = conv2d(I, F, input_shape=[N, C, H, W], filter_shape=[K, C, 3, 3], stride=[2, 2], padding=[0, 0])
        dW = conv2d_backward_filter(I, cv * 0.5, input_shape=[N, C, H, W], filter_shape=[K, C, 3, 3],
                                    stride=[1, 1], padding=[1, 1])
        dX = conv2d_backward_data(F, cv * 0.5, input_shape=[N, C, H, W], filter_shape=[K, C, 3, 3],
                                  stride=[1, 1], padding=[1, 1])
        mp = max_pool(I, input_shape=[N, C, H, W], pool_size=[3, 3], stride=[2, 2], padding=[1, 1])
        mpb = max_pool_backward(I, mp * 2, input_shape=[N, C, H, W], pool_size=[3, 3], stride=[2, 2],
                                padding=[1, 1])
        ap = avg_pool(I, input_shape=[N, C, H, W], pool_size=[2, 2], stride=[1, 1], padding=[0, 0])
        apb = avg_pool_backward(I, ap * 3, input_shape=[N, C, H, W], pool_size=[2, 2], stride=[1, 1],
                                padding=[0, 0])
        ba = bias_add(cv, bK)
        bm = bias_multiply(cv, bK)
        [bn, em, ev, cmean, cinv] = batch_norm2d(cv, gK, bK, bK * 0, gK * 0 + 1, "train", 1e-5, 0.9)
        [dbx, dg, db] = batch_norm2d_backward(cv, cv * cv * 0.1, gK, 1e-5, cmean, cinv)
        [lo, lc, co, cc, ci] = lstm(XL, WL, bL, matrix(0, 3, 4), matrix(0, 3, 4), TRUE)
        [ldx, ldw, ldb, ldo, ldc] = lstm_backward(XL, WL, bL, matrix(0, 3, 4), matrix(0, 3, 4), TRUE,
                                                  lo * 0.5, lc * 0.1, co, cc, ci)
        """, ["cv", "cvs", "dW", "dX", "mp", "mpb", "ap", "apb", "ba", "bm", "bn", "em", "ev", "dbx", "dg", "db",
              "lo", "lc", "ldx", "ldw", "ldb", "ldo", "ldc"]),
    "io": ("""
        write(X, $out + "/x.csv", format="csv")
        write(X, $out + "/x.bin", format="binary")
        write(X, $out + "/x.txt", format="text")
        rc = read($out + "/x.csv")
        rbin = read($out + "/x.bin")
        rt = read($out + "/x.txt")
        """, ["rc", "rbin", "rt"]),
}


def inputs(seed: int = 11) -> dict:
    """The programs' input data (NumPy, float64)."""
    rng = np.random.default_rng(seed)
    X = rng.random((6, 5))
    Z = X * (rng.random((6, 5)) > 0.5)
    Z[2, :] = 0
    Z[:, 1] = 0
    S = rng.random((4, 4)) + 0.5
    return {
        "X": X, "Y": rng.random((6, 5)), "Z": Z, "S": S,
        "v": rng.random((8, 1)) - 0.3, "w": rng.random((8, 1)), "P": np.array([[0.1], [0.5], [0.9]]),
        "b": rng.random((5, 1)),
        "G": np.array([[1], [2], [2], [4], [1], [3], [4], [4]], dtype=float),
        "H": np.array([[2], [1], [3], [3], [5], [1], [2], [5]], dtype=float),
        "I": rng.random((N_IMG, C_IMG * H_IMG * W_IMG)) - 0.4,
        "F": rng.random((K_FILT, C_IMG * 9)) - 0.5,
        "bK": rng.random((K_FILT, 1)), "gK": rng.random((K_FILT, 1)) + 0.5,
        "XL": rng.random((3, 5 * 2)) - 0.5, "WL": (rng.random((2 + 4, 16)) - 0.5) * 0.7,
        "bL": rng.random((1, 16)) * 0.1,
    }


def select_backend(kind: str, precision: str, module=None) -> None:
    """kind: 'numpy', 'cupy' (a real GPU) or 'module' (a CuPy-like module, e.g. fake_cupy)."""
    from dmlpy import backend
    backend.set_precision(precision)
    if kind == "numpy":
        backend.use_numpy()
    elif kind == "cupy":
        backend.use_cupy()
    else:
        backend.use_module(module, getattr(module, "__name__", "module"))


def run_family(family: str, kind: str, precision: str, module=None) -> dict:
    """Runs one family's program on a backend; returns {name: NumPy array or Python scalar}."""
    import dmlpy
    from dmlpy import backend
    script, outputs = PROGRAMS[family]
    script = "\n".join(line[8:] if line.startswith("        ") else line for line in script.splitlines())
    saved = (backend.xp, backend.name, backend.dtype)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            select_backend(kind, precision, module)
            session = dmlpy.Session(stdout=io.StringIO(), workdir=tmp, precision=precision)
            return session.run(script, inputs=inputs(), outputs=outputs, args={"out": tmp})
        finally:
            backend.use_module(saved[0], saved[1])
            backend.dtype = saved[2]


def differences(reference: dict, other: dict) -> dict:
    """{name: relative difference} (0 for equal strings/booleans/ints; inf for a shape or type mismatch)."""
    out = {}
    for name, ref in reference.items():
        got = other.get(name)
        if isinstance(ref, np.ndarray):
            if not isinstance(got, np.ndarray) or got.shape != ref.shape:
                out[name] = math.inf
                continue
            r, g = ref.astype(np.float64), got.astype(np.float64)
            if not np.array_equal(np.isnan(r), np.isnan(g)) or not np.array_equal(np.isinf(r), np.isinf(g)) \
                    or not np.array_equal(r[np.isinf(r)], g[np.isinf(g)]):
                out[name] = math.inf
                continue
            finite = np.isfinite(r)
            if not finite.any():
                out[name] = 0.0
                continue
            scale = max(np.abs(r[finite]).max(), np.finfo(np.float64).tiny)
            out[name] = float(np.abs(r[finite] - g[finite]).max() / scale)
        elif isinstance(ref, float):
            if not isinstance(got, float):
                out[name] = math.inf
            elif math.isnan(ref) or math.isnan(got):
                out[name] = 0.0 if math.isnan(ref) and math.isnan(got) else math.inf
            else:
                out[name] = abs(ref - got) / max(abs(ref), np.finfo(np.float64).tiny) if ref != got else 0.0
        elif isinstance(ref, str) and isinstance(got, str) and ref != got:
            out[name] = _text_difference(ref, got)
        else:
            out[name] = 0.0 if (type(ref) is type(got) and ref == got) else math.inf
    return out


def _text_difference(a: str, b: str) -> float:
    """Printed matrices: the largest relative difference of the numbers, inf if the words differ."""
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return math.inf
    worst = 0.0
    for x, y in zip(wa, wb):
        if x == y:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return math.inf
        if not (math.isfinite(fx) and math.isfinite(fy)):    # (NaN against a number is no match)
            if not (fx == fy or (math.isnan(fx) and math.isnan(fy))):
                return math.inf
            continue
        worst = max(worst, abs(fx - fy) / max(abs(fx), 1e-300))
    return worst


@contextlib.contextmanager
def working_directory(path: str):
    cwd = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(cwd)


# Convolution geometries for the im2col/col2im kernels: N, C, H, W, K, R, S, stride, padding
CONV_GEOMETRIES = [
    (2, 3, 7, 7, 4, 3, 3, (1, 1), (1, 1)),
    (3, 2, 9, 8, 5, 3, 2, (2, 1), (0, 1)),
    (2, 3, 13, 13, 2, 5, 5, (4, 4), (2, 2)),          # windows run past the padded border
    (1, 1, 6, 5, 3, 1, 1, (1, 1), (0, 0)),
    (2, 2, 5, 5, 2, 5, 5, (1, 1), (0, 0)),            # one window per image
    (2, 2, 8, 7, 3, 2, 2, (3, 3), (1, 0)),            # stride past the filter: cells no window reads
]


# 3x3 and 5x5 stride-1 geometries, the convolutions dnn_winograd takes (DMLPY_GPU_WINOGRAD=1): padding
# from 0 to r-1, odd and even output sizes (a last tile row/column half outside), non-square images
WINOGRAD_GEOMETRIES = [
    (2, 3, 7, 7, 4, 3, 3, (1, 1), (1, 1)),
    (2, 2, 8, 5, 3, 3, 3, (1, 1), (0, 0)),
    (1, 4, 6, 9, 2, 3, 3, (1, 1), (2, 1)),
    (3, 1, 3, 3, 2, 3, 3, (1, 1), (0, 2)),            # one output row
    (2, 3, 9, 8, 4, 5, 5, (1, 1), (2, 2)),            # AlexNet's conv2 shape, small
    (1, 2, 6, 7, 3, 5, 5, (1, 1), (0, 4)),
    (2, 1, 5, 5, 2, 5, 5, (1, 1), (1, 3)),
]


def conv_calls(geo, dtype, seed: int = 7):
    """conv2d and both gradients on random data of one geometry: a function of the array
    conversion (host->device) that returns the three results by name."""
    rng = np.random.default_rng(seed)
    from dmlpy.builtins.dnn_conv import conv2d, conv2d_backward_data, conv2d_backward_filter
    N, C, H, W, K, R, S, stride, padding = geo
    shapes = dict(stride=list(stride), padding=list(padding), input_shape=[N, C, H, W], filter_shape=[K, C, R, S])
    X = rng.standard_normal((N, C * H * W)).astype(dtype)
    F = rng.standard_normal((K, C * R * S)).astype(dtype)
    P = (H + 2 * padding[0] - R) // stride[0] + 1
    Q = (W + 2 * padding[1] - S) // stride[1] + 1
    D = rng.standard_normal((N, K * P * Q)).astype(dtype)
    return lambda to: {
        "conv2d": conv2d(to(X), to(F), **shapes),
        "backward_filter": conv2d_backward_filter(to(X), to(D), **shapes),
        "backward_data": conv2d_backward_data(to(F), to(D), **shapes),
    }


def device_results(calls, dtype) -> dict:
    """The results of conv_calls/pool_calls on the current backend, with its precision set from
    dtype (backend.asarray casts to it), brought back to the host."""
    from dmlpy import backend
    backend.set_precision("single" if dtype == np.float32 else "double")
    return {k: backend.to_host(v) for k, v in calls(backend.asarray).items()}


# Pooling geometries for the max-pool kernels: N, C, H, W, R, S, stride, padding
POOL_GEOMETRIES = [
    (2, 3, 8, 8, 3, 3, (2, 2), (0, 0)),             # overlapping windows (AlexNet's pools)
    (2, 2, 7, 9, 2, 2, (2, 2), (0, 0)),
    (1, 2, 6, 6, 3, 2, (1, 2), (1, 1)),             # padding
    (2, 1, 5, 5, 3, 3, (2, 2), (2, 2)),             # windows of padding only
    (2, 2, 7, 8, 2, 2, (3, 3), (1, 0)),             # stride past the window: cells in no window
]


def pool_calls(geo, dtype, seed: int = 11):
    """max_pool and its gradient on data with ties, NaN and -DBL_MAX cells: a function of the
    array conversion (host->device) that returns both results by name."""
    from dmlpy.builtins.dnn_pool import max_pool, max_pool_backward
    rng = np.random.default_rng(seed)
    N, C, H, W, R, S, stride, padding = geo
    shapes = dict(stride=list(stride), padding=list(padding), input_shape=[N, C, H, W], pool_size=[R, S])
    X = rng.integers(-3, 4, (N, C * H * W)).astype(dtype)     # small integers: many ties
    X[0, 5] = np.nan
    X[-1, -1] = -np.finfo(dtype).max
    P = (H + 2 * padding[0] - R) // stride[0] + 1
    Q = (W + 2 * padding[1] - S) // stride[1] + 1
    D = rng.standard_normal((N, C * P * Q)).astype(dtype)
    zeros = np.zeros_like(X)          # SystemDS: an all-zero input gets an all-zero gradient
    return lambda to: {"max_pool": max_pool(to(X), **shapes), "max_pool_backward": max_pool_backward(to(X), to(D), **shapes),
                       "max_pool_backward_zeros": max_pool_backward(to(zeros), to(D), **shapes)}
