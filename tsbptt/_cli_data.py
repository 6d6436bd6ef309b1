"""Helpers of the command line (:mod:`tsbptt.cli`): data, models and config files.

Everything here raises :class:`UsageError` (or the library's own ``ValueError``)
with a message meant for the person at the terminal, naming the column, value or
key at fault; :func:`tsbptt.cli.main` turns it into one ``tsbptt: error:`` line.
"""
import argparse
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import datasets

__all__ = ["DATASETS", "MODELS", "Data", "UsageError", "add_data_flags", "build_estimator",
           "check_future", "coverage_arg", "describe", "load_config", "load_data",
           "parse_times", "positive_int"]

#: The --model choices and what each is.
MODELS = {"lstm": "LSTMRegressor", "gru": "GRURegressor", "rnn": "RNNRegressor",
          "ridge": "sklearn Ridge", "naive": "SeasonalNaive",
          "auto": "AutoForecaster, the best of naive, ridge and LSTM in a backtest "
                  "of the training data"}

#: Defaults of the model flags of the command line (the library's own defaults
#: differ where a quick command-line run needs them to: fewer epochs, a higher
#: learning rate).
NET_DEFAULTS = {"hidden_size": 32, "num_layers": 1, "max_iter": 50,
                "learning_rate": 1e-2, "batch_size": 64, "dropout": 0.0,
                "random_state": 0, "n_threads": None}
RIDGE_DEFAULTS = {"alpha": 1.0}

#: Which flag sets which estimator parameter, and the models it applies to.
FLAG_PARAMS = {"hidden_size": ("--hidden-size", "hidden_size", "net"),
               "layers": ("--layers", "num_layers", "net"),
               "epochs": ("--epochs", "max_iter", "net"),
               "learning_rate": ("--learning-rate", "learning_rate", "net"),
               "batch_size": ("--batch-size", "batch_size", "net"),
               "dropout": ("--dropout", "dropout", "net"),
               "threads": ("--threads", "n_threads", "net"),
               "random_state": ("--random-state", "random_state", "net"),
               "alpha": ("--alpha", "alpha", "ridge")}


class UsageError(ValueError):
    """A mistake in the command line or its input files (exit code 2)."""


@dataclass
class Data:
    """A series ready for the Forecaster.

    Attributes: ``y`` (Series), ``X`` (DataFrame on y's index, or None), ``future``
    (DataFrame of the future-known columns on the forecast steps, or None),
    ``source`` (words for the user).
    """

    y: pd.Series
    X: object
    future: object
    source: str


# -- flags ---------------------------------------------------------------------------

def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def coverage_arg(text):
    """argparse type: a coverage strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a coverage between 0 and 1 (e.g. 0.9), "
                                         f"got {text!r}")
    return value


def add_data_flags(p):
    """The flags of ``forecast`` and ``backtest``: data, forecast and model."""
    from .windowing import CALENDAR_FEATURES

    src = p.add_mutually_exclusive_group()
    src.add_argument("file", nargs="?", metavar="FILE.csv",
                     help="CSV file with a time column, the target and any covariates; "
                          "rows in time order")
    src.add_argument("--dataset", metavar="NAME",
                     help="a bundled dataset instead of FILE: electricity_load, "
                          "air_passengers or stock_prices (see `tsbptt datasets`)")
    g = p.add_argument_group("data")
    g.add_argument("--time-col", metavar="COL",
                   help="the time column of FILE: ISO 8601 dates/times (or integers)")
    g.add_argument("--target", metavar="COL",
                   help="the column to forecast (required with FILE; with --dataset, "
                        "default: the dataset's series)")
    g.add_argument("--exog", nargs="+", metavar="COL", default=[],
                   help="past-only covariates: known up to the forecast origin "
                        "(direct strategy only); default: none")
    g.add_argument("--future-exog", nargs="+", metavar="COL", default=[],
                   help="covariates known in advance (plans, holidays); their values for "
                        "the forecast steps are trailing rows with the target left "
                        "empty; default: none")
    g.add_argument("--calendar", nargs="+", metavar="FEAT", default=[],
                   choices=list(CALENDAR_FEATURES),
                   help=f"calendar features of the forecast times, from "
                        f"{', '.join(CALENDAR_FEATURES)}; default: none")
    g.add_argument("--freq", metavar="F",
                   help="the series' step (e.g. h, D, MS, 15min) when it cannot be "
                        "inferred from the times; default: inferred")
    g.add_argument("--fill", choices=["ffill", "interpolate"],
                   help="fill gaps in the times and missing values (forward, or linear "
                        "in time); default: they are errors")
    f = p.add_argument_group("forecast")
    f.add_argument("--horizon", type=positive_int, required=True, metavar="N",
                   help="steps to forecast (required)")
    f.add_argument("--lags", type=positive_int, metavar="N",
                   help="past steps the model reads; default: 2 x season, at least 8")
    f.add_argument("--strategy", choices=["direct", "recursive"], default="direct",
                   help="direct: one output per horizon step; recursive: a one-step "
                        "model fed its own forecasts; default: direct")
    f.add_argument("--interval", type=coverage_arg, metavar="COVERAGE",
                   help="add a conformal prediction interval of this coverage, e.g. 0.9; "
                        "default: no interval")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=list(MODELS), default="lstm",
                   help="; ".join(f"{k}: {v}" for k, v in MODELS.items())
                   + "; default: lstm")
    m.add_argument("--season", type=positive_int, metavar="N",
                   help="seasonal period in steps (24 for hourly data with a daily "
                        "cycle): of --model naive, the default --lags and, in "
                        "backtest, of MASE and the naive baseline; default: from the "
                        "time step (30min 48, hourly 24, daily 7, business day 5, "
                        "weekly 52, monthly 12, quarterly 4; otherwise 1)")
    d = NET_DEFAULTS
    for flag, kind, text, default in [
            ("--hidden-size", positive_int, "units per recurrent layer", "hidden_size"),
            ("--layers", positive_int, "stacked recurrent layers", "num_layers"),
            ("--epochs", positive_int, "training epochs", "max_iter"),
            ("--learning-rate", float, "Adam step size", "learning_rate"),
            ("--batch-size", positive_int, "windows per update", "batch_size"),
            ("--dropout", float, "dropout rate on the recurrent layers' outputs", "dropout"),
            ("--threads", int, "OpenMP threads; -1: all, -2: all but one", None),
            ("--random-state", int, "seed of the weights and the shuffling",
             "random_state")]:
        shown = "all cores" if default is None else d[default]
        m.add_argument(flag, type=kind, metavar="N" if kind is not float else "X",
                       help=f"lstm/gru/rnn: {text} (default: {shown})")
    m.add_argument("--alpha", type=float, metavar="X",
                   help="ridge: L2 penalty (default: 1.0)")
    m.add_argument("--config", metavar="FILE",
                   help="JSON or TOML file of model parameters, e.g. {\"hidden_size\": "
                        "64, \"learning_rate\": 0.003}, applied before the flags above "
                        "(which win); default: none")
    m.add_argument("--verbose", action="store_true",
                   help="show training progress, one line per epoch, and all warnings")



# -- reading ------------------------------------------------------------------------

#: The bundled datasets --dataset reads (one series each), as DataFrames: the
#: target first, then any covariates.
DATASETS = {"air_passengers": datasets.load_air_passengers,
            "electricity_load": lambda: datasets.load_electricity_load(
                with_temperature=True),
            "stock_prices": datasets.load_stock_prices}


def _read_dataset(name):
    loaders = DATASETS
    if name not in loaders:
        many = " (it holds many series, which the command line does not handle)" \
            if name in datasets.list_datasets() else ""
        raise UsageError(f"--dataset {name!r} cannot be used{many}; choose from "
                         f"{sorted(loaders)} (see `tsbptt datasets`)")
    frame = loaders[name]()
    return frame.to_frame() if isinstance(frame, pd.Series) else frame


def _line(pos):
    """The CSV line of data row ``pos`` (the header is line 1)."""
    return pos + 2


def parse_times(values, column):
    """A CSV column as a time index: integers stay integers, text is parsed as dates
    (ISO 8601 first, else one format for the whole column, which must not read
    differently day first and month first); the first unparsable value is named."""
    values = pd.Series(values).reset_index(drop=True)
    empty = values.isna().to_numpy()
    if empty.any():
        raise UsageError(f"time column {column!r} is empty on line "
                         f"{_line(int(np.flatnonzero(empty)[0]))} of the file")
    if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
        values = values.astype(np.int64)  # 1.0, 2.0, ...: integer steps
    if pd.api.types.is_integer_dtype(values):
        return pd.Index(values.to_numpy(), name=column)
    text = values.astype(str)
    parsed = _to_datetime(text, format="ISO8601")
    if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
        if _to_datetime(text, format="ISO8601", utc=True) is not None:
            _mixed_zones(text, column)
        parsed = _one_format(text, column)
    return pd.DatetimeIndex(parsed, name=column)


def _to_datetime(text, **kwargs):
    """``pd.to_datetime`` quietly, or None where it raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.to_datetime(text, **kwargs)
    except (ValueError, TypeError, OverflowError):
        return None


def _mixed_zones(text, column):
    """Raise for ISO 8601 times whose UTC offsets differ (or only some have one)."""
    offsets = [pd.Timestamp(v).utcoffset() for v in text]
    pos = next((i for i, o in enumerate(offsets) if o != offsets[0]), None)
    if pos is None:
        return

    def words(i):
        return "no UTC offset" if offsets[i] is None else \
            f"UTC offset {pd.Timestamp(text[i]):%z}"

    dst = "" if None in (offsets[0], offsets[pos]) else \
        " (a daylight saving time change?)"
    raise UsageError(f"time column {column!r} mixes time zones: {text[0]!r} (line 2) has "
                     f"{words(0)} but {text[pos]!r} (line {_line(pos)}) has "
                     f"{words(pos)}{dst}; write every time with the same UTC offset, e.g. "
                     "all in UTC")


def _one_format(text, column):
    """Non-ISO times: one format inferred for the whole column (never some values day
    first and others month first), read month first and day first; an error where
    both readings work and differ, or where neither reads every value."""
    readings = {}
    year_first = bool(re.match(r"\s*\d{4}\D", text[0]))  # year, month, day: never y-d-m
    for dayfirst in (False,) if year_first else (False, True):
        parsed = _to_datetime(text, dayfirst=dayfirst, errors="coerce")
        if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed):
            readings["day first" if dayfirst else "month first"] = parsed
    complete = {k: p for k, p in readings.items() if p.notna().all()}
    if len(complete) == 2:
        (a, pa), (b, pb) = complete.items()
        differ = np.flatnonzero((pa != pb).to_numpy())
        if len(differ):
            pos = int(differ[0])
            raise UsageError(f"time column {column!r} is ambiguous: {text[pos]!r} (line "
                             f"{_line(pos)}) is {pa[pos]:%Y-%m-%d} read {a} but "
                             f"{pb[pos]:%Y-%m-%d} read {b}; write the times as ISO 8601, "
                             "e.g. 2024-01-31 13:00")
    if complete:
        return next(iter(complete.values()))
    # name the first value that breaks the reading which goes furthest
    stops = [int(np.argmax(p.isna().to_numpy())) for p in readings.values()]
    pos = max(stops) if stops else next(
        (i for i, v in enumerate(text) if _to_datetime(v) is None), 0)
    like = f" like {text[0]!r} (line 2)" if pos else ""
    raise UsageError(f"cannot read {text[pos]!r} (line {_line(pos)}) of time column "
                     f"{column!r} as a date/time{like}; write times as ISO 8601, e.g. "
                     "2024-01-31 13:00")


def _check_order(index, column):
    """The rows in time order, one per time: else an error naming the lines."""
    dup = np.flatnonzero(index.duplicated())
    if len(dup):
        pos = int(dup[0])
        first = int(np.flatnonzero(index == index[pos])[0])
        raise UsageError(f"time column {column!r} has {index[pos]} more than once (lines "
                         f"{_line(first)} and {_line(pos)}); keep one row per time (sum "
                         "or average the duplicates)")
    back = np.flatnonzero(index[1:] < index[:-1])
    if len(back):
        pos = int(back[0]) + 1
        raise UsageError(f"time column {column!r} is not sorted: {index[pos]} (line "
                         f"{_line(pos)}) comes after {index[pos - 1]} (line "
                         f"{_line(pos - 1)}); sort the rows by time")


def _check_time_flags(args, index, what):
    """--calendar and --freq fit the kind of times: dates, or integer steps."""
    dated = isinstance(index, pd.DatetimeIndex)
    freq = getattr(args, "freq", None)
    if getattr(args, "calendar", None) and not dated:
        raise UsageError(f"--calendar {' '.join(args.calendar)} needs dates, but {what} "
                         "holds integer steps")
    if freq is not None and dated and freq.isdigit():
        raise UsageError(f"--freq {freq} is an integer step, but {what} holds dates: give "
                         "a pandas frequency, e.g. h, D, MS")
    if freq is not None and not dated and not freq.isdigit():
        raise UsageError(f"--freq {freq} is a pandas frequency, but {what} holds integer "
                         "steps: give an integer step, e.g. --freq 1")


def _numeric(frame, column, where):
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        coerced = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero((coerced.isna() & values.notna()).to_numpy())
        if len(bad) or pd.api.types.is_bool_dtype(values):
            pos = int(bad[0]) if len(bad) else 0
            raise UsageError(f"column {column!r} is not numeric: {values.iloc[pos]!r} "
                             f"at {frame.index[pos]}{where}")
        frame[column] = coerced
    frame[column] = frame[column].astype(np.float64)


def _check_columns(columns, names, source):
    missing = [c for c in names if c not in columns]
    if missing:
        raise UsageError(f"{source} has no column {', '.join(map(repr, missing))}; its "
                         f"columns are {list(columns)}")


def load_data(args):
    """Read FILE (or --dataset) into a :class:`Data` per the command-line flags.

    Trailing rows whose target is empty are the forecast steps' future-known
    covariates (``--future-exog``); a missing value anywhere else is an error
    unless ``--fill`` is given.
    """
    if args.dataset is None and args.file is None:
        raise UsageError("give a FILE.csv, or --dataset NAME for a bundled dataset")
    if args.dataset is not None:
        if args.time_col is not None:
            raise UsageError("--time-col applies to a FILE, not to --dataset")
        frame = _read_dataset(args.dataset)
        columns = list(frame.columns)
        source = f"dataset {args.dataset!r}"
        target = args.target or frame.columns[0]
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"file not found: {args.file}")
        frame = pd.read_csv(path)
        columns = list(frame.columns)
        source = str(args.file)
        if args.time_col is None or args.target is None:
            flag = "--time-col" if args.time_col is None else "--target"
            raise UsageError(f"{flag} is required with a FILE; the columns of {source} "
                             f"are {list(frame.columns)}")
        _check_columns(frame.columns, [args.time_col], source)
        target = args.target
        frame.index = parse_times(frame.pop(args.time_col), args.time_col)
        _check_order(frame.index, args.time_col)
    _check_time_flags(args, frame.index, "the dataset's time index" if args.dataset
                      else f"time column {args.time_col!r}")
    exog, future_exog = list(args.exog or []), list(args.future_exog or [])
    _check_columns(columns, [target] + exog + future_exog, source)
    if args.time_col is not None and args.time_col in [target] + exog + future_exog:
        raise UsageError(f"{args.time_col!r} is the time column; it cannot also be the "
                         "target or a covariate")
    both = sorted(set(exog) & set(future_exog))
    if both:
        raise UsageError(f"column(s) {both} are given to both --exog and --future-exog")
    if target in exog + future_exog:
        raise UsageError(f"the target {target!r} cannot also be a covariate")
    frame = frame[[target] + exog + future_exog].copy()
    for column in frame.columns:
        _numeric(frame, column, f" in {source}")

    known = np.flatnonzero(frame[target].notna().to_numpy())
    if not len(known):
        raise UsageError(f"the target column {target!r} has no values")
    end = int(known[-1]) + 1
    history, tail = frame.iloc[:end], frame.iloc[end:]
    future = None
    if len(tail):
        if not future_exog:
            raise UsageError(
                f"the last {len(tail)} row(s) (from {tail.index[0]}) have no {target!r} "
                "value; trailing rows without a target can only give the forecast steps' "
                "future-known covariates (--future-exog COL ...); delete them otherwise")
        future = tail[future_exog]
    if args.fill is None:
        for column in history.columns:
            bad = np.flatnonzero(history[column].isna().to_numpy())
            if len(bad):
                raise UsageError(f"column {column!r} has a missing value at "
                                 f"{history.index[bad[0]]}; pass --fill interpolate or "
                                 "--fill ffill to fill missing values")
    y = history[target]
    X = history[exog + future_exog] if exog or future_exog else None
    return Data(y=y, X=X, future=future, source=source)


def check_future(data, future_exog, horizon):
    """The future-known covariates of the forecast steps: present and complete."""
    if not future_exog:
        return None
    rows = 0 if data.future is None else len(data.future)
    if rows < horizon:
        raise UsageError(
            f"--future-exog {' '.join(future_exog)}: the data gives {rows} row(s) after "
            f"the last target value, --horizon {horizon} needs {horizon}: append one row "
            "per forecast step with the target empty and the future-known columns filled")
    future = data.future.iloc[:horizon]
    bad = future.isna().any(axis=1).to_numpy()
    if bad.any():
        at = future.index[int(np.flatnonzero(bad)[0])]
        raise UsageError(f"the future-known covariates {future_exog} have a missing "
                         f"value at {at} (a forecast step)")
    return future


# -- models -------------------------------------------------------------------------

def load_config(path):
    """Model parameters from a JSON or TOML file (a flat table of name = value)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ImportError:  # pragma: no cover - Python 3.10
            raise UsageError("TOML config files need Python 3.11 or later; use JSON") \
                from None
        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    elif path.suffix.lower() == ".json":
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"config file {path} is not valid JSON: {exc}") from None
    else:
        raise UsageError(f"config file {path} must end in .json or .toml")
    if not isinstance(config, dict):
        raise UsageError(f"config file {path} must hold a table of parameter = value, "
                         f"not a {type(config).__name__}")
    nested = [k for k, v in config.items() if isinstance(v, dict)]
    if nested:
        raise UsageError(f"config file {path}: {nested} are tables; give the model "
                         "parameters at the top level")
    return config


def build_estimator(args, config=None, verbose=0):
    """The regressor of ``--model``: the command-line defaults, then the config
    file's parameters, then the model flags given explicitly."""
    from sklearn.linear_model import Ridge

    from .baselines import SeasonalNaive
    from .estimators import GRURegressor, LSTMRegressor, RNNRegressor

    kind = {"lstm": "net", "gru": "net", "rnn": "net"}.get(args.model, args.model)
    for attr, (flag, _, applies) in FLAG_PARAMS.items():
        if getattr(args, attr, None) is not None and applies != kind:
            what = "--model lstm, gru or rnn" if applies == "net" else "--model ridge"
            raise UsageError(f"{flag} applies to {what}, not to --model {args.model}")
    if args.model == "auto":
        if config:
            raise UsageError("--config applies to one model, not to --model auto")
        return None
    if args.model == "ridge":
        est = Ridge(**RIDGE_DEFAULTS)
    elif args.model == "naive":
        est = SeasonalNaive(season=args.season or 1)
    else:
        cls = {"lstm": LSTMRegressor, "gru": GRURegressor, "rnn": RNNRegressor}[args.model]
        est = cls(**NET_DEFAULTS, verbose=verbose)
    if config:
        valid = est.get_params(deep=False)
        unknown = sorted(k for k in config if k not in valid)
        if unknown:
            raise UsageError(f"config file: unknown parameter(s) {unknown} for "
                             f"{type(est).__name__}; valid ones: {sorted(valid)}")
        est.set_params(**config)
    est.set_params(**{param: getattr(args, attr)
                      for attr, (_, param, applies) in FLAG_PARAMS.items()
                      if applies == kind and getattr(args, attr, None) is not None})
    if args.model == "naive" and args.season is not None:  # the flag wins, as the others
        est.set_params(season=args.season)
    return est


def describe(est):
    """``Name(param=value, ...)`` with the parameters that differ from the class'
    defaults (scikit-learn's short repr, on one line)."""
    return " ".join(repr(est).split())
