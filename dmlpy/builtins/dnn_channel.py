"""Per-channel builtins: bias_add, bias_multiply, batch_norm2d, batch_norm2d_backward.

The channel count is nrow of the (K, 1) parameter; each row of the input holds K
blocks of ncol/K values (NCHW images with H*W = ncol/K).

batch_norm2d reproduces SystemDS 3.4.0 exactly, including two quirks:
  * the batch variance is E[x^2] - E[x]^2 (single pass, uncorrected);
  * in "train" mode the updated moving variance is
    momentum*ema_var + (1-momentum)*batch_MEAN (not the batch variance).
"""
from __future__ import annotations

from .. import backend
from ..errors import DMLRuntimeError
from .registry import builtin
from .dnn_shapes import check_matrix
from ..values import matrix_argument


def _per_channel(name: str, input, vec, vec_name: str):
    """input (N, K*L) -> (N, K, L) view, and vec (K, 1) -> (1, K, 1) for broadcasting."""
    matrix_argument(name, input, "input")
    matrix_argument(name, vec, vec_name)
    if vec.shape[1] != 1:
        raise DMLRuntimeError(f"Expected the number of columns of {vec_name} matrix to be 1, "
                              f"but found {vec.shape[1]}")
    K = vec.shape[0]
    N, cols = input.shape
    if K == 0 or cols % K != 0:
        raise DMLRuntimeError(f"Incorrect inputs for {name}: input[{N} X {cols}] and "
                              f"{vec_name}[{K} X {vec.shape[1]}]")
    return input.reshape(N, K, cols // K), vec.reshape(1, K, 1)


@builtin("bias_add")
def bias_add(input, bias):
    """input + bias[c] on every value of channel c."""
    X3, b3 = _per_channel("bias_add", input, bias, "bias")
    return (X3 + b3).reshape(input.shape)


@builtin("bias_multiply")
def bias_multiply(input, bias):
    """input * bias[c] on every value of channel c."""
    X3, b3 = _per_channel("bias_multiply", input, bias, "bias")
    return (X3 * b3).reshape(input.shape)


def _channel_params(name: str, K: int, **vectors):
    for vname, v in vectors.items():
        check_matrix(name, vname, v, K, 1)


@builtin("batch_norm2d", returns=5)
def batch_norm2d(input, scale, shift, exponentialMovingAverage_Mean,
                 exponentialMovingAverage_Variance, mode, epsilon, momentum):
    """Spatial batch normalization.

    Returns (out, ema_mean_upd, ema_var_upd, cache_mean, cache_inv_var); the caches
    are the batch statistics in "train" mode and the moving averages in "test" mode.
    """
    xp = backend.xp
    ema_mean, ema_var = exponentialMovingAverage_Mean, exponentialMovingAverage_Variance
    X3, _ = _per_channel("batch_norm2d", input, shift, "bias")
    K = shift.shape[0]
    _channel_params("batch_norm2d", K, scale=scale, exponentialMovingAverage_Mean=ema_mean,
                    exponentialMovingAverage_Variance=ema_var)
    eps, mu = float(epsilon), float(momentum)
    phase = str(mode).lower()
    if phase == "train":
        count = X3.shape[0] * X3.shape[2]
        mean = X3.sum(axis=(0, 2)).reshape(K, 1) / count
        var = (X3 * X3).sum(axis=(0, 2)).reshape(K, 1) / count - mean * mean
        inv_var = 1.0 / xp.sqrt(var + eps)
        ema_mean_upd = mu * ema_mean + (1 - mu) * mean
        ema_var_upd = mu * ema_var + (1 - mu) * mean       # sic: SystemDS uses the mean here
    elif phase == "test":
        mean = ema_mean.copy()
        inv_var = 1.0 / xp.sqrt(ema_var + eps)
        ema_mean_upd, ema_var_upd = ema_mean.copy(), ema_var.copy()
    else:
        raise DMLRuntimeError(f"Incorrect mode: Expected either train or test, but found {mode}")
    out = (X3 - mean.reshape(1, K, 1)) * (inv_var * scale).reshape(1, K, 1) + shift.reshape(1, K, 1)
    return out.reshape(input.shape), ema_mean_upd, ema_var_upd, mean, inv_var


@builtin("batch_norm2d_backward", returns=3)
def batch_norm2d_backward(input, dout, scale, epsilon, cache_mean, cache_inv_var):
    """Gradient of "train"-mode batch_norm2d -> (dX, dscale, dshift).

    Uses the cached batch mean and inverse standard deviation from the forward pass;
    epsilon is accepted for SystemDS compatibility and not needed.
    """
    K = scale.shape[0]
    X3, _ = _per_channel("batch_norm2d_backward", input, scale, "scale")
    check_matrix("batch_norm2d_backward", "dout", dout, input.shape[0], input.shape[1])
    _channel_params("batch_norm2d_backward", K, cache_mean=cache_mean, cache_inv_var=cache_inv_var)
    D3 = dout.reshape(X3.shape)
    count = X3.shape[0] * X3.shape[2]
    inv = cache_inv_var.reshape(1, K, 1)
    centered = X3 - cache_mean.reshape(1, K, 1)
    dnorm = D3 * scale.reshape(1, K, 1)
    dvar = -0.5 * inv ** 3 * (centered * dnorm).sum(axis=(0, 2), keepdims=True)
    dmean = -inv * dnorm.sum(axis=(0, 2), keepdims=True) \
        - 2.0 / count * dvar * centered.sum(axis=(0, 2), keepdims=True)
    dX = dnorm * inv + dmean / count + (2.0 / count) * centered * dvar
    dscale = (centered * inv * D3).sum(axis=(0, 2)).reshape(K, 1)
    dshift = D3.sum(axis=(0, 2)).reshape(K, 1)
    return dX.reshape(input.shape), dscale, dshift
