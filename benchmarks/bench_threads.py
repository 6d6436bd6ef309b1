"""Does the default thread count ever hurt? A default fit (``n_threads=None``)
against the same fit with ``n_threads=1``, in the same run.

Run it on an idle machine and again with every core busy::

    python benchmarks/bench_threads.py
    ../shared/tools/busy python benchmarks/bench_threads.py   # one busy loop per core

Each row times ``LSTMRegressor.fit`` (float32, a fixed number of epochs, no early
stopping) at one size, alternating the thread settings so that a change of load
hits both alike; the ratio is median(default) / median(n_threads=1). Targets:
busy, default <= 1.2x the one-thread time; idle, two threads >= 1.6x faster than
one at (128, 100, 8, 128).
"""
import argparse
import os
import time
import warnings

import numpy as np

from _common import header_lines
from tsbptt import LSTMRegressor

#: (batch, steps, features, hidden, samples, epochs): a large call and a small one.
SIZES = {
    "large": (128, 100, 8, 128, 512, 2),
    "medium": (256, 48, 4, 64, 1024, 3),
    "small": (32, 24, 1, 32, 512, 6),
}


def time_fit(size, n_threads, seed=0):
    """Seconds for one fit at ``size`` with ``n_threads``."""
    B, T, F, H, n, epochs = size
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, F)).astype(np.float32)
    y = X[:, -3:, 0].mean(axis=1)
    est = LSTMRegressor(H, batch_size=B, max_iter=epochs, n_threads=n_threads,
                        early_stopping=False, tol=0.0, random_state=0, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start


def measure(size, settings, repeats):
    """Median seconds per setting, the settings run in turn ``repeats`` times, the
    order rotated each time (a fit can slow the one after it: OpenMP threads
    still spinning, caches)."""
    times = {s: [] for s in settings}
    time_fit(size, 1)  # warm up: kernel selection, page faults
    for r in range(repeats):
        for s in settings[r % len(settings):] + settings[:r % len(settings)]:
            times[s].append(time_fit(size, s))
    return {s: float(np.median(v)) for s, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--sizes", nargs="+", choices=sorted(SIZES),
                   default=["large", "medium", "small"])
    args = p.parse_args(argv)
    _, lines = header_lines(None, True, "default (None) vs 1 vs 2")
    print("\n".join(lines[:3] + lines[-1:]))
    print(f"busy loops: {os.environ.get('BUSY_N', '(unset)')}  (set by tools/busy)")
    settings = (None, 1, 2)
    print(f"{'size (B,T,F,H)':<22}{'1 thread s':>11}{'2 threads s':>12}{'default s':>11}"
          f"{'default/1':>11}{'1/2 speed-up':>14}")
    for name in args.sizes:
        size = SIZES[name]
        med = measure(size, settings, args.repeats)
        print(f"{str(size[:4]):<22}{med[1]:>11.3f}{med[2]:>12.3f}{med[None]:>11.3f}"
              f"{med[None] / med[1]:>11.2f}{med[1] / med[2]:>14.2f}", flush=True)
    print(f"medians of {args.repeats} fits per cell, settings in rotated order; fits of "
          + ", ".join(f"{n} samples x {e} epochs" for *_, n, e in
                      (SIZES[name] for name in args.sizes)))


if __name__ == "__main__":
    main()
