"""The window model's leave-one-out ridge on wide windows: thin SVD against Gram eigh.

A Forecaster with ``series_id`` over many series gives its window model's ridges one
one-hot column per series beside the lags: designs of thousands of windows by
thousands of columns, which ``loo_ridge`` decomposes once to score every penalty.
This times both of its routes on the same design, in one process, alternating, one
BLAS thread (as the library runs them): the thin SVD (``GRAM_FROM`` set past the
design) and the eigendecomposition of the smaller side's Gram matrix (``GRAM_FROM``
= 1), and prints the median seconds of each, their ratio, the penalty each chose
and the largest difference of their coefficients.

    python benchmarks/bench_loo_ridge.py                   # 2,000 windows, 50 series
    python benchmarks/bench_loo_ridge.py --windows 4100 --series 100 --repeats 1
"""
import argparse
import statistics
import time

import numpy as np
from _common import tsbptt  # noqa: F401 (puts the source tree first)
from threadpoolctl import threadpool_limits

from tsbptt.forecasting import _window_model
from tsbptt.forecasting._window_model import loo_ridge


def design(n_windows, n_series, lags, seed=0):
    """Windows of ``lags`` values plus a one-hot column per series (``series_id``),
    and two targets: (X of shape (n_windows, lags * (n_series + 1)), Y (n, 2))."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n_windows) % n_series
    values = rng.normal(size=(n_windows, lags)) + ids[:, None] * 0.01
    one_hot = np.repeat(np.eye(n_series)[ids], lags, axis=1)  # one per lag, as it is
    X = np.column_stack([values, one_hot])
    Y = values[:, -2:] @ [[0.6, 0.1], [0.3, 0.5]] + rng.normal(size=(n_windows, 2))
    return X, Y


def timed(X, Y, gram_from):
    """Seconds of one loo_ridge with ``GRAM_FROM`` = ``gram_from``, and its ridge."""
    _window_model.GRAM_FROM = gram_from
    start = time.perf_counter()
    ridge = loo_ridge(X, Y)
    return time.perf_counter() - start, ridge


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--lags", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, Y = design(args.windows, args.series, args.lags)
    routes = {"svd": max(X.shape) + 1, "gram": 1}
    times = {name: [] for name in routes}
    ridges = {}
    with threadpool_limits(1):
        for _ in range(args.repeats):
            for name, gram_from in routes.items():
                seconds, ridges[name] = timed(X, Y, gram_from)
                times[name].append(seconds)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"design {X.shape[0]} windows x {X.shape[1]} columns, 2 targets, 1 BLAS thread, "
          f"{args.repeats} repeat(s), medians")
    for name in routes:
        print(f"  {name:5s} {med[name]:8.2f} s  alpha {ridges[name].alpha:g}")
    diff = np.abs(ridges["gram"].coef_ - ridges["svd"].coef_).max()
    scale = np.abs(ridges["svd"].coef_).max()
    print(f"  svd / gram: {med['svd'] / med['gram']:.2f}; largest coefficient difference "
          f"{diff:.2e} (of {scale:.2e})")


if __name__ == "__main__":
    main()
