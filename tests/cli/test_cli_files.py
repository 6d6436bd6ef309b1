"""Files as people write them, read by the ``tsbptt`` command: dates in any
one order (never mixed), time zones, unsorted or repeated times, integer steps,
separators and decimal commas, guessed time columns, gaps, empty or ragged files."""

import numpy as np
import pandas as pd


def _dated_csv(tmp_path, times, name="t.csv"):
    path = tmp_path / name
    pd.DataFrame({"ts": times, "value": np.sin(np.arange(len(times)))}).to_csv(
        path, index=False)
    return path


def test_day_first_dates_are_read_one_way_never_mixed(tmp_path, capsys, run, ridge_args):
    # pandas' per-value reading took 02/01/2024 as 1 February but 13/01/2024 as
    # 13 January: a daily file read as out of order; and when no day passed 12, as
    # monthly data with silently wrong forecast dates
    days = pd.date_range("2024-01-01", periods=20, freq="D")
    path = _dated_csv(tmp_path, days.strftime("%d/%m/%Y"))
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "2024-01-21"
    path = _dated_csv(tmp_path, days[:12].strftime("%d/%m/%Y"))
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "ambiguous: '02/01/2024' (line 3)" in err and "ISO 8601" in err
    # year first is never year-day-month: not ambiguous
    hours = pd.date_range("2024-01-05 01:00", periods=20, freq="h")
    path = _dated_csv(tmp_path, hours.strftime("%Y/%m/%d %I:%M %p"))
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-01-05", "21:00:00"]


def test_mixed_utc_offsets_are_named(tmp_path, capsys, run, ridge_args):
    path = _dated_csv(tmp_path, ["2024-03-31T00:00+01:00", "2024-03-31T01:00+01:00",
                                 "2024-03-31T03:00+02:00", "2024-03-31T04:00+02:00"])
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and err.count("\n") == 1
    assert "mixes time zones" in err and "has UTC offset +0100" in err
    assert "'2024-03-31T03:00+02:00' (line 4) has UTC offset +0200" in err
    # without --time-col the column is still found, and the same reason given (it
    # once said that no column read as dates)
    args = ("forecast", path, "--target", "value", "--horizon", 1, "--lags", 2,
            "--model", "ridge")
    code, _, guessed = run(capsys, *args)
    assert code == 2 and guessed == err


def test_unsorted_or_repeated_times_name_the_lines(tmp_path, capsys, run, ridge_args):
    days = list(pd.date_range("2024-01-01", periods=6, freq="D").strftime("%Y-%m-%d"))
    path = _dated_csv(tmp_path, days[:2] + [days[3], days[2]] + days[4:])
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and err.count("\n") == 1
    assert "'ts' is not sorted: 2024-01-03 00:00:00 (line 5) comes after 2024-01-04 " \
           "00:00:00 (line 4); sort the rows by time" in err
    path = _dated_csv(tmp_path, days[:3] + [days[2]] + days[3:])
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "2024-01-03 00:00:00 more than once (lines 4 and 5)" in err


def test_integral_float_time_column_is_an_integer_step(tmp_path, capsys, run, ridge_args):
    path = _dated_csv(tmp_path, np.arange(30) * 1.0)
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "30"


def test_calendar_and_freq_must_fit_the_kind_of_times(wave_csv, tmp_path, capsys, run, ridge_args):
    steps = _dated_csv(tmp_path, np.arange(30))
    code, _, err = run(capsys, *ridge_args(steps, "--calendar", "hour"))
    assert code == 2 and "--calendar hour needs dates, but time column 'ts' holds " \
        "integer steps" in err
    code, _, err = run(capsys, *ridge_args(steps, "--freq", "D"))
    assert code == 2 and "--freq D is a pandas frequency, but time column 'ts'" in err
    code, _, err = run(capsys, *ridge_args(wave_csv, "--freq", "3"))
    assert code == 2 and "--freq 3 is an integer step, but time column 'ts' holds " \
        "dates" in err


def test_fill_interpolates_a_missing_value(tmp_path, capsys, run):
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


def _semicolon_csv(tmp_path, n=60):
    """Hourly values with a decimal comma, fields separated by ';', a text column."""
    times = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M")
    values = np.round(10 + np.arange(n) * 0.5, 1)
    lines = ["when;load;note"] + [f"{t};{str(v).replace('.', ',')};x{i}"
                                  for i, (t, v) in enumerate(zip(times, values))]
    path = tmp_path / "semi.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, values


def test_sep_and_decimal_read_a_semicolon_file_with_decimal_commas(tmp_path, capsys, run,
                                                                   read_forecast):
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


def test_without_sep_or_decimal_the_error_says_which_flag(tmp_path, capsys, run):
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


def test_time_column_is_guessed_when_exactly_one_reads_as_dates(tmp_path, capsys, run):
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


def test_empty_file_and_bad_rows_name_the_file(tmp_path, capsys, run, ridge_args):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _, err = run(capsys, *ridge_args(empty))
    assert code == 2 and err == f"tsbptt: error: {empty} is empty: expected a header " \
        "line of column names, then one row per time\n"
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("ts,value\n2024-01-01,1\n2024-01-02,2,7\n")
    code, _, err = run(capsys, *ridge_args(ragged))
    assert code == 2 and f"cannot read {ragged} as CSV with --sep ','" in err
    assert "line 3" in err and err.count("\n") == 1
    # an error from inside the file names the file too
    code, _, err = run(capsys, *ridge_args(tmp_path / "nope.csv"))
    assert code == 2 and "file not found" in err
    unsorted = tmp_path / "unsorted.csv"
    unsorted.write_text("ts,value\n2024-01-02,1\n2024-01-01,2\n2024-01-03,3\n")
    code, _, err = run(capsys, *ridge_args(unsorted))
    assert code == 2 and err.startswith(f"tsbptt: error: {unsorted}: time column 'ts' "
                                        "is not sorted")


def test_a_huge_cell_is_quoted_cut_to_80_characters(tmp_path, capsys, run, ridge_args):
    path = tmp_path / "huge.csv"
    path.write_text("ts,value\n2024-01-01,1\n2024-01-02," + "9x" * 50_000 + "\n")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and err.count("\n") == 1
    quoted = err.split("not numeric: ", 1)[1].split(" (100002 characters)")[0]
    assert quoted == "'" + "9x" * 38 + "..."
    assert len(quoted) == 80 and len(err) < 300
