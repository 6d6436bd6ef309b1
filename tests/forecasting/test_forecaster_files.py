"""Forecaster.save / load_forecaster: the same forecasts, intervals and updates after
a round trip, and damaged or foreign files refused."""
import datetime as dt
import json
import warnings
import zipfile
from fractions import Fraction
from pathlib import Path

import dateutil.tz
import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.neighbors import KNeighborsRegressor

from tsbptt import (ESNRegressor, Forecaster, GRURegressor, SeasonalNaive, load_forecaster,
                    load_model, save_model)
from tsbptt.forecasting._panel import _zone_name
from tsbptt.persistence import read_model_file, write_model_file


DATA = Path(__file__).parent / "data"


def _frame(T=120):
    rng = np.random.default_rng(0)
    t = np.arange(T)
    return pd.DataFrame({
        "unique_id": np.repeat(["a", "b", "c"], T),
        "ds": np.tile(pd.date_range("2024-01-01", periods=T, freq="h"), 3),
        "y": np.concatenate([2 * k + k * np.sin(2 * np.pi * t / 24) + rng.normal(0, .1, T)
                             for k in (1, 2, 3)]),
        "size": np.repeat([1.0, 2.0, 5.0], T)})


def _round_trip(f, tmp_path):
    path = tmp_path / "forecaster.npz"
    f.save(path)
    return load_forecaster(path)


def _gru():
    return GRURegressor(hidden_size=4, max_iter=3, random_state=0)


@pytest.mark.parametrize("make", [
    lambda: Forecaster(Ridge(), lags=24, horizon=3, interval="conformal",
                       static_features=["size"], calendar=["hour"], transform="log",
                       series_id=True),
    lambda: Forecaster(_gru(), lags=24, horizon=3, interval="conformal"),
    lambda: Forecaster(SeasonalNaive(24), lags=24, horizon=3, scaling=None),
    lambda: Forecaster(_gru(), lags=24, horizon=3, n_seeds=2, max_time=1e6),
    # a linear model or SeasonalNaive inside a WindowModel (differenced or
    # window-scaled data) is kept as its parts (once refused with a TypeError)
    lambda: Forecaster(Ridge(), lags=24, horizon=3, transform="diff", interval="conformal"),
    lambda: Forecaster(Ridge(), lags=24, horizon=3, scaling="window"),
    lambda: Forecaster(SeasonalNaive(24), lags=24, horizon=3, transform="seasonal_diff"),
], ids=["ridge", "gru_window_model", "naive", "gru_seeds", "ridge_diff",
        "ridge_window_scaling", "naive_seasonal_diff"])
def test_round_trip_gives_the_same_forecasts_and_intervals(make, tmp_path):
    f = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        f.fit(_frame() if f.static_features else _frame().drop(columns="size"))
    g = _round_trip(f, tmp_path)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
    if f.interval:
        pd.testing.assert_frame_equal(g.predict_interval(coverage=0.8),
                                      f.predict_interval(coverage=0.8), check_exact=True)
    np.testing.assert_array_equal(g.target_mean_, f.target_mean_)
    assert g.get_params(deep=False).keys() == f.get_params(deep=False).keys()
    assert g.channels_ == f.channels_ and g.season_ == f.season_
    if f.n_seeds > 1:  # every member comes back, with the epochs the budget allowed
        assert len(g.estimator_.estimators_) == 2 and g.estimator_.max_iter_ == 3
        assert g.estimator_.use_network_ == f.estimator_.use_network_


def test_stateful_state_survives_and_updates_alike(tmp_path):
    y = pd.Series(np.sin(np.arange(150) / 5) + 2, index=pd.period_range(
        "2000-01", periods=150, freq="M"), name="v")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        f = Forecaster(_gru(), lags=12, horizon=4, strategy="stateful").fit(y)
    g = _round_trip(f, tmp_path)
    for a, b in zip(g.states_, f.states_):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    new = pd.Series([2.5, 2.4], index=pd.period_range("2012-07", periods=2, freq="M"))
    pd.testing.assert_series_equal(g.update(new).predict(), f.update(new).predict(),
                                   check_exact=True)
    assert isinstance(g.predict().index, pd.PeriodIndex)


def test_damaged_or_foreign_files_are_refused(tmp_path):
    f = Forecaster(Ridge(), lags=6, horizon=2).fit(_frame().drop(columns="size"))
    path = tmp_path / "f.npz"
    f.save(path)
    arrays = dict(np.load(path))
    arrays["fit/target_mean_"] = arrays["fit/target_mean_"] + 1.0
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_forecaster(tmp_path / "edited.npz")
    with zipfile.ZipFile(tmp_path / "extra.npz", "w") as zf:
        zf.writestr("payload.pkl", b"x")
    with pytest.raises(ValueError, match="unexpected member 'payload.pkl'"):
        load_forecaster(tmp_path / "extra.npz")
    with pytest.raises(ValueError, match="is not a regular file"):
        load_forecaster(tmp_path)
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="is not a readable forecaster file"):
        load_forecaster(tmp_path / "text.npz")
    knn = Forecaster(KNeighborsRegressor(2), lags=6).fit(_frame().drop(columns="size"))
    with pytest.raises(ValueError, match="around KNeighborsRegressor cannot be saved"):
        knn.save(tmp_path / "knn.npz")
    knn = Forecaster(KNeighborsRegressor(2), lags=6, transform="diff").fit(
        _frame().drop(columns="size"))
    with pytest.raises(ValueError, match="around KNeighborsRegressor cannot be saved"):
        knn.save(tmp_path / "knn_diff.npz")


def test_a_file_of_format_1_written_before_the_shared_reader_still_loads():
    # written by the Forecaster.save of commit b218a78 (its own writer, before
    # forecaster files went through tsbptt.persistence): same layout, same checksum
    g = load_forecaster(DATA / "forecaster_format1.npz")
    f = Forecaster(Ridge(), lags=24, horizon=3, interval="conformal",
                   static_features=["size"], calendar=["hour"], series_id=True).fit(_frame())
    np.testing.assert_array_equal(g.target_mean_, f.target_mean_)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), rtol=1e-9)
    # the file's conformal scores are the same errors in the calibration model's
    # units (before the units fix): each row a fixed multiple of today's, that
    # multiple the ratio of the two models' scales for the row's series
    ratio = f.residuals_ / g.residuals_
    np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones((1, ratio.shape[1])),
                               rtol=1e-9)
    assert np.all(np.abs(np.log(ratio)) < 0.2)
    band, old = f.predict_interval(coverage=0.8), g.predict_interval(coverage=0.8)
    pd.testing.assert_series_equal(band["forecast"], old["forecast"], rtol=1e-9)


def test_forecaster_files_get_the_model_files_checks(tmp_path):
    f = Forecaster(Ridge(), lags=6, horizon=2).fit(_frame().drop(columns="size"))
    path = tmp_path / "f.npz"
    f.save(path)
    arrays, meta = read_model_file(path, lambda name: True, format="tsbptt-forecaster",
                                   what="forecaster file")
    assert meta["format"] == "tsbptt-forecaster" and meta["format_version"] == 1
    assert "tsbptt_version" in meta and len(meta["checksum"]) == 64
    # a compressed archive with a valid checksum: refused before it is inflated
    blob = {k: v for k, v in dict(np.load(path)).items()}
    np.savez_compressed(tmp_path / "zipped.npz", **blob)
    with pytest.raises(ValueError, match="member .* is compressed"):
        load_forecaster(tmp_path / "zipped.npz")
    # a member whose header declares more bytes than it holds
    blob["fit/target_mean_"] = np.zeros(3)
    np.savez(tmp_path / "short.npz", **blob)
    with zipfile.ZipFile(tmp_path / "short.npz") as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts["fit/target_mean_.npy"] = parts["fit/target_mean_.npy"][:-8]
    with zipfile.ZipFile(tmp_path / "short.npz", "w") as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    with pytest.raises(ValueError, match="declares shape"):
        load_forecaster(tmp_path / "short.npz")
    # an estimator's model file is not a forecaster file, and the other way round
    save_model(_fitted_gru(), tmp_path / "gru.npz")
    with pytest.raises(ValueError, match="gru.npz' is a 'tsbptt-model' file, not a "
                                         "forecaster file"):
        load_forecaster(tmp_path / "gru.npz")
    with pytest.raises(ValueError, match="is a 'tsbptt-forecaster' file, not a tsbptt "
                                         "model file"):
        load_model(path)
    # the metadata is parsed with the model files' bounds (here: a huge integer)
    meta_blob = json.loads(dict(np.load(path))["meta.json"].tobytes())
    meta_blob["series"] = [int("9" * 40)]
    blob = dict(np.load(path))
    blob["meta.json"] = np.frombuffer(json.dumps(meta_blob).encode(), dtype=np.uint8)
    np.savez(tmp_path / "big.npz", **blob)
    with pytest.raises(ValueError, match="meta.json is damaged"):
        load_forecaster(tmp_path / "big.npz")


def _fitted_gru():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _gru().fit(X, X[:, 0])


def test_files_only_a_newer_reader_rebuilds_say_format_2(tmp_path):
    # a WindowModel's linear member is kept as its parts, which readers of format 1
    # cannot rebuild: such a file says format 2, so they refuse it as newer (they
    # said "bad forecaster file"); every other file stays format 1
    from tsbptt.persistence import write_model_file
    frame = _frame().drop(columns="size")
    for name, kw in (("plain", {}), ("diff", {"transform": "diff"})):
        fitted = Forecaster(Ridge(), lags=6, horizon=2, **kw).fit(frame)
        fitted.save(tmp_path / f"{name}.npz")
    versions = {name: read_model_file(tmp_path / f"{name}.npz", lambda n: True,
                                      format="tsbptt-forecaster", format_version=(1, 2))[1]
                ["format_version"] for name in ("plain", "diff")}
    assert versions == {"plain": 1, "diff": 2}
    with pytest.raises(ValueError, match=r"has model format 2, this tsbptt .* reads format 1;"):
        read_model_file(tmp_path / "diff.npz", lambda n: True, format="tsbptt-forecaster")
    pd.testing.assert_frame_equal(load_forecaster(tmp_path / "diff.npz").predict(),
                                  fitted.predict(), check_exact=True)
    arrays, meta = read_model_file(tmp_path / "plain.npz", lambda n: True,
                                   format="tsbptt-forecaster")
    for k in ("format", "format_version", "tsbptt_version", "checksum"):
        meta.pop(k)
    write_model_file(tmp_path / "newer.npz", arrays, meta, format="tsbptt-forecaster",
                     format_version=6)
    with pytest.raises(ValueError, match=r"has model format 6, this .* reads format 1, 2, 3, "
                                         r"4 and 5;"):
        load_forecaster(tmp_path / "newer.npz")


def test_intervals_per_series_round_trip_and_say_format_4(tmp_path):
    # their scores' series, which a reader of format 3 would not pool apart: its
    # parameters would not even take interval_per_series; a pooled file is as before
    frame = _frame().drop(columns="size")
    for per_series in (False, True):
        f = Forecaster(Ridge(), lags=6, horizon=2, interval="conformal",
                       interval_per_series=per_series).fit(frame)
        path = tmp_path / f"{per_series}.npz"
        f.save(path)
        arrays, meta = read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                                       format_version=(1, 2, 3, 4))
        assert meta["format_version"] == (4 if per_series else 1)
        assert ("interval_per_series" in meta["params"]) == per_series
        assert ("fit/residual_series_" in arrays) == per_series
        g = load_forecaster(path)
        assert g.interval_per_series == per_series
        pd.testing.assert_frame_equal(g.predict_interval(coverage=0.8),
                                      f.predict_interval(coverage=0.8), check_exact=True)
    with pytest.raises(ValueError, match=r"has model format 4, this .* reads format 1, 2 and 3"):
        read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                        format_version=(1, 2, 3))
    for edit in (lambda a: a.pop("fit/residual_series_"),
                 lambda a: a.update({"fit/residual_series_": a["fit/residual_series_"] + 3}),
                 lambda a: a.update({"fit/residual_series_": a["fit/residual_series_"][1:]})):
        arrays, meta = read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                                       format_version=(1, 2, 3, 4))
        edit(arrays)
        for k in ("format", "format_version", "tsbptt_version", "checksum"):
            meta.pop(k)
        write_model_file(tmp_path / "edited.npz", arrays, meta, format="tsbptt-forecaster",
                         format_version=4)
        with pytest.raises(ValueError, match="bad residual_series_"):
            load_forecaster(tmp_path / "edited.npz")


def _edited(tmp_path, edit, name):
    """The forecaster file of a small Ridge forecaster, edited and re-checksummed
    through the public reader and writer: what anyone can do to a shared file."""
    from tsbptt.persistence import write_model_file
    y = pd.Series(np.sin(np.arange(300) / 5),
                  index=pd.date_range("2024", periods=300, freq="h"))
    Forecaster(Ridge(), lags=24, horizon=6).fit(y).save(tmp_path / "f.npz")
    arrays, meta = read_model_file(tmp_path / "f.npz", lambda n: True,
                                   format="tsbptt-forecaster")
    for k in ("format", "format_version", "tsbptt_version", "checksum"):
        meta.pop(k)
    edit(arrays, meta)
    write_model_file(tmp_path / name, arrays, meta, format="tsbptt-forecaster")
    return tmp_path / name


@pytest.mark.parametrize("edit, reason", [
    # any name once became an attribute: predict replaced by a string
    (lambda a, m: m["settings"].update(predict="not a method"), "settings are not"),
    (lambda a, m: m["settings"].update(lags_="x"), "bad setting lags_: 'x'"),
    (lambda a, m: m["settings"].update(season_=0), "bad setting season_: 0"),
    (lambda a, m: m["params"].update(estimator={"class": "eval", "params": {}}),
     "unknown estimator class 'eval'"),
    (lambda a, m: m.update(step={"offset": "nope"}), "nope"),
    # a negative scale once flipped every forecast silently
    (lambda a, m: a.__setitem__("fit/target_scale_", -a["fit/target_scale_"]),
     "bad target_scale_: a scale is not positive"),
], ids=["unknown_setting", "lags_type", "season_value", "class", "step", "scale"])
def test_an_edited_forecaster_file_is_refused_naming_it(tmp_path, edit, reason):
    path = _edited(tmp_path, edit, "edited.npz")
    with pytest.raises(ValueError, match=rf"edited\.npz': bad forecaster file \(.*{reason}"):
        load_forecaster(path)


def test_integer_column_and_series_names_round_trip(tmp_path):
    # the settings check once took names for strings only: such a forecaster saved
    # and then could not be loaded
    idx = pd.date_range("2024-01-01", periods=120, freq="h")
    rng = np.random.default_rng(0)
    y = pd.Series(np.sin(np.arange(120) / 5), index=idx, name=3)
    X = pd.DataFrame(rng.standard_normal((120, 2)), index=idx)  # columns 0 and 1
    f = Forecaster(Ridge(), lags=12, horizon=2).fit(y, X)
    g = _round_trip(f, tmp_path)
    assert g.exog_names_ == [0, 1] and g.name_ == 3
    pd.testing.assert_series_equal(g.predict(history=y, history_X=X),
                                   f.predict(history=y, history_X=X), check_exact=True)


def test_custom_business_calendars_and_offset_frequencies_round_trip(tmp_path):
    # the step was written as its string, 'C' for any custom business day: a loaded
    # forecaster dropped the holidays and forecast on them; an offset object as the
    # freq parameter could not be saved at all (TypeError)
    cbd = pd.offsets.CustomBusinessDay(holidays=["2024-12-25", "2024-12-26"],
                                       weekmask="Mon Tue Wed Thu")
    y = pd.Series(np.sin(np.arange(40) / 3) + 10, name="sales",
                  index=pd.date_range(end="2024-12-24", periods=40, freq=cbd))
    weekly = y.set_axis(pd.date_range("2024-01-03", periods=40, freq="W-WED"))
    for data, freq in ((y, None), (y, cbd), (weekly, pd.offsets.Week(weekday=2))):
        f = Forecaster(Ridge(), lags=4, horizon=3, freq=freq).fit(data)
        g = _round_trip(f, tmp_path)
        assert g.step_ == f.step_ and g.freq == f.freq
        pd.testing.assert_series_equal(g.predict(), f.predict(), check_exact=True)
    assert list(_round_trip(Forecaster(Ridge(), lags=4, horizon=3).fit(y), tmp_path)
                .predict().index.strftime("%m-%d")) == ["12-30", "12-31", "01-01"]
    meta = read_model_file(tmp_path / "forecaster.npz", lambda n: True,
                           format="tsbptt-forecaster", format_version=(1, 2))[1]
    assert meta["format_version"] == 2  # a reader of format 1 would drop the holidays
    # what the calendar keywords cannot say is refused, not written as 'C'
    from tsbptt.forecasting._saving import _offset_meta
    from tsbptt.forecasting._saving import _offset_from_meta
    for odd in (pd.offsets.CustomBusinessDay(offset=pd.Timedelta("1h")),
                pd.DateOffset(nanoseconds=5)):  # raw pandas errors, once
        # (a DateOffset of whole calendar fields is kept: months=1 below)
        with pytest.raises(ValueError, match=r"freq <.*> cannot be written to a "
                                             r"forecaster file"):
            _offset_meta(odd, "freq")
    hours = pd.offsets.BusinessHour(start="08:00", end="18:00")  # a TypeError, once
    assert _offset_from_meta(_offset_meta(hours, "freq")) == hours


def test_tuple_names_round_trip_and_nan_names_are_refused_at_save(tmp_path):
    # JSON writes a tuple as a list: a series named ('sales', 's1') (a column of a
    # frame with MultiIndex columns), or such an index name, saved but did not load
    y = pd.Series(np.sin(np.arange(60) / 4) + 5, name=("sales", "s1"),
                  index=pd.date_range("2024", periods=60, freq="D", name=("when", "utc")))
    X = pd.DataFrame({("temp", "max"): np.cos(np.arange(60) / 4)}, index=y.index)
    f = Forecaster(Ridge(), lags=4, horizon=2).fit(y, X)
    g = _round_trip(f, tmp_path)
    assert g.name_ == ("sales", "s1") and g.exog_names_ == [("temp", "max")]
    pd.testing.assert_series_equal(g.predict(), f.predict(), check_exact=True)
    assert g.predict().index.name == ("when", "utc")
    f = Forecaster(Ridge(), lags=4, horizon=2).fit(y.rename(float("nan")))
    with pytest.raises(ValueError, match="is NaN or infinite, which a forecaster file "
                                         "cannot hold: rename it"):
        f.save(tmp_path / "nan.npz")


def _hourly(T=300, tz=None):
    try:
        index = pd.date_range("2024-03-20", periods=T, freq="h", tz=tz)
    except AttributeError:  # pandas 2.2 and 2.3, inside tz_localize
        pytest.skip("this pandas cannot lay out dates in a dateutil zone")
    return pd.Series(np.sin(np.arange(T) / 4) + 3, name="v", index=index)


@pytest.mark.parametrize("base, kw", [
    (Ridge, {}), (Ridge, {"transform": "diff"}), (SeasonalNaive, {}),
], ids=["ridge", "ridge_window_member", "naive"])
def test_a_same_name_subclass_of_a_saved_class_is_refused_at_save(base, kw, tmp_path):
    # the file names the class: a user's Ridge (or SeasonalNaive) of the library's
    # name was saved and loaded back as the library's class, forecasting differently
    user_class = type(base.__name__, (base,), {
        "__module__": __name__, "__qualname__": f"user.{base.__name__}",
        "predict": lambda self, X: 0.5 * base.predict(self, X)})
    est = user_class(24) if base is SeasonalNaive else user_class()
    f = Forecaster(est, lags=24, horizon=3, scaling=None, **kw).fit(_hourly())
    path = tmp_path / "f.npz"
    with pytest.raises(ValueError, match=rf"around {__name__}\.user\.{base.__name__} "
                                         rf"cannot be saved without pickle: .* would load "
                                         rf"this one back as .*\.{base.__name__}; use a "
                                         rf"tsbptt estimator, SeasonalNaive or one of"):
        f.save(path)
    assert not path.exists()


def _params_equal(a, b, same_types=True):
    """Parameters equal by value; arrays given back as arrays of their dtype."""
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert not same_types or (isinstance(b[k], np.ndarray)
                                      and b[k].dtype == a[k].dtype), k
            np.testing.assert_array_equal(b[k], a[k])
        else:
            assert b[k] == a[k], k


@pytest.mark.parametrize("make", [
    lambda: RidgeCV(alphas=np.logspace(-3, 3, 7)),
    lambda: Ridge(alpha=np.array([0.5, 1.0, 2.0], dtype=np.float32)),  # one a target
    lambda: ESNRegressor(30, alpha=np.logspace(-6, 2, 5), random_state=0),
], ids=["ridgecv_alphas", "ridge_alpha_per_target", "esn_alpha"])
def test_numpy_array_parameters_round_trip(make, tmp_path):
    # a TypeError ("ndarray cannot be written to a forecaster file"), once
    f = Forecaster(make(), lags=24, horizon=3).fit(_hourly())
    g = _round_trip(f, tmp_path)
    pd.testing.assert_series_equal(g.predict(), f.predict(), check_exact=True)
    _params_equal(f.estimator.get_params(deep=False), g.estimator.get_params(deep=False))
    # the fitted model (an ESN's inside its window model): a tsbptt network comes
    # back by load_model, its own reader
    fitted, loaded = f.estimator_, g.estimator_
    if isinstance(make(), ESNRegressor):
        fitted, loaded = fitted.estimator_, loaded.estimator_
    _params_equal(fitted.get_params(deep=False), loaded.get_params(deep=False),
                  same_types=not isinstance(fitted, ESNRegressor))


def test_parameters_a_file_cannot_hold_are_refused_naming_them(tmp_path):
    f = Forecaster(Ridge(), lags=24, horizon=3).fit(_hourly())
    for value, reason in ((np.array([1.0, np.nan]), r"alpha \(an array of float64, shape "
                                                    r"\(2,\)\) cannot be written"),
                          (np.array(["a", "b"]), r"alpha \(an array of <U1"),
                          (np.ones((2, 2, 2)), r"alpha \(an array of float64, shape "
                                               r"\(2, 2, 2\)\)"),
                          (Fraction(1, 2), r"alpha=Fraction\(1, 2\) cannot be written")):
        f.estimator.set_params(alpha=value)  # the template a loaded forecaster refits
        with pytest.raises(ValueError, match=f"Ridge's parameter {reason}"):
            f.save(tmp_path / "f.npz")
    assert not (tmp_path / "f.npz").exists()


def _unnamed_berlin():
    """A dateutil zone read from a file: named by its path only."""
    path = Path("/usr/share/zoneinfo/Europe/Berlin")
    if not path.exists():
        pytest.skip("no system time zone database")
    return dateutil.tz.tzfile(str(path))


@pytest.mark.parametrize("tz", [
    "dateutil/Europe/Berlin", dateutil.tz.gettz("Europe/Berlin"), dateutil.tz.tzutc(),
    "Europe/Berlin", dt.timezone(dt.timedelta(hours=5, minutes=30)),
], ids=["dateutil_string", "dateutil_gettz", "dateutil_utc", "zoneinfo", "fixed_offset"])
def test_time_zones_are_saved_by_name_and_load_as_the_same_zone(tz, tmp_path):
    # a dateutil zone was written as its repr (tzfile('/usr/share/zoneinfo/...')):
    # the file saved, but did not load (ZoneInfoNotFoundError)
    f = Forecaster(Ridge(), lags=6, horizon=3).fit(_hourly(tz=tz))  # over a DST change
    g = _round_trip(f, tmp_path)
    forecast, loaded = f.predict(), g.predict()
    np.testing.assert_array_equal(loaded.to_numpy(), forecast.to_numpy())
    assert (loaded.index == forecast.index).all()  # the same instants
    assert list(loaded.index.strftime("%H:%M%z")) == list(forecast.index.strftime("%H:%M%z"))
    assert _zone_name(loaded.index.tz) == _zone_name(forecast.index.tz)
    # the loaded forecaster takes a history in the zone of the data it was fitted on
    pd.testing.assert_series_equal(g.predict(history=_hourly(tz=tz)),
                                   f.predict(history=_hourly(tz=tz)), check_exact=True)


@pytest.mark.parametrize("make_tz", [
    dateutil.tz.tzlocal, lambda: dateutil.tz.tzoffset(None, 3600),
    _unnamed_berlin,
    lambda: dt.timezone(dt.timedelta(hours=2), "EST"),  # an IANA name, of another offset
], ids=["local", "dateutil_offset", "unnamed_file", "misnamed_offset"])
def test_time_zones_without_a_name_to_store_are_refused_at_save(make_tz, tmp_path):
    # each was written as a name that did not load, or loaded as another zone
    f = Forecaster(Ridge(), lags=6, horizon=3).fit(_hourly(tz=make_tz()))
    path = tmp_path / "f.npz"
    with pytest.raises(ValueError, match=r"the series' time zone .* cannot be written to a "
                                         r"forecaster file: only a zone with an IANA name"):
        f.save(path)
    assert not path.exists()


def _window_model_file(tmp_path, edit):
    """A Ridge forecaster of the changes (a WindowModel around its linear member)
    saved, its metadata edited and the file re-checksummed."""
    from tsbptt.persistence import write_model_file
    Forecaster(Ridge(), lags=12, horizon=3, transform="diff").fit(_hourly()).save(
        tmp_path / "f.npz")
    arrays, meta = read_model_file(tmp_path / "f.npz", lambda n: True,
                                   format="tsbptt-forecaster", format_version=(1, 2))
    version = meta["format_version"]
    for k in ("format", "format_version", "tsbptt_version", "checksum"):
        meta.pop(k)
    edit(meta["model"])
    write_model_file(tmp_path / "edited.npz", arrays, meta, format="tsbptt-forecaster",
                     format_version=version)
    return tmp_path / "edited.npz"


@pytest.mark.parametrize("edit, reason", [
    # a raw MemoryError once: [None] * n_members, 8 bytes a claimed member
    (lambda m: m.update(members=[], n_members=10 ** 12),
     "bad n_members 1000000000000: the file holds 0 member"),
    (lambda m: m.update(n_members=2), "bad n_members 2: the file holds 1 member"),
    (lambda m: m.update(n_members=True), "bad n_members True"),
    # a NaN bound loaded and failed inside scikit-learn at predict
    (lambda m: m.update(scale_range=["nan", 1.0]), r"bad scale_range \['nan', 1\.0\]"),
    (lambda m: m.update(scale_range=[0.0, 1.0, 2.0]), "bad scale_range"),
], ids=["huge_count", "count_and_members_disagree", "not_a_count", "nan_scale_range",
        "three_bounds"])
def test_a_window_models_member_count_is_checked_against_its_members(edit, reason,
                                                                     tmp_path):
    with pytest.raises(ValueError, match=rf"edited\.npz': bad forecaster file \(ValueError: "
                                         rf"{reason}"):
        load_forecaster(_window_model_file(tmp_path, edit))


@pytest.mark.parametrize("name", ["fit/residuals_", "model/coef_", "model/intercept_",
                                  "fit/exog_mean_", "tail/values", "tail/X"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_fitted_values_are_refused(name, value, tmp_path):
    # NaN residuals or coefficients once loaded, and forecast NaN without a word
    from tsbptt.persistence import write_model_file
    y = _hourly()
    X = pd.DataFrame({"x": np.cos(np.arange(len(y)) / 5)}, index=y.index)
    Forecaster(Ridge(), lags=12, horizon=3, interval="conformal").fit(y, X).save(
        tmp_path / "f.npz")
    arrays, meta = read_model_file(tmp_path / "f.npz", lambda n: True,
                                   format="tsbptt-forecaster")
    for k in ("format", "format_version", "tsbptt_version", "checksum"):
        meta.pop(k)
    arrays[name] = arrays[name].copy()
    arrays[name].flat[-1] = value
    write_model_file(tmp_path / "edited.npz", arrays, meta, format="tsbptt-forecaster")
    with pytest.raises(ValueError, match=rf"edited\.npz': bad forecaster file \(ValueError: "
                                         rf"{name} holds NaN or infinite values"):
        load_forecaster(tmp_path / "edited.npz")


def test_a_random_state_object_is_saved_as_none_with_a_warning(tmp_path):
    # a RandomState was dropped silently: refits of the loaded forecaster then
    # differ from the original's
    f = Forecaster(Ridge(random_state=np.random.RandomState(0)), lags=6, horizon=2)
    f.fit(_hourly())
    with pytest.warns(UserWarning, match="Ridge's random_state, a RandomState, is saved "
                                         "as None .* refitting it will not repeat") as rec:
        f.save(tmp_path / "f.npz")
    assert rec[0].filename == __file__  # the user's call to save
    assert load_forecaster(tmp_path / "f.npz").estimator.random_state is None
    f = Forecaster(Ridge(random_state=np.int64(3)), lags=6, horizon=2).fit(_hourly())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f.save(tmp_path / "g.npz")  # an integer seed is kept: no warning
    assert load_forecaster(tmp_path / "g.npz").estimator.random_state == 3
    # a tsbptt network: said once, of the template, not again by each member's file
    from tsbptt import RNNRegressor, load_model
    net = RNNRegressor(3, max_iter=1, random_state=np.random.RandomState(0))
    f = Forecaster(net, lags=6, horizon=2).fit(_hourly())
    with pytest.warns(UserWarning, match="RNNRegressor's random_state") as rec:
        f.save(tmp_path / "h.npz")
    assert len([w for w in rec if "random_state" in str(w.message)]) == 1
    # and an estimator's own file, from save_model or .save
    fitted = f.estimator_.estimator_
    with pytest.warns(UserWarning, match="RNNRegressor's random_state, a RandomState, is "
                                         "saved as None") as rec:
        fitted.save(tmp_path / "net.npz")
    assert load_model(tmp_path / "net.npz").random_state is None


def test_tuple_parameters_come_back_as_tuples(tmp_path):
    # JSON has lists only: calendar=('hour',) came back as ['hour'], so get_params
    # of the loaded forecaster differed from the original's
    f = Forecaster(Ridge(), lags=6, horizon=2, transform=("diff",), calendar=("hour",))
    f.fit(_hourly())
    f.save(tmp_path / "f.npz")
    params = load_forecaster(tmp_path / "f.npz").get_params(deep=False)
    for name, value in f.get_params(deep=False).items():
        if name != "estimator":
            assert params[name] == value and type(params[name]) is type(value), name


def test_monthly_data_on_one_day_of_the_month_saves_and_loads(tmp_path):
    # read as pd.DateOffset(months=1), which has no frequency string: the fit worked
    # and save refused it ("cannot be written to a forecaster file")
    idx = pd.DatetimeIndex(  # no freq: as read from a file
        pd.date_range("2020-01-15", periods=48, freq=pd.DateOffset(months=1)).to_numpy())
    f = Forecaster(Ridge(), lags=12, horizon=3).fit(pd.Series(np.arange(48.0), index=idx))
    f.save(tmp_path / "f.npz")
    g = load_forecaster(tmp_path / "f.npz")
    assert g.step_ == pd.DateOffset(months=1)
    pd.testing.assert_series_equal(g.predict(), f.predict(), check_exact=True)


def test_bounds_round_trip_and_say_format_5(tmp_path):
    # an older reader would forecast unclipped: such a file says format 5
    frame = _frame().drop(columns="size")
    for bounds in (None, (0, None)):
        f = Forecaster(Ridge(), lags=6, horizon=2, interval="conformal",
                       bounds=bounds).fit(frame)
        path = tmp_path / f"{bounds is None}.npz"
        f.save(path)
        _, meta = read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                                  format_version=(1, 2, 3, 4, 5))
        assert meta["format_version"] == (1 if bounds is None else 5)
        assert ("bounds" in meta["params"]) == (bounds is not None)
        g = load_forecaster(path)
        assert g.bounds == bounds
        pd.testing.assert_frame_equal(g.predict_interval(), f.predict_interval(),
                                      check_exact=True)


def test_a_drifting_seasonal_naive_round_trips_and_says_format_5(tmp_path):
    from tsbptt import SeasonalNaive
    frame = _frame().drop(columns="size")
    for drift in (False, True):
        f = Forecaster(SeasonalNaive(24, drift=drift), lags=48, horizon=2).fit(frame)
        path = tmp_path / f"{drift}.npz"
        f.save(path)
        _, meta = read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                                  format_version=(1, 2, 3, 4, 5))
        assert meta["format_version"] == (5 if drift else 1)
        assert ("drift" in meta["params"]["estimator"]["params"]) == drift
        g = load_forecaster(path)
        assert g.estimator.drift is drift
        pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
