"""The ``tsbptt`` command's errors: one line naming the flag or the file, exit
code 2 for a user's mistake and 1 for a bug, --debug re-raising, flags
range-checked before any work starts."""

import json

import numpy as np
import pandas as pd
import pytest

from tsbptt.cli import _main as cli


@pytest.fixture
def bad_files(tmp_path):
    files = {"baddate": "ts,value\n2024-01-01,1\n2024-01-02,2\nnot a date,3\n",
             "badnum": "ts,value\n2024-01-01,1\n2024-01-02,oops\n2024-01-03,3\n",
             "unsorted": "ts,value\n2024-01-02,1\n2024-01-01,2\n2024-01-03,3\n"
                         "2024-01-04,4\n",
             "trailing": "ts,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n"
                         "2024-01-04,\n",
             "nofuture": "ts,value,plan\n2024-01-01,1,0\n2024-01-02,2,1\n2024-01-03,3,0\n"}
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text)
    (tmp_path / "bad.json").write_text(json.dumps({"hidden_size": 4, "bogus": 1}))
    return tmp_path


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
    ("future_exog_of_a_dataset", "--future-exog temperature_c cannot be used with --dataset"),
])
def test_user_errors_are_one_line_with_exit_code_2(case, expected, bad_files, wave_csv, capsys, run,
                                                   ridge_args, lstm_args):
    d = bad_files
    argv = {
        "missing_file": ridge_args(d / "nope.csv"),
        "missing_target": ridge_args(wave_csv, target="sales"),
        "missing_time": ridge_args(wave_csv, time_col="when"),
        "baddate": ridge_args(d / "baddate.csv"),
        "badnum": ridge_args(d / "badnum.csv"),
        "unsorted": ridge_args(d / "unsorted.csv"),
        "horizon": ("forecast", wave_csv, "--time-col", "ts", "--target", "value",
                    "--horizon", 400, "--lags", 200, "--model", "ridge"),
        "config": lstm_args(wave_csv, "--config", d / "bad.json"),
        "validation": ("forecast", wave_csv, "--time-col", "ts", "--target", "value",
                       "--horizon", 1, "--lags", 12, "--model", "naive", "--season", 24),
        "flag_for_other_model": ridge_args(wave_csv, "--hidden-size", 8),
        "trailing": ridge_args(d / "trailing.csv"),
        "no_input": ("forecast", "--horizon", 1, "--lags", 2),
        "unknown_dataset": ("backtest", "--dataset", "sensor_temperatures", "--horizon", 1,
                            "--lags", 2),
        "future_rows_missing": ridge_args(d / "nofuture.csv", "--future-exog", "plan"),
        # a bundled dataset has no rows after its last target value
        "future_exog_of_a_dataset": ("forecast", "--dataset", "electricity_load",
                                     "--future-exog", "temperature_c", "--horizon", 4,
                                     "--lags", 8, "--model", "ridge"),
    }[case]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("tsbptt: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert expected in err


def test_usage_errors_exit_with_code_2(wave_csv, capsys, run, ridge_args):
    # the time column is guessed and --lags inferred, but --target must be named
    code, _, err = run(capsys, "forecast", wave_csv, "--horizon", 1)
    assert code == 2 and "--target is required with a FILE" in err
    code, _, err = run(capsys, "forecast", wave_csv, "--dataset", "air_passengers",
                       "--horizon", 1, "--lags", 2)
    assert code == 2 and "not allowed" in err
    code, _, err = run(capsys, *ridge_args(wave_csv, "--interval", 1.5))
    assert code == 2 and "between 0 and 1" in err


def test_debug_reraises(bad_files, capsys, ridge_args):
    with pytest.raises(ValueError, match="file not found"):
        cli.main(["--debug", *map(str, ridge_args(bad_files / "nope.csv"))])
    with pytest.raises(ValueError, match="'not a date'"):
        cli.main([*map(str, ridge_args(bad_files / "baddate.csv")), "--debug"])


def test_unexpected_errors_exit_with_code_1(monkeypatch, capsys, run):
    def boom(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_datasets", boom)
    code, _, err = run(capsys, "datasets")
    assert code == 1
    assert err.startswith("tsbptt: error: RuntimeError: boom") and err.count("\n") == 1
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["--debug", "datasets"])


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
def test_numeric_flags_are_range_checked_in_one_line(flag, value, words, wave_csv, capsys, run):
    argv = ["forecast", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 1,
            "--lags", 2, flag, value]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err == f"tsbptt forecast: error: argument {flag}: {words}" + \
        err.split(words, 1)[1]
    assert err.count("\n") == 1 and repr(value) in err
    assert err.endswith("(see `tsbptt forecast --help`)\n")


def test_alpha_and_dropout_accept_zero(wave_csv, capsys, run, ridge_args):
    code, _, err = run(capsys, *ridge_args(wave_csv, "--alpha", "0"))
    assert code == 0, err


def test_flag_errors_are_one_line_with_a_pointer_to_help(capsys, run):
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


def test_plot_and_out_paths_are_checked_before_fitting(wave_csv, tmp_path, capsys, run, ridge_args):
    pytest.importorskip("matplotlib")
    out_csv = tmp_path / "f.csv"
    code, _, err = run(capsys, *ridge_args(wave_csv, "--out", out_csv, "--plot",
                                       tmp_path / "f.foo"))
    assert code == 2 and "--plot" in err and "'.foo'" in err and ".png" in err
    assert not out_csv.exists()  # nothing written before the error
    code, _, err = run(capsys, *ridge_args(wave_csv, "--out", tmp_path))
    assert code == 2 and f"--out {tmp_path} is a folder" in err
    # no extension: a PNG under the very name the message gives
    png = tmp_path / "plot"
    code, out, err = run(capsys, *ridge_args(wave_csv, "--plot", png))
    assert code == 0, err
    assert f"tsbptt: wrote {png}\n" in err and png.read_bytes().startswith(b"\x89PNG")
    assert "wrote" not in out  # stdout holds the forecasts alone


def test_bad_freq_names_the_flag(wave_csv, capsys, run, ridge_args):
    code, _, err = run(capsys, *ridge_args(wave_csv, "--freq", "xyz"))
    assert code == 2 and err.startswith("tsbptt: error: --freq 'xyz' is neither")


def test_backtest_initial_errors_name_the_flag(wave_csv, capsys, run, wave_hours):
    args = ("backtest", wave_csv, "--time-col", "ts", "--target", "value", "--horizon", 6,
            "--model", "ridge")
    code, _, err = run(capsys, *args, "--lags", 24, "--initial", 5)
    assert code == 2
    assert "--initial 5 is too short for --lags 24 and --horizon 6: it needs at least " \
           "30 steps" in err
    code, _, err = run(capsys, *args, "--lags", 24, "--initial", wave_hours - 1)
    assert code == 2 and f"--initial {wave_hours - 1} leaves no room" in err
    code, _, err = run(capsys, *args, "--lags", 400)
    assert code == 2 and "the first fit (384 steps, 80% of the series; set it with " \
        "--initial) is too short for --lags 400" in err


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


def test_library_errors_are_in_the_command_lines_words(tmp_path, capsys, run, ridge_args):
    gap = tmp_path / "gap.csv"
    gap.write_text("ts,value\n" + "".join(
        f"2024-01-01 {h:02d}:00,{h}\n" for h in (0, 1, 2, 5, 6, 7, 8)))
    code, _, err = run(capsys, *ridge_args(gap))
    assert code == 2
    assert err == ("tsbptt: error: the time column is not regular at frequency h: "
                   "2024-01-01 05:00:00 where 2024-01-01 03:00:00 was expected (a gap); "
                   "pass --fill interpolate or --fill ffill to fill gaps, or resample "
                   "first\n")  # no warning about few windows: the data was refused
    off = tmp_path / "off.csv"
    off.write_text("ts,value\n" + "".join(
        f"2024-01-01 {t},{i}\n" for i, t in enumerate(
            ["00:00", "01:00", "02:30", "03:00", "04:00", "05:00", "06:00"])))
    code, _, err = run(capsys, *ridge_args(off, "--fill", "ffill", "--freq", "h"))
    assert code == 2 and err == ("tsbptt: error: the series has a timestamp off its Hour "
                                 "grid: 2024-01-01 02:30:00; resample it first\n")


@pytest.mark.parametrize("flag", ["--alpha", "--dropout"])
@pytest.mark.parametrize("text", ["0", "0.0", "0.00", ".0", "0e0", "-0"])
def test_alpha_and_dropout_read_zero_in_any_spelling(flag, text):
    # only "0" and "0.0" were taken: 0.00 was "expected a penalty >= 0, got '0.00'"
    args = cli.build_parser().parse_args(["forecast", "x.csv", "--horizon", "1", flag, text])
    value = getattr(args, flag[2:])
    assert value == 0.0 and str(value) == "0.0"


def test_alpha_below_zero_is_still_refused(wave_csv, capsys, run, ridge_args):
    code, _, err = run(capsys, *ridge_args(wave_csv, "--alpha=-1e-3"))
    assert code == 2 and "argument --alpha: expected a penalty >= 0, e.g. 1.0, got " \
        "'-1e-3'" in err
    code, _, err = run(capsys, *ridge_args(wave_csv, "--alpha", "0e0"))
    assert code == 0, err


@pytest.mark.parametrize("command", ["forecast", "backtest"])
@pytest.mark.parametrize("flag", ["--exog", "--future-exog"])
def test_a_file_after_a_list_flag_is_said_to_go_first(command, flag, wave_csv, capsys, run):
    # --exog took FILE.csv as a column: the error said "give a FILE.csv"
    code, _, err = run(capsys, command, "--target", "value", flag, "ts", wave_csv,
                       "--horizon", 1)
    assert code == 2 and err == (
        f"tsbptt: error: {flag} ts {wave_csv}: {str(wave_csv)!r} was read as a column of "
        f"{flag}, which takes every value up to the next flag, so no FILE.csv was given; "
        f"put FILE.csv before {flag}, e.g. right after `tsbptt {command}` (or end the "
        "list with -- when FILE.csv comes last)\n")
    # as said: the file first, or -- after the list
    code, _, err = run(capsys, command, "--target", "value", "--horizon", 1, "--lags", 2,
                       "--model", "ridge", flag, "nope", "--", wave_csv)
    assert code == 2 and f"{wave_csv} has no column 'nope'" in err


def test_a_file_after_calendar_is_said_to_go_first(wave_csv, capsys, run):
    code, _, err = run(capsys, "forecast", "--target", "value", "--calendar", "hour",
                       wave_csv, "--horizon", 1)
    assert code == 2
    assert err.startswith(f"tsbptt forecast: error: argument --calendar: invalid choice: "
                          f"{str(wave_csv)!r} (choose from ")
    assert err.endswith(f"; {str(wave_csv)!r} is a file: put FILE.csv before --calendar, "
                        "e.g. right after `tsbptt forecast` (or end the list with -- when "
                        "FILE.csv comes last) (see `tsbptt forecast --help`)\n")
    code, _, err = run(capsys, "forecast", wave_csv, "--calendar", "weekday", "--horizon", 1)
    assert code == 2 and "is a file" not in err  # a mistyped feature: no such hint


@pytest.fixture
def sales_csv(tmp_path):
    """40 days of sales and temperature; its last 2 rows give only the temperature."""
    days = pd.date_range("2024-01-01", periods=42, freq="D").strftime("%Y-%m-%d")
    sales = [f"{10 + i % 7}" for i in range(40)] + ["", ""]
    path = tmp_path / "sales.csv"
    path.write_text("date,sales,temp\n" + "".join(
        f"{d},{s},{20 + i % 5}\n" for i, (d, s) in enumerate(zip(days, sales))))
    return path


def test_library_errors_name_flags_not_parameters(sales_csv, tmp_path, capsys, run):
    def forecast(path, *flags):
        code, out, err = run(capsys, "forecast", path, "--target", "sales", "--model",
                             "ridge", *flags)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert "=" not in err, err
        return err.removeprefix("tsbptt: error: ").rstrip("\n")

    known = tmp_path / "known.csv"  # without the future rows
    known.write_text("".join(sales_csv.read_text().splitlines(keepends=True)[:-2]))
    err = forecast(known, "--exog", "temp", "--strategy", "recursive", "--horizon", 2,
                   "--lags", 7)
    assert err.endswith("past-only covariates ['temp']; use --strategy direct, or give "
                        "them to --future-exog if they are known in advance")
    assert forecast(sales_csv, "--future-exog", "temp", "--horizon", 30, "--lags", 14) == (
        "--future-exog temp: the data gives 2 row(s) after the last target value, "
        "--horizon 30 needs 30: append one row per forecast step with the target empty "
        "and the future-known columns filled")
    short = tmp_path / "short.csv"
    short.write_text("date,sales\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 11)))
    assert forecast(short, "--horizon", 3, "--lags", 14) == (
        "the series has 10 steps, too short for --lags 14 and --horizon 3 (needs at least "
        "17)")
    assert forecast(short, "--horizon", 1, "--lags", 3, "--season", 7, "--model",
                    "naive") == "--lags 3 is fewer than --season 7: use --lags 7 or more"
    lead = tmp_path / "lead.csv"
    lead.write_text("date,sales\n2024-01-01,\n" + "".join(
        f"2024-01-{d:02d},{d}\n" for d in range(2, 21)))
    assert forecast(lead, "--horizon", 1, "--lags", 2, "--fill", "ffill") == (
        "column 'sales' starts with missing values, which cannot be filled from the past; "
        "drop them")
    # the future rows skip a forecast step
    gap = tmp_path / "gap.csv"
    gap.write_text(sales_csv.read_text().replace("2024-02-11,,", "2024-02-12,,")
                   .replace("2024-02-10,,", "2024-02-11,,"))
    assert forecast(gap, "--future-exog", "temp", "--horizon", 2, "--lags", 3) == (
        "the future rows of the file (--future-exog) do not cover the forecast steps: "
        "missing [2024-02-10 00:00:00]")
    # a multiple of a step, as --freq spells it
    odd = tmp_path / "odd.csv"
    odd.write_text("date,sales\n" + "".join(
        f"2024-01-{d:02d},{d}\n" for d in [1, 3, 5, 6, 7, 9, 11, 13, 15, 17]))
    assert forecast(odd, "--horizon", 1, "--lags", 2, "--fill", "ffill", "--freq",
                    "2D") == ("the series has a timestamp off its 2D grid: 2024-01-06 "
                              "00:00:00; resample it first")


def test_interval_and_freq_errors_speak_in_flags(tmp_path, capsys, run, ridge_args):
    # they said "a larger calibration fraction" (no flag sets it) and
    # "freq='D', or leave freq=None"
    path = tmp_path / "short.csv"
    pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=40, freq="D"),
                  "value": np.sin(np.arange(40.0))}).to_csv(path, index=False)
    code, _, err = run(capsys, *ridge_args(path, "--interval", 0.9))
    assert code == 2 and err.endswith("8 held-back origins, 9 needed; use a longer "
                                      "series, or leave out --interval\n")
    code, _, err = run(capsys, *ridge_args(path, "--freq", "W"))
    assert code == 2 and "the grid of --freq W" in err
    assert err.endswith("pass the index's own frequency, --freq D, or leave out --freq\n")


def test_a_target_of_dates_is_named_as_such(tmp_path, capsys, run):
    # it said "--time-col is required: none of its columns reads as dates"
    path = tmp_path / "t.csv"
    path.write_text("date,sales\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-04,4\n")
    code, _, err = run(capsys, "forecast", path, "--target", "date", "--model", "naive",
                       "--horizon", 1)
    assert code == 2 and err.endswith(
        "--target 'date' is the column of dates: name the column of values to forecast "
        f"with --target (the others of {path}: ['sales'])\n")


def test_warnings_speak_in_flags_too(tmp_path, capsys, run):
    # backtest's undefined MASE said "metrics['mase'] is nan", the Python API's words
    path = tmp_path / "zeros.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=120, freq="D"),
                  "sales": np.zeros(120)}).to_csv(path, index=False)
    code, out, err = run(capsys, "backtest", path, "--target", "sales", "--horizon", 7,
                         "--model", "ridge")
    assert code == 0, err
    assert ("tsbptt: warning: MASE is undefined: the seasonal naive forecast (--season 7) "
            "is exact on the first --initial steps") in err
    assert err.rstrip().endswith("; its MASE column shows NaN") and "metrics[" not in err


def test_auto_too_short_for_its_interval_speaks_in_flags(tmp_path, capsys, run):
    path = tmp_path / "short.csv"
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=60, freq="h"),
                  "load": np.random.default_rng(0).normal(size=60)}).to_csv(path, index=False)
    code, _, err = run(capsys, "forecast", path, "--target", "load", "--horizon", 6,
                       "--model", "auto", "--interval", 0.9)
    assert code == 2
    assert "too short to backtest 9 origins of --horizon 6" in err
    assert "n_origins" not in err and "Forecaster" not in err
    assert err.rstrip().endswith("give a longer series or a shorter horizon, or another "
                                 "--model; or a lower --interval (0.9 needs 9 backtest "
                                 "origins)")
