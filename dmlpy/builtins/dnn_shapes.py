"""Shape arguments and window geometry shared by the deep-learning builtins.

DML passes ``input_shape=[N,C,H,W]``, ``filter_shape=[K,C,R,S]``,
``pool_size=[R,S]``, ``stride=[sh,sw]`` and ``padding=[ph,pw]`` as lists of
numbers; SystemDS truncates each to an integer. Images are rows of a matrix,
flattened in NCHW order.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import backend
from ..errors import DMLRuntimeError
from ..values import DMLList, matrix_argument


def int_list(value, length: int, name: str, builtin: str) -> tuple[int, ...]:
    """A shape argument as a tuple of ``length`` ints (list, tuple or DMLList of numbers)."""
    items = value.items if isinstance(value, DMLList) else value
    if not isinstance(items, (list, tuple)):
        raise DMLRuntimeError(f"{builtin}(): {name} must be a list of {length} numbers, e.g. [1,1]")
    if len(items) != length:
        raise DMLRuntimeError(f"{builtin}(): {name} must have {length} elements, but has {len(items)}")
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise DMLRuntimeError(f"{builtin}(): {name} must contain numbers only")
        out.append(int(v))      # SystemDS casts to long: truncation toward zero
    return tuple(out)


def out_size(size: int, window: int, stride: int, pad: int) -> int:
    """Output extent as SystemDS computes it: Java integer division truncates toward zero."""
    num = size + 2 * pad - window
    q = abs(num) // stride
    return (q if num >= 0 else -q) + 1


@dataclass(frozen=True)
class Geometry:
    """One convolution/pooling configuration, validated."""
    N: int
    C: int
    H: int
    W: int
    R: int
    S: int
    sh: int
    sw: int
    ph: int
    pw: int
    P: int
    Q: int

    @property
    def padded_h(self) -> int:
        # Windows may run past the bottom padding when (H+2p-R) is not a multiple of
        # the stride (or is negative); extend so every window is a plain slice.
        return max(self.H + 2 * self.ph, (self.P - 1) * self.sh + self.R)

    @property
    def padded_w(self) -> int:
        return max(self.W + 2 * self.pw, (self.Q - 1) * self.sw + self.S)

    def tap(self, r: int, s: int):
        """Index into a padded (.., Hp, Wp) array: the cells that window tap (r, s) reads."""
        return (Ellipsis,
                slice(r, r + self.sh * (self.P - 1) + 1, self.sh),
                slice(s, s + self.sw * (self.Q - 1) + 1, self.sw))

    def interior(self):
        """Index into a padded (.., Hp, Wp) array: the original image."""
        return (Ellipsis, slice(self.ph, self.ph + self.H), slice(self.pw, self.pw + self.W))

    def has_window_outside_image(self) -> bool:
        """True if some window lies entirely in the padding (covers no image cell)."""
        def outside(n_out, stride, pad, window, size):
            return any(o * stride - pad + window <= 0 or o * stride - pad >= size for o in range(n_out))
        return (outside(self.P, self.sh, self.ph, self.R, self.H)
                or outside(self.Q, self.sw, self.pw, self.S, self.W))


def geometry(builtin: str, input_shape, window_hw: tuple[int, int], stride, padding) -> Geometry:
    N, C, H, W = int_list(input_shape, 4, "input_shape", builtin)
    sh, sw = int_list(stride, 2, "stride", builtin)
    ph, pw = int_list(padding, 2, "padding", builtin)
    R, S = window_hw
    if min(N, C, H, W) <= 0 or min(R, S) <= 0:
        raise DMLRuntimeError(f"{builtin}(): shapes must be positive, got input_shape=[{N},{C},{H},{W}] "
                              f"and a {R}x{S} window")
    if sh <= 0 or sw <= 0:
        raise DMLRuntimeError(f"{builtin}(): stride must be positive, got [{sh},{sw}]")
    if ph < 0 or pw < 0:
        raise DMLRuntimeError(f"{builtin}(): padding must be non-negative, got [{ph},{pw}]")
    if W + 2 * pw < S:      # SystemDS checks the width only; a too-tall window is clipped
        raise DMLRuntimeError(f"Incorrect parameters: padded image width:{W + 2 * pw} "
                              f"cannot be less than filter width:{S}")
    P, Q = out_size(H, R, sh, ph), out_size(W, S, sw, pw)
    if P <= 0 or Q <= 0:
        raise DMLRuntimeError(f"{builtin}(): the {R}x{S} window does not fit a {H}x{W} image "
                              f"with padding [{ph},{pw}] (output would be {P}x{Q})")
    return Geometry(N, C, H, W, R, S, sh, sw, ph, pw, P, Q)


def check_matrix(builtin: str, name: str, a, rows: int, cols: int) -> None:
    matrix_argument(builtin, a, name)
    if a.ndim != 2 or a.shape[0] != rows or a.shape[1] != cols:
        shape = "x".join(str(d) for d in a.shape)
        raise DMLRuntimeError(f"{builtin}(): {name} must be a {rows}x{cols} matrix, but is {shape}")


def to_padded(g: Geometry, X, fill: float):
    """Images (N, C*H*W) -> padded (C, N, Hp, Wp) array; channel-major so im2col is one GEMM."""
    xp = backend.xp
    Xp = xp.full((g.C, g.N, g.padded_h, g.padded_w), fill, dtype=X.dtype)
    Xp[g.interior()] = X.reshape(g.N, g.C, g.H, g.W).transpose(1, 0, 2, 3)
    return Xp


def from_padded(g: Geometry, Xp):
    """Padded (C, N, Hp, Wp) -> images (N, C*H*W), dropping the padding."""
    xp = backend.xp
    return xp.ascontiguousarray(Xp[g.interior()].transpose(1, 0, 2, 3)).reshape(g.N, g.C * g.H * g.W)


def nchw_to_cn(A, N: int, C: int, L: int):
    """(N, C*L) -> (C, N*L): channels become rows."""
    return backend.xp.ascontiguousarray(A.reshape(N, C, L).transpose(1, 0, 2)).reshape(C, N * L)


def cn_to_nchw(A, N: int, C: int, L: int):
    """(C, N*L) -> (N, C*L)."""
    return backend.xp.ascontiguousarray(A.reshape(C, N, L).transpose(1, 0, 2)).reshape(N, C * L)
