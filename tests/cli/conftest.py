"""Shared fixtures of the command-line tests: the CSV files the commands read,
``main`` run in-process, and the argument lists most tests start from.

pytest runs with ``--import-mode=importlib``, so a test module cannot import
these: each helper below is handed to the tests by the fixture of the same name
(bottom of the file).
"""

import numpy as np
import pandas as pd
import pytest

from tsbptt.cli import _main as cli

N_HOURS = 24 * 20


def wave(t):
    """The sine wave of ``wave_csv`` at hour ``t`` (period 24 h)."""
    return 10 + 3 * np.sin(2 * np.pi * t / 24)


@pytest.fixture
def wave_csv(tmp_path):
    """20 days of an hourly sine wave (period 24 h), ISO 8601 times in column 'ts'."""
    times = pd.date_range("2024-01-01", periods=N_HOURS, freq="h")
    path = tmp_path / "wave.csv"
    pd.DataFrame({"ts": times.strftime("%Y-%m-%dT%H:%M"),
                  "value": wave(np.arange(N_HOURS))}).to_csv(path, index=False)
    return path


@pytest.fixture
def noise_csv(tmp_path):
    """10 days of hourly noise: only a copy of the last day is its seasonal naive."""
    times = pd.date_range("2024-03-01", periods=240, freq="h")
    values = np.random.default_rng(0).normal(50, 5, size=240).round(3)
    path = tmp_path / "noise.csv"
    pd.DataFrame({"time": times, "load": values}).to_csv(path, index=False)
    return path, values


def run(capsys, *argv):
    """``main(argv)`` -> (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_forecast(path):
    """A forecast CSV the commands wrote, its 'time' column parsed."""
    return pd.read_csv(path, parse_dates=["time"])


def lstm_args(wave_csv, *extra):
    """A short LSTM forecast of ``wave_csv`` (horizon 2, lags 12, one thread), then ``extra``."""
    return ("forecast", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 2,
            "--lags", 12, "--threads", 1, *extra)


def ridge_args(path, *extra, time_col="ts", target="value"):
    """A one-step ridge forecast of ``path`` (lags 2), then ``extra``."""
    return ("forecast", path, "--time-col", time_col, "--target", target, "--horizon", 1,
            "--lags", 2, "--model", "ridge", *extra)


# -------------------------------------------------------------------------------------
# the helpers as fixtures
# -------------------------------------------------------------------------------------
@pytest.fixture(name="wave")
def wave_fixture():
    """The helper :func:`wave` above."""
    return wave


@pytest.fixture(name="wave_hours")
def wave_hours_fixture():
    """The number of hours in ``wave_csv`` (its next hour is ``wave(wave_hours)``)."""
    return N_HOURS


@pytest.fixture(name="run")
def run_fixture():
    """The helper :func:`run` above."""
    return run


@pytest.fixture(name="read_forecast")
def read_forecast_fixture():
    """The helper :func:`read_forecast` above."""
    return read_forecast


@pytest.fixture(name="lstm_args")
def lstm_args_fixture():
    """The helper :func:`lstm_args` above."""
    return lstm_args


@pytest.fixture(name="ridge_args")
def ridge_args_fixture():
    """The helper :func:`ridge_args` above."""
    return ridge_args
