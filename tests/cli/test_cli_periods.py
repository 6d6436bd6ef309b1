"""Period labels in the time column (2020Q1, 2020-01, 1990, pandas' weeks): read
as a PeriodIndex, of --freq's anchor where given (Q-MAR: fiscal quarters), the
forecasts written back as labels of the same form, with the values the Python
API gives for the same series and settings."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import Forecaster

N = 48


def _values(n=N):
    """A trend, a four-step season and noise: what a ridge forecast tells apart."""
    t = np.arange(n)
    return (100 + t + 5 * np.sin(t * np.pi / 2)
            + np.random.default_rng(0).normal(0, 1, n)).round(4)


def _csv(tmp_path, labels, name="periods.csv", column="period", values=None):
    values = _values(len(labels)) if values is None else values
    path = tmp_path / name
    pd.DataFrame({column: list(labels), "value": values}).to_csv(path, index=False)
    return path


def _forecast(run, capsys, path, *extra, horizon=3, lags=8, column=None):
    """``tsbptt forecast`` of ``path`` by ridge, its CSV on stdout (labels as text)."""
    time_col = ("--time-col", column) if column else ()
    code, out, err = run(capsys, "forecast", path, *time_col, "--target", "value",
                         "--horizon", horizon, "--lags", lags, "--model", "ridge",
                         "--out", "-", *extra)
    assert code == 0, err
    frame = pd.read_csv(pd.io.common.StringIO(out), dtype={"time": str})
    return frame, err


def _api(index, *, horizon=3, lags=8, **kwargs):
    """The Python API's ridge forecast of ``_values`` on ``index`` (a PeriodIndex)."""
    y = pd.Series(_values(len(index)), index=index, name="value")
    return Forecaster(Ridge(alpha=1.0), lags=lags, horizon=horizon, **kwargs).fit(y).predict()


def test_calendar_quarters_come_back_as_quarters(tmp_path, capsys, run):
    # pandas' own labels of a PeriodIndex (astype(str)), as a macro-economist's file
    # has them: read as timestamps, the forecasts were 2012-01-01, 2012-04-01
    index = pd.period_range("2000Q1", periods=N, freq="Q")
    path = _csv(tmp_path, index.astype(str))
    got, err = _forecast(run, capsys, path)  # the time column guessed
    assert list(got["time"]) == ["2012Q1", "2012Q2", "2012Q3"]
    expected = _api(index)
    assert list(expected.index.astype(str)) == list(got["time"])
    np.testing.assert_allclose(got["forecast"], expected.to_numpy(), rtol=1e-12)
    # the season of quarters, said in pandas' period alias
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                       "--model", "naive")
    assert code == 0 and "season 4 (from the time step Q-DEC;" in err


def test_fiscal_quarters_by_freq_anchor(tmp_path, capsys, run):
    # fiscal 2020Q1 of a year ending in March is April to June 2019: the labels are
    # read in that calendar, and calendar features see April, not January (the day
    # of the year: months and quarters are cyclical features, and a shift by one
    # quarter is a rotation of theirs, which a ridge fit does not see)
    index = pd.period_range("2008Q1", periods=N, freq="Q-MAR")
    path = _csv(tmp_path, index.astype(str))
    got, _ = _forecast(run, capsys, path, "--freq", "Q-MAR", "--calendar", "dayofyear")
    assert list(got["time"]) == ["2020Q1", "2020Q2", "2020Q3"]
    expected = _api(index, calendar=["dayofyear"])
    assert expected.index.freqstr == "Q-MAR"
    assert expected.index[0].start_time == pd.Timestamp("2019-04-01")
    np.testing.assert_allclose(got["forecast"], expected.to_numpy(), rtol=1e-12)
    # the same labels as calendar quarters forecast other values (other months)
    calendar, _ = _forecast(run, capsys, path, "--calendar", "dayofyear")
    assert list(calendar["time"]) == ["2020Q1", "2020Q2", "2020Q3"]
    expected_calendar = _api(pd.PeriodIndex(index.astype(str), freq="Q-DEC"),
                             calendar=["dayofyear"])
    np.testing.assert_allclose(calendar["forecast"], expected_calendar.to_numpy(),
                               rtol=1e-12)
    assert not np.allclose(calendar["forecast"], got["forecast"])
    # pandas' hint for the offset alias (QE-MAR) reads the same periods
    same, _ = _forecast(run, capsys, path, "--freq", "QE-MAR", "--calendar",
                        "dayofyear")
    pd.testing.assert_frame_equal(same, got)


@pytest.mark.parametrize("freq, write, expected", [
    ("Q", lambda p: f"{p.qyear}-Q{p.quarter}", ["2012-Q1", "2012-Q2"]),
    ("Q", lambda p: f"{p.qyear}q{p.quarter}", ["2012q1", "2012q2"]),
    ("Q", lambda p: f"{p.qyear} Q{p.quarter}", ["2012 Q1", "2012 Q2"]),
    ("M", lambda p: f"{p.year}/{p.month:02d}", ["2009/01", "2009/02"]),
    ("M", lambda p: f"{p.year}-{p.month}", ["2009-1", "2009-2"]),
])
def test_labels_keep_their_form(tmp_path, capsys, run, freq, write, expected):
    index = pd.period_range("2000Q1" if freq == "Q" else "2005-01", periods=N, freq=freq)
    path = _csv(tmp_path, [write(p) for p in index])
    got, _ = _forecast(run, capsys, path, horizon=2)
    assert list(got["time"]) == expected
    np.testing.assert_allclose(got["forecast"], _api(index, horizon=2).to_numpy(),
                               rtol=1e-12)


def test_months_come_back_as_months(tmp_path, capsys, run):
    # 2005-01 came back as 2009-01-01: the form changed
    index = pd.period_range("2005-01", periods=N, freq="M")
    path = _csv(tmp_path, index.astype(str))
    got, _ = _forecast(run, capsys, path)
    assert list(got["time"]) == ["2009-01", "2009-02", "2009-03"]
    np.testing.assert_allclose(got["forecast"], _api(index).to_numpy(), rtol=1e-12)
    for freq in ("M", "ME", "MS"):  # a month is a month, however the step is named
        same, _ = _forecast(run, capsys, path, "--freq", freq)
        pd.testing.assert_frame_equal(same, got)
    # written to a file, and said on stderr, in the same form
    out = tmp_path / "forecast.csv"
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 3,
                       "--lags", 8, "--model", "ridge", "--out", out)
    assert code == 0, err
    assert out.read_text().splitlines()[:2] == ["time,forecast",
                                                f"2009-01,{float(got['forecast'][0])!r}"]
    assert "3 forecasts of 'value', 2009-01 .. 2009-03" in err


def test_years_come_back_as_years(tmp_path, capsys, run):
    years = np.arange(1970, 1970 + N)
    path = _csv(tmp_path, years, column="year")
    for column in ("year", None):  # named, or the only column like a time
        got, _ = _forecast(run, capsys, path, column=column)
        assert list(got["time"]) == ["2018", "2019", "2020"]
        index = pd.PeriodIndex(years.astype(str), freq="Y")
        np.testing.assert_allclose(got["forecast"], _api(index).to_numpy(), rtol=1e-12)
    # a fiscal year by --freq; an integer step keeps integer steps (as before)
    for freq in ("Y-MAR", "1"):
        got, _ = _forecast(run, capsys, path, "--freq", freq, column="year")
        assert list(got["time"]) == ["2018", "2019", "2020"]
    # --calendar reads the years (integer steps have none)
    got, _ = _forecast(run, capsys, path, "--calendar", "month")
    assert list(got["time"]) == ["2018", "2019", "2020"]
    # years with gaps, or integers that are no years, stay integer steps
    path = _csv(tmp_path, np.arange(1970, 1970 + 2 * N, 2), name="every2.csv", column="year")
    got, _ = _forecast(run, capsys, path, column="year")
    assert list(got["time"]) == ["2066", "2068", "2070"]



def test_integers_like_years_are_guessed_as_the_time_column_only_when_named_so(
        tmp_path, capsys, run):
    # serial numbers 1500, 1501, ... beside a step column were guessed for the
    # time column and read as years, silently (it was an error before)
    path = tmp_path / "serial.csv"
    pd.DataFrame({"t": np.arange(1, N + 1), "serial": np.arange(1500, 1500 + N),
                  "value": _values(N)}).to_csv(path, index=False)
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                       "--model", "ridge", "--lags", 4)
    assert code == 2 and "--time-col is required" in err
    for name in ("Year", "fiscal_year", "Jahr"):
        named = _csv(tmp_path, np.arange(1970, 1970 + N), name=f"{name}.csv", column=name)
        got, _ = _forecast(run, capsys, named)
        assert list(got["time"]) == ["2018", "2019", "2020"]
    # named explicitly, steps 1500, 1501, ... of a column not named as years stay
    # integer steps, as before periods (--calendar was refused, and is)
    got, err = _forecast(run, capsys, path, column="serial")
    assert list(got["time"]) == ["1548", "1549", "1550"] and "Y-DEC" not in err
    code, _, err = run(capsys, "forecast", path, "--time-col", "serial", "--target",
                       "value", "--horizon", 1, "--model", "ridge", "--lags", 4,
                       "--calendar", "month")
    assert code == 2 and "--calendar month needs dates, but time column 'serial' holds " \
                         "integer steps" in err


@pytest.mark.parametrize("freq", ["W-SUN", "W-SAT"])
def test_pandas_weeks_come_back_as_weeks(tmp_path, capsys, run, freq):
    index = pd.period_range("2020-01-06", periods=N, freq=freq)
    path = _csv(tmp_path, index.astype(str))
    got, _ = _forecast(run, capsys, path)
    expected = _api(index)
    assert list(got["time"]) == list(expected.index.astype(str))
    assert got["time"][0] == str(index[-1] + 1)
    np.testing.assert_allclose(got["forecast"], expected.to_numpy(), rtol=1e-12)


def test_full_dates_stay_dates(tmp_path, capsys, run):
    # the end of each quarter as a date: a time, not a quarter
    days = pd.date_range("2000-03-31", periods=N, freq="QE-MAR")
    path = _csv(tmp_path, days.strftime("%Y-%m-%d"))
    got, _ = _forecast(run, capsys, path)
    assert list(got["time"]) == ["2012-03-31", "2012-06-30", "2012-09-30"]


def test_periods_with_future_rows_gaps_and_backtest(tmp_path, capsys, run):
    index = pd.period_range("2000Q1", periods=N + 2, freq="Q")
    path = tmp_path / "plan.csv"
    values = list(_values()) + [None, None]
    pd.DataFrame({"q": index.astype(str), "value": values,
                  "plan": np.arange(N + 2) * 1.0}).to_csv(path, index=False)
    got, _ = _forecast(run, capsys, path, "--future-exog", "plan", horizon=2)
    assert list(got["time"]) == ["2012Q1", "2012Q2"]
    # a gap is named in labels, and filled where asked
    gap = _csv(tmp_path, np.delete(index[:N].astype(str), 10), name="gap.csv",
               values=np.delete(_values(), 10))
    code, _, err = run(capsys, "forecast", gap, "--target", "value", "--horizon", 1,
                       "--model", "naive")
    # (the library's message named neither the file nor the line, and lost the
    # advice to resample)
    assert code == 2 and err == (
        f"tsbptt: error: {gap}: time column 'period' is not regular: 2002Q4 (line 12) "
        "comes after 2002Q2 (line 11), a gap (2002Q3 is missing); pass --fill "
        "interpolate or --fill ffill to fill gaps, or resample first\n")
    got, _ = _forecast(run, capsys, gap, "--fill", "interpolate")
    assert list(got["time"]) == ["2012Q1", "2012Q2", "2012Q3"]
    code, out, err = run(capsys, "backtest", gap, "--target", "value", "--horizon", 2,
                         "--model", "ridge", "--lags", 8, "--fill", "ffill")
    assert code == 0, err
    assert "origin(s) from 2009Q2 to" in out


def test_repeated_or_unsorted_periods_name_the_lines(tmp_path, capsys, run):
    for labels, words in ((["2020Q1", "2020Q2", "2020Q2", "2020Q3"],
                           "time column 'q' has 2020Q2 more than once (lines 3 and 4); "
                           "keep one row per time (sum or average the duplicates)"),
                          (["2020Q1", "2020Q3", "2020Q2", "2020Q4"],
                           "time column 'q' is not sorted: 2020Q2 (line 4) comes after "
                           "2020Q3 (line 3); sort the rows by time")):
        path = _csv(tmp_path, labels, column="q")
        code, out, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                             "--model", "naive")
        assert code == 2 and out == "" and err == f"tsbptt: error: {path}: {words}\n"


def test_freq_errors_name_the_fix(tmp_path, capsys, run):
    quarters = _csv(tmp_path, pd.period_range("2000Q1", periods=N, freq="Q").astype(str),
                    column="q")
    months = _csv(tmp_path, pd.period_range("2005-01", periods=N, freq="M").astype(str),
                  name="months.csv", column="m")
    weeks = _csv(tmp_path, pd.period_range("2020-01-06", periods=N, freq="W").astype(str),
                 name="weeks.csv", column="w")
    years = _csv(tmp_path, np.arange(1970, 1970 + N), name="years.csv", column="year")
    days = _csv(tmp_path, pd.date_range("2000-01-01", periods=N, freq="QS").strftime(
        "%Y-%m-%d"), name="days.csv", column="d")

    def error(path, *extra):
        code, out, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                             "--model", "naive", *extra)
        assert code == 2 and out == "" and err.count("\n") == 1
        return err.removeprefix(f"tsbptt: error: {path}: ").removeprefix(
            "tsbptt: error: ").rstrip("\n")

    quarter_fix = ("give --freq Q-DEC (calendar quarters) or a fiscal year's, e.g. Q-MAR "
                   "for years that end in March, or leave it out")
    assert error(quarters, "--freq", "M") == (
        "--freq M contradicts the labels: time column 'q' holds quarters, e.g. '2000Q1' "
        f"(line 2); {quarter_fix}")
    assert error(quarters, "--freq", "QS-APR") == (
        "--freq QS-APR is no period frequency (for Period, please use 'Q-MAR' instead of "
        "'QS-APR'), which the labels need: time column 'q' holds quarters, e.g. '2000Q1' "
        f"(line 2); {quarter_fix}")
    assert error(quarters, "--freq", "2Q").startswith(
        "--freq 2Q is a multiple of a period, but time column 'q' holds quarters")
    assert error(quarters, "--freq", "1") == (
        "--freq 1 is an integer step, but time column 'q' holds quarters (2000Q1 ..): give "
        "their period frequency, e.g. --freq Q-DEC, or leave it out")
    assert error(quarters, "--tz", "UTC") == (
        "--tz UTC needs times of day, but time column 'q' holds quarters, which have no "
        "time zone: leave out --tz")
    assert error(months, "--freq", "Q-MAR") == (
        "--freq Q-MAR contradicts the labels: time column 'm' holds months, e.g. "
        "'2005-01' (line 2); give --freq M, or leave it out")
    assert error(weeks, "--freq", "W-SAT") == (
        "--freq W-SAT contradicts the labels: time column 'w' holds weeks that end on a "
        "Sunday, e.g. '2020-01-06/2020-01-12' (line 2); give --freq W-SUN, or leave it out")
    assert error(years, "--freq", "Q") == (
        "--freq Q contradicts the labels: time column 'year' holds years, e.g. '1970' (line "
        "2); give --freq Y-DEC (calendar years) or a fiscal year's, e.g. Y-MAR for years "
        "that end in March, or leave it out")
    # a period alias for dates: the dates' own step (pandas' name for the alias,
    # QE-MAR, was then refused for quarter starts)
    assert error(days, "--freq", "Q-MAR") == (
        "--freq Q-MAR is a period frequency, for period labels (2020Q1, 2020-01, 1990), "
        "but time column 'd' holds dates (2000-01-01 ..), which step by pandas' offsets: "
        "give --freq QS-JAN (their step), or leave it out")
    # neither kind (pandas 3): pandas' hint, before the file is read; pandas 2.2
    # still reads the lowercase alias as a period's, which dates then refuse
    if int(pd.__version__.split(".")[0]) >= 3:
        assert error(days, "--freq", "q-mar") == (
            "--freq 'q-mar' is neither a pandas frequency (e.g. h, D, W, MS, 15min; for "
            "period labels such as 2020Q1 also Q-DEC, Q-MAR, M, Y-DEC) nor an integer "
            "step ('q-mar' is no longer supported for offsets. Please use 'QE-MAR' "
            "instead.)")
        assert error(days, "--freq", "A").endswith("nor an integer step (Did you mean Y?)")
    else:
        for alias in ("q-mar", "A"):
            assert error(days, "--freq", alias).startswith(
                f"--freq {alias} is a period frequency, for period labels")


def test_period_freq_and_parse_times_by_type():
    from tsbptt.cli import _data

    assert _data.period_freq("Q-MAR")[0] == pd.PeriodDtype("Q-MAR").freq
    assert _data.period_freq("QE-MAR")[0] == pd.PeriodDtype("Q-MAR").freq
    assert _data.period_freq("QS")[0] == pd.PeriodDtype("Q-DEC").freq
    assert _data.period_freq("YS")[0] == pd.PeriodDtype("Y-DEC").freq
    assert _data.period_freq("QS-APR") == (
        None, " (for Period, please use 'Q-MAR' instead of 'QS-APR')")
    assert not _data.is_period_freq("xyz")
    index = _data.parse_times(pd.Series(["2020Q1", "2020Q2"]), "q", freq="Q-MAR")
    assert isinstance(index, pd.PeriodIndex) and index.freqstr == "Q-MAR"
    assert index[0].start_time == pd.Timestamp("2019-04-01")
    dates = _data.parse_times(pd.Series(["2020-03-31", "2020-06-30"]), "d")
    assert isinstance(dates, pd.DatetimeIndex)
    steps = _data.parse_times(pd.Series([1990, 1991]), "y", freq="1")
    assert not isinstance(steps, pd.PeriodIndex) and list(steps) == [1990, 1991]
    with pytest.raises(_data.UsageError, match="contradicts the labels"):
        _data.parse_times(pd.Series(["2020-01", "2020-02"]), "m", freq="Q")
    # months out of range are no months: read (and refused) as times, by line
    with pytest.raises(_data.UsageError, match=r"cannot read '2020-13' \(line 3\)"):
        _data.parse_times(pd.Series(["2020-12", "2020-13"]), "m")
