"""Linear algebra builtins: solve, inv/inverse, cholesky, eigen, svd, qr, lu, det,
trace/tr, sqrtMatrixJava.

SystemDS 3.4.0 computes these with Apache Commons Math 3.4.1, and DML programs
see that library's exact conventions: QR returns Householder vectors H instead
of Q; solve and inv go through that QR and call a matrix singular only when a
diagonal entry of R is exactly zero (so a numerically singular matrix yields
huge values, not an error); LU calls a pivot below 1e-11 singular; eigen and
svd return vectors whose signs come out of the particular algorithms. To give
DML programs the same numbers (and signs), the algorithms here follow the
same steps (Householder QR with the same sign choice, partial-pivoting LU,
Householder tridiagonalisation + implicit QL, Golub-Kahan SVD), with the inner
loops vectorised. eigen and svd are sequential at heart; they run on the host
and move the results to the backend.
"""
from __future__ import annotations

import math

import numpy as np

from .registry import builtin
from .. import backend
from ..errors import DMLRuntimeError
from ..values import matrix_argument

_EPSILON = 2.0 ** -53          # Commons Math Precision.EPSILON
_LU_SINGULARITY = 1e-11        # Commons Math LUDecomposition default threshold
_CHOL_SYMMETRY = 1e-6          # SystemDS's CholeskyDecomposition thresholds
_CHOL_POSITIVITY = 1e-10


def _work(a):
    """A fresh working copy in the backend dtype (builtins never modify their inputs)."""
    return backend.xp.array(a, dtype=backend.dtype, copy=True)


def _host(a) -> np.ndarray:
    return np.array(backend.to_host(a), dtype=np.float64, copy=True)


def _message_number(x: float) -> str:
    """A number as Java's MessageFormat prints it in Commons Math messages (#,##0.###)."""
    from .distributions import _message_number as fmt
    return fmt(float(x))


# --------------------------------------------------------------------- QR

def _householder_qr(a):
    """Householder QR with Commons Math's conventions.

    Returns (W, rdiag): W holds, below and on the diagonal, the Householder
    vectors v (v[0] = x[0] - alpha), above the diagonal the off-diagonal part of
    R; rdiag holds R's diagonal alpha = -sign(x[0]) * ||x|| (+||x|| when x[0] <= 0).
    """
    xp = backend.xp
    w = _work(a)
    m, n = w.shape
    k = min(m, n)
    rdiag = [0.0] * k
    for minor in range(k):
        col = w[minor:, minor]
        x0 = backend.item(col[0])
        norm = math.sqrt(backend.item(col @ col))
        alpha = -norm if x0 > 0 else norm
        rdiag[minor] = alpha
        if alpha != 0.0:
            w[minor, minor] = x0 - alpha
            v = w[minor:, minor]
            if minor + 1 < n:
                coef = -(v @ w[minor:, minor + 1:]) / (alpha * backend.item(v[0]))
                w[minor:, minor + 1:] -= xp.outer(v, coef)
    return w, rdiag


def _qr_solve(w, rdiag, b, func: str):
    """x = A^-1 b from a square Householder QR (Commons Math's QR solver)."""
    xp = backend.xp
    m, n = w.shape
    if b.shape[0] != m:
        raise DMLRuntimeError(f"{func}: the right-hand side has {b.shape[0]} rows but the matrix has {m} "
                              f"(DimensionMismatchException -- {b.shape[0]} != {m})")
    if any(abs(d) <= 0.0 for d in rdiag):
        raise DMLRuntimeError("matrix is singular")
    y = _work(b)
    for minor in range(min(m, n)):
        v = w[minor:, minor]
        factor = 1.0 / (rdiag[minor] * backend.item(v[0]))
        coef = (v @ y[minor:, :]) * factor
        y[minor:, :] += xp.outer(v, coef)
    for j in range(len(rdiag) - 1, -1, -1):
        y[j, :] *= 1.0 / rdiag[j]
        if j > 0:
            y[:j, :] -= xp.outer(w[:j, j], y[j, :])
    return y[:n, :]


@builtin("qr", returns=2)
def qr(A):
    """[H, R] = qr(A): Householder vectors H (m x n, lower trapezoidal) and R (m x n)."""
    matrix_argument("qr", A)
    xp = backend.xp
    w, rdiag = _householder_qr(A)
    m, n = w.shape
    k = min(m, n)
    rd = backend.asarray(rdiag).reshape(-1)
    h = xp.zeros((m, n), dtype=backend.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        h[:, :k] = xp.tril(w[:, :k]) / -rd
    r = xp.zeros((m, n), dtype=backend.dtype)
    r[:k, :] = xp.triu(w[:k, :], 1)
    idx = xp.arange(k)
    r[idx, idx] = rd
    return h, r


@builtin("solve")
def solve(A, b):
    """x with A %*% x = b for a square A and a vector b (through Householder QR, as SystemDS)."""
    matrix_argument("solve", A)
    matrix_argument("solve", b)
    if b.shape[0] > 1 and b.shape[1] > 1:
        raise DMLRuntimeError("Second input to solve() must be a vector")
    if A.shape[0] != A.shape[1]:
        raise DMLRuntimeError("The A matrix, in solve(A,b) should have squared dimensions.")
    w, rdiag = _householder_qr(A)
    return _qr_solve(w, rdiag, b, "solve")


def _square(A, func: str):
    matrix_argument(func, A)
    if A.shape[0] != A.shape[1]:
        raise DMLRuntimeError(f"Input to {func}() must be square matrix -- given: a {A.shape[0]}x{A.shape[1]} matrix.")


@builtin("inv", "inverse")
def inv(A):
    """The inverse of a square matrix (Householder QR; exactly singular -> error)."""
    _square(A, "inv")
    w, rdiag = _householder_qr(A)
    return _qr_solve(w, rdiag, backend.xp.eye(A.shape[0], dtype=backend.dtype), "inv")


# --------------------------------------------------------------------- LU

def _lu(a):
    """Partial-pivoting LU (largest magnitude pivot, first on ties, NaN never chosen).

    Returns (lu, perm, even, singular); singular when a pivot's magnitude is below 1e-11.
    """
    xp = backend.xp
    lu = _work(a)
    n = lu.shape[0]
    perm = list(range(n))
    even = True
    for col in range(n):
        mags = xp.abs(lu[col:, col])
        mags = xp.where(xp.isnan(mags), -xp.inf, mags)
        best = col + int(backend.item(xp.argmax(mags))) if n - col > 0 else col
        if not abs(backend.item(lu[best, col])) >= _LU_SINGULARITY and not math.isnan(backend.item(lu[best, col])):
            return lu, perm, even, True
        if best != col:
            lu[[col, best], :] = lu[[best, col], :]
            perm[col], perm[best] = perm[best], perm[col]
            even = not even
        if col + 1 < n:
            lu[col + 1:, col] /= lu[col, col]
            lu[col + 1:, col + 1:] -= xp.outer(lu[col + 1:, col], lu[col, col + 1:])
    return lu, perm, even, False


def _determinant(lu, even, singular) -> float:
    if singular:
        return 0.0
    det = 1.0 if even else -1.0
    for d in backend.to_host(backend.xp.diagonal(lu)).tolist():
        det *= d
    return det


@builtin("lu", returns=3)
def lu(A):
    """[P, L, U] = lu(A) with P %*% A = L %*% U, for a square non-singular A."""
    matrix_argument("lu", A)
    if A.shape[0] != A.shape[1]:
        raise DMLRuntimeError(f"LU Decomposition requires a square matrix. Input matrix is {A.shape[0]}x{A.shape[1]}.")
    xp = backend.xp
    n = A.shape[0]
    f, perm, even, singular = _lu(A)
    if _determinant(f, even, singular) == 0.0:
        raise DMLRuntimeError("LU Decomposition can only be done on a non-singular matrix.")
    p = xp.zeros((n, n), dtype=backend.dtype)
    p[xp.arange(n), backend.asarray(perm).reshape(-1).astype(int)] = 1.0
    lower = xp.tril(f, -1) + xp.eye(n, dtype=backend.dtype)
    upper = xp.triu(f)
    return p, lower, upper


@builtin("det")
def det(A):
    """The determinant through partial-pivoting LU (0.0 when a pivot is below 1e-11, as SystemDS)."""
    matrix_argument("det", A)
    if A.shape[0] != A.shape[1]:
        raise DMLRuntimeError("det requires a square matrix as first argument.")
    f, _, even, singular = _lu(A)
    return _determinant(f, even, singular)


@builtin("trace", "tr")
def trace(A):
    """The sum of the main diagonal of a square matrix."""
    matrix_argument("trace", A)
    if A.shape[0] != A.shape[1]:
        raise DMLRuntimeError(f"Trace is only defined on squared matrices but found [{A.shape[0]}x{A.shape[1]}].")
    return float(math.fsum(backend.to_host(backend.xp.diagonal(A)).tolist()))


# --------------------------------------------------------------- Cholesky

@builtin("cholesky")
def cholesky(A):
    """The lower triangular L with L %*% t(L) = A, for a symmetric positive definite A."""
    _square(A, "cholesky")
    xp = backend.xp
    n = A.shape[0]
    upper = xp.triu(A, 1)
    lower_t = xp.triu(A.T, 1)
    tolerance = _CHOL_SYMMETRY * xp.maximum(xp.abs(upper), xp.abs(lower_t))
    bad = xp.abs(upper - lower_t) > tolerance
    if bool(backend.item(xp.any(bad))):
        flat = int(xp.argmax(bad.reshape(-1)))       # first offending pair in row-major order
        i, j = divmod(flat, n)
        raise DMLRuntimeError(f"non symmetric matrix: the difference between entries at ({i},{j}) and ({j},{i}) "
                              f"is larger than {_message_number(_CHOL_SYMMETRY)}")
    t = xp.triu(_work(A))
    for i in range(n):
        d = backend.item(t[i, i])
        if d <= _CHOL_POSITIVITY:
            raise DMLRuntimeError(f"{_message_number(d)} is smaller than, or equal to, the minimum "
                                  f"({_message_number(_CHOL_POSITIVITY)}): not positive definite matrix: "
                                  f"value {_message_number(d)} at index {i}")
        root = math.sqrt(d)
        t[i, i] = root
        if i + 1 < n:
            t[i, i + 1:] *= 1.0 / root
            row = t[i, i + 1:]
            t[i + 1:, i + 1:] -= xp.outer(row, row)
    return xp.ascontiguousarray(xp.triu(t).T)


# ------------------------------------------------------------------ eigen

class _NoConvergence(Exception):
    pass


def _tridiagonalize(a: np.ndarray):
    """Householder reduction of a symmetric matrix (read from its upper triangle) to
    tridiagonal form. Returns (main diagonal, secondary diagonal, Q)."""
    n = a.shape[0]
    h = np.triu(a) + np.triu(a, 1).T
    main = np.zeros(n)
    secondary = np.zeros(max(n - 1, 0))
    vectors = np.zeros((n, n))
    for k in range(n - 1):
        hk = h[k].copy()
        main[k] = hk[k]
        x = hk[k + 1:]
        norm = math.sqrt(float(x @ x))
        alpha = -norm if hk[k + 1] > 0 else norm
        secondary[k] = alpha
        if alpha != 0.0:
            hk[k + 1] -= alpha
            beta = -1.0 / (alpha * hk[k + 1])
            v = hk[k + 1:]
            sub = h[k + 1:, k + 1:]
            z = beta * (sub @ v)
            gamma = beta / 2.0 * float(z @ v)
            z -= gamma * v
            h[k + 1:, k + 1:] = sub - np.outer(v, z) - np.outer(z, v)
        vectors[k] = hk
    if n:
        main[n - 1] = h[n - 1, n - 1]
    # accumulate Q^T from the Householder vectors, last one first
    qt = np.zeros((n, n))
    for k in range(n - 1, 0, -1):
        hk = vectors[k - 1]
        qt[k, k] = 1.0
        if hk[k] != 0.0:
            inv = 1.0 / (secondary[k - 1] * hk[k])
            beta = 1.0 / secondary[k - 1]
            qt[k, k] = 1.0 + beta * hk[k]
            qt[k, k + 1:] = beta * hk[k + 1:]
            coef = (qt[k + 1:, k + 1:] @ hk[k + 1:]) * inv
            qt[k + 1:, k] = coef * hk[k]
            qt[k + 1:, k + 1:] += np.outer(coef, hk[k + 1:])
    if n:
        qt[0, 0] = 1.0
    return main, secondary, np.asfortranarray(qt.T)


def _implicit_ql(main, secondary, z: np.ndarray):
    """Eigenvalues/vectors of a symmetric tridiagonal matrix by implicit QL with
    Wilkinson-type shifts, rotating the columns of z; sorted by decreasing value."""
    n = len(main)
    d = [float(v) for v in main]
    e = [float(v) for v in secondary] + [0.0]
    biggest = max([abs(v) for v in d] + [abs(v) for v in e] + [0.0])
    if biggest != 0.0:
        for i in range(n):
            if abs(d[i]) <= _EPSILON * biggest:
                d[i] = 0.0
            if abs(e[i]) <= _EPSILON * biggest:
                e[i] = 0.0
    for j in range(n):
        its = 0
        while True:
            m = j
            while m < n - 1:
                delta = abs(d[m]) + abs(d[m + 1])
                if abs(e[m]) + delta == delta:
                    break
                m += 1
            if m == j:
                break
            if its == 30:
                raise _NoConvergence()
            its += 1
            q = (d[j + 1] - d[j]) / (2.0 * e[j])
            t = math.sqrt(1.0 + q * q)
            q = d[m] - d[j] + e[j] / (q - t if q < 0.0 else q + t)
            u, s, c = 0.0, 1.0, 1.0
            i = m - 1
            while i >= j:
                p = s * e[i]
                h = c * e[i]
                if abs(p) >= abs(q):
                    c = q / p
                    t = math.sqrt(c * c + 1.0)
                    e[i + 1] = p * t
                    s = 1.0 / t
                    c *= s
                else:
                    s = p / q
                    t = math.sqrt(s * s + 1.0)
                    e[i + 1] = q * t
                    c = 1.0 / t
                    s *= c
                if e[i + 1] == 0.0:
                    d[i + 1] -= u
                    e[m] = 0.0
                    break
                q = d[i + 1] - u
                t = (d[i] - q) * s + 2.0 * c * h
                u = s * t
                d[i + 1] = q + u
                q = c * t - h
                pair = z[:, i:i + 2]
                pair[...] = pair @ np.array([[c, s], [-s, c]])
                i -= 1
            if t == 0.0 and i >= j:
                continue
            d[j] -= u
            e[j] = q
            e[m] = 0.0
    for i in range(n):                       # selection sort, decreasing
        k, p = i, d[i]
        for jj in range(i + 1, n):
            if d[jj] > p:
                k, p = jj, d[jj]
        if k != i:
            d[k] = d[i]
            d[i] = p
            z[:, [i, k]] = z[:, [k, i]]
    biggest = max([abs(v) for v in d] + [0.0])
    if biggest != 0.0:
        d = [0.0 if abs(v) < _EPSILON * biggest else v for v in d]
    return d, z


def _is_symmetric(a: np.ndarray) -> bool:
    n = a.shape[0]
    tol = 10 * n * n * _EPSILON
    diff = np.abs(a - a.T)
    return bool(np.all(diff <= np.maximum(np.abs(a), np.abs(a.T)) * tol))


def _symmetric_eigen(a: np.ndarray):
    main, secondary, z = _tridiagonalize(a)
    return _implicit_ql(main, secondary, z)


def _hessenberg(a: np.ndarray):
    """Orthogonal reduction to upper Hessenberg form H = P^T A P. Returns (H, P)."""
    hv = np.array(a, dtype=np.float64, copy=True)
    n = hv.shape[0]
    high = n - 1
    ort = np.zeros(n)
    for m in range(1, high):
        scale = float(np.sum(np.abs(hv[m:, m - 1])))
        if scale != 0.0:
            ort[m:] = hv[m:, m - 1] / scale
            h = float(ort[m:][::-1] @ ort[m:][::-1])
            g = -math.sqrt(h) if ort[m] > 0 else math.sqrt(h)
            h -= ort[m] * g
            ort[m] -= g
            u = ort[m:]
            f = (u @ hv[m:, m:]) / h
            hv[m:, m:] -= np.outer(u, f)
            f = (hv[:, m:] @ u) / h
            hv[:, m:] -= np.outer(f, u)
            ort[m] *= scale
            hv[m, m - 1] = scale * g
    p = np.eye(n)
    for m in range(high - 1, 0, -1):
        if hv[m, m - 1] != 0.0:
            ort[m + 1:] = hv[m + 1:, m - 1]
            u = ort[m:]
            g = (u @ p[m:, m:]) / ort[m] / hv[m, m - 1]
            p[m:, m:] += np.outer(u, g)
    h = np.triu(hv, -1)
    return h, p


def _schur(a: np.ndarray):
    """Real Schur form T = P^T A P by Francis double-shift QR steps on the Hessenberg form."""
    t, p = _hessenberg(a)
    n = t.shape[0]
    eps = _EPSILON
    norm = sum(float(np.sum(np.abs(t[i, max(i - 1, 0):]))) for i in range(n))
    ex_shift = 0.0
    iteration = 0
    iu = n - 1
    while iu >= 0:
        il = iu                                  # look for a single small sub-diagonal element
        while il > 0:
            s = abs(t[il - 1, il - 1]) + abs(t[il, il])
            if s == 0.0:
                s = norm
            if abs(t[il, il - 1]) < eps * s:
                break
            il -= 1
        if il == iu:                             # one root found
            t[iu, iu] += ex_shift
            iu -= 1
            iteration = 0
        elif il == iu - 1:                       # two roots found
            pp = (t[iu - 1, iu - 1] - t[iu, iu]) / 2.0
            q = pp * pp + t[iu, iu - 1] * t[iu - 1, iu]
            t[iu, iu] += ex_shift
            t[iu - 1, iu - 1] += ex_shift
            if q >= 0:
                z = math.sqrt(abs(q))
                z = pp + z if pp >= 0 else pp - z
                x = t[iu, iu - 1]
                s = abs(x) + abs(z)
                pp, q = x / s, z / s
                r = math.sqrt(pp * pp + q * q)
                pp /= r
                q /= r
                rows = t[iu - 1, iu - 1:].copy()
                t[iu - 1, iu - 1:] = q * rows + pp * t[iu, iu - 1:]
                t[iu, iu - 1:] = q * t[iu, iu - 1:] - pp * rows
                cols = t[:iu + 1, iu - 1].copy()
                t[:iu + 1, iu - 1] = q * cols + pp * t[:iu + 1, iu]
                t[:iu + 1, iu] = q * t[:iu + 1, iu] - pp * cols
                cols = p[:, iu - 1].copy()
                p[:, iu - 1] = q * cols + pp * p[:, iu]
                p[:, iu] = q * p[:, iu] - pp * cols
            iu -= 2
            iteration = 0
        else:                                    # no convergence yet: shift and step
            x = t[iu, iu]
            y = w = 0.0
            if il < iu:
                y = t[iu - 1, iu - 1]
                w = t[iu, iu - 1] * t[iu - 1, iu]
            if iteration == 10:                  # Wilkinson's ad hoc shift
                ex_shift += x
                t[np.arange(iu + 1), np.arange(iu + 1)] -= x
                s = abs(t[iu, iu - 1]) + abs(t[iu - 1, iu - 2])
                x = y = 0.75 * s
                w = -0.4375 * s * s
            if iteration == 30:                  # MATLAB's ad hoc shift
                s = (y - x) / 2.0
                s = s * s + w
                if s > 0.0:
                    s = math.sqrt(s)
                    if y < x:
                        s = -s
                    s = x - w / ((y - x) / 2.0 + s)
                    t[np.arange(iu + 1), np.arange(iu + 1)] -= s
                    ex_shift += s
                    x = y = w = 0.964
            iteration += 1
            if iteration > 100:
                raise _NoConvergence()
            im = iu - 2                          # the initial Householder vector
            while im >= il:
                z = t[im, im]
                r = x - z
                s = y - z
                h0 = (r * s - w) / t[im + 1, im] + t[im, im + 1]
                h1 = t[im + 1, im + 1] - z - r - s
                h2 = t[im + 2, im + 1]
                if im == il:
                    break
                lhs = abs(t[im, im - 1]) * (abs(h1) + abs(h2))
                rhs = abs(h0) * (abs(t[im - 1, im - 1]) + abs(z) + abs(t[im + 1, im + 1]))
                if lhs < eps * rhs:
                    break
                im -= 1
            pp, q, r = h0, h1, h2
            for k in range(im, iu):              # the double QR step
                notlast = k != iu - 1
                if k != im:
                    pp = t[k, k - 1]
                    q = t[k + 1, k - 1]
                    r = t[k + 2, k - 1] if notlast else 0.0
                    x = abs(pp) + abs(q) + abs(r)
                    if abs(x) <= eps:
                        continue
                    pp /= x
                    q /= x
                    r /= x
                s = math.sqrt(pp * pp + q * q + r * r)
                if pp < 0.0:
                    s = -s
                if s != 0.0:
                    if k != im:
                        t[k, k - 1] = -s * x
                    elif il != im:
                        t[k, k - 1] = -t[k, k - 1]
                    pp += s
                    x = pp / s
                    y = q / s
                    z = r / s
                    q /= pp
                    r /= pp
                    v = t[k, k:] + q * t[k + 1, k:]
                    if notlast:
                        v = v + r * t[k + 2, k:]
                        t[k + 2, k:] -= v * z
                    t[k, k:] -= v * x
                    t[k + 1, k:] -= v * y
                    top = min(iu, k + 3) + 1
                    v = x * t[:top, k] + y * t[:top, k + 1]
                    if notlast:
                        v = v + z * t[:top, k + 2]
                        t[:top, k + 2] -= v * r
                    t[:top, k] -= v
                    t[:top, k + 1] -= v * q
                    v = x * p[:, k] + y * p[:, k + 1]
                    if notlast:
                        v = v + z * p[:, k + 2]
                        p[:, k + 2] -= v * r
                    p[:, k] -= v
                    p[:, k + 1] -= v * q
            for i in range(im + 2, iu + 1):      # clean up round-off below the sub-diagonal
                t[i, i - 2] = 0.0
                if i > im + 2:
                    t[i, i - 3] = 0.0
    return t, p


def _cdiv(xr, xi, yr, yi):
    """(xr + i xi) / (yr + i yi) by Smith's algorithm."""
    if yr == 0.0 and yi == 0.0:
        return math.nan, math.nan
    if abs(yr) < abs(yi):
        q = yr / yi
        d = yr * q + yi
        return (xr * q + xi) / d, (xi * q - xr) / d
    q = yi / yr
    d = yi * q + yr
    return (xi * q + xr) / d, (xi - xr * q) / d


def _general_eigen(a: np.ndarray):
    """Eigenvalues (real parts) and eigenvectors of a non-symmetric matrix from its real
    Schur form; a complex pair's vector is stored as (real part, imaginary part) columns."""
    t, p = _schur(a)
    n = t.shape[0]
    small = 1e-12
    real = [0.0] * n
    imag = [0.0] * n
    i = 0
    while i < n:
        if i == n - 1 or abs(t[i + 1, i]) <= small:
            real[i] = t[i, i]
        else:
            x = t[i + 1, i + 1]
            pp = 0.5 * (t[i, i] - x)
            z = math.sqrt(abs(pp * pp + t[i + 1, i] * t[i, i + 1]))
            real[i] = real[i + 1] = x + pp
            imag[i], imag[i + 1] = z, -z
            i += 1
        i += 1
    norm = sum(float(np.sum(np.abs(t[i, max(i - 1, 0):]))) for i in range(n))
    if abs(norm) <= small:
        raise DMLRuntimeError("eigen: zero norm")
    r = s = z = 0.0
    for idx in range(n - 1, -1, -1):
        pp, q = real[idx], imag[idx]
        if q == 0.0:                             # real vector
            l = idx
            t[idx, idx] = 1.0
            for i in range(idx - 1, -1, -1):
                w = t[i, i] - pp
                r = float(t[i, l:idx + 1] @ t[l:idx + 1, idx])
                if imag[i] < -small:
                    z, s = w, r
                    continue
                l = i
                if imag[i] == 0.0:
                    t[i, idx] = -r / w if w != 0.0 else -r / (_EPSILON * norm)
                else:
                    x = t[i, i + 1]
                    y = t[i + 1, i]
                    qq = (real[i] - pp) * (real[i] - pp) + imag[i] * imag[i]
                    tt = (x * s - z * r) / qq
                    t[i, idx] = tt
                    t[i + 1, idx] = (-r - w * tt) / x if abs(x) > abs(z) else (-s - y * tt) / z
                tt = abs(t[i, idx])
                if (_EPSILON * tt) * tt > 1:
                    t[i:idx + 1, idx] /= tt
        elif q < 0.0:                            # complex vector, columns idx-1 (real) and idx (imaginary)
            l = idx - 1
            if abs(t[idx, idx - 1]) > abs(t[idx - 1, idx]):
                t[idx - 1, idx - 1] = q / t[idx, idx - 1]
                t[idx - 1, idx] = -(t[idx, idx] - pp) / t[idx, idx - 1]
            else:
                t[idx - 1, idx - 1], t[idx - 1, idx] = _cdiv(0.0, -t[idx - 1, idx], t[idx - 1, idx - 1] - pp, q)
            t[idx, idx - 1] = 0.0
            t[idx, idx] = 1.0
            for i in range(idx - 2, -1, -1):
                ra = float(t[i, l:idx + 1] @ t[l:idx + 1, idx - 1])
                sa = float(t[i, l:idx + 1] @ t[l:idx + 1, idx])
                w = t[i, i] - pp
                if imag[i] < -small:
                    z, r, s = w, ra, sa
                    continue
                l = i
                if imag[i] == 0.0:
                    t[i, idx - 1], t[i, idx] = _cdiv(-ra, -sa, w, q)
                else:
                    x = t[i, i + 1]
                    y = t[i + 1, i]
                    vr = (real[i] - pp) * (real[i] - pp) + imag[i] * imag[i] - q * q
                    vi = (real[i] - pp) * 2.0 * q
                    if vr == 0.0 and vi == 0.0:
                        vr = _EPSILON * norm * (abs(w) + abs(q) + abs(x) + abs(y) + abs(z))
                    t[i, idx - 1], t[i, idx] = _cdiv(x * r - z * ra + q * sa, x * s - z * sa - q * ra, vr, vi)
                    if abs(x) > abs(z) + abs(q):
                        t[i + 1, idx - 1] = (-ra - w * t[i, idx - 1] + q * t[i, idx]) / x
                        t[i + 1, idx] = (-sa - w * t[i, idx] - q * t[i, idx - 1]) / x
                    else:
                        t[i + 1, idx - 1], t[i + 1, idx] = _cdiv(-r - y * t[i, idx - 1], -s - y * t[i, idx], z, q)
                tt = max(abs(t[i, idx - 1]), abs(t[i, idx]))
                if (_EPSILON * tt) * tt > 1:
                    t[i:idx + 1, idx - 1] /= tt
                    t[i:idx + 1, idx] /= tt
    vectors = p @ np.triu(t)
    return real, vectors


def _eigen_decomposition(a: np.ndarray):
    if _is_symmetric(a):
        return _symmetric_eigen(a)
    return _general_eigen(a)


@builtin("eigen", returns=2)
def eigen(A):
    """[values, vectors] = eigen(A): eigenvalues increasing (n x 1), eigenvectors as columns."""
    matrix_argument("eigen", A)
    n, c = A.shape
    if n != c:
        raise DMLRuntimeError("Eigen Decomposition can only be done on a square matrix. "
                              f"Input matrix is rectangular (rows={n}, cols={c})")
    a = _host(A)
    try:
        values, vectors = _eigen_decomposition(a)
    except _NoConvergence:
        # SystemDS retries once on a slightly perturbed matrix
        if not np.any(a != 0):
            raise DMLRuntimeError("Invalid empty block") from None
        try:
            values, vectors = _eigen_decomposition(a + np.sign(a) * 1e-8)
        except _NoConvergence:
            raise DMLRuntimeError("eigen: illegal state: maximal count (30) exceeded: evaluations") from None
    values = list(values)
    vectors = np.array(vectors, copy=True)
    for i in range(n):                       # SystemDS re-sorts: increasing, first minimum on ties
        k, v = i, values[i]
        for j in range(i + 1, n):
            if values[j] < v:
                k, v = j, values[j]
        if k != i:
            values[k] = values[i]
            values[i] = v
            vectors[:, [i, k]] = vectors[:, [k, i]]
    # + 0.0 turns the -0.0 of sign flips into 0.0, as SystemDS's matrices hold it
    return (backend.asarray(np.asarray(values, dtype=np.float64).reshape(-1, 1) + 0.0),
            backend.asarray(np.ascontiguousarray(vectors) + 0.0))


@builtin("sqrtMatrixJava")
def sqrt_matrix_java(A):
    """The symmetric square root V %*% diag(sqrt(w)) %*% t(V) of a symmetric positive semi-definite matrix."""
    matrix_argument("sqrtMatrixJava", A)
    n, c = A.shape
    if n != c:
        raise DMLRuntimeError(f"sqrtMatrixJava requires a square matrix (rows={n}, cols={c})")
    a = _host(A)
    if not _is_symmetric(a):
        raise DMLRuntimeError("sqrtMatrixJava: unsupported operation (the matrix is not symmetric)")
    try:
        values, vectors = _symmetric_eigen(a)
    except _NoConvergence:
        raise DMLRuntimeError("sqrtMatrixJava: illegal state: maximal count (30) exceeded: evaluations") from None
    if any(v < 0.0 for v in values):
        raise DMLRuntimeError("sqrtMatrixJava: unsupported operation (the matrix has a negative eigenvalue)")
    root = (vectors * np.sqrt(np.asarray(values))) @ vectors.T
    return backend.asarray(root)


# -------------------------------------------------------------------- SVD

def _golub_kahan_svd(a: np.ndarray):
    """Thin SVD of an m x n matrix with m >= n by Householder bidiagonalisation and
    implicit-shift QR on the bidiagonal. Returns (U m x n, s, V n x n)."""
    a = np.array(a, copy=True)
    m, n = a.shape
    s = np.zeros(n)
    u = np.zeros((m, n), order="F")
    v = np.zeros((n, n), order="F")
    e = np.zeros(n)
    work = np.zeros(m)
    nct = min(m - 1, n)
    nrt = max(0, min(n - 2, m))
    for k in range(max(nct, nrt)):
        if k < nct:
            s[k] = _hypot_all(a[k:, k])
            if s[k] != 0.0:
                if a[k, k] < 0.0:
                    s[k] = -s[k]
                a[k:, k] /= s[k]
                a[k, k] += 1.0
            s[k] = -s[k]
        if k + 1 < n:
            if k < nct and s[k] != 0.0:
                t = -(a[k:, k] @ a[k:, k + 1:]) / a[k, k]
                a[k:, k + 1:] += np.outer(a[k:, k], t)
            e[k + 1:] = a[k, k + 1:]
        if k < nct:
            u[k:, k] = a[k:, k]
        if k < nrt:
            e[k] = _hypot_all(e[k + 1:])
            if e[k] != 0.0:
                if e[k + 1] < 0.0:
                    e[k] = -e[k]
                e[k + 1:] /= e[k]
                e[k + 1] += 1.0
            e[k] = -e[k]
            if k + 1 < m and e[k] != 0.0:
                work[k + 1:] = a[k + 1:, k + 1:] @ e[k + 1:]
                a[k + 1:, k + 1:] += np.outer(work[k + 1:], -e[k + 1:] / e[k + 1])
            v[k + 1:, k] = e[k + 1:]
    p = n
    if nct < n:
        s[nct] = a[nct, nct]
    if m < p:
        s[p - 1] = 0.0
    if nrt + 1 < p:
        e[nrt] = a[nrt, p - 1]
    e[p - 1] = 0.0
    for j in range(nct, n):
        u[:, j] = 0.0
        u[j, j] = 1.0
    for k in range(nct - 1, -1, -1):
        if s[k] != 0.0:
            if k + 1 < n:
                t = -(u[k:, k] @ u[k:, k + 1:]) / u[k, k]
                u[k:, k + 1:] += np.outer(u[k:, k], t)
            u[k:, k] = -u[k:, k]
            u[k, k] = 1.0 + u[k, k]
            u[:max(k - 1, 0), k] = 0.0
        else:
            u[:, k] = 0.0
            u[k, k] = 1.0
    for k in range(n - 1, -1, -1):
        if k < nrt and e[k] != 0.0:
            t = -(v[k + 1:, k] @ v[k + 1:, k + 1:]) / v[k + 1, k]
            v[k + 1:, k + 1:] += np.outer(v[k + 1:, k], t)
        v[:, k] = 0.0
        v[k, k] = 1.0
    s_list = [float(x) for x in s]
    e_list = [float(x) for x in e]
    _bidiagonal_qr(s_list, e_list, u, v, m, n, p)
    return u, s_list, v


_SVD_EPS = 2.0 ** -52
_SVD_TINY = 2.0 ** -966


def _hypot_all(x: np.ndarray) -> float:
    """hypot folded over a vector, as the reference computes column norms."""
    r = 0.0
    for value in x.tolist():
        r = math.hypot(r, value)
    return r


def _rotate(mat: np.ndarray, j: int, k: int, cs: float, sn: float) -> None:
    """Columns j, k <- (cs*c_j + sn*c_k, -sn*c_j + cs*c_k)."""
    g = np.array([[cs, -sn], [sn, cs]])
    if k == j + 1:
        pair = mat[:, j:j + 2]
        pair[...] = pair @ g
    else:
        mat[:, [j, k]] = mat[:, [j, k]] @ g


def _bidiagonal_qr(s, e, u, v, m, n, p):
    pp = p - 1
    while p > 0:
        k = p - 2
        while k >= 0:
            threshold = _SVD_TINY + _SVD_EPS * (abs(s[k]) + abs(s[k + 1]))
            if not abs(e[k]) > threshold:
                e[k] = 0.0
                break
            k -= 1
        if k == p - 2:
            kase = 4
        else:
            ks = p - 1
            while ks > k:
                t = (abs(e[ks]) if ks != p else 0.0) + (abs(e[ks - 1]) if ks != k + 1 else 0.0)
                if not abs(s[ks]) > _SVD_TINY + _SVD_EPS * t:
                    s[ks] = 0.0
                    break
                ks -= 1
            if ks == k:
                kase = 3
            elif ks == p - 1:
                kase = 1
            else:
                kase = 2
                k = ks
        k += 1
        if kase == 1:                        # deflate a negligible s[p-1]
            f = e[p - 2]
            e[p - 2] = 0.0
            for j in range(p - 2, k - 1, -1):
                t = math.hypot(s[j], f)
                cs, sn = s[j] / t, f / t
                s[j] = t
                if j != k:
                    f = -sn * e[j - 1]
                    e[j - 1] = cs * e[j - 1]
                _rotate(v, j, p - 1, cs, sn)
        elif kase == 2:                      # split at a negligible s[k-1]
            f = e[k - 1]
            e[k - 1] = 0.0
            for j in range(k, p):
                t = math.hypot(s[j], f)
                cs, sn = s[j] / t, f / t
                s[j] = t
                f = -sn * e[j]
                e[j] = cs * e[j]
                _rotate(u, j, k - 1, cs, sn)
        elif kase == 3:                      # one implicit-shift QR step
            scale = max(abs(s[p - 1]), abs(s[p - 2]), abs(e[p - 2]), abs(s[k]), abs(e[k]))
            sp = s[p - 1] / scale
            spm1 = s[p - 2] / scale
            epm1 = e[p - 2] / scale
            sk = s[k] / scale
            ek = e[k] / scale
            b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2.0
            c = (sp * epm1) * (sp * epm1)
            shift = 0.0
            if b != 0.0 or c != 0.0:
                shift = math.sqrt(b * b + c)
                if b < 0.0:
                    shift = -shift
                shift = c / (b + shift)
            f = (sk + sp) * (sk - sp) + shift
            g = sk * ek
            for j in range(k, p - 1):
                t = math.hypot(f, g)
                cs, sn = f / t, g / t
                if j != k:
                    e[j - 1] = t
                f = cs * s[j] + sn * e[j]
                e[j] = cs * e[j] - sn * s[j]
                g = sn * s[j + 1]
                s[j + 1] = cs * s[j + 1]
                _rotate(v, j, j + 1, cs, sn)
                t = math.hypot(f, g)
                cs, sn = f / t, g / t
                s[j] = t
                f = cs * e[j] + sn * s[j + 1]
                s[j + 1] = -sn * e[j] + cs * s[j + 1]
                g = sn * e[j + 1]
                e[j + 1] = cs * e[j + 1]
                if j < m - 1:
                    _rotate(u, j, j + 1, cs, sn)
            e[p - 2] = f
        else:                                # convergence: make s[k] positive, keep order
            if s[k] <= 0.0:
                s[k] = -s[k] if s[k] < 0.0 else 0.0
                v[:pp + 1, k] = -v[:pp + 1, k]
            while k < pp:
                if s[k] >= s[k + 1]:
                    break
                s[k], s[k + 1] = s[k + 1], s[k]
                if k < n - 1:
                    v[:, [k, k + 1]] = v[:, [k + 1, k]]
                if k < m - 1:
                    u[:, [k, k + 1]] = u[:, [k + 1, k]]
                k += 1
            p -= 1


@builtin("svd", returns=3)
def svd(A):
    """[U, S, V] = svd(A) with A = U %*% S %*% t(V): for m x n A and k = min(m, n),
    U is m x k, S is the k x k diagonal of singular values (decreasing), V is n x k."""
    matrix_argument("svd", A)
    a = _host(A)
    m, n = a.shape
    if m >= n:
        u, s, v = _golub_kahan_svd(a)
    else:
        v, s, u = _golub_kahan_svd(a.T)
    return (backend.asarray(np.ascontiguousarray(u) + 0.0), backend.asarray(np.diag(s) + 0.0),
            backend.asarray(np.ascontiguousarray(v) + 0.0))


# -------------------------------------------------------------------- FFT

def _power_of_two(k: int) -> bool:
    return k > 0 and k & (k - 1) == 0


def _fft_input(X, func: str, linearized: bool):
    matrix_argument(func, X)
    rows, cols = X.shape
    if linearized:
        if not _power_of_two(cols):
            raise DMLRuntimeError(f"This {func.upper()} implementation is only defined for matrices with "
                                  "columns that are powers of 2.")
    elif not (_power_of_two(rows) and _power_of_two(cols)):
        raise DMLRuntimeError(f"This {func.upper()} implementation is only defined for matrices with "
                              "dimensions that are powers of 2.")


def _complex_parts(z):
    xp = backend.xp
    return xp.ascontiguousarray(z.real, dtype=backend.dtype), xp.ascontiguousarray(z.imag, dtype=backend.dtype)


def _complex(re, im, func: str):
    xp = backend.xp
    if im is None:
        return re.astype(xp.complex128)
    matrix_argument(func, im)
    if im.shape != re.shape:
        raise DMLRuntimeError(f"{func}: the real and imaginary parts must have the same dimensions "
                              f"({re.shape[0]}x{re.shape[1]} vs {im.shape[0]}x{im.shape[1]})")
    return re + 1j * im


@builtin("fft", returns=2)
def fft(X):
    """[re, im] = fft(X): the 2-D discrete Fourier transform (dimensions powers of 2)."""
    _fft_input(X, "fft", False)
    return _complex_parts(backend.xp.fft.fft2(X))


@builtin("ifft", returns=2)
def ifft(re, im=None):
    """[re, im] = ifft(re, im): the inverse 2-D discrete Fourier transform."""
    _fft_input(re, "ifft", False)
    return _complex_parts(backend.xp.fft.ifft2(_complex(re, im, "ifft")))


@builtin("fft_linearized", returns=2)
def fft_linearized(X):
    """[re, im] = fft_linearized(X): the 1-D transform of each row (columns a power of 2)."""
    _fft_input(X, "fft_linearized", True)
    return _complex_parts(backend.xp.fft.fft(X, axis=1))


@builtin("ifft_linearized", returns=2)
def ifft_linearized(re, im=None):
    """[re, im] = ifft_linearized(re, im): the inverse 1-D transform of each row."""
    _fft_input(re, "ifft_linearized", True)
    return _complex_parts(backend.xp.fft.ifft(_complex(re, im, "ifft_linearized"), axis=1))


# ----------------------------------------------------------------- einsum

@builtin("einsum")
def einsum(equation, *operands):
    """Einstein summation over matrices, e.g. einsum("ij,jk->ik", A, B). A one-letter
    term takes a vector (n x 1 or 1 x n); a one-letter output is a column vector and an
    empty output a double."""
    xp = backend.xp
    if not isinstance(equation, str) or "->" not in equation:
        raise DMLRuntimeError(f"einsum: the equation must have the form 'terms->output', got {equation!r}")
    lhs, out = equation.replace(" ", "").split("->", 1)
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise DMLRuntimeError(f"einsum: the equation has {len(terms)} input term(s) but "
                              f"{len(operands)} matrices are given")
    dims: dict[str, int] = {}
    arrays = []
    for term, op in zip(terms, operands):
        matrix_argument("einsum", op)
        if len(term) == 1:
            if op.shape[0] != 1 and op.shape[1] != 1:
                raise DMLRuntimeError(f"einsum: term '{term}' needs a vector, got a {op.shape[0]}x{op.shape[1]} matrix")
            arr, sizes = op.reshape(-1), (op.size,)
        elif len(term) == 2:
            arr, sizes = op, op.shape
        else:
            raise DMLRuntimeError(f"einsum: term '{term}' must have one or two indices")
        for ch, size in zip(term, sizes):
            if ch in dims and dims[ch] != size:
                raise DMLRuntimeError(f"Einsum: Character '{ch}' expected to be dim {dims[ch]}, but found {size}")
            dims.setdefault(ch, size)
        arrays.append(arr)
    if len(out) > 2 or any(ch not in dims for ch in out):
        raise DMLRuntimeError(f"einsum: invalid output '{out}'")
    result = xp.einsum(f"{','.join(terms)}->{out}", *arrays)
    if len(out) == 0:
        return float(result)
    if len(out) == 1:
        return xp.ascontiguousarray(result.reshape(-1, 1), dtype=backend.dtype)
    return xp.ascontiguousarray(result, dtype=backend.dtype)
