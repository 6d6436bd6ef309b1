"""The ``tsbptt`` command: its outputs' values, and one-line errors with exit code 2."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tsbptt import __version__
from tsbptt.cli import _main as cli
from tsbptt.datasets import list_datasets, load_air_passengers, load_electricity_load

N_HOURS = 24 * 20


def _wave(t):
    return 10 + 3 * np.sin(2 * np.pi * t / 24)


@pytest.fixture
def wave_csv(tmp_path):
    """20 days of an hourly sine wave (period 24 h), ISO 8601 times in column 'ts'."""
    times = pd.date_range("2024-01-01", periods=N_HOURS, freq="h")
    path = tmp_path / "wave.csv"
    pd.DataFrame({"ts": times.strftime("%Y-%m-%dT%H:%M"),
                  "value": _wave(np.arange(N_HOURS))}).to_csv(path, index=False)
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
    return pd.read_csv(path, parse_dates=["time"])


# -- demo -----------------------------------------------------------------------------

def test_demo_quick_writes_a_dated_forecast_with_interval_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--quick", "--threads", "1", "--out", out_dir)
    assert code == 0, err
    frame = read_forecast(out_dir / "forecast.csv")
    assert list(frame.columns) == ["time", "forecast", "lower", "upper"]
    assert len(frame) == 24
    y = load_electricity_load()
    expected = pd.date_range(y.index[-1] + pd.Timedelta(hours=1), periods=24, freq="h")
    assert (pd.DatetimeIndex(frame["time"]) == expected).all()
    assert (frame["lower"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["upper"]).all()
    assert (frame["upper"] > frame["lower"]).all()
    # forecasts of the load's scale (hundreds to ~1500 MW), not of standardised units
    assert frame["forecast"].between(0.5 * y.min(), 1.5 * y.max()).all()
    png = (out_dir / "forecast.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert "seasonal naive" in out and "MASE" in out
    assert "load_electricity_load" in out
    assert err == ""  # the short training's ConvergenceWarning stays silent


def test_demo_without_matplotlib_says_how_to_get_the_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    code, out, err = run(capsys, "demo", "--quick", "--model", "ridge", "--out", tmp_path)
    assert code == 0, err
    assert "tsbptt[plot]" in out
    assert (tmp_path / "forecast.csv").exists()
    assert not (tmp_path / "forecast.png").exists()


def test_demo_no_plot(tmp_path, capsys):
    code, _, err = run(capsys, "demo", "--quick", "--model", "ridge", "--no-plot",
                       "--out", tmp_path)
    assert code == 0, err
    assert len(read_forecast(tmp_path / "forecast.csv")) == 24
    assert not (tmp_path / "forecast.png").exists()


# -- forecast -------------------------------------------------------------------------

def test_forecast_ridge_continues_a_sine_wave(wave_csv, tmp_path, capsys):
    out_csv = tmp_path / "f.csv"
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 6, "--lags", 24, "--model", "ridge",
                         "--alpha", 1e-6, "--out", out_csv)
    assert code == 0, err
    assert "wrote" in out
    frame = read_forecast(out_csv)
    assert list(frame.columns) == ["time", "forecast"]
    expected_times = pd.date_range("2024-01-21", periods=6, freq="h")
    assert (pd.DatetimeIndex(frame["time"]) == expected_times).all()
    np.testing.assert_allclose(frame["forecast"], _wave(N_HOURS + np.arange(6)),
                               atol=5e-3)


def test_forecast_prints_a_table_without_out(wave_csv, capsys):
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--lags", 24, "--model", "ridge",
                         "--alpha", 1e-6)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["time", "forecast"]
    assert lines[1].split()[:2] == ["2024-01-21", "00:00:00"]
    assert float(lines[1].split()[-1]) == pytest.approx(_wave(N_HOURS), abs=0.01)
    assert len(lines) == 4


def test_forecast_seasonal_naive_repeats_the_last_day(noise_csv, tmp_path, capsys):
    path, values = noise_csv
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, "forecast", path, "--time-col", "time", "--target", "load",
                       "--horizon", 24, "--lags", 24, "--model", "naive", "--season", 24,
                       "--out", out_csv)
    assert code == 0, err
    frame = read_forecast(out_csv)
    np.testing.assert_allclose(frame["forecast"], values[-24:], rtol=1e-12)
    assert frame["time"].iloc[0] == pd.Timestamp("2024-03-11 00:00")


def test_forecast_interval_and_plot(noise_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path, _ = noise_csv
    out_csv, png = tmp_path / "f.csv", tmp_path / "f.png"
    code, _, err = run(capsys, "forecast", path, "--time-col", "time", "--target", "load",
                       "--horizon", 4, "--lags", 24, "--model", "naive", "--season", 24,
                       "--interval", 0.8, "--out", out_csv, "--plot", png)
    assert code == 0, err
    frame = read_forecast(out_csv)
    assert list(frame.columns) == ["time", "forecast", "lower", "upper"]
    assert ((frame["lower"] < frame["forecast"]) & (frame["forecast"] < frame["upper"])).all()
    assert png.read_bytes().startswith(b"\x89PNG")


def test_forecast_reads_future_covariates_from_trailing_rows(tmp_path, capsys):
    n, h = 200, 12
    plan = np.random.default_rng(1).normal(size=n + h)
    frame = pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=n + h, freq="D"),
                          "sales": np.r_[2 * plan[:n], [np.nan] * h], "plan": plan})
    path = tmp_path / "plan.csv"
    frame.to_csv(path, index=False)
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, "forecast", path, "--time-col", "ts", "--target", "sales",
                       "--future-exog", "plan", "--horizon", h, "--lags", h, "--model",
                       "ridge", "--alpha", 1e-8, "--out", out_csv)
    assert code == 0, err
    result = read_forecast(out_csv)
    assert (result["time"] == frame["ts"].iloc[n:].reset_index(drop=True)).all()
    np.testing.assert_allclose(result["forecast"], 2 * plan[n:], atol=1e-4)


def test_forecast_from_a_bundled_dataset(capsys, tmp_path):
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, "forecast", "--dataset", "air_passengers", "--horizon", 12,
                       "--lags", 12, "--model", "naive", "--season", 12, "--out", out_csv)
    assert code == 0, err
    y = load_air_passengers()
    frame = read_forecast(out_csv)
    np.testing.assert_allclose(frame["forecast"], y.iloc[-12:].to_numpy())
    assert frame["time"].iloc[0] == pd.Timestamp("1961-01-01")


def test_fill_interpolates_a_missing_value(tmp_path, capsys):
    path = tmp_path / "gap.csv"
    path.write_text("ts,value\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n2024-01-04,4\n")
    code, _, err = run(capsys, "forecast", path, "--time-col", "ts", "--target", "value",
                       "--horizon", 1, "--lags", 2, "--model", "naive")
    assert code == 2 and "--fill" in err
    code, out, err = run(capsys, "forecast", path, "--time-col", "ts", "--target", "value",
                         "--horizon", 1, "--lags", 2, "--model", "naive", "--season", 1,
                         "--fill", "interpolate")
    assert code == 0, err
    assert out.splitlines()[1].split() == ["2024-01-05", "4.000"]


# -- config files and warnings ----------------------------------------------------------

def _lstm_args(wave_csv, *extra):
    return ("forecast", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 2,
            "--lags", 12, "--threads", 1, *extra)


def test_config_file_sets_parameters_and_flags_win(wave_csv, tmp_path, capsys):
    config = tmp_path / "model.json"
    config.write_text(json.dumps({"hidden_size": 4, "max_iter": 2, "batch_size": 128}))
    code, out, err = run(capsys, *_lstm_args(wave_csv, "--config", config, "--verbose"))
    assert code == 0, err
    assert "epoch 2/2" in out and "epoch 3/" not in out
    code, out, err = run(capsys, *_lstm_args(wave_csv, "--config", config, "--epochs", 3,
                                             "--verbose"))
    assert code == 0, err
    assert "epoch 3/3" in out


def test_toml_config_file(wave_csv, tmp_path, capsys):
    pytest.importorskip("tomllib")
    config = tmp_path / "model.toml"
    config.write_text("hidden_size = 4\nmax_iter = 1\nbatch_size = 128\n")
    code, out, err = run(capsys, *_lstm_args(wave_csv, "--config", config, "--verbose"))
    assert code == 0, err
    assert "epoch 1/1" in out


def test_convergence_warning_is_silent_unless_verbose(wave_csv, capsys):
    quick = ("--hidden-size", 4, "--epochs", 2, "--batch-size", 128)
    code, _, err = run(capsys, *_lstm_args(wave_csv, *quick))
    assert code == 0 and err == ""
    code, _, err = run(capsys, *_lstm_args(wave_csv, *quick, "--verbose"))
    assert code == 0
    assert err.count("\n") == 1 and err.startswith("tsbptt: warning:") and "max_iter" in err


# -- backtest -------------------------------------------------------------------------

def test_backtest_prints_the_model_and_the_seasonal_naive(noise_csv, capsys):
    path, _ = noise_csv
    code, out, err = run(capsys, "backtest", path, "--time-col", "time", "--target",
                         "load", "--horizon", 24, "--lags", 24, "--model", "ridge",
                         "--season", 24, "--interval", 0.9)
    assert code == 0, err
    lines = out.splitlines()
    header = next(line for line in lines if "MASE" in line).split()
    assert header == ["MAE", "RMSE", "sMAPE", "%", "MASE", "coverage"]
    rows = {line.split()[0]: line.split() for line in lines
            if line.startswith(("ridge", "seasonal naive"))}
    assert set(rows) == {"ridge", "seasonal"}
    for values in rows.values():
        mase, coverage = float(values[-2]), float(values[-1])
        assert 0 < mase < 10 and 0 <= coverage <= 1
    # 80% of 240 steps = 192: origins every 24 steps from step 192 to 216
    assert "2 origin(s) from 2024-03-08 23:00 to 2024-03-09 23:00" in out


def test_backtest_with_initial_step_and_refit(wave_csv, capsys):
    code, out, err = run(capsys, "backtest", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 6, "--lags", 24, "--model", "naive",
                         "--season", 24, "--initial", 400, "--step", 10, "--refit")
    assert code == 0, err
    assert "8 origin(s)" in out and "refitted at each origin" in out
    naive = next(line for line in out.splitlines() if line.startswith("seasonal naive"))
    assert float(naive.split()[4]) == pytest.approx(0.0, abs=1e-6)  # MAE of an exact copy


# -- datasets, help, version ----------------------------------------------------------

def test_datasets_lists_every_bundled_dataset(capsys):
    code, out, _ = run(capsys, "datasets")
    assert code == 0
    for name, text in list_datasets().items():
        assert name in out and text in out


@pytest.mark.slow  # starts Python twice
def test_help_and_version_via_python_m(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tsbptt", "--help"], check=False,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for command in ("demo", "forecast", "backtest", "datasets"):
        assert command in done.stdout
    done = subprocess.run([sys.executable, "-m", "tsbptt", "--version"], check=False,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == f"tsbptt {__version__}"


@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_subcommand_help_explains_every_flag(command, capsys):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    for flag in ("--time-col", "--target", "--exog", "--future-exog", "--calendar",
                 "--horizon", "--lags", "--model", "--strategy", "--interval", "--freq",
                 "--fill", "--season", "--hidden-size", "--layers", "--epochs",
                 "--learning-rate", "--batch-size", "--dropout", "--alpha",
                 "--random-state", "--threads", "--config", "--dataset", "--verbose"):
        assert flag in out
    assert "(default: 32)" in out and "(default: 0)" in out
    extra = ("--out", "--plot") if command == "forecast" else ("--initial", "--step",
                                                                "--refit")
    assert all(flag in out for flag in extra)


# -- errors ---------------------------------------------------------------------------

@pytest.fixture
def bad_files(tmp_path):
    files = {"baddate": "ts,value\n2024-01-01,1\n2024-01-02,2\nnot a date,3\n",
             "badnum": "ts,value\n2024-01-01,1\n2024-01-02,oops\n2024-01-03,3\n",
             "unsorted": "ts,value\n2024-01-02,1\n2024-01-01,2\n2024-01-03,3\n"
                         "2024-01-04,4\n",
             "trailing": "ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n"
                         "2024-01-04,\n"}
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    (tmp_path / "bad.json").write_text(json.dumps({"hidden_size": 4, "bogus": 1}))
    return tmp_path


def _ridge(path, *extra, time_col="ts", target="value"):
    return ("forecast", path, "--time-col", time_col, "--target", target, "--horizon", 1,
            "--lags", 2, "--model", "ridge", *extra)


@pytest.mark.parametrize("case, expected", [
    ("missing_file", "file not found"),
    ("missing_target", "['ts', 'value']"),
    ("missing_time", "no column 'when'"),
    ("baddate", "'not a date'"),
    ("badnum", "'oops'"),
    ("unsorted", "not sorted"),
    ("horizon", "too short"),
    ("config", "'bogus'"),
    ("validation", "season"),
    ("flag_for_other_model", "--hidden-size"),
    ("trailing", "--future-exog"),
    ("no_input", "--dataset"),
    ("unknown_dataset", "sensor_temperatures"),
    ("future_rows_missing", "append one row per forecast step"),
])
def test_user_errors_are_one_line_with_exit_code_2(case, expected, bad_files, wave_csv,
                                                   capsys):
    d = bad_files
    argv = {
        "missing_file": _ridge(d / "nope.csv"),
        "missing_target": _ridge(wave_csv, target="sales"),
        "missing_time": _ridge(wave_csv, time_col="when"),
        "baddate": _ridge(d / "baddate.csv"),
        "badnum": _ridge(d / "badnum.csv"),
        "unsorted": _ridge(d / "unsorted.csv"),
        "horizon": ("forecast", wave_csv, "--time-col", "ts", "--target", "value",
                    "--horizon", 400, "--lags", 200, "--model", "ridge"),
        "config": _lstm_args(wave_csv, "--config", d / "bad.json"),
        "validation": ("forecast", wave_csv, "--time-col", "ts", "--target", "value",
                       "--horizon", 1, "--lags", 12, "--model", "naive", "--season", 24),
        "flag_for_other_model": _ridge(wave_csv, "--hidden-size", 8),
        "trailing": _ridge(d / "trailing.csv"),
        "no_input": ("forecast", "--horizon", 1, "--lags", 2),
        "unknown_dataset": ("backtest", "--dataset", "sensor_temperatures", "--horizon", 1,
                            "--lags", 2),
        "future_rows_missing": ("forecast", "--dataset", "electricity_load", "--future-exog",
                                "temperature_c", "--horizon", 4, "--lags", 8, "--model",
                                "ridge"),
    }[case]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("tsbptt: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert expected in err


def test_usage_errors_exit_with_code_2(wave_csv, capsys):
    # the time column is guessed and --lags inferred, but --target must be named
    code, _, err = run(capsys, "forecast", wave_csv, "--horizon", 1)
    assert code == 2 and "--target is required with a FILE" in err
    code, _, err = run(capsys, "forecast", wave_csv, "--dataset", "air_passengers",
                       "--horizon", 1, "--lags", 2)
    assert code == 2 and "not allowed" in err
    code, _, err = run(capsys, *_ridge(wave_csv, "--interval", 1.5))
    assert code == 2 and "between 0 and 1" in err


def test_debug_reraises(bad_files, capsys):
    with pytest.raises(ValueError, match="file not found"):
        cli.main(["--debug", *map(str, _ridge(bad_files / "nope.csv"))])
    with pytest.raises(ValueError, match="'not a date'"):
        cli.main([*map(str, _ridge(bad_files / "baddate.csv")), "--debug"])


def test_unexpected_errors_exit_with_code_1(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_datasets", boom)
    code, _, err = run(capsys, "datasets")
    assert code == 1
    assert err.startswith("tsbptt: error: RuntimeError: boom") and err.count("\n") == 1
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--debug", "datasets"])


def test_season_and_lags_are_inferred_and_said_or_taken_from_the_flags(wave_csv,
                                                                       capsys):
    # hourly data: season 24 from the time step, lags 2 x 24, both said on stderr
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--model", "ridge", "--alpha", 1e-6)
    assert code == 0, err
    assert err == ("tsbptt: season 24 (from the time step <Hour>; set it with --season); "
                   "lags 48 (2 x season, at least 8; set it with --lags)\n")
    assert out.splitlines()[0].split() == ["time", "forecast"]
    code, out, err = run(capsys, *_ridge(wave_csv, "--season", 5))
    assert code == 0 and err == ""  # both given: nothing to say
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--model", "ridge", "--season", 5)
    assert code == 0 and err == ("tsbptt: lags 10 (2 x season, at least 8; set it with "
                                 "--lags)\n")


# -- dates, paths, flags and Ctrl-C ---------------------------------------------------

def _dated_csv(tmp_path, times, name="t.csv"):
    path = tmp_path / name
    pd.DataFrame({"ts": times, "value": np.sin(np.arange(len(times)))}).to_csv(
        path, index=False)
    return path


def test_day_first_dates_are_read_one_way_never_mixed(tmp_path, capsys):
    # pandas' per-value reading took 02/01/2024 as 1 February but 13/01/2024 as
    # 13 January: a daily file read as out of order; and when no day passed 12, as
    # monthly data with silently wrong forecast dates
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    path = _dated_csv(tmp_path, days.strftime("%d/%m/%Y"))
    code, out, err = run(capsys, *_ridge(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "2024-01-21"
    path = _dated_csv(tmp_path, days[:12].strftime("%d/%m/%Y"))
    code, out, err = run(capsys, *_ridge(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "ambiguous: '02/01/2024' (line 3)" in err and "ISO 8601" in err
    # year first is never year-day-month: not ambiguous
    hours = pd.date_range("2024-01-05 01:00", periods=20, freq="h")
    path = _dated_csv(tmp_path, hours.strftime("%Y/%m/%d %I:%M %p"))
    code, out, err = run(capsys, *_ridge(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-01-05", "21:00:00"]


def test_mixed_utc_offsets_are_named(tmp_path, capsys):
    path = _dated_csv(tmp_path, ["2024-03-31T00:00+01:00", "2024-03-31T01:00+01:00",
                                 "2024-03-31T03:00+02:00", "2024-03-31T04:00+02:00"])
    code, _, err = run(capsys, *_ridge(path))
    assert code == 2 and err.count("\n") == 1
    assert "mixes time zones" in err and "has UTC offset +0100" in err
    assert "'2024-03-31T03:00+02:00' (line 4) has UTC offset +0200" in err


def test_unsorted_or_repeated_times_name_the_lines(tmp_path, capsys):
    days = list(pd.date_range("2024-01-01", periods=6, freq="D").strftime("%Y-%m-%d"))
    path = _dated_csv(tmp_path, days[:2] + [days[3], days[2]] + days[4:])
    code, _, err = run(capsys, *_ridge(path))
    assert code == 2 and err.count("\n") == 1
    assert "'ts' is not sorted: 2024-01-03 00:00:00 (line 5) comes after 2024-01-04 " \
           "00:00:00 (line 4); sort the rows by time" in err
    path = _dated_csv(tmp_path, days[:3] + [days[2]] + days[3:])
    code, _, err = run(capsys, *_ridge(path))
    assert code == 2 and "2024-01-03 00:00:00 more than once (lines 4 and 5)" in err


def test_integral_float_time_column_is_an_integer_step(tmp_path, capsys):
    path = _dated_csv(tmp_path, np.arange(30) * 1.0)
    code, out, err = run(capsys, *_ridge(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "30"


def test_season_flag_wins_over_the_config_file(wave_csv, noise_csv, tmp_path, capsys):
    config = tmp_path / "naive.json"
    config.write_text(json.dumps({"season": 12}))
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--lags", 24, "--model", "naive",
                         "--season", 24, "--config", config)
    assert code == 0, err
    forecasts = [float(line.split()[-1]) for line in out.splitlines()[1:]]
    np.testing.assert_allclose(forecasts, _wave(N_HOURS + np.arange(3)), atol=0.01)
    # without --season, the config's season names the model and scores MASE
    path, _ = noise_csv
    code, out, err = run(capsys, "backtest", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--lags", 24, "--model", "naive",
                         "--config", config)
    assert code == 0, err
    assert "seasonal naive (season 12)" in out and "(season 1)" not in out


def test_ctrl_c_stops_the_command_and_writes_nothing(wave_csv, tmp_path, capsys,
                                                     monkeypatch):
    # the training loop catches KeyboardInterrupt to stop early and keep the model:
    # the command went on, wrote its forecast and exited 0
    import signal

    from tsbptt.utils._progress import ProgressReporter

    def ctrl_c(self, record):
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(ProgressReporter, "update", ctrl_c)
    # Python's own handler, as at a terminal: a shell starts background jobs (a test
    # run with `&`) with SIGINT ignored, which the command rightly leaves ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out_csv = tmp_path / "f.csv"
        code, _, err = run(capsys, *_lstm_args(wave_csv, "--epochs", 5, "--out", out_csv))
        assert code == 130 and err == "tsbptt: interrupted\n"
        assert not out_csv.exists()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_plot_and_out_paths_are_checked_before_fitting(wave_csv, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, *_ridge(wave_csv, "--out", out_csv, "--plot",
                                       tmp_path / "f.foo"))
    assert code == 2 and "--plot" in err and "'.foo'" in err and ".png" in err
    assert not out_csv.exists()  # nothing written before the error
    code, _, err = run(capsys, *_ridge(wave_csv, "--out", tmp_path))
    assert code == 2 and f"--out {tmp_path} is a folder" in err
    # no extension: a PNG under the very name the message gives
    png = tmp_path / "plot"
    code, out, err = run(capsys, *_ridge(wave_csv, "--plot", png))
    assert code == 0, err
    assert f"wrote {png}\n" in out and png.read_bytes().startswith(b"\x89PNG")


def test_bad_freq_names_the_flag(wave_csv, capsys):
    code, _, err = run(capsys, *_ridge(wave_csv, "--freq", "xyz"))
    assert code == 2 and err.startswith("tsbptt: error: --freq 'xyz' is neither")


def test_backtest_initial_errors_name_the_flag(wave_csv, capsys):
    args = ("backtest", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 6,
            "--model", "ridge")
    code, _, err = run(capsys, *args, "--lags", 24, "--initial", 5)
    assert code == 2
    assert "--initial 5 is too short for --lags 24 and --horizon 6: it needs at least " \
           "30 steps" in err
    code, _, err = run(capsys, *args, "--lags", 24, "--initial", N_HOURS - 1)
    assert code == 2 and f"--initial {N_HOURS - 1} leaves no room" in err
    code, _, err = run(capsys, *args, "--lags", 400)
    assert code == 2 and "the first fit (384 steps, 80% of the series; set it with " \
        "--initial) is too short for --lags 400" in err


def test_forecast_span_is_written_to_one_precision(wave_csv, tmp_path, capsys):
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--lags", 24, "--model", "ridge",
                         "--out", tmp_path / "f.csv")
    assert code == 0, err
    assert "3 forecasts of 'value', 2024-01-21 00:00 .. 2024-01-21 02:00" in out


def test_calendar_and_freq_must_fit_the_kind_of_times(wave_csv, tmp_path, capsys):
    steps = _dated_csv(tmp_path, np.arange(30))
    code, _, err = run(capsys, *_ridge(steps, "--calendar", "hour"))
    assert code == 2 and "--calendar hour needs dates, but time column 'ts' holds " \
        "integer steps" in err
    code, _, err = run(capsys, *_ridge(steps, "--freq", "D"))
    assert code == 2 and "--freq D is a pandas frequency, but time column 'ts'" in err
    code, _, err = run(capsys, *_ridge(wave_csv, "--freq", "3"))
    assert code == 2 and "--freq 3 is an integer step, but time column 'ts' holds " \
        "dates" in err


def test_library_hints_are_spelled_as_flags(tmp_path, capsys):
    from tsbptt.cli import main
    times = pd.date_range("2024-01-01", periods=60, freq="h").delete([20, 21])
    path = tmp_path / "gappy.csv"
    pd.DataFrame({"t": times, "y": np.arange(58.0)}).to_csv(path, index=False)
    code = main(["forecast", str(path), "--time-col", "t", "--target", "y",
                 "--horizon", "2", "--lags", "3", "--model", "ridge"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("tsbptt: error:")
    assert "--fill interpolate or --fill ffill" in err and "fill='" not in err


# -- files as people write them, and flags checked as the command line's own ---------

def _semicolon_csv(tmp_path, n=60):
    """Hourly values with a decimal comma, fields separated by ';', a text column."""
    times = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M")
    values = np.round(10 + np.arange(n) * 0.5, 1)
    lines = ["when;load;note"] + [f"{t};{str(v).replace('.', ',')};x{i}"
                                  for i, (t, v) in enumerate(zip(times, values))]
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, values


def test_sep_and_decimal_read_a_semicolon_file_with_decimal_commas(tmp_path, capsys):
    path, values = _semicolon_csv(tmp_path)
    out_csv = tmp_path / "f.csv"
    code, out, err = run(capsys, "forecast", path, "--sep", ";", "--decimal", ",",
                         "--time-col", "when", "--target", "load", "--horizon", 2,
                         "--lags", 3, "--season", 1, "--model", "naive", "--out", out_csv)
    assert code == 0, err
    frame = read_forecast(out_csv)
    # the seasonal naive forecast (season 1) repeats the last value, read as 39.5
    np.testing.assert_allclose(frame["forecast"], [values[-1]] * 2)
    assert values[-1] == 39.5
    assert list(frame["time"].dt.strftime("%H:%M")) == ["12:00", "13:00"]


def test_without_sep_or_decimal_the_error_says_which_flag(tmp_path, capsys):
    path, _ = _semicolon_csv(tmp_path)
    code, _, err = run(capsys, "forecast", path, "--target", "load", "--horizon", 1,
                       "--lags", 2)
    assert code == 2 and err.count("\n") == 1
    assert f"{path} has one column" in err and "--sep ';'" in err
    code, _, err = run(capsys, "forecast", path, "--sep", ";", "--target", "load",
                       "--horizon", 1, "--lags", 2, "--model", "ridge")
    assert code == 2 and err.count("\n") == 1
    assert "column 'load' is not numeric: '10,0'" in err and "(line 2)" in err
    assert "--decimal ','" in err and str(path) in err


def test_time_column_is_guessed_when_exactly_one_reads_as_dates(tmp_path, capsys):
    path, values = _semicolon_csv(tmp_path)
    code, out, err = run(capsys, "forecast", path, "--sep", ";", "--decimal", ",",
                         "--target", "load", "--horizon", 1, "--lags", 3,
                         "--season", 1, "--model", "naive")
    assert code == 0, err
    assert "2024-01-03 12:00:00" in out and f"{values[-1]:.1f}" in out
    two = tmp_path / "two.csv"
    two.write_text("a,b,y\n2024-01-01,2024-02-01,1\n2024-01-02,2024-02-02,2\n")
    code, _, err = run(capsys, "forecast", two, "--target", "y", "--horizon", 1,
                       "--lags", 1)
    assert code == 2 and "--time-col is required: 2 columns (['a', 'b']) read as dates" \
        in err
    none = tmp_path / "none.csv"
    none.write_text("a,y\nfoo,1\nbar,2\n")
    code, _, err = run(capsys, "forecast", none, "--target", "y", "--horizon", 1,
                       "--lags", 1)
    assert code == 2 and "none of its columns reads as dates" in err and str(none) in err


def test_empty_file_and_bad_rows_name_the_file(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(capsys, *_ridge(empty))
    assert code == 2 and err == f"tsbptt: error: {empty} is empty: expected a header " \
        "line of column names, then one row per time\n"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("ts,value\n2024-01-01,1\n2024-01-02,2,7\n")
    code, _, err = run(capsys, *_ridge(ragged))
    assert code == 2 and f"cannot read {ragged} as CSV with --sep ','" in err
    assert "line 3" in err and err.count("\n") == 1
    # an error from inside the file names the file too
    code, _, err = run(capsys, *_ridge(tmp_path / "nope.csv"))
    assert code == 2 and "file not found" in err
    unsorted = tmp_path / "unsorted.csv"
    unsorted.write_text("ts,value\n2024-01-02,1\n2024-01-01,2\n2024-01-03,3\n")
    code, _, err = run(capsys, *_ridge(unsorted))
    assert code == 2 and err.startswith(f"tsbptt: error: {unsorted}: time column 'ts' "
                                        "is not sorted")


def test_a_huge_cell_is_quoted_cut_to_80_characters(tmp_path, capsys):
    path = tmp_path / "huge.csv"
    path.write_text("ts,value\n2024-01-01,1\n2024-01-02," + "9x" * 50_000 + "\n")
    code, _, err = run(capsys, *_ridge(path))
    assert code == 2 and err.count("\n") == 1
    quoted = err.split("not numeric: ", 1)[1].split(" (100002 characters)")[0]
    assert quoted == "'" + "9x" * 38 + "..."
    assert len(quoted) == 80 and len(err) < 300


@pytest.mark.parametrize("flag, value, words", [
    ("--threads", "1e20", "expected an integer number of threads"),
    ("--threads", "100000000000000000000", "expected 1 to 4096 threads"),
    ("--threads", "0", "expected 1 to 4096 threads"),
    ("--lags", "0", "expected an integer from 1 to 10000000"),
    ("--horizon", "10000000000", "expected an integer from 1 to 10000000"),
    ("--epochs", "-3", "expected an integer from 1 to 10000000"),
    ("--learning-rate", "0", "expected a learning rate > 0"),
    ("--learning-rate", "inf", "expected a learning rate > 0"),
    ("--learning-rate", "nan", "expected a learning rate > 0"),
    ("--dropout", "1", "expected a dropout rate from 0 to below 1"),
    ("--random-state", "-1", "expected a seed from 0 to 4294967295"),
])
def test_numeric_flags_are_range_checked_in_one_line(flag, value, words, wave_csv, capsys):
    argv = ["forecast", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 1,
            "--lags", 2, flag, value]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err == f"tsbptt forecast: error: argument {flag}: {words}" + \
        err.split(words, 1)[1]
    assert err.count("\n") == 1 and repr(value) in err
    assert err.endswith("(see `tsbptt forecast --help`)\n")


def test_alpha_and_dropout_accept_zero(wave_csv, capsys):
    code, _, err = run(capsys, *_ridge(wave_csv, "--alpha", "0"))
    assert code == 0, err


def test_flag_errors_are_one_line_with_a_pointer_to_help(capsys):
    code, out, err = run(capsys, "forecast", "--horizn", 3)
    assert code == 2 and out == ""
    assert err == ("tsbptt forecast: error: the following arguments are required: "
                   "--horizon (see `tsbptt forecast --help`)\n")
    code, _, err = run(capsys, "forecast", "--horizon", 3, "--lags", 2, "--bogus")
    assert code == 2
    assert err == "tsbptt: error: unrecognized arguments: --bogus (see `tsbptt --help`)\n"
    code, _, err = run(capsys, "forecst")
    assert code == 2 and err == ("tsbptt: error: argument COMMAND: invalid choice: "
                                 "'forecst' (choose from 'demo', 'forecast', 'backtest', "
                                 "'datasets') (see `tsbptt --help`)\n")


def test_few_training_windows_are_warned_about(tmp_path, capsys):
    times = pd.date_range("2024-01-01", periods=40, freq="D")
    path = tmp_path / "short.csv"
    pd.DataFrame({"ts": times, "value": np.arange(40.0)}).to_csv(path, index=False)
    code, _, err = run(capsys, *_ridge(path, time_col="ts")[:-4], "--lags", 12,
                       "--model", "ridge", "--horizon", 1)
    assert code == 0
    assert f"tsbptt: warning: {path} has 40 steps, which give only 28 training window(s)" \
        in err and "--lags 12" in err
    code, _, err = run(capsys, *_ridge(path, time_col="ts")[:-4], "--lags", 2,
                       "--model", "ridge", "--horizon", 1)
    assert code == 0 and "warning" not in err


def test_demo_writes_into_a_new_temporary_folder_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    code, out, err = run(capsys, "demo", "--quick", "--model", "ridge", "--no-plot")
    assert code == 0, err
    made = list((tmp_path / "tmp").glob("tsbptt-demo-*"))
    assert len(made) == 1 and f"wrote {made[0] / 'forecast.csv'}" in out
    assert len(pd.read_csv(made[0] / "forecast.csv")) == 24
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]  # nothing else here
    code, _, err = run(capsys, "demo", "--quick", "--model", "ridge", "--no-plot", "--out",
                       made[0] / "forecast.csv")
    assert code == 2 and "is a file; give a folder" in err


def test_verbose_labels_each_fit_and_says_why_it_stopped(wave_csv, capsys):
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 2, "--lags", 24, "--epochs", 2,
                         "--hidden-size", 4, "--interval", 0.8, "--verbose")
    assert code == 0, err
    heads = [ln.split(" | ")[0] for ln in out.splitlines() if ln.startswith("fit ")]
    assert heads == [
        "fit 1/2: calibration model (LSTMRegressor): epoch 1/2",
        "fit 1/2: calibration model (LSTMRegressor): epoch 2/2",
        "fit 1/2: calibration model (LSTMRegressor): ran all 2 epochs (max_iter) without "
        "converging",
        "fit 2/2: final model (LSTMRegressor): epoch 1/2",
        "fit 2/2: final model (LSTMRegressor): epoch 2/2",
        "fit 2/2: final model (LSTMRegressor): ran all 2 epochs (max_iter) without "
        "converging"]
    # one convergence warning for the Forecaster's two fits
    assert err.count("did not converge") == 1 and "2 of its model fits" in err


def test_backtest_verbose_counts_origins_and_quiet_shows_nothing(wave_csv, capsys):
    argv = ("backtest", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 24,
            "--lags", 24, "--model", "ridge", "--initial", N_HOURS - 72)
    code, out, err = run(capsys, *argv, "--verbose")
    assert code == 0, err
    assert [ln.split(" | ")[0] for ln in out.splitlines() if ln.startswith("backtest:")] \
        == ["backtest: origin 1/3", "backtest: origin 2/3", "backtest: origin 3/3"]
    assert cli._verbosity(cli.build_parser().parse_args(["backtest", *map(str, argv[1:]),
                                                          "--quiet"])) == 0
    assert cli._verbosity(cli.build_parser().parse_args([*map(str, argv)])) == 1


def test_library_errors_are_in_the_command_lines_words(tmp_path, capsys):
    gap = tmp_path / "gap.csv"
    gap.write_text("ts,value\n" + "".join(
        f"2024-01-01 {h:02d}:00,{h}\n" for h in (0, 1, 2, 5, 6, 7, 8)))
    code, _, err = run(capsys, *_ridge(gap))
    assert code == 2
    assert err == ("tsbptt: error: the time column is not regular at frequency h: "
                   "2024-01-01 05:00:00 where 2024-01-01 03:00:00 was expected (a gap); "
                   "pass --fill interpolate or --fill ffill to fill gaps, or resample "
                   "first\n")  # no warning about few windows: the data was refused
    off = tmp_path / "off.csv"
    off.write_text("ts,value\n" + "".join(
        f"2024-01-01 {t},{i}\n" for i, t in enumerate(
            ["00:00", "01:00", "02:30", "03:00", "04:00", "05:00", "06:00"])))
    code, _, err = run(capsys, *_ridge(off, "--fill", "ffill", "--freq", "h"))
    assert code == 2 and err == ("tsbptt: error: the series has a timestamp off its Hour "
                                 "grid: 2024-01-01 02:30:00; resample it first\n")
def test_forecast_model_auto_says_its_choice_and_warns_when_networks_lose(tmp_path,
                                                                          capsys):
    # one day of noise repeated: seasonal naive is exact, no network can beat it
    day = np.random.default_rng(1).normal(50, 5, size=24).round(3)
    path = tmp_path / "days.csv"
    pd.DataFrame({"time": pd.date_range("2024-03-01", periods=120, freq="h"),
                  "load": np.tile(day, 5)}).to_csv(path, index=False)
    code, out, err = run(capsys, "forecast", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--model", "auto")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("chose seasonal naive (season 24; mean absolute error "
                               "over 4 backtest origins of the training data: "
                               "seasonal naive 0,")
    assert lines[1].split() == ["time", "forecast"]
    np.testing.assert_allclose([float(v.split()[-1]) for v in lines[2:]], day[:6],
                               atol=0.006)  # the table's 2 decimals
    assert err.splitlines() == [
        ("tsbptt: season 24 (from the time step <Hour>; set it with --season); lags 48 "
         "(2 x season, at least 8; set it with --lags)"),
        ("tsbptt: warning: the networks lost to seasonal naive in the backtest of the "
         "training data; forecasting with seasonal naive")]
    code, _, err = run(capsys, "forecast", path, "--time-col", "time", "--target",
                       "load", "--horizon", 6, "--model", "auto", "--interval", 0.9)
    assert code == 2 and "--interval does not apply to --model auto" in err


def test_backtest_infers_the_season_of_mase_and_the_baseline(noise_csv, capsys):
    path, _ = noise_csv
    code, out, err = run(capsys, "backtest", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--lags", 24, "--model", "ridge")
    assert code == 0, err
    assert "season 24 (from the time step <Hour>; set it with --season)" in out
    assert "seasonal naive (season 24)" in out and "lags 48" not in out
