"""Helpers of the command line (:mod:`tsbptt.cli`): data, models and config files.

Everything here raises :class:`UsageError` (or the library's own ``ValueError``)
with a message meant for the person at the terminal, naming the column, value or
key at fault; :func:`tsbptt.cli.main` turns it into one ``tsbptt: error:`` line.
"""
import argparse
import bz2
import csv
import datetime
import difflib
import gzip
import itertools
import json
import lzma
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import datasets
from ..utils._validation import plain_label

__all__ = ["DATASETS", "MODELS", "Data", "UsageError", "add_data_flags", "build_estimator",
           "check_future", "coverage_arg", "cut", "describe", "is_period_freq",
           "load_config", "load_data", "pandas_hint", "parse_times", "period_freq",
           "period_writer", "positive_int", "thread_count", "time_zone", "utc_offset"]

#: Longest value an error message quotes; longer ones are cut (a cell may be huge).
MAX_SHOWN = 80

#: The --model choices and what each is.
MODELS = {"lstm": "LSTMRegressor", "gru": "GRURegressor", "rnn": "RNNRegressor",
          "ridge": "sklearn Ridge", "esn": "ESNRegressor (echo-state network)",
          "naive": "SeasonalNaive",
          "auto": "AutoForecaster: backtests seasonal naive, naive, ridge and two LSTMs "
                  "(and, for hourly to 15-minute steps, seasonal naive and ridge at "
                  "the week) on the latest 20% of the training data (at most 250 horizons) and "
                  "forecasts with the mean "
                  "of the best (up to three within 1.5 times the best's error)"}

#: Defaults of the model flags of the command line (the library's own defaults
#: differ where a quick command-line run needs them to: fewer epochs, a higher
#: learning rate).
NET_DEFAULTS = {"hidden_size": 32, "num_layers": 1, "max_iter": 50,
                "learning_rate": 1e-2, "batch_size": 64, "dropout": 0.0,
                "random_state": 0, "n_threads": None}
RIDGE_DEFAULTS = {"alpha": 1.0}
ESN_DEFAULTS = {"random_state": 0, "n_threads": None}

#: Which flag sets which estimator parameter, and the models it applies to.
FLAG_PARAMS = {"hidden_size": ("--hidden-size", "hidden_size", ("net",)),
               "layers": ("--layers", "num_layers", ("net",)),
               "epochs": ("--epochs", "max_iter", ("net",)),
               "learning_rate": ("--learning-rate", "learning_rate", ("net",)),
               "batch_size": ("--batch-size", "batch_size", ("net",)),
               "dropout": ("--dropout", "dropout", ("net",)),
               "threads": ("--threads", "n_threads", ("net", "esn")),
               "random_state": ("--random-state", "random_state", ("net", "esn")),
               "alpha": ("--alpha", "alpha", ("ridge", "esn"))}
#: The --model values of each kind in FLAG_PARAMS, for error messages.
_KIND_WORDS = {"net": ("lstm", "gru", "rnn"), "ridge": ("ridge",), "esn": ("esn",)}


class UsageError(ValueError):
    """A mistake in the command line or its input files (exit code 2)."""


@dataclass
class Data:
    """A series ready for the Forecaster.

    Attributes: ``y`` (Series), ``X`` (DataFrame on y's index, or None), ``future``
    (DataFrame of the future-known columns on the forecast steps, or None),
    ``source`` (words for the user), ``labels`` (for periods written in a form of
    their own, 2020-Q1: a function of a Period that writes one so; else None).
    """

    y: pd.Series
    X: object
    future: object
    source: str
    labels: object = None

    def label(self, time):
        """``time`` (a Timestamp, Period or step) as the data's labels write it."""
        return self.labels(time) if self.labels is not None and \
            isinstance(time, pd.Period) else time


def cut(value, limit=MAX_SHOWN):
    """``repr(value)`` for an error message, at most ``limit`` characters."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit - 3]}... ({len(text)} characters)"


# -- flags ---------------------------------------------------------------------------

#: Largest integer a count flag (--horizon, --lags, --epochs, ...) accepts.
MAX_COUNT = 10 ** 7
#: Largest thread count --threads accepts, either sign.
MAX_THREADS = 4096


def _integer(text, what):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {cut(text)}") from None


def positive_int(text):
    """argparse type: an integer from 1 to :data:`MAX_COUNT`."""
    value = _integer(text, "a positive integer")
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to {MAX_COUNT}, "
                                         f"got {cut(text)}")
    return value


def thread_count(text):
    """argparse type of --threads: a non-zero integer within +-:data:`MAX_THREADS`."""
    value = _integer(text, "an integer number of threads (-1: all cores)")
    if value == 0 or abs(value) > MAX_THREADS:
        raise argparse.ArgumentTypeError(
            f"expected 1 to {MAX_THREADS} threads, or -1 for all cores (-2 all but one), "
            f"got {cut(text)}")
    return value


def seed(text):
    """argparse type of --random-state: an integer from 0 to 2**32 - 1."""
    value = _integer(text, "an integer seed")
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {2 ** 32 - 1}, "
                                         f"got {cut(text)}")
    return value


def _real(text, low, high, closed_high, what, closed_low=False):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (low < value < high or (closed_high and value == high)
            or (closed_low and value == low)):
        raise argparse.ArgumentTypeError(f"expected {what}, got {cut(text)}")
    return value


def learning_rate(text):
    """argparse type of --learning-rate: a finite number > 0."""
    return _real(text, 0.0, float("inf"), False, "a learning rate > 0, e.g. 0.01")


def dropout(text):
    """argparse type of --dropout: a rate in [0, 1)."""
    # the number, not its spelling: 0.00, .0 and 0e0 are 0 too
    return _real(text, 0.0, 1.0, False, "a dropout rate from 0 to below 1, e.g. 0.2",
                 closed_low=True) + 0.0  # -0.0 -> 0.0


def penalty(text):
    """argparse type of --alpha: a finite number >= 0."""
    return _real(text, 0.0, float("inf"), False, "a penalty >= 0, e.g. 1.0",
                 closed_low=True) + 0.0  # -0.0 -> 0.0


def character(example, pattern=False):
    """argparse type of --sep, --decimal and --thousands: one character (``example``
    in its message), or with ``pattern`` (--sep) a longer regular expression too, as
    pandas reads it (``\\s+`` for columns aligned by spaces). A shell passes '\\t'
    as backslash and t (the tool itself suggests --sep '\\t'): a tab."""
    def parse(text):
        char = "\t" if text == "\\t" else text
        if len(char) != 1 and not (pattern and char):
            what = "a separator" if pattern else "one character"
            raise argparse.ArgumentTypeError(f"expected {what}, e.g. {example}, got "
                                             f"{cut(text)}")
        if len(char) > 1:
            try:
                re.compile(char)
            except re.error as exc:
                raise argparse.ArgumentTypeError(
                    f"{cut(text)} is not a regular expression ({exc}); a separator of "
                    "several characters is one, e.g. '\\s+'") from None
        return char

    return parse


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


def bound_arg(text):
    """argparse type: one end of ``--bounds``, a finite number or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a number or none (e.g. --bounds 0 "
                                         f"none), got {text!r}")
    return value


def add_data_flags(p):
    """The flags of ``forecast`` and ``backtest``: data, forecast and model."""
    from ..forecasting.windowing import CALENDAR_FEATURES

    src = p.add_mutually_exclusive_group()
    src.add_argument("file", nargs="?", metavar="FILE.csv",
                     help="CSV file with a time column, the target and any covariates; "
                          "rows in time order")
    src.add_argument("--dataset", metavar="NAME",
                     help="a bundled dataset instead of FILE: electricity_load, "
                          "air_passengers or stock_prices (see `tsbptt datasets`)")
    g = p.add_argument_group("data")
    g.add_argument("--time-col", metavar="COL",
                   help="the time column of FILE: ISO 8601 dates/times, periods "
                        "(quarters 2020Q1 or Q1 2020, months 2020-01, 2020M01, 01/2020, "
                        "Jan-2020 or 2020 JAN, ISO weeks 2020-W01, years 1990; the "
                        "forecasts are labelled alike), or integer steps; default: the "
                        "one column whose values all read as dates or periods")
    g.add_argument("--tz", metavar="ZONE",
                   help="the series' time zone, an IANA name such as Europe/Berlin or "
                        "America/New_York: times with a UTC offset (which may change "
                        "at daylight saving time) or in UTC are converted to it, times "
                        "without one are read as its local times (the repeated autumn "
                        "hour by the order of the rows); the forecasts are dated, and "
                        "--calendar reads the hour and day, in ZONE; default: the "
                        "times as written, with one UTC offset at most")
    g.add_argument("--sep", default=",",
                   type=character("';' (or '\\t' for a tab)", pattern=True), metavar="SEP",
                   help="the field separator of FILE, e.g. ';' or '\\t' for a tab, or a "
                        "regular expression such as '\\s+' (default: ',')")
    g.add_argument("--decimal", default=".", type=character("','"), metavar="CHAR",
                   help="the decimal mark of FILE's numbers, e.g. ',' (default: '.')")
    g.add_argument("--thousands", type=character("','"), metavar="CHAR",
                   help="the thousands separator of FILE's numbers, e.g. ',' in "
                        "10,000.5 or '.' in 10.000,5 (default: none)")
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
                        "inferred from the times; for periods, their frequency (Q-MAR: "
                        "quarters of fiscal years that end in March, 2020Q1 being "
                        "April-June 2019; Y-MAR, W-SAT); default: inferred (calendar "
                        "quarters and years)")
    g.add_argument("--fill", choices=["ffill", "interpolate"],
                   help="fill gaps in the times and missing values (forward, or linear "
                        "in time); default: they are errors")
    f = p.add_argument_group("forecast")
    f.add_argument("--horizon", type=positive_int, required=True, metavar="N",
                   help="steps to forecast (required)")
    f.add_argument("--lags", type=positive_int, metavar="N",
                   help="past steps the model reads; default: 2 x season, at least 8")
    f.add_argument("--strategy", choices=["direct", "recursive", "stateful"],
                   default="direct",
                   help="direct: one output per horizon step; recursive: a one-step "
                        "model fed its own forecasts; stateful (lstm, gru, rnn, esn): "
                        "one pass over the series, forecasts from its final state "
                        "(the fastest fit of --model esn); default: direct")
    f.add_argument("--interval", type=coverage_arg, metavar="COVERAGE",
                   help="add a conformal prediction interval of this coverage, e.g. 0.9; "
                        "default: no interval")
    f.add_argument("--bounds", type=bound_arg, nargs=2, metavar=("LOW", "HIGH"),
                   help="the range the series' values keep to, each end a number or "
                        "none (0 none for sales, counts or loads; 0 100 for a "
                        "percentage): forecasts and intervals are clipped to it, and "
                        "values outside it are an error; default: none")
    m = p.add_argument_group("model")
    m.add_argument("--model", choices=list(MODELS), default="lstm",
                   help="; ".join(f"{k}: {v}" for k, v in MODELS.items()).replace("%", "%%")
                   + "; default: lstm")  # argparse formats help with %
    m.add_argument("--season", type=positive_int, metavar="N",
                   help="seasonal period in steps (24 for hourly data with a daily "
                        "cycle): of --model naive, the default --lags and, in "
                        "backtest, of MASE and the naive baseline; default: from the "
                        "time step (a step that divides a day from 15min to 12h: a "
                        "daily cycle, e.g. 15min 96, hourly 24; daily 7, business day "
                        "5, weekly 52, monthly 12, quarterly 4; otherwise 1)")
    d = NET_DEFAULTS
    for flag, kind, text, default in [
            ("--hidden-size", positive_int, "units per recurrent layer", "hidden_size"),
            ("--layers", positive_int, "stacked recurrent layers", "num_layers"),
            ("--epochs", positive_int, "at most this many training epochs (early stopping "
             "ends sooner when the validation loss stops improving)", "max_iter"),
            ("--learning-rate", learning_rate, "Adam step size", "learning_rate"),
            ("--batch-size", positive_int, "windows per update", "batch_size"),
            ("--dropout", dropout, "dropout rate on the recurrent layers' outputs",
             "dropout"),
            ("--threads", thread_count, "OpenMP threads; -1: all, -2: all but one", None),
            ("--random-state", seed, "seed of the weights and the shuffling",
             "random_state")]:
        shown = "all cores" if default is None else d[default]
        real = kind in (learning_rate, dropout)
        models = "lstm/gru/rnn/esn" if "esn" in FLAG_PARAMS[
            flag.removeprefix("--").replace("-", "_")][2] else "lstm/gru/rnn"
        m.add_argument(flag, type=kind, metavar="X" if real else "N",
                       help=f"{models}: {text} (default: {shown})")
    m.add_argument("--alpha", type=penalty, metavar="X",
                   help="ridge/esn: L2 penalty of the ridge or of the echo-state "
                        "readout (default: 1.0 for ridge; for esn, the best of 1e-10 "
                        "to 100 by generalized cross-validation)")
    m.add_argument("--config", metavar="FILE",
                   help="JSON or TOML file of model parameters, e.g. {\"hidden_size\": "
                        "64, \"learning_rate\": 0.003}, applied before the flags above "
                        "(which win); default: none")
    m.add_argument("--verbose", action="store_true",
                   help="training progress one line per epoch, and all warnings "
                        "(default: one line redrawn per fit, at a terminal)")
    m.add_argument("--quiet", action="store_true",
                   help="no training progress (at a terminal it is shown by default)")



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


def _line(pos, lines=None):
    """The file line of data row ``pos``: by ``lines`` (a :class:`FileLines`), else
    ``pos + 2`` (the header is line 1)."""
    return pos + 2 if lines is None else lines(pos)


class FileLines:
    """The file line of each data row of a CSV file, found when a message first
    needs one: pandas skips blank lines and reads a quoted field over several lines,
    so row ``pos`` is not always line ``pos + 2``."""

    def __init__(self, path, sep):
        self.path, self.sep, self._lines = path, sep, None

    def __call__(self, pos):
        if self._lines is None:
            self._lines = self._scan()
        return int(self._lines[pos]) if pos < len(self._lines) else pos + 2

    def _scan(self):
        import csv

        starts = []
        try:
            with _open_text(self.path, newline="", encoding="utf-8-sig",
                            errors="replace") as f:
                reader = csv.reader(f, delimiter=self.sep)
                end = 0
                for row in reader:
                    start, end = end + 1, reader.line_num
                    if len(row) > 1 or (row and row[0].strip()):  # pandas skips blank lines
                        starts.append(start)
        except (OSError, csv.Error):  # a cell past csv's size limit, say: lines as if none
            return []
        return starts[1:]  # the header first


class MixedZonesError(UsageError):
    """A column of ISO 8601 times with more than one UTC offset."""


class NoPeriodError(UsageError):
    """A column of period labels of one form, one of which is no such period (an
    ISO week its year does not have, 2019-W53)."""


class DateIntegersError(UsageError):
    """A column of integers that all read as dates (yyyymmdd), e.g. 20240131."""


def time_zone(name):
    """``--tz``: the name of a time zone of the IANA database (as :mod:`zoneinfo`
    lists them), else an error suggesting the closest name.

    Parameters
    ----------
    name : str
        E.g. ``Europe/Berlin``, ``America/New_York`` or ``UTC``.

    Returns
    -------
    str
        ``name``, for pandas' ``tz_convert`` and ``tz_localize``.
    """
    import zoneinfo

    # (not the machine's own 'localtime', nor the database's placeholders)
    zones = zoneinfo.available_timezones() - {"localtime", "Factory", "posixrules",
                                              "posix/localtime", "right/localtime"}
    if name in zones:
        return name
    if not zones:  # no list of names here (no tz database files): ask for the zone
        try:
            zoneinfo.ZoneInfo(name)
            return name
        except (KeyError, ValueError, OSError):  # not found (a KeyError), a path, a folder
            pass
    # by name, not by loading it: on a case-insensitive disk europe/berlin loads, and
    # would then be written as the zone's name
    close = [z for z in sorted(zones) if z.lower() == name.lower()] or \
        difflib.get_close_matches(name, sorted(zones), n=1, cutoff=0.8)  # Z: not NZ
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise UsageError(f"--tz {cut(name)} is not a time zone{hint}: give an IANA name "
                     "such as Europe/Berlin, America/New_York or UTC")


def parse_times(values, column, lines=None, tz=None, freq=None):
    """A CSV column as a time index: integers stay integers (unless they all read as
    dates, 20240131, which is an error), text is parsed as dates (ISO 8601 first,
    else one format for the whole column, which must not read differently day first
    and month first); the first unparsable value is named, on its line of the file
    (``lines``, a :class:`FileLines`).

    Period labels are a PeriodIndex: quarters (2020Q1, 2020-Q1, 2020q1, Q1 2020),
    months (2020-01, 2020/01, 2020M01, 01/2020, Jan-2020, 2020 JAN), weeks as pandas
    writes them (2020-01-06/2020-01-12) and ISO weeks (2020-W01: W-SUN), and
    consecutive years (1990, 1991, ...), of the period frequency ``freq``
    (``--freq``, e.g. Q-MAR: fiscal quarters) where given, else of the labels'
    (calendar quarters and years, weeks ending on their last day's weekday). A
    ``freq`` of another kind than the labels is an error; an integer ``freq``
    keeps years integer steps.

    With ``tz`` (``--tz``, a zone name) the dates are in that zone: times with UTC
    offsets, which may differ (they are instants), are converted to it, times
    without one are read as its local times (:func:`_localize`).
    """
    values = pd.Series(values).reset_index(drop=True)
    empty = values.isna().to_numpy()
    if empty.any():
        raise UsageError(f"time column {column!r} is empty on line "
                         f"{_line(int(np.flatnonzero(empty)[0]), lines)} of the file")
    if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
        values = values.astype(np.int64)  # 1.0, 2.0, ...: integer steps
    if _is_text(values) and values.astype(str).str.fullmatch(_YEAR.pattern,
                                                             flags=re.ASCII).all():
        values = values.astype(str).str.strip().astype(np.int64)  # years as text
    if pd.api.types.is_integer_dtype(values):
        _refuse_date_integers(values, column)
        years = _as_years(values, column, lines, freq)
        if years is not None:
            return years
        return pd.Index(values.to_numpy(), name=column)
    periods = _as_periods(values.astype(str), column, lines, freq)
    if periods is not None:
        return periods
    # RFC 3339's lowercase z is UTC as Z is: the ISO parser refused it, and the
    # fallback read it as the machine's local zone, then dropped it (a silent shift)
    text = values.astype(str).str.replace(r"(?<=\d)z$", "Z", regex=True)
    parsed = _to_datetime(text, format="ISO8601")
    if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
        instants = _to_datetime(text, format="ISO8601", utc=True)
        if instants is not None:
            offsets = _mixed_zones(text, column, lines, tz)
            if tz is not None and None not in offsets:  # each an instant: any offsets
                parsed = instants
        if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
            parsed = _one_format(text, column, lines, tz)
    index = pd.DatetimeIndex(parsed, name=column)
    if tz is None:
        return index
    return index.tz_convert(tz) if index.tz is not None else \
        _localize(index, tz, column, lines)


def utc_offset(time):
    """The UTC offset of a Timestamp in a zone as ISO 8601 writes it: ``+01:00``."""
    text = f"{time:%z}"  # +0100
    return f"{text[:3]}:{text[3:]}"


def _localize(index, tz, column, lines=None):
    """Times without a UTC offset as local times of zone ``tz``: a time the zone
    repeats (the hour the clocks go back) is the earlier instant where it first
    occurs in the file and the later one where it occurs again, as the rows of a
    series in time order have it (``ambiguous='infer'``, but by the rows, and with
    the row named where one is alone); a time the zone skips (the hour the clocks
    go forward) is an error naming its line, never moved."""
    n = len(index)
    # the two readings of each time: they differ where the zone repeats it
    a = index.tz_localize(tz, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    skipped = np.flatnonzero(a.isna() & index.notna())  # (a missing time is said later)
    # dates alone (daily data) in a zone whose clocks change at midnight need no zone
    dates_only = "dates without a time of day need no --tz: leave it out" \
        if (index == index.normalize()).all() else None
    if len(skipped):
        pos = int(skipped[0])
        fix = dates_only or "write the times with their UTC offsets, or in UTC, or check --tz"
        raise UsageError(
            f"time column {column!r} has {index[pos]} (line {_line(pos, lines)}), a local "
            f"time that --tz {tz} skips (the clocks go forward there at daylight saving "
            f"time); {fix}")
    b = index.tz_localize(tz, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    twice = np.flatnonzero(a.asi8 != b.asi8)
    if not len(twice):
        return a
    wall = pd.Series(index.asi8[twice])
    order = wall.groupby(wall.to_numpy()).cumcount().to_numpy()
    alone = np.flatnonzero(wall.map(wall.value_counts()).to_numpy() == 1)
    if len(alone):
        pos = int(twice[alone[0]])
        offsets = " and ".join(map(utc_offset, sorted((a[pos], b[pos]))))  # in turn
        fix = dates_only or "write the times with their UTC offsets, or in UTC"
        raise UsageError(
            f"time column {column!r} has {index[pos]} (line {_line(pos, lines)}) once, a "
            f"local time that --tz {tz} has twice, at UTC offsets {offsets} (the clocks "
            "go back there at the end of daylight saving time), and no second row tells "
            f"which one it is; {fix}")
    earlier = np.minimum(a.asi8[twice], b.asi8[twice])
    later = np.maximum(a.asi8[twice], b.asi8[twice])
    use_b = np.zeros(n, dtype=bool)
    use_b[twice] = b.asi8[twice] == np.where(order == 0, earlier, later)
    return a.where(~use_b, b).rename(column)


def _refuse_date_integers(values, column):
    """Raise :class:`DateIntegersError` where every value is an 8-digit integer that
    reads as a date, year month day (20240131), or a 6-digit one that reads as a
    month, year month (202401: as steps, 202413 would follow 202412).

    Refused, not read as dates: such integers may be steps or ids as well, and
    either guess, when wrong, gives forecasts at wrong times without a word (as
    steps, 20240131 is followed by 20240132); the refusal costs one edit of the
    file, and the dates then written say what they mean."""
    ints = values.to_numpy()
    if not len(ints):
        return
    for low, high, fmt, words, shown in ((10_000_000, 99_999_999, "%Y%m%d",
                                          "year month day", "%Y-%m-%d"),
                                         (180_001, 220_012, "%Y%m", "year month", "%Y-%m")):
        if ints.min() < low or ints.max() > high:
            continue
        dates = _to_datetime(pd.Series(ints).astype(str), format=fmt, errors="coerce")
        if dates is None or dates.isna().any():
            continue
        raise DateIntegersError(
            f"time column {column!r} holds integers that read as dates, {words} "
            f"({ints[0]} ..); integers are read as steps (the step after {ints[-1]} "
            f"would be {ints[-1] + 1}), so write the dates as dates, e.g. "
            f"{dates[0]:{shown}}")


def _to_datetime(text, **kwargs):
    """``pd.to_datetime`` quietly, or None where it raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.to_datetime(text, **kwargs)
    except (ValueError, TypeError, OverflowError):
        return None


#: The advice for times whose UTC offsets change (instants of one zone).
_PASS_TZ = ("pass --tz with the series' zone (e.g. --tz Europe/Berlin), or write every "
            "time with the same UTC offset, e.g. all in UTC")


def _mixed_zones(text, column, lines=None, tz=None):
    """Raise for ISO 8601 times whose UTC offsets differ (or only some have one);
    with ``tz`` (--tz), only where some have one and others not: times with
    offsets are instants, whatever their offsets. Returns the offsets (None: none).
    """
    if tz is not None:  # only whether each has an offset: a pattern, not a parse a row
        has = text.str.contains(r"(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)\s*$",
                                regex=True).to_numpy()
        offsets = [True if h else None for h in has]
    else:
        offsets = [pd.Timestamp(v).utcoffset() for v in text]
    differ = (lambda o: (o is None) != (offsets[0] is None)) if tz is not None else \
        (lambda o: o != offsets[0])
    pos = next((i for i, o in enumerate(offsets) if differ(o)), None)
    if pos is None:
        return offsets

    def words(i):
        return "no UTC offset" if offsets[i] is None else \
            f"UTC offset {pd.Timestamp(text[i]):%z}"

    both = None not in (offsets[0], offsets[pos])
    if tz is not None:  # some have an offset, others not: local times, or instants?
        fix = (f"write every time with its UTC offset, or none (then --tz reads them "
               f"as local times in {tz})")
    elif both:  # instants: --tz converts them
        fix = _PASS_TZ
    else:
        fix = "write every time with the same UTC offset, e.g. all in UTC"
    dst = " (a daylight saving time change?)" if both else ""
    raise MixedZonesError(
        f"time column {column!r} mixes time zones: {cut(text[0])} (line "
        f"{_line(0, lines)}) has {words(0)} but {cut(text[pos])} (line "
        f"{_line(pos, lines)}) has {words(pos)}{dst}; {fix}")


def _one_format(text, column, lines=None, tz=None):
    """Non-ISO times: one format inferred for the whole column (never some values day
    first and others month first), read month first and day first; an error where
    both readings work and differ, or where neither reads every value. Times with
    UTC offsets that differ (25.03.2024 00:00+0100 ... 31.03.2024 05:00+0200) are
    instants in UTC with ``tz`` (--tz), else an error that suggests it."""
    readings = {}
    year_first = bool(re.match(r"\s*\d{4}\D", text[0]))  # year, month, day: never y-d-m
    options = [dict(dayfirst=False)] if year_first else [dict(dayfirst=False),
                                                          dict(dayfirst=True)]
    # 24-03-01: a two-digit year first, too (not 03.11.2024: its year is the third)
    if re.match(r"\s*\d{2}\D", text[0]) and \
            not re.match(r"\s*\d{1,2}\D\d{1,2}\D\d{4}", text[0]):
        options.append(dict(yearfirst=True))
    for kwargs in options:
        parsed = _to_datetime(text, errors="coerce", **kwargs)
        if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed):
            parsed = _instants(text, column, tz, kwargs, lines)
        if parsed is not None and pd.api.types.is_datetime64_any_dtype(parsed):
            name = ("year first" if kwargs.get("yearfirst") else
                    "day first" if kwargs["dayfirst"] else "month first")
            readings[name] = parsed, kwargs
    complete = {k: p for k, (p, kwargs) in readings.items()
                if p.notna().all() and _read_in_its_order(text, p, k, kwargs)}
    readings = {k: p for k, (p, _) in readings.items()}
    for (a, pa), (b, pb) in itertools.combinations(complete.items(), 2):
        differ = np.flatnonzero((pa != pb).to_numpy())
        if len(differ):
            pos = int(differ[0])
            raise UsageError(f"time column {column!r} is ambiguous: {cut(text[pos])} (line "
                             f"{_line(pos, lines)}) is {pa[pos]:%Y-%m-%d} read {a} but "
                             f"{pb[pos]:%Y-%m-%d} read {b}; write the times as ISO 8601, "
                             "e.g. 2024-01-31 13:00")
    if complete:
        parsed = next(iter(complete.values()))
        _refuse_missing_dates(text, column, lines)
        return parsed
    # name the first value that breaks the reading which goes furthest
    stops = [int(np.argmax(p.isna().to_numpy())) for p in readings.values()]
    pos = max(stops) if stops else next(
        (i for i, v in enumerate(text) if _to_datetime(v) is None), 0)
    like = f" like {cut(text[0])} (line {_line(0, lines)})" if pos else ""
    raise UsageError(f"cannot read {cut(text[pos])} (line {_line(pos, lines)}) of time column "
                     f"{column!r} as a date/time{like}; write times as ISO 8601, e.g. "
                     f"2024-01-31 13:00{_month_year_hint(text[pos])}")


def _read_in_its_order(text, parsed, reading, kwargs):
    """Whether every value of ``text`` with two leading numbers (01/13/2024) was read
    as ``reading`` says ('day first' or 'month first'): dateutil takes the order as a
    hint and swaps day and month where a value reads no other way (13 can be no
    month), so a month-first column of 12-hour times (01/13/2024 12:00 AM) also read
    'day first', differently, and was called ambiguous."""
    if reading not in ("day first", "month first"):
        return True
    fields = text.str.extract(r"^\s*(\d{1,2})\D(\d{1,2})\D\d{2,4}\b")
    known = fields[0].notna().to_numpy()
    if not known.any():
        return True
    a = fields[0].to_numpy()[known].astype(int)
    b = fields[1].to_numpy()[known].astype(int)
    day, month = (a, b) if reading == "day first" else (b, a)
    times = pd.DatetimeIndex(parsed)
    if times.tz is not None:  # instants (UTC): the written dates are the wall clock's
        times = pd.DatetimeIndex(_to_datetime(text.str.replace(
            r"\s*(?:[+-]\d{2}:?\d{2}|Z)\s*$", "", regex=True), errors="coerce", **kwargs))
    times = times[known]
    return bool(((times.day == day) & (times.month == month)).all())


def _instants(text, column, tz, kwargs, lines=None):
    """Times with UTC offsets that differ, read as instants (UTC) where ``tz`` is
    given; without it an error suggesting --tz. None where they are no such times."""
    instants = _to_datetime(text, errors="coerce", utc=True, **kwargs)
    if instants is None or not instants.notna().all():
        return None
    if tz is None:  # name the first time whose offset differs from the first's
        first = _to_datetime(text[0], **kwargs).utcoffset()
        pos = next((i for i in range(1, len(text))
                    if _to_datetime(text[i], **kwargs).utcoffset() != first), 0)
        raise MixedZonesError(
            f"time column {column!r} mixes UTC offsets: {cut(text[0])} (line "
            f"{_line(0, lines)}) and {cut(text[pos])} (line {_line(pos, lines)}) (a "
            f"daylight saving time change?); {_PASS_TZ}")
    return instants


def _refuse_missing_dates(text, column, lines=None, sample=64):
    """Raise where a time has no year (a time of day alone, 23:00, or a day without
    a year, March 5): the parser fills it in, from today's date or the year 1, so the
    forecasts would be dated by the day the command runs. ``sample`` values, spread
    over the column, are checked (each takes a dateutil parse)."""
    from dateutil import parser

    picks = np.unique(np.linspace(0, len(text) - 1, min(sample, len(text))).astype(int))
    for pos in picks.tolist():
        try:
            a = parser.parse(text[pos], default=datetime.datetime(2000, 1, 1))
            b = parser.parse(text[pos], default=datetime.datetime(2001, 2, 2))
        except (ValueError, OverflowError):
            continue
        if a.year != b.year:
            raise UsageError(f"time column {column!r} has a time without a full date: "
                             f"{cut(text[pos])} (line {_line(pos, lines)}); it would be "
                             "read on a date the file does not give (today's); write "
                             "dates and times, e.g. 2024-01-31 13:00"
                             f"{_month_year_hint(text[pos])}")


def _month_year_hint(value):
    """What a value like Excel's month-year export (Jan-24) likely means, or ''."""
    if re.fullmatch(r"\s*[A-Za-z]{3,9}[-/ ]\d{2}\s*", value):
        return " (a month and a two-digit year? write 2024-01)"
    return ""


# -- period labels ------------------------------------------------------------------
# Quarters, months, years and weeks as labels (2020Q1, 2020-01, 1990, what pandas
# writes for a PeriodIndex): read as a PeriodIndex, so that the forecasts are
# periods too, written in the labels' own form. A label that names a day (a full
# date, 2020-03-31) is a time, as before: a month is no day of it.

#: The forms of period labels, by kind: each a regular expression of one label whose
#: named groups are its parts (y: the year; q: the quarter; m: the month's number;
#: name: the month's English name; w: the ISO week; sep and letter: what the form
#: writes between them, kept in the forecasts' labels). The first label of a column
#: picks the form, and every label must have it. Quarters: 2020Q1, 2020-Q1, 2020 Q1,
#: 2020q1 (as pandas writes them; with an anchor such as Q-MAR, the fiscal year) and
#: quarter first, Q1 2020, Q1-2020. Months: 2020-01, 2020/01 (2020-1), 2020M01
#: (Eurostat), 01/2020 and 01-2020 (no day: no date, month first or day first),
#: Jan-2020 (Excel), Jan 2020, January 2020, 2020 JAN (ONS). Weeks: as pandas
#: writes a weekly period (its first and last day), and ISO 8601 weeks (2020-W01,
#: 2020W01), which start on Monday: W-SUN periods.
_LABEL_FORMS = tuple((kind, re.compile(pattern, re.ASCII)) for kind, pattern in (
    ("quarter", r"\s*(?P<y>\d{4})(?P<sep>[-/ ]?)(?P<letter>[Qq])(?P<q>[1-4])\s*"),
    ("quarter", r"\s*(?P<letter>[Qq])(?P<q>[1-4])(?P<sep>[-/ ])(?P<y>\d{4})\s*"),
    ("month", r"\s*(?P<y>\d{4})(?P<sep>[-/])(?P<m>\d{1,2})\s*"),
    ("month", r"\s*(?P<y>\d{4})(?P<letter>[Mm])(?P<m>\d{1,2})\s*"),
    ("month", r"\s*(?P<m>\d{1,2})(?P<sep>[-/])(?P<y>\d{4})\s*"),
    ("month", r"\s*(?P<name>[A-Za-z]{3,9})(?P<sep>[-/ ])(?P<y>\d{4})\s*"),
    ("month", r"\s*(?P<y>\d{4})(?P<sep>[-/ ])(?P<name>[A-Za-z]{3,9})\s*"),
    ("week", r"\s*(?P<first>\d{4}-\d{2}-\d{2})/(?P<last>\d{4}-\d{2}-\d{2})\s*"),
    ("week", r"\s*(?P<y>\d{4})(?P<sep>-?)(?P<letter>W)(?P<w>\d{2})\s*")))
#: The months' English names (not the locale's, which %b reads and writes).
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july",
                "august", "september", "october", "november", "december")
#: A year alone.
_YEAR = re.compile(r"\s*(?P<y>\d{4})\s*", re.ASCII)
#: pandas' names of the weekdays in weekly frequencies (W-SUN), Monday first.
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
#: Integers read as years (consecutive ones, unless --freq names an annual period).
_YEARS = (1000, 2999)
#: The words of a column's name that make a column of years the time column for
#: guess_time_column without --time-col (year, fiscal_year, Jahr, année, año, ...).
_YEAR_WORDS = frozenset({"year", "years", "yr", "fy", "jahr", "annee", "année", "ano",
                         "año", "anno", "jaar", "år"})


def _named_as_years(column):
    """Whether a column's name has a word for year (``fiscal_year``, ``Jahr``)."""
    return any(w in _YEAR_WORDS for w in re.split(r"[\W_]+", str(column).lower()))


#: The words of a column's name for the quarter or the month of a year given in a
#: column of its own (a number 1 to 4 or 1 to 12 is no quarter or month otherwise).
_PART_WORDS = {"quarter": frozenset({"quarter", "qtr", "q", "quartal", "trimestre"}),
               "month": frozenset({"month", "mon", "m", "mo", "monat", "mois", "mes",
                                   "mese", "maand", "månad"})}


def _year_values(values):
    """A column's values as integer years (1000 to 2999: integers, whole floats or
    text digits), else None."""
    if pd.api.types.is_bool_dtype(values) or values.isna().any() or not len(values):
        return None
    if _is_text(values):
        text = values.astype(str)
        if not text.str.fullmatch(_YEAR.pattern, flags=re.ASCII).all():
            return None
        values = text.str.strip().astype(np.int64)
    elif pd.api.types.is_float_dtype(values):
        if not (values == values.round()).all():
            return None
        values = values.astype(np.int64)
    elif not pd.api.types.is_integer_dtype(values):
        return None
    ints = values.to_numpy()
    return ints if _YEARS[0] <= ints.min() and ints.max() <= _YEARS[1] else None


def _part_of_year(values, name):
    """What a column beside a column of years holds: (kind, form), kind 'quarter'
    or 'month', form how they are written ('text': Q1 .. Q4; 'name': English month
    names; 'number': 1 .. 4 or 1 .. 12 in a column named as quarters or months),
    else None."""
    words = set(re.split(r"[\W_]+", str(name).lower()))
    if values.isna().any() or not len(values):
        return None
    if _is_text(values):
        text = values.astype(str).str.strip()
        if text.str.fullmatch(r"[Qq][1-4]").all():
            return "quarter", "text"
        if text.str.fullmatch(r"[A-Za-z]{3,9}").all() and \
                _month_numbers(text) is not None:
            return "month", "name"
        return None
    if not pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    for kind, high in (("quarter", 4), ("month", 12)):
        if words & _PART_WORDS[kind] and values.between(1, high).all():
            return kind, "number"
    return None


def _split_time(frame, year_col=None, part_col=None):
    """A time written in two columns, a year and its quarter or month (Year 2000,
    Quarter Q1): (year column, part column, kind, form) where ``frame`` has such a
    pair (``year_col`` and ``part_col``: where given, the one it must be), else
    None. The years must repeat (a year of quarters is several rows)."""
    if frame is None:
        return None
    years = [year_col] if year_col is not None else list(frame.columns)
    for y in years:
        if y not in frame.columns:
            continue
        ints = _year_values(frame[y])
        if ints is None or len(np.unique(ints)) == len(ints):
            continue
        parts = [part_col] if part_col is not None else list(frame.columns)
        for p in parts:
            if p == y or p not in frame.columns:
                continue
            found = _part_of_year(frame[p], p)
            if found is not None and frame[p].nunique() > 1:
                return y, p, *found
    return None


def _split_time_error(frame, found, lines=None):
    """The error for a time in two columns (:func:`_split_time`): combine them into
    one column, with the pandas line that does it."""
    year, part, kind, form = found
    y = f"df[{year!r}]" + (".astype(int)" if pd.api.types.is_float_dtype(frame[year])
                            else "") + ".astype(str)"
    first_year = int(_year_values(frame[year])[0])
    first = frame[part].iloc[0]
    shown = first.strip() if isinstance(first, str) else first
    if form == "text":  # Q1
        example, code = f"{first_year}{shown}", f"{y} + df[{part!r}]"
    elif form == "name":  # Jan
        example, code = f"{shown} {first_year}", f"df[{part!r}] + ' ' + {y}"
    elif kind == "quarter":  # 1
        example, code = f"{first_year}Q{shown}", f"{y} + 'Q' + df[{part!r}].astype(str)"
    else:
        example = f"{first_year}-{int(shown):02d}"
        code = f"{y} + '-' + df[{part!r}].astype(str).str.zfill(2)"
    return UsageError(
        f"columns {year!r} and {part!r} hold one time in two parts, a year and its "
        f"{kind} ({first_year} and {cut(plain_label(first))} on line {_line(0, lines)}), "
        f"but the time is read from one column: combine them into one, e.g. {example} "
        f"(in pandas: df['period'] = {code}), and pass --time-col period")

#: Each kind of period label: the pandas offset class of its period frequency,
#: the frequency read without --freq, and the frequencies to suggest.
_PERIOD_KINDS = {
    "quarter": (pd.offsets.QuarterEnd, "Q-DEC", "Q-DEC (calendar quarters) or a fiscal "
                "year's, e.g. Q-MAR for years that end in March"),
    "month": (pd.offsets.MonthEnd, "M", "M"),
    "year": (pd.offsets.YearEnd, "Y-DEC", "Y-DEC (calendar years) or a fiscal year's, "
             "e.g. Y-MAR for years that end in March"),
    "week": (pd.offsets.Week, None, None),  # by the weekday of the weeks' last day
}
#: Offset aliases of a time step that name a period frequency too: the end of a
#: month, quarter or year (QE-MAR is Q-MAR), and the starts of calendar months,
#: quarters and years (MS, QS, YS: calendar months, quarters, years). Other starts
#: (QS-APR) are left to pandas' hint: the labels' years are the fiscal years' ends.
_PERIOD_OF_OFFSET = {pd.offsets.MonthEnd: lambda o: pd.offsets.MonthEnd(o.n),
                     pd.offsets.MonthBegin: lambda o: pd.offsets.MonthEnd(o.n),
                     pd.offsets.QuarterEnd: lambda o: o,
                     pd.offsets.QuarterBegin: lambda o: pd.offsets.QuarterEnd(
                         o.n, startingMonth=12) if o.startingMonth == 1 else None,
                     pd.offsets.YearEnd: lambda o: o,
                     pd.offsets.YearBegin: lambda o: pd.offsets.YearEnd(
                         o.n, month=12) if o.month == 1 else None}
#: pandas' own advice in a frequency error, kept in ours.
_PANDAS_HINT = re.compile(r"'[^']*' is no longer supported[^\"]*?instead\.?"
                          r"|for Period, please use '[^']*' instead of '[^']*'"
                          r"|Did you mean [\w-]+\?")


def pandas_hint(exc):
    """pandas' advice in the frequency error ``exc`` ("'Q-MAR' is no longer supported
    for offsets. Please use 'QE-MAR' instead."), or ''."""
    found = _PANDAS_HINT.search(str(exc))
    return found[0] if found else ""


def _quiet(read, text):
    """``read(text)``, or the error it raised (no warnings: pandas deprecates
    business-day periods with one). pandas 2.2 raises AttributeError or KeyError
    for an offset alias as a period (``PeriodDtype('QS')``), where 3 raises
    ValueError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read(text)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return exc


def _offset_now(text):
    """``to_offset(text)``, or the error: an alias pandas deprecates for offsets
    (``'M'`` in pandas 2.2, which pandas 3 refuses for ``'ME'``) counts as one, so
    that every pandas reads a period alias the same way."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            offset = pd.tseries.frequencies.to_offset(text)
    except (ValueError, TypeError) as exc:
        return exc
    deprecated = [w for w in caught if issubclass(w.category, FutureWarning)]
    return ValueError(str(deprecated[0].message)) if deprecated else offset


def period_freq(text):
    """``--freq`` as a period frequency (a pandas offset), or the error that says
    why not, with pandas' hint. Period aliases (Q-MAR, M, Y-DEC, W-SAT) are read as
    pandas reads a PeriodIndex's; the offset aliases of the end of a month, quarter
    or year (ME, QE-MAR, YE-DEC), and of the start of a calendar month, quarter or
    year (MS, QS, YS), as the same periods.

    Returns
    -------
    (offset or None, str)
        The frequency, or None and the reason (with pandas' own advice).
    """
    dtype = _quiet(pd.PeriodDtype, text)
    if not isinstance(dtype, Exception):
        return dtype.freq, ""
    offset = _quiet(pd.tseries.frequencies.to_offset, text)
    convert = _PERIOD_OF_OFFSET.get(type(offset))
    period = convert(offset) if convert is not None else None
    if period is not None:
        return period, ""
    hint = pandas_hint(dtype) or _start_hint(text, offset)
    return None, f" ({hint})" if hint else ""


def _start_hint(text, offset):
    """pandas 3's advice for a quarter or year start as a period (QS-APR: Q-MAR,
    the periods of years that end the month before), which pandas 2.2 does not
    give (its error is an AttributeError); '' for another."""
    kinds = {pd.offsets.QuarterBegin: ("Q", "startingMonth"),
             pd.offsets.YearBegin: ("Y", "month")}
    if type(offset) not in kinds:
        return ""
    prefix, field = kinds[type(offset)]
    month = (getattr(offset, field) - 2) % 12  # the month before, 0-based
    names = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
             "NOV", "DEC")
    return f"for Period, please use '{prefix}-{names[month]}' instead of '{text}'"


def is_period_freq(text):
    """Whether ``--freq`` names a period frequency (which only period labels read)."""
    return period_freq(text)[0] is not None


def _period_kind(text):
    """The kind of period that every label of ``text`` (strings) is, its form (one
    of :data:`_LABEL_FORMS`) and the parts of each label: ('quarter', form, parts),
    ('month', ...) or ('week', ...), else None (years alone are integers:
    :func:`_as_years`). Months must be 1 to 12 (or English month names), ISO weeks
    1 to the year's last, and pandas' weeks seven days, all ending on one weekday:
    otherwise they are no such labels (read as times, which names the label it
    cannot read)."""
    if not len(text):
        return None
    for kind, form in _LABEL_FORMS:
        if form.fullmatch(text.iloc[0]) is None:
            continue  # (the first label tells, before the whole column is matched)
        if not text.str.fullmatch(form.pattern, flags=re.ASCII).all():
            continue
        parts = text.str.extract(form.pattern, flags=re.ASCII)
        if _valid_parts(parts):
            return kind, form, parts
    return None


def _valid_parts(parts):
    """Whether the parts of labels name real periods (see :func:`_period_kind`)."""
    if "m" in parts and not parts["m"].astype(int).between(1, 12).all():
        return False
    if "name" in parts and _month_numbers(parts["name"]) is None:
        return False
    if "w" in parts:
        try:
            _iso_mondays(parts)
        except ValueError:  # week 0, or 53 of a year of 52
            return False
    if "first" in parts:
        first = _to_datetime(parts["first"], format="%Y-%m-%d", errors="coerce")
        last = _to_datetime(parts["last"], format="%Y-%m-%d", errors="coerce")
        if first is None or last is None or first.isna().any() or last.isna().any() \
                or ((last - first) != pd.Timedelta(days=6)).any() \
                or last.dt.day_of_week.nunique() != 1:
            return False
    return True


def _month_numbers(names):
    """English month names (Jan, JAN, january; abbreviated to three letters or
    in full) as the months' numbers (a Series of int), else None."""
    lower = names.str.lower()
    number = {n[:3]: i for i, n in enumerate(_MONTH_NAMES, 1)}
    number.update({n: i for i, n in enumerate(_MONTH_NAMES, 1)})
    months = lower.map(number)
    return None if months.isna().any() else months.astype(int)


def _iso_mondays(parts):
    """The Monday of each ISO week (year ``y``, week ``w``); ValueError for a week
    the year does not have."""
    return pd.DatetimeIndex([datetime.date.fromisocalendar(int(y), int(w), 1)
                             for y, w in zip(parts["y"], parts["w"])])


def _week_freq(parts):
    """The weekly period frequency of weeks with ``parts``: (offset, alias, the name
    of their last day, words for the form). pandas' weeks end on the weekday of
    their last day; ISO weeks run Monday to Sunday."""
    if "w" in parts:
        return pd.offsets.Week(weekday=6), "W-SUN", "Sunday", " (ISO weeks: Monday " \
            "to Sunday)"
    last = pd.Timestamp(parts["last"].iloc[0])  # (not %a: the locale's name)
    day = last.day_of_week
    return pd.offsets.Week(weekday=day), f"W-{_WEEKDAYS[day]}", last.day_name(), ""


def _kind_freq(kind, parts, freq, column, example, line):
    """The period frequency of labels of ``kind``: ``--freq`` (``freq``) where
    given, else the labels' own (calendar quarters and years). Raises where
    ``freq`` is no period frequency, or one of another kind (or, for weeks,
    another last weekday) than the labels': the labels say what they are."""
    cls, default, suggest = _PERIOD_KINDS[kind]
    if kind == "week":
        default, suggest, day, iso = _week_freq(parts)
    if freq is None:
        return pd.PeriodDtype(default).freq if isinstance(default, str) else default
    period, why = period_freq(freq)
    labels = f"time column {column!r} holds {kind}s, e.g. {example!r} (line {line})"
    if period is None:
        raise UsageError(f"--freq {freq} is no period frequency{why}, which the labels "
                         f"need: {labels}; give --freq {suggest}, or leave it out")
    if type(period) is not cls:
        raise UsageError(f"--freq {freq} contradicts the labels: {labels}; give --freq "
                         f"{suggest}, or leave it out")
    if period.n != 1:  # a label is one period: 2Q would read 2020Q1, 2020Q2 as a gap
        raise UsageError(f"--freq {freq} is a multiple of a period, but {labels}, one "
                         f"{kind} each; give --freq {suggest}, or leave it out")
    if kind == "week" and period.weekday != default.weekday:
        raise UsageError(f"--freq {freq} contradicts the labels: time column {column!r} "
                         f"holds weeks that end on a {day}{iso}, e.g. {example!r} (line "
                         f"{line}); give --freq {suggest}, or leave it out")
    return period


def _period_index(kind, parts, period, column):
    """The labels (their regular-expression parts) as a PeriodIndex of ``period``."""
    if kind == "week":  # the week of each first day
        first = _iso_mondays(parts) if "w" in parts else \
            pd.DatetimeIndex(pd.to_datetime(parts["first"], format="%Y-%m-%d"))
        return first.to_period(period).rename(column)
    if kind == "quarter":
        labels = parts["y"] + "Q" + parts["q"]
    elif kind == "month":
        months = parts["m"].astype(int) if "m" in parts else _month_numbers(parts["name"])
        labels = parts["y"] + "-" + months.astype(str).str.zfill(2)
    else:  # a year
        labels = parts["y"]
    return pd.PeriodIndex(labels.to_numpy(dtype=object), freq=period, name=column)


def _as_periods(text, column, lines=None, freq=None):
    """Text labels that all are periods of one kind (quarters, months, weeks, in
    one of the forms of :data:`_LABEL_FORMS`) as a PeriodIndex (of ``--freq``'s
    period frequency where given), else None. An integer ``freq`` is left to
    :func:`_check_time_flags` to refuse."""
    found = _period_kind(text)
    if found is None:
        _refuse_iso_weeks(text, column, lines)
        return None
    kind, _, parts = found
    if freq is not None and freq.isdigit():
        freq = None  # the labels are periods; _check_time_flags names the flag
    period = _kind_freq(kind, parts, freq, column, text.iloc[0].strip(), _line(0, lines))
    return _period_index(kind, parts, period, column)


def _refuse_iso_weeks(text, column, lines=None):
    """Raise where every label is written as an ISO week (2020-W01) but one is no
    week of its year (2019-W53): as a time it cannot be read either, and the error
    of times named the first label, in words for dates."""
    form = _LABEL_FORMS[-1][1]
    if not len(text) or not text.str.fullmatch(form.pattern, flags=re.ASCII).all():
        return
    parts = text.str.extract(form.pattern, flags=re.ASCII)
    for pos, (year, week) in enumerate(zip(parts["y"].astype(int), parts["w"].astype(int))):
        weeks = datetime.date(year, 12, 28).isocalendar()[1] if year else 52
        if not 1 <= week <= weeks:
            raise NoPeriodError(f"time column {column!r} has "
                                f"{cut(text.iloc[pos].strip())} (line {_line(pos, lines)}), "
                                f"which is no ISO week: {year} has weeks {year}-W01 to "
                                f"{year}-W{weeks}")


def _looks_like_years(ints):
    """Whether integers are consecutive years (1990, 1991, ...): read as periods."""
    return len(ints) >= 2 and _YEARS[0] <= ints.min() and ints.max() <= _YEARS[1] \
        and bool((np.diff(ints) == 1).all())


def _years_with_gaps(index):
    """Whether integers (an index or a column) are years read as integer steps for
    a gap: rising, all of them years, mostly a year apart but not all (1960, ...,
    1989, 1991, ...; census years 1950, 1955, ... step by 5: no gaps of years)."""
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) or \
            not pd.api.types.is_integer_dtype(index) or \
            pd.api.types.is_bool_dtype(index) or len(index) < 3:
        return False
    ints = np.asarray(index)
    steps = np.diff(ints)
    return bool(_YEARS[0] <= ints.min() and ints.max() <= _YEARS[1]
                and (steps > 0).all() and np.median(steps) == 1
                and not _looks_like_years(ints))


def _years_hint(index, fill):
    """For years read as integer steps for a gap (:func:`_years_with_gaps`): the
    end of a message that says so and how to read them as years; else ''."""
    if not _years_with_gaps(index):
        return ""
    fill = "" if fill else " (with --fill interpolate or --fill ffill for the gaps)"
    return (f"; its years ({index[0]} .. {index[-1]}) have gaps, so they are read as "
            f"integer steps: pass --freq Y-DEC{fill} to read them as years")


def _as_years(values, column, lines=None, freq=None):
    """A column of integers as annual periods where they are consecutive years
    (1990, 1991, ...) in a column named as years (``year``, ``Jahr``: steps 1000,
    1001, ... in a column ``t`` stay steps, as before periods), or where ``--freq``
    names an annual period (Y-DEC, Y-MAR) and they are years; else None (integer
    steps). ``--freq`` an integer step keeps them steps; another period frequency
    for a year column is refused."""
    ints = values.to_numpy()
    if freq is not None and freq.isdigit():
        return None
    years = len(ints) and _YEARS[0] <= ints.min() and ints.max() <= _YEARS[1]
    if not years:
        return None
    text = pd.Series(ints).astype(str)
    parts = text.str.extract(_YEAR.pattern, flags=re.ASCII)
    year_column = _named_as_years(column) and _looks_like_years(ints)
    if freq is not None:
        period, _ = period_freq(freq)
        annual = isinstance(period, pd.offsets.YearEnd)
        if not annual and not year_column:
            return None  # integer steps (_check_time_flags refuses a frequency)
        period = _kind_freq("year", parts, freq, column, text.iloc[0], _line(0, lines))
        return _period_index("year", parts, period, column)
    if not year_column:
        return None
    return _period_index("year", parts, pd.PeriodDtype("Y-DEC").freq, column)


def period_writer(values, index):
    """How to write periods in the form of the labels ``values`` that gave
    ``index`` (a PeriodIndex): a function of a Period, or None for pandas' own
    form (``str``). Each form of :data:`_LABEL_FORMS` is kept, with its separator
    and letter (2020-Q1, 2020q1, Q1 2020, 2020M01), its months' padding (2020/01,
    2020-1) and their names' case and length (Jan-2020, 2020 JAN, January 2020);
    ISO weeks are written as ISO weeks (2020-W01)."""
    if not isinstance(index, pd.PeriodIndex):
        return None
    found = _period_kind(pd.Series(values).reset_index(drop=True).astype(str))
    if found is None:  # years
        return None
    kind, form, parts = found
    order = sorted(form.groupindex, key=form.groupindex.get)
    fixed = {g: parts[g].iloc[0] for g in ("sep", "letter") if g in parts}
    pandas_form = {"quarter": (["y", "sep", "letter", "q"], {"sep": "", "letter": "Q"}),
                   "month": (["y", "sep", "m"], {"sep": "-"})}.get(kind)
    padded = "m" not in parts or not parts["m"].str.len().eq(1).any()
    if "first" in parts or (pandas_form == (order, fixed) and padded):
        return None
    name = None
    if "name" in parts:
        first = parts["name"].iloc[0]
        full = parts["name"].str.len().gt(3).any()
        case = str.upper if first.isupper() else str.lower if first.islower() else \
            str.capitalize
        name = [case(n if full else n[:3]) for n in _MONTH_NAMES]

    def write(p):
        if kind == "quarter":
            got = {"y": p.qyear, "q": p.quarter}
        elif kind == "month":
            got = {"y": p.year, "m": f"{p.month:02d}" if padded else p.month,
                   "name": name and name[p.month - 1]}
        else:  # an ISO week: the ISO year and week of its Monday
            iso = p.start_time.isocalendar()
            got = {"y": iso[0], "w": f"{iso[1]:02d}"}
        return "".join(str(fixed[g] if g in fixed else got[g]) for g in order)

    return write


def _shown(labels):
    """A function that writes a time for a message: a period as the file's labels
    write it (``labels``, from :func:`period_writer`; 2000-Q3, not pandas' 2000Q3),
    anything else as it is."""
    return lambda t: labels(t) if labels is not None and isinstance(t, pd.Period) \
        else t


def _check_order(index, column, lines=None, frame=None, labels=None):
    """The rows in time order, one per time: else an error naming the lines (of
    the file, by ``lines``) and the times as the file writes them (``labels``);
    ``frame``, the other columns, tells several series in one file from repeated
    rows."""
    show = _shown(labels)
    dup = np.flatnonzero(index.duplicated())
    if len(dup):
        pos = int(dup[0])
        first = int(np.flatnonzero(index == index[pos])[0])
        where = (f"time column {column!r} has {show(index[pos])} more than once (lines "
                 f"{_line(first, lines)} and {_line(pos, lines)})")
        ids = _series_column(frame, first, pos)
        if ids is not None:
            raise UsageError(
                f"{where}, for {ids!r} {cut(plain_label(frame[ids].iloc[first]))} and "
                f"{cut(plain_label(frame[ids].iloc[pos]))}: this looks like several "
                "series in one file, "
                f"one per value of {ids!r}; the command line forecasts one series: keep "
                f"the rows of one {ids!r} value (or forecast them all with the Python "
                "API: a Forecaster fits such a long frame as a panel, with id_col, "
                "time_col and target_col naming its columns)")
        # a naive time repeated in the night: the autumn change of local times
        dst = ("" if not isinstance(index, pd.DatetimeIndex) or index.tz is not None
               or index[pos].hour > 3
               or index[pos].month not in (3, 4, 9, 10, 11)  # the changes' months
               or (index == index.normalize()).all() else
               " (or, for local times whose clocks went back that night, pass --tz with "
               "their zone: it reads the repeated hour as the two hours it was)")
        raise UsageError(f"{where}; keep one row per time (sum or average the "
                         f"duplicates){dst}")
    back = np.flatnonzero(index[1:] < index[:-1])
    if len(back):
        pos = int(back[0]) + 1
        raise UsageError(f"time column {column!r} is not sorted: {show(index[pos])} (line "
                         f"{_line(pos, lines)}) comes after {show(index[pos - 1])} (line "
                         f"{_line(pos - 1, lines)}); sort the rows by time")


def _check_regular(index, column, lines=None, labels=None):
    """Periods one step apart (and years read as integer steps for a gap, 1989,
    1991, a year apart): else the error of the first gap, naming its lines and the
    periods as the file writes them (the library's names neither), and for such
    years, how to read them as years."""
    if isinstance(index, pd.PeriodIndex) and len(index) >= 2:
        codes, step, words, hint = index.asi8, index.freq.n, _period_words(index), ""
    elif _years_with_gaps(index):
        codes, step, words = np.asarray(index), 1, "years"
        hint = ("; with gaps, years are read as integer steps: pass --freq Y-DEC too "
                "to read them as years")
    else:
        return
    steps = np.diff(codes)
    bad = np.flatnonzero(steps != step)
    if not len(bad):
        return
    show, pos = _shown(labels), int(bad[0]) + 1
    missing = int(steps[pos - 1] // step) - 1
    gap = f"{show(index[pos - 1] + 1)} is missing" if missing == 1 else \
        f"{show(index[pos - 1] + 1)} .. {show(index[pos] - 1)} are missing, {missing} " \
        f"{words}"
    raise UsageError(f"time column {column!r} is not regular: {show(index[pos])} (line "
                     f"{_line(pos, lines)}) comes after {show(index[pos - 1])} (line "
                     f"{_line(pos - 1, lines)}), a gap ({gap}); pass --fill interpolate or "
                     f"--fill ffill to fill gaps, or resample first{hint}")


def _series_column(frame, first, pos):
    """The column of ``frame``, text or integers (ids like store 1, 2), whose values
    repeat and differ on rows ``first`` and ``pos`` (one time, twice): the series'
    ids of a long panel file."""
    for name in [] if frame is None else frame.columns:
        values = frame[name]
        integers = pd.api.types.is_integer_dtype(values) and not \
            pd.api.types.is_bool_dtype(values)
        if (pd.api.types.is_numeric_dtype(values) and not integers) \
                or values.iloc[[first, pos]].isna().any():
            continue
        if integers and values.nunique() > len(values) // 2:
            continue  # integers that seldom repeat (counts): no ids
        if values.iloc[first] != values.iloc[pos] and values.duplicated().any():
            return name
    return None


def _check_time_flags(args, index, what, labels=None):
    """--calendar, --freq and --tz fit the kind of times: dates, periods (quarters,
    months, years, weeks; written as the file's ``labels`` write them) or integer
    steps. A period frequency (Q-MAR, M) for dates is refused with the dates' own
    step (MS, QS-JAN) where it is read."""
    periods = isinstance(index, pd.PeriodIndex)
    dated = isinstance(index, pd.DatetimeIndex) or periods
    freq, tz = getattr(args, "freq", None), getattr(args, "tz", None)
    if tz is not None and periods:
        raise UsageError(f"--tz {tz} needs times of day, but {what} holds "
                         f"{_period_words(index)}, which have no time zone: leave out --tz")
    if tz is not None and not dated:
        raise UsageError(f"--tz {tz} needs dates, but {what} holds integer steps")
    fill = getattr(args, "fill", None)
    if getattr(args, "calendar", None) and not dated:
        raise UsageError(f"--calendar {' '.join(args.calendar)} needs dates, but {what} "
                         f"holds integer steps{_years_hint(index, fill)}")
    if freq is not None and periods and freq.isdigit():
        raise UsageError(f"--freq {freq} is an integer step, but {what} holds "
                         f"{_period_words(index)} ({_period_example(index, labels)}): give "
                         f"their period frequency, e.g. --freq {index.freqstr}, or leave "
                         "it out")
    if freq is not None and dated and freq.isdigit():
        raise UsageError(f"--freq {freq} is an integer step, but {what} holds dates: give "
                         "a pandas frequency, e.g. h, D, MS")
    if freq is not None and not dated and not freq.isdigit():
        raise UsageError(f"--freq {freq} is a pandas frequency, but {what} holds integer "
                         f"steps: give an integer step, e.g. --freq 1"
                         f"{_years_hint(index, fill)}")
    if freq is not None and not periods:
        offset = _offset_now(freq)
        if isinstance(offset, Exception) and is_period_freq(freq):
            # the dates' own step, not pandas' name for the alias: 'M' suggested ME,
            # which month-start dates (FRED's) refused for MS, in a circle
            own = _dates_step(index)
            fix = (f"give --freq {own} (their step), or leave it out" if own else
                   "give theirs (e.g. MS for month starts, ME for month ends, QS-JAN "
                   "for quarter starts), or leave it out")
            raise UsageError(f"--freq {freq} is a period frequency, for period labels "
                             f"(2020Q1, 2020-01, 1990), but {what} holds dates"
                             f"{f' ({index[0]:%Y-%m-%d} ..)' if len(index) else ''}, which "
                             f"step by pandas' offsets: {fix}")


def _dates_step(index):
    """The pandas frequency of dates (MS, QS-JAN, D), read around gaps; None where
    none is read (too few, or irregular)."""
    from ..forecasting._panel import _freq_around_gaps, quiet_infer_freq

    if len(index) < 3:
        return None
    found = quiet_infer_freq(index) or _freq_around_gaps(index)
    if found is None:
        return None
    offset = pd.tseries.frequencies.to_offset(found)
    # quarters on one grid have four names (QS-JAN is QS-APR, -JUL, -OCT), which
    # pandas versions infer differently: the first month of the year's, always
    if isinstance(offset, (pd.offsets.QuarterBegin, pd.offsets.QuarterEnd)):
        first = (offset.startingMonth - 1) % 3 + 1
        month = first if isinstance(offset, pd.offsets.QuarterBegin) else first + 9
        offset = type(offset)(offset.n, startingMonth=month)
    return offset.freqstr


def _period_words(index):
    """What a PeriodIndex holds, in words: 'quarters', 'months', 'years', 'weeks'."""
    for kind, (cls, _, _) in _PERIOD_KINDS.items():
        if type(index.freq) is cls:
            return f"{kind}s"
    return "periods"


def _period_example(index, labels=None):
    return f"{_shown(labels)(index[0])} .." if len(index) else "none"


def _numeric(frame, column, where, lines=None, decimal=".", thousands=None):
    """Column ``column`` of ``frame`` as floats, in place; else an error naming the
    value, its line of the file (``lines``, a :class:`FileLines`; None: no line) and
    the --decimal or --thousands that would read it (the given ones: ``decimal``,
    ``thousands``)."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        # by the file's own decimal mark and thousands separator: pd.to_numeric
        # read 1.148 as 1.148 under --decimal ',' (a thousand times too small)
        coerced = (_text_numbers(values, decimal, thousands) if _is_text(values)
                   else pd.to_numeric(values, errors="coerce"))
        bad = np.flatnonzero((coerced.isna() & values.notna()).to_numpy())
        if len(bad) or pd.api.types.is_bool_dtype(values):
            pos = int(bad[0]) if len(bad) else 0
            value = values.iloc[pos]
            line = f" (line {_line(pos, lines)})" if lines is not None else ""
            raise UsageError(f"column {column!r} is not numeric: {cut(value)} at "
                             f"{frame.index[pos]}{line}{where}"
                             f"{_number_hint(value, decimal, thousands)}")
        frame[column] = coerced
    frame[column] = frame[column].astype(np.float64)


def _is_text(values):
    return pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)


def _number_pattern(decimal, thousands):
    """A number as text under the file's decimal mark and thousands separator:
    digits with at most one decimal mark (and an exponent), or digits grouped by
    threes, or +-inf. Strict, so that 01.02.2024 is not a number to --thousands '.'
    and 1.148 is not one to --decimal ','."""
    d = re.escape(decimal)
    plain = rf"[-+]?(?:\d+(?:{d}\d*)?|{d}\d+)(?:[eE][-+]?\d+)?"
    grouped = (rf"|[-+]?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{d}\d*)?"
               if thousands else "")
    return re.compile(rf"\s*(?:{plain}{grouped}|[-+]?inf)\s*", re.IGNORECASE | re.ASCII)


def _plain_text(values, decimal, thousands):
    """The cells of ``values`` that read as numbers by :func:`_number_pattern`,
    written as Python writes them (no separator, a decimal dot), and a mask of
    them."""
    text = pd.Series(values.astype(object).to_numpy(), index=values.index)
    strings = text.map(lambda v: isinstance(v, str))
    ok = strings.copy()  # .str refuses a column without any text
    if strings.any():
        ok[strings] = text[strings].str.fullmatch(_number_pattern(decimal, thousands))
    plain = text[ok].astype(str).str.strip()
    if thousands:
        plain = plain.str.replace(thousands, "", regex=False)
    return plain.str.replace(decimal, ".", regex=False), ok


def _text_numbers(values, decimal, thousands, read=None):
    """``values`` (text) as floats read by :func:`_number_pattern`; NaN for what
    is not a number there, and for missing values. ``read``: what
    :func:`_plain_text` gave for them, if it was asked already."""
    plain, ok = _plain_text(values, decimal, thousands) if read is None else read
    out = np.full(len(values), np.nan)
    out[ok.to_numpy()] = plain.astype(np.float64).to_numpy()
    return pd.Series(out, index=values.index, name=values.name)


def _columns_as_numbers(frame, decimal, thousands):
    """A frame read as text: each column whose every value is a number (or missing)
    by the file's decimal mark and thousands separator becomes numbers (integers
    where they all are and none is missing, as pandas reads them: from the text,
    not through floats, which round ids past 2**53), the others stay text for the
    time and id columns' own readers."""
    for column in frame.columns:
        values = frame[column]
        plain, ok = _plain_text(values, decimal, thousands)
        if not ok.any() or (~ok & values.notna()).any():
            continue
        whole = plain.str.fullmatch(r"[-+]?\d+", flags=re.ASCII).all()
        if whole and ok.all():
            try:
                frame[column] = pd.Series([int(v) for v in plain], index=values.index,
                                          dtype=np.int64)
                continue
            except OverflowError:  # past int64: text, as pandas keeps it
                continue
        frame[column] = _text_numbers(values, decimal, thousands, (plain, ok))
    return frame


def _number_hint(value, decimal, thousands):
    """The end of a not-numeric error, e.g. "; is ',' the decimal mark? Then pass
    --decimal ','": the flags that would read ``value`` as a number, leaving out
    the values already given (``decimal``, ``thousands``): a hint to pass a flag
    that was passed helps nobody."""
    if not isinstance(value, str):
        return ""
    text = value.strip()
    readings = []  # (thousands separator or None, decimal mark or None)
    grouped = re.fullmatch(r"[-+]?\d{1,3}([,.' ])\d{3}(?:\1\d{3})*(?:([,.])\d+)?", text)
    if grouped and grouped[1] != grouped[2]:  # 10,000.5, 10.000,5, 1 234,5, 10,000
        readings.append((grouped[1], grouped[2]))
    if re.fullmatch(r"[-+]?\d*,\d+", text):  # 10,5 (or 10,000 with a decimal comma)
        readings.append((None, ","))
    hints = []
    for sep, mark in readings:
        new_sep = sep is not None and sep != thousands
        new_mark = mark is not None and mark != decimal
        flags = " ".join([f"--thousands {sep!r}"] * new_sep + [f"--decimal {mark!r}"] * new_mark)
        if new_sep and new_mark:
            hints.append(f"are {sep!r} thousands separators and {mark!r} the decimal "
                         f"mark? Then pass {flags}")
        elif new_sep:
            hints.append(f"is {sep!r} a thousands separator? Then pass {flags}")
        elif new_mark:
            hints.append(f"is {mark!r} the decimal mark? Then pass {flags}")
    return "".join(f"; {'or ' if i else ''}{h}" for i, h in enumerate(hints))


def _check_columns(columns, names, source):
    missing = [c for c in names if c not in columns]
    if missing:
        raise UsageError(f"{source} has no column {', '.join(map(repr, missing))}; its "
                         f"columns are {list(columns)}")


def read_csv(file, sep=",", decimal=".", thousands=None):
    """FILE as a DataFrame; errors name the file (and the line, where pandas does).

    Parameters
    ----------
    file : str
    sep, decimal : str
        The field separator and the decimal mark (``--sep``, ``--decimal``).
    thousands : str or None
        The thousands separator (``--thousands``), if any.

    Returns
    -------
    DataFrame
    """
    if file == "-":
        raise UsageError("FILE - (standard input) is not read: save the CSV to a file "
                         "and give its name")
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"file not found: {file}" if not path.exists() else
                         f"{file} is not a file")
    archive = next((a for a in _UNREAD_ARCHIVES if path.name.lower().endswith(a)), None)
    if archive is not None:
        raise UsageError(f"{file} is a {archive} archive: extract the CSV first "
                         f"(files compressed with {', '.join(_COMPRESSED)} are read as "
                         "they are)")
    if sep == decimal:
        raise UsageError(f"--sep and --decimal are both {sep!r}; they must differ")
    if thousands == decimal:  # as --sep it is fine: "10,000.5" in quotes
        raise UsageError(f"--thousands and --decimal are both {decimal!r}; they must differ")
    try:
        frame = _read_fields(path, sep, decimal, thousands)
    except pd.errors.EmptyDataError:
        raise UsageError(f"{file} is empty: expected a header line of column names, "
                         "then one row per time") from None
    except pd.errors.ParserError as exc:
        raise UsageError(f"cannot read {file} as CSV with --sep {sep!r}: "
                         f"{cut(' '.join(str(exc).split()), 200)[1:-1]}") from None
    except UnicodeDecodeError as exc:  # its offset is within pandas' buffer
        raise UsageError(f"{file} is not UTF-8 text (byte {_first_bad_byte(path, exc)}): "
                         "save it as UTF-8 CSV") from None
    except (EOFError, lzma.LZMAError, zlib.error, OSError) as exc:  # cut short, or
        # not what its suffix says (gzip's "Not a gzipped file" is an OSError)
        if path.suffix.lower() not in _COMPRESSED:
            raise
        raise UsageError(f"cannot read {file} as a {path.suffix} file: {exc}") from None
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        other = next((c for c in (";", "\t", ",", "|") if c != sep and c in header), None)
        if other is not None:
            raise UsageError(f"{file} has one column, {cut(header)}: are its fields "
                             f"separated by {other!r}? Then pass --sep {other!r}")
    widths = _first_widths(path, sep)
    if not isinstance(frame.index, pd.RangeIndex) or (widths and widths[1] > widths[0]):
        # rows with more fields than the header: pandas makes the first ones the row
        # labels (a RangeIndex, where they are 0, 1, ... or 1, 2, ...), which would be
        # dropped, every column read one field off
        frame = _extra_fields(frame, file, path, sep, decimal, thousands)
    # rows of bare separators at the end (";;" lines a spreadsheet exports below
    # the data) hold nothing: they end the data, as blank lines do. Elsewhere an
    # empty row is a missing time, which the time column's reader names.
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    end = int(filled[-1]) + 1 if len(filled) else 0
    return frame.iloc[:end] if end < len(frame) else frame


def _read_fields(path, sep, decimal, thousands, **kwargs):
    """pandas.read_csv of FILE; with another decimal mark or a thousands separator,
    read as text and then by :func:`_columns_as_numbers`: pandas applies them to
    every column, and --thousands '.' turned the date 01.02.2024 into 1022024."""
    # a separator of several characters is a regular expression: pandas' python
    # engine reads those (asked for, not fallen back to with a warning)
    engine = "python" if len(sep) > 1 else "c"
    if decimal == "." and thousands is None:
        return pd.read_csv(path, sep=sep, engine=engine, **kwargs)
    frame = pd.read_csv(path, sep=sep, engine=engine, dtype=str, **kwargs)
    return _columns_as_numbers(frame, decimal, thousands)


#: Compressed files read as they are (as pandas reads them), by their suffix.
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
#: Archives (or compressions without a module in Python's standard library) refused,
#: by the end of the file's name.
_UNREAD_ARCHIVES = (".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".zst", ".tar", ".tgz",
                    ".7z")


def _open_text(path, **kwargs):
    """``path`` opened as text, decompressed where its suffix says (.gz, .bz2, .xz)."""
    opener = _COMPRESSED.get(Path(path).suffix.lower())
    return open(path, **kwargs) if opener is None else opener(path, "rt", **kwargs)


def _first_bad_byte(path, exc):
    """The offset of the first byte of ``path`` (decompressed) that is not UTF-8,
    ``exc``'s own (a position in a buffer) where it cannot be read again."""
    try:
        with _open_text(path, encoding="latin-1") as f:  # any byte: the file's bytes
            data = f.read().encode("latin-1")
        data.decode("utf-8")
    except UnicodeDecodeError as found:
        return found.start
    except OSError:
        pass
    return exc.start


def _first_widths(path, sep):
    """The fields of the header and of the first data row (blank lines skipped), or
    None where the file has no data row to count."""
    with _open_text(path, encoding="utf-8-sig", newline="") as f:
        lines = [line for line in itertools.islice(f, 64) if line.strip()][:2]
    if len(lines) < 2:
        return None
    rows = (list(csv.reader(lines, delimiter=sep)) if len(sep) == 1
            else [re.split(sep, line.strip()) for line in lines])
    return (len(rows[0]), len(rows[1])) if len(rows) == 2 else None


def _extra_fields(frame, file, path, sep, decimal, thousands):
    """FILE read again where each row ends with one empty field more than the header
    names (a delimiter at the end of every line: a common export's); else an error,
    as no reading of the fields can be trusted."""
    extra = frame.index.nlevels
    if extra == 1 and frame.shape[1] and frame.iloc[:, -1].isna().all():  # last field empty
        return _read_fields(path, sep, decimal, thousands, index_col=False)
    first = frame.index[0] if extra == 1 else " ".join(map(str, frame.index[0]))
    spaces = sep.isspace() or sep in (r"\s+", r"\s")
    raise UsageError(
        f"{file}'s rows have {frame.shape[1] + extra} fields, its header names "
        f"{frame.shape[1]} ({cut(', '.join(map(str, frame.columns)))}): every column "
        f"would be read a field off (the first row starts {cut(str(first))}). Is the "
        "separator inside a value? " + (
            "Split by whitespace, a date and a time with a space between them are two "
            "fields (quotes do not hold them together there): join them "
            "(2024-01-31T13:00)" if spaces else
            "Quote such values, or pass the right --sep"))


#: A number as text (with a decimal comma, say 20,0), which pandas may read as a date.
_NUMBER = re.compile(r"\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?\s*")


def _reads_as_dates(values, lines):
    """Whether a text column reads as dates (an error of any kind: it does not)."""
    if pd.api.types.is_numeric_dtype(values) or not values.notna().any():
        return False
    try:
        return isinstance(parse_times(values, values.name, lines),
                          (pd.DatetimeIndex, pd.PeriodIndex))
    except UsageError:
        return False


def guess_time_column(frame, source, target, lines=None, tz=None):
    """The one column of ``frame`` (not ``target``) whose values all read as dates
    or periods (2020Q1, 2020-01), for a FILE given without --time-col, else the one
    column of years (1990, 1991, ...; integers or Excel's whole floats 1990.0; a
    year apart, or mostly, with gaps) named as years (``year``, ``Jahr``: serial
    numbers 1500, 1501, ... beside a step column were taken for years); a year and
    its quarter or month in two columns are an error saying to combine them; where
    none does, the error of
    the column most like dates (ambiguous day-first dates, mixed formats or zones,
    yyyymmdd integers, an empty cell), else an error asking for the flag."""
    found, failed = [], []  # failed: (share of values like dates, the column's error)
    years = []  # integer columns of consecutive years: a time column where none is
    for column in frame.columns:
        values = frame[column]
        if column == target:
            continue
        if pd.api.types.is_numeric_dtype(values):  # integer steps, or numbers
            if pd.api.types.is_float_dtype(values) and values.notna().all() and \
                    (values == values.round()).all() and _named_as_years(column):
                values = values.astype(np.int64)  # years from Excel: 1960.0, ...
            if pd.api.types.is_integer_dtype(values) and not \
                    pd.api.types.is_bool_dtype(values):
                try:
                    _refuse_date_integers(values, column)
                except DateIntegersError as exc:
                    failed.append((1.0, exc))
                else:
                    if (_looks_like_years(values.to_numpy()) or _years_with_gaps(values)) \
                            and _named_as_years(column):
                        years.append(column)
            continue
        text = values.dropna().astype(str)
        if not len(text) or text.str.fullmatch(_NUMBER).all():
            continue  # no values, or numbers with a decimal comma
        try:
            if isinstance(parse_times(values, column, lines, tz),
                          (pd.DatetimeIndex, pd.PeriodIndex)):
                found.append(column)
        except (MixedZonesError, NoPeriodError) as exc:  # dates, but not one zone;
            failed.append((1.0, exc))  # or periods, but one of them none: say so
        except UsageError as exc:
            failed.append((_date_share(text), exc))
    if len(found) == 1:
        return found[0]
    if not found and target in frame.columns and _reads_as_dates(frame[target], lines):
        others = [c for c in frame.columns if c != target]
        raise UsageError(f"--target {target!r} is the column of dates: name the column "
                         f"of values to forecast with --target (the others of {source}: "
                         f"{cut(others, 200)})")
    split = _split_time(frame) if not found else None
    if split is not None:  # a year column, and one of its quarters or months
        raise _split_time_error(frame, split, lines)
    # the reason the dates did not read, not only that they did not
    best = max(failed, key=lambda f: f[0], default=(0.0, None))
    if not found and best[0] >= 0.5:
        raise best[1]
    if not found and len(years) == 1:
        return years[0]
    which = "none of its columns reads" if not found else \
        f"{len(found)} columns ({cut(found, 120)}) read"
    raise UsageError(f"--time-col is required: {which} as dates; the columns of {source} "
                     f"are {cut(list(frame.columns), 200)}")


def _date_share(text, sample=200):
    """The share of the first ``sample`` values that read as dates one by one."""
    parsed = _to_datetime(text.iloc[:sample], format="mixed", errors="coerce")
    return 0.0 if parsed is None else float(pd.Series(parsed).notna().mean())


def load_data(args):
    """Read FILE (or --dataset) into a :class:`Data` per the command-line flags.

    Trailing rows whose target is empty are the forecast steps' future-known
    covariates (``--future-exog``); a missing value anywhere else is an error
    unless ``--fill`` is given. Every error about FILE names it.
    """
    if getattr(args, "tz", None) is not None:  # before the file is read (and not
        # an error of the file): a typo costs no wait
        args.tz = time_zone(args.tz)
    try:
        return _load_data(args)
    except UsageError as exc:
        if args.file is None or str(args.file) in str(exc):
            raise
        raise UsageError(f"{args.file}: {exc}") from None


def _swallowed_file(args):
    """Raise where FILE.csv came after --exog or --future-exog, which took it as one
    of their columns (they take any number), leaving no FILE."""
    for flag in ("--exog", "--future-exog"):
        values = getattr(args, flag[2:].replace("-", "_"), None) or []
        if values and (values[-1].lower().endswith(".csv") or Path(values[-1]).is_file()):
            raise UsageError(
                f"{flag} {' '.join(values)}: {values[-1]!r} was read as a column of "
                f"{flag}, which takes every value up to the next flag, so no FILE.csv "
                f"was given; put FILE.csv before {flag}, e.g. right after `tsbptt "
                f"{getattr(args, 'command', 'forecast')}` (or end the list with -- when "
                "FILE.csv comes last)")


def _load_data(args):
    if args.dataset is None and args.file is None:
        _swallowed_file(args)
        raise UsageError("give a FILE.csv, or --dataset NAME for a bundled dataset")
    sep, decimal = getattr(args, "sep", ","), getattr(args, "decimal", ".")
    thousands = getattr(args, "thousands", None)
    tz = getattr(args, "tz", None)
    lines = labels = None
    if args.dataset is not None:
        for flag, value, default in (("--time-col", args.time_col, None),
                                     ("--sep", sep, ","), ("--decimal", decimal, "."),
                                     ("--thousands", thousands, None), ("--tz", tz, None)):
            if value != default:
                raise UsageError(f"{flag} applies to a FILE, not to --dataset")
        frame = _read_dataset(args.dataset)
        columns = list(frame.columns)
        source = f"dataset {args.dataset!r}"
        target = args.target or frame.columns[0]
    else:
        frame = read_csv(args.file, sep, decimal, thousands)
        lines = FileLines(args.file, sep) if len(sep) == 1 else None  # csv: 1 char
        columns = list(frame.columns)
        source = str(args.file)
        if not len(frame):
            raise UsageError(f"{source} has no data rows, only the header line "
                             f"{cut(sep.join(map(str, columns)), 200)}: expected one row "
                             "per time after it")
        if args.target is None:
            raise UsageError(f"--target is required with a FILE; the columns of {source} "
                             f"are {cut(columns, 200)}")
        if args.time_col is None:
            args.time_col = guess_time_column(frame, source, args.target, lines, tz)
        _check_columns(frame.columns, [args.time_col], source)
        target = args.target
        raw = frame[args.time_col]
        try:
            index = parse_times(raw, args.time_col, lines, tz, getattr(args, "freq", None))
        except UsageError:  # the quarters or months of a year column beside it?
            split = _split_time(frame, part_col=args.time_col)
            if split is None:
                raise
            raise _split_time_error(frame, split, lines) from None
        split = _split_time(frame, year_col=args.time_col) if index.has_duplicates \
            else None
        if split is not None:  # no several series: a year's quarters or months
            raise _split_time_error(frame, split, lines)
        frame = frame.drop(columns=args.time_col).set_axis(index, axis=0)
        labels = period_writer(raw, frame.index)
        # the columns the model reads are no series ids (an integer target repeats)
        used = [target] + list(args.exog or []) + list(args.future_exog or [])
        _check_order(frame.index, args.time_col, lines,
                     frame.drop(columns=[c for c in used if c in frame.columns]), labels)
    _check_time_flags(args, frame.index, "the dataset's time index" if args.dataset
                      else f"time column {args.time_col!r}", labels)
    if isinstance(frame.index, pd.PeriodIndex):  # --freq made the periods: the
        args.freq = None  # Forecaster reads their frequency from them
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
        _numeric(frame, column, f" in {source}", lines, decimal, thousands)

    known = np.flatnonzero(frame[target].notna().to_numpy())
    if not len(known):
        raise UsageError(f"the target column {target!r} has no values")
    end = int(known[-1]) + 1
    history, tail = frame.iloc[:end], frame.iloc[end:]
    show = _shown(labels)  # periods as the file writes them
    future = None
    if len(tail):
        if not future_exog:
            raise UsageError(
                f"the last {len(tail)} row(s) (from {show(tail.index[0])}"
                f"{'' if lines is None else f', line {_line(end, lines)}'}) have no "
                f"{target!r} "
                "value; trailing rows without a target can only give the forecast steps' "
                "future-known covariates (--future-exog COL ...); delete them otherwise")
        future = tail[future_exog]
    if args.fill is None:
        if args.dataset is None and (args.freq is None or
                                     isinstance(history.index, pd.PeriodIndex)):
            _check_regular(history.index, args.time_col, lines, labels)
        for column in history.columns:
            bad = np.flatnonzero(history[column].isna().to_numpy())
            if len(bad):
                raise UsageError(f"column {column!r} has a missing value at "
                                 f"{show(history.index[bad[0]])}"
                                 f"{_on_line(int(bad[0]), lines)}; pass --fill interpolate "
                                 "or --fill ffill to fill missing values")
    y = history[target]
    X = history[exog + future_exog] if exog or future_exog else None
    return Data(y=y, X=X, future=future, source=source, labels=labels)


def _on_line(pos, lines):
    """' (line N)' of data row ``pos`` of a FILE (``lines``), '' for a dataset."""
    return "" if lines is None else f" (line {_line(pos, lines)})"


#: Fewer training windows than this get a warning: too few to fit a network.
MIN_WINDOWS = 36


def warn_few_windows(n_steps, args, what):
    """A warning on stderr when ``n_steps`` give fewer than :data:`MIN_WINDOWS`
    training windows of ``--lags`` + ``--horizon`` steps (none for ``--model naive``,
    which trains on no windows: it repeats the last season)."""
    import sys

    if args.model == "naive":
        return
    span = args.lags + (args.horizon if args.strategy == "direct" else 1)
    n = n_steps - span + 1
    if 0 < n < MIN_WINDOWS:
        print(f"tsbptt: warning: {what} has {n_steps} steps, which give only {n} training "
              f"window(s) of --lags {args.lags} + {span - args.lags} step(s) to forecast; "
              f"at least {MIN_WINDOWS} are advisable: use fewer --lags or more data",
              file=sys.stderr)


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
    if isinstance(data.y.index, pd.PeriodIndex) and len(data.y):  # named as the
        # file writes them (the library would say 2012Q2 of 2012-Q2)
        steps = pd.period_range(data.y.index[-1] + 1, periods=horizon,
                                freq=data.y.index.freq)
        missing = steps[~steps.isin(data.future.index)]
        if len(missing):
            raise UsageError("the future rows of the file (--future-exog) do not cover "
                             "the forecast steps: missing "
                             f"[{', '.join(str(data.label(t)) for t in missing)}]")
    future = data.future.iloc[:horizon]
    bad = future.isna().any(axis=1).to_numpy()
    if bad.any():
        at = future.index[int(np.flatnonzero(bad)[0])]
        raise UsageError(f"the future-known covariates {future_exog} have a missing "
                         f"value at {data.label(at)} (a forecast step)")
    return future


# -- models -------------------------------------------------------------------------

#: The reason given for a config file nested past the parser's limit. Python's own
#: message differs between versions ("maximum recursion depth exceeded ...", or
#: "Stack overflow ..." from 3.14, which checks the C stack).
_TOO_DEEP = "nested too deeply to read"


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
        except RecursionError:
            raise UsageError(f"config file {path} is not valid TOML: {_TOO_DEEP}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    elif path.suffix.lower() == ".json":
        try:
            config = json.loads(text)
        except RecursionError:
            raise UsageError(f"config file {path} is not valid JSON: {_TOO_DEEP}") from None
        except ValueError as exc:  # a decode error, or a 5000-digit integer
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

    from ..forecasting.baselines import SeasonalNaive
    from ..estimators import ESNRegressor, GRURegressor, LSTMRegressor, RNNRegressor

    kind = {"lstm": "net", "gru": "net", "rnn": "net"}.get(args.model, args.model)
    for attr, (flag, _, applies) in FLAG_PARAMS.items():
        if getattr(args, attr, None) is not None and kind not in applies:
            words = [w for k in applies for w in _KIND_WORDS[k]]
            what = "--model " + " or ".join(filter(None, (", ".join(words[:-1]),
                                                          words[-1])))
            raise UsageError(f"{flag} applies to {what}, not to --model {args.model}")
    if args.model == "auto":
        if config:
            raise UsageError("--config applies to one model, not to --model auto")
        return None
    if args.model == "naive":  # it read none of them, and the forecast said nothing
        for flag, given in (("--exog", getattr(args, "exog", None)),
                            ("--future-exog", getattr(args, "future_exog", None)),
                            ("--calendar", getattr(args, "calendar", None))):
            if given:
                raise UsageError(f"{flag} does not apply to --model naive: the seasonal "
                                 "naive forecast repeats the value one season back and "
                                 "reads no covariates")
    if args.model == "ridge":
        est = Ridge(**RIDGE_DEFAULTS)
    elif args.model == "esn":
        est = ESNRegressor(**ESN_DEFAULTS)
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
    flags = {param: getattr(args, attr) for attr, (_, param, applies) in FLAG_PARAMS.items()
             if kind in applies and getattr(args, attr, None) is not None}
    est.set_params(**flags)
    if kind == "net":  # every value here was chosen: the command line's defaults, the
        # config's and the flags'; a Forecaster's training budget takes a value equal
        # to the class default for one left unset (--epochs 200 trained 40 epochs)
        est._given_params = frozenset(NET_DEFAULTS) | set(config or ()) | set(flags)
    if args.model == "naive" and args.season is not None:  # the flag wins, as the others
        est.set_params(season=args.season)
    return est


def describe(est):
    """``Name(param=value, ...)`` with the parameters that differ from the class'
    defaults (scikit-learn's short repr, on one line)."""
    return " ".join(repr(est).split())
