"""Matrix builtins (construct, aggregate, elementwise) against SystemDS 3.4.0 recordings.

The recordings in tests/data/builtins_matrix/*.json were made by record.py there:
every script also records its inputs (keys in_*), so each test feeds dmlpy the very
values SystemDS computed on and compares with SystemDS's results. No Java needed.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import dmlpy.builtins  # noqa: F401  (registers every family)
from dmlpy.builtins import aggregate, construct, elementwise  # noqa: F401
from dmlpy.builtins.registry import REGISTRY
from dmlpy.errors import DMLRuntimeError

DATA = Path(__file__).parent / "data" / "builtins_matrix"


@lru_cache(maxsize=None)
def recording(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


def values(name: str) -> dict:
    rec = recording(name)
    assert not rec["fails"], rec["error"]
    return rec["values"]


def mat(name: str, key: str) -> np.ndarray:
    v = values(name)[key]
    return np.array([float(c) for c in v["cells"]], dtype=np.float64).reshape(v["rows"], v["cols"])


def scalar(name: str, key: str):
    """A recorded scalar as the dmlpy value it stands for (DML prints doubles with a '.' or E)."""
    text = values(name)[key]["scalar"]
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return float(text)


def call(name, *args, **kwargs):
    return REGISTRY[name].func(*args, **kwargs)


def assert_matrix(got, expected, rtol=0.0, signed_zero=False):
    assert isinstance(got, np.ndarray) and got.dtype == np.float64, type(got)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    if rtol:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-300, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, expected)
    if signed_zero:
        real = ~np.isnan(expected)
        np.testing.assert_array_equal(np.signbit(got[real]), np.signbit(expected[real]))


def assert_scalar(got, expected, rtol=0.0):
    assert type(got) is type(expected), (got, expected)
    if type(expected) is float:
        if math.isnan(expected):
            assert math.isnan(got)
        elif rtol:
            assert got == pytest.approx(expected, rel=rtol)
        else:
            assert got == expected and math.copysign(1, got) == math.copysign(1, expected)
    else:
        assert got == expected


class FakeContext:
    """The one context method sample() uses."""
    def rng(self, seed):
        return np.random.default_rng(None if seed is None or seed < 0 else seed)


# =============================================================== elementwise

EXACT_MATH = {"round": "round", "floor": "floor", "ceil": "ceil", "ceiling": "ceiling", "sign": "sign",
              "abs": "abs", "is_na": "is.na", "is_nan": "isNaN", "is_infinite": "is.infinite",
              "isInf": "isInf"}
APPROX_MATH = {"sqrt": ("sqrt", 1), "exp": ("exp", 1), "log": ("log", 1), "sin": ("sin", 1),
               "cos": ("cos", 1), "tan": ("tan", 1), "atan": ("atan", 1), "tanh": ("tanh", 1),
               "sigmoid": ("sigmoid", 1), "asin": ("asin", 4), "acos": ("acos", 4),
               "sinh": ("sinh", 100), "cosh": ("cosh", 100)}


@pytest.mark.parametrize("key", sorted(EXACT_MATH))
def test_math_exact_on_special_values(key):
    X = mat("elementwise_math", "in_X")
    assert_matrix(call(EXACT_MATH[key], X), mat("elementwise_math", key), signed_zero=True)


@pytest.mark.parametrize("key", sorted(APPROX_MATH))
def test_math_functions_on_special_values(key):
    name, scale = APPROX_MATH[key]
    X = mat("elementwise_math", "in_X")
    assert_matrix(call(name, X / scale), mat("elementwise_math", key), rtol=1e-15)


def test_log_with_base():
    X = mat("elementwise_math", "in_X")
    assert_matrix(call("log", X, 2), mat("elementwise_math", "log_2"), rtol=1e-15)
    assert_matrix(call("log", X, 0.5), mat("elementwise_math", "log_half"), rtol=1e-15)


def test_log_base_forms():
    rec = "elementwise_log"
    X, B = mat(rec, "in_X"), mat(rec, "in_B")
    assert_matrix(call("log", X, 2), mat(rec, "log_X_2"), rtol=1e-15, signed_zero=True)
    assert_matrix(call("log", X, 0), mat(rec, "log_X_0"), rtol=1e-15, signed_zero=True)
    assert_matrix(call("log", X, B), mat(rec, "log_X_B"), rtol=1e-15)
    assert_matrix(call("log", 2, X), mat(rec, "log_2_X"), rtol=1e-15)
    assert_scalar(call("log", 0.0, 2), scalar(rec, "log_0_2"))
    assert_scalar(call("log", 2, 0.0), scalar(rec, "log_2_0"))


def test_math_inputs_are_not_modified():
    X = mat("elementwise_math", "in_X")
    before = X.copy()
    for name in ("round", "abs", "sign", "sqrt", "is.na", "sigmoid"):
        call(name, X)
    np.testing.assert_array_equal(X, before)


SCALAR_MATH = [  # (recorded key, builtin, argument built from the recorded d (double), i (int), b (bool))
    ("round_d", "round", lambda d, i, b: d), ("round_nd", "round", lambda d, i, b: -d),
    ("round_i", "round", lambda d, i, b: i), ("round_b", "round", lambda d, i, b: b),
    ("round_nan", "round", lambda d, i, b: math.nan), ("round_inf", "round", lambda d, i, b: math.inf),
    ("abs_i", "abs", lambda d, i, b: -i), ("abs_d", "abs", lambda d, i, b: -d),
    ("sign_i", "sign", lambda d, i, b: i), ("sign_negzero", "sign", lambda d, i, b: -0.0),
    ("floor_i", "floor", lambda d, i, b: i), ("floor_d", "floor", lambda d, i, b: d),
    ("ceil_d", "ceil", lambda d, i, b: -d / 5), ("ceiling_i", "ceiling", lambda d, i, b: i),
    ("sqrt_i", "sqrt", lambda d, i, b: -i), ("sqrt_neg", "sqrt", lambda d, i, b: i),
    ("exp_i", "exp", lambda d, i, b: i), ("exp_b", "exp", lambda d, i, b: b),
    ("log_d", "log", lambda d, i, b: d), ("log_zero", "log", lambda d, i, b: 0.0),
    ("sin_i", "sin", lambda d, i, b: i), ("acos_2", "acos", lambda d, i, b: d),
    ("tanh_d", "tanh", lambda d, i, b: d), ("sigmoid_d", "sigmoid", lambda d, i, b: d),
    ("sigmoid_b", "sigmoid", lambda d, i, b: b),
    ("is_na_i", "is.na", lambda d, i, b: i), ("is_na_d", "is.na", lambda d, i, b: d),
    ("is_nan_nan", "is.nan", lambda d, i, b: math.nan), ("is_infinite_inf", "is.infinite", lambda d, i, b: math.inf),
    ("is_infinite_i", "is.infinite", lambda d, i, b: i),
]


@pytest.mark.parametrize("key,name,arg", SCALAR_MATH, ids=[c[0] for c in SCALAR_MATH])
def test_math_on_scalars_keeps_systemds_types(key, name, arg):
    d, i = scalar("elementwise_math", "in_d"), scalar("elementwise_math", "in_i")
    got = call(name, arg(d, i, d > 1))
    assert_scalar(got, scalar("elementwise_math", key), rtol=1e-15)


def test_log_of_scalars_with_base():
    d, i = scalar("elementwise_math", "in_d"), scalar("elementwise_math", "in_i")
    assert_scalar(call("log", -i, 2), scalar("elementwise_math", "log_i_2"), rtol=1e-15)
    assert_scalar(call("log", d, -i), scalar("elementwise_math", "log_d_i"), rtol=1e-15)


def test_ifelse_matrices():
    X, Y = mat("elementwise_ifelse_xor", "in_X"), mat("elementwise_ifelse_xor", "in_Y")
    b = True
    assert_matrix(call("ifelse", X, Y, -1), mat("elementwise_ifelse_xor", "ifelse_XYs"))
    assert_matrix(call("ifelse", X, 7, Y), mat("elementwise_ifelse_xor", "ifelse_XsY"))
    assert_matrix(call("ifelse", b, X, Y), mat("elementwise_ifelse_xor", "ifelse_bXY"))
    assert_matrix(call("ifelse", not b, X, 5), mat("elementwise_ifelse_xor", "ifelse_nbXs"))
    assert_matrix(call("ifelse", X, X, Y), mat("elementwise_ifelse_xor", "ifelse_XXY"))


def test_ifelse_scalars_take_the_common_type():
    d = 2.5
    i, b = int(d * 2), d > 1
    rec = "elementwise_ifelse_xor"
    assert_scalar(call("ifelse", b, i, i + 1), scalar(rec, "ifelse_bii"))
    assert_scalar(call("ifelse", b, d, i), scalar(rec, "ifelse_bdi"))
    assert_scalar(call("ifelse", not b, d, i), scalar(rec, "ifelse_nbid"))
    assert_scalar(call("ifelse", b, i, d), scalar(rec, "ifelse_bid"))
    assert_scalar(call("ifelse", d, 1, 2), scalar(rec, "ifelse_d12"))
    assert_scalar(call("ifelse", d - d, 1, 2), scalar(rec, "ifelse_z12"))
    assert_scalar(call("ifelse", b, b, not b), scalar(rec, "ifelse_bbb"))
    assert call("ifelse", not b, "yes", "no") == values(rec)["ifelse_bss"]["scalar"]


def test_xor():
    rec = "elementwise_ifelse_xor"
    X, Y = mat(rec, "in_X"), mat(rec, "in_Y")
    assert_matrix(call("xor", X, Y), mat(rec, "xor_XY"))
    assert_matrix(call("xor", X, 0), mat(rec, "xor_X0"))
    assert_matrix(call("xor", True, X), mat(rec, "xor_TX"))
    assert_scalar(call("xor", True, False), scalar(rec, "xor_bb"))
    assert_scalar(call("xor", True, True), scalar(rec, "xor_bb2"))
    assert_scalar(call("xor", 2.5, 0.0), scalar(rec, "xor_dd"))
    assert_scalar(call("xor", 2.5, 2.5), scalar(rec, "xor_dd2"))


# =============================================================== aggregates

ROWCOL = ["rowSums", "colSums", "rowMeans", "colMeans", "rowVars", "colVars", "rowSds", "colSds",
          "rowMaxs", "colMaxs", "rowMins", "colMins", "rowProds", "colProds"]


@pytest.mark.parametrize("name", ROWCOL)
def test_row_col_aggregates(name):
    R = mat("aggregate_rowcol", "in_R")
    assert_matrix(call(name, R), mat("aggregate_rowcol", f"{name}_R"), rtol=1e-13)


@pytest.mark.parametrize("key", ["rowSums_N", "colMeans_N", "rowVars_N", "rowMaxs_N", "colMins_N", "colProds_N"])
def test_row_col_aggregates_propagate_nan(key):
    N = mat("aggregate_rowcol", "in_N")
    assert_matrix(call(key[:-2], N), mat("aggregate_rowcol", key), rtol=1e-13)


def test_variance_of_one_value_is_zero():
    V = mat("aggregate_rowcol", "in_V")
    for key in ("colVars_V", "rowVars_V", "colSds_V"):
        assert_matrix(call(key[:-2], V), mat("aggregate_rowcol", key))


@pytest.mark.parametrize("data", ["N", "T", "S"])
def test_row_index_max_min_ties_and_nan(data):
    X = mat("aggregate_rowcol", f"in_{data}")
    assert_matrix(call("rowIndexMax", X), mat("aggregate_rowcol", f"rowIndexMax_{data}"))
    assert_matrix(call("rowIndexMin", X), mat("aggregate_rowcol", f"rowIndexMin_{data}"))


def test_min_max_of_one_matrix():
    rec = "aggregate_minmax"
    X, Y = mat(rec, "in_X"), mat(rec, "in_Y")
    assert_scalar(call("min", X), scalar(rec, "min_X"))
    assert_scalar(call("max", Y), scalar(rec, "max_Y"))
    assert_scalar(call("min", Y), scalar(rec, "min_Y"))


def test_min_max_cellwise():
    rec = "aggregate_minmax"
    X, Y = mat(rec, "in_X"), mat(rec, "in_Y")
    cases = {"min_Ys": ("min", Y, 2), "min_sY": ("min", 2, Y), "min_XY": ("min", X, Y),
             "max_XY": ("max", X, Y), "min_XYnY": ("min", X, Y, -Y), "max_XYnY": ("max", X, Y, -Y),
             "min_XYs": ("min", X, Y, 1), "pmax_Xs": ("pmax", X, 1), "pmin_XY": ("pmin", X, Y),
             "max_Ynan": ("max", Y, math.nan), "min_Xb": ("min", X, True)}
    for key, (name, *args) in cases.items():
        assert_matrix(call(name, *args), mat(rec, key))


def test_min_max_of_scalars_keep_int():
    rec = "aggregate_minmax"
    d, i = scalar(rec, "in_d"), scalar(rec, "in_i")
    assert_scalar(call("min", i, d), scalar(rec, "min_id"))
    assert_scalar(call("max", i, i + 1), scalar(rec, "max_ii"))
    assert_scalar(call("max", i, i + 1, i + 2), scalar(rec, "max_iii"))
    assert_scalar(call("min", i, 3, 4), scalar(rec, "min_iii"))
    assert_scalar(call("max", i, d, 1.5), scalar(rec, "max_idd"))
    assert_scalar(call("pmin", i, 3), scalar(rec, "pmin_i3"))
    assert_scalar(call("min", True, True), scalar(rec, "min_bb"))
    assert_scalar(call("max", True, False), scalar(rec, "max_bnb"))
    assert_scalar(call("min", d, math.nan), scalar(rec, "min_nan"))


STATS = [("prod_A", "prod", "A"), ("prod_M", "prod", "M"), ("mean_A", "mean", "A"), ("avg_M", "avg", "M"),
         ("var_A", "var", "A"), ("var_M", "var", "M"), ("sd_A", "sd", "A"), ("sd_R", "sd", "R")]


@pytest.mark.parametrize("key,name,arg", STATS, ids=[s[0] for s in STATS])
def test_full_aggregates(key, name, arg):
    rec = "aggregate_stats"
    assert_scalar(call(name, mat(rec, f"in_{arg}")), scalar(rec, key), rtol=1e-14)


def test_variance_of_a_single_cell():
    assert_scalar(call("var", np.array([[7.0]])), scalar("aggregate_stats", "var_one"))


def test_moment_and_cov():
    rec = "aggregate_stats"
    A, W, R, Q, WR = (mat(rec, f"in_{k}") for k in ("A", "W", "R", "Q", "WR"))
    assert_scalar(call("moment", A, 2), scalar(rec, "moment2_A"), rtol=1e-14)
    assert_scalar(call("moment", A, 3), scalar(rec, "moment3_A"), rtol=1e-14)
    assert_scalar(call("moment", A, 4), scalar(rec, "moment4_A"), rtol=1e-14)
    assert_scalar(call("moment", A, W, 2), scalar(rec, "moment2_AW"), rtol=1e-14)
    assert_scalar(call("moment", A, W, 3), scalar(rec, "moment3_AW"), rtol=1e-14)
    assert_scalar(call("moment", R, 4), scalar(rec, "moment4_R"), rtol=1e-13)
    assert_scalar(call("moment", R, WR, 3), scalar(rec, "moment3_RW"), rtol=1e-12)
    assert_scalar(call("centralMoment", A, 2), scalar(rec, "centralMoment_A"), rtol=1e-14)
    assert_scalar(call("cov", R, Q), scalar(rec, "cov_RQ"), rtol=1e-13)
    assert_scalar(call("cov", R, Q, WR), scalar(rec, "cov_RQW"), rtol=1e-13)


def test_statistics_of_integer_data_print_like_systemds():
    """Integer data: SystemDS's compensated sums give the correctly rounded result (16.4, not 16.400000000000002)."""
    rec = "aggregate_stats"
    A, W = mat(rec, "in_A"), mat(rec, "in_W")
    assert_scalar(call("cov", A, A * 2 - W), scalar(rec, "cov_AB"))
    assert_scalar(call("cov", A, A * 2 - W, W), scalar(rec, "cov_ABW"))
    assert_scalar(call("moment", A, W, 3), scalar(rec, "moment3_AW"))
    assert_scalar(call("var", A), scalar(rec, "var_A"))


# --------------------------------------------------------------- order statistics

def test_median_quantile_iqm_sweep():
    """Sizes 1..10, 16 probabilities, with and without integer weights: exact picks."""
    rec = "aggregate_orderstats"
    P = mat(rec, "in_P")
    for n in range(1, 11):
        A, W = mat(rec, f"in_A_{n}"), mat(rec, f"in_W_{n}")
        assert_scalar(call("median", A), scalar(rec, f"median_{n}"))
        assert_scalar(call("median", A, W), scalar(rec, f"median_w_{n}"))
        assert_scalar(call("interQuartileMean", A), scalar(rec, f"iqm_{n}"), rtol=1e-14)
        assert_scalar(call("interQuartileMean", A, W), scalar(rec, f"iqm_w_{n}"), rtol=1e-14)
        assert_matrix(call("quantile", A, P), mat(rec, f"quantiles_{n}"))
        assert_matrix(call("quantile", A, W, P), mat(rec, f"quantiles_w_{n}"))
        for k in range(1, P.shape[0] + 1):
            p = float(P[k - 1, 0])
            assert_scalar(call("quantile", A, p), scalar(rec, f"quantile_{n}_{k}")), (n, p)
            assert_scalar(call("quantile", A, W, p), scalar(rec, f"quantile_w_{n}_{k}")), (n, p)


def test_median_quantile_with_zeros_negatives_and_ties():
    """SystemDS keeps all zeros in one sorted row; that decides where it averages."""
    rec = "aggregate_orderstats_zeros"
    P = mat(rec, "in_P")
    for n in range(1, 13):
        A, W = mat(rec, f"in_A_{n}"), mat(rec, f"in_W_{n}")
        assert_scalar(call("median", A), scalar(rec, f"median_{n}"))
        assert_scalar(call("median", A, W), scalar(rec, f"median_w_{n}"))
        assert_scalar(call("interQuartileMean", A), scalar(rec, f"iqm_{n}"), rtol=1e-14)
        assert_matrix(call("quantile", A, P), mat(rec, f"quantiles_{n}"))
        assert_matrix(call("quantile", A, W, P), mat(rec, f"quantiles_w_{n}"))
        for k in range(1, P.shape[0] + 1):
            p = float(P[k - 1, 0])
            assert_scalar(call("quantile", A, p), scalar(rec, f"quantile_{n}_{k}"))
            assert_scalar(call("quantile", A, W, p), scalar(rec, f"quantile_w_{n}_{k}"))
    Z = mat(rec, "in_Z")
    assert_scalar(call("median", Z), scalar(rec, "median_Z"))
    assert_scalar(call("quantile", Z, 0.75), scalar(rec, "quantile_Z"))


def test_order_statistics_nan_sorts_last_and_real_data():
    rec = "aggregate_orderstats"
    assert_scalar(call("median", mat(rec, "in_D")), scalar(rec, "median_nan"))
    R = mat(rec, "in_R")
    assert_scalar(call("median", R), scalar(rec, "median_R"))
    assert_scalar(call("interQuartileMean", R), scalar(rec, "iqm_R"), rtol=1e-14)
    assert_scalar(call("quantile", R, 0.37), scalar(rec, "quantile_R"))


# --------------------------------------------------------------- cumulative

@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummin", "cummax", "rowcumsum"])
def test_cumulative_aggregates(name):
    rec = "aggregate_cumulative"
    for data in ("X", "R"):
        assert_matrix(call(name, mat(rec, f"in_{data}")), mat(rec, f"{name}_{data}"), rtol=1e-13)


def test_cumsumprod():
    rec = "aggregate_cumulative"
    assert_matrix(call("cumsumprod", mat(rec, "in_C")), mat(rec, "cumsumprod_C"), rtol=1e-14)
    assert_matrix(call("cumsumprod", mat(rec, "in_R")[:, :2]), mat(rec, "cumsumprod_R"), rtol=1e-12)


def test_cumsumprod_long_recurrence_matches_a_loop():
    rng = np.random.default_rng(5)
    C = np.column_stack([rng.normal(size=1000), rng.uniform(-1, 1, size=1000)])
    y, expected = 0.0, []
    for a, c in C:
        y = a + c * y
        expected.append(y)
    np.testing.assert_allclose(call("cumsumprod", C)[:, 0], expected, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------- grouped aggregate

@pytest.mark.parametrize("fn,key,order", [("sum", "sum", None), ("count", "count", None), ("mean", "mean", None),
                                          ("variance", "variance", None), ("centralmoment", "cm2", "2"),
                                          ("centralmoment", "cm3", "3"), ("centralmoment", "cm4", "4"),
                                          ("min", "min", None), ("max", "max", None)])
def test_grouped_aggregate(fn, key, order):
    rec = "aggregate_grouped"
    X, G = mat(rec, "in_X"), mat(rec, "in_G")
    kw = {"order": order} if order else {}
    assert_matrix(call("aggregate", target=X, groups=G, fn=fn, **kw), mat(rec, key), rtol=1e-14)


def test_grouped_aggregate_weighted_ngroups_and_columns():
    rec, w = "aggregate_grouped", "aggregate_grouped_weighted"
    X, G, W, XX = (mat(rec, f"in_{k}") for k in ("X", "G", "W", "XX"))
    cases = {
        "w_sum": dict(target=X, groups=G, weights=W, fn="sum"),
        "w_count": dict(target=X, groups=G, weights=W, fn="count"),
        "w_mean": dict(target=X, groups=G, weights=W, fn="mean"),
        "w_variance": dict(target=X, groups=G, weights=W, fn="variance"),
        "w_cm2": dict(target=X, groups=G, weights=W, fn="centralmoment", order="2"),
        "w_min": dict(target=X, groups=G, weights=W, fn="min"),
        "w_max": dict(target=X, groups=G, weights=W, fn="max"),
        "ng5_sum": dict(target=X, groups=G, fn="sum", ngroups=5),
        "ng2_sum": dict(target=X, groups=G, fn="sum", ngroups=2),
        "ng5_max": dict(target=X, groups=G, fn="max", ngroups=5),
        "ng5_cm2": dict(target=X, groups=G, fn="centralmoment", order="2", ngroups=5),
        "ng5_variance": dict(target=X, groups=G, fn="variance", ngroups=5),
        "frac_sum": dict(target=X, groups=G + 0.5, fn="sum"),
        "XX_sum": dict(target=XX, groups=G, fn="sum", ngroups=4),
        "XX_mean": dict(target=XX, groups=G, fn="mean", ngroups=4),
        "single_variance": dict(target=X, groups=np.arange(1, 7.0).reshape(-1, 1), fn="variance"),
        "single_w_variance": dict(target=X, groups=np.arange(1, 7.0).reshape(-1, 1), weights=W, fn="variance"),
    }
    for key, kw in cases.items():
        assert_matrix(call("aggregate", **kw), mat(w, key), rtol=1e-14)


def test_grouped_weighted_count_rounds_like_systemds():
    rec = "aggregate_grouped_count"
    X, G, W = (mat(rec, f"in_{k}") for k in "XGW")
    assert_matrix(call("aggregate", target=X, groups=G, weights=W, fn="count"), mat(rec, "w_count"))


# --------------------------------------------------------------- distinct values

def test_count_distinct_and_contains():
    rec = "aggregate_distinct"
    X = mat(rec, "in_X")
    assert_scalar(call("countDistinct", X), scalar(rec, "countDistinct_X"))
    assert_matrix(call("rowCountDistinct", X), mat(rec, "rowCountDistinct_X"))
    assert_matrix(call("colCountDistinct", X), mat(rec, "colCountDistinct_X"))
    assert_scalar(call("contains", target=X, pattern=math.nan), scalar(rec, "contains_nan"))
    assert_scalar(call("contains", target=X, pattern=3), scalar(rec, "contains_3"))
    assert_scalar(call("contains", target=X, pattern=7), scalar(rec, "contains_7"))
    assert_scalar(call("contains", target=X[:, 1:3], pattern=math.nan), scalar(rec, "contains_nan_R"))


def test_unique_gives_the_same_set():
    """SystemDS lists distinct values in hash order; dmlpy sorts them. Same values, NaN once."""
    rec = "aggregate_distinct"
    X = mat(rec, "in_X")
    for got, key in ((call("unique", X), "unique_X"), (call("unique", X[:, :1]), "unique_col")):
        exp = mat(rec, key)
        assert got.shape == exp.shape
        assert_matrix(np.sort(got, axis=0), np.sort(exp, axis=0))


# =============================================================== construct

def test_table_forms():
    rec = "construct_table"
    A, B, W, F = (mat(rec, f"in_{k}") for k in "ABWF")
    cases = {"t_AB": (A, B), "t_ABW": (A, B, W), "t_A1": (A, 1), "t_AB3": (A, B, 3),
             "t_AB_2_5": (A, B, 2, 5), "t_ABW_5_2": (A, B, W, 5, 2), "t_A1W": (A, 1, W), "t_F1": (F, 1)}
    for key, args in cases.items():
        assert_matrix(call("table", *args), mat(rec, key))
    assert_matrix(call("ctable", B, A), mat(rec, "ctable_BA"))


ORDER_CASES = {"by1": dict(by=1), "by1_index": dict(by=1, index_return=True),
               "by1_dec": dict(by=1, decreasing=True),
               "by1_dec_index": dict(by=1, decreasing=True, index_return=True),
               "by2_dec_index": dict(by=2, decreasing=True, index_return=True), "default": {},
               "by12_index": dict(by=np.array([[1.0], [2.0]]), index_return=True),
               "by12_dec_index": dict(by=np.array([[1.0], [2.0]]), decreasing=True, index_return=True),
               "by31_index": dict(by=np.array([[3.0, 1.0]]), index_return=True)}


@pytest.mark.parametrize("key", sorted(ORDER_CASES))
def test_order_is_stable_both_ways(key):
    rec = "construct_order"
    assert_matrix(call("order", target=mat(rec, "in_X"), **ORDER_CASES[key]), mat(rec, key))


def test_order_real_values():
    rec = "construct_order"
    R = mat(rec, "in_R")
    assert_matrix(call("order", target=R, by=2), mat(rec, "R_by2"))
    assert_matrix(call("order", target=R, by=2, decreasing=True), mat(rec, "R_by2_dec"))


def test_remove_empty():
    rec = "construct_reshape"
    X, Z = mat(rec, "in_X"), mat(rec, "in_Z")
    cases = {"rm_rows": dict(target=X, margin="rows"), "rm_cols": dict(target=X, margin="cols"),
             "rm_cols_T": dict(target=X.T.copy(), margin="cols"),
             "rm_rows_select": dict(target=X, margin="rows", select=np.array([[1.0], [0], [1], [1]])),
             "rm_cols_select": dict(target=X, margin="cols", select=np.array([[0.0, 2, -1]])),
             "rm_Z_rows": dict(target=Z, margin="rows"), "rm_Z_cols": dict(target=Z, margin="cols"),
             "rm_Z_rows_F": dict(target=Z, margin="rows", empty_return=False),
             "rm_Z_cols_F": dict(target=Z, margin="cols", empty_return=False),
             "rm_select0": dict(target=X, margin="rows", select=np.zeros((4, 1))),
             "rm_select0_F": dict(target=X, margin="rows", select=np.zeros((4, 1)), empty_return=False),
             "rm_rows_T": dict(target=X, margin="rows", empty_return=True)}
    for key, kw in cases.items():
        assert_matrix(call("removeEmpty", **kw), mat(rec, key))


def test_replace_rev_binds_diag():
    rec = "construct_reshape"
    X, Y = mat(rec, "in_X"), mat(rec, "in_Y")
    assert_matrix(call("replace", target=X, pattern=0, replacement=9), mat(rec, "replace_0"))
    assert_matrix(call("replace", target=X, pattern=math.nan, replacement=-1), mat(rec, "replace_nan"))
    assert_matrix(call("replace", target=Y, pattern=math.inf, replacement=0), mat(rec, "replace_inf"))
    assert_matrix(call("replace", target=Y, pattern=2, replacement=math.nan), mat(rec, "replace_to_nan"))
    assert_matrix(call("rev", X), mat(rec, "rev_X"))
    assert_matrix(call("rev", np.array([[1.0, 2, 3]])), mat(rec, "rev_row"))
    assert_matrix(call("cbind", X, X[:, :1], X), mat(rec, "cbind_3"))
    assert_matrix(call("rbind", X, X[:1], np.full((2, 3), 7.0)), mat(rec, "rbind_3"))
    assert_matrix(call("diag", np.array([[1.0], [-2], [3]])), mat(rec, "diag_vec"))
    assert_matrix(call("diag", np.arange(1, 10.0).reshape(3, 3)), mat(rec, "diag_sq"))
    assert_matrix(call("diag", np.array([[5.0]])), mat(rec, "diag_1"))


def test_results_do_not_alias_inputs():
    X = np.arange(6.0).reshape(3, 2)
    for out in (call("rev", X), call("diag", X[:2, :2]), call("removeEmpty", target=X, margin="rows"),
                call("cbind", X, X), call("order", target=X, by=1)):
        out[...] = -1
    np.testing.assert_array_equal(X, np.arange(6.0).reshape(3, 2))


OUTER_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "mul": "*", "add": "+",
             "sub": "-", "div": "/", "min": "min", "max": "max", "pow": "^", "mod": "%%", "intdiv": "%/%",
             "log": "log"}


@pytest.mark.parametrize("key", sorted(OUTER_OPS))
def test_outer(key):
    rec = "construct_outer_tri"
    a, b = mat(rec, "in_a"), mat(rec, "in_b")
    assert_matrix(call("outer", a, b, OUTER_OPS[key]), mat(rec, f"outer_{key}"), rtol=1e-15)


def test_lower_upper_tri():
    rec = "construct_outer_tri"
    N = mat(rec, "in_N")
    assert_matrix(call("lower.tri", target=N), mat(rec, "lower"))
    assert_matrix(call("lower.tri", target=N, diag=True), mat(rec, "lower_diag"))
    assert_matrix(call("lower.tri", target=N, values=True), mat(rec, "lower_values"))
    assert_matrix(call("lower.tri", target=N, diag=True, values=True), mat(rec, "lower_diag_values"))
    assert_matrix(call("upper.tri", target=N), mat(rec, "upper"))
    assert_matrix(call("upper.tri", target=N, diag=True, values=True), mat(rec, "upper_diag_values"))
    assert_matrix(call("upper.tri", target=N.T.copy(), values=True), mat(rec, "upper_values_T"))


def test_to_one_hot():
    rec = "construct_outer_tri"
    assert_matrix(call("toOneHot", mat(rec, "in_C"), 4), mat(rec, "onehot"))
    assert_matrix(call("toOneHot", np.array([[1.0], [3], [2], [3]]), 3), mat(rec, "onehot_exact"))


SAMPLES = {"s_5_5": (5, 5), "s_10_4_seed": (10, 4, 42), "s_10_4_F_seed": (10, 4, False, 42),
           "s_3_7_T": (3, 7, True), "s_100_20_T_seed": (100, 20, True, 7), "s_3_0": (3, 0)}


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_sample_shape_range_and_replacement(key):
    """Random values differ from SystemDS's generator; shape, range and distinctness must hold for both."""
    args = SAMPLES[key]
    with_replacement = len(args) >= 3 and args[2] is True
    for got in (call("sample", FakeContext(), *args), mat("construct_sample", key)):
        assert got.shape == (args[1], 1)
        assert np.all((got >= 1) & (got <= args[0]) & (got == np.floor(got)))
        if not with_replacement:
            assert len(np.unique(got)) == args[1]


def test_sample_seed_is_repeatable():
    assert_matrix(call("sample", FakeContext(), 1000, 10, 42), call("sample", FakeContext(), 1000, 10, False, 42))
    assert_matrix(call("sample", FakeContext(), 9, 30, True, 3), call("sample", FakeContext(), 9, 30, True, 3))


def test_roll():
    rec = "construct_roll_bitwise"
    X = mat(rec, "in_X")
    for key, shift in (("roll_1", 1), ("roll_3", 3), ("roll_m1", -1), ("roll_5", 5), ("roll_0", 0)):
        assert_matrix(call("roll", X, shift), mat(rec, key))


def test_bitwise():
    rec = "construct_roll_bitwise"
    A = mat(rec, "in_A")
    i, j, d = 12, 10, 12.0
    assert_scalar(call("bitwAnd", i, j), scalar(rec, "bitwAnd_ij"))
    assert_scalar(call("bitwOr", i, j), scalar(rec, "bitwOr_ij"))
    assert_scalar(call("bitwXor", i, j), scalar(rec, "bitwXor_ij"))
    assert_scalar(call("bitwShiftL", i, 2), scalar(rec, "bitwShiftL_i2"))
    assert_scalar(call("bitwShiftR", i, 2), scalar(rec, "bitwShiftR_i2"))
    assert_scalar(call("bitwAnd", d, d - 2.5), scalar(rec, "bitwAnd_dd"))
    assert_matrix(call("bitwAnd", A, 10), mat(rec, "bitwAnd_A10"))
    assert_matrix(call("bitwXor", A, A * 2), mat(rec, "bitwXor_AA"))
    assert_matrix(call("bitwShiftL", A, 1), mat(rec, "bitwShiftL_A1"))
    assert_matrix(call("bitwShiftR", A, 1), mat(rec, "bitwShiftR_A1"))
    assert_matrix(call("bitwOr", A, 3), mat(rec, "bitwOr_A3"))


# =============================================================== errors SystemDS raises too

def _b():
    return True


ERRORS = {
    "table_zero": lambda: call("table", np.array([[1.0], [0], [2]]), 1),
    "table_negative": lambda: call("table", np.array([[1.0], [-1], [2]]), 1),
    "table_mismatch": lambda: call("table", np.array([[1.0], [2]]), np.array([[1.0], [2], [3]])),
    "sample_too_large": lambda: call("sample", FakeContext(), 5, 6),
    "diag_rectangular": lambda: call("diag", np.arange(6.0).reshape(2, 3)),
    "diag_row_vector": lambda: call("diag", np.array([[1.0, 2, 3]])),
    "outer_two_rows": lambda: call("outer", np.array([[1.0, 2]]), np.array([[1.0, 2]]), "*"),
    "outer_two_columns": lambda: call("outer", np.array([[1.0], [2]]), np.array([[1.0], [2]]), "*"),
    "onehot_too_few_classes": lambda: call("toOneHot", np.array([[1.0], [5]]), 4),
    "onehot_zero": lambda: call("toOneHot", np.array([[0.0], [1]]), 4),
    "cumsumprod_one_column": lambda: call("cumsumprod", np.array([[1.0], [2], [3]])),
    "removeEmpty_bad_margin": lambda: call("removeEmpty", target=np.array([[1.0, 2]]), margin="foo"),
    "cbind_one_matrix": lambda: call("cbind", np.ones((2, 2))),
    "cbind_rows_mismatch": lambda: call("cbind", np.ones((2, 2)), np.ones((3, 1))),
    "rbind_cols_mismatch": lambda: call("rbind", np.ones((2, 2)), np.ones((1, 3))),
    "aggregate_group_zero": lambda: call("aggregate", target=np.array([[1.0], [2]]),
                                         groups=np.array([[0.0], [1]]), fn="sum"),
    "quantile_fractional_weights": lambda: call("quantile", np.array([[1.0], [2], [3]]),
                                                np.array([[1.0], [0.5], [1]]), 0.5),
    "median_fractional_weights": lambda: call("median", np.array([[1.0], [2], [3]]), np.array([[1.0], [0.5], [1]])),
    "quantile_matrix": lambda: call("quantile", np.arange(4.0).reshape(2, 2), 0.5),
    "moment_order_5": lambda: call("moment", np.array([[1.0], [2], [3]]), 5),
    "moment_order_1": lambda: call("moment", np.array([[1.0], [2], [3]]), 1),
    "max_one_scalar": lambda: call("max", 3),
    "abs_boolean": lambda: call("abs", _b()),
    "is_nan_boolean": lambda: call("is.nan", _b()),
    "xor_ints": lambda: call("xor", 2, 2),
    "xor_boolean_int": lambda: call("xor", _b(), 1),
    "min_boolean_int": lambda: call("min", _b(), 3),
    "ifelse_int_boolean": lambda: call("ifelse", _b(), 1, False),
}


def test_every_error_script_is_covered():
    scripts = {p.stem for p in (DATA / "errors").glob("*.dml")}
    assert scripts == set(ERRORS)


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_errors_where_systemds_fails(key):
    assert recording(f"errors/{key}")["fails"], f"SystemDS accepted errors/{key}.dml"
    with pytest.raises(DMLRuntimeError):
        ERRORS[key]()


def test_non_matrix_arguments_are_rejected_with_the_builtin_name():
    for name in ("rowSums", "colMeans", "cumsum", "rev", "diag", "order"):
        with pytest.raises(DMLRuntimeError, match=re.escape(name)):
            if name == "order":
                call(name, target=3)
            else:
                call(name, 3)
