"""Period labels in the other forms files write them (Jan-2010, 01/2010, 2010 JAN,
2010M01, Q1 2000, ISO weeks 2018-W01) read as periods and written back alike; a
year and its quarter in two columns; the messages about periods in the file's own
form, with their lines; years from Excel (1960.0) and years with a gap; and --freq
period aliases for dates answered with the dates' own step."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import Forecaster

N = 48


def _values(n=N):
    t = np.arange(n)
    return (100 + t + 5 * np.sin(t * np.pi / 2)
            + np.random.default_rng(0).normal(0, 1, n)).round(4)


def _csv(tmp_path, labels, name="periods.csv", column="period", values=None, **more):
    values = _values(len(labels)) if values is None else values
    path = tmp_path / name
    pd.DataFrame({column: list(labels), "value": values, **more}).to_csv(path, index=False)
    return path


def _forecast(run, capsys, path, *extra, horizon=3, lags=8):
    code, out, err = run(capsys, "forecast", path, "--target", "value", "--horizon",
                         horizon, "--lags", lags, "--model", "ridge", "--out", "-", *extra)
    assert code == 0, err
    return pd.read_csv(pd.io.common.StringIO(out), dtype={"time": str}), err


def _api(index, *, horizon=3, lags=8):
    y = pd.Series(_values(len(index)), index=index, name="value")
    return Forecaster(Ridge(alpha=1.0), lags=lags, horizon=horizon).fit(y).predict()


def _error(run, capsys, path, *extra):
    """The one error line of a forecast of ``path``, without 'tsbptt: error: FILE: '."""
    code, out, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                         "--model", "naive", *extra)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    return err.removeprefix("tsbptt: error: ").removeprefix(f"{path}: ").rstrip("\n")


MONTHS = pd.period_range("2005-01", periods=N, freq="M")  # forecasts: 2009-01 ..
QUARTERS = pd.period_range("2000Q1", periods=N, freq="Q")  # forecasts: 2012Q1 ..
WEEKS = pd.period_range("2018-01-01", periods=N, freq="W-SUN")  # ISO 2018-W01 ..
#: English month names (strftime's %b and %B are the locale's)
FULL = ("January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December")


@pytest.mark.parametrize("index, write, expected", [
    (MONTHS, lambda p: f"{FULL[p.month - 1][:3]}-{p.year}",
     ["Jan-2009", "Feb-2009", "Mar-2009"]),  # Excel
    (MONTHS, lambda p: f"{p.month:02d}/{p.year}", ["01/2009", "02/2009", "03/2009"]),
    (MONTHS, lambda p: f"{p.month}/{p.year}", ["1/2009", "2/2009", "3/2009"]),
    (MONTHS, lambda p: f"{p.year} {FULL[p.month - 1][:3].upper()}",
     ["2009 JAN", "2009 FEB", "2009 MAR"]),  # ONS
    (MONTHS, lambda p: f"{p.year}M{p.month:02d}", ["2009M01", "2009M02", "2009M03"]),
    (MONTHS, lambda p: f"{FULL[p.month - 1]} {p.year}",
     ["January 2009", "February 2009", "March 2009"]),
    (QUARTERS, lambda p: f"Q{p.quarter} {p.qyear}", ["Q1 2012", "Q2 2012", "Q3 2012"]),
    (QUARTERS, lambda p: f"Q{p.quarter}-{p.qyear}", ["Q1-2012", "Q2-2012", "Q3-2012"]),
    (WEEKS, lambda p: "{0}-W{1:02d}".format(*p.start_time.isocalendar()),
     ["2018-W49", "2018-W50", "2018-W51"]),
])
def test_other_forms_of_periods_come_back_in_their_form(tmp_path, capsys, run, index,
                                                        write, expected):
    # they came back as dates (2009-01-01), or (2010M01, Q1 2000, 2018-W01) were
    # refused as no dates
    path = _csv(tmp_path, [write(p) for p in index])
    got, _ = _forecast(run, capsys, path)
    assert list(got["time"]) == expected
    np.testing.assert_allclose(got["forecast"], _api(index).to_numpy(), rtol=1e-12)


def test_iso_weeks_are_w_sun_periods_across_years(tmp_path, capsys, run):
    # ISO weeks start on Monday: 2020 has a week 53, and 2021-W01 follows it
    index = pd.period_range("2020-01-06", periods=N, freq="W-SUN")  # 2020-W02 .. W49
    labels = ["{0}-W{1:02d}".format(*p.start_time.isocalendar()) for p in index]
    path = _csv(tmp_path, labels, column="week")
    got, _ = _forecast(run, capsys, path, "--freq", "W-SUN", horizon=6)
    assert list(got["time"]) == ["2020-W50", "2020-W51", "2020-W52", "2020-W53",
                                 "2021-W01", "2021-W02"]
    np.testing.assert_allclose(got["forecast"], _api(index, horizon=6).to_numpy(),
                               rtol=1e-12)
    compact = _csv(tmp_path, [x.replace("-", "") for x in labels], name="compact.csv")
    got, _ = _forecast(run, capsys, compact, horizon=2)
    assert list(got["time"]) == ["2020W50", "2020W51"]
    assert _error(run, capsys, path, "--freq", "W-SAT") == (
        "--freq W-SAT contradicts the labels: time column 'week' holds weeks that end on "
        "a Sunday (ISO weeks: Monday to Sunday), e.g. '2020-W02' (line 2); give --freq "
        "W-SUN, or leave it out")
    # a week its year does not have is named, on its line
    labels[2] = "2019-W53"
    bad = _csv(tmp_path, labels, name="bad.csv", column="week")
    assert _error(run, capsys, bad) == (
        "time column 'week' has '2019-W53' (line 4), which is no ISO week: 2019 has weeks "
        "2019-W01 to 2019-W52")


def test_dates_stay_dates(tmp_path, capsys, run):
    from tsbptt.cli import _data

    for dates in (["03/31/2000", "06/30/2000", "09/30/2000"],
                  ["31.03.2000", "30.06.2000", "30.09.2000"],
                  ["2000/03/31", "2000/06/30", "2000/09/30"]):
        index = _data.parse_times(pd.Series(dates), "d")
        assert isinstance(index, pd.DatetimeIndex)
        assert list(index.strftime("%Y-%m-%d")) == ["2000-03-31", "2000-06-30",
                                                     "2000-09-30"]
    days = pd.date_range("2000-03-31", periods=N, freq="QE")
    path = _csv(tmp_path, days.strftime("%m/%d/%Y"))
    got, _ = _forecast(run, capsys, path)
    assert list(got["time"]) == ["2012-03-31", "2012-06-30", "2012-09-30"]
    # a month alone has no day: nothing to read day first or month first
    months = _data.parse_times(pd.Series(["01/2010", "12/2010"]), "m", freq="M")
    assert list(months.astype(str)) == ["2010-01", "2010-12"]


def test_period_alias_for_dates_suggests_their_step(tmp_path, capsys, run):
    # FRED's month starts: --freq M suggested pandas' ME, which was then refused
    # for MS: a circle
    starts = pd.date_range("2010-01-01", periods=N, freq="MS")
    path = _csv(tmp_path, starts.strftime("%Y-%m-%d"), column="date")
    for alias in ("M", "Q"):
        assert _error(run, capsys, path, "--freq", alias) == (
            f"--freq {alias} is a period frequency, for period labels (2020Q1, 2020-01, "
            "1990), but time column 'date' holds dates (2010-01-01 ..), which step by "
            "pandas' offsets: give --freq MS (their step), or leave it out")
    got, _ = _forecast(run, capsys, path, "--freq", "MS")
    assert list(got["time"]) == ["2014-01-01", "2014-02-01", "2014-03-01"]
    # with a gap, the step read around it
    gappy = _csv(tmp_path, pd.date_range("2000-01-01", periods=N, freq="QS").delete(
        10).strftime("%Y-%m-%d"), name="gappy.csv", column="date", values=_values(N - 1))
    assert _error(run, capsys, gappy, "--freq", "Q").endswith(
        "give --freq QS-JAN (their step), or leave it out")


@pytest.mark.parametrize("columns, extra, message", [
    ({"Year": [p.year for p in QUARTERS], "Quarter": [f"Q{p.quarter}" for p in QUARTERS]},
     ("--time-col", "Year"),
     "columns 'Year' and 'Quarter' hold one time in two parts, a year and its quarter "
     "(2000 and 'Q1' on line 2), but the time is read from one column: combine them "
     "into one, e.g. 2000Q1 (in pandas: df['period'] = df['Year'].astype(str) + "
     "df['Quarter']), and pass --time-col period"),
    ({"Year": [p.year for p in QUARTERS], "Quarter": [f"Q{p.quarter}" for p in QUARTERS]},
     (), None),  # guessed: the same
    ({"Year": [p.year for p in QUARTERS], "Quarter": [f"Q{p.quarter}" for p in QUARTERS]},
     ("--time-col", "Quarter"), None),
    ({"year": [float(p.year) for p in QUARTERS], "qtr": [p.quarter for p in QUARTERS]},
     ("--time-col", "year"),
     "columns 'year' and 'qtr' hold one time in two parts, a year and its quarter (2000 "
     "and 1 on line 2), but the time is read from one column: combine them into one, "
     "e.g. 2000Q1 (in pandas: df['period'] = df['year'].astype(int).astype(str) + 'Q' + "
     "df['qtr'].astype(str)), and pass --time-col period"),
    ({"year": [p.year for p in MONTHS], "month": [p.month for p in MONTHS]},
     ("--time-col", "year"),
     "columns 'year' and 'month' hold one time in two parts, a year and its month (2005 "
     "and 1 on line 2), but the time is read from one column: combine them into one, "
     "e.g. 2005-01 (in pandas: df['period'] = df['year'].astype(str) + '-' + "
     "df['month'].astype(str).str.zfill(2)), and pass --time-col period"),
    ({"year": [p.year for p in MONTHS], "month": [FULL[p.month - 1][:3] for p in MONTHS]},
     (),
     "columns 'year' and 'month' hold one time in two parts, a year and its month (2005 "
     "and 'Jan' on line 2), but the time is read from one column: combine them into "
     "one, e.g. Jan 2005 (in pandas: df['period'] = df['month'] + ' ' + "
     "df['year'].astype(str)), and pass --time-col period"),
])
def test_a_year_and_its_quarter_in_two_columns(tmp_path, capsys, run, columns, extra,
                                               message):
    # they were taken for several series in one file ("keep the rows of one
    # 'Quarter' value")
    path = tmp_path / "split.csv"
    pd.DataFrame({**columns, "value": _values()}).to_csv(path, index=False)
    expected = message or (
        "columns 'Year' and 'Quarter' hold one time in two parts, a year and its quarter "
        "(2000 and 'Q1' on line 2), but the time is read from one column: combine them "
        "into one, e.g. 2000Q1 (in pandas: df['period'] = df['Year'].astype(str) + "
        "df['Quarter']), and pass --time-col period")
    assert _error(run, capsys, path, *extra) == expected
    # the advice, followed, reads
    frame = pd.read_csv(path)
    frame["period"] = eval(expected.split("df['period'] = ")[1].split("), and")[0],
                           {"df": frame})
    frame.to_csv(path, index=False)
    got, _ = _forecast(run, capsys, path, "--time-col", "period", horizon=1)
    assert len(got) == 1


def test_several_series_in_one_file_are_still_named_so(tmp_path, capsys, run):
    path = tmp_path / "panel.csv"
    pd.DataFrame({"year": np.repeat(np.arange(2000, 2012), 2), "store": ["a", "b"] * 12,
                  "value": np.arange(24.0)}).to_csv(path, index=False)
    assert "this looks like several series in one file, one per value of 'store'" in \
        _error(run, capsys, path, "--time-col", "year")


def test_period_messages_in_the_files_form_with_lines(tmp_path, capsys, run):
    labels = [f"{p.qyear}-Q{p.quarter}" for p in QUARTERS[:20]]
    values = _values(20)

    def error(labels, values, *extra, **more):
        path = _csv(tmp_path, labels, column="q", values=values, **more)
        return _error(run, capsys, path, *extra)

    fill = "pass --fill interpolate or --fill ffill to fill gaps, or resample first"
    assert error(np.delete(labels, 10), np.delete(values, 10)) == (
        "time column 'q' is not regular: 2002-Q4 (line 12) comes after 2002-Q2 (line 11), "
        f"a gap (2002-Q3 is missing); {fill}")
    assert error(np.delete(labels, [10, 11, 12]), np.delete(values, [10, 11, 12])) == (
        "time column 'q' is not regular: 2003-Q2 (line 12) comes after 2002-Q2 (line 11), "
        f"a gap (2002-Q3 .. 2003-Q1 are missing, 3 quarters); {fill}")
    assert error(labels[:5] + [labels[4]] + labels[5:], np.r_[values, 0.0]) == (
        "time column 'q' has 2001-Q1 more than once (lines 6 and 7); keep one row per time "
        "(sum or average the duplicates)")
    assert error(labels[:5] + [labels[6], labels[5]] + labels[7:], values) == (
        "time column 'q' is not sorted: 2001-Q2 (line 8) comes after 2001-Q3 (line 7); "
        "sort the rows by time")
    missing = values.copy()
    missing[3] = np.nan
    assert error(labels, missing) == (
        "column 'value' has a missing value at 2000-Q4 (line 5); pass --fill interpolate "
        "or --fill ffill to fill missing values")
    missing[3], missing[-3:] = 1.0, np.nan
    assert error(labels, missing) == (
        "the last 3 row(s) (from 2004-Q2, line 19) have no 'value' value; trailing rows "
        "without a target can only give the forecast steps' future-known covariates "
        "(--future-exog COL ...); delete them otherwise")
    assert error(labels, values, "--freq", "1") == (
        "--freq 1 is an integer step, but time column 'q' holds quarters (2000-Q1 ..): give "
        "their period frequency, e.g. --freq Q-DEC, or leave it out")
    # future rows that skip a forecast step, or leave one empty
    skip = labels[:18] + [labels[19]]
    assert error(skip, np.r_[values[:17], np.nan, np.nan], "--future-exog", "plan",
                 "--horizon", 2, "--model", "ridge", "--lags", 2, plan=np.arange(19.0)) == (
        "the future rows of the file (--future-exog) do not cover the forecast steps: "
        "missing [2004-Q3]")
    assert error(labels, np.r_[values[:17], [np.nan] * 3], "--future-exog", "plan",
                 "--horizon", 3, "--model", "ridge", "--lags", 2,
                 plan=np.r_[np.arange(18.0), np.nan, 1.0]) == (
        "the future-known covariates ['plan'] have a missing value at 2004-Q3 (a forecast "
        "step)")
    # and filled where asked, the forecasts in the file's form
    got, _ = _forecast(run, capsys, _csv(tmp_path, np.delete(labels, 10), column="q",
                                         values=np.delete(values, 10)),
                       "--fill", "interpolate", horizon=2, lags=4)
    assert list(got["time"]) == ["2005-Q1", "2005-Q2"]


def test_years_from_excel_as_floats_are_guessed(tmp_path, capsys, run):
    # 1960.0, 1961.0, ...: read with --time-col year, but not guessed
    years = np.arange(1960, 1960 + N)
    path = _csv(tmp_path, years.astype(float), column="year")
    assert path.read_text().splitlines()[1].startswith("1960.0,")
    got, _ = _forecast(run, capsys, path)
    assert list(got["time"]) == ["2008", "2009", "2010"]
    np.testing.assert_allclose(
        got["forecast"], _api(pd.PeriodIndex(years.astype(str), freq="Y")).to_numpy(),
        rtol=1e-12)
    # floats named otherwise are no years to guess (values, not times)
    other = _csv(tmp_path, years.astype(float), name="other.csv", column="level")
    assert _error(run, capsys, other).startswith("--time-col is required")


def test_years_with_a_gap_name_freq_y_dec(tmp_path, capsys, run):
    # 1960 .. 2019 without 1990 are integer steps: the errors that followed did not
    # say how to read them as years
    years = np.delete(np.arange(1960, 2020), 30)
    path = _csv(tmp_path, years, column="year", values=np.arange(59.0))
    assert _error(run, capsys, path) == (  # guessed by its name, as without the gap
        "time column 'year' is not regular: 1991 (line 32) comes after 1989 (line 31), a "
        "gap (1990 is missing); pass --fill interpolate or --fill ffill to fill gaps, or "
        "resample first; with gaps, years are read as integer steps: pass --freq Y-DEC "
        "too to read them as years")
    assert _error(run, capsys, path, "--fill", "ffill", "--calendar", "month") == (
        "--calendar month needs dates, but time column 'year' holds integer steps; its "
        "years (1960 .. 2019) have gaps, so they are read as integer steps: pass --freq "
        "Y-DEC to read them as years")
    assert _error(run, capsys, path, "--calendar", "month") == (
        "--calendar month needs dates, but time column 'year' holds integer steps; its "
        "years (1960 .. 2019) have gaps, so they are read as integer steps: pass --freq "
        "Y-DEC (with --fill interpolate or --fill ffill for the gaps) to read them as "
        "years")
    assert _error(run, capsys, path, "--freq", "D").endswith(
        "give an integer step, e.g. --freq 1; its years (1960 .. 2019) have gaps, so they "
        "are read as integer steps: pass --freq Y-DEC (with --fill interpolate or --fill "
        "ffill for the gaps) to read them as years")
    # as years, the gap is a year's, and --calendar reads them
    assert _error(run, capsys, path, "--freq", "Y-DEC") == (
        "time column 'year' is not regular: 1991 (line 32) comes after 1989 (line 31), a "
        "gap (1990 is missing); pass --fill interpolate or --fill ffill to fill gaps, or "
        "resample first")
    got, _ = _forecast(run, capsys, path, "--freq", "Y-DEC", "--fill", "ffill",
                       "--calendar", "month", horizon=2, lags=4)
    assert list(got["time"]) == ["2020", "2021"]
    # census years, five apart, are steps of 5, with no word of years
    census = _csv(tmp_path, np.arange(1900, 2020, 5), name="census.csv", column="year",
                  values=np.arange(24.0))
    got, _ = _forecast(run, capsys, census, "--time-col", "year", horizon=1, lags=4)
    assert list(got["time"]) == ["2020"]
