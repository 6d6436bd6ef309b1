"""How the Forecaster scales with the number of series (issue #15's targets).

Hourly series of ``--steps`` steps (a daily sine, a level per series, noise) in
the long layout, ``Forecaster(Ridge(), lags=24, horizon=24)``: the median fit and
predict times over ``--repeats`` runs at each ``--sizes`` count, and the growth
exponent ``b`` of ``time ~ n_series ** b`` (a least-squares line in log-log).
Times are CPU seconds of this process (``time.process_time``; one thread, so on a
shared machine they are what a quiet core would take, near enough) with the wall
time beside them; ``peak MB`` is the process's peak resident memory after that
size (``ru_maxrss``: sizes run in increasing order, so it is the largest size's).
With ``--baseline PATH`` the same measurement runs in a subprocess on another
checkout (e.g. the main branch before the grouped panel) in the same run.

The GRU part fits ``Forecaster(GRURegressor(random_state=0), lags=24, horizon=24)``
with the forecasting defaults on ``--gru-series`` series. "The kernels' time for
the same windows" is defined as: the network's ``fit`` on the very window arrays
the Forecaster gave it (captured from the fit), with the same parameters, so the
same epochs (``random_state=0``), timed on its own after the Forecaster's fit.
The ratio of the Forecaster's whole fit to it, per epoch, is what the panel
layer (windows, scaling, the window model's linear part and validation) adds.

Everything runs on one thread (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, set
before NumPy loads).

    python benchmarks/bench_panel.py --sizes 1000 3000 10000 --baseline /work/main
    python benchmarks/bench_panel.py --sizes 1000 10000 100000 --repeats 1 --gru-series 0
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

from _common import tsbptt  # noqa: E402


def panel(n_series, steps, seed=0):
    """A long Series: (unique_id, ds) MultiIndex, hourly, a daily cycle per series."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    level = rng.uniform(5, 50, (n_series, 1))
    values = level * (1 + 0.2 * np.sin(2 * np.pi * t / 24)) + rng.normal(0, 1, (n_series,
                                                                              steps))
    index = pd.MultiIndex.from_arrays(
        [np.repeat(np.arange(n_series), steps),
         np.tile(pd.date_range("2024-01-01", periods=steps, freq="h"), n_series)],
        names=["unique_id", "ds"])
    return pd.Series(values.ravel(), index=index, name="y")


def _clocks():
    return time.process_time(), time.perf_counter()


def time_ridge(n_series, steps, repeats):
    y = panel(n_series, steps)
    fits, predicts, walls = [], [], []
    for _ in range(repeats):
        f = tsbptt.Forecaster(Ridge(), lags=24, horizon=24)
        c0, w0 = _clocks()
        f.fit(y)
        c1, w1 = _clocks()
        f.predict()
        c2, w2 = _clocks()
        fits.append(c1 - c0)
        predicts.append(c2 - c1)
        walls.append((w1 - w0, w2 - w1))
        del f
    del y
    return {"n_series": n_series, "fit_s": float(np.median(fits)),
            "predict_s": float(np.median(predicts)),
            "fit_wall_s": float(np.median([w[0] for w in walls])),
            "predict_wall_s": float(np.median([w[1] for w in walls])),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def time_gru(n_series, steps, max_iter):
    """The whole Forecaster fit, and the network's fit on the windows it was given
    (captured, then refitted on its own: the kernels' time for the same windows)."""
    cls = tsbptt.GRURegressor
    calls, original = [], cls.fit

    def capture(self, X, y, *args, **kwargs):
        calls.append((clone(self), np.array(X, copy=True), np.array(y, copy=True)))
        return original(self, X, y, *args, **kwargs)

    with warnings.catch_warnings():  # warm up: the first fit of a process loads
        warnings.simplefilter("ignore")  # threadpoolctl's view of the BLAS libraries
        cls(hidden_size=2, max_iter=1).fit(np.zeros((8, 3)), np.zeros(8))
    y = panel(n_series, steps)
    params = {"random_state": 0} if max_iter is None else {"random_state": 0,
                                                           "max_iter": max_iter}
    f = tsbptt.Forecaster(cls(**params), lags=24, horizon=24)
    cls.fit = capture
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c0, w0 = _clocks()
            f.fit(y)
            c1, w1 = _clocks()
    finally:
        cls.fit = original
    template, X, Y = calls[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c2, w2 = _clocks()
        net = template.fit(X, Y)
        c3, w3 = _clocks()
    epochs = net.n_iter_
    total, alone = c1 - c0, c3 - c2
    return {"n_series": n_series, "fit_s": total, "fit_wall_s": w1 - w0,
            "network_fit_s": alone, "network_fit_wall_s": w3 - w2, "epochs": epochs,
            "windows": list(X.shape), "per_epoch_s": total / epochs,
            "network_per_epoch_s": alone / epochs, "ratio": total / alone}


def exponent(rows, key):
    n = np.log([r["n_series"] for r in rows])
    t = np.log([r[key] for r in rows])
    return float(np.polyfit(n, t, 1)[0]) if len(rows) > 1 else float("nan")


def run_baseline(path, args):
    env = dict(os.environ, PYTHONPATH=os.path.abspath(path))
    cmd = [sys.executable, __file__, "--worker", "--steps", str(args.steps),
           "--repeats", str(args.repeats), "--sizes", *map(str, args.sizes)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--baseline", help="another checkout to time in the same run")
    p.add_argument("--gru-series", type=int, default=1000, help="0: skip the GRU part")
    p.add_argument("--gru-epochs", type=int, default=None,
                   help="the network's max_iter (default: the forecasting budget's)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    rows = [time_ridge(n, args.steps, args.repeats) for n in args.sizes]
    if args.worker:
        print(json.dumps(rows))
        return
    print(f"tsbptt {tsbptt.__version__} from {os.path.dirname(tsbptt.__file__)}; "
          f"threads: OMP={os.environ['OMP_NUM_THREADS']} "
          f"OPENBLAS={os.environ['OPENBLAS_NUM_THREADS']}; load {os.getloadavg()[0]:.1f}")
    base = run_baseline(args.baseline, args) if args.baseline else None
    print(f"Ridge, lags=24, horizon=24, {args.steps} hourly steps, median of "
          f"{args.repeats}; CPU seconds (wall in brackets)")
    print(f"{'series':>8} {'fit s':>14} {'predict s':>14} {'peak MB':>8}"
          + (f" {'base fit':>9} {'base pred':>9} {'speed-up':>9}" if base else ""))
    for i, r in enumerate(rows):
        line = (f"{r['n_series']:>8} {r['fit_s']:>6.2f} ({r['fit_wall_s']:>5.1f}) "
                f"{r['predict_s']:>6.2f} ({r['predict_wall_s']:>5.1f}) {r['peak_mb']:>8.0f}")
        if base:
            b = base[i]
            line += (f" {b['fit_s']:>9.2f} {b['predict_s']:>9.2f} "
                     f"{b['fit_s'] / r['fit_s']:>8.1f}x")
        print(line)
    print(f"growth exponent: fit {exponent(rows, 'fit_s'):.2f}, predict "
          f"{exponent(rows, 'predict_s'):.2f}" + (
              f" (baseline fit {exponent(base, 'fit_s'):.2f}, predict "
              f"{exponent(base, 'predict_s'):.2f})" if base else ""))
    gru = None
    if args.gru_series:
        gru = time_gru(args.gru_series, args.steps, args.gru_epochs)
        print(f"GRU (defaults, max_iter={args.gru_epochs or 'budget'}) on "
              f"{gru['n_series']} series, CPU s: Forecaster fit {gru['fit_s']:.2f} "
              f"(wall {gru['fit_wall_s']:.1f}); the network alone on the same windows "
              f"{gru['windows']} {gru['network_fit_s']:.2f} (wall "
              f"{gru['network_fit_wall_s']:.1f}) over {gru['epochs']} epochs; per epoch "
              f"{gru['per_epoch_s']:.3f} vs {gru['network_per_epoch_s']:.3f} "
              f"(ratio {gru['ratio']:.2f}; target <= 1.3)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"ridge": rows, "baseline": base, "gru": gru}, fh, indent=1)


if __name__ == "__main__":
    main()
