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


def test_month_first_12_hour_times_are_not_called_ambiguous(tmp_path, capsys, run,
                                                            ridge_args):
    # with AM/PM, dateutil reads the day-first hint as a hint: 01/13/2024 became 13
    # January read "day first" too, and the column was refused as ambiguous
    hours = pd.date_range("2024-01-01", periods=400, freq="h")
    path = _dated_csv(tmp_path, hours.strftime("%m/%d/%Y %I:%M %p"))
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-01-17", "16:00:00"]
    # days up to 12 alone stay ambiguous, whatever the clock
    path = _dated_csv(tmp_path, hours[:200].strftime("%m/%d/%Y %I:%M %p"), "short.csv")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "is ambiguous: '01/02/2024 12:00 AM'" in err


def test_mixed_utc_offsets_are_named(tmp_path, capsys, run, ridge_args):
    path = _dated_csv(tmp_path, ["2024-03-31T00:00+01:00", "2024-03-31T01:00+01:00",
                                 "2024-03-31T03:00+02:00", "2024-03-31T04:00+02:00"])
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and err.count("\n") == 1
    assert "mixes time zones" in err and "has UTC offset +0100" in err
    assert "'2024-03-31T03:00+02:00' (line 4) has UTC offset +0200 (a daylight saving " \
        "time change?); pass --tz with the series' zone (e.g. --tz Europe/Berlin), or " \
        "write every time with the same UTC offset, e.g. all in UTC\n" in err
    # without --time-col the column is still found, and the same reason given (it
    # once said that no column read as dates)
    args = ("forecast", path, "--target", "value", "--horizon", 1, "--lags", 2,
            "--model", "ridge")
    code, _, guessed = run(capsys, *args)
    assert code == 2 and guessed == err


def test_tz_converts_times_whose_utc_offset_changes_at_dst(tmp_path, capsys, run,
                                                          ridge_args):
    # as pandas writes a zoned column: each time with its own offset, +01:00 in
    # winter, +02:00 from 31 March 03:00; --tz makes them the zone's local times
    times = pd.date_range("2024-03-29", "2024-03-31 12:00", freq="h", tz="Europe/Berlin")
    path = _dated_csv(tmp_path, times)
    assert "2024-03-31 01:00:00+01:00" in path.read_text()
    out_csv = tmp_path / "out.csv"
    code, _, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin", "--calendar",
                                           "hour", "--out", out_csv))
    assert code == 0, err
    assert out_csv.read_text().splitlines()[1].startswith("2024-03-31 13:00:00+02:00,")
    # the summary says the offset: 13:00 alone could be either
    assert f"wrote {out_csv}: 1 forecasts of 'value', 2024-03-31 13:00+02:00 .. " \
           "2024-03-31 13:00+02:00" in err
    # the same instants in UTC: the same local forecast time
    path = _dated_csv(tmp_path, times.tz_convert("UTC").strftime("%Y-%m-%dT%H:%MZ"),
                      "utc.csv")
    code, out, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-03-31", "13:00:00+02:00"]
    # a time without an offset among them: local, or UTC? Not guessed
    path = _dated_csv(tmp_path, ["2024-01-01T00:00", "2024-01-01T01:00+01:00",
                                 "2024-01-01T02:00+01:00"], "mixed.csv")
    code, _, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == 2 and "'2024-01-01T00:00' (line 2) has no UTC offset but " \
        "'2024-01-01T01:00+01:00' (line 3) has UTC offset +0100; write every time " \
        "with its UTC offset, or none (then --tz reads them as local times in " \
        "Europe/Berlin)" in err


def test_tz_reads_local_times_the_repeated_autumn_hour_by_order(tmp_path, capsys, run,
                                                               ridge_args):
    # local times as a meter writes them: 02:00 twice on 27 October (+02:00, then
    # +01:00), the rows in time order
    zoned = pd.date_range("2024-10-25", periods=52, freq="h", tz="Europe/Berlin")
    local = zoned.strftime("%Y-%m-%d %H:%M")
    assert list(local[-3:]) == ["2024-10-27 01:00", "2024-10-27 02:00", "2024-10-27 02:00"]
    path = _dated_csv(tmp_path, local)
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "has 2024-10-27 02:00:00 more than once (lines " \
        f"{len(local)} and {len(local) + 1})" in err  # as before, without --tz
    code, out, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin", "--horizon",
                                             2))
    assert code == 0, err
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["2024-10-27", "03:00:00+01:00"], ["2024-10-27", "04:00:00+01:00"]]
    # backtest's header says the origins' offsets (the last: the first 02:00)
    code, out, err = run(capsys, "backtest", path, "--time-col", "ts", "--target",
                         "value", "--horizon", 1, "--lags", 2, "--model", "ridge",
                         "--initial", len(local) - 4, "--tz", "Europe/Berlin")
    assert code == 0, err
    assert "4 origin(s) from 2024-10-26 23:00+02:00 to 2024-10-27 02:00+02:00," in out
    # America/New_York repeats 01:00 on 3 November
    ny = pd.date_range("2024-11-01", "2024-11-03 03:00", freq="h", tz="America/New_York")
    path = _dated_csv(tmp_path, ny.strftime("%Y-%m-%d %H:%M"), "ny.csv")
    code, out, err = run(capsys, *ridge_args(path, "--tz", "America/New_York"))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-11-03", "04:00:00-05:00"]


def test_tz_refuses_local_times_the_zone_skips_or_cannot_place(tmp_path, capsys, run,
                                                              ridge_args):
    # 02:00 on 31 March does not exist in Berlin: named, never moved to 03:00
    spring = pd.date_range("2024-03-30", "2024-03-31 06:00", freq="h")
    path = _dated_csv(tmp_path, spring.strftime("%Y-%m-%d %H:%M"))
    code, _, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == 2 and err.count("\n") == 1
    assert f"{path}: time column 'ts' has 2024-03-31 02:00:00 (line 28), a local time " \
           "that --tz Europe/Berlin skips (the clocks go forward there at daylight " \
           "saving time); write the times with their UTC offsets, or in UTC, or check " \
           "--tz\n" in err
    # 02:00 on 27 October once (a row missing): which of the two is not guessed
    autumn = pd.date_range("2024-10-26", "2024-10-27 06:00", freq="h")
    path = _dated_csv(tmp_path, autumn.strftime("%Y-%m-%d %H:%M"), "autumn.csv")
    code, _, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == 2
    assert "'ts' has 2024-10-27 02:00:00 (line 28) once, a local time that --tz " \
           "Europe/Berlin has twice, at UTC offsets +02:00 and +01:00 (the clocks go " \
           "back there at the end of daylight saving time), and no second row tells " \
           "which one it is; write the times with their UTC offsets, or in UTC" in err
    # the same file is fine in a zone without daylight saving time
    code, out, err = run(capsys, *ridge_args(path, "--tz", "Asia/Tokyo"))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-10-27", "07:00:00+09:00"]


def test_tz_names_an_unknown_zone_and_fits_only_dated_files(tmp_path, capsys, run,
                                                             ridge_args):
    path = _dated_csv(tmp_path, pd.date_range("2024-01-01", periods=20, freq="D"))
    for zone, hint in (("Europe/Berln", " (did you mean Europe/Berlin?)"),
                       ("europe/berlin", " (did you mean Europe/Berlin?)"),
                       ("Mars/Olympus_Mons", ""), ("+01:00", "")):
        code, _, err = run(capsys, *ridge_args(path, "--tz", zone))
        assert code == 2
        assert err == (f"tsbptt: error: --tz {zone!r} is not a time zone{hint}: give an "
                       "IANA name such as Europe/Berlin, America/New_York or UTC\n")
    # refused before the file is read
    code, _, err = run(capsys, *ridge_args(tmp_path / "none.csv", "--tz", "Berlin"))
    assert code == 2 and "--tz 'Berlin' is not a time zone" in err
    steps = _dated_csv(tmp_path, np.arange(30), "steps.csv")
    code, _, err = run(capsys, *ridge_args(steps, "--tz", "UTC"))
    assert code == 2 and "--tz UTC needs dates, but time column 'ts' holds integer " \
        "steps" in err
    code, _, err = run(capsys, "backtest", "--dataset", "air_passengers", "--horizon", 1,
                       "--tz", "UTC")
    assert code == 2 and err == "tsbptt: error: --tz applies to a FILE, not to --dataset\n"


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


def test_a_lowercase_z_is_utc_as_z_is(tmp_path, capsys, run, ridge_args):
    # RFC 3339's lowercase z failed the ISO parser, and the fallback read it as the
    # machine's zone and dropped it: with --tz Europe/Berlin, times an hour early
    hours = pd.date_range("2024-01-01", periods=40, freq="h")
    upper = _dated_csv(tmp_path, hours.strftime("%Y-%m-%dT%H:%M:%SZ"), "upper.csv")
    lower = _dated_csv(tmp_path, hours.strftime("%Y-%m-%dT%H:%M:%Sz"), "lower.csv")
    for tz in ((), ("--tz", "Europe/Berlin")):
        code, expected, err = run(capsys, *ridge_args(upper, *tz))
        assert code == 0, err
        code, out, err = run(capsys, *ridge_args(lower, *tz))
        assert code == 0, err
        assert out == expected
    assert expected.splitlines()[1].split()[:2] == ["2024-01-02", "17:00:00+01:00"]


def test_non_iso_times_whose_offset_changes_read_with_tz(tmp_path, capsys, run,
                                                         ridge_args):
    # day-first times with +0100 then +0200 (a spreadsheet's export): "cannot
    # read" even with --tz; without it, the reason is given, with --tz as for ISO
    hours = pd.date_range("2024-03-30", periods=40, freq="h", tz="Europe/Berlin")
    text = [f"{t:%d.%m.%Y %H:%M}{t:%z}" for t in hours]
    path = _dated_csv(tmp_path, text)
    code, out, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == 0, err
    iso = _dated_csv(tmp_path, [t.isoformat() for t in hours], "iso.csv")
    code, expected, err = run(capsys, *ridge_args(iso, "--tz", "Europe/Berlin"))
    assert code == 0, err
    assert out == expected
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and err.count("\n") == 1
    assert "time column 'ts' mixes UTC offsets: '30.03.2024 00:00+0100' (line 2) and " \
           "'31.03.2024 03:00+0200' (line 28) (a daylight saving time change?); pass " \
           "--tz with the series' zone" in err


def test_non_iso_times_with_offsets_are_read_by_their_wall_clock_dates(tmp_path, capsys,
                                                                       run, ridge_args):
    # the day-first check compared the written day with the UTC instant's (local
    # midnight is the day before in UTC): both readings failed it, and a year-first
    # reading (dateutil's swaps) was kept: wrong dates, or "cannot read"
    hours = pd.date_range("2024-10-05", "2024-11-04 23:00", freq="h", tz="Europe/Berlin")
    path = _dated_csv(tmp_path, [f"{t:%d.%m.%Y %H:%M}{t:%z}" for t in hours])
    code, out, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-11-05", "00:00:00+01:00"]
    # one day of 3 November: 03.11 or 11.03, ambiguous, never silently March
    quarter = pd.date_range("2024-11-03", periods=96, freq="15min", tz="America/New_York")
    path = _dated_csv(tmp_path, [f"{t:%d.%m.%Y %H:%M}{t:%z}" for t in quarter], "ny.csv")
    code, _, err = run(capsys, *ridge_args(path, "--tz", "America/New_York"))
    assert code == 2 and "is ambiguous: '03.11.2024 00:00-0400'" in err


def test_tz_says_a_missing_time_or_a_daily_date_for_what_it_is(tmp_path, capsys, run,
                                                               ridge_args):
    hours = pd.date_range("2024-01-01", periods=30, freq="h").strftime("%Y-%m-%d %H:%M")
    path = _dated_csv(tmp_path, list(hours[:10]) + ["NaT"] + list(hours[11:]))
    code, _, plain = run(capsys, *ridge_args(path))
    code_tz, _, err = run(capsys, *ridge_args(path, "--tz", "Europe/Berlin"))
    assert code == code_tz == 2
    assert "skips" not in err and "missing time" in plain and "missing time" in err
    # daily dates where the clocks change at midnight: no --tz, not offsets
    for zone, first, last, what in (
            ("America/Havana", "2023-10-20", "2023-11-20", "has twice, at UTC offsets "
             "-04:00 and -05:00 (the clocks go back there at the end of daylight saving "
             "time), and no second row tells which one it is"),
            ("America/Santiago", "2024-09-01", "2024-09-20", "a local time that --tz "
             "America/Santiago skips (the clocks go forward there at daylight saving "
             "time)")):
        days = pd.date_range(first, last, freq="D").strftime("%Y-%m-%d")
        path = _dated_csv(tmp_path, days, "days.csv")
        code, _, err = run(capsys, *ridge_args(path, "--tz", zone))
        assert code == 2
        assert f"{what}; dates without a time of day need no --tz: leave it out" in err


def test_local_time_errors_without_tz_say_it_reads_a_dst_night(tmp_path, capsys, run,
                                                               ridge_args):
    # "sum or average the duplicates" merged two real hours, and "--fill" invented
    # one that never was: for local times of a daylight saving night, --tz is right
    autumn = pd.date_range("2024-10-26 20:00", periods=12, freq="h",
                           tz="Europe/Berlin").tz_localize(None)
    path = _dated_csv(tmp_path, autumn.strftime("%Y-%m-%d %H:%M"))
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2
    assert "(sum or average the duplicates) (or, for local times whose clocks went " \
           "back that night, pass --tz with their zone: it reads the repeated hour as " \
           "the two hours it was)" in err
    spring = pd.date_range("2024-03-30 20:00", periods=12, freq="h",
                           tz="Europe/Berlin").tz_localize(None)
    path = _dated_csv(tmp_path, spring.strftime("%Y-%m-%d %H:%M"), "spring.csv")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2
    assert "or resample first (for local times whose clocks went forward that night, " \
           "pass --tz with their zone instead)" in err


def test_tz_suggests_only_close_names_and_refuses_the_machines_own(tmp_path, capsys, run,
                                                                   ridge_args):
    path = _dated_csv(tmp_path, pd.date_range("2024-01-01", periods=20, freq="D"))
    for zone in ("Z", "UTC+1", "localtime", "Factory"):  # not NZ, not UTC
        code, _, err = run(capsys, *ridge_args(path, "--tz", zone))
        assert code == 2
        assert err == (f"tsbptt: error: --tz {zone!r} is not a time zone: give an IANA "
                       "name such as Europe/Berlin, America/New_York or UTC\n")


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


def test_yyyymmdd_integers_are_refused_not_read_as_steps(tmp_path, capsys, run, ridge_args):
    # read as integer steps they had gaps at each month's end (20240131, 20240201):
    # the error advised --fill, which then forecast 20240230 and 20240231
    days = pd.date_range("2024-01-01", "2024-02-29", freq="D")
    path = _dated_csv(tmp_path, days.strftime("%Y%m%d").astype(int))
    expected = (f"tsbptt: error: {path}: time column 'ts' holds integers that read as "
                "dates, year month day (20240101 ..); integers are read as steps (the step "
                "after 20240229 would be 20240230), so write the dates as dates, e.g. "
                "2024-01-01\n")
    for fill in ((), ("--fill", "ffill")):
        code, out, err = run(capsys, *ridge_args(path, *fill))
        assert code == 2 and out == "" and err == expected
    # guessed: the same reason, not "none of its columns reads as dates"
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                       "--lags", 2, "--model", "ridge")
    assert code == 2 and err == expected
    # integer steps that are no dates stay steps
    path = _dated_csv(tmp_path, np.arange(20240101, 20240131) * 10)
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "202401310"


def _numbers_csv(tmp_path, cells, sep=","):
    path = tmp_path / "numbers.csv"
    days = pd.date_range("2024-01-01", periods=len(cells), freq="D").strftime("%Y-%m-%d")
    path.write_text(f"ts{sep}value\n" + "".join(f"{d}{sep}{c}\n" for d, c in
                                                 zip(days, cells)))
    return path


def test_thousands_separators_are_read_with_the_flag_and_hinted(tmp_path, capsys, run,
                                                                ridge_args):
    cells = [f'"{v:,.1f}"' for v in 10_000 + 500 * np.arange(30)]  # "10,000.0"
    path = _numbers_csv(tmp_path, cells)
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and err.endswith(
        "column 'value' is not numeric: '10,000.0' at 2024-01-01 00:00:00 (line 2) in "
        f"{path}; is ',' a thousands separator? Then pass --thousands ','\n")
    naive = ("--model", "naive", "--season", 1)  # forecasts the last value
    code, out, err = run(capsys, *ridge_args(path, "--thousands", ",", *naive))
    assert code == 0, err
    assert float(out.splitlines()[1].split()[-1]) == 24_500
    # 10.000,5 with --decimal ',' given: only the flag not given is suggested
    cells = [f"{v:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
             for v in 10_000 + 500 * np.arange(30)]
    path = _numbers_csv(tmp_path, cells, sep=";")
    code, _, err = run(capsys, *ridge_args(path, "--sep", ";", "--decimal", ","))
    assert code == 2 and err.endswith(
        "'10.000,0' at 2024-01-01 00:00:00 (line 2) in "
        f"{path}; is '.' a thousands separator? Then pass --thousands '.'\n")
    assert "--decimal" not in err.split(";", 1)[1]
    code, _, err = run(capsys, *ridge_args(path, "--sep", ";"))
    assert code == 2 and err.endswith("are '.' thousands separators and ',' the decimal "
                                      "mark? Then pass --thousands '.' --decimal ','\n")
    code, out, err = run(capsys, *ridge_args(path, "--sep", ";", "--decimal", ",",
                                             "--thousands", ".", *naive))
    assert code == 0, err
    assert float(out.splitlines()[1].split()[-1]) == 24_500
    code, _, err = run(capsys, *ridge_args(path, "--sep", ";", "--decimal", ",",
                                           "--thousands", ","))
    assert code == 2 and err.endswith(
        "--thousands and --decimal are both ','; they must differ\n")


def test_sep_decimal_and_thousands_are_checked_and_backslash_t_is_a_tab(
        tmp_path, capsys, run, ridge_args):
    import warnings

    for flag, example, values in (("--sep", "';' (or '\\t' for a tab)", [""]),
                                  ("--decimal", "','", ["", "ab"]),
                                  ("--thousands", "','", ["", "ab"])):
        what = "a separator" if flag == "--sep" else "one character"
        for value in values:
            code, _, err = run(capsys, *ridge_args(tmp_path / "any.csv", flag, value))
            assert code == 2 and err == (
                f"tsbptt forecast: error: argument {flag}: expected {what}, e.g. "
                f"{example}, got {value!r} (see `tsbptt forecast --help`)\n")
    path = _numbers_csv(tmp_path, [str(v) for v in np.arange(40.0)], sep="\t")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "Then pass --sep '\\t'" in err
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ParserWarning of pandas' python engine
        code, out, err = run(capsys, *ridge_args(path, "--sep", "\\t", "--model", "naive",
                                                 "--season", 1))  # as a shell passes it
    assert code == 0 and err == ""
    assert out.splitlines()[1].split() == ["2024-02-10", "39.00"]
    # a separator of several characters is a regular expression, as pandas reads it
    aligned = tmp_path / "aligned.txt"
    aligned.write_text(path.read_text().replace("\t", "   "))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run(capsys, *ridge_args(aligned, "--sep", "\\s+", "--model",
                                                 "naive", "--season", 1))
    assert code == 0 and out.splitlines()[1].split() == ["2024-02-10", "39.00"]


def test_guessing_the_time_column_says_why_none_reads(tmp_path, capsys, run):
    def guess(path, *flags):
        return run(capsys, "forecast", path, "--target", "value", "--horizon", 1, "--lags",
                   2, "--model", "ridge", *flags)

    # a decimal comma column (20,0) is numbers, not dates: without --decimal ',' the
    # error was "2 columns (['ts', 'temp']) read as dates", hiding the decimal comma
    path = tmp_path / "semi.csv"
    path.write_text("ts;value;temp\n" + "".join(
        f"2024-01-{d:02d};{d},5;{d + 10},0\n" for d in range(1, 21)))
    code, _, err = guess(path, "--sep", ";")
    assert code == 2 and err.endswith(
        f"column 'value' is not numeric: '1,5' at 2024-01-01 00:00:00 (line 2) in {path}; "
        "is ',' the decimal mark? Then pass --decimal ','\n")
    code, out, err = guess(path, "--sep", ";", "--decimal", ",", "--model", "naive",
                           "--season", 1)
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "2024-01-21"
    assert float(out.splitlines()[1].split()[1]) == 20.5
    # a header alone: no data rows, whether the time column is guessed or given
    path = tmp_path / "header.csv"
    path.write_text("ts,value,temp\n")
    for flags in ((), ("--time-col", "ts")):
        code, _, err = guess(path, *flags)
        assert code == 2 and err == (f"tsbptt: error: {path} has no data rows, only the "
                                     "header line 'ts,value,temp': expected one row per "
                                     "time after it\n")
    # day first and month first read differently: that reason, not "none reads"
    path = _dated_csv(tmp_path, pd.date_range("2024-01-01", periods=12).strftime("%d/%m/%Y"))
    code, _, err = guess(path)
    assert code == 2 and "time column 'ts' is ambiguous: '02/01/2024' (line 3)" in err
    # mixed formats
    path = _dated_csv(tmp_path, ["01 Jan 2024", "2024-01-02", "2024-01-03"])
    code, _, err = guess(path)
    assert code == 2 and err.endswith("cannot read '2024-01-02' (line 3) of time column "
                                      "'ts' as a date/time like '01 Jan 2024' (line 2); "
                                      "write times as ISO 8601, e.g. 2024-01-31 13:00\n")
    # an empty time cell, on its line of the file (blank lines skipped)
    path = tmp_path / "hole.csv"
    path.write_text("ts,value\n2024-01-01,1\n\n2024-01-02,2\n,3\n2024-01-04,4\n")
    code, _, err = guess(path)
    assert code == 2 and err == (f"tsbptt: error: {path}: time column 'ts' is empty on "
                                 "line 5 of the file\n")
    # text that is no date at all: still asks for the flag
    path = tmp_path / "ids.csv"
    path.write_text("id,value\nfoo,1\nbar,2\nbaz,3\n")
    code, _, err = guess(path)
    assert code == 2 and "--time-col is required: none of its columns reads as dates" in err


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path, capsys, run,
                                                               ridge_args):
    # pandas skips blank lines: row n was said to be on line n + 2 all the same
    path = tmp_path / "blank.csv"
    path.write_text("ts,value,note\n\n2024-01-01,1,a\n\n  \n2024-01-02,2,\"two\nlines\"\n"
                    "2024-01-03,oops,c\n")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "'oops' at 2024-01-03 00:00:00 (line 8)" in err
    path.write_text("ts,value\n2024-01-01,1\n\n2024-01-03,2\n\n2024-01-02,3\n")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "2024-01-02 00:00:00 (line 6) comes after 2024-01-03 00:00:00 " \
        "(line 4)" in err
    path.write_text("ts,value\n2024-01-01,1\n\n2024-01-01,2\n")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "more than once (lines 2 and 4)" in err
    path.write_text("ts,value\n\n01/01/2024,1\n\n02/01/2024,2\n")
    code, _, err = run(capsys, *ridge_args(path))
    assert code == 2 and "ambiguous: '02/01/2024' (line 5)" in err


def test_a_long_panel_file_is_said_to_hold_several_series(tmp_path, capsys, run):
    days = pd.date_range("2024-01-01", periods=30, freq="D").strftime("%Y-%m-%d")
    path = tmp_path / "long.csv"
    pd.DataFrame({"id": ["a"] * 30 + ["b"] * 30, "date": list(days) * 2,
                  "value": np.arange(60.0)}).to_csv(path, index=False)
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                       "--lags", 2, "--model", "ridge")
    assert code == 2 and err == (
        f"tsbptt: error: {path}: time column 'date' has 2024-01-01 00:00:00 more than "
        "once (lines 2 and 32), for 'id' 'a' and 'b': this looks like several series in "
        "one file, one per value of 'id'; the command line forecasts one series: keep the "
        "rows of one 'id' value (or forecast them all with the Python API: a Forecaster "
        "fits such a long frame as a panel, with id_col, time_col and target_col naming "
        "its columns)\n")
    # integer ids (store 1, 2) are ids too: they got "sum or average the duplicates"
    pd.DataFrame({"store": [1] * 30 + [2] * 30, "date": list(days) * 2,
                  "value": np.arange(60.0)}).to_csv(path, index=False)
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                       "--lags", 2, "--model", "ridge")
    assert code == 2 and "for 'store' 1 and 2: this looks like several series" in err
    # an integer target (or covariate) is no id column, even when its values repeat
    path.write_text("date,visits\n2024-01-01,1\n2024-01-02,0\n2024-01-02,1\n"
                    "2024-01-03,0\n")
    code, _, err = run(capsys, "forecast", path, "--target", "visits", "--horizon", 1,
                       "--lags", 2, "--model", "ridge")
    assert code == 2 and err.endswith("keep one row per time (sum or average the "
                                      "duplicates)\n")
    # repeated rows without such a column: the old advice
    path = tmp_path / "dup.csv"
    path.write_text("date,value,note\n2024-01-01,1,x\n2024-01-02,2,y\n2024-01-02,3,y\n")
    code, _, err = run(capsys, "forecast", path, "--target", "value", "--horizon", 1,
                       "--lags", 2, "--model", "ridge")
    assert code == 2 and err.endswith("more than once (lines 3 and 4); keep one row per "
                                      "time (sum or average the duplicates)\n")


def test_yyyymm_integers_are_refused_not_read_as_steps(tmp_path, capsys, run, ridge_args):
    # read as steps, with the --fill the gap error advised, monthly data forecast
    # 202313 (704 of 812 steps made up)
    months = pd.date_range("2015-01-01", "2023-12-01", freq="MS")
    path = _dated_csv(tmp_path, months.strftime("%Y%m").astype(int))
    code, out, err = run(capsys, *ridge_args(path, "--fill", "interpolate"))
    assert code == 2 and out == ""
    assert err == (f"tsbptt: error: {path}: time column 'ts' holds integers that read as "
                   "dates, year month (201501 ..); integers are read as steps (the step "
                   "after 202312 would be 202313), so write the dates as dates, e.g. "
                   "2015-01\n")


def test_times_without_a_date_are_refused_not_dated_today(tmp_path, capsys, run, ridge_args):
    # a column of clock times was read on the day the command ran: the forecasts'
    # dates changed from one day to the next
    clock = pd.date_range("2024-01-01", periods=30, freq="15min").strftime("%H:%M")
    path = _dated_csv(tmp_path, clock)
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 2 and out == ""
    assert err == (f"tsbptt: error: {path}: time column 'ts' has a time without a full "
                   "date: '00:00' (line 2); it would be read on a date the file does not "
                   "give (today's); write dates and times, e.g. 2024-01-31 13:00\n")
    # Excel's month-year export: the reading it likely means is named
    months = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%b-%y")
    code, out, err = run(capsys, *ridge_args(_dated_csv(tmp_path, months)))
    assert code == 2 and err.endswith("(a month and a two-digit year? write 2024-01)\n")
    # a year and a month are a month (read as a full date, the month's first day,
    # they came back as 2022-07-01), written back in the file's form
    months = pd.date_range("2020-01-01", periods=30, freq="MS").strftime("%b %Y")
    code, out, err = run(capsys, *ridge_args(_dated_csv(tmp_path, months)))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["Jul", "2022"]


def test_a_two_digit_year_first_is_ambiguous(tmp_path, capsys, run, ridge_args):
    # 24-03-01 was read as 24 March 2001, then the gaps this made were "filled"
    hours = pd.date_range("2024-03-01", periods=30, freq="h").strftime("%y-%m-%d %H:%M")
    path = _dated_csv(tmp_path, hours)
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 2 and out == ""
    assert ("ambiguous: '24-03-01 00:00' (line 2) is 2001-03-24 read day first but "
            "2024-03-01 read year first") in err


def test_rows_with_more_fields_than_the_header(tmp_path, capsys, run, ridge_args):
    times = pd.date_range("2024-01-01", periods=30, freq="h")
    rows = "".join(f"{t:%Y-%m-%d %H:%M},{v},\n" for t, v in zip(times, range(30)))
    path = tmp_path / "trailing.csv"
    path.write_text("ts,value\n" + rows)
    # a delimiter at the end of every row (an export's): read as meant
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[:2] == ["2024-01-02", "06:00:00"]
    # an integer time column 1, 2, ... became a RangeIndex of labels, unnoticed
    path = tmp_path / "steps.csv"
    path.write_text("ts,value\n" + "".join(f"{t},{v}.5,\n" for t, v in zip(range(1, 31),
                                                                           range(30))))
    code, out, err = run(capsys, *ridge_args(path))
    assert code == 0, err
    assert out.splitlines()[1].split()[0] == "31"
    # a whitespace separator splits a date from its time: every column was read a
    # field off, and with one day of data the forecasts were dated today
    path = tmp_path / "spaces.txt"
    path.write_text("ts value\n" + rows.replace(",", " ").replace(" \n", "\n"))
    code, out, err = run(capsys, *ridge_args(path, "--sep", r"\s+"))
    assert code == 2 and out == ""
    assert err == (f"tsbptt: error: {path}'s rows have 3 fields, its header names 2 "
                   "('ts, value'): every column would be read a field off (the first row "
                   "starts '2024-01-01'). Is the separator inside a value? Split by "
                   "whitespace, a date and a time with a space between them are two "
                   "fields (quotes do not hold them together there): join them "
                   "(2024-01-31T13:00)\n")


def test_a_decimal_comma_file_reads_dots_by_its_own_rules(tmp_path, capsys, run):
    # with --decimal ',' a column pandas left as text went through pd.to_numeric,
    # which reads '.' as the decimal mark: 1.148 (a thousand and 148) forecast 1.148
    path = tmp_path / "de.csv"
    path.write_text("Datum;Menge\n" + "".join(
        f"{d:%d.%m.%Y};{v}\n" for d, v in zip(pd.date_range("2024-01-21", periods=5),
                                               ["1.000", "999,5", "1.074", "1.111", "1.148"])))
    naive = ("forecast", path, "--sep", ";", "--decimal", ",", "--target", "Menge",
             "--model", "naive", "--season", 1, "--lags", 2, "--horizon", 1)
    code, _, err = run(capsys, *naive)
    assert code == 2 and err.endswith(
        f"column 'Menge' is not numeric: '1.000' at 2024-01-21 00:00:00 (line 2) in {path}; "
        "is '.' a thousands separator? Then pass --thousands '.'\n")
    code, out, err = run(capsys, *naive, "--thousands", ".")
    assert code == 0, err
    assert out.splitlines()[1].split() == ["2024-01-26", "1148.00"]


def test_thousands_dots_leave_day_first_dates_as_dates(tmp_path, capsys, run):
    # pandas applies --thousands to every column: 01.02.2024 became the integer
    # 1022024, read as integer steps (or 'not sorted' across a month end)
    path = tmp_path / "de.csv"
    days = pd.date_range("2024-01-25", periods=12, freq="D")
    german = [f"{1000 + 10 * i:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")
              for i in range(12)]  # 1.000,0 ... 1.110,0
    path.write_text("Datum;Umsatz\n" + "".join(f"{d:%d.%m.%Y};{v}\n"
                                                for d, v in zip(days, german)))
    code, out, err = run(capsys, "forecast", path, "--sep", ";", "--decimal", ",",
                         "--thousands", ".", "--target", "Umsatz", "--model", "naive",
                         "--season", 1, "--lags", 2, "--horizon", 2)
    assert code == 0, err
    assert [line.split() for line in out.splitlines()[1:]] == [
        ["2024-02-06", "1110.00"], ["2024-02-07", "1110.00"]]


def test_a_bad_cell_is_named_not_the_good_ones_before_it(tmp_path, capsys, run):
    # '100,5' (line 2) was named with --decimal ',' given, for 'n.a.' on line 4
    path = _numbers_csv(tmp_path, ["100,5", "101,5", "n.a.", "102,5"], sep=";")
    code, _, err = run(capsys, "forecast", path, "--sep", ";", "--decimal", ",",
                       "--target", "value", "--model", "naive", "--horizon", 1)
    assert code == 2 and err.endswith(
        f"column 'value' is not numeric: 'n.a.' at 2024-01-03 00:00:00 (line 4) in {path}\n")


def test_rows_of_bare_separators_after_the_data_end_it(tmp_path, capsys, run):
    path = tmp_path / "excel.csv"
    path.write_text("date;sales\n" + "".join(f"2024-01-0{i};{i}\n" for i in range(1, 7))
                    + ";\n;\n")
    code, out, err = run(capsys, "forecast", path, "--sep", ";", "--target", "sales",
                         "--model", "naive", "--season", 1, "--lags", 2, "--horizon", 1)
    assert code == 0, err
    assert out.splitlines()[1].split() == ["2024-01-07", "6.000"]


def test_out_and_plot_may_not_name_the_input_or_each_other(tmp_path, capsys, run, wave_csv,
                                                           ridge_args):
    # --out FILE replaced the data with its forecasts, exit code 0
    before = wave_csv.read_text()
    code, _, err = run(capsys, *ridge_args(wave_csv, "--out", wave_csv))
    assert code == 2 and err.endswith(f"--out {wave_csv.name} is also FILE: it would be "
                                      "written over; give another file name\n")
    assert wave_csv.read_text() == before
    same = tmp_path / "same.png"
    code, _, err = run(capsys, *ridge_args(wave_csv, "--out", same, "--plot", same))
    assert code == 2 and "--plot same.png is also --out" in err and not same.exists()


def test_whole_numbers_of_a_text_read_file_stay_exact(tmp_path, capsys, run):
    # read as text (--decimal ','), whole columns went through float64: ids past
    # 2**53 merged (9007199254740993 -> ...992)
    from tsbptt.cli._data import read_csv
    path = tmp_path / "ids.csv"
    path.write_text("date;id;big;value\n2024-01-01;9007199254740993;99999999999999999999;1,5\n"
                    "2024-01-02;9007199254740992;1;2,5\n")
    frame = read_csv(path, ";", ",")
    assert frame["id"].tolist() == [9007199254740993, 9007199254740992]
    assert frame["big"].tolist() == ["99999999999999999999", "1"]  # past int64: text
    assert frame["value"].tolist() == [1.5, 2.5]


def test_compressed_files_are_read_and_archives_refused(tmp_path, capsys, run, ridge_args,
                                                        wave_csv):
    # pandas read data.csv.gz, then the command's own look at the first lines read it
    # as UTF-8 text and failed on the gzip header, naming no file
    import bz2
    import gzip
    import lzma

    code, plain, err = run(capsys, *ridge_args(wave_csv))
    assert code == 0, err
    for suffix, opener in ((".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)):
        packed = tmp_path / f"wave.csv{suffix}"
        with opener(packed, "wb") as f:
            f.write(wave_csv.read_bytes())
        code, out, err = run(capsys, *ridge_args(packed))
        assert code == 0, err
        assert out == plain
    archive = tmp_path / "wave.zip"
    archive.write_bytes(wave_csv.read_bytes())
    code, _, err = run(capsys, *ridge_args(archive))
    assert code == 2 and err == (f"tsbptt: error: {archive} is a .zip archive: extract the "
                                 "CSV first (files compressed with .gz, .bz2, .xz are read "
                                 "as they are)\n")
    code, _, err = run(capsys, *ridge_args("-"))
    assert code == 2 and err == ("tsbptt: error: FILE - (standard input) is not read: save "
                                 "the CSV to a file and give its name\n")


def test_a_file_not_in_utf8_names_the_byte_in_the_file(tmp_path, capsys, run):
    # the offset was the byte's place in pandas' buffer, not in the file
    path = tmp_path / "latin1.csv"
    path.write_bytes("ts;Temp\u00e9rature\n".encode("latin-1")
                     + b"".join(f"2024-01-{d:02d};{d}\n".encode() for d in range(1, 29)))
    code, _, err = run(capsys, "forecast", path, "--target", "Temp\u00e9rature", "--sep", ";",
                       "--horizon", 2, "--model", "ridge", "--lags", 2)
    assert code == 2 and err == (f"tsbptt: error: {path} is not UTF-8 text (byte 7): save "
                                 "it as UTF-8 CSV\n")


def test_damaged_compressed_files_and_tarballs_are_named(tmp_path, capsys, run, ridge_args,
                                                         wave_csv):
    # a cut .gz ended in "EOFError (run with --debug ...)", exit 1, naming no file;
    # a .tar.gz was read by pandas (its one member) and by the command as raw bytes
    import gzip
    import tarfile

    packed = tmp_path / "cut.csv.gz"
    packed.write_bytes(gzip.compress(wave_csv.read_bytes())[:-40])
    code, _, err = run(capsys, *ridge_args(packed))
    assert code == 2 and err.startswith(f"tsbptt: error: cannot read {packed} as a .gz "
                                        "file: ") and err.count("\n") == 1
    fake = tmp_path / "text.csv.gz"
    fake.write_bytes(wave_csv.read_bytes())
    code, _, err = run(capsys, *ridge_args(fake))
    assert code == 2 and f"cannot read {fake} as a .gz file" in err
    tarball = tmp_path / "wave.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(wave_csv, arcname="wave.csv")
    code, _, err = run(capsys, *ridge_args(tarball))
    assert code == 2 and f"{tarball} is a .tar.gz archive: extract the CSV first" in err
