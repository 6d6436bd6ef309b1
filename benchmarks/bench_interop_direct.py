"""skforecast's ForecasterDirect (one network per step) against one multi-output network.

ForecasterDirect(estimator, steps=H) clones the estimator H times and trains each on its
own one-step target; a tsbptt regressor fits the H-column target in one training. Both
sides here train the same network (same size, epochs, batch, seed, one thread) on the
same windows (``make_windows``' lags; LagLayout turns skforecast's rows into the same
sequences); the ratio is measured in one run, median of ``--repeats``.

    python benchmarks/bench_interop_direct.py                # H=12, 3 repeats
    python benchmarks/bench_interop_direct.py --steps 24 --repeats 1

Needs skforecast (``pip install "tsbptt[interop]"``).
"""
import argparse
import re
import sys
import time
import warnings
from importlib import metadata

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from tsbptt import LagLayout, LSTMRegressor, make_windows


def _net():
    return LSTMRegressor(hidden_size=16, max_iter=20, tol=0.0, batch_size=64,
                         random_state=0, n_threads=1)


def _series(n):
    t = np.arange(n)
    noise = 0.1 * np.random.default_rng(0).normal(size=n)
    return pd.Series(np.sin(2 * np.pi * t / 24) + noise, name="y")


def _timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _skforecast_pandas():
    """What skforecast needs of pandas, from its metadata where it is installed."""
    try:
        reqs = metadata.requires("skforecast") or []
    except metadata.PackageNotFoundError:
        return "skforecast and its pandas requirement"
    # the plain requirement only: ones with an ``extra ==`` marker are optional
    pins = [r.split(";")[0].strip() for r in reqs
            if re.match(r"pandas(?![\w.-])", r.strip(), re.I) and "extra" not in r]
    return (f"skforecast, which needs {', '.join(pins)} (pandas {pd.__version__} is "
            "installed here)" if pins else "skforecast and its pandas requirement")


def _forecaster_direct():
    """skforecast's ForecasterDirect, or exit saying what to install."""
    try:
        from skforecast.direct import ForecasterDirect
    except ImportError as exc:  # not installed, or installed beside a pandas it rejects
        sys.exit(f"bench_interop_direct.py needs skforecast ({exc}); "
                 f'pip install "tsbptt[interop]" installs {_skforecast_pandas()}')
    return ForecasterDirect


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--lags", type=int, default=24)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ForecasterDirect = _forecaster_direct()

    warnings.simplefilter("ignore", ConvergenceWarning)
    y, L, H = _series(args.n), args.lags, args.steps
    w = make_windows(y, lags=L, horizon=H, as_3d=True)

    def direct():
        pipe = make_pipeline(LagLayout(L), _net())
        ForecasterDirect(pipe, steps=H, lags=L).fit(y=y)

    def multi_output():
        _net().fit(w.X, w.y.to_numpy())

    t_direct, t_multi = _timed(direct, args.repeats), _timed(multi_output, args.repeats)
    print(f"series {args.n}, lags {L}, steps {H}, LSTM 16 units, 20 epochs, 1 thread, "
          f"median of {args.repeats}")
    print(f"ForecasterDirect ({H} networks): {t_direct:8.2f} s")
    print(f"one {H}-output network:          {t_multi:8.2f} s")
    print(f"ratio:                          {t_direct / t_multi:8.1f}x")


if __name__ == "__main__":
    main()
