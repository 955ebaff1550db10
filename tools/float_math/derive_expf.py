"""Derive the constants of runtime/src/microforge/kernels/float_math.h (expf) with mpmath.

Design (facts about the host glibc expf, which the runtime reproduces): x = (k + r) ln2 / 32
with k = round-to-nearest-even(x * 32/ln2) in double, |r| <= 1/2; exp(x) = 2^(k/32) * 2^(r/32)
with 2^(i/32), i = k mod 32, a table of doubles (correctly rounded), and 2^(r/32) approximated
by 1 + c1 r + c2 r^2 + c3 r^3, the minimax polynomial for *relative* error of 2^t on
t in [-1/64, 1/64] (t = r/32), with the constant term fixed to 1. Everything is evaluated in
double and rounded once to float.

This script computes those numbers from scratch (a Remez exchange on the relative error) and
prints them as C hex-float literals. One-off tool; mpmath is not a runtime dependency.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.prec = 200
N = 32
A = mp.mpf(1) / 64  # t in [-A, A]


def f(t):
    return mp.power(2, t)


def remez(deg: int = 3, iters: int = 30):
    # unknowns: a1..a_deg, E; p(t) = 1 + sum a_j t^j ; error e(t) = (p(t) - 2^t) / 2^t
    n = deg + 1  # alternation points
    # p(0) = 1 is fixed, so e(0) = 0 and e = t * (smooth function): the alternation holds for
    # e(t) / sign(t), on one extremum inside each half plus the two end points.
    pts = [-A, -A / 2, A / 2, A]
    a = None
    for _ in range(iters):
        rows, rhs = [], []
        for i, t in enumerate(pts):
            w = f(t)
            rows.append([t**j / w for j in range(1, deg + 1)] + [(-1) ** i * mp.sign(t)])
            rhs.append((w - 1) / w)
        sol = mp.lu_solve(mp.matrix(rows), mp.matrix(rhs))
        a = [sol[j] for j in range(deg)]

        def err(t, a=a):
            p = 1 + sum(a[j] * t ** (j + 1) for j in range(deg))
            return (p - f(t)) / f(t)

        # new extrema: endpoints plus interior local extrema of err
        ext = [-A]
        for lo, hi in ((-A, 0), (0, A)):
            grid = [lo + (hi - lo) * mp.mpf(k) / 2000 for k in range(1, 2000)]
            best = max(grid, key=lambda t: abs(err(t)))
            ext.append(mp.findroot(lambda t: mp.diff(err, t), best))
        ext.append(A)
        if len(ext) != n:
            raise RuntimeError(f"expected {n} extrema, got {len(ext)}")
        pts = ext
    emax = max(abs(err(A * (2 * mp.mpf(k) / 4000 - 1))) for k in range(4001))
    return a, emax


def hexd(v) -> str:
    return float(v).hex()


def main() -> None:
    a, emax = remez()
    print(f"// max relative error of the polynomial: {mp.nstr(emax, 6)} = 2^{mp.nstr(mp.log(emax, 2), 6)}")
    # scaled to r = 32 t (division by powers of two is exact)
    for j, c in enumerate(a, start=1):
        print(f"c{j} = {hexd(c / N**j)}")
    print(f"n_over_ln2 = {hexd(N / mp.log(2))}")
    print("table 2^(i/32):")
    for i in range(N):
        print(f"  {hexd(mp.power(2, mp.mpf(i) / N))},")


if __name__ == "__main__":
    main()
