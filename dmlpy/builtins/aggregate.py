"""Aggregations: row/column aggregates, min/max, statistics, order statistics,
cumulative aggregates, grouped aggregate, distinct counts.

Semantics measured on SystemDS 3.4.0 (recordings in tests/data/builtins_matrix/):
  * NaN propagates through sums, products, means, variances, min and max,
    except colProds, which gives 0 for a column holding a NaN.
  * Variances use the n-1 denominator; a single value has variance 0.
  * rowIndexMax/rowIndexMin return the LAST column holding the extreme value,
    skip NaN cells, and give 1 for an all-NaN row.
  * median and a scalar quantile average two neighbours for an even count
    (SystemDS's "pick value" rule on its sorted layout, see _pick_rows and _pick;
    zeros are special there); a matrix of quantiles never averages.
  * Weighted order statistics need integer weights.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import DMLRuntimeError
from ..values import a_type_name, is_matrix, matrix_argument
from .core import as_float, as_int, kahan_infinities
from .registry import builtin


def _wide(X):
    """X in extended precision on the CPU backend (80-bit long double), else as is.

    SystemDS accumulates sums with Kahan compensation and moments incrementally; for
    data like integers its results are the correctly rounded ones. Accumulating in
    long double and rounding once gives the same last digit, which DML programs print."""
    if backend.xp is np and X.dtype == np.float64:
        return X.astype(np.longdouble)
    return X


def _narrow(R):
    """A fresh reduction result in the backend's precision (no copy when it already is)."""
    return R.astype(backend.dtype, copy=False)


def _column(name, X, what="argument"):
    """A column vector argument (the order-statistics and moment functions take only those)."""
    matrix_argument(name, X, what)
    if X.shape[1] != 1:
        raise DMLRuntimeError(f"{name}() needs a column vector (n x 1) as {what}, "
                              f"not a {X.shape[0]}x{X.shape[1]} matrix")
    return X[:, 0]


def _same_length(name, a, b, what):
    if a.shape[0] != b.shape[0]:
        raise DMLRuntimeError(f"{name}(): {what} has {b.shape[0]} rows but the data has {a.shape[0]}")


# ------------------------------------------------------------ row/col aggregates

def _var(xp, X, axis):
    n = X.shape[axis]
    if n == 1:
        return xp.zeros_like(X)             # one value: variance 0, even of NaN or Infinity (SystemDS)
    return _narrow(xp.var(_wide(X), axis=axis, ddof=1, keepdims=True))


def _all_finite(xp, R) -> bool:
    """Whether reduction results are all finite. On the GPU this is not asked (the answer would
    cost a device-to-host sync per reduction): there sums with infinities follow IEEE rules."""
    return xp is not np or bool(xp.all(xp.isfinite(R)))


def _with_infinities(xp, X, R, axis):
    """Sums where X holds infinities, as SystemDS's Kahan sum gives them."""
    return R if _all_finite(xp, R) else kahan_infinities(X, R, axis)


def _incremental_mean(values) -> float:
    """SystemDS's mean where infinities meet: m += (x - m) / n through its Kahan sum, in which an
    infinite step replaces m and a finite or NaN step leaves an infinite m as it is (so
    mean(Inf, 0) is -Infinity there). Only used where the plain mean is not finite."""
    m = 0.0
    for n, x in enumerate(values, 1):
        step = (x - m) / n
        if math.isinf(step):
            m = step
        elif not math.isinf(m):
            m = m + step
    return m


def _means(xp, X, axis):
    R = _narrow(xp.mean(_wide(X), axis=axis, keepdims=True))
    if _all_finite(xp, R):
        return R
    host = np.array(backend.to_host(R), dtype=np.float64)
    cells = np.asarray(backend.to_host(X), dtype=np.float64)
    lines = cells if axis == 1 else cells.T
    flat = host.reshape(-1)
    for i in np.flatnonzero(~np.isfinite(flat)):
        flat[i] = _incremental_mean(lines[i].tolist())
    return backend.asarray(host)


_ROW_COL = {
    "Sums": lambda xp, X, a: _with_infinities(xp, X, _narrow(xp.sum(_wide(X), axis=a, keepdims=True)), a),
    "Means": _means,
    "Vars": _var,
    "Sds": lambda xp, X, a: xp.sqrt(_var(xp, X, a)),
    "Maxs": lambda xp, X, a: xp.max(X, axis=a, keepdims=True),
    "Mins": lambda xp, X, a: xp.min(X, axis=a, keepdims=True),
    "Prods": lambda xp, X, a: _prods(xp, X, a),
}


def _prods(xp, X, axis):
    p = xp.prod(X, axis=axis, keepdims=True)
    if axis == 0:
        # SystemDS 3.4.0's colProds gives 0 for a column holding a NaN (rowProds and prod give NaN)
        p = xp.where(xp.any(xp.isnan(X), axis=0, keepdims=True), 0.0, p)
    return p


def _row_col(name, fn, axis):
    def aggregate_(X):
        matrix_argument(name, X)
        if X.shape[axis] == 0 and name[3:] in ("Maxs", "Mins"):
            raise DMLRuntimeError(f"{name}() of a matrix with no {'columns' if axis == 1 else 'rows'}")
        return fn(backend.xp, X, axis).astype(backend.dtype, copy=False)
    aggregate_.__name__ = name
    aggregate_.__doc__ = f"{name}(X): one value per {'row (n x 1)' if axis == 1 else 'column (1 x m)'}."
    return aggregate_


for _suffix, _fn in _ROW_COL.items():
    builtin("row" + _suffix)(_row_col("row" + _suffix, _fn, 1))
    builtin("col" + _suffix)(_row_col("col" + _suffix, _fn, 0))


def _row_index_extreme(name, X, want_max):
    """1-based column of the last extreme cell per row; NaN cells never win; all-NaN rows give 1."""
    xp = backend.xp
    matrix_argument(name, X)
    n, m = X.shape
    if m == 0:
        return xp.zeros((n, 1), dtype=backend.dtype)
    nan = xp.isnan(X)
    masked = xp.where(nan, -math.inf if want_max else math.inf, X)
    best = xp.max(masked, axis=1, keepdims=True) if want_max else xp.min(masked, axis=1, keepdims=True)
    hit = (X == best)                       # NaN cells never compare equal
    last = m - 1 - xp.argmax(hit[:, ::-1], axis=1)
    idx = xp.where(xp.any(hit, axis=1), last, 0)
    return (idx + 1).reshape(n, 1).astype(backend.dtype)


@builtin("rowIndexMax")
def row_index_max(X):
    """Column index (1-based) of each row's maximum; ties give the last such column."""
    return _row_index_extreme("rowIndexMax", X, True)


@builtin("rowIndexMin")
def row_index_min(X):
    """Column index (1-based) of each row's minimum; ties give the last such column."""
    return _row_index_extreme("rowIndexMin", X, False)


# ------------------------------------------------------------------- min / max

def _java_extreme(values, want_max):
    """Math.max/Math.min over Python numbers: NaN wins."""
    best = values[0]
    for v in values[1:]:
        if v != v or best != best:
            best = math.nan
        elif (v > best) if want_max else (v < best):
            best = v
    return best


def _min_max(name, args, want_max):
    xp = backend.xp
    if len(args) == 0:
        raise DMLRuntimeError(f"{name}() needs at least one argument")
    if len(args) == 1:
        X = args[0]
        if not is_matrix(X):
            raise DMLRuntimeError(f"{name}() of one argument needs a matrix, not {a_type_name(X)}")
        if X.size == 0:
            raise DMLRuntimeError(f"{name}() of an empty matrix")
        return float(backend.item(xp.max(X) if want_max else xp.min(X)))
    mats = [a for a in args if is_matrix(a)]
    for a in args:
        t = type(a)
        if not (is_matrix(a) or t is int or t is float or t is bool):
            raise DMLRuntimeError(f"{name}() is not defined for {a_type_name(a)} argument")
    if not mats:
        kinds = {type(a) for a in args}
        if bool in kinds and len(kinds) > 1:
            raise DMLRuntimeError(f"{name}(): cannot mix boolean and numeric arguments")
        best = _java_extreme(list(args), want_max)
        if kinds == {int}:
            return best
        return float(best)
    shape = mats[0].shape
    for M in mats[1:]:
        # as in cell-wise operators, a 1x1 matrix or a matching row/column vector broadcasts
        if not (M.shape == shape or M.shape == (1, 1) or M.shape == (1, shape[1]) or M.shape == (shape[0], 1)):
            raise DMLRuntimeError(f"{name}(): matrices of different shapes {shape[0]}x{shape[1]} "
                                  f"and {M.shape[0]}x{M.shape[1]}")
    fold = xp.maximum if want_max else xp.minimum        # both propagate NaN, like Math.max/min
    acc = None
    for a in args:
        v = a if is_matrix(a) else float(a)
        acc = v if acc is None else fold(acc, v)
    if acc.shape == shape and acc.dtype == backend.dtype:
        return acc                  # a fresh result of fold: no copy needed (ReLU's max(X, 0))
    return xp.broadcast_to(acc, shape).astype(backend.dtype)


@builtin("max", "pmax")
def max_(*args):
    """max(X): largest cell; max(a, b, ...): cell-wise maximum of matrices and scalars."""
    return _min_max("max", args, True)


@builtin("min", "pmin")
def min_(*args):
    """min(X): smallest cell; min(a, b, ...): cell-wise minimum of matrices and scalars."""
    return _min_max("min", args, False)


# ------------------------------------------------------------ full aggregates

@builtin("prod")
def prod(X):
    """The product of all cells; 0 where a cell is 0, even beside NaN or Infinity (SystemDS)."""
    r = float(backend.item(backend.xp.prod(matrix_argument("prod", X))))
    if r - r != 0.0 and backend.item(backend.xp.any(X == 0)):       # (only a non-finite product asks)
        return 0.0
    return r


@builtin("mean", "avg")
def mean(X, W=None):
    """mean(X): of all cells; mean(x, w): of a column vector weighted by another."""
    if W is not None:
        x = _column("mean", X)
        w = _wide(_weights("mean", x, W))
        xp = backend.xp
        return float(backend.item(xp.sum(w * _wide(x)) / xp.sum(w)))
    X = matrix_argument("mean", X)
    if X.size == 0:
        return math.nan
    r = float(backend.item(backend.xp.mean(_wide(X))))
    return r if r - r == 0.0 else _incremental_mean(np.asarray(backend.to_host(X), dtype=np.float64).ravel().tolist())


@builtin("var")
def var(X):
    """Sample variance of all cells (n-1 denominator; 0 for a single cell)."""
    X = matrix_argument("var", X)
    if X.size <= 1:
        return 0.0 if X.size else math.nan     # (0 for one cell, even NaN or Infinity, as SystemDS)
    return float(backend.item(backend.xp.var(_wide(X), ddof=1)))


@builtin("sd")
def sd(X):
    """Sample standard deviation of all cells."""
    v = var(X)
    return math.sqrt(v) if v >= 0 else math.nan


def _weights(name, x, W):
    w = _column(name, W, "weights")
    if w.shape[0] != x.shape[0]:
        raise DMLRuntimeError(f"{name}(): the weights have {w.shape[0]} rows but the data has {x.shape[0]}")
    return w


@builtin("moment", "centralMoment")
def moment(X, a, b=None):
    """moment(X, k) or moment(X, W, k): k-th central moment (k = 2, 3, 4), weighted by W.

    The divisor is the (weighted) count, not n-1."""
    xp = backend.xp
    x = _column("moment", X)
    if b is None:
        w, k = None, a
    else:
        w, k = _wide(_weights("moment", x, a)), b
    x = _wide(x)
    k = as_int(k, "moment's order")
    if k not in (2, 3, 4):
        raise DMLRuntimeError(f"moment(): the order must be 2, 3 or 4, not {k}")
    if w is None:
        dev = x - xp.mean(x)
        return float(backend.item(xp.mean(dev ** k)))
    total = xp.sum(w)
    dev = x - xp.sum(w * x) / total
    return float(backend.item(xp.sum(w * dev ** k) / total))


@builtin("cov")
def cov(X, Y, W=None):
    """Covariance of two column vectors (n-1 denominator; weighted: sum(W) - 1)."""
    xp = backend.xp
    x = _column("cov", X, "first argument")
    y = _column("cov", Y, "second argument")
    _same_length("cov", X, Y, "the second vector")
    x, y = _wide(x), _wide(y)
    if W is None:
        n = x.shape[0]
        return float(backend.item(xp.sum((x - xp.mean(x)) * (y - xp.mean(y))) / (n - 1))) if n > 1 else 0.0
    w = _wide(_weights("cov", x, W))
    total = xp.sum(w)
    mx = xp.sum(w * x) / total
    my = xp.sum(w * y) / total
    return float(backend.item(xp.sum(w * (x - mx) * (y - my)) / (total - 1)))


# ------------------------------------------------------------ order statistics

def _sorted_weighted(name, X, W):
    """Values sorted ascending (NaN last, stable) with their integer weights (None: unweighted)."""
    xp = backend.xp
    x = _column(name, X)
    if W is None:
        return xp.sort(x), None
    w = _weights(name, x, W)
    frac = w != xp.floor(w)
    if backend.item(xp.any(frac)):
        bad = float(backend.item(w[xp.argmax(frac)]))
        raise DMLRuntimeError(f"{name}(): weights must be integers, found {bad!r}")
    order = xp.argsort(x, kind="stable")
    return x[order], w[order]


def _pick_rows(name, X, W):
    """SystemDS's sorted (value, weight) rows for order statistics.

    Every non-zero value is its own row; all zeros share ONE row, weighted by their
    count (weight 0 when there are none), at zero's place in the order. This layout
    decides SystemDS's averaging, so median(c(0, 0, 3, 4)) is 0, not 1.5."""
    xp = backend.xp
    v, w = _sorted_weighted(name, X, W)
    if v.shape[0] == 0:
        raise DMLRuntimeError(f"{name}() of an empty vector")
    if w is None:
        w = xp.ones_like(v)
    zero = v == 0
    nz_v, nz_w = v[~zero], w[~zero]
    at = int(backend.item(xp.searchsorted(nz_v, 0.0, side="left")))          # negatives first; NaN stays last
    vals = xp.concatenate([nz_v[:at], xp.zeros(1, dtype=v.dtype), nz_v[at:]])
    wts = xp.concatenate([nz_w[:at], xp.sum(w[zero]).reshape(1), nz_w[at:]])
    return vals, wts


def _pick(v, w, q: float, average: bool) -> float:
    """SystemDS's value pick at quantile q on the rows of _pick_rows.

    pos = ceil(q * total weight); the row is the first whose cumulative weight
    reaches pos. With `average` and an even total weight, the value is averaged
    with the next non-empty row's when pos is that row's last position and
    pos < rows - 1."""
    xp = backend.xp
    rows = int(v.shape[0])
    cum = xp.cumsum(w)
    total = float(backend.item(cum[-1]))
    pos = int(math.ceil(q * total))
    i = min(int(backend.item(xp.searchsorted(cum, pos, side="left"))), rows - 1)
    if backend.item(w[i]) == 0:                    # the empty zero row, reached only at pos 0
        return float(backend.item(v[i + 1] if i + 1 < rows else v[i - 1]))
    if average and total % 2 == 0 and pos < rows - 1 and not pos < backend.item(cum[i]):
        nxt = i + 1 if backend.item(w[i + 1]) != 0 else i + 2
        return float(backend.item((v[i] + v[nxt]) / 2))
    return float(backend.item(v[i]))


def _picks(v, w, P):
    """Plain picks (no averaging) for a vector of quantiles, vectorised."""
    xp = backend.xp
    rows = int(v.shape[0])
    cum = xp.cumsum(w)
    pos = xp.ceil(P.reshape(-1) * cum[-1])
    i = xp.minimum(xp.searchsorted(cum, pos, side="left"), rows - 1)
    empty = w[i] == 0
    i = xp.where(empty, xp.where(i + 1 < rows, i + 1, i - 1), i)
    return v[i].reshape(-1, 1).astype(backend.dtype)


@builtin("median")
def median(X, W=None):
    """Median of a column vector (optionally weighted); an even count averages the middle pair."""
    v, w = _pick_rows("median", X, W)
    return _pick(v, w, 0.5, True)


@builtin("quantile")
def quantile(X, a, b=None):
    """quantile(X, p), quantile(X, W, p): p a scalar (averaged pick) or a column of
    probabilities (a column of plain picks)."""
    W, P = (None, a) if b is None else (a, b)
    v, w = _pick_rows("quantile", X, W)
    if is_matrix(P):
        if P.shape[1] != 1:         # (as SystemDS: a row of probabilities is an error too)
            raise DMLRuntimeError(f"quantile(): several quantiles need a column vector of probabilities, "
                                  f"not a {P.shape[0]}x{P.shape[1]} matrix")
        return _picks(v, w, P)
    q = as_float(P, "quantile's p")
    if not 0 <= q <= 1:
        raise DMLRuntimeError(f"quantile(): p must be in [0, 1], not {q}")
    return _pick(v, w, q, True)


@builtin("interQuartileMean")
def inter_quartile_mean(X, W=None):
    """Mean of the values between the 25% and 75% positions, counting the boundary
    values by the fraction of their weight that lies inside."""
    xp = backend.xp
    v, w = _sorted_weighted("interQuartileMean", X, W)
    v = _wide(v)
    w = xp.ones_like(v) if w is None else _wide(w)
    total = float(backend.item(xp.sum(w)))
    if total == 0:
        return math.nan
    hi = xp.cumsum(w)
    lo = hi - w
    inside = xp.clip(xp.minimum(hi, 0.75 * total) - xp.maximum(lo, 0.25 * total), 0, None)
    return float(backend.item(xp.sum(xp.where(inside > 0, inside * v, 0.0)) / (0.5 * total)))


# ------------------------------------------------------------ cumulative aggregates

def _cumulative(name, fn):
    def cumulative(X):
        return fn(backend.xp, matrix_argument(name, X)).astype(backend.dtype, copy=False)
    cumulative.__name__ = name
    cumulative.__doc__ = f"{name}(X): column-wise prefix aggregate (NaN propagates)."
    return cumulative


def _cumsum(xp, X, axis):
    """Running sums; where infinities meet, as SystemDS's Kahan sum gives them (an infinite value
    replaces the running sum, which later finite or NaN values leave as it is)."""
    C = xp.cumsum(X, axis=axis)
    if _all_finite(xp, C):
        return C
    host = np.array(backend.to_host(C), dtype=np.float64)
    cells = np.asarray(backend.to_host(X), dtype=np.float64)
    lines, out = (cells.T, host.T) if axis == 0 else (cells, host)
    for i in np.flatnonzero(~np.all(np.isfinite(out), axis=1)):
        s = 0.0
        for k, x in enumerate(lines[i].tolist()):
            if math.isinf(x):
                s = x
            elif not math.isinf(s):
                s = s + x
            out[i, k] = s
    return backend.asarray(host)


builtin("cumsum")(_cumulative("cumsum", lambda xp, X: _cumsum(xp, X, 0)))
builtin("cumprod")(_cumulative("cumprod", lambda xp, X: xp.cumprod(X, axis=0)))
builtin("cummin")(_cumulative("cummin", lambda xp, X: _accumulate(xp, X, xp.minimum)))
builtin("cummax")(_cumulative("cummax", lambda xp, X: _accumulate(xp, X, xp.maximum)))
builtin("rowcumsum")(_cumulative("rowcumsum", lambda xp, X: _cumsum(xp, X, 1)))


def _accumulate(xp, X, ufunc):
    if hasattr(ufunc, "accumulate"):
        try:
            return ufunc.accumulate(X, axis=0)
        except Exception:       # CuPy versions without accumulate for this ufunc
            pass
    # fallback (backends without ufunc.accumulate): doubling scan, log2(n) vectorised steps
    out = X.copy()
    step = 1
    while step < out.shape[0]:
        out[step:] = ufunc(out[step:], out[:-step])
        step *= 2
    return out


@builtin("cumsumprod")
def cumsumprod(X):
    """Y[i] = X[i,1] + X[i,2] * Y[i-1] with Y[0] = 0, for a two-column X."""
    xp = backend.xp
    X = matrix_argument("cumsumprod", X)
    if X.shape[1] != 2:
        raise DMLRuntimeError(f"cumsumprod() needs a two-column matrix, not {X.shape[0]}x{X.shape[1]}")
    a, c = X[:, 0].copy(), X[:, 1].copy()
    # a linear recurrence composes associatively: (a1, c1) then (a2, c2) is (a2 + c2*a1, c1*c2)
    step = 1
    n = a.shape[0]
    while step < n:
        a_new = a[step:] + c[step:] * a[:-step]
        c_new = c[step:] * c[:-step]
        a[step:], c[step:] = a_new, c_new
        step *= 2
    return a.reshape(n, 1).astype(backend.dtype)


# ------------------------------------------------------------ grouped aggregate

_GROUP_FNS = ("count", "sum", "mean", "variance", "centralmoment", "min", "max")


@builtin("aggregate", "groupedAggregate")
def aggregate(target, groups, fn, weights=None, ngroups=None, order=None):
    """Per-group statistic of target's values, grouped by the positive integer ids in
    `groups` (truncated toward zero). Row k of the result is group k; groups without
    values give 0 (NaN for centralmoment). Weighted: count = sum of weights, sum/min/max
    of value*weight, weighted mean, variance with sum(weights) - 1 (count rounds a
    weight sum over several values, as SystemDS does)."""
    xp = backend.xp
    X = matrix_argument("aggregate", target, "target")
    G = matrix_argument("aggregate", groups, "groups")
    fn = str(fn).lower()
    if fn not in _GROUP_FNS:
        raise DMLRuntimeError(f"aggregate(): unknown fn '{fn}' (one of {', '.join(_GROUP_FNS)})")
    if G.size != X.shape[0] or min(G.shape) != 1:
        raise DMLRuntimeError(f"aggregate(): groups must be a vector with one id per target row "
                              f"({X.shape[0]}), not {G.shape[0]}x{G.shape[1]}")
    if X.shape[1] != 1 and (ngroups is None or weights is not None):
        raise DMLRuntimeError("aggregate(): a target with several columns needs ngroups and no weights")
    g = G.reshape(-1)
    if backend.item(xp.any(xp.isnan(g) | (g < 1))):
        bad = float(backend.item(g[xp.argmax(xp.isnan(g) | (g < 1))]))
        raise DMLRuntimeError(f"aggregate(): invalid group id {bad!r} (ids are positive integers)")
    gi = xp.trunc(g).astype(xp.int64) - 1
    if weights is None:
        w = xp.ones((X.shape[0], 1), dtype=backend.dtype)
    else:
        w = matrix_argument("aggregate", weights, "weights").reshape(-1, 1)
        if w.shape[0] != X.shape[0]:
            raise DMLRuntimeError(f"aggregate(): weights have {w.shape[0]} cells but target has {X.shape[0]} rows")
    if ngroups is None:
        k = int(backend.item(xp.max(gi))) + 1 if gi.size else 0
    else:
        k = as_int(ngroups, "ngroups")
        keep = gi < k
        X, gi, w = X[keep], gi[keep], w[keep]
    n, m = X.shape
    cells = (gi[:, None] * m + xp.arange(m)[None, :]).ravel()      # group-major cell ids

    def per_group(values):
        return xp.bincount(cells, weights=xp.broadcast_to(values, (n, m)).ravel(),
                           minlength=k * m).reshape(k, m)

    if fn in ("min", "max"):
        return _group_extreme(xp, X * w, gi, k, fn == "max")
    count = per_group(w)
    if fn == "count":
        if weights is None:
            return count.astype(backend.dtype)
        # SystemDS rounds the running weight after each further value (Math.round), so a
        # group of several values reports a rounded weight sum; one value keeps its weight
        many = per_group(xp.ones_like(w)) > 1
        return xp.where(many, xp.floor(count + 0.5), count).astype(backend.dtype)
    total = per_group(w * X)
    if fn == "sum":
        return total.astype(backend.dtype)
    has = count != 0
    safe = xp.where(has, count, 1.0)
    mean_ = total / safe
    if fn == "mean":
        return xp.where(has, mean_, 0.0).astype(backend.dtype)
    dev = X - mean_[gi]
    if fn == "variance":
        m2 = per_group(w * dev * dev)
        var_ = xp.where(count > 1, m2 / xp.where(count > 1, count - 1, 1.0), 0.0)
        return xp.where(has, var_, 0.0).astype(backend.dtype)
    if order is None:
        raise DMLRuntimeError("aggregate(): fn='centralmoment' needs an order (2, 3 or 4)")
    kth = as_int(order, "order")
    if kth not in (2, 3, 4):
        raise DMLRuntimeError(f"aggregate(): the central moment order must be 2, 3 or 4, not {kth}")
    mk = per_group(w * dev ** kth) / safe
    return xp.where(has, mk, math.nan).astype(backend.dtype)


def _group_extreme(xp, V, gi, k, want_max):
    """Per-group min/max of V's columns: sort each column's values within groups, take an end."""
    n, m = V.shape
    out = xp.zeros((k, m), dtype=backend.dtype)
    if n == 0:
        return out
    for j in range(m):                       # columns only: each is one vectorised sort
        col = V[:, j]
        order = xp.lexsort(xp.stack([-col if want_max else col, gi]))
        gs = gi[order]
        first = xp.ones(n, dtype=bool)
        first[1:] = gs[1:] != gs[:-1]
        out[gs[first], j] = col[order][first]
    return out


# ------------------------------------------------------------ distinct values, contains

def _distinct_along(xp, X, axis):
    """Number of distinct values along an axis, NaN counting as one value."""
    s = xp.sort(X, axis=axis)
    if s.shape[axis] == 0:
        return xp.zeros(s.sum(axis=axis, keepdims=True).shape, dtype=backend.dtype)
    a = xp.take(s, xp.arange(1, s.shape[axis]), axis=axis)
    b = xp.take(s, xp.arange(0, s.shape[axis] - 1), axis=axis)
    new = (a != b) & ~(xp.isnan(a) & xp.isnan(b))
    return (1 + xp.sum(new, axis=axis, keepdims=True)).astype(backend.dtype)


@builtin("countDistinct")
def count_distinct(X):
    X = matrix_argument("countDistinct", X)
    return int(backend.item(_distinct_along(backend.xp, X.reshape(1, -1), 1)[0, 0])) if X.size else 0


@builtin("rowCountDistinct")
def row_count_distinct(X):
    return _distinct_along(backend.xp, matrix_argument("rowCountDistinct", X), 1)


@builtin("colCountDistinct")
def col_count_distinct(X):
    return _distinct_along(backend.xp, matrix_argument("colCountDistinct", X), 0)


@builtin("contains")
def contains(target, pattern):
    """TRUE if any cell equals pattern (NaN finds NaN)."""
    xp = backend.xp
    X = matrix_argument("contains", target, "target")
    p = as_float(pattern, "pattern")
    if p != p:
        return bool(backend.item(xp.any(xp.isnan(X))))
    return bool(backend.item(xp.any(X == p)))
