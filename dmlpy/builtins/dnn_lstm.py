"""LSTM builtins: lstm and lstm_backward (SystemDS 3.4.0 CPU signatures).

Layout (as in SystemDS's nn/layers/lstm.dml): X is (N, T*D), W is (D+M, 4M) with the
input rows first, bias is (1, 4M), gates are ordered i, f, o, g (sigmoid, sigmoid,
sigmoid, tanh). The CPU builtin returns the caches the backward pass consumes:
cache_out and cache_c (T, N*M) and cache_ifog (T, N*4M), row t holding that
timestep's (N, M) / (N, 4M) matrix flattened row-major. lstm_backward trusts those
caches rather than recomputing the forward pass.

The time loop is inherently sequential; the input projections of all timesteps
(forward) and the weight/input gradients (backward) are each one GEMM.
"""
from __future__ import annotations

from .. import backend
from ..errors import DMLRuntimeError
from ..values import as_bool, matrix_argument
from .registry import builtin
from .dnn_shapes import check_matrix


def _sigmoid(x):
    xp = backend.xp
    return 1.0 / (1.0 + xp.exp(-x))


def _dims(X, W, bias, out0, c0, func="lstm"):
    for name, a in (("X", X), ("W", W), ("bias", bias), ("out0", out0), ("c0", c0)):
        matrix_argument(func, a, name)
    N, M = out0.shape
    if c0.shape != out0.shape:
        raise DMLRuntimeError(
            "Incorrect input dimension for LSTM. Expected input4 and input3 Matrix to be of the same "
            f"Dimension (N, M), but got ({c0.shape[0]}, {c0.shape[1]}) and ({N}, {M})")
    D = W.shape[0] - M
    if W.shape[1] != 4 * M or D <= 0:
        raise DMLRuntimeError("Incorrect input dimension for LSTM. Expected Weight Matrix to be of "
                              f"Dimension (D+M, 4M) = ({W.shape[0]}, {4 * M}), but got "
                              f"({W.shape[0]}, {W.shape[1]})")
    if bias.shape != (1, 4 * M):
        raise DMLRuntimeError("Incorrect input dimension for LSTM. Expected bias Matrix to be of "
                              f"Dimension (1, 4M) = (1, {4 * M}), but got ({bias.shape[0]}, {bias.shape[1]})")
    if X.shape[0] != N or X.shape[1] % D != 0:
        raise DMLRuntimeError(f"Incorrect input dimension for LSTM. Expected X to be of Dimension "
                              f"(N, T*D) with N = {N}, D = {D}, but got ({X.shape[0]}, {X.shape[1]})")
    return N, X.shape[1] // D, D, M


@builtin("lstm", returns=5)
def lstm(X, W, bias, out0, c0, return_sequences):
    """Forward pass -> (out, c, cache_out, cache_c, cache_ifog)."""
    xp = backend.xp
    N, T, D, M = _dims(X, W, bias, out0, c0)
    # Input projection of every timestep at once: (N*T, D) @ (D, 4M), plus bias.
    xw = (X.reshape(N * T, D) @ W[:D]).reshape(N, T, 4 * M) + bias
    W_rec = W[D:]
    out_prev, c_prev = out0, c0
    cache_out = xp.empty((T, N, M), dtype=X.dtype)
    cache_c = xp.empty((T, N, M), dtype=X.dtype)
    cache_ifog = xp.empty((T, N, 4 * M), dtype=X.dtype)
    for t in range(T):
        ifog = xw[:, t] + out_prev @ W_rec
        ifog[:, :3 * M] = _sigmoid(ifog[:, :3 * M])
        ifog[:, 3 * M:] = xp.tanh(ifog[:, 3 * M:])
        i, f, o, g = ifog[:, :M], ifog[:, M:2 * M], ifog[:, 2 * M:3 * M], ifog[:, 3 * M:]
        c_prev = f * c_prev + i * g
        out_prev = o * xp.tanh(c_prev)
        cache_out[t], cache_c[t], cache_ifog[t] = out_prev, c_prev, ifog
    if as_bool(return_sequences, "lstm()'s return_sequences"):
        out = xp.ascontiguousarray(cache_out.transpose(1, 0, 2)).reshape(N, T * M)
    else:
        out = out_prev.copy()
    return (out, c_prev.copy(), cache_out.reshape(T, N * M), cache_c.reshape(T, N * M),
            cache_ifog.reshape(T, N * 4 * M))


@builtin("lstm_backward", returns=5)
def lstm_backward(X, W, bias, out0, c0, return_sequences, dout, dc, cache_out, cache_c, cache_ifog):
    """Backward pass -> (dX, dW, dbias, dout0, dc0)."""
    xp = backend.xp
    N, T, D, M = _dims(X, W, bias, out0, c0, "lstm_backward")
    given_sequences = as_bool(return_sequences, "lstm_backward()'s return_sequences")
    check_matrix("lstm_backward", "dout", dout, N, T * M if given_sequences else M)
    check_matrix("lstm_backward", "dc", dc, N, M)
    check_matrix("lstm_backward", "cache_out", cache_out, T, N * M)
    check_matrix("lstm_backward", "cache_c", cache_c, T, N * M)
    check_matrix("lstm_backward", "cache_ifog", cache_ifog, T, N * 4 * M)
    outs = cache_out.reshape(T, N, M)
    cs = cache_c.reshape(T, N, M)
    ifogs = cache_ifog.reshape(T, N, 4 * M)
    W_rec_T = W[D:].T
    difog_raw = xp.empty((T, N, 4 * M), dtype=X.dtype)
    dct = dc
    dout_next = xp.zeros((N, M), dtype=X.dtype)     # gradient reaching out_t from step t+1
    for t in range(T - 1, -1, -1):
        if given_sequences:
            dout_t = dout[:, t * M:(t + 1) * M] + dout_next
        else:
            dout_t = dout + dout_next if t == T - 1 else dout_next
        c_prev = c0 if t == 0 else cs[t - 1]
        ct = cs[t]
        ifog = ifogs[t]
        i, f, o, g = ifog[:, :M], ifog[:, M:2 * M], ifog[:, 2 * M:3 * M], ifog[:, 3 * M:]
        tanh_c = xp.tanh(ct)
        dct = dct + o * (1 - tanh_c * tanh_c) * dout_t
        d = difog_raw[t]
        d[:, :M] = i * (1 - i) * (g * dct)
        d[:, M:2 * M] = f * (1 - f) * (c_prev * dct)
        d[:, 2 * M:3 * M] = o * (1 - o) * (tanh_c * dout_t)
        d[:, 3 * M:] = (1 - g * g) * (i * dct)
        dct = f * dct
        dout_next = d @ W_rec_T
    # Inputs of every step: [X_t, out_{t-1}], stacked over time -> one GEMM for dW.
    out_prevs = xp.concatenate([out0[None], outs[:-1]], axis=0)               # (T, N, M)
    X_tnd = X.reshape(N, T, D).transpose(1, 0, 2)                              # (T, N, D)
    inputs = xp.concatenate([X_tnd, out_prevs], axis=2).reshape(T * N, D + M)
    d_flat = difog_raw.reshape(T * N, 4 * M)
    dW = inputs.T @ d_flat
    dbias = d_flat.sum(axis=0, keepdims=True)
    dX = (d_flat @ W[:D].T).reshape(T, N, D).transpose(1, 0, 2).reshape(N, T * D)
    return xp.ascontiguousarray(dX), dW, dbias, dout_next, dct
