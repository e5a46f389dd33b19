"""Java 17's Double.toString, digit for digit: how SystemDS prints a double.

Java 17 (before JDK 19's shortest-digits algorithm) does not always print the shortest decimal
that reads back as the same double. Its FloatingDecimal generates digits one at a time until
the rest of the value is less than half a gap to the neighbouring doubles away (Steele and
White's free-format method), with these particulars, all reproduced here:

* integers below 2^63 take their exact digits, less the digits below the double's precision,
  rounded half up (5e18 prints 5.0E18, but 2^62 prints 4.6116860184273879E18);
* both stopping tests are strict in its fixed-width paths, so a decimal lying exactly half a
  gap away (a tie) does not end the digits (1e23 prints 9.999999999999999E22);
* in E-form (below 1e-3 or from 1e7) it always takes a second digit before testing;
* the value, the gap and the power of ten are scaled to integers in 32-bit or 64-bit words
  where they fit, and those words overflow as Java's do (so 2.0118919930868186e25 prints
  2.0118919930868185E25); larger ones use exact integers;
* below an exact power of two it uses the smaller gap (the one below) on both sides.

Written from the algorithm's description and checked against the JVM's output on 85,732 doubles
(random bit patterns, round decimals at every exponent, powers of two, integers near 2^53 and 2^63;
tests/test_java_double.py holds a recorded sample).
"""
from __future__ import annotations

import math
import struct

# bits of 5^i (0 for i = 0), as the scaling decisions count them; beyond the table, 3 per power
_FIVE_BITS = [0] + [(5 ** i).bit_length() for i in range(1, 27)]
_INT_BITS, _LONG_BITS = 32, 64


def _wrap(v: int, bits: int) -> int:
    """v as a two's-complement integer of `bits` bits (Java's int/long overflow)."""
    half = 1 << (bits - 1)
    return ((v + half) & ((1 << bits) - 1)) - half


def _five_bits(i: int) -> int:
    return _FIVE_BITS[i] if i < len(_FIVE_BITS) else i * 3


def java_double(d: float) -> str:
    """Java's Double.toString(d)."""
    if d != d:
        return "NaN"
    if d == math.inf:
        return "Infinity"
    if d == -math.inf:
        return "-Infinity"
    if d == 0.0:
        return "-0.0" if math.copysign(1.0, d) < 0 else "0.0"
    return ("-" if d < 0 else "") + java_layout(*java_digits(abs(d)))


def java_layout(digits: str, exp10: int) -> str:
    """Digits d1 d2 ... times 10^exp10 (of the first) as Double.toString lays them out: plain for
    1e-3 <= x < 1e7 (always a fraction digit), else d1.d2...E<exp>."""
    if -3 <= exp10 < 7:
        if exp10 >= 0:
            whole = digits[:exp10 + 1].ljust(exp10 + 1, "0")
            fraction = digits[exp10 + 1:] or "0"
        else:
            whole, fraction = "0", "0" * (-exp10 - 1) + digits
        return f"{whole}.{fraction}"
    return f"{digits[0]}.{digits[1:] or '0'}E{exp10}"


# Between these, a double that is no power of two has Java's digits in Python's shortest repr: a
# tie needs a decimal exactly half a gap away, which has too many digits below 2^53, and the
# fixed-width words do not overflow there (checked on 48,565 such doubles against the JVM). The
# rest (powers of two, whose gap below is narrower; subnormals; 2^53 and up) take Java's method.
_SMALLEST_NORMAL = 2.2250738585072014e-308
_TWO_53 = 9007199254740992.0


def java_digits(a: float) -> tuple[str, int]:
    """The decimal digits Java 17 gives a positive finite double (Double.toString prints them, and
    DecimalFormat rounds them), and the decimal exponent of the first."""
    if shortest_is_java(a):
        return _shortest_digits(a)
    return _digits(a)


def shortest_is_java(a: float) -> bool:
    """Whether Python's shortest repr of a positive double has Java's digits (see above)."""
    return _SMALLEST_NORMAL <= a < _TWO_53 and math.frexp(a)[0] != 0.5


def _shortest_digits(a: float) -> tuple[str, int]:
    """The digits of Python's shortest repr of a positive double, and the exponent of the first."""
    text = repr(a)
    mantissa, _, exp = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    exp10 = len(whole) + (int(exp) if exp else 0) - (len(all_digits) - len(significant)) - 1
    return significant.rstrip("0") or "0", exp10


def _digits(a: float) -> tuple[str, int]:
    """The decimal digits Java prints for a positive finite double, and the exponent of the first."""
    bits = struct.unpack("<q", struct.pack("<d", a))[0]
    fraction, biased = bits & ((1 << 52) - 1), bits >> 52
    if biased == 0:                     # subnormal: normalise the fraction's bits
        significant = fraction.bit_length()
        shift = 53 - significant
        fraction <<= shift
        bin_exp = 1 - shift - 1023
    else:
        fraction |= 1 << 52
        significant = 53
        bin_exp = biased - 1023
    # a = fraction * 2^(bin_exp - 52); fraction has bit 52 set
    trailing = (fraction & -fraction).bit_length() - 1
    fract_bits = 53 - trailing                              # bits that matter
    tiny_bits = max(0, fract_bits - bin_exp - 1)            # bits right of the binary point
    if tiny_bits == 0 and bin_exp <= 62:                    # an integer below 2^63
        return _integer_digits(fraction, bin_exp, significant)
    return _free_format_digits(fraction >> trailing, fract_bits, bin_exp, tiny_bits, significant)


def _integer_digits(fraction: int, bin_exp: int, significant: int) -> tuple[str, int]:
    """An integer below 2^63: its digits, less those below the double's precision (rounded
    half up), trailing zeros dropped."""
    value = fraction << (bin_exp - 52) if bin_exp >= 52 else fraction >> (52 - bin_exp)
    dropped = 0
    if bin_exp > significant:
        # decimal digits below the precision: floor(log10(2^(bin_exp - significant - 1))), as
        # Java estimates it; none where that is under two
        p2 = bin_exp - significant - 1
        dropped = int(p2 * 0.30102999566398120) if p2 > 1 else 0
    if dropped:
        power = 10 ** dropped
        value, residue = divmod(value, power)
        if residue >= power // 2:
            value += 1
    text = str(value)
    exp10 = len(text) - 1 + dropped
    return text.rstrip("0") or "0", exp10


def _estimate_exponent(fraction: int, bin_exp: int) -> int:
    """floor(log10(a)) as Java estimates it from the mantissa and binary exponent: exact or one
    too high (the first digit then comes out 0 and is dropped)."""
    mantissa = 1.0 + (fraction & ((1 << 52) - 1)) / 2.0 ** 52
    return math.floor((mantissa - 1.5) * 0.289529654 + 0.176091259 + bin_exp * 0.301029995663981)


def _free_format_digits(f: int, fract_bits: int, bin_exp: int, tiny_bits: int,
                        significant: int) -> tuple[str, int]:
    """Digits by the free-format method; f is the fraction without its trailing zero bits."""
    dec_exp = _estimate_exponent(f << (53 - fract_bits), bin_exp)
    b5 = max(0, -dec_exp)
    b2 = b5 + tiny_bits + bin_exp
    s5 = max(0, dec_exp)
    s2 = s5 + tiny_bits
    m5 = b5
    m2 = b2 - significant
    b2 -= fract_bits - 1
    common = min(b2, s2)
    b2, s2, m2 = b2 - common, s2 - common, m2 - common
    if fract_bits == 1:                 # a power of two: the gap below is half the one above
        m2 -= 1
    if m2 < 0:
        b2, s2, m2 = b2 - m2, s2 - m2, 0
    b_bits = fract_bits + b2 + _five_bits(b5)
    ten_s_bits = s2 + 1 + _five_bits(s5 + 1)
    if b_bits < 64 and ten_s_bits < 64:
        width = _INT_BITS if b_bits < 32 and ten_s_bits < 32 else _LONG_BITS
        return _fixed_width_digits(f, b5, b2, s5, s2, m5, m2, dec_exp, width)
    return _exact_digits(f, b5, b2, s5, s2, m5, m2, dec_exp)


def _e_form(dec_exp: int) -> bool:
    return dec_exp < -3 or dec_exp >= 8


def _fixed_width_digits(f, b5, b2, s5, s2, m5, m2, dec_exp, width):
    """The 32-bit or 64-bit path: b (the rest of the value), s (the unit of the current digit),
    m (half a gap), in Java ints or longs. b stays below 10 * s, which fits; m and b + m may
    overflow, and then wrap as Java's do."""
    limit = 1 << (width - 1)
    if width == _INT_BITS:
        f = _wrap(f, _INT_BITS)         # (the fraction is cast to an int there)
    b = _wrap(_wrap(f * 5 ** b5, width) << b2, width)
    s = _wrap(5 ** s5 << s2, width)
    m = _wrap(5 ** m5 << m2, width)
    tens = _wrap(s * 10, width)
    digits = []
    q, b = divmod(b, s)
    b *= 10
    m *= 10
    if m >= limit:
        m = _wrap(m, width)
    total = b + m
    low, high = b < m, (total if total < limit else _wrap(total, width)) > tens
    if q == 0 and not high:
        dec_exp -= 1                    # the estimate was one too high
    else:
        digits.append(q)
    if _e_form(dec_exp):
        low = high = False
    while not low and not high:
        q, b = divmod(b, s)
        b *= 10
        m *= 10
        if m >= limit:
            m = _wrap(m, width)
        if m > 0:
            total = b + m
            low, high = b < m, (total if total < limit else _wrap(total, width)) > tens
        else:                           # m overflowed: it certainly exceeds the rest
            low = high = True
        digits.append(q)
    difference = _wrap(_wrap(b << 1, width) - tens, width)
    return _rounded(digits, dec_exp, low, high, difference)


def _exact_digits(f, b5, b2, s5, s2, m5, m2, dec_exp):
    """The arbitrary-precision path (Java normalises S with a shift; the tests are the same)."""
    b = f * 5 ** b5 << b2
    s = 5 ** s5 << s2
    m = 5 ** m5 << m2
    tens = s * 10
    digits = []
    q, b = b // s, 10 * (b % s)
    m *= 10
    low, high = b < m, b + m >= tens
    if q == 0 and not high:
        dec_exp -= 1
    else:
        digits.append(q)
    if _e_form(dec_exp):
        low = high = False
    while not low and not high:
        q, b = b // s, 10 * (b % s)
        m *= 10
        low, high = b < m, b + m >= tens
        digits.append(q)
    difference = (b << 1) - tens if high and low else 0
    return _rounded(digits, dec_exp, low, high, difference)


def _rounded(digits: list, dec_exp: int, low: bool, high: bool, difference: int) -> tuple[str, int]:
    """The last digit rounded up where the stopping test says so (a tie: to an even digit)."""
    if high and (not low or difference > 0 or (difference == 0 and digits[-1] % 2 == 1)):
        i = len(digits) - 1
        while i > 0 and digits[i] == 9:
            digits[i] = 0
            i -= 1
        if digits[i] == 9:              # all nines: 1 and zeros, one place up
            digits[0] = 1
            dec_exp += 1
        else:
            digits[i] += 1
    return "".join(map(str, digits)), dec_exp
