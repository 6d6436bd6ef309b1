"""The ESN readout with its compiled design-matrix passes against NumPy's, in one
process, interleaved (the same bits either way; tests/kernels/test_esn_panel.py).

The design is the stateful Forecaster fit's (``bench_esn.py`` part 2): the states
of ``ESNRegressor()`` over 4,000 Mackey-Glass steps after the washout of 48, plus
the input column (3,951 x 201, float32). CPU ms, medians over ``--rounds`` of
alternating calls, one BLAS thread::

    python benchmarks/bench_esn_readout_ab.py --rounds 41
"""
import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import tsbptt.estimators._esn_readout as readout
from tsbptt.datasets import make_mackey_glass
from tsbptt.estimators import ESNRegressor
from tsbptt.estimators._esn import DEFAULT_ALPHAS


def _design():
    s = make_mackey_glass(4000)
    est = ESNRegressor(random_state=0, n_threads=1, washout=48)
    U, y = s[:-1].reshape(1, -1, 1), s[1:].reshape(1, -1)
    est.fit(U, y)  # per-step targets: the stateful Forecaster's fit
    _, _, states = est._run(est._scale(U, np.array([U.shape[1]])), [U.shape[1]],
                            states=True)
    parts = [states[0, 48:], est._scale(U, np.array([U.shape[1]]))[0, 48:]]
    return parts, y[0, 48:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    args = parser.parse_args()
    parts, y = _design()
    compiled = readout._compiled
    x_mean = np.concatenate([readout._column_means(P) for P in parts])
    b = (y - y.mean())[:, None]
    calls = {
        "means": lambda: [readout._column_means(P) for P in parts],
        "Gram (centring + syrk)": lambda: readout._centred_gram(parts, x_mean, None, b),
        "ridge_gcv": lambda: readout.ridge_gcv(parts, y, None, list(DEFAULT_ALPHAS))}
    times = {(name, way): [] for name in calls for way in ("numpy", "compiled")}
    with threadpool_limits(1, "blas"):
        for _ in range(args.rounds + 1):
            for name, fn in calls.items():
                for way in ("numpy", "compiled"):
                    readout._compiled = compiled if way == "compiled" else \
                        (lambda P: False)
                    t0 = time.process_time()
                    fn()
                    times[name, way].append(time.process_time() - t0)
    readout._compiled = compiled
    for name in calls:
        a, c = (1e3 * statistics.median(times[name, w][1:]) for w in ("numpy", "compiled"))
        print(f"{name:<24} numpy passes {a:6.2f} ms  compiled {c:6.2f} ms  ({a / c:.2f}x)")


if __name__ == "__main__":
    main()
