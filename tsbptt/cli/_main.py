"""The ``tsbptt`` command: forecast and backtest CSV files from the terminal.

Subcommands
-----------
``demo``
    Forecast the bundled hourly electricity load for the next 24 hours with an
    LSTM and a 90% conformal interval; writes ``forecast.csv`` and ``forecast.png``.
``forecast``
    Fit a model on a CSV file (or a bundled dataset) and forecast what follows.
``backtest``
    Rolling-origin evaluation of a model against the seasonal naive forecast.
``datasets``
    List the bundled datasets.

Mistakes in the command line or the data print one ``tsbptt: error: ...`` line
and exit with code 2 (1 for unexpected failures); ``--debug`` shows the traceback.
"""
import argparse
import os
import re
import signal
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ._data import (
    DATASETS,
    UsageError,
    add_data_flags,
    build_estimator,
    check_future,
    cut,
    describe,
    is_period_freq,
    load_config,
    load_data,
    pandas_hint,
    period_freq,
    positive_int,
    thread_count,
    utc_offset,
    warn_few_windows,
)

__all__ = ["main"]

_DEMO_NET = {"hidden_size": 32, "max_iter": 20, "learning_rate": 1e-2, "batch_size": 64}
_DEMO_QUICK = {"hidden_size": 8, "max_iter": 3, "learning_rate": 2e-2, "batch_size": 256}
#: ``--out -``: the forecasts as CSV on standard output
STDOUT = "-"


# -- output -------------------------------------------------------------------------

#: Numbers below 1 print with at most this many fixed decimals (0.0000003900 hides
#: its digits among zeros); more need scientific notation.
_MAX_DECIMALS = 6
#: Fixed notation shows at most this many digits (a float holds about 15); more
#: (1e300 has 301) need scientific notation.
_MAX_DIGITS = 15


def _number_format(values, scale=None):
    """The format spec (``.3f``, ``.4e``) that shows about 4 significant digits of
    what tells numbers apart: of the largest of ``values``, or of ``scale`` where
    smaller (the spread of the series: 1000.0001 and 1000.0002 differ in the 4th
    decimal, not the 1st); in scientific notation where fixed decimals would show
    none of them (3.9e-07) or too many (1e300)."""
    finite = np.asarray(values, dtype=float).ravel()
    finite = finite[np.isfinite(finite)]
    top = np.abs(finite).max() if len(finite) else 0.0
    if top == 0:
        return ".2f"
    # a spread at rounding level (an almost constant series) tells nothing apart
    ref = min(top, scale) if scale is not None and np.isfinite(scale) \
        and scale > 1e-12 * top else top
    decimals = 3 - int(np.floor(np.log10(ref)))
    width = int(np.floor(np.log10(top))) + 1 + max(decimals, 1)  # digits shown
    if width <= _MAX_DIGITS and (decimals <= _MAX_DECIMALS or top >= 1):
        return f".{max(decimals, 1)}f"
    digits = int(np.floor(np.log10(top))) - int(np.floor(np.log10(ref))) + 3
    return f".{min(digits, 16)}e"  # past 17 significant digits a float has no more


def _table(frame, history=None):
    """Forecasts as aligned text: a ``time`` column, then the numbers with about
    four significant digits of what tells them apart (:func:`_number_format`): of
    the spread of ``history``, the series forecast, where it is smaller than the
    numbers (not the forecasts' own spread: two may be equal but by chance)."""
    with np.errstate(all="ignore"):  # +-1e300 overflow: no scale, not a warning
        scale = None if history is None else float(np.nanstd(np.asarray(history, float)))
    spec = _number_format(frame.to_numpy(), scale)
    return frame.rename_axis("time").reset_index().to_string(
        index=False, float_format=lambda v: f"{v:{spec}}")


def _write_csv(frame, path):
    """``frame`` as CSV, its index the ``time`` column; ``path`` ``-``: to stdout."""
    frame = frame.copy()
    frame.index.name = "time"
    try:
        frame.to_csv(sys.stdout if path == STDOUT else path)
    except BrokenPipeError:  # `--out - | head`: main() stops quietly
        raise
    except OSError as exc:  # a full disk, say: "[Errno 28] No space left on device"
        raise UsageError(f"cannot write --out {path}: {exc.strerror or exc}") from None


def _check_plotting(path):
    """Whether to plot: matplotlib is there and draws the format of ``path`` (checked
    before the model is fitted)."""
    if path is None:
        return False
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'tsbptt[plot]'") from None
    formats = Figure().canvas.get_supported_filetypes()
    if _image_format(path) not in formats:
        raise UsageError(f"--plot {path}: matplotlib cannot write {Path(path).suffix!r} "
                         f"files; end the name in one of "
                         f"{', '.join('.' + f for f in sorted(formats))}")
    return True


def _image_format(path):
    """The image format of a file name: its extension, PNG without one."""
    return Path(path).suffix[1:].lower() or "png"


def _save_plot(path, history, forecast, title, history_tail):
    """Draw history, forecast and interval on a figure of its own (no pyplot state)."""
    from matplotlib.figure import Figure

    from ..plotting import plot_forecast

    fig = Figure(figsize=(10, 4), layout="constrained")
    interval = forecast if "lower" in forecast else None
    plot_forecast(history, forecast["forecast"], interval=interval, ax=fig.subplots(),
                  title=title, history_tail=history_tail)
    fig.savefig(path, dpi=110, format=_image_format(path))  # no extension: PNG, as named


def _metrics_table(runs):
    """Backtest metrics as text: one row per model, about four significant digits
    per column."""
    names = {"mae": "MAE", "rmse": "RMSE", "smape": "sMAPE %", "mase": "MASE",
             "coverage": "coverage"}
    table = pd.DataFrame({name: {names[k]: v for k, v in bt.metrics.items() if k in names}
                          for name, bt in runs.items()}).T
    return table.to_string(formatters={c: _formatter(_number_format(table[c]))
                                       for c in table.columns})


def _formatter(spec):
    return lambda v: f"{v:{spec}}"


def _when(first, last):
    """Two timestamps for a sentence, to the same precision: no time of day when both
    are at midnight, no seconds when both are at 0 seconds. Times in a zone (--tz)
    carry their UTC offset (2024-10-27 02:00+01:00), always with a time of day: the
    same wall time may be two instants, and the offset changes within a series."""
    times = (first, last)
    if not all(isinstance(t, pd.Timestamp) for t in times):
        return str(first), str(last)
    zoned = all(t.tz is not None for t in times)
    if all(t == t.normalize() for t in times) and not zoned:
        fmt = "%Y-%m-%d"
    else:
        fmt = "%Y-%m-%d %H:%M" if all(t.second == 0 for t in times) else \
            "%Y-%m-%d %H:%M:%S"
    if not zoned:
        return first.strftime(fmt), last.strftime(fmt)
    return tuple(t.strftime(fmt) + utc_offset(t) for t in times)


# -- the Forecaster of the flags ------------------------------------------------------

def _freq(text):
    """--freq as the Forecaster's freq: an integer step, or a pandas frequency. A
    period frequency (Q-MAR, M, Y-DEC), which pandas no longer reads as an offset,
    passes too: period labels (2020Q1) read it, and the data's reader refuses it for
    dates, with pandas' name for it (then None here: the periods carry it)."""
    if text is None or text.isdigit():
        return None if text is None else int(text)
    try:
        pd.tseries.frequencies.to_offset(text)
    except ValueError as exc:
        if is_period_freq(text):
            return text
        hint = pandas_hint(exc) or period_freq(text)[1].strip(" ()")
        raise UsageError(f"--freq {text!r} is neither a pandas frequency (e.g. h, D, W, "
                         "MS, 15min; for period labels such as 2020Q1 also Q-DEC, "
                         "Q-MAR, M, Y-DEC) nor an integer step"
                         + (f" ({hint})" if hint else "")) from None
    return text


def _forecaster(args, estimator, coverage=None):
    from ..forecasting import Forecaster

    return Forecaster(estimator, lags=args.lags, horizon=args.horizon,
                      strategy=args.strategy, future_exog=args.future_exog or None,
                      calendar=args.calendar or None,
                      interval=None if coverage is None else "conformal",
                      coverage=0.9 if coverage is None else coverage,
                      freq=_freq(args.freq), fill=args.fill, bounds=_bounds(args))


def _bounds(args):
    """``--bounds LOW HIGH`` as the Forecaster's ``bounds``, or None."""
    given = getattr(args, "bounds", None)
    # none none: no limit either way, as leaving the flag out
    return None if given is None or given == [None, None] else tuple(given)


def _verbosity(args):
    """Progress: one line redrawn per fit at a terminal (1, the default), a line
    per epoch with --verbose (2), none with --quiet (0)."""
    return 2 if args.verbose else 0 if getattr(args, "quiet", False) else 1


def _season_and_lags(args, y, est=None):
    """Set ``args.season`` and ``args.lags`` where not given: the season from the
    naive model's config file or the time step, lags 2 x season (at least 8).
    Returns a line that says which were inferred, or None when both were given."""
    from ..forecasting._panel import to_entries
    from ..forecasting.windowing import infer_season

    said = []
    if args.season is None and args.model == "naive" and est.season != 1:
        args.season = est.season  # from the config file
    if args.season is None:
        step = to_entries(y, freq=_freq(args.freq), fill=args.fill)[2]
        args.season = infer_season(step)
        shown = y.index.freqstr if isinstance(y.index, pd.PeriodIndex) else \
            step.freqstr if hasattr(step, "freqstr") else step  # as --freq spells it
        said.append(f"season {args.season} (from the time step {shown}; set it "
                    "with --season)")
        if args.model == "naive":
            est.set_params(season=args.season)
    if args.lags is None:
        args.lags = max(2 * args.season, 8)
        if args.model != "auto":  # AutoForecaster chooses its candidates' windows
            said.append(f"lags {args.lags} (2 x season, at least 8; set it with --lags)")
    return "; ".join(said) or None


def _auto(args, given, y=None):
    """The AutoForecaster of ``--model auto``; ``given``: (--season, --lags) as
    given (None where not): the inferred ones kept its own choices out (the week as
    a second season, windows shortened for a short series). ``y``: the series of a
    forecast, whose --interval the backtest's errors calibrate (with at least the
    origins its coverage needs); None in ``tsbptt backtest``, which refuses it."""
    from ..forecasting._intervals import _needed
    from ..forecasting.auto import AutoForecaster, default_origins

    for flag, used in (("--interval", args.interval is not None and y is None),
                       ("--future-exog", args.future_exog),
                       ("--calendar", args.calendar),
                       (f"--strategy {args.strategy}", args.strategy != "direct")):
        if used:
            raise UsageError(f"{flag} does not apply to --model auto")
    # one thread: the candidates' networks are small, and many
    n_origins = None  # AutoForecaster's default: the last fifth of the series
    if args.interval is not None and y is not None:
        default = default_origins(len(y), args.horizon)
        needed = _needed(args.interval)
        # as many as the coverage needs; where the default holds them, the default
        # (which a short series cuts to the origins that fit)
        n_origins = None if needed <= default else needed
    return AutoForecaster(horizon=args.horizon, season=given[0], lags=given[1],
                          n_origins=n_origins, random_state=0, n_threads=1,
                          freq=_freq(args.freq), fill=args.fill, bounds=_bounds(args))


def _estimator(args):
    config = load_config(args.config) if args.config else None
    return build_estimator(args, config, verbose=_verbosity(args))


# -- subcommands ----------------------------------------------------------------------

def _progress_on_stderr():
    """Training progress to stderr while fitting: stdout holds the results alone (a
    table, or with ``--out -`` CSV), so that they can be redirected or piped on."""
    return redirect_stdout(sys.stderr)


def _check_distinct_files(args):
    """Refuse --out or --plot naming the input FILE, or each other: the forecast
    replaced the data it was made from (or the plot the forecast), exit code 0."""
    named = [(flag, Path(path).resolve()) for flag, path in
             (("FILE", args.file), ("--out", args.out), ("--plot", args.plot))
             if path is not None and not (flag == "--out" and path == STDOUT)]
    for i, (flag, path) in enumerate(named):
        for other, other_path in named[:i]:
            if path == other_path or (path.exists() and other_path.exists()
                                      and os.path.samefile(path, other_path)):
                raise UsageError(f"{flag} {path.name} is also {other}: it would be "
                                 "written over; give another file name")


def cmd_forecast(args):
    """``tsbptt forecast``: fit on the whole series, forecast ``--horizon`` steps."""
    if args.plot == STDOUT:
        raise UsageError("--plot - : give the image a file name (only --out writes to "
                         "standard output)")
    for flag, path in (("--out", args.out), ("--plot", args.plot)):
        if flag == "--out" and path == STDOUT:
            continue
        if path is not None and Path(path).is_dir():
            raise UsageError(f"{flag} {path} is a folder; give a file name")
        if path is not None and not Path(path).parent.is_dir():
            raise UsageError(f"cannot write {path}: folder {Path(path).parent} not found")
    _check_distinct_files(args)
    plot = _check_plotting(args.plot)
    _freq(args.freq)
    if args.dataset is not None and args.future_exog:
        raise UsageError(f"--future-exog {' '.join(args.future_exog)} cannot be used with "
                         "--dataset: the values of the forecast steps are trailing rows of "
                         "a FILE.csv (the target left empty), and a bundled dataset has "
                         "none; use --exog, or `tsbptt backtest`, which reads them from "
                         "the dataset")
    data = load_data(args)
    est = _estimator(args)
    future = check_future(data, args.future_exog, args.horizon)
    lags_given, given = args.lags is not None, (args.season, args.lags)
    said = _season_and_lags(args, data.y, est)
    if said and not (lags_given and args.model not in ("naive", "auto")):
        print(f"tsbptt: {said}", file=sys.stderr)  # stdout holds the forecasts
    if args.model == "auto":
        with _progress_on_stderr():
            auto = _auto(args, given, data.y)
            try:
                model = auto.fit(data.y)
            except ValueError as exc:
                if auto.n_origins is None or "too short to backtest" not in str(exc):
                    raise
                # --interval asked for the origins: say so (n_origins is no flag)
                raise ValueError(f"{exc}; or a lower --interval ({args.interval:g} "
                                 f"needs {auto.n_origins} backtest origins)") from None
        print(f"tsbptt: {model.summary()}", file=sys.stderr)  # stdout: the forecasts
        if model.network_loses_:
            warnings.warn("the networks lost to seasonal naive in the backtest of the "
                          "training data; forecasting with " + model.choice_, UserWarning,
                          stacklevel=1)
    else:
        with _progress_on_stderr():
            model = _forecaster(args, est, args.interval).fit(data.y, data.X)
        _say_network_dropped(model)
    steps = len(data.y)
    if args.fill is not None:  # the steps the model trains on: gaps filled
        from ..forecasting._panel import to_entries

        entries = to_entries(data.y, freq=_freq(args.freq), fill=args.fill)[0]
        steps = len(entries[0].y)
        _say_filled(args, entries)
    warn_few_windows(steps, args, data.source)  # once the data proved usable
    if args.interval is not None:
        out = model.predict_interval(X=future, coverage=args.interval)
    else:
        out = model.predict(X=future).to_frame("forecast")
    # periods in the form of the file's labels (2020-Q1 in, 2021-Q1 out)
    shown = out if data.labels is None else \
        out.set_axis(pd.Index([data.label(t) for t in out.index], name=out.index.name))
    # stdout holds the results alone (it may be piped on); what was written, on stderr
    if args.out == STDOUT:
        _write_csv(shown, args.out)
    elif args.out:
        _write_csv(shown, args.out)
        first, last = _when(shown.index[0], shown.index[-1])
        print(f"tsbptt: wrote {args.out}: {len(out)} forecasts of {data.y.name!r}, "
              f"{first} .. {last}", file=sys.stderr)
    else:
        print(_table(shown, data.y))
    if plot:
        _save_plot(args.plot, data.y, out, f"{data.y.name}: {args.model} forecast",
                   history_tail=max(4 * args.horizon, args.lags))
        print(f"tsbptt: wrote {args.plot}", file=sys.stderr)
    return 0


def _say_network_dropped(model, file=None):
    """Say (on stderr, or ``file``) where a network's correction of the linear part
    weighs 0 (``network_weight_``): the forecast is then the linear part's alone,
    which the output's model name would otherwise credit to the network."""
    if getattr(model, "network_weight_", None) == 0:
        print(f"tsbptt: the {type(model.estimator).__name__}'s correction weighs 0 in "
              "this fit (network_weight_): on the latest windows it did no better than "
              "the linear part it corrects, so the forecast is the linear part's alone",
              file=sys.stderr if file is None else file)


def _say_filled(args, entries):
    """How many steps --fill made up (a warning where they are most of the series:
    a time column read wrong, say, rather than a few missing readings)."""
    filled, total = sum(int(e.n_filled) for e in entries), sum(len(e.y) for e in entries)
    said = f"--fill {args.fill} filled {filled} of the {total} steps"
    if filled > total / 2:
        warnings.warn(f"{said}: most of the series is made up; are the times read "
                      "right?", UserWarning, stacklevel=1)
    elif filled:
        print(f"tsbptt: {said}", file=sys.stderr)


def cmd_backtest(args):
    """``tsbptt backtest``: the model and the seasonal naive forecast, scored on the
    same rolling origins."""
    from ..forecasting._panel import to_entries
    from ..forecasting.backtesting import backtest
    from ..forecasting.baselines import SeasonalNaive

    _freq(args.freq)
    data = load_data(args)
    est = _estimator(args)
    y, X = data.y, data.X
    if args.fill is not None:  # fill once, so that the scored actuals are filled too
        (entry,), _, _ = to_entries(y, X, freq=_freq(args.freq), fill=args.fill)
        y, X = entry.y, entry.X
        _say_filled(args, [entry])
    given = (args.season, args.lags)
    said = _season_and_lags(args, y, est)
    season = args.season
    initial = args.initial if args.initial is not None else int(0.8 * len(y))
    which = f"--initial {initial}" if args.initial is not None else \
        f"the first fit ({initial} steps, 80% of the series; set it with --initial)"
    lags = max(args.lags, season)  # the seasonal naive baseline reads a season too
    if initial < lags + args.horizon:
        reads = f"--lags {args.lags}" if lags == args.lags else f"--season {season}"
        raise UsageError(f"{which} is too short for {reads} and --horizon "
                         f"{args.horizon}: it needs at least {lags + args.horizon} steps")
    if initial + args.horizon > len(y):
        raise UsageError(f"{which} leaves no room for a --horizon {args.horizon} "
                         f"forecast: the series has {len(y)} steps")
    step = args.step if args.step is not None else args.horizon
    common = {"initial": initial, "step": step, "refit": args.refit, "season": season,
              "coverage": args.interval}
    naive_name = f"seasonal naive (season {season})"
    model = _auto(args, given) if args.model == "auto" else \
        _forecaster(args, est, args.interval)
    with _progress_on_stderr():
        runs = {naive_name if args.model == "naive" else args.model:
                backtest(model, y, X, **common, verbose=_verbosity(args))}
    if args.model != "naive":  # the baseline, on the same origins
        naive = _forecaster(args, SeasonalNaive(season), args.interval)
        naive.set_params(lags=max(args.lags, season), strategy="direct",
                         future_exog=None, calendar=None)
        runs[naive_name] = backtest(naive, y, None, **common)
    warn_few_windows(initial, args, f"--initial {initial}" if args.initial is not None
                     else "the first fit (80% of the series)")
    table = next(iter(runs.values())).forecasts
    origins = table["origin"].unique()
    fit = "refitted at each origin" if args.refit else "fitted once, on the first " \
        f"{initial} steps"
    first, last = _when(data.label(origins[0]), data.label(origins[-1]))
    print(f"backtest of {data.source}, target {y.name!r}: {len(origins)} origin(s) from "
          f"{first} to {last}, every {step} step(s), horizon "
          f"{args.horizon}; the model is {fit}")
    if said:
        print(f"tsbptt: {said}", file=sys.stderr)  # as forecast says it
    print(_metrics_table(runs))
    if args.interval is not None:
        print(f"coverage: the fraction of actual values inside the "
              f"{100 * args.interval:.10g}% conformal interval")
    return 0


def cmd_datasets(args):
    """``tsbptt datasets``: the bundled datasets, one per line."""
    from ..datasets import list_datasets

    names = list_datasets()
    width = max(map(len, names))
    for name, text in names.items():
        usable = "" if name in DATASETS else " (many series: not for --dataset)"
        print(f"{name:<{width}}  {text}{usable}")
    print("\nuse one with e.g.: tsbptt forecast --dataset air_passengers --horizon 12 "
          "--lags 24 --model ridge")
    return 0


def cmd_demo(args):
    """``tsbptt demo``: the next 24 hours of the bundled electricity load."""
    from sklearn.base import clone
    from sklearn.linear_model import Ridge

    from ..forecasting.backtesting import backtest
    from ..forecasting.baselines import SeasonalNaive
    from ..datasets import load_electricity_load
    from ..estimators import GRURegressor, LSTMRegressor, RNNRegressor
    from ..forecasting import Forecaster

    start = time.perf_counter()
    if args.out is None:  # never into the current folder (a checkout, say) unasked
        out = Path(tempfile.mkdtemp(prefix="tsbptt-demo-"))
    else:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {args.out} is a file; give a folder")
        out.mkdir(parents=True, exist_ok=True)
    plot = not args.no_plot
    if plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            plot = False
    y = load_electricity_load()
    first, last = _when(y.index[0], y.index[-1])
    print(f"data: tsbptt.datasets.load_electricity_load(), synthetic hourly electricity "
          f"load in MW, {len(y)} hours from {first} to {last}")
    if args.model == "ridge":
        est = Ridge(alpha=1.0)
    else:
        cls = {"lstm": LSTMRegressor, "gru": GRURegressor, "rnn": RNNRegressor}[args.model]
        est = cls(**(_DEMO_QUICK if args.quick else _DEMO_NET), random_state=0,
                  n_threads=args.threads, verbose=_verbosity(args))
    name = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "ridge": "Ridge"}[args.model]
    f = Forecaster(est, lags=48, horizon=24, calendar=["hour", "dayofweek"])
    print(f"model: {describe(est)}\n       reads the last 48 hours and the hour and day "
          "of week of the next 24; forecasts all 24 at once (direct strategy)")
    initial = len(y) - 7 * 24
    print(f"\nbacktest on the last 7 days (fitted once on the {initial} hours before "
          "them, a 24-hour forecast each midnight):", flush=True)
    naive = Forecaster(SeasonalNaive(24), lags=48, horizon=24)
    runs = {label: backtest(m, y, initial=initial, step=24, refit=False, season=24)
            for label, m in [(name, f), ("seasonal naive", naive)]}
    print(_metrics_table(runs))
    ours, base = (bt.metrics["mase"] for bt in runs.values())
    verdict = "better" if ours < base else "worse"
    print(f"MASE (season 24): {name} {ours:.3f} vs seasonal naive {base:.3f}, "
          f"{abs(1 - ours / base):.0%} {verdict}")

    print("\nfitting on all the data, with a 90% conformal interval ...", flush=True)
    model = clone(f).set_params(interval="conformal", coverage=0.9).fit(y)
    _say_network_dropped(model, sys.stdout)  # the demo speaks on stdout
    forecast = model.predict_interval()
    print(f"forecast of the next 24 hours (MW):\n{_table(forecast, y)}")
    _write_csv(forecast, out / "forecast.csv")
    print(f"\nwrote {out / 'forecast.csv'}")
    if plot:
        _save_plot(out / "forecast.png", y, forecast, "Electricity load: the next 24 "
                   f"hours ({name}, 90% conformal interval)", history_tail=7 * 24)
        print(f"wrote {out / 'forecast.png'}")
    elif not args.no_plot:
        print("plot skipped: matplotlib is not installed (pip install 'tsbptt[plot]')")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


# -- the parser -----------------------------------------------------------------------

_FORECAST_EXAMPLES = """examples:
  tsbptt forecast sales.csv --time-col date --target sales --horizon 14 --lags 56 \\
      --calendar dayofweek --interval 0.9 --out forecast.csv --plot forecast.png
  tsbptt forecast load.csv --time-col time --target load --future-exog temp_forecast \\
      --horizon 24 --lags 48 --model gru --config model.json
  tsbptt forecast --dataset air_passengers --horizon 12 --lags 24 --model naive --season 12
  tsbptt forecast --dataset stock_prices --horizon 5 --model auto

--season and --lags default to the series' time step (hourly: season 24, lags 48),
and the command says so.

With --future-exog, end FILE with one row per forecast step: the time, the target
left empty and the future-known columns filled in."""

_BACKTEST_EXAMPLES = """examples:
  tsbptt backtest --dataset electricity_load --horizon 24 --lags 48 --season 24 \\
      --calendar hour dayofweek --step 24
  tsbptt backtest sales.csv --time-col date --target sales --horizon 7 --lags 28 \\
      --model ridge --season 7 --refit --initial 365

MASE below 1 beats the in-sample seasonal naive forecast (season --season)."""


class _LaidOutHelpFormatter(argparse.HelpFormatter):
    """Fills a one-paragraph description to the terminal's width, as argparse does,
    and keeps a text laid out in lines (the examples) as written."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class _Parser(argparse.ArgumentParser):
    """argparse with a flag error as one line and a pointer to ``--help`` (not the
    usage block first: it hides the message on a small terminal)."""

    def error(self, message):
        message = " ".join(message.split())
        # FILE.csv after --calendar (which takes any number of features) was read as one
        swallowed = re.match(r"argument --calendar: invalid choice: '(.*?)' \(", message)
        if swallowed and (swallowed[1].lower().endswith(".csv")
                          or Path(swallowed[1]).is_file()):
            message += (f"; {swallowed[1]!r} is a file: put FILE.csv before --calendar, "
                        f"e.g. right after `{self.prog}` (or end the list with -- when "
                        "FILE.csv comes last)")
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser():
    """The argument parser of the ``tsbptt`` command."""
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the full traceback of an error")
    parser = _Parser(
        prog="tsbptt", description="Forecast time series with recurrent networks "
        "(LSTM, GRU, RNN) and baselines.", epilog="`tsbptt COMMAND --help` explains a "
        "command's flags. Start with `tsbptt demo`.")
    parser.add_argument("--version", action="version", version=f"tsbptt {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("demo", parents=[debug], help="forecast the bundled electricity "
                       "load for the next 24 hours, with a plot",
                       description="Forecast the bundled hourly electricity load for "
                       "the next 24 hours with a 90% conformal interval, after a "
                       "backtest against the seasonal naive forecast; writes "
                       "forecast.csv and forecast.png.")
    p.add_argument("--out", metavar="DIR",
                   help="folder for forecast.csv and forecast.png, made if need be "
                        "(default: a new temporary folder, whose name is printed)")
    p.add_argument("--model", choices=["lstm", "gru", "rnn", "ridge"], default="lstm",
                   help="the model (default: lstm)")
    p.add_argument("--quick", action="store_true",
                   help="a tiny network trained for 3 epochs: seconds, for trying it out")
    p.add_argument("--no-plot", action="store_true", help="do not write forecast.png")
    p.add_argument("--threads", type=thread_count, default=1, metavar="N",
                   help="OpenMP threads of the network; -1: all cores (default: 1, "
                        "fastest for this small network when other programs share "
                        "the cores)")
    p.add_argument("--verbose", action="store_true",
                   help="training progress one line per epoch, and all warnings "
                        "(default: one line redrawn per fit, at a terminal)")
    p.add_argument("--quiet", action="store_true", help="no training progress")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("forecast", parents=[debug], help="fit a model on a CSV file and "
                       "forecast what follows", description="Fit a model on the whole "
                       "series and forecast the --horizon steps after its end.",
                       epilog=_FORECAST_EXAMPLES,
                       formatter_class=_LaidOutHelpFormatter)
    add_data_flags(p)
    p.add_argument("--out", metavar="FILE.csv",
                   help="write the forecasts (columns time, forecast[, lower, upper]) "
                        "to this CSV file, or with '-' as CSV to standard output; "
                        "default: print them as a table")
    p.add_argument("--plot", metavar="FILE.png",
                   help="also draw the series' tail and the forecast (needs matplotlib)")
    p.set_defaults(func=cmd_forecast)

    p = sub.add_parser("backtest", parents=[debug], help="score a model against the "
                       "seasonal naive forecast on rolling origins",
                       description="Fit up to each origin, forecast what follows and "
                       "score it (MAE, RMSE, sMAPE, MASE), next to the seasonal naive "
                       "forecast on the same origins.", epilog=_BACKTEST_EXAMPLES,
                       formatter_class=_LaidOutHelpFormatter)
    add_data_flags(p)
    p.add_argument("--initial", type=positive_int, metavar="N",
                   help="steps before the first origin (default: 80%% of the series)")
    p.add_argument("--step", type=positive_int, metavar="N",
                   help="steps between origins (default: the horizon)")
    p.add_argument("--refit", action=argparse.BooleanOptionalAction, default=False,
                   help="refit at every origin, instead of fitting once on the first "
                        "--initial steps (default: --no-refit)")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("datasets", parents=[debug], help="list the bundled datasets",
                       description="List the bundled datasets.")
    p.set_defaults(func=cmd_datasets)
    return parser


# -- main -----------------------------------------------------------------------------

class _Interrupted(BaseException):
    """Ctrl-C during a command. Not a KeyboardInterrupt: the training loop catches
    that to stop early and keep the model so far (right in a notebook), whereas at
    the terminal Ctrl-C must stop the whole command, writing nothing."""


def _interrupt(signum, frame):
    raise _Interrupted


@contextmanager
def _ctrl_c_stops_the_command():
    """Ctrl-C raises :class:`_Interrupted` within (main thread only; a SIGINT that
    is ignored, as in a background job, stays ignored)."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    previous = signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: The library's hints, as the command line spells them.
_FLAG_HINTS = (("fill='interpolate' or fill='ffill'", "--fill interpolate or --fill ffill"),
               ("pass freq=...", "pass --freq"), ("interval=None", "no --interval"),
               ("or leave freq=None", "or leave out --freq"))


#: The --model of each estimator class, for the library's messages that name one.
_MODEL_OF_CLASS = {"LSTMRegressor": "lstm", "GRURegressor": "gru", "RNNRegressor": "rnn",
                   "ESNRegressor": "esn", "Ridge": "ridge", "SeasonalNaive": "naive"}


def _grid_words(match):
    """``<2 * Days>`` as --freq spells it (2D); ``<Hour>`` as Hour."""
    n, name = match[1], match[2]
    try:
        return getattr(pd.offsets, name.removesuffix("s"))(int(n)).freqstr
    except (AttributeError, TypeError, ValueError):
        return f"{n} * {name}"


def _stateful_words(match):
    model = _MODEL_OF_CLASS.get(match[1])
    return "needs --model lstm, gru, rnn or esn, not " + (
        f"--model {model}" if model else match[1])


#: The library's Python words, as the command line says them: the data is "the
#: series" or its time column, not ``y``; its settings are flags (strategy='direct'
#: is --strategy direct, lags=14 is --lags 14); times print as text, not
#: Timestamp(...).
_CLI_WORDS = (
              # AutoForecaster's origins: no flag sets them (--interval asks for more)
              (r" \(or backtest fewer origins: n_origins=\d+\)", ""),
              (r", or fit a Forecaster\b", ", or another --model"),
              # backtest's warning of an undefined MASE: its column, not metrics[...]
              (r"MASE is undefined: the seasonal naive forecast \(season=(\d+)\) is "
               r"exact on the first initial steps", r"MASE is undefined: the seasonal "
               r"naive forecast (--season \1) is exact on the first --initial steps"),
              (r"; metrics\['mase'\] is nan$", "; its MASE column shows NaN"),
              # bounds=(0.0, None) as the flag writes it
              (r"outside bounds=\(([^,]+), ([^)]+)\); give bounds the series' values "
               r"keep to, or None",
               lambda m: f"outside --bounds {_end(m[1])} {_end(m[2])}; give the --bounds "
                         "the series keeps to, or leave them out"),
              (r"bounds must be \(low, high\), each a finite number or None and low < "
               r"high, e.g. \(0, None\); got \(([^,]+), ([^)]+)\)",
               lambda m: f"--bounds {_end(m[1])} {_end(m[2])}: LOW must be below HIGH"),
              # no flag sets the calibration fraction
              (r" \(calibration=[\d.]+ holds back the last [\d.]+% of the \d+ origins\); "
               r"use (?:calibration=[\d.]+ or more|a larger calibration), a longer series "
               r"or a lower coverage", "; use a longer series, or leave out --interval"),
              (r"\bTimestamp\('([^']*)'(?:, ?(?:freq|tz)='[^']*')*\)", r"\1"),
              (r"\bPeriod\('([^']*)', ?'[^']*'\)", r"\1"),  # Period('2020Q1', 'Q-DEC')
              # holiday calendars: the Python API's alone (--freq names no holidays)
              (r"pass the frequency, freq=\.\.\. \(semi-month ends 'SME'; business days "
               r"'B', or with holidays a CustomBusinessDay\)",
               "pass the frequency, --freq (semi-month ends SME, business days B; "
               "business days with holidays off need the Python API: "
               "freq=pd.offsets.CustomBusinessDay(holidays=[...]))"),
              (r"if the series skips holidays, pass its frequency, freq=pd\.offsets\."
               r"CustomBusinessDay\(holidays=\[\.\.\.\]\) or CustomBusinessDay\(calendar="
               r"\.\.\.\); ",
               "if the series skips holidays, the Python API reads it with "
               "freq=pd.offsets.CustomBusinessDay(holidays=[...]) (--freq names no "
               "holidays); "),
              (r"\by's (?:index|DatetimeIndex|PeriodIndex)", "the time column"),
              (r"\by has\b", "the series has"), (r"\by's\b", "the series'"),
              (r"(column '[^']*') of y\b", r"\1"),
              (r" \(y\.resample\(freq\)\.mean\(\)\)", ""),
              (r"off its <(\w+)> grid", r"off its \1 grid"),
              (r"<(\d+) \* (\w+)>", _grid_words),
              (r"\bX does not cover the forecast steps", "the future rows of the file "
               "(--future-exog) do not cover the forecast steps"),
              (r"\bdeclare them future_exog\b", "give them to --future-exog"),
              (r"\bstrategy='(\w+)'(?: or '(\w+)')?",
               lambda m: f"--strategy {m[1]}" + (f" or {m[2]}" if m[2] else "")),
              (r"needs a tsbptt recurrent regressor or ESNRegressor, got (\w+)",
               _stateful_words),
              (r"\bthe windows hold (\d+) steps, fewer than season=(\d+): use lags >= "
               r"season", r"--lags \1 is fewer than --season \2: use --lags \2 or more"),
              (r"\b(lags|horizon|season|initial)=(\d+)", r"--\1 \2"),
              (r"\bfreq='([^']*)'", r"--freq \1"),
              (r"\buse lags >= (horizon|season)\b", r"use --lags >= --\1"),
              # an hour missing in the night, in a series without a zone: the spring
              # change of local times, which --tz reads right (a fill invents an hour)
              # (the months of the changes, north and south)
              (r"(\d \d\d:\d\d:\d\d where \d{4}-(?:0[349]|1[01])-\d\d 0[0-3]:00:00 was "
               r"expected \(a gap\); pass "
               r"--fill interpolate or --fill ffill to fill gaps, or resample first)$",
               r"\1 (for local times whose clocks went forward that night, pass --tz with "
               r"their zone instead)"))


def _end(text):
    """One end of ``bounds`` as ``--bounds`` writes it: 0.0 as 0, None as none."""
    text = text.strip()
    if text == "None":
        return "none"
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


def _one_line(exc):
    line = _in_flag_words(" ".join(str(exc).split()) or type(exc).__name__)
    return cut(line, 2000)[1:-1] if len(line) > 2000 else line


def _in_flag_words(line):
    """A message of the library's as the command line says it (its flags, not
    the Python API's arguments: :data:`_FLAG_HINTS`, :data:`_CLI_WORDS`)."""
    for library, flag in _FLAG_HINTS:
        line = line.replace(library, flag)
    for pattern, words in _CLI_WORDS:
        line = re.sub(pattern, words, line)
    return line


#: Warnings for the authors of code, not for its users (Python hides them outside
#: ``__main__``): one library's deprecations in the code of another (matplotlib's use
#: of pyparsing, say) are nothing a user of the command can act on. --verbose shows them;
#: those pointing into tsbptt's own code are always shown (and fail its CLI tests).
_DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning)
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _in_other_library(w):
    """Whether warning ``w`` points into code outside tsbptt."""
    try:
        return os.path.commonpath([os.path.abspath(w.filename), _PACKAGE_DIR]) != _PACKAGE_DIR
    except (TypeError, ValueError):  # no file name, or another drive (Windows)
        return True


def _report_warnings(caught, verbose):
    """Each distinct warning once, on one line; the non-convergence of a short
    training run, and the deprecations in other libraries' code, only with --verbose."""
    from sklearn.exceptions import ConvergenceWarning

    seen = []
    for w in caught:
        if not verbose and (issubclass(w.category, ConvergenceWarning) or (
                issubclass(w.category, _DEVELOPER_WARNINGS) and _in_other_library(w))):
            continue
        line = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
        line = _in_flag_words(line) if line else line
        if line and line not in seen:
            seen.append(line)
    for line in seen[:None if verbose else 3]:
        print(f"tsbptt: warning: {line}", file=sys.stderr)


def main(argv=None):
    """Run the ``tsbptt`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        The exit code: 0 on success, 2 for a mistake in the command line or the
        data, 1 for an unexpected failure.
    """
    if sys.stderr is None:  # closed (2>&-): print(file=None) would write to stdout
        sys.stderr = open(os.devnull, "w")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (code 2)
        return exc.code if isinstance(exc.code, int) else 2
    # closed (>&-): the results would be lost, exit 0 (print() to None writes nothing;
    # with --out FILE nothing else goes to stdout)
    if sys.stdout is None and (args.func is not cmd_forecast or args.out in (None, STDOUT)):
        print("tsbptt: error: standard output is closed: the results have nowhere "
              "to go (redirect it, or give --out FILE)", file=sys.stderr)
        return 2
    debug = getattr(args, "debug", False)
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught, _ctrl_c_stops_the_command():
            warnings.simplefilter("always")
            # the command says so in its own words (--fill, the file's steps)
            warnings.filterwarnings("ignore", message=r"fill=.* made up .* most of it "
                                    "is invented", category=UserWarning)
            code = args.func(args)
    except BrokenPipeError:  # `tsbptt ... | head`: stop quietly
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except (UsageError, ValueError, TypeError, OSError) as exc:
        if debug:
            raise
        print(f"tsbptt: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, _Interrupted):
        print("tsbptt: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, not a traceback
        if debug:
            raise
        print(f"tsbptt: error: {type(exc).__name__}: {_one_line(exc)} (run with --debug "
              "for the traceback)", file=sys.stderr)
        return 1
    _report_warnings(caught, getattr(args, "verbose", False))
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
