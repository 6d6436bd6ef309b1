"""The ``tsbptt`` commands' outputs: demo, forecast, backtest, datasets, help and
version, checked by value (dates, forecasts, intervals, plots, tables)."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tsbptt import __version__
from tsbptt.datasets import list_datasets, load_air_passengers, load_electricity_load


def test_demo_quick_writes_a_dated_forecast_with_interval_and_plot(tmp_path, capsys, run,
                                                                   read_forecast):
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


def test_a_dropped_network_is_said_not_credited_silently(tmp_path, capsys, run):
    # GRU, RNN and LSTM printed the same "MASE: GRU 0.956" and wrote the same
    # forecasts, those of the linear part alone (network_weight_ 0), without a word
    code, out, err = run(capsys, "demo", "--quick", "--model", "gru", "--no-plot",
                         "--threads", "1", "--out", tmp_path)
    assert code == 0, err
    assert ("the GRURegressor's correction weighs 0 in this fit (network_weight_): on "
            "the latest windows it did no better than the linear part") in out
    code, out, err = run(capsys, "demo", "--quick", "--model", "ridge", "--no-plot",
                         "--out", tmp_path)
    assert code == 0 and "weighs 0" not in out + err


def test_forecast_says_a_dropped_network_on_stderr(capsys):
    from types import SimpleNamespace

    from sklearn.linear_model import Ridge

    from tsbptt.cli._main import _say_network_dropped
    for weight, said in ((0.0, True), (0.4, False), (None, False)):
        _say_network_dropped(SimpleNamespace(network_weight_=weight, estimator=Ridge()))
        out, err = capsys.readouterr()
        assert out == "" and ("Ridge's correction weighs 0" in err) == said


def test_demo_without_matplotlib_says_how_to_get_the_plot(tmp_path, capsys, monkeypatch, run):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    code, out, err = run(capsys, "demo", "--quick", "--model", "ridge", "--out", tmp_path)
    assert code == 0, err
    assert "tsbptt[plot]" in out
    assert (tmp_path / "forecast.csv").exists()
    assert not (tmp_path / "forecast.png").exists()


def test_demo_no_plot(tmp_path, capsys, run, read_forecast):
    code, _, err = run(capsys, "demo", "--quick", "--model", "ridge", "--no-plot",
                       "--out", tmp_path)
    assert code == 0, err
    assert len(read_forecast(tmp_path / "forecast.csv")) == 24
    assert not (tmp_path / "forecast.png").exists()


def test_demo_writes_into_a_new_temporary_folder_by_default(tmp_path, capsys, monkeypatch, run):
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


def test_forecast_ridge_continues_a_sine_wave(wave_csv, tmp_path, capsys, run, read_forecast, wave,
                                              wave_hours):
    out_csv = tmp_path / "f.csv"
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 6, "--lags", 24, "--model", "ridge",
                         "--alpha", 1e-6, "--out", out_csv)
    assert code == 0, err
    assert out == "" and "tsbptt: wrote" in err  # stdout holds results alone
    frame = read_forecast(out_csv)
    assert list(frame.columns) == ["time", "forecast"]
    expected_times = pd.date_range("2024-01-21", periods=6, freq="h")
    assert (pd.DatetimeIndex(frame["time"]) == expected_times).all()
    np.testing.assert_allclose(frame["forecast"], wave(wave_hours + np.arange(6)),
                               atol=5e-3)


def test_out_dash_writes_the_csv_to_stdout_and_nothing_else(wave_csv, tmp_path, capsys, run,
                                                            lstm_args):
    import io

    out_csv = tmp_path / "f.csv"
    args = lstm_args(wave_csv, "--epochs", 2, "--hidden-size", 4, "--interval", 0.8,
                     "--verbose")
    code, _, err = run(capsys, *args, "--out", out_csv)
    assert code == 0, err
    code, out, err = run(capsys, *args, "--out", "-")
    assert code == 0, err
    assert out == out_csv.read_text()  # the very file --out FILE writes
    frame = pd.read_csv(io.StringIO(out), parse_dates=["time"])
    assert list(frame.columns) == ["time", "forecast", "lower", "upper"] and len(frame) == 2
    assert "epoch 2/2" in err and not (tmp_path / "-").exists()
    assert "wrote" not in out + err
    # '-' is not a file name there, so it is never "also FILE"; --plot needs a file
    code, _, err = run(capsys, *args, "--out", "-", "--plot", "-")
    assert code == 2 and err == ("tsbptt: error: --plot - : give the image a file name "
                                 "(only --out writes to standard output)\n")


def test_forecast_prints_a_table_without_out(wave_csv, capsys, run, wave, wave_hours):
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--lags", 24, "--model", "ridge",
                         "--alpha", 1e-6)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split() == ["time", "forecast"]
    assert lines[1].split()[:2] == ["2024-01-21", "00:00:00"]
    assert float(lines[1].split()[-1]) == pytest.approx(wave(wave_hours), abs=0.01)
    assert len(lines) == 4


def test_forecast_seasonal_naive_repeats_the_last_day(noise_csv, tmp_path, capsys, run,
                                                      read_forecast):
    path, values = noise_csv
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, "forecast", path, "--time-col", "time", "--target", "load",
                       "--horizon", 24, "--lags", 24, "--model", "naive", "--season", 24,
                       "--out", out_csv)
    assert code == 0, err
    frame = read_forecast(out_csv)
    np.testing.assert_allclose(frame["forecast"], values[-24:], rtol=1e-12)
    assert frame["time"].iloc[0] == pd.Timestamp("2024-03-11 00:00")


def test_forecast_interval_and_plot(noise_csv, tmp_path, capsys, run, read_forecast):
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


def test_forecast_reads_future_covariates_from_trailing_rows(tmp_path, capsys, run, read_forecast):
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


def test_forecast_from_a_bundled_dataset(capsys, tmp_path, run, read_forecast):
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, "forecast", "--dataset", "air_passengers", "--horizon", 12,
                       "--lags", 12, "--model", "naive", "--season", 12, "--out", out_csv)
    assert code == 0, err
    y = load_air_passengers()
    frame = read_forecast(out_csv)
    np.testing.assert_allclose(frame["forecast"], y.iloc[-12:].to_numpy())
    assert frame["time"].iloc[0] == pd.Timestamp("1961-01-01")


def test_forecast_span_is_written_to_one_precision(wave_csv, tmp_path, capsys, run):
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--lags", 24, "--model", "ridge",
                         "--out", tmp_path / "f.csv")
    assert code == 0, err
    assert "3 forecasts of 'value', 2024-01-21 00:00 .. 2024-01-21 02:00" in err


def test_forecast_model_auto_says_its_choice_and_warns_when_networks_lose(tmp_path, capsys, run):
    # one day of noise repeated: seasonal naive is exact, no network can beat it
    day = np.random.default_rng(1).normal(50, 5, size=24).round(3)
    path = tmp_path / "days.csv"
    pd.DataFrame({"time": pd.date_range("2024-03-01", periods=120, freq="h"),
                  "load": np.tile(day, 5)}).to_csv(path, index=False)
    code, out, err = run(capsys, "forecast", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--model", "auto")
    assert code == 0, err
    lines = out.splitlines()  # the forecasts alone: the choice is a note, on stderr
    assert lines[0].split() == ["time", "forecast"]
    np.testing.assert_allclose([float(v.split()[-1]) for v in lines[1:]], day[:6],
                               atol=0.006)  # the table's 2 decimals
    notes = err.splitlines()
    # (no lags: AutoForecaster chooses its candidates' windows)
    assert notes[0] == "tsbptt: season 24 (from the time step h; set it with --season)"
    # (the days do not change: the drift candidate ties with seasonal naive)
    assert notes[1].startswith("tsbptt: chose seasonal naive + drift (the mean of the 2 "
                               "best within 1.5 times the best's error")
    assert "of the training data: seasonal naive 0, drift 0," in notes[1]
    assert notes[2:] == [
        ("tsbptt: warning: the networks lost to seasonal naive in the backtest of the "
         "training data; forecasting with seasonal naive + drift")]
    # an interval from the choice's own backtest errors, on as many origins as its
    # coverage needs (9 for 90%)
    code, out, err = run(capsys, "forecast", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--model", "auto", "--interval", 0.9)
    assert code == 0, err
    assert out.splitlines()[0].split() == ["time", "forecast", "lower", "upper"]
    assert "over 9 backtest origins" in err
    code, _, err = run(capsys, "backtest", path, "--time-col", "time", "--target",
                       "load", "--horizon", 6, "--model", "auto", "--interval", 0.9)
    assert code == 2 and "--interval does not apply to --model auto" in err
    # --fill reaches the AutoForecaster (it once asked for the --fill it was given)
    frame = pd.read_csv(path)
    frame.drop(index=[50, 70]).to_csv(tmp_path / "gaps.csv", index=False)
    code, out, err = run(capsys, "forecast", tmp_path / "gaps.csv", "--time-col", "time",
                         "--target", "load", "--horizon", 6, "--model", "auto",
                         "--fill", "ffill")
    assert code == 0, err
    assert "tsbptt: chose seasonal naive" in err


def test_backtest_prints_the_model_and_the_seasonal_naive(noise_csv, capsys, run):
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


def test_backtest_with_initial_step_and_refit(wave_csv, capsys, run):
    code, out, err = run(capsys, "backtest", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 6, "--lags", 24, "--model", "naive",
                         "--season", 24, "--initial", 400, "--step", 10, "--refit")
    assert code == 0, err
    assert "8 origin(s)" in out and "refitted at each origin" in out
    naive = next(line for line in out.splitlines() if line.startswith("seasonal naive"))
    assert float(naive.split()[4]) == pytest.approx(0.0, abs=1e-6)  # MAE of an exact copy


def test_backtest_infers_the_season_of_mase_and_the_baseline(noise_csv, capsys, run):
    path, _ = noise_csv
    code, out, err = run(capsys, "backtest", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--lags", 24, "--model", "ridge")
    assert code == 0, err
    assert "tsbptt: season 24 (from the time step h; set it with --season)" in err
    assert "seasonal naive (season 24)" in out and "lags 48" not in out


def test_datasets_lists_every_bundled_dataset(capsys, run):
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
def test_subcommand_help_explains_every_flag(command, capsys, run):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    for flag in ("--time-col", "--tz", "--target", "--exog", "--future-exog", "--calendar",
                 "--horizon", "--lags", "--model", "--strategy", "--interval", "--freq",
                 "--fill", "--season", "--hidden-size", "--layers", "--epochs",
                 "--learning-rate", "--batch-size", "--dropout", "--alpha",
                 "--random-state", "--threads", "--config", "--dataset", "--verbose"):
        assert flag in out
    assert "(default: 32)" in out and "(default: 0)" in out
    extra = ("--out", "--plot") if command == "forecast" else ("--initial", "--step",
                                                                "--refit")
    assert all(flag in out for flag in extra)


@pytest.mark.parametrize("command", ["forecast", "backtest"])
def test_subcommand_help_fits_the_terminal_and_keeps_the_examples(command, capsys, run,
                                                                   monkeypatch):
    # the description was printed as one long line (the examples' raw layout)
    monkeypatch.setenv("COLUMNS", "60")
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    description = out.split("\n\n")[1]
    assert description.startswith("Fit ") and "\n" in description
    assert max(map(len, description.splitlines())) <= 58
    examples = out[out.index("examples:\n"):]
    assert f"  tsbptt {command} " in examples and " \\\n      --" in examples


def _scaled_csv(tmp_path, scale, offset=0.0):
    """60 days of a wiggly series times ``scale``, plus ``offset``."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    values = offset + scale * (10 + np.sin(np.arange(60)) + 0.1 * np.arange(60))
    path = tmp_path / "scaled.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "sales": values}).to_csv(
        path, index=False, float_format="%.17g")
    return path, values


def _printed(out):
    """The numbers of a printed forecast table, row by row (the time column dropped)."""
    return np.array([[float(v) for v in line.split()[1:]]
                     for line in out.splitlines()[1:]])


@pytest.mark.parametrize("scale, offset", [(1e-8, 0.0), (1e-4, 1000.0)])
def test_forecast_table_shows_the_digits_that_tell_values_apart(scale, offset, tmp_path,
                                                               capsys, run):
    # the decimals followed the largest value only: 3.9e-07 printed 0.000000, and
    # 1000 + 1e-4 * x printed 1000.0 as forecast, lower and upper bound alike
    path, values = _scaled_csv(tmp_path, scale, offset)
    code, out, err = run(capsys, "forecast", path, "--target", "sales", "--model", "naive",
                         "--season", 1, "--lags", 2, "--horizon", 2, "--interval", 0.9)
    assert code == 0, err
    printed = _printed(out)
    # the naive forecast repeats the last value, to about 4 digits of the series' spread
    np.testing.assert_allclose(printed[:, 0], values[-1], rtol=0, atol=scale * 1e-2)
    assert (printed[:, 1] < printed[:, 0]).all() and (printed[:, 0] < printed[:, 2]).all()
    if offset == 0:  # tiny numbers: scientific notation, not a row of zeros
        assert "e-07" in out.splitlines()[1] and "0.000000" not in out


def test_backtest_metrics_of_a_tiny_series_keep_their_digits(tmp_path, capsys, run):
    path, _ = _scaled_csv(tmp_path, 1e-8)
    code, out, err = run(capsys, "backtest", path, "--target", "sales", "--model", "ridge",
                         "--lags", 7, "--season", 7, "--horizon", 3)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()
            if line.startswith(("ridge", "seasonal naive"))]
    mae = [float(row[-4]) for row in rows]  # MAE RMSE sMAPE MASE at the end
    assert all(0 < m < 1e-7 for m in mae), out


def test_number_format_of_huge_and_equal_values():
    from tsbptt.cli import _main as cli

    frame = pd.DataFrame({"forecast": [1e300, -1e300]},
                         index=pd.date_range("2024-01-01", periods=2, freq="D"))
    assert cli._table(frame).splitlines()[1:] == ["2024-01-01  1.000e+300",
                                                  "2024-01-02 -1.000e+300"]
    assert cli._number_format([39.566, 39.525]) == ".2f"  # 4 digits, as before
    assert cli._number_format([39.566, 39.525], scale=7.0) == ".3f"
    assert cli._number_format([1000.0036, 1000.0039], scale=7e-4) == ".7f"
    assert cli._number_format([3.9e-7, 4.0e-7]) == ".3e"
    assert cli._number_format([0.0, 0.0]) == ".2f"
    # a spread at rounding level (an almost constant series): not 17 digits
    assert cli._number_format([5.0, 5.0], scale=1e-20) == ".3f"


def test_closed_streams_neither_mix_nor_lose_the_results(wave_csv, tmp_path, capsys, run,
                                                         ridge_args, monkeypatch):
    # 2>&-: print(file=None) wrote the notes to stdout, into the CSV; >&-: the
    # forecast was lost and the exit code 0
    import sys

    monkeypatch.setattr(sys, "stderr", None)
    code, out, _ = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                       "value", "--horizon", 2, "--model", "ridge", "--out", "-")
    assert code == 0 and out.splitlines()[0] == "time,forecast" and "tsbptt" not in out
    monkeypatch.undo()
    monkeypatch.setattr(sys, "stdout", None)
    code, _, err = run(capsys, *ridge_args(wave_csv))
    assert code == 2 and err == ("tsbptt: error: standard output is closed: the results "
                                 "have nowhere to go (redirect it, or give --out FILE)\n")
    code, _, err = run(capsys, *ridge_args(wave_csv, "--out", tmp_path / "f.csv"))
    assert code == 0 and (tmp_path / "f.csv").exists()


def test_a_failed_write_names_the_out_file(wave_csv, tmp_path, capsys, run, ridge_args,
                                           monkeypatch):
    import errno

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, *ridge_args(wave_csv, "--out", out_csv))
    assert code == 2 and err == (f"tsbptt: error: cannot write --out {out_csv}: No space "
                                 "left on device\n")


def test_a_closed_pipe_after_out_dash_stops_quietly(wave_csv, capsys, run, monkeypatch):
    # `--out - | head -1`: the write's BrokenPipeError was turned into "cannot write
    # --out -: Broken pipe", exit 2, where main() stops quietly
    def closed(self, *args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(pd.DataFrame, "to_csv", closed)
    monkeypatch.setattr(os, "dup2", lambda *args: None)  # leave pytest's stdout be
    code, _, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                       "value", "--horizon", 2, "--model", "ridge", "--out", "-")
    assert code == 1 and "error" not in err and "Broken pipe" not in err


@pytest.mark.parametrize("flags", [["--calendar", "hour"], ["--exog", "temp"],
                                   ["--future-exog", "temp"]])
def test_the_naive_model_refuses_covariates_it_would_ignore(capsys, run, tmp_path, flags):
    # --model naive took --future-exog and --calendar, read neither, and said
    # nothing (--model auto refuses them)
    idx = pd.date_range("2024-01-01", periods=120, freq="h")
    frame = pd.DataFrame({"time": idx, "load": np.sin(np.arange(120) / 4),
                          "temp": np.cos(np.arange(120) / 7)})
    path = tmp_path / "load.csv"
    frame.to_csv(path, index=False)
    code, out, err = run(capsys, "forecast", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--model", "naive", *flags)
    assert code == 2 and out == ""
    assert (f"{flags[0]} does not apply to --model naive: the seasonal naive forecast "
            "repeats the value one season back and reads no covariates") in err


def test_forecast_model_auto_reads_the_week_as_the_library_does(tmp_path, capsys, run):
    # the command filled in season 24 and lags 48 before AutoForecaster saw them, as
    # if given: the week, a second season of hourly data, was never backtested, and
    # a short series was refused that the library fits with shorter windows
    idx = pd.date_range("2024-01-01", periods=24 * 7 * 5, freq="h")
    load = 100 * np.where((idx.hour >= 7) & (idx.hour <= 21), 1.0, 0.6) * \
        np.where(idx.day_of_week >= 5, 0.7, 1.0)
    path = tmp_path / "load.csv"
    pd.DataFrame({"time": idx, "load": load}).to_csv(path, index=False)
    code, out, err = run(capsys, "forecast", path, "--target", "load", "--horizon", 24,
                         "--model", "auto", "--quiet")
    assert code == 0, err
    assert "seasonal naive weekly" in err and "the weekly ones' 168" in err
    short = tmp_path / "short.csv"
    pd.DataFrame({"time": idx[:144], "load": load[:144]}).to_csv(short, index=False)
    code, out, err = run(capsys, "forecast", short, "--target", "load", "--horizon", 24,
                         "--model", "auto", "--quiet")
    assert code == 0, err
