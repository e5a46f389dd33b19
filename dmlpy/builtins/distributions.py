"""Probability distribution builtins: cdf/icdf and pnorm, qnorm, pexp, qexp,
pchisq, qchisq, pf, qf, pt, qt.

SystemDS takes the distribution parameters by name (target=, mean=, sd=, rate=,
df=, df1=, df2=, lower.tail=) and ignores names it does not know, so these
builtins take ``**params`` besides target and lower.tail. Targets are scalars. The special functions
(incomplete gamma and beta, the normal quantile) are written here so that the
runtime needs nothing beyond NumPy; they are accurate to about 1e-14, and the
inverses are refined until the bracket is as tight as doubles allow.

Where SystemDS 3.4.0 is less accurate than that (it computes the normal cdf as
0.5*(1+erf(z)), so pnorm(-10) is 0.0; qnorm goes through erfInv(2p-1), so it
returns -Infinity for p below ~1e-17; its chisq/t/F quantiles are solved to an
absolute 1e-9), these functions return the accurate value instead.
"""
from __future__ import annotations

import math
import numbers

from .registry import builtin
from ..errors import DMLRuntimeError
from ..javadouble import java_double

_EPS = 2.220446049250313e-16
_TINY = 1e-300
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# ------------------------------------------------------- special functions

def _gamma_series(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x) by its power series (x < a + 1)."""
    term = 1.0 / a
    total = term
    ap = a
    for _ in range(100000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * 1e-17:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_cfrac(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) by Lentz's continued fraction (x >= a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-17:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def gamma_p(a: float, x: float) -> float:
    """Regularized lower incomplete gamma function P(a, x)."""
    if math.isnan(x) or math.isnan(a):
        return math.nan
    if x <= 0.0:
        return 0.0
    if math.isinf(x):
        return 1.0
    if x < a + 1.0:
        return _gamma_series(a, x)
    return 1.0 - _gamma_cfrac(a, x)


def gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), without cancellation."""
    if math.isnan(x) or math.isnan(a):
        return math.nan
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return 1.0 - _gamma_series(a, x)
    return _gamma_cfrac(a, x)


def _beta_cfrac(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1.0 / d
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < _TINY:
            d = _TINY
        c = 1.0 + aa / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-17:
            break
    return h


def _stirling_correction(x: float) -> float:
    """lgamma(x) - ((x - 0.5) log x - x + log sqrt(2 pi)) for x >= 10, by the Stirling series."""
    x2 = 1.0 / (x * x)
    return (1.0 / 12.0 - x2 * (1.0 / 360.0 - x2 * (1.0 / 1260.0 - x2 * (1.0 / 1680.0 - x2 * (1.0 / 1188.0))))) / x


def _log_beta(a: float, b: float) -> float:
    """log B(a, b), without the cancellation of lgamma differences when a or b is large."""
    p, q = min(a, b), max(a, b)
    if p >= 10.0:
        corr = _stirling_correction(p) + _stirling_correction(q) - _stirling_correction(p + q)
        return (-0.5 * math.log(q) + _LOG_SQRT_2PI + corr + (p - 0.5) * math.log(p / (p + q))
                + q * math.log1p(-p / (p + q)))
    if q >= 10.0:
        corr = _stirling_correction(q) - _stirling_correction(p + q)
        return (math.lgamma(p) + corr + p - p * math.log(p + q) + (q - 0.5) * math.log1p(-p / (p + q)))
    return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)


def beta_inc(a: float, b: float, x: float, upper: bool = False, xc: float | None = None) -> float:
    """Regularized incomplete beta I_x(a, b), or 1 - I_x(a, b) when ``upper``, both without
    cancellation. ``xc`` is 1 - x when the caller has it more accurately than 1.0 - x."""
    if math.isnan(x):
        return math.nan
    if xc is None:
        xc = 1.0 - x
    if x <= 0.0:
        return 1.0 if upper else 0.0
    if xc <= 0.0:
        return 0.0 if upper else 1.0
    front = math.exp(a * math.log(x) + b * math.log(xc) - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        lower_value = front * _beta_cfrac(a, b, x) / a
        return 1.0 - lower_value if upper else lower_value
    upper_value = front * _beta_cfrac(b, a, xc) / b
    return upper_value if upper else 1.0 - upper_value


def _solve_monotone(f, dfdx, p: float, lo: float, hi: float, x0: float) -> float:
    """The x in [lo, hi] with f(x) = p for an increasing f: Newton steps kept inside a
    shrinking bracket, bisection when a step leaves it, until the bracket cannot shrink."""
    x = min(max(x0, lo), hi)
    for _ in range(2000):
        fx = f(x) - p
        if fx == 0.0:
            return x
        if fx < 0.0:
            lo = x
        else:
            hi = x
        d = dfdx(x)
        step_ok = False
        if d > 0.0 and math.isfinite(d):
            xn = x - fx / d
            if lo < xn < hi and xn != x:
                step_ok = True
        if not step_ok:
            if math.isinf(hi):
                xn = max(2.0 * x, x + 1.0) if x > 0 else 1.0
            elif math.isinf(lo):
                xn = min(2.0 * x, x - 1.0) if x < 0 else -1.0
            else:
                xn = lo + 0.5 * (hi - lo)
                if xn in (lo, hi):
                    return x
        if abs(xn - x) <= 4 * _EPS * abs(xn) or xn == x:
            return xn
        x = xn
    return x


# ----------------------------------------------------------- distributions

def normal_cdf(x: float, mean: float = 0.0, sd: float = 1.0, lower: bool = True) -> float:
    z = (x - mean) / sd
    return 0.5 * math.erfc(-z / _SQRT2) if lower else 0.5 * math.erfc(z / _SQRT2)


def _std_normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z - _LOG_SQRT_2PI)


def std_normal_quantile(p: float) -> float:
    """Phi^-1(p): a rational start (Abramowitz-Stegun 26.2.23), then Halley steps on erfc."""
    if math.isnan(p):
        return math.nan
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    if p > 0.5:
        return -std_normal_quantile(1.0 - p)      # 1 - p is exact for p in [0.5, 1]
    if p == 0.5:
        return 0.0
    t = math.sqrt(-2.0 * math.log(p))
    z = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t)
          / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3))
    for _ in range(50):
        err = 0.5 * math.erfc(-z / _SQRT2) - p
        pdf = _std_normal_pdf(z)
        if pdf == 0.0:
            break
        u = err / pdf
        step = u / (1.0 + 0.5 * z * u)            # Halley: pdf'/pdf = -z
        z -= step
        if abs(step) <= 1e-16 * max(1.0, abs(z)):
            break
    return z


def normal_quantile(p: float, mean: float = 0.0, sd: float = 1.0) -> float:
    return mean + sd * std_normal_quantile(p)


def exp_cdf(x: float, rate: float = 1.0, lower: bool = True) -> float:
    if math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 0.0 if lower else 1.0
    return -math.expm1(-rate * x) if lower else math.exp(-rate * x)


def exp_quantile(p: float, rate: float = 1.0) -> float:
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return math.inf
    return -math.log1p(-p) / rate


def chisq_cdf(x: float, df: float, lower: bool = True) -> float:
    if math.isnan(x):
        return math.nan
    return gamma_p(df / 2.0, x / 2.0) if lower else gamma_q(df / 2.0, x / 2.0)


def _chisq_pdf(x: float, df: float) -> float:
    if x <= 0.0:
        return 0.0
    k = df / 2.0
    return math.exp((k - 1.0) * math.log(x) - x / 2.0 - k * math.log(2.0) - math.lgamma(k))


def chisq_quantile(p: float, df: float) -> float:
    if math.isnan(p):
        return math.nan
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return math.inf
    # Wilson-Hilferty start
    z = std_normal_quantile(p)
    h = 2.0 / (9.0 * df)
    x0 = df * (1.0 - h + z * math.sqrt(h)) ** 3
    if not (x0 > 0.0) or not math.isfinite(x0):
        x0 = df
    if p < 0.5:   # near 0 the lower tail is cheaper and more accurate
        return _solve_monotone(lambda x: chisq_cdf(x, df), lambda x: _chisq_pdf(x, df), p, 0.0, math.inf, x0)
    q = 1.0 - p
    return _solve_monotone(lambda x: -chisq_cdf(x, df, lower=False), lambda x: _chisq_pdf(x, df),
                           -q, 0.0, math.inf, x0)


def t_cdf(x: float, df: float, lower: bool = True) -> float:
    if math.isnan(x):
        return math.nan
    if x == 0.0:
        return 0.5
    if math.isinf(x):
        below = 0.0 if x > 0 else 1.0
        return 1.0 - below if lower else below
    if df == 1:                          # Cauchy: exact in both tails
        tail = math.atan2(1.0, abs(x)) / math.pi
        below = tail if x < 0 else 1.0 - tail
        return below if lower else (1.0 - tail if x < 0 else tail)
    # the tail mass beyond |x|, halved: 0.5 * I_y(df/2, 1/2) with y = df / (df + x^2)
    ax = abs(x)
    if ax > 1e150:                       # x^2 would overflow
        y, yc = (df / ax) / ax, 1.0
    else:
        y, yc = df / (df + ax * ax), ax * ax / (df + ax * ax)
    tail = 0.5 * beta_inc(df / 2.0, 0.5, y, xc=yc)
    below = tail if x < 0 else 1.0 - tail     # P[T <= x]
    if lower:
        return below
    return 1.0 - tail if x < 0 else tail


def _t_pdf(x: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(x * x / df))


def t_quantile(p: float, df: float) -> float:
    if math.isnan(p):
        return math.nan
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    if p == 0.5:
        return 0.0
    if p > 0.5:
        return -t_quantile(1.0 - p, df)
    if df == 1:
        return -1.0 / math.tan(math.pi * p)        # Cauchy, without rounding p - 0.5
    z = std_normal_quantile(p)
    x0 = z * (1.0 + (z * z + 1.0) / (4.0 * df))
    return _solve_monotone(lambda x: t_cdf(x, df), lambda x: _t_pdf(x, df), p, -math.inf, 0.0, min(x0, -1e-300))


def f_cdf(x: float, df1: float, df2: float, lower: bool = True) -> float:
    if math.isnan(x):
        return math.nan
    if x <= 0.0:
        return 0.0 if lower else 1.0
    if math.isinf(x):
        return 1.0 if lower else 0.0
    s = df1 * x + df2
    return beta_inc(df1 / 2.0, df2 / 2.0, df1 * x / s, upper=not lower, xc=df2 / s)


def _f_pdf(x: float, df1: float, df2: float) -> float:
    if x <= 0.0:
        return 0.0
    a, b = df1 / 2.0, df2 / 2.0
    log_s = math.log(df1 * x + df2)
    return math.exp(a * (math.log(df1) + math.log(x) - log_s) + b * (math.log(df2) - log_s)
                    - math.log(x) - _log_beta(a, b))


def f_quantile(p: float, df1: float, df2: float) -> float:
    if math.isnan(p):
        return math.nan
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return math.inf
    x0 = df2 / (df2 - 2.0) if df2 > 2 else 1.0
    if p <= 0.5:
        return _solve_monotone(lambda x: f_cdf(x, df1, df2), lambda x: _f_pdf(x, df1, df2), p, 0.0, math.inf, x0)
    q = 1.0 - p
    return _solve_monotone(lambda x: -f_cdf(x, df1, df2, lower=False), lambda x: _f_pdf(x, df1, df2),
                           -q, 0.0, math.inf, x0)


# ------------------------------------------------------ the DML builtins

def _number(value, name: str) -> float:
    """A distribution argument as a double: numbers and numeric strings (as SystemDS parses them)."""
    if isinstance(value, bool):
        raise DMLRuntimeError(f'{name} must be a number: NumberFormatException -- For input string: "{str(value).lower()}"')
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise DMLRuntimeError(f'{name} must be a number: NumberFormatException -- For input string: "{value}"') from None
    raise DMLRuntimeError(f"{name} of a distribution function must be a scalar number")


def _degrees(value, name: str) -> int:
    """Degrees of freedom are Java ints in SystemDS: the double is truncated toward zero, and
    NaN and numbers beyond the int range cast as Java casts them (0, and the nearest bound)."""
    v = _number(value, name)
    if math.isnan(v):
        return 0
    return int(min(max(v, -2.0 ** 31), 2.0 ** 31 - 1))


def _lower_tail(params) -> bool:
    """lower.tail as SystemDS reads it: TRUE, or a string equal to "true" ignoring case; anything else is FALSE."""
    v = params.get("lower.tail", params.get("lower_tail", True))
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.strip().lower() == "true"
    return False


def _target(params) -> float:
    t = params.get("target")
    if t is None or not isinstance(t, (bool, numbers.Real, str)):
        raise DMLRuntimeError("target must be provided for distribution functions, and it must be a scalar value.")
    return _number(t, "target")


def _check_probability(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise DMLRuntimeError(f"OutOfRangeException -- {_message_number(p)} out of [0, 1] range")


def _message_number(x: float) -> str:
    """A double as Java's MessageFormat prints it (#,##0.###, half-even): 1.3, -0.1, 1,234.5."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    from decimal import Context, Decimal, ROUND_HALF_EVEN
    q = Decimal(repr(x)).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN, context=Context(prec=400))
    s = f"{q:,f}".rstrip("0").rstrip(".")
    return "-0" if s in ("-0", "-0.") else s


def _normal_params(params):
    mean = _number(params.get("mean", 0.0), "mean")
    sd = _number(params.get("sd", 1.0), "sd")
    if not sd > 0.0:
        raise DMLRuntimeError(f"Standard deviation for Normal distribution must be positive ({java_double(sd)})")
    return mean, sd


def _exp_rate(params):
    rate = _number(params.get("rate", 1.0), "rate")
    if not rate > 0.0:
        raise DMLRuntimeError(f"Rate for Exponential distribution must be positive ({java_double(rate)})")
    return rate


def _chisq_df(params):
    if "df" not in params:
        raise DMLRuntimeError("Degrees of freedom df must be provided for chi-squared-distribution.")
    df = _degrees(params["df"], "df")
    if df <= 0:
        raise DMLRuntimeError(f"Degrees of Freedom for chi-squared distribution must be positive ({df})")
    return df


def _t_df(params):
    if "df" not in params:
        raise DMLRuntimeError("Degrees of freedom is needed to compute probabilities from t distribution "
                              "(e.g., q = qt(target=0.5, df=10); p = pt(target=q, df=10))")
    df = _degrees(params["df"], "df")
    if df <= 0:
        raise DMLRuntimeError(f"Degrees of Freedom for t distribution must be positive ({df})")
    return df


def _f_dfs(params):
    if "df1" not in params or "df2" not in params:
        raise DMLRuntimeError("Degrees of freedom must be specified for F distribution "
                              "(e.g., q = qf(target=0.5, df1=20, df2=30); p=pf(target=q, df1=20, df2=30))")
    df1, df2 = _degrees(params["df1"], "df1"), _degrees(params["df2"], "df2")
    if df1 <= 0 or df2 <= 0:
        raise DMLRuntimeError(f"Degrees of Freedom for F distribution must be positive ({df1},{df2})")
    return df1, df2


_DISTS = ("normal", "exp", "chisq", "f", "t")


def _cdf(dist: str, params) -> float:
    q = _target(params)
    lower = _lower_tail(params)
    if dist == "normal":
        mean, sd = _normal_params(params)
        return normal_cdf(q, mean, sd, lower)
    if dist == "exp":
        return exp_cdf(q, _exp_rate(params), lower)
    if dist == "chisq":
        return chisq_cdf(q, _chisq_df(params), lower)
    if dist == "t":
        return t_cdf(q, _t_df(params), lower)
    if dist == "f":
        df1, df2 = _f_dfs(params)
        return f_cdf(q, df1, df2, lower)
    raise DMLRuntimeError(f"unknown distribution '{dist}' (valid: {', '.join(_DISTS)})")


def _icdf(dist: str, params) -> float:
    if "lower.tail" in params or "lower_tail" in params:
        raise DMLRuntimeError("Lower tail argument is invalid while computing inverse cumulative probabilities.")
    p = _target(params)
    if dist == "normal":
        mean, sd = _normal_params(params)
        _check_probability(p)
        return normal_quantile(p, mean, sd)
    if dist == "exp":
        rate = _exp_rate(params)
        _check_probability(p)
        return exp_quantile(p, rate)
    if dist == "chisq":
        df = _chisq_df(params)
        _check_probability(p)
        return chisq_quantile(p, df)
    if dist == "t":
        df = _t_df(params)
        _check_probability(p)
        return t_quantile(p, df)
    if dist == "f":
        df1, df2 = _f_dfs(params)
        _check_probability(p)
        return f_quantile(p, df1, df2)
    raise DMLRuntimeError(f"unknown distribution '{dist}' (valid: {', '.join(_DISTS)})")


def _dist_name(params) -> str:
    dist = params.get("dist")
    if not isinstance(dist, str):
        raise DMLRuntimeError("For cdf() and icdf(), a distribution function must be specified (as a string).")
    return dist


def _collect(params, target, lower_tail, dist=None):
    """One dict of the call's arguments, as SystemDS sees its parameter map."""
    params = dict(params)
    if target is not None:
        params["target"] = target
    if lower_tail is not None:
        params["lower.tail"] = lower_tail
    if dist is not None:
        params["dist"] = dist
    return params


@builtin("cdf")
def cdf(target=None, dist=None, lower_tail=None, **params):
    """P[X <= target] (or P[X > target] with lower.tail=FALSE) for dist normal, exp, chisq, f or t."""
    params = _collect(params, target, lower_tail, dist)
    return _cdf(_dist_name(params), params)


@builtin("icdf")
def icdf(target=None, dist=None, lower_tail=None, **params):
    """The quantile q with P[X <= q] = target for dist normal, exp, chisq, f or t."""
    params = _collect(params, target, lower_tail, dist)
    return _icdf(_dist_name(params), params)


def _named(kind: str, dist: str):
    def func(target=None, lower_tail=None, **params):
        params = _collect(params, target, lower_tail)
        return _cdf(dist, params) if kind == "p" else _icdf(dist, params)
    func.__name__ = f"{kind}{dist}"
    func.__doc__ = (f"cdf(dist=\"{dist}\", ...)" if kind == "p" else f"icdf(dist=\"{dist}\", ...)")
    return func


for _kind in ("p", "q"):
    for _short, _dist in (("norm", "normal"), ("exp", "exp"), ("chisq", "chisq"), ("f", "f"), ("t", "t")):
        builtin(f"{_kind}{_short}")(_named(_kind, _dist))
