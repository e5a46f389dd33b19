"""Deep-learning builtins: agreement with recorded SystemDS outputs, and gradient checks.

Recordings live in tests/data/dnn (regenerate with tests/data/dnn/record.py; Java is
not needed here). Gradient checks compare every backward builtin with central finite
differences of its forward builtin, in float64.
"""
import json
import os

import numpy as np
import pytest

import dmlpy.builtins.dnn  # noqa: F401  (registers the builtins)
from dmlpy.builtins.registry import REGISTRY
from dmlpy.errors import DMLRuntimeError
from dmlpy.values import DMLList

DATA = os.path.join(os.path.dirname(__file__), "data", "dnn")
with open(os.path.join(DATA, "cases.json")) as _f:
    RECORDED = json.load(_f)


def make_input(spec):
    kind, rows, cols = spec[0], spec[1], spec[2]
    if kind == "const":
        return np.full((rows, cols), float(spec[3]))
    offset = spec[-1]
    s = np.sin(np.arange(offset + 1, offset + rows * cols + 1, dtype=np.float64)).reshape(rows, cols)
    if kind == "sin":
        return s * spec[3] + spec[4]
    if kind == "floor":
        return np.floor(s * spec[3])
    if kind == "sparse":
        return s * (np.abs(s) > spec[3])
    raise ValueError(kind)


def call(name, *args, **named):
    return REGISTRY[name].func(*args, **named)


def replay(case):
    """Run a recorded case's steps on dmlpy; returns {variable: value}."""
    env = {n: make_input(spec) for n, spec in case["inputs"].items()}
    for name, args, named, outs in case["steps"]:
        values = [env[a[1:]] if isinstance(a, str) and a.startswith("$") else a for a in args]
        result = call(name, *values, **named)
        if len(outs) == 1:
            result = (result,)
        assert len(result) == len(outs) == REGISTRY[name].returns
        env.update(zip(outs, result))
    return env


@pytest.mark.parametrize("case", RECORDED["cases"], ids=[c["name"] for c in RECORDED["cases"]])
def test_agrees_with_systemds(case):
    env = replay(case)
    for _, _, _, outs in case["steps"]:
        for o in (o for o in outs if o not in case.get("not_recorded", {})):
            expected = np.loadtxt(os.path.join(DATA, f"{case['name']}.{o}.csv"), delimiter=",", ndmin=2)
            actual = env[o]
            assert actual.shape == expected.shape, o
            assert actual.dtype == np.float64
            np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12, err_msg=o)


@pytest.mark.parametrize("case", RECORDED["error_cases"], ids=[c["name"] for c in RECORDED["error_cases"]])
def test_error_messages_match_systemds(case):
    with pytest.raises(DMLRuntimeError) as info:
        replay(case)
    assert info.value.message == RECORDED["errors"][case["name"]]


def test_signatures_and_return_counts():
    conv = ["stride", "padding", "input_shape", "filter_shape"]
    pool = ["stride", "padding", "input_shape", "pool_size"]
    expected = {
        "conv2d": (["input", "filter"] + conv, 1),
        "conv2d_backward_filter": (["input", "dout"] + conv, 1),
        "conv2d_backward_data": (["filter", "dout"] + conv, 1),
        "max_pool": (["input"] + pool, 1), "avg_pool": (["input"] + pool, 1),
        "max_pool_backward": (["input", "dout"] + pool, 1), "avg_pool_backward": (["input", "dout"] + pool, 1),
        "bias_add": (["input", "bias"], 1), "bias_multiply": (["input", "bias"], 1),
        "batch_norm2d": (["input", "scale", "shift", "exponentialMovingAverage_Mean",
                          "exponentialMovingAverage_Variance", "mode", "epsilon", "momentum"], 5),
        "batch_norm2d_backward": (["input", "dout", "scale", "epsilon", "cache_mean", "cache_inv_var"], 3),
        "lstm": (["X", "W", "bias", "out0", "c0", "return_sequences"], 5),
        "lstm_backward": (["X", "W", "bias", "out0", "c0", "return_sequences", "dout", "dc",
                           "cache_out", "cache_c", "cache_ifog"], 5),
    }
    for name, (params, returns) in expected.items():
        b = REGISTRY[name]
        assert (b.params, b.returns) == (params, returns), name
        assert b.required == set(params), name     # SystemDS has no optional arguments here


# ---- finite-difference gradient checks ----------------------------------------------

def rel_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), 1e-300)


def numeric_grad(loss, x, h=1e-5):
    """Central differences of the scalar loss() with respect to every entry of x (in place)."""
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = loss()
        x[i] = old - h
        down = loss()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


CONV_CONFIGS = [  # N, C, H, W, K, R, S, stride, padding
    (2, 2, 5, 5, 3, 3, 3, [1, 1], [1, 1]),
    (2, 3, 7, 6, 2, 2, 3, [2, 2], [0, 0]),
    (1, 2, 6, 7, 2, 4, 4, [2, 3], [2, 1]),
    (1, 1, 2, 8, 2, 3, 3, [2, 2], [0, 0]),       # windows run past the bottom edge
]


@pytest.mark.parametrize("cfg", CONV_CONFIGS)
def test_conv2d_gradients(cfg):
    N, C, H, W, K, R, S, stride, padding = cfg
    rng = np.random.default_rng(1)
    shapes = dict(stride=stride, padding=padding, input_shape=[N, C, H, W], filter_shape=[K, C, R, S])
    X = rng.standard_normal((N, C * H * W))
    F = rng.standard_normal((K, C * R * S))
    out = call("conv2d", X, F, **shapes)
    G = rng.standard_normal(out.shape)
    loss = lambda: float(np.sum(call("conv2d", X, F, **shapes) * G))
    assert rel_error(call("conv2d_backward_filter", X, G, **shapes), numeric_grad(loss, F)) < 1e-7
    assert rel_error(call("conv2d_backward_data", F, G, **shapes), numeric_grad(loss, X)) < 1e-7


def test_conv2d_matches_direct_loop():
    N, C, H, W, K, R, S, sh, sw, ph, pw = 2, 2, 6, 5, 3, 3, 2, 2, 1, 1, 2
    rng = np.random.default_rng(2)
    X = rng.standard_normal((N, C * H * W))
    F = rng.standard_normal((K, C * R * S))
    out = call("conv2d", X, F, stride=[sh, sw], padding=[ph, pw], input_shape=[N, C, H, W],
               filter_shape=[K, C, R, S])
    P, Q = (H + 2 * ph - R) // sh + 1, (W + 2 * pw - S) // sw + 1
    Xp = np.pad(X.reshape(N, C, H, W), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    F4 = F.reshape(K, C, R, S)
    ref = np.zeros((N, K, P, Q))
    for n in range(N):
        for k in range(K):
            for p in range(P):
                for q in range(Q):
                    ref[n, k, p, q] = np.sum(Xp[n, :, p * sh:p * sh + R, q * sw:q * sw + S] * F4[k])
    np.testing.assert_allclose(out, ref.reshape(N, K * P * Q), rtol=1e-12, atol=1e-12)


POOL_CONFIGS = [  # N, C, H, W, R, S, stride, padding
    (2, 2, 4, 4, 2, 2, [2, 2], [0, 0]),
    (2, 2, 5, 5, 3, 3, [1, 1], [1, 1]),
    (1, 3, 5, 6, 2, 3, [1, 2], [1, 0]),
    (1, 2, 2, 8, 3, 3, [2, 2], [0, 0]),
]


@pytest.mark.parametrize("pool", ["max_pool", "avg_pool"])
@pytest.mark.parametrize("cfg", POOL_CONFIGS)
def test_pool_gradients(cfg, pool):
    N, C, H, W, R, S, stride, padding = cfg
    rng = np.random.default_rng(3)
    shapes = dict(stride=stride, padding=padding, input_shape=[N, C, H, W], pool_size=[R, S])
    X = rng.standard_normal((N, C * H * W))     # continuous values: no ties
    G = rng.standard_normal(call(pool, X, **shapes).shape)
    loss = lambda: float(np.sum(call(pool, X, **shapes) * G))
    analytic = call(pool + "_backward", X, G, **shapes)
    assert rel_error(analytic, numeric_grad(loss, X, h=1e-6)) < 1e-7


@pytest.mark.parametrize("shape", [(4, 3, 3, 3), (2, 2, 1, 5), (3, 1, 2, 2)])
def test_batch_norm2d_gradients(shape):
    N, C, H, W = shape
    rng = np.random.default_rng(4)
    X = rng.standard_normal((N, C * H * W)) * 2 + 0.5
    gamma, beta = rng.standard_normal((C, 1)), rng.standard_normal((C, 1))
    ema_mean, ema_var = np.zeros((C, 1)), np.ones((C, 1))
    eps = 1e-5
    G = rng.standard_normal(X.shape)
    forward = lambda: call("batch_norm2d", X, gamma, beta, ema_mean, ema_var, "train", eps, 0.9)
    loss = lambda: float(np.sum(forward()[0] * G))
    _, _, _, cache_mean, cache_inv_var = forward()
    dX, dgamma, dbeta = call("batch_norm2d_backward", X, G, gamma, eps, cache_mean, cache_inv_var)
    assert rel_error(dX, numeric_grad(loss, X)) < 1e-7
    assert rel_error(dgamma, numeric_grad(loss, gamma)) < 1e-7
    assert rel_error(dbeta, numeric_grad(loss, beta)) < 1e-7


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("dims", [(3, 4, 5, 3), (2, 1, 2, 4)])
def test_lstm_gradients(dims, return_sequences):
    N, T, D, M = dims
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N, T * D))
    W = rng.standard_normal((D + M, 4 * M)) * 0.5
    b = rng.standard_normal((1, 4 * M)) * 0.1
    out0, c0 = rng.standard_normal((N, M)) * 0.3, rng.standard_normal((N, M)) * 0.3
    forward = lambda: call("lstm", X, W, b, out0, c0, return_sequences)
    out, c, cache_out, cache_c, cache_ifog = forward()
    G, Gc = rng.standard_normal(out.shape), rng.standard_normal(c.shape)
    loss = lambda: float(np.sum(forward()[0] * G) + np.sum(forward()[1] * Gc))
    grads = call("lstm_backward", X, W, b, out0, c0, return_sequences, G, Gc, cache_out, cache_c, cache_ifog)
    for analytic, wrt in zip(grads, [X, W, b, out0, c0]):
        assert analytic.shape == wrt.shape
        assert rel_error(analytic, numeric_grad(loss, wrt)) < 1e-7


# ---- argument handling -------------------------------------------------------------

def test_shape_arguments_accept_lists_tuples_dmllists_and_integral_floats():
    X = make_input(["sin", 2, 32, 1.0, 0.0, 0])
    F = make_input(["sin", 3, 18, 1.0, 0.0, 99])
    ref = call("conv2d", X, F, stride=[1, 1], padding=[1, 1], input_shape=[2, 2, 4, 4], filter_shape=[3, 2, 3, 3])
    other = call("conv2d", X, F, stride=(1.0, 1.0), padding=DMLList([1, 1]), input_shape=DMLList([2, 2, 4, 4]),
                 filter_shape=[3.0, 2.0, 3.0, 3.0])
    np.testing.assert_array_equal(ref, other)


def test_float32_inputs_stay_float32():
    X = make_input(["sin", 2, 32, 1.0, 0.0, 0]).astype(np.float32)
    F = make_input(["sin", 3, 18, 1.0, 0.0, 99]).astype(np.float32)
    shapes = dict(stride=[1, 1], padding=[1, 1], input_shape=[2, 2, 4, 4])
    assert call("conv2d", X, F, filter_shape=[3, 2, 3, 3], **shapes).dtype == np.float32
    assert call("max_pool", X, pool_size=[2, 2], **shapes).dtype == np.float32
    assert call("max_pool_backward", X, np.ones((2, 2 * 5 * 5), np.float32), pool_size=[2, 2],
                **shapes).dtype == np.float32


@pytest.mark.parametrize("bad, message", [
    (dict(input_shape=[2, 2, 4, 5]), "input must be a 2x40 matrix, but is 2x32"),
    (dict(filter_shape=[3, 1, 3, 3]), "filter_shape has 1 channels but input_shape has 2"),
    (dict(stride=[1]), "stride must have 2 elements, but has 1"),
    (dict(padding=[-1, 0]), "padding must be non-negative"),
    (dict(filter_shape=[3, 2, 9, 3]), "does not fit"),
    (dict(stride="1"), "stride must be a list of 2 numbers"),
    # SystemDS 3.4.0's own wording (checked by its parser):
    (dict(filter_shape=[3, 2, 3, 6]), "Incorrect parameters: padded image width:4 cannot be less than filter width:6"),
])
def test_conv2d_argument_errors(bad, message):
    X = make_input(["sin", 2, 32, 1.0, 0.0, 0])
    F = make_input(["sin", 3, 18, 1.0, 0.0, 99])
    args = dict(stride=[1, 1], padding=[0, 0], input_shape=[2, 2, 4, 4], filter_shape=[3, 2, 3, 3])
    args.update(bad)
    with pytest.raises(DMLRuntimeError, match=message):
        call("conv2d", X, F, **args)


def test_inputs_are_not_modified():
    X = make_input(["sin", 2, 32, 1.0, 0.0, 0])
    dout = make_input(["sin", 2, 8, 1.0, 0.0, 5])
    X0, d0 = X.copy(), dout.copy()
    shapes = dict(stride=[2, 2], padding=[0, 0], input_shape=[2, 2, 4, 4], pool_size=[2, 2])
    call("max_pool_backward", X, dout, **shapes)
    call("avg_pool_backward", X, dout, **shapes)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(dout, d0)
