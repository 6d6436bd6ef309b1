"""Does the default thread count ever hurt? A default fit (``n_threads=None``)
against the same fit with ``n_threads=1``, in the same run.

Run it on an idle machine and again with every core busy::

    python benchmarks/bench_threads.py
    ../shared/tools/busy python benchmarks/bench_threads.py   # one busy loop per core
    python benchmarks/bench_threads.py --sizes large --breakdown  # where the time goes

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
from tsbptt.engine import _cells

#: (batch, steps, features, hidden, samples, epochs): a large call and a small one.
SIZES = {
    "large": (128, 100, 8, 128, 512, 2),
    "medium": (256, 48, 4, 64, 1024, 3),
    "small": (32, 24, 1, 32, 512, 6),
}


#: Seconds spent in the recurrent kernels' calls (forward and backward), when counted.
_kernel_seconds = [0.0]


def count_kernel_time():
    """Make LSTMCell.forward and .backward (the kernel calls with their argument
    checks and workspaces) add their wall time to ``_kernel_seconds``."""
    def timed(method):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                _kernel_seconds[0] += time.perf_counter() - start
        return wrapper

    for name in ("forward", "backward"):
        setattr(_cells.LSTMCell, name, timed(getattr(_cells.LSTMCell, name)))


def time_fit(size, n_threads, seed=0):
    """Seconds for one fit at ``size`` with ``n_threads``: (whole fit, kernels)."""
    B, T, F, H, n, epochs = size
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, F)).astype(np.float32)
    y = X[:, -3:, 0].mean(axis=1)
    est = LSTMRegressor(H, batch_size=B, max_iter=epochs, n_threads=n_threads,
                        early_stopping=False, tol=0.0, random_state=0, shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _kernel_seconds[0] = 0.0
        start = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - start, _kernel_seconds[0]


def measure(size, settings, repeats):
    """Median seconds per setting, (whole fit, kernels), the settings run in turn
    ``repeats`` times, the order rotated each time (a fit can slow the one after
    it: OpenMP threads still spinning, caches)."""
    times = {s: [] for s in settings}
    time_fit(size, 1)  # warm up: kernel selection, page faults
    for r in range(repeats):
        for s in settings[r % len(settings):] + settings[:r % len(settings)]:
            times[s].append(time_fit(size, s))
    return {s: tuple(float(x) for x in np.median(v, axis=0)) for s, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--sizes", nargs="+", choices=sorted(SIZES),
                   default=["large", "medium", "small"])
    p.add_argument("--breakdown", action="store_true",
                   help="also time the kernel calls: kernel and other seconds per setting")
    args = p.parse_args(argv)
    if args.breakdown:
        count_kernel_time()
    _, lines = header_lines(None, True, "default (None) vs 1 vs 2")
    print("\n".join(lines[:3] + lines[-1:]))
    print(f"busy loops: {os.environ.get('BUSY_N', '(unset)')}  (set by tools/busy)")
    settings = (None, 1, 2)
    print(f"{'size (B,T,F,H)':<22}{'1 thread s':>11}{'2 threads s':>12}{'default s':>11}"
          f"{'default/1':>11}{'1/2 speed-up':>14}")
    for name in args.sizes:
        size = SIZES[name]
        both = measure(size, settings, args.repeats)
        med = {s: v[0] for s, v in both.items()}
        print(f"{str(size[:4]):<22}{med[1]:>11.3f}{med[2]:>12.3f}{med[None]:>11.3f}"
              f"{med[None] / med[1]:>11.2f}{med[1] / med[2]:>14.2f}", flush=True)
        if args.breakdown:  # medians of each part, so kernel + other ~ the whole
            for s, (whole, kernel) in both.items():
                print(f"  n_threads={s!s:<5} kernels {kernel:.3f} s, other "
                      f"{whole - kernel:.3f} s ({(whole - kernel) / whole:.0%})")
            k1, k2 = both[1][1], both[2][1]
            print(f"  kernels alone: 1/2 speed-up {k1 / k2:.2f}", flush=True)
    print(f"medians of {args.repeats} fits per cell, settings in rotated order; fits of "
          + ", ".join(f"{n} samples x {e} epochs" for *_, n, e in
                      (SIZES[name] for name in args.sizes)))


if __name__ == "__main__":
    main()
