"""Winograd's transform matrices (Toom-Cook, exact) and the CUDA source of the tile transforms.

F(m x m, r x r) computes each m x m block of a stride-1 r x r convolution from an alpha x alpha
input tile, alpha = m + r - 1. Its matrices come from Toom-Cook: evaluate the filter and the output
at the points below and at infinity (G and A^T), interpolate (B^T: the inverse of the transposed
Vandermonde matrix), all exactly in rationals. F(r x r, m x m), the filter gradient's algorithm on
the same input tiles, has the same B^T.

The kernels are generated with the matrices' entries written into the code as constants, so the
compiler drops the zero terms and the multiplications by +-1 (most of them), and no thread loads a
matrix. One source per (r, m), five kernels each (the FOR_EACH_ELEMENT macro and the real_t/idx_t
types come from dnn_kernels):

    dmlpy_winograd_filter_R_M   filters (O, I, r, r), optionally turned 180 degrees with O and I
                                swapped (the data gradient's filters) -> U (alpha^2, O, I)
    dmlpy_winograd_input_R_M    NCHW images -> input tiles V (alpha^2, C, tiles), zero outside
    dmlpy_winograd_output_R_M   products (alpha^2, K, tiles) -> NCHW output images, m x m blocks
    dmlpy_winograd_dout_R_M     dout's m x m blocks -> (alpha^2, K, tiles) (filter gradient)
    dmlpy_winograd_wgrad_R_M    summed products (alpha^2, K, C) -> filter gradient (K, C*r*r)
"""
from __future__ import annotations

from fractions import Fraction

# Interpolation points (besides infinity) per tile size alpha: small integers keep the transforms'
# rounding errors small (alpha 6 serves F(2x2, 5x5) and F(4x4, 3x3)).
POINTS = {4: (0, 1, -1), 6: (0, 1, -1, 2, -2)}

# The output block sizes m taken for each filter size r (alpha = m + r - 1 must be in POINTS).
TILE_SIZES = {3: (2, 4), 5: (2,)}

_cache: dict = {}


def toom_cook(m: int, r: int) -> tuple[list, list, list]:
    """A^T (m x alpha), G (alpha x r), B^T (alpha x alpha) of F(m, r) as lists of Fractions."""
    if (m, r) in _cache:
        return _cache[m, r]
    alpha = m + r - 1
    points = [Fraction(p) for p in POINTS[alpha]]

    def evaluation(n):          # a polynomial of n coefficients at each point, then its leading one
        return [[p ** k for k in range(n)] for p in points] + [[Fraction(0)] * (n - 1) + [Fraction(1)]]

    E_out, E_filter, V = evaluation(m), evaluation(r), evaluation(alpha)
    rows = [row + [Fraction(int(i == j)) for j in range(alpha)] for i, row in enumerate(V)]
    for c in range(alpha):                                      # Gauss-Jordan over the rationals
        pivot = next(i for i in range(c, alpha) if rows[i][c] != 0)
        rows[c], rows[pivot] = rows[pivot], rows[c]
        rows[c] = [x / rows[c][c] for x in rows[c]]
        for i in range(alpha):
            if i != c and rows[i][c] != 0:
                rows[i] = [x - rows[i][c] * y for x, y in zip(rows[i], rows[c])]
    V_inv = [row[alpha:] for row in rows]
    AT = [[E_out[j][i] for j in range(alpha)] for i in range(m)]
    BT = [[V_inv[j][i] for j in range(alpha)] for i in range(alpha)]
    _cache[m, r] = AT, E_filter, BT
    return _cache[m, r]


def _combination(coefficients, operands) -> str:
    """sum(c * x) as C, zero terms left out, +-1 without a multiplication, other constants as
    the double nearest them, cast to real_t (the values the matrices have as arrays)."""
    terms = []
    for c, x in zip(coefficients, operands):
        if c == 0:
            continue
        if abs(c) == 1:
            terms.append(("-" if c < 0 else "+") + x)
        else:
            terms.append(f"+(real_t)({float(c)!r})*{x}")
    if not terms:
        return "(real_t)0"
    text = "".join(terms)
    return text[1:] if text[0] == "+" else text


def _constant_times(C, var: str, out: str, n: int, k: int, p: int) -> list[str]:
    """Statements out{i}_{j} = (C V)[i][j]: C a constant n x k matrix (Fractions), V the k x p
    variables var{t}_{j}."""
    return [f"const real_t {out}{i}_{j} = "
            + _combination([C[i][t] for t in range(k)], [f"{var}{t}_{j}" for t in range(k)]) + ";"
            for i in range(n) for j in range(p)]


def _times_constant(var: str, C, out: str, n: int, k: int, p: int) -> list[str]:
    """Statements out{i}_{j} = (V C)[i][j]: V the n x k variables var{i}_{t}, C a constant k x p."""
    return [f"const real_t {out}{i}_{j} = "
            + _combination([C[t][j] for t in range(k)], [f"{var}{i}_{t}" for t in range(k)]) + ";"
            for i in range(n) for j in range(p)]


def _sandwich(L, inner: str, out: str, rows_in: int, rows_out: int) -> list[str]:
    """out = L . inner . L^T for a constant L (rows_out x rows_in) and variables inner{i}_{j}."""
    LT = [list(column) for column in zip(*L)]
    return (_constant_times(L, inner, out + "h", rows_out, rows_in, rows_in)
            + _times_constant(out + "h", LT, out, rows_out, rows_in, rows_out))


def source(r: int, m: int) -> str:
    """The five kernels of F(m x m, r x r) (module docstring), as CUDA source."""
    alpha = m + r - 1
    AT, G, BT = toom_cook(m, r)                   # forward and data gradient
    ATw, Gw, _ = toom_cook(r, m)                  # filter gradient: F(r x r, m x m)
    ind = "        "

    def block(lines):
        return "\n".join(ind + line for line in lines)

    filt = [f"const real_t g{y}_{x} = f[flip ? {(r - 1 - y) * r + r - 1 - x} : {y * r + x}];"
            for y in range(r) for x in range(r)]
    filt += _sandwich(G, "g", "u", r, alpha)
    filt += [f"u[{a * alpha + b} * OI] = u{a}_{b};" for a in range(alpha) for b in range(alpha)]

    inp = [f"const bool row{a} = h0 + {a} >= 0 && h0 + {a} < H, col{a} = w0 + {a} >= 0 && w0 + {a} < W;"
           for a in range(alpha)]
    inp += [f"const real_t d{a}_{b} = row{a} && col{b} ? x[(h0 + {a}) * W + w0 + {b}] : (real_t)0;"
            for a in range(alpha) for b in range(alpha)]
    inp += _sandwich(BT, "d", "v", alpha, alpha)
    inp += [f"v[{a * alpha + b} * CT] = v{a}_{b};" for a in range(alpha) for b in range(alpha)]

    out = [f"const real_t p{a}_{b} = mp[{a * alpha + b} * KT];" for a in range(alpha) for b in range(alpha)]
    out += _sandwich(AT, "p", "y", alpha, m)
    out += [f"if (h0 + {a} < P && w0 + {b} < Q) y[(h0 + {a}) * Q + w0 + {b}] = y{a}_{b};"
            for a in range(m) for b in range(m)]

    dout = [f"const real_t e{a}_{b} = h0 + {a} < P && w0 + {b} < Q ? d[(h0 + {a}) * Q + w0 + {b}] : (real_t)0;"
            for a in range(m) for b in range(m)]
    dout += _sandwich(Gw, "e", "t", m, alpha)
    dout += [f"dt[{a * alpha + b} * KT] = t{a}_{b};" for a in range(alpha) for b in range(alpha)]

    wgrad = [f"const real_t s{a}_{b} = mp[{a * alpha + b} * KC];" for a in range(alpha) for b in range(alpha)]
    wgrad += _sandwich(ATw, "s", "w", alpha, r)
    wgrad += [f"dw[{y * r + x}] = w{y}_{x};" for y in range(r) for x in range(r)]

    s = f"_{r}_{m}"
    return f"""
// Winograd F({m}x{m}, {r}x{r}), tiles of {alpha}x{alpha} (generated by dnn_winograd_kernels.py)
extern "C" __global__ void dmlpy_winograd_filter{s}(
        const real_t* __restrict__ F, real_t* __restrict__ U, idx_t O, idx_t I, idx_t flip) {{
    const idx_t OI = O * I;
    FOR_EACH_ELEMENT(e, OI) {{                 // a thread per (output channel o, input channel i)
        const idx_t o = e / I, i = e - o * I;
        const real_t* f = F + (flip ? i * O + o : e) * {r * r};
        real_t* const u = U + e;
{block(filt)}
    }}
}}

extern "C" __global__ void dmlpy_winograd_input{s}(
        const real_t* __restrict__ X, real_t* __restrict__ V,
        idx_t n, idx_t C, idx_t H, idx_t W, idx_t TP, idx_t TQ, idx_t ph, idx_t pw) {{
    const idx_t T = n * TP * TQ, CT = C * T;
    FOR_EACH_ELEMENT(e, CT) {{                 // a thread per (channel c, tile t = (image, row, column))
        const idx_t c = e / T, t = e - c * T;
        const idx_t im = t / (TP * TQ), tpq = t - im * (TP * TQ), tp = tpq / TQ, tq = tpq - tp * TQ;
        const real_t* x = X + (im * C + c) * H * W;
        const idx_t h0 = {m} * tp - ph, w0 = {m} * tq - pw;
        real_t* const v = V + e;
{block(inp)}
    }}
}}

extern "C" __global__ void dmlpy_winograd_output{s}(
        const real_t* __restrict__ M, real_t* __restrict__ Y, idx_t n, idx_t K, idx_t P, idx_t Q,
        idx_t TP, idx_t TQ) {{
    const idx_t T = n * TP * TQ, KT = K * T;
    FOR_EACH_ELEMENT(e, KT) {{                 // a thread per (output channel k, tile t)
        const idx_t k = e / T, t = e - k * T;
        const idx_t im = t / (TP * TQ), tpq = t - im * (TP * TQ), tp = tpq / TQ, tq = tpq - tp * TQ;
        real_t* y = Y + (im * K + k) * P * Q;
        const idx_t h0 = {m} * tp, w0 = {m} * tq;
        const real_t* const mp = M + e;
{block(out)}
    }}
}}

extern "C" __global__ void dmlpy_winograd_dout{s}(
        const real_t* __restrict__ dout, real_t* __restrict__ D, idx_t n, idx_t K, idx_t P, idx_t Q,
        idx_t TP, idx_t TQ) {{
    const idx_t T = n * TP * TQ, KT = K * T;
    FOR_EACH_ELEMENT(e, KT) {{                 // a thread per (channel k, tile t): dout's {m}x{m} block
        const idx_t k = e / T, t = e - k * T;
        const idx_t im = t / (TP * TQ), tpq = t - im * (TP * TQ), tp = tpq / TQ, tq = tpq - tp * TQ;
        const real_t* d = dout + (im * K + k) * P * Q;
        const idx_t h0 = {m} * tp, w0 = {m} * tq;
        real_t* const dt = D + e;
{block(dout)}
    }}
}}

extern "C" __global__ void dmlpy_winograd_wgrad{s}(
        const real_t* __restrict__ M, real_t* __restrict__ dW, idx_t K, idx_t C) {{
    const idx_t KC = K * C;
    FOR_EACH_ELEMENT(e, KC) {{                 // a thread per (filter k, channel c)
        const real_t* const mp = M + e;
        real_t* const dw = dW + e * {r * r};
{block(wgrad)}
    }}
}}
"""

