"""Fit the coefficients of the kernels' float32 tanh (``tsb_tanhf`` in _simd_math.h).

tanh(x) ~ x P(z) / Q(z), z = x * x, on 0 <= x <= XMAX, P of degree NP and Q of degree
NQ in z, Q(0) = 1, towards the least largest relative error (P(0) is fitted too: it
comes out at 0.9999999987, 1 in float). The fit is the
linearised form x P(z) - tanh(x) Q(z) = 0 solved by weighted least squares, each pass
dividing by the last pass's Q (Sanathanan-Koerner) and raising the weights where the
error is largest (towards the minimax fit), on a Chebyshev-spaced grid; the best pass
is kept. The printed coefficients, rounded to float, are the ones to paste into
_simd_math.h (highest degree first, as Horner's rule uses them); then measure the
float error over every float with ``benchmarks/bench_tanhf.c`` (its header says how)
and update the bounds in _simd_math.h and tests/kernels/test_activations.py.

Run from anywhere (numpy only)::

    python tools/fit_tanhf.py                 # XMAX 9, NP 5, NQ 4: the shipped fit
    python tools/fit_tanhf.py --np 6 --nq 3   # another split of the degrees
"""
import argparse

import numpy as np


def fit(xmax, n_p, n_q, points=6000, passes=200):
    """(largest relative error in double, P's and Q's coefficients in z, lowest first)."""
    x = xmax * (1 - np.cos(np.linspace(0, np.pi, points))) / 2
    x = x[x > 1e-6]
    t = np.tanh(x)    # within an ulp of double: 1e-16, against a fit of 1e-9
    s = 1.0 / xmax ** 2           # u = z s lies in [0, 1]: a well-conditioned basis
    u = x * x * s
    vp = np.vander(u, n_p + 1, increasing=True) * x[:, None]
    vq = np.vander(u, n_q + 1, increasing=True)
    q_last, w, best = np.ones_like(x), np.ones_like(x), None
    for _ in range(passes):
        # x P(u) - t Q(u) = 0 with Q's constant term 1: unknowns p_0..p_NP, q_1..q_NQ
        a = np.hstack([vp, -t[:, None] * vq[:, 1:]])
        scale = w / (np.abs(t) * np.abs(q_last))
        c, *_ = np.linalg.lstsq(a * scale[:, None], t * scale, rcond=None)
        p, q = c[:n_p + 1], np.concatenate([[1.0], c[n_p + 1:]])
        q_last = vq @ q
        rel = (vp @ p) / q_last / t - 1
        worst = np.abs(rel).max()
        if best is None or worst < best[0]:
            best = (worst, p.copy(), q.copy())
        w = w * (np.abs(rel) / worst) ** 0.5 + 1e-6
        w /= w.max()
    worst, p, q = best
    # back from u = z s to z
    return worst, p * s ** np.arange(n_p + 1), q * s ** np.arange(n_q + 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xmax", type=float, default=9.0,
                        help="fit on [0, XMAX]; tsb_tanhf returns +-1 beyond (default 9)")
    parser.add_argument("--np", dest="n_p", type=int, default=5, help="degree of P in z")
    parser.add_argument("--nq", dest="n_q", type=int, default=4, help="degree of Q in z")
    args = parser.parse_args()
    worst, p, q = fit(args.xmax, args.n_p, args.n_q)
    print(f"largest relative error in double: {worst:.3e}")
    for name, coef in (("p", p), ("q", q)):
        print(f"{name}, highest degree first (float):")
        for v in coef[::-1].astype(np.float32):
            print(f"    {v:.9e}f")


if __name__ == "__main__":
    main()
