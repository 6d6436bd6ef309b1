"""What the ``tsbptt`` command does with its settings: config files (JSON,
TOML) and the flags that win over them, the season and lags it infers and says,
--verbose and --quiet, warnings, and Ctrl-C."""

import json

import numpy as np
import pandas as pd
import pytest

from tsbptt.cli import _main as cli


def test_config_file_sets_parameters_and_flags_win(wave_csv, tmp_path, capsys, run, lstm_args):
    config = tmp_path / "model.json"
    config.write_text(json.dumps({"hidden_size": 4, "max_iter": 2, "batch_size": 128}))
    code, out, err = run(capsys, *lstm_args(wave_csv, "--config", config, "--verbose"))
    assert code == 0, err
    assert "epoch 2/2" in err and "epoch 3/" not in err
    code, out, err = run(capsys, *lstm_args(wave_csv, "--config", config, "--epochs", 3,
                                             "--verbose"))
    assert code == 0, err
    assert "epoch 3/3" in err


def test_values_equal_to_the_class_defaults_are_kept(wave_csv, tmp_path, capsys, run,
                                                    lstm_args):
    # the Forecaster's training budget took them for defaults left unset: --epochs
    # 200 trained at most 40 epochs, a config's early_stopping false stopped early
    code, _, err = run(capsys, *lstm_args(wave_csv, "--epochs", 200, "--hidden-size", 2,
                                          "--verbose"))
    assert code == 0 and "epoch 1/200" in err
    config = tmp_path / "model.json"
    config.write_text(json.dumps({"early_stopping": False, "hidden_size": 2}))
    code, _, err = run(capsys, *lstm_args(wave_csv, "--epochs", 3, "--config", config,
                                          "--verbose"))
    assert code == 0 and "val loss" not in err and "ran all 3 epochs" in err


def test_toml_config_file(wave_csv, tmp_path, capsys, run, lstm_args):
    pytest.importorskip("tomllib")
    config = tmp_path / "model.toml"
    config.write_text("hidden_size = 4\nmax_iter = 1\nbatch_size = 128\n")
    code, out, err = run(capsys, *lstm_args(wave_csv, "--config", config, "--verbose"))
    assert code == 0, err
    assert "epoch 1/1" in err


def test_season_flag_wins_over_the_config_file(wave_csv, noise_csv, tmp_path, capsys, run, wave,
                                               wave_hours):
    config = tmp_path / "naive.json"
    config.write_text(json.dumps({"season": 12}))
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--lags", 24, "--model", "naive",
                         "--season", 24, "--config", config)
    assert code == 0, err
    forecasts = [float(line.split()[-1]) for line in out.splitlines()[1:]]
    np.testing.assert_allclose(forecasts, wave(wave_hours + np.arange(3)), atol=0.01)
    # without --season, the config's season names the model and scores MASE
    path, _ = noise_csv
    code, out, err = run(capsys, "backtest", path, "--time-col", "time", "--target",
                         "load", "--horizon", 6, "--lags", 24, "--model", "naive",
                         "--config", config)
    assert code == 0, err
    assert "seasonal naive (season 12)" in out and "(season 1)" not in out


def test_season_and_lags_are_inferred_and_said_or_taken_from_the_flags(wave_csv, capsys, run,
                                                                       ridge_args):
    # hourly data: season 24 from the time step, lags 2 x 24, both said on stderr
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--model", "ridge", "--alpha", 1e-6)
    assert code == 0, err
    assert err == ("tsbptt: season 24 (from the time step h; set it with --season); "
                   "lags 48 (2 x season, at least 8; set it with --lags)\n")
    assert out.splitlines()[0].split() == ["time", "forecast"]
    code, out, err = run(capsys, *ridge_args(wave_csv, "--season", 5))
    assert code == 0 and err == ""  # both given: nothing to say
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 3, "--model", "ridge", "--season", 5)
    assert code == 0 and err == ("tsbptt: lags 10 (2 x season, at least 8; set it with "
                                 "--lags)\n")


def test_convergence_warning_is_silent_unless_verbose(wave_csv, capsys, run, lstm_args):
    quick = ("--hidden-size", 4, "--epochs", 2, "--batch-size", 128)
    code, _, err = run(capsys, *lstm_args(wave_csv, *quick))
    assert code == 0 and err == ""
    code, _, err = run(capsys, *lstm_args(wave_csv, *quick, "--verbose"))
    assert code == 0
    warned = [ln for ln in err.splitlines() if not ln.startswith("fit ")]  # progress
    assert len(warned) == 1 and warned[0].startswith("tsbptt: warning:")
    assert "max_iter" in warned[0]


def test_libraries_deprecations_are_silent_unless_verbose(wave_csv, capsys, run, ridge_args,
                                                          monkeypatch):
    # A library's deprecation in another's code (matplotlib 3.7 on pyparsing 3.3 said
    # "'parseString' deprecated - use 'parse_string'" in every demo) is for their
    # authors: the command shows it only with --verbose, and other warnings as before.
    # One that points into tsbptt's own code (its use of a deprecated pandas API, say)
    # is always shown.
    import warnings

    real = cli.cmd_forecast

    def forecast_that_warns(args):
        warnings.warn("'parseString' deprecated - use 'parse_string'", DeprecationWarning)
        warnings.warn("a pending change", PendingDeprecationWarning)
        warnings.warn("a value changes next release", FutureWarning)
        warnings.warn_explicit("tsbptt calls a deprecated API", DeprecationWarning,
                               filename=cli.__file__, lineno=1)
        return real(args)

    monkeypatch.setattr(cli, "cmd_forecast", forecast_that_warns)
    code, _, err = run(capsys, *ridge_args(wave_csv))
    assert code == 0
    assert err.splitlines() == ["tsbptt: warning: a value changes next release",
                                "tsbptt: warning: tsbptt calls a deprecated API"]
    code, _, err = run(capsys, *ridge_args(wave_csv), "--verbose")
    assert code == 0
    assert err.splitlines() == ["tsbptt: warning: 'parseString' deprecated - use 'parse_string'",
                                "tsbptt: warning: a pending change",
                                "tsbptt: warning: a value changes next release",
                                "tsbptt: warning: tsbptt calls a deprecated API"]


def test_few_training_windows_are_warned_about(tmp_path, capsys, run, ridge_args):
    times = pd.date_range("2024-01-01", periods=40, freq="D")
    path = tmp_path / "short.csv"
    pd.DataFrame({"ts": times, "value": np.arange(40.0)}).to_csv(path, index=False)
    code, _, err = run(capsys, *ridge_args(path, time_col="ts")[:-4], "--lags", 12,
                       "--model", "ridge", "--horizon", 1)
    assert code == 0
    assert f"tsbptt: warning: {path} has 40 steps, which give only 28 training window(s)" \
        in err and "--lags 12" in err
    code, _, err = run(capsys, *ridge_args(path, time_col="ts")[:-4], "--lags", 2,
                       "--model", "ridge", "--horizon", 1)
    assert code == 0 and "warning" not in err
    # seasonal naive trains on no windows: it repeats the last season
    code, _, err = run(capsys, *ridge_args(path, time_col="ts")[:-4], "--lags", 12,
                       "--model", "naive", "--season", 12, "--horizon", 1)
    assert code == 0 and err == ""


def test_verbose_labels_each_fit_and_says_why_it_stopped(wave_csv, capsys, run):
    code, out, err = run(capsys, "forecast", wave_csv, "--time-col", "ts", "--target",
                         "value", "--horizon", 2, "--lags", 24, "--epochs", 2,
                         "--hidden-size", 4, "--interval", 0.8, "--verbose")
    assert code == 0, err
    # the progress goes to stderr: stdout holds the forecasts alone
    assert out.splitlines()[0].split() == ["time", "forecast", "lower", "upper"]
    assert len(out.splitlines()) == 3
    heads = [ln.split(" | ")[0] for ln in err.splitlines() if ln.startswith("fit ")]
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


def test_backtest_verbose_counts_origins_and_quiet_shows_nothing(wave_csv, capsys, run, wave_hours):
    argv = ("backtest", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 24,
            "--lags", 24, "--model", "ridge", "--initial", wave_hours - 72)
    code, out, err = run(capsys, *argv, "--verbose")
    assert code == 0, err
    assert [ln.split(" | ")[0] for ln in err.splitlines() if ln.startswith("backtest:")] \
        == ["backtest: origin 1/3", "backtest: origin 2/3", "backtest: origin 3/3"]
    assert out.startswith("backtest of ") and "origin 1/3" not in out
    assert cli._verbosity(cli.build_parser().parse_args(["backtest", *map(str, argv[1:]),
                                                          "--quiet"])) == 0
    assert cli._verbosity(cli.build_parser().parse_args([*map(str, argv)])) == 1


def test_ctrl_c_stops_the_command_and_writes_nothing(wave_csv, tmp_path, capsys, monkeypatch, run,
                                                     lstm_args):
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
        code, _, err = run(capsys, *lstm_args(wave_csv, "--epochs", 5, "--out", out_csv))
        assert code == 130 and err == "tsbptt: interrupted\n"
        assert not out_csv.exists()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_few_windows_counts_the_steps_after_fill(tmp_path, capsys, run, ridge_args):
    # forecast counted the rows of the file, not the steps --fill makes of them
    # (backtest counted the steps): 30 rows every other day are 59 daily steps
    times = pd.date_range("2024-01-01", periods=30, freq="2D")
    path = tmp_path / "sparse.csv"
    pd.DataFrame({"ts": times, "value": np.arange(30.0)}).to_csv(path, index=False)
    args = ridge_args(path)[:-4] + ("--model", "ridge", "--horizon", 1, "--freq", "D",
                                    "--fill", "interpolate")
    filled = "tsbptt: --fill interpolate filled 29 of the 59 steps\n"
    code, _, err = run(capsys, *args, "--lags", 12)
    assert code == 0 and err == filled  # 59 steps: 47 windows
    code, _, err = run(capsys, *args, "--lags", 30)
    assert code == 0
    assert err == filled + (f"tsbptt: warning: {path} has 59 steps, which give only 29 training "
                   "window(s) of --lags 30 + 1 step(s) to forecast; at least 36 are "
                   "advisable: use fewer --lags or more data\n")
    # most of the series made up: a warning (the time column is likely misread)
    thin = tmp_path / "thin.csv"
    pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=30, freq="3D"),
                  "value": np.arange(30.0)}).to_csv(thin, index=False)
    code, _, err = run(capsys, *ridge_args(thin)[:-4], "--model", "ridge", "--horizon", 1,
                       "--freq", "D", "--fill", "ffill", "--lags", 12)
    assert code == 0
    assert err == ("tsbptt: warning: --fill ffill filled 58 of the 88 steps: most of the "
                   "series is made up; are the times read right?\n")


def test_bounds_clip_the_forecasts_and_refuse_values_outside(tmp_path, capsys, run):
    # count data: the forecasts and lower bounds went below 0, with no flag to say
    # the series cannot
    from tsbptt import Forecaster
    from sklearn.linear_model import Ridge
    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=200, freq="D")
    y = pd.Series((rng.random(200) < 0.3) * rng.poisson(3, 200), index=idx, dtype=float,
                  name="sales")
    path = tmp_path / "sales.csv"
    pd.DataFrame({"time": idx, "sales": y}).to_csv(path, index=False)
    args = ("forecast", path, "--target", "sales", "--horizon", 7, "--lags", 14,
            "--model", "ridge", "--interval", 0.9)
    code, out, err = run(capsys, *args, "--bounds", 0, "none", "--out", tmp_path / "f.csv")
    assert code == 0, err
    got = pd.read_csv(tmp_path / "f.csv")
    python = Forecaster(Ridge(), lags=14, horizon=7, interval="conformal",
                        bounds=(0, None)).fit(y).predict_interval()
    np.testing.assert_allclose(got[["forecast", "lower", "upper"]].to_numpy(),
                               python.to_numpy(), rtol=1e-9)
    assert (got["lower"] == 0).any()
    code, _, err = run(capsys, *args, "--bounds", 1, "none")
    assert code == 2 and err.endswith(
        "the series has 0.0 at 2024-01-01 00:00:00, outside --bounds 1 none; give the "
        "--bounds the series keeps to, or leave them out\n")
    code, _, err = run(capsys, *args, "--bounds", 5, 1)
    assert code == 2 and err.endswith("error: --bounds 5 1: LOW must be below HIGH\n")
    code, _, err = run(capsys, *args, "--bounds", "x", 1)
    assert code == 2 and "argument --bounds: expected a number or none (e.g. --bounds 0 " \
                         "none), got 'x'" in err
    # none none is no bounds, as leaving the flag out (not a clipped-model file)
    code, out_none, err = run(capsys, *args, "--bounds", "none", "none")
    code2, out_free, _ = run(capsys, *args)
    assert code == code2 == 0 and out_none == out_free
    # --model auto and backtest take them too
    code, out, err = run(capsys, "forecast", path, "--target", "sales", "--horizon", 7,
                         "--model", "auto", "--bounds", 0, "none")
    assert code == 0, err
    code, out, err = run(capsys, "backtest", path, "--target", "sales", "--horizon", 7,
                         "--lags", 14, "--model", "ridge", "--bounds", 0, "none")
    assert code == 0, err
