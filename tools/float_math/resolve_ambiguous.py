"""Resolve the AMBIG lines of measure_libm with mpmath: correct rounding to binary32.

Usage: python resolve_ambiguous.py exp|tanh < measure_output.txt
Prints the number of ambiguous inputs and how many of them the libm result rounds wrongly.
(One-off derivation/measurement helper; mpmath is not a runtime dependency.)
"""

from __future__ import annotations

import struct
import sys

import mpmath

mpmath.mp.prec = 300


def f32(u: int) -> float:
    return struct.unpack("<f", struct.pack("<I", u))[0]


def round_to_f32(v: mpmath.mpf) -> int:
    """Correct rounding (nearest, ties to even) of a positive or negative mpf to binary32 bits."""
    sign = 0x80000000 if v < 0 else 0
    a = abs(v)
    if a == 0:
        return sign
    m, e = mpmath.frexp(a)  # a = m * 2^e, 0.5 <= m < 1
    e = int(e)
    q = max(e - 24, -149)  # ulp exponent (subnormals share 2^-149)
    scaled = a * mpmath.mpf(2) ** (-q)
    n = int(mpmath.floor(scaled))
    frac = scaled - n
    if frac > 0.5 or (frac == 0.5 and n % 2 == 1):
        n += 1
    if n * 2.0**q >= 2.0**128:
        return sign | 0x7F800000  # rounds to infinity
    bits = struct.unpack("<I", struct.pack("<f", float(n) * 2.0**q))[0]
    return sign | bits


def main() -> None:
    fn = {"exp": mpmath.exp, "tanh": mpmath.tanh}[sys.argv[1]]
    total = wrong = 0
    for line in sys.stdin:
        if not line.startswith("AMBIG"):
            continue
        _, xs, gs = line.split()
        x, got = int(xs, 16), int(gs, 16)
        ref = round_to_f32(fn(mpmath.mpf(f32(x))))
        total += 1
        if ref != got:
            wrong += 1
            print(f"DIFF {x:08x} {got:08x} {ref:08x}")
    print(f"ambiguous {total}, libm differs from correct rounding on {wrong}")


if __name__ == "__main__":
    main()
