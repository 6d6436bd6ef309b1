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
The ratio of the Forecaster's whole fit to it is the whole-fit ratio: what the
panel layer (reading, scaling, windows, the window model's linear part and
validation) adds, mostly once per fit, divided by the network's few epochs.

The per-epoch part (``--epoch-series``) measures the issue's "fit time per epoch"
as a marginal cost: Forecaster fits of ``--epoch-pair E1 E2`` epochs (early
stopping made inert: ``tol=0``, a patience of E2; the budget's windows
otherwise), ``(t(E2) - t(E1)) / (E2 - E1)``, against the same difference for the
network alone on the windows the Forecaster gave it (captured from an E2 fit),
the four fits interleaved ``--epoch-repeats`` times, medians. It also prints the
panel layer's fixed cost, ``t_Forecaster(E1) - t_network(E1)``. ``--phases N``
times the phases of two default GRU fits on N series (timers wrapped around the
panel layer's functions, see ``PHASES``). ``--update-series N ...`` times
``Forecaster.update`` of 12 new steps a series after a fit on the rest, and a
backtest over 4 origins 12 steps apart with ``refit=True`` and ``refit=False``.

Everything runs on one thread (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, set
before NumPy loads).

    python benchmarks/bench_panel.py --sizes 1000 3000 10000 --baseline ../tsbptt-before
    python benchmarks/bench_panel.py --sizes 1000 10000 100000 --repeats 1 --gru-series 0 \
        --epoch-series
    python benchmarks/bench_panel.py --sizes --gru-series 1000 10000 \
        --epoch-series 1000 10000 --epoch-repeats 5 --baseline ../tsbptt-before
    python benchmarks/bench_panel.py --sizes --gru-series --epoch-series \
        --update-series 1000 4000 --baseline ../tsbptt-before
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


def time_update(n_series, steps, repeats, new=12, cutoffs=4):
    """``Forecaster.update`` of ``new`` steps a series after a fit on the rest, and
    a backtest over ``cutoffs`` origins ``new`` steps apart with ``refit`` True and
    False (CPU seconds, medians of ``repeats``)."""
    y = panel(n_series, steps)
    pos = y.groupby(level=0).cumcount().to_numpy()
    known, fresh = y[pos < steps - new], y[pos >= steps - new]
    updates, refits, moves = [], [], []
    for _ in range(repeats):
        f = tsbptt.Forecaster(Ridge(), lags=24, horizon=new).fit(known)
        c0, _ = _clocks()
        f.update(fresh)
        updates.append(_clocks()[0] - c0)
        for refit, out in ((True, refits), (False, moves)):
            c0, _ = _clocks()
            tsbptt.backtest(tsbptt.Forecaster(Ridge(), lags=24, horizon=new), y,
                            initial=steps - cutoffs * new, step=new, horizon=new,
                            season=24, refit=refit)
            out.append(_clocks()[0] - c0)
    return {"n_series": n_series, "update_s": float(np.median(updates)),
            "update_ms_per_series": float(np.median(updates)) / n_series * 1e3,
            "backtest_refit_s": float(np.median(refits)),
            "backtest_move_s": float(np.median(moves))}


def _quiet_fit(model, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c0, w0 = _clocks()
        model.fit(*args)
        c1, w1 = _clocks()
    return c1 - c0, w1 - w0


def _warm_up():
    """The first fit of a process loads threadpoolctl's view of the BLAS libraries."""
    _quiet_fit(tsbptt.GRURegressor(hidden_size=2, max_iter=1), np.zeros((8, 3)), np.zeros(8))


def _captured(n_series, steps, params):
    """A Forecaster fit with the network's fit intercepted: (the Forecaster's CPU
    and wall seconds, the network's template, its X, its y)."""
    cls = tsbptt.GRURegressor
    calls, original = [], cls.fit

    def capture(self, X, y, *args, **kwargs):
        calls.append((clone(self), np.array(X, copy=True), np.array(y, copy=True)))
        return original(self, X, y, *args, **kwargs)

    y = panel(n_series, steps)
    f = tsbptt.Forecaster(cls(**params), lags=24, horizon=24)
    cls.fit = capture
    try:
        cpu, wall = _quiet_fit(f, y)
    finally:
        cls.fit = original
    return (cpu, wall), y, calls[-1]


def time_gru(n_series, steps, max_iter):
    """The whole Forecaster fit, and the network's fit on the windows it was given
    (captured, then refitted on its own: the kernels' time for the same windows)."""
    _warm_up()
    params = {"random_state": 0} if max_iter is None else {"random_state": 0,
                                                           "max_iter": max_iter}
    (total, wall), _, (template, X, Y) = _captured(n_series, steps, params)
    alone, alone_wall = _quiet_fit(template, X, Y)
    epochs = template.n_iter_
    return {"n_series": n_series, "fit_s": total, "fit_wall_s": wall,
            "network_fit_s": alone, "network_fit_wall_s": alone_wall, "epochs": epochs,
            "windows": list(X.shape), "per_epoch_s": total / epochs,
            "network_per_epoch_s": alone / epochs, "ratio": total / alone}


def time_gru_epochs(n_series, steps, epochs, repeats):
    """The marginal cost of one epoch: Forecaster fits of ``epochs = (E1, E2)``
    epochs each, ``(t(E2) - t(E1)) / (E2 - E1)``, against the same for the network
    alone on the windows the Forecaster gave it (captured from an E2 fit).

    ``training='auto'`` turns the class default ``early_stopping=False`` into the
    budget's True, so early stopping cannot be switched off there; it is made
    inert instead (``tol=0`` and a patience of E2 epochs), so every fit runs
    exactly E epochs, scoring the same validation tail each epoch on both sides.
    """
    e1, e2 = epochs
    _warm_up()

    def params(e):
        return {"random_state": 0, "max_iter": e, "tol": 0.0, "n_iter_no_change": e2}

    _, y, (template, X, Y) = _captured(n_series, steps, params(e2))
    times = {k: [] for k in ("f1", "f2", "n1", "n2")}
    for _ in range(repeats):  # interleaved, so load drifts hit every column alike
        for key, e in (("f1", e1), ("f2", e2)):
            f = tsbptt.Forecaster(tsbptt.GRURegressor(**params(e)), lags=24, horizon=24)
            times[key].append(_quiet_fit(f, y)[0])
            if f.estimator_.estimator_.n_iter_ != e:
                raise RuntimeError(f"the Forecaster's network ran "
                                   f"{f.estimator_.estimator_.n_iter_} epochs, not {e}")
        for key, e in (("n1", e1), ("n2", e2)):
            net = clone(template).set_params(max_iter=e)
            times[key].append(_quiet_fit(net, X, Y)[0])
            if net.n_iter_ != e:
                raise RuntimeError(f"the network ran {net.n_iter_} epochs, not {e}")
    med = {k: float(np.median(v)) for k, v in times.items()}
    per_f, per_n = (med["f2"] - med["f1"]) / (e2 - e1), (med["n2"] - med["n1"]) / (e2 - e1)
    return {"n_series": n_series, "epochs": [e1, e2], "windows": list(X.shape),
            "repeats": repeats, **{f"{k}_s": v for k, v in med.items()},
            "forecaster_per_epoch_s": per_f, "network_per_epoch_s": per_n,
            "per_epoch_ratio": per_f / per_n,
            "fixed_s": med["f1"] - med["n1"],  # what the panel layer adds once
            "whole_ratio_e1": med["f1"] / med["n1"], "whole_ratio_e2": med["f2"] / med["n2"]}


#: The phases ``--phases`` times: (module path, owner, function, label). Missing
#: ones (another checkout's) are skipped.
PHASES = [
    ("tsbptt.forecasting._forecaster", None, "to_entries", "reading the panel"),
    ("tsbptt.forecasting._forecaster", "Forecaster", "_check_lengths", "length checks"),
    ("tsbptt.forecasting._forecaster", "Forecaster", "_fit_scaling", "scaling statistics"),
    ("tsbptt.forecasting._forecaster", "Forecaster", "_scaled", "scaled series"),
    ("tsbptt.forecasting._forecaster", "Forecaster", "_scaled_all", "scaled series"),
    ("tsbptt.forecasting._forecaster", "Forecaster", "_fit_model", "windows + model"),
    ("tsbptt.forecasting._window_model", "WindowModel", "fit", "  window model"),
    ("tsbptt.forecasting._window_model", "WindowModel", "_fit_linear", "    linear part"),
    ("tsbptt.forecasting._window_model", None, "loo_alpha", "      loo_alpha"),
    ("tsbptt.forecasting._window_model", None, "loo_ridge", "      loo_ridge"),
    ("tsbptt.forecasting._window_model", "WindowModel", "_fit_members", "    network"),
    ("tsbptt.forecasting._window_model", "WindowModel", "_correction", "    validation"),
]


def time_phases(n_series, steps, repeats):
    """CPU seconds of the default GRU Forecaster's fit and of its phases (timers
    wrapped around the functions of ``PHASES``; the time order's argsort, where
    there is one, counted as its own phase): one dict per repeat."""
    import importlib
    from collections import defaultdict

    from tsbptt.forecasting import _strategies
    acc, undo = defaultdict(float), []

    def timed(fn, label):
        def wrapper(*args, **kwargs):
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[label] += time.process_time() - c0
        return wrapper

    for module, owner, name, label in PHASES:
        obj = importlib.import_module(module)
        if owner is not None:  # the class (a mixin, maybe) that defines it
            obj = next((k for k in getattr(obj, owner).__mro__ if name in vars(k)), None)
        if obj is not None and name in vars(obj):
            undo.append((obj, name, vars(obj)[name]))
            setattr(obj, name, timed(getattr(obj, name), label))
    argsort = np.argsort
    _strategies.np = type(sys)("np_timed")  # only _strategies' argsort is timed
    _strategies.np.__dict__.update(np.__dict__, argsort=timed(argsort, "  argsort"))
    _warm_up()
    y, out = panel(n_series, steps), []
    try:
        for _ in range(repeats):
            acc.clear()
            f = tsbptt.Forecaster(tsbptt.GRURegressor(random_state=0), lags=24, horizon=24)
            total = _quiet_fit(f, y)[0]
            out.append({"total": total, **acc})
    finally:
        _strategies.np = np
        for obj, name, fn in undo:
            setattr(obj, name, fn)
    return out


def exponent(rows, key):
    n = np.log([r["n_series"] for r in rows])
    t = np.log([r[key] for r in rows])
    return float(np.polyfit(n, t, 1)[0]) if len(rows) > 1 else float("nan")


def measure(args):
    """Every figure this run asks for, in this process: a JSON-able dict."""
    out = {"ridge": [time_ridge(n, args.steps, args.repeats) for n in args.sizes]}
    out["gru"] = [time_gru(n, args.steps, args.gru_epochs) for n in args.gru_series if n]
    out["epochs"] = [time_gru_epochs(n, args.steps, args.epoch_pair, args.epoch_repeats)
                     for n in args.epoch_series if n]
    out["phases"] = time_phases(args.phases, args.steps, 2) if args.phases else []
    out["update"] = [time_update(n, args.steps, args.repeats) for n in args.update_series]
    return out


def run_baseline(path, args):
    """The same measurement on another checkout, in a subprocess."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(path))
    cmd = [sys.executable, __file__, "--worker", *args.argv]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.abspath(__file__)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def report_ridge(rows, base, args):
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
    if rows:
        print(f"growth exponent: fit {exponent(rows, 'fit_s'):.2f}, predict "
              f"{exponent(rows, 'predict_s'):.2f}" + (
                  f" (baseline fit {exponent(base, 'fit_s'):.2f}, predict "
                  f"{exponent(base, 'predict_s'):.2f})" if base else ""))


def report_gru(rows, base, args, who=""):
    for i, g in enumerate(rows):
        print(f"GRU{who} (defaults, max_iter={args.gru_epochs or 'budget'}) on "
              f"{g['n_series']} series, CPU s: Forecaster fit {g['fit_s']:.2f} "
              f"(wall {g['fit_wall_s']:.1f}); the network alone on the same windows "
              f"{g['windows']} {g['network_fit_s']:.2f} (wall "
              f"{g['network_fit_wall_s']:.1f}) over {g['epochs']} epochs; per epoch "
              f"{g['per_epoch_s']:.3f} vs {g['network_per_epoch_s']:.3f} "
              f"(whole-fit ratio {g['ratio']:.2f}; target <= 1.3)")
    for i, g in enumerate(base or []):
        print(f"  baseline: Forecaster fit {g['fit_s']:.2f}, network alone "
              f"{g['network_fit_s']:.2f} over {g['epochs']} epochs, ratio {g['ratio']:.2f}")


def report_epochs(rows, base):
    for i, m in enumerate(rows):
        e1, e2 = m["epochs"]
        print(f"GRU per epoch on {m['n_series']} series ({m['windows']} network windows, "
              f"median of {m['repeats']}), CPU s: Forecaster {e1} / {e2} epochs "
              f"{m['f1_s']:.3f} / {m['f2_s']:.3f}, network alone {m['n1_s']:.3f} / "
              f"{m['n2_s']:.3f}; marginal per epoch {m['forecaster_per_epoch_s']:.4f} vs "
              f"{m['network_per_epoch_s']:.4f} (ratio {m['per_epoch_ratio']:.2f}; target "
              f"<= 1.3); fixed cost of the panel layer {m['fixed_s']:.3f}; whole-fit "
              f"ratio {m['whole_ratio_e1']:.2f} at {e1} epochs, {m['whole_ratio_e2']:.2f} "
              f"at {e2}")
        if base:
            b = base[i]
            print(f"  baseline: Forecaster {b['f1_s']:.3f} / {b['f2_s']:.3f}, network "
                  f"{b['n1_s']:.3f} / {b['n2_s']:.3f}, per-epoch ratio "
                  f"{b['per_epoch_ratio']:.2f}, fixed {b['fixed_s']:.3f}")


def report_update(rows, base):
    for i, u in enumerate(rows):
        line = (f"update of 12 new steps on {u['n_series']} series, CPU s: "
                f"{u['update_s']:.2f} ({u['update_ms_per_series']:.2f} ms a series); "
                f"backtest over 4 origins, refit=True {u['backtest_refit_s']:.2f}, "
                f"refit=False {u['backtest_move_s']:.2f}")
        if base:
            b = base[i]
            line += (f"; baseline update {b['update_s']:.2f}, backtest "
                     f"{b['backtest_refit_s']:.2f} / {b['backtest_move_s']:.2f}")
        print(line)


def _without_baseline(argv):
    """``argv`` less ``--baseline`` and its path, in any spelling argparse takes:
    ``--baseline PATH``, ``--baseline=PATH`` and the abbreviations (``--base``)."""
    out, skip = [], False
    for a in argv:
        if skip:  # the path after a separate --baseline
            skip = False
            continue
        flag, eq, _ = a.partition("=")
        if len(flag) > 2 and "--baseline".startswith(flag):  # only --baseline starts --b
            skip = not eq
            continue
        out.append(a)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[1000, 3000, 10000],
                   help="series counts for the Ridge part (none: skip it)")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--baseline", help="another checkout to time in the same run")
    p.add_argument("--gru-series", type=int, nargs="*", default=[1000],
                   help="series counts for the whole GRU fit (0 or none: skip)")
    p.add_argument("--gru-epochs", type=int, default=None,
                   help="the network's max_iter (default: the forecasting budget's)")
    p.add_argument("--epoch-series", type=int, nargs="*", default=[1000, 10000],
                   help="series counts for the marginal per-epoch cost (none: skip)")
    p.add_argument("--epoch-pair", type=int, nargs=2, default=[5, 25], metavar=("E1", "E2"),
                   help="the two epoch counts of the per-epoch measurement")
    p.add_argument("--epoch-repeats", type=int, default=3)
    p.add_argument("--phases", type=int, default=0, metavar="N_SERIES",
                   help="time the phases of two GRU fits on this many series (0: skip)")
    p.add_argument("--update-series", type=int, nargs="*", default=[],
                   help="series counts to time Forecaster.update and a backtest with "
                        "refit=True / False on (4 origins 12 steps apart)")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    # the worker gets every argument but --worker and --baseline
    args.argv = _without_baseline([a for a in sys.argv[1:] if a != "--worker"])
    if args.worker:
        print(json.dumps(measure(args)))
        return
    print(f"tsbptt {tsbptt.__version__} from {os.path.dirname(tsbptt.__file__)}; "
          f"threads: OMP={os.environ['OMP_NUM_THREADS']} "
          f"OPENBLAS={os.environ['OPENBLAS_NUM_THREADS']}; load "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    base = run_baseline(args.baseline, args) if args.baseline else None
    out = measure(args)
    report_ridge(out["ridge"], base and base["ridge"], args)
    report_gru(out["gru"], base and base["gru"], args)
    report_epochs(out["epochs"], base and base["epochs"])
    report_update(out["update"], base and base.get("update"))
    for who, rows in (("", out["phases"]), (" (baseline)", (base or {}).get("phases", []))):
        for r in rows:
            print(f"GRU fit phases{who} on {args.phases} series, CPU s: "
                  + ", ".join(f"{k.strip()} {v:.3f}" for k, v in r.items()))
    print(f"load at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({**out, "baseline": base}, fh, indent=1)


if __name__ == "__main__":
    main()
