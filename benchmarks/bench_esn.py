"""Echo-state network vs the default LSTM and a Ridge: accuracy and fit time.

Part 1, Mackey-Glass (tau=17, one sample per time unit): 48-step windows, the
first 3,000 for training, the next 1,000 for testing. One-step NRMSE (RMSE over
the test targets' standard deviation) and fit time of ESNRegressor (defaults),
Ridge on the same windows (alpha=1, the Forecaster benchmarks' ridge, and the
best of the ESN's own alpha grid chosen by leave-one-out), and LSTMRegressor
(defaults) on the same windows.

Part 2, fit time on a 4,000-step series (Mackey-Glass): ``Forecaster(est,
lags=48)`` with every setting at its default, ESN vs LSTM, and the ESN in its
stateful mode (``Forecaster(strategy='stateful')``, ``ESNRegressor.fit_series``),
median of repeats (one repeat of the LSTM), then MASE of 200 one-step forecasts
after it (no refit).

Part 2 ends with where the stateful ESN Forecaster's fit goes (reservoir
kernel, reservoir draw, readout, the Forecaster's own work; CPU ms, medians).

Part 3, the bundled and generated series of ``bench_accuracy.py`` with its
protocol (rolling origins, refit at each, lags = 2 x season): MASE and fit time
of seasonal naive, Ridge(1.0), the default ESN and the default LSTM Forecasters.

    python benchmarks/bench_esn.py                 # all five parts
    python benchmarks/bench_esn.py --parts 4       # the reservoir kernel alone
    python benchmarks/bench_esn.py --quick         # 2 origins, LSTM only in part 2
    python benchmarks/bench_esn.py --json esn.json

Part 4, the reservoir kernel alone: CSR at 10% connectivity vs a dense reservoir
(the same loop), N = 200 and 300, float32 and float64, 1,000 windows of 48 steps.

Part 5, the spectral radius (ARPACK, dense, the power iteration the ESN uses)
and the kernel's one-row path (SELL-16 slices, on each instruction set this CPU
runs) against the 16-lane chunk path.

Every model runs on one thread (``n_threads=1``; BLAS as loaded, the ESN's
readout holds it to one thread). One set of ESN defaults for every series.
"""
import argparse
import json
import statistics
import time
import warnings

import numpy as np
from _common import header_lines, tsbptt  # noqa: F401  (tsbptt from this checkout)
from bench_accuracy import _series
from sklearn.linear_model import Ridge, RidgeCV

from tsbptt import ESNRegressor, Forecaster, LSTMRegressor, SeasonalNaive, backtest
from tsbptt.datasets import make_mackey_glass
from tsbptt.estimators._esn import DEFAULT_ALPHAS

LAGS = 48
#: The one-row product's instruction sets (tsbptt._kernels._esn.ROW_ISA).
ISA_NAMES = {0: "portable C", 1: "AVX2", 2: "AVX-512F"}


def _timed(fn, repeats):
    """(median CPU seconds of this process, last result) of ``repeats`` calls: CPU
    time, not wall time, because the benchmark machine is shared (every model runs
    on one thread, so CPU time is what it costs)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


def mackey_glass_windows(n_train=3000, n_test=1000, skip_lstm=False, repeats=3):
    y = make_mackey_glass(n_train + n_test + LAGS)
    X = np.lib.stride_tricks.sliding_window_view(y[:-1], LAGS)
    t = y[LAGS:]
    Xtr, ytr, Xte, yte = X[:n_train], t[:n_train], X[n_train:], t[n_train:]
    models = {"esn": lambda: ESNRegressor(random_state=0, n_threads=1),
              "ridge(alpha=1)": lambda: Ridge(1.0),
              "ridge(best alpha)": lambda: RidgeCV(alphas=DEFAULT_ALPHAS)}
    if not skip_lstm:
        models["lstm"] = lambda: LSTMRegressor(random_state=0, n_threads=1)
    rows = []
    for name, make in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            secs, model = _timed(lambda: make().fit(Xtr, ytr),
                                 1 if name == "lstm" else repeats)
        pred = model.predict(Xte)
        nrmse = float(np.sqrt(np.mean((pred - yte) ** 2)) / np.std(yte))
        rows.append({"model": name, "nrmse": nrmse, "fit_s": secs})
        print(f"Mackey-Glass windows  {name:<18} 1-step NRMSE {nrmse:9.2e}  "
              f"fit {secs:8.2f} s", flush=True)
    return rows


def _stateful_mase(make, y, n_train, n_test):
    """MASE of one-step forecasts of a stateful Forecaster: fitted once, then
    update()d one step at a time (the state carried, no refit, as a backtest with
    refit=False but without re-reading the whole history at every origin)."""
    from tsbptt.forecasting.metrics import mase
    f = make().fit(y.iloc[:n_train])
    pred = np.empty(n_test)
    for k in range(n_test):
        pred[k] = f.predict(1).iloc[0]
        f.update(y.iloc[n_train + k:n_train + k + 1])
    return mase(y.iloc[n_train:n_train + n_test].to_numpy(), pred,
                y.iloc[:n_train].to_numpy(), 1)


def fit_time_4000(repeats=3, n_test=200, windows_lstm=True, lstm_repeats=1):
    """Fit time on a 4,000-step series, then MASE of 1-step forecasts: the default
    LSTM Forecaster against the ESN fitted on windows (as any regressor) and in its
    stateful mode (one reservoir pass: Forecaster(strategy='stateful') and
    ESNRegressor.fit_series)."""
    import pandas as pd
    s = make_mackey_glass(4000 + n_test)
    y = pd.Series(s, index=pd.date_range("2020-01-01", periods=len(s), freq="h"))
    makers = {"esn": lambda: ESNRegressor(random_state=0, n_threads=1),
              "lstm": lambda: LSTMRegressor(random_state=0, n_threads=1)}
    rows = []

    def record(model, secs, mase=None, what=""):
        rows.append({"model": model, "fit_s": secs, "mase": mase})
        extra = "" if mase is None else f"  MASE (1 step, {n_test} origins) {mase:.4f}"
        print(f"4,000-step series     {model:<28} {what} {secs:8.3f} s{extra}", flush=True)

    if windows_lstm:  # the same windows, no Forecaster budget: LSTMRegressor's defaults
        X = np.lib.stride_tricks.sliding_window_view(s[:3999], LAGS)
        for name, make in makers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                secs, _ = _timed(lambda: make().fit(X, s[LAGS:4000]),
                                 lstm_repeats if name == "lstm" else repeats)
            record(name + " on the windows", secs, what=f"fit on its {len(X)} windows")
    for name, make in makers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            secs, _ = _timed(lambda: Forecaster(make(), lags=LAGS).fit(y.iloc[:4000]),
                             lstm_repeats if name == "lstm" else repeats)
            bt = backtest(Forecaster(make(), lags=LAGS), y, initial=4000, step=1,
                          refit=False, season=1)
        record(name, secs, bt.metrics["mase"], "Forecaster.fit")
    stateful = lambda: Forecaster(makers["esn"](), lags=LAGS,  # noqa: E731
                                  strategy="stateful")
    secs, _ = _timed(lambda: stateful().fit(y.iloc[:4000]), repeats)
    record("esn stateful", secs, _stateful_mase(stateful, y, 4000, n_test),
           "Forecaster(strategy='stateful').fit")
    secs, _ = _timed(lambda: ESNRegressor(random_state=0, n_threads=1, washout=LAGS,
                                          output_feedback=True).fit_series(s[:4000]),
                     repeats)
    record("esn fit_series", secs, what="ESNRegressor.fit_series (feedback)")
    t = {r["model"]: r["fit_s"] for r in rows}
    ratio = {"forecaster": t["lstm"] / t["esn"],
             "forecaster_stateful": t["lstm"] / t["esn stateful"],
             "fit_series_vs_forecaster_lstm": t["lstm"] / t["esn fit_series"]}
    if windows_lstm:  # the windows rows ran (not in --quick): no "nanx" ratios otherwise
        ratio["windows"] = t["lstm on the windows"] / t["esn on the windows"]
        ratio["fit_series_vs_windows_lstm"] = t["lstm on the windows"] / t["esn fit_series"]
    print("LSTM fit / ESN fit: " + ", ".join(f"{k} {v:.0f}x" for k, v in ratio.items()),
          flush=True)
    return rows, ratio


def stateful_breakdown(repeats=9):
    """Where one ``Forecaster(ESNRegressor(), lags=48, strategy='stateful').fit``
    on 4,000 steps goes: CPU ms of its parts (each the median over ``repeats``
    fits, timed by wrapping the ESN's methods), and the fit in total."""
    import pandas as pd

    import tsbptt.estimators._esn as esn
    import tsbptt.estimators._esn_readout as readout
    s = make_mackey_glass(4000)
    y = pd.Series(s, index=pd.date_range("2020-01-01", periods=len(s), freq="h"))
    parts = {"reservoir states (kernel)": (esn._Reservoir, "_run"),
             "reservoir draw": (esn._Reservoir, "_init_reservoir"),
             "  of which the spectral radius": (esn, "spectral_radius"),
             "readout (Gram, eigh, GCV)": (esn, "ridge_gcv"),
             "  of which the Gram matrix": (readout, "_centred_gram"),
             "ESNRegressor.fit": (esn.ESNRegressor, "fit")}
    spent = {name: [] for name in parts}
    saved = {name: getattr(obj, attr) for name, (obj, attr) in parts.items()}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name][-1] += time.process_time() - t0
        return wrapper

    for name, (obj, attr) in parts.items():
        setattr(obj, attr, timed(name, saved[name]))
    total = []
    try:
        for _ in range(repeats + 1):  # the first one warms up, not counted
            for v in spent.values():
                v.append(0.0)
            t0 = time.process_time()
            Forecaster(ESNRegressor(random_state=0, n_threads=1), lags=LAGS,
                       strategy="stateful").fit(y)
            total.append(time.process_time() - t0)
    finally:
        for name, (obj, attr) in parts.items():
            setattr(obj, attr, saved[name])
    out = {name: 1e3 * statistics.median(v[1:]) for name, v in spent.items()}
    out["Forecaster.fit (total)"] = 1e3 * statistics.median(total[1:])
    out["Forecaster's own work"] = out["Forecaster.fit (total)"] - out["ESNRegressor.fit"]
    for name, ms in out.items():
        print(f"stateful fit, 4,000 steps: {name:<32} {ms:7.2f} ms", flush=True)
    return out


def radius_and_row_path(repeats=5, n_steps=4000):
    """The spectral radius (ARPACK, dense, the power iteration) and the reservoir
    kernel on one long row (the one-row path) against a batch of two rows (the
    16-lane chunk path: what one row cost before the one-row path)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigs

    from tsbptt._kernels import _esn
    from tsbptt._kernels._esn import esn_states
    from tsbptt.estimators._esn_spectral import spectral_radius
    rows = []
    for N in (200, 300, 1000):
        rs = np.random.RandomState(0)
        W = sp.random(N, N, density=0.1, random_state=rs, format="csr",
                      data_rvs=lambda k: rs.uniform(-1, 1, k))
        methods = {"arpack": lambda: float(np.abs(eigs(
            W, k=1, which="LM", v0=np.ones(N), return_eigenvectors=False)[0])),
            "dense": lambda: float(np.max(np.abs(np.linalg.eigvals(W.toarray())))),
            "power": lambda: spectral_radius(W)}
        got = {}
        for name, fn in methods.items():
            secs, got[name] = _timed(fn, repeats)
            rows.append({"N": N, "radius": name, "cpu_s": secs, "value": got[name]})
        print(f"spectral radius N={N}: " + ", ".join(
            f"{r['radius']} {r['value']:.4f} in {1e3 * r['cpu_s']:.1f} ms"
            for r in rows[-3:]), flush=True)
    for N in (200, 300):
        for dtype in (np.float32, np.float64):
            rs = np.random.RandomState(0)
            W = sp.random(N, N, density=0.1, random_state=rs, format="csr",
                          data_rvs=lambda k: rs.uniform(-0.1, 0.1, k)).astype(dtype)
            W_in = (0.3 * rs.uniform(-1, 1, (N, 1))).astype(dtype)
            secs = {}
            # the one-row path on each instruction set this CPU runs (the same
            # bits on all), then a batch of two rows (the 16-lane chunk path)
            for B, isa in [(1, i) for i in range(_esn.ROW_ISA_AVAILABLE, -1, -1)] \
                    + [(2, _esn.ROW_ISA_AVAILABLE)]:
                U = rs.randn(B, n_steps, 1).astype(dtype)
                args = (U, np.full(B, n_steps, np.intp), W_in, W.data,
                        W.indices.astype(np.int32), W.indptr.astype(np.int32),
                        np.zeros(N, dtype), np.zeros((N, 0), dtype),
                        np.zeros((B, n_steps, 0), dtype), 1.0)
                _esn.ROW_ISA = isa
                try:
                    secs[B, isa], _ = _timed(lambda: esn_states(
                        *args, np.zeros((B, N), dtype),
                        states=np.zeros((B, n_steps, N), dtype), n_threads=1), repeats)
                finally:
                    _esn.ROW_ISA = _esn.ROW_ISA_AVAILABLE
            row = secs[1, _esn.ROW_ISA_AVAILABLE]
            chunk = secs[2, _esn.ROW_ISA_AVAILABLE]
            rows.append({"N": N, "dtype": dtype.__name__, "row_s": row, "chunk_s": chunk,
                         "row_s_by_isa": {ISA_NAMES[i]: secs[1, i]
                                          for i in range(_esn.ROW_ISA_AVAILABLE + 1)}})
            print(f"kernel N={N} {dtype.__name__:<8} one row of {n_steps} steps "
                  f"{row:.4f} s, two rows (16-lane chunk) {chunk:.4f} s "
                  f"({chunk / row:.1f}x); one row by instruction set: " + ", ".join(
                      f"{ISA_NAMES[i]} {secs[1, i]:.4f} s"
                      for i in range(_esn.ROW_ISA_AVAILABLE, -1, -1)), flush=True)
    return rows


def series_table(n_origins, with_lstm):
    rows = []
    for name, y, season, horizon in _series():
        lags = 2 * season
        models = {"naive": lambda: SeasonalNaive(season), "ridge": lambda: Ridge(1.0),
                  "esn": lambda: ESNRegressor(random_state=0, n_threads=1)}
        if with_lstm:
            models["lstm"] = lambda: LSTMRegressor(random_state=0, n_threads=1)
        for label, make in models.items():
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = backtest(Forecaster(make(), lags=lags, horizon=horizon), y,
                                  initial=len(y) - n_origins * horizon, step=horizon,
                                  refit=True, season=season)
            rows.append({"series": name, "model": label, "mase": result.metrics["mase"],
                         "seconds": time.perf_counter() - t0})
            print(f"{name:<42} {label:<6} MASE {rows[-1]['mase']:7.3f}  "
                  f"{rows[-1]['seconds']:7.1f} s", flush=True)
    return rows


def kernel_table(repeats=3, n_windows=1000):
    """The reservoir kernel alone: CSR at the default connectivity vs dense."""
    import scipy.sparse as sp

    from tsbptt._kernels._esn import esn_states
    rows = []
    for N in (200, 300):
        for density in (0.1, 1.0):
            for dtype in (np.float32, np.float64):
                rs = np.random.RandomState(0)
                W = sp.random(N, N, density=density, random_state=rs, format="csr",
                              data_rvs=lambda k: rs.uniform(-1, 1, k))
                W = (W * (0.9 / np.max(np.abs(np.linalg.eigvals(W.toarray()))))).tocsr()
                W = W.astype(dtype)
                U = rs.randn(n_windows, LAGS, 1).astype(dtype)
                args = (U, np.full(n_windows, LAGS, np.intp),
                        (0.3 * rs.uniform(-1, 1, (N, 1))).astype(dtype), W.data,
                        W.indices.astype(np.int32), W.indptr.astype(np.int32),
                        np.zeros(N, dtype), np.zeros((N, 0), dtype),
                        np.zeros((n_windows, LAGS, 0), dtype), 1.0)
                secs, _ = _timed(lambda: esn_states(*args, np.zeros((n_windows, N), dtype),
                                                    n_threads=1), repeats)
                rows.append({"N": N, "density": density, "dtype": dtype.__name__,
                             "cpu_s": secs, "by_isa": _chunk_by_isa(args, repeats)
                             if density < 1 else {}})
                print(f"kernel N={N} {'CSR 10%' if density < 1 else 'dense  '} "
                      f"{dtype.__name__:<8} {n_windows} windows x {LAGS} steps "
                      f"{secs:.3f} s" + "".join(f", {k} {v:.3f} s"
                                                for k, v in rows[-1]["by_isa"].items()),
                      flush=True)
    return rows


def _chunk_by_isa(args, repeats):
    """The batch path's CPU seconds on each instruction set (CHUNK_ISA) and, for
    float32, each tanh width (TANHF_WIDE): the same bits on all."""
    from tsbptt._kernels import _esn
    out = {}
    n, N = len(args[0]), len(args[6])
    wides = [True, False] if _esn.TANHF_WIDE_AVAILABLE and args[0].dtype == np.float32 \
        else [False]
    try:
        for isa in range(_esn.ROW_ISA_AVAILABLE, -1, -1):
            for wide in wides:
                _esn.CHUNK_ISA, _esn.TANHF_WIDE = isa, wide
                label = ISA_NAMES[isa] + (" tanh x8" if wide else " tanh x4")
                out[label], _ = _timed(lambda: _esn.esn_states(
                    *args, np.zeros((n, N), args[0].dtype), n_threads=1), repeats)
    finally:
        _esn.CHUNK_ISA, _esn.TANHF_WIDE = _esn.ROW_ISA_AVAILABLE, _esn.TANHF_WIDE_AVAILABLE
    return out


def markdown(rows):
    models = list(dict.fromkeys(r["model"] for r in rows))
    got = {(r["series"], r["model"]): r for r in rows}
    series = list(dict.fromkeys(r["series"] for r in rows))
    lines = ["| series | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for s in series:
        lines.append(f"| {s} | " + " | ".join(
            f"{got[s, m]['mase']:.3f}" for m in models) + " |")
    gm = [np.exp(np.mean([np.log(got[s, m]["mase"] / got[s, "naive"]["mase"])
                          for s in series])) for m in models]
    lines.append("| **geometric mean relative to naive** | "
                 + " | ".join(f"{g:.3f}" for g in gm) + " |")
    secs = [sum(got[s, m]["seconds"] for s in series) for m in models]
    lines.append("| time for all fits (s) | " + " | ".join(f"{v:.1f}" for v in secs)
                 + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 origins in part 3, no LSTM in parts 1 and 3")
    parser.add_argument("--parts", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lstm-repeats", type=int, default=1,
                        help="repeats of the LSTM fits in part 2 (median)")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    _, lines = header_lines(None, True, "1 (n_threads=1)", torch_line=False)
    print("\n".join(lines), flush=True)
    out = {}
    if 1 in args.parts:
        out["mackey_glass"] = mackey_glass_windows(skip_lstm=args.quick,
                                                   repeats=args.repeats)
    if 2 in args.parts:
        out["fit_4000"], out["fit_ratio"] = fit_time_4000(
            args.repeats, windows_lstm=not args.quick, lstm_repeats=args.lstm_repeats)
        out["stateful_breakdown"] = stateful_breakdown(max(args.repeats, 9))
    if 3 in args.parts:
        out["series"] = series_table(2 if args.quick else 3, not args.quick)
        print()
        print(markdown(out["series"]))
    if 4 in args.parts:
        out["kernel"] = kernel_table(args.repeats)
    if 5 in args.parts:
        out["radius_and_row"] = radius_and_row_path(max(args.repeats, 5))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
