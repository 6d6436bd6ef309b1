"""Prediction intervals: the conformal bound, quantile networks, coverage, the
rolling-origin splitter."""
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from tsbptt import Forecaster, LSTMRegressor, RollingOrigin, backtest
from tsbptt.forecasting._intervals import _conformal_quantile
from tsbptt.forecasting._panel import to_entries

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _noisy_wave(n, sd=0.2, seed=0):
    rng = np.random.default_rng(seed)
    return pd.Series(5 + np.sin(0.3 * np.arange(n)) + sd * rng.standard_normal(n),
                     index=pd.date_range("2024-01-01", periods=n, freq="h"), name="y")


def test_conformal_quantile_is_the_finite_sample_rank():
    r = np.arange(1.0, 20.0)[:, None]  # 19 residuals: rank ceil(20 * 0.9) = 18
    assert _conformal_quantile(r, 0.9)[0] == 18.0
    assert _conformal_quantile(r, 0.5)[0] == 10.0
    with pytest.raises(ValueError, match="needs at least 19 calibration windows, there are 5"):
        _conformal_quantile(r[:5], 0.95)
    # below 1 / (m + 1) the rank was 0 and row -1 was read: the widest band
    assert _conformal_quantile(r, 1e-12)[0] == 1.0
    assert _conformal_quantile(r, 0.05)[0] == 1.0


def test_backtest_refuses_a_coverage_its_quantile_forecaster_was_not_fitted_for():
    # it was refused only at the first origin's predict_interval, after a fit
    fits = []

    class Counting(Forecaster):
        def fit(self, y, X=None):
            fits.append(1)
            return super().fit(y, X)

    f = Counting(LSTMRegressor(hidden_size=2, max_iter=1), lags=4, horizon=2,
                 interval="quantile", coverage=0.9)
    with pytest.raises(ValueError, match=re.escape(
            "coverage=0.8, but the forecaster's quantile intervals are fitted for "
            "coverage=0.9")):
        backtest(f, _noisy_wave(200), initial=150, step=20, coverage=0.8)
    assert fits == []


def test_conformal_intervals_cover_held_back_data():
    # Gaussian noise of sd 0.2 around a wave Ridge follows: the calibrated 90% band
    # must be about +-1.645 sd wide and cover about 90% of a held-back period
    y = _noisy_wave(1400)
    f = Forecaster(Ridge(1e-3), lags=12, horizon=4, interval="conformal",
                   calibration=0.3).fit(y.iloc[:1000])
    band = f.predict_interval()
    assert list(band.columns) == ["forecast", "lower", "upper"]
    assert band.attrs["coverage"] == 0.9
    width = (band["upper"] - band["lower"]).to_numpy()
    assert np.all((width > 2 * 1.645 * 0.2 * 0.8) & (width < 2 * 1.645 * 0.2 * 1.4))
    assert (band["lower"] < band["forecast"]).all() and (band["forecast"] < band["upper"]).all()
    wider = f.predict_interval(coverage=0.99)
    assert (wider["upper"] - wider["lower"] > band["upper"] - band["lower"]).all()
    bt = backtest(f, y, initial=1000, step=4, refit=False, coverage=0.9)
    print(f"held-back coverage of the 90% conformal interval: {bt.metrics['coverage']:.3f}")
    assert 0.84 <= bt.metrics["coverage"] <= 0.96
    assert {"lower", "upper"} <= set(bt.forecasts.columns)


def test_conformal_scores_are_in_the_final_models_units():
    # a series whose held-back part swings wider: scaled by all of it, y's standard
    # deviation is larger than the calibration model's (the first 211 steps). The
    # scores must be that model's errors in y's units over the final scale.
    y = _noisy_wave(300, sd=0.2, seed=3)
    y.iloc[211:] = 5 + 4 * (y.iloc[211:] - 5)
    f = Forecaster(Ridge(1e-3), lags=6, horizon=2, interval="conformal",
                   calibration=0.3).fit(y)
    cal = Forecaster(Ridge(1e-3), lags=6, horizon=2).fit(y.iloc[:211])
    errors = np.stack([y.iloc[o + 1:o + 3].to_numpy()
                       - cal.predict(history=y.iloc[:o + 1]).to_numpy()
                       for o in range(210, 298)])
    assert y.iloc[:211].std() < 0.5 * y.std()
    np.testing.assert_allclose(f.residuals_ * f.target_scale_[0], errors, rtol=1e-8,
                               atol=1e-10)


def test_quantile_network_intervals():
    y = _noisy_wave(900, seed=1)
    f = Forecaster(LSTMRegressor(16, max_iter=40, learning_rate=1e-2, random_state=0),
                   lags=12, horizon=2, interval="quantile", coverage=0.8).fit(y.iloc[:700])
    net = f.estimator_.estimator_  # a WindowModel holds the network
    assert net.loss == "quantile" and f.estimator_.use_network_
    assert net.quantiles == pytest.approx((0.1, 0.5, 0.9))
    band = f.predict_interval()
    assert (band["lower"] <= band["forecast"]).all() and (band["forecast"] <= band["upper"]).all()
    np.testing.assert_allclose(band["forecast"], f.predict())
    bt = backtest(f, y, initial=700, step=2, refit=False, coverage=0.8)
    print(f"held-back coverage of the 80% quantile-LSTM interval: "
          f"{bt.metrics['coverage']:.3f}")
    assert 0.65 <= bt.metrics["coverage"] <= 0.93
    with pytest.raises(ValueError, match="fitted for coverage=0.8"):
        f.predict_interval(coverage=0.9)


def test_interval_settings_are_checked():
    y = _noisy_wave(200)
    with pytest.raises(ValueError, match="needs interval='conformal' or"):
        Forecaster(Ridge(), lags=3).fit(y).predict_interval()
    with pytest.raises(ValueError, match="needs a tsbptt regressor"):
        Forecaster(Ridge(), lags=3, interval="quantile").fit(y)
    with pytest.raises(ValueError, match="needs strategy='direct'"):
        Forecaster(LSTMRegressor(2), lags=3, strategy="recursive",
                   interval="quantile").fit(y)
    f = Forecaster(Ridge(), lags=3, horizon=2, strategy="recursive",
                   interval="conformal").fit(y)
    assert f.residuals_.shape[1] == 2
    with pytest.raises(ValueError, match="calibrated for 2 steps"):
        f.predict_interval(3)
    with pytest.raises(ValueError, match="too few windows to calibrate"):
        Forecaster(Ridge(), lags=3, interval="conformal").fit(y.iloc[:6])
    # the coverage as given: 0.999 was called "a 100% interval"
    with pytest.raises(ValueError, match=r"too few windows to calibrate a 99\.9% interval: "
                                         r"\d+ held-back origins, 999 needed"):
        Forecaster(Ridge(), lags=3, interval="conformal", coverage=0.999).fit(y)


def test_rolling_origin_splits_and_grid_search():
    y = _noisy_wave(150, sd=0.01)
    cv = RollingOrigin(initial=100, step=10, horizon=4)
    splits = list(cv.split(y))
    assert len(splits) == cv.get_n_splits(y) == 5
    for k, (train, test) in enumerate(splits):
        np.testing.assert_array_equal(train, np.arange(100 + 10 * k))
        np.testing.assert_array_equal(test, np.arange(100 + 10 * k, 104 + 10 * k))
    assert len(list(RollingOrigin(100, 10, 4, max_splits=2).split(y))) == 2
    search = GridSearchCV(Forecaster(Ridge(1e-6), horizon=4), {"lags": [1, 6]}, cv=cv)
    search.fit(y)
    assert search.best_params_["lags"] == 6
    with pytest.raises(ValueError, match="initial must be an integer >= 1"):
        list(RollingOrigin(0).split(y))


def test_coverage_on_the_bundled_electricity_load():
    # the project's own data: fit on all but the last 14 days, forecast each of
    # them 24 h ahead from midnight, count how often the 90% band holds the actual
    from tsbptt import datasets
    y = datasets.load_electricity_load()
    f = Forecaster(Ridge(1.0), lags=48, horizon=24, calendar=["hour", "dayofweek"],
                   interval="conformal")
    bt = backtest(f, y, initial=len(y) - 14 * 24, step=24, refit=False, coverage=0.9)
    print(f"electricity load, last 14 days: coverage of the 90% conformal interval "
          f"{bt.metrics['coverage']:.3f} (336 forecasts)")
    assert 0.84 <= bt.metrics["coverage"] <= 0.96


def test_backtest_with_a_shorter_horizon_than_a_direct_forecaster_with_future_exog():
    # the direct model reads its future-known covariates over its whole horizon (4):
    # the last origins, where X ends within it, used to fail with "does not cover"
    y = _noisy_wave(100)
    X = pd.DataFrame({"plan": np.cos(0.3 * np.arange(100))}, index=y.index)
    f = Forecaster(Ridge(), lags=6, horizon=4, future_exog=["plan"])
    bt = backtest(f, y, X, initial=80, step=1, horizon=2)
    assert bt.forecasts["origin"].nunique() == 100 - 4 - 80 + 1
    assert bt.forecasts["time"].max() == y.index[-3]
    with pytest.raises(ValueError, match="horizon=4 steps of future-known covariates"):
        backtest(f, y, X, initial=97, horizon=2)


def test_calibration_cut_off_is_one_time_for_every_series():
    # b covers only the last part of a's dates: the calibration model must not
    # train on a's data after the cut-off time, where b's held-back origins are
    idx = pd.date_range("2024-01-01", periods=400, freq="h")
    rng = np.random.default_rng(3)
    a = pd.Series(np.sin(np.arange(400) / 5) + 0.1 * rng.standard_normal(400), idx)
    b = a.iloc[250:] * 2
    f = Forecaster(Ridge(), lags=6, horizon=2, interval="conformal").fit({"a": a, "b": b})
    seen = {}
    original = f._fit_model

    def spy(data, last, *label):
        seen.update({s.key: s.index[stop] for s, stop in zip(data, last)
                     if stop >= 0})
        return original(data, last, *label)

    f._fit_model = spy
    entries = to_entries({"a": a, "b": b})[0]  # the training data, as fit reads it
    f._calibrate(entries, [f._scaled(e) for e in entries])
    # both series' training data end at the same time: the 429th of the 536
    # pooled origins (a's 393 at hours 5..397, b's 143 at hours 255..397), hour
    # 344 — not at 80% of each series (hour 319 for a, hour 369 for b)
    origins = np.sort(np.r_[np.arange(5, 398), np.arange(255, 398)])
    assert origins[int(0.8 * 536)] == 344
    assert seen["a"] == seen["b"] == idx[344]
    assert f.residuals_.shape[1] == 2
    band = f.predict_interval()
    assert (band["lower"] < band["upper"]).all()


def test_backtest_season_checked_first_and_mase_undefined_warns():
    y = pd.Series(np.tile([1.0, 2.0, 3.0], 40),
                  index=pd.date_range("2024-01-01", periods=120, freq="D"))
    f = Forecaster(Ridge(), lags=3, horizon=2)
    with pytest.raises(ValueError, match="initial=10 must exceed season=12"):
        backtest(f, y, initial=10, season=12)
    with pytest.raises(ValueError, match="season must be an integer >= 1, got 0"):
        backtest(f, y, initial=50, season=0)
    with pytest.warns(RuntimeWarning, match="MASE is undefined.*season=3"):
        bt = backtest(f, y, initial=100, step=5, season=3)
    assert np.isnan(bt.metrics["mase"]) and np.isfinite(bt.metrics["mae"])
    # flat but for a missing value the forecaster fills: the same warning (it
    # raised inside mase, after every origin had been fitted)
    y2 = pd.Series(5.0, index=pd.date_range("2024-01-01", periods=80, freq="D"))
    y2.iloc[60:] = np.arange(20.0)
    y2.iloc[10] = np.nan
    with pytest.warns(RuntimeWarning, match="MASE is undefined.*missing values left out"):
        bt = backtest(Forecaster(Ridge(), lags=7, horizon=3, fill="ffill"), y2, initial=50,
                      step=3)
    assert np.isnan(bt.metrics["mase"]) and np.isfinite(bt.metrics["mae"])


@pytest.mark.parametrize("panel", [False, True])
def test_backtest_refuses_a_request_every_origin_would_refuse_before_fitting(
        panel, monkeypatch):
    y = _noisy_wave(200)
    data = {"a": y, "b": y + 1} if panel else y
    fits = []
    monkeypatch.setattr(Forecaster, "fit", lambda self, *a, **k: fits.append(1))
    with pytest.raises(ValueError, match="coverage=0.9 asks for intervals, but the "
                                         "forecaster has interval=None"):
        backtest(Forecaster(Ridge(), lags=24, horizon=3), data, initial=150, coverage=0.9)
    with pytest.raises(ValueError, match=r"coverage must be a number in \(0, 1\)"):
        backtest(Forecaster(Ridge(), lags=24, horizon=3, interval="conformal"), data,
                 initial=150, coverage=1.5)
    with pytest.raises(ValueError, match="horizon=9 exceeds the forecaster's horizon=3"):
        backtest(Forecaster(Ridge(), lags=24, horizon=3), data, initial=150, horizon=9)
    with pytest.raises(ValueError, match="refit must be True or False, got 'no'"):
        backtest(Forecaster(Ridge(), lags=24, horizon=3), data, initial=150, refit="no")
    # intervals from too few backtest origins (it failed after a whole fit)
    from tsbptt import AutoForecaster
    monkeypatch.setattr(AutoForecaster, "fit", lambda self, *a, **k: fits.append(1))
    with pytest.raises(ValueError, match=re.escape(
            "coverage=0.9 asks for intervals from AutoForecaster's own backtest errors, "
            "which need n_origins=9 or more (it has n_origins=None): set it")):
        backtest(AutoForecaster(3, candidates=("naive", "ridge")), data, initial=150,
                 coverage=0.9)
    assert not fits  # refused before the first origin's fit


def test_backtest_names_a_gap_in_the_scored_steps():
    # a forecaster that fills gaps fits across one, but the forecast steps of the
    # origins before it cannot be scored: the error named two equal-looking date lists
    y = _noisy_wave(200)
    gapped = y.drop(y.index[120])
    f = Forecaster(Ridge(), lags=10, horizon=3, fill="ffill")
    message = (f"y has no row at {y.index[120]!r}, step 3 after the origin "
               f"{y.index[117]!r} (the next row is at {y.index[121]!r})")
    with pytest.raises(ValueError, match=re.escape(message)):
        backtest(f, gapped, initial=100, step=3)
    bt = backtest(f, gapped, initial=130, step=3)  # origins after the gap: scored
    assert np.isfinite(bt.metrics["mae"])


def test_stateful_calibration_origins_come_after_all_it_trained_on(monkeypatch):
    # one sequence length cuts every series at one position; in a series with later
    # dates that position is a later time, so another series' held-back origins
    # must start there, not at the same position
    from tsbptt import GRURegressor
    from tsbptt.forecasting._forecaster import Forecaster as F
    rng = np.random.default_rng(0)
    n = 200
    a = pd.Series(np.sin(np.arange(n) / 4) + 0.1 * rng.standard_normal(n),
                  index=pd.date_range("2024-01-01", periods=n, freq="h"))
    b = pd.Series(np.sin(np.arange(n) / 4) + 0.1 * rng.standard_normal(n),
                  index=pd.date_range("2024-01-03", periods=n, freq="h"))
    seen = {}
    fit_model, forecast = F._fit_model, F._forecast

    def spy_fit(self, data, last, label=None):
        if label and "calibration" in label:
            seen["latest"] = max(s.times[c] for s, c in zip(data, last))
        return fit_model(self, data, last, label)

    def spy_forecast(self, model, jobs, steps, states=None):
        if "latest" in seen and "origins" not in seen:
            seen["origins"] = [s.times[o] for s, o in jobs]
        return forecast(self, model, jobs, steps, states)

    monkeypatch.setattr(F, "_fit_model", spy_fit)
    monkeypatch.setattr(F, "_forecast", spy_forecast)
    F(GRURegressor(4, max_iter=2, random_state=0), lags=12, horizon=3, strategy="stateful",
      interval="conformal").fit({"a": a, "b": b})
    assert min(seen["origins"]) >= seen["latest"]


def test_set_params_after_fit_is_refused_by_name_where_forecasts_read_it(tmp_path):
    # predict read horizon, strategy, interval and a quantile band's coverage as set
    # now: another band silently (a CQR model's scores read as conformal ones), a band
    # labelled with a coverage its quantiles were not fitted for, or NumPy's reshape
    # and broadcast errors
    from tsbptt import load_forecaster
    y = _noisy_wave(200)
    f = Forecaster(Ridge(), lags=6, horizon=2, interval="conformal").fit(y)
    before = f.predict_interval()
    for change in (dict(horizon=3), dict(strategy="recursive"), dict(interval="quantile")):
        (name, value), = change.items()
        fitted = f.get_params()[name]
        f.set_params(**change)
        for act in (f.predict, f.predict_interval, lambda: f.update(y.iloc[:0]),
                    lambda: f.score(y.iloc[:2]), lambda: f.save(tmp_path / "f.npz")):
            with pytest.raises(ValueError, match=f"{name}={value!r} differs from the "
                                                 f"fitted forecaster's {name}={fitted!r}"):
                act()
        f.set_params(**{name: fitted})
    pd.testing.assert_frame_equal(f.predict_interval(), before)
    # a conformal band takes any coverage the parameter now asks for
    assert f.set_params(coverage=0.8).predict_interval().attrs["coverage"] == 0.8
    f.save(tmp_path / "f.npz")
    loaded = load_forecaster(tmp_path / "f.npz").set_params(horizon=1)
    with pytest.raises(ValueError, match="horizon=1 differs from the fitted"):
        loaded.predict()
    q = Forecaster(LSTMRegressor(2, max_iter=1, random_state=0), lags=6,
                   interval="quantile", coverage=0.9).fit(y)
    with pytest.raises(ValueError, match="coverage=0.5 differs from the fitted "
                                         "forecaster's coverage=0.9"):
        q.set_params(coverage=0.5).predict_interval()
    # a refit takes the parameters as they are
    assert len(f.set_params(horizon=3).fit(y).predict()) == 3


@pytest.mark.parametrize("calendar", [None, ["dayofweek"]])
def test_a_ridge_calibration_does_not_read_past_its_cut(calendar):
    # a plain Ridge's normal equations were centred on the mean of the whole series,
    # held-back steps included: a last value of 1e9 moved calibration residuals
    # whose targets end before it by 1.3 (typical residual 0.28), and the Gram's
    # centring lost their digits
    rng = np.random.default_rng(3)
    n = 120
    y = pd.Series(np.sin(np.arange(n) / 3) + 0.2 * rng.standard_normal(n) + 5,
                  pd.date_range("2024-01-01", periods=n, freq="D"))
    spiked = y.copy()
    spiked.iloc[-1] = 1e9

    def raw_residuals(series):
        f = Forecaster(Ridge(1.0), lags=4, horizon=2, calendar=calendar,
                       interval="conformal").fit(series)
        return f.residuals_[:-1] * f.target_scale_[0]  # the last row's targets reach n - 1

    # the calibration model fitted by hand on the steps up to the cut-off
    origins = range(3, n - 2)
    cut = origins[int(np.floor(0.8 * len(origins)))]
    g = Forecaster(Ridge(1.0), lags=4, horizon=2, calendar=calendar).fit(spiked[:cut + 1])
    hand = np.array([spiked.to_numpy()[o + 1:o + 3]
                     - g.predict(2, history=spiked[:o + 1]).to_numpy()
                     for o in range(cut, n - 3)])
    np.testing.assert_allclose(raw_residuals(spiked), hand, rtol=0, atol=1e-9)
    np.testing.assert_allclose(raw_residuals(y), raw_residuals(spiked), rtol=0, atol=1e-12)


def _wave_and_noise(n=700, seed=0):
    """A wave whose noise (sd 1) is a small part of its spread, and noise alone."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2020-01-01", periods=n, freq="D")
    return {"wave": pd.Series(10 * np.sin(2 * np.pi * np.arange(n) / 12)
                              + rng.standard_normal(n), idx),
            "noise": pd.Series(rng.standard_normal(n), idx)}


def _held_out(f, panel, start):
    """Per series, the coverage and mean half-width of f's bands over the origins
    from ``start`` on (3 steps apart), each from the history up to it."""
    hits, half = {k: [] for k in panel}, {k: [] for k in panel}
    for t in range(start, len(panel["noise"]) - 3, 3):
        band = f.predict_interval(history={k: s.iloc[:t] for k, s in panel.items()})
        for k, s in panel.items():
            b, a = band.loc[k], s.iloc[t:t + 3].to_numpy()
            hits[k] += list((a >= b["lower"].to_numpy()) & (a <= b["upper"].to_numpy()))
            half[k].append(((b["upper"] - b["lower"]) / 2).mean())
    return {k: (np.mean(hits[k]), np.mean(half[k])) for k in panel}


def test_intervals_per_series_take_each_series_own_errors():
    # pooled, each series' errors over its spread: the wave's are a small part of
    # it, so its band came out 5 times too wide (coverage 1) and the noise's too
    # narrow (0.79 for 0.9); per series, each band is the split-conformal quantile
    # of that series' own held-back errors
    panel = _wave_and_noise()
    train = {k: s.iloc[:500] for k, s in panel.items()}
    pooled = Forecaster(Ridge(1e-3), lags=24, horizon=3, interval="conformal").fit(train)
    f = Forecaster(Ridge(1e-3), lags=24, horizon=3, interval="conformal",
                   interval_per_series=True).fit(train)
    np.testing.assert_array_equal(f.residuals_, pooled.residuals_)  # the same scores
    assert f.predict().equals(pooled.predict())
    rows = f.residual_series_
    assert pooled.residual_series_ is None and sorted(set(rows)) == [0, 1]
    band = f.predict_interval(coverage=0.8)
    for i, key in enumerate(f.series_):
        half = _conformal_quantile(np.abs(f.residuals_[rows == i]), 0.8)
        got = (band.loc[key, "upper"] - band.loc[key, "forecast"]).to_numpy()
        np.testing.assert_allclose(got, half * f.target_scale_[i], rtol=1e-12)
    old, new = _held_out(pooled, panel, 500), _held_out(f, panel, 500)
    assert old["wave"][0] == 1.0 and old["wave"][1] > 8 and old["noise"][0] < 0.8
    assert 0.8 < new["wave"][0] < 0.99 and new["wave"][1] < 3  # sd 1: 1.645
    assert 0.8 < new["noise"][0] and 1.4 < new["noise"][1] < 2.2


def test_intervals_per_series_need_enough_origins_in_every_series():
    panel = _wave_and_noise(400)
    panel["short"] = panel["noise"].iloc[-20:]  # starts late: a few held-back origins
    with pytest.raises(ValueError, match=re.escape(
            "per series: series 'short' has 8 held-back origins, 9 needed")):
        Forecaster(Ridge(), lags=10, horizon=3, interval="conformal",
                   interval_per_series=True).fit(panel)
    del panel["short"]
    f = Forecaster(Ridge(), lags=10, horizon=3, interval="conformal",
                   interval_per_series=True).fit(panel)
    m = int(np.sum(f.residual_series_ == 1))
    with pytest.raises(ValueError, match=re.escape(
            f"needs at least {int(np.ceil(0.999 / 0.001 - 1e-9))} calibration windows of "
            f"series 'wave', there are {m}")):
        f.predict_interval(coverage=0.999)
    with pytest.raises(ValueError, match="interval_per_series=True calibrates intervals, "
                                         "but interval=None makes none"):
        Forecaster(Ridge(), lags=10, interval_per_series=True).fit(panel)
    f.set_params(interval_per_series=False)
    with pytest.raises(ValueError, match="interval_per_series"):
        f.predict_interval()
    one = Forecaster(Ridge(), lags=10, horizon=3, interval="conformal",
                     interval_per_series=True).fit(panel["wave"])
    with pytest.raises(ValueError, match=r"needs at least 999 calibration windows, there"):
        one.predict_interval(coverage=0.999)  # no "of series None" for one series


def test_rolling_origin_refuses_what_it_would_split_as_one_series():
    # a long frame whose time column RollingOrigin was not told was split by rows,
    # its series' steps counted as one series' (8 folds of 2 steps, not 2 of 4);
    # a dict was counted by its keys
    rng = np.random.default_rng(0)
    times = pd.date_range("2024-01-01", periods=60, freq="D")
    frame = pd.DataFrame({"sid": np.tile(["a", "b"], 60), "time": np.repeat(times, 2),
                          "val": rng.normal(size=120)})
    with pytest.raises(ValueError, match=re.escape(
            "X looks like a long panel: its column 'time' holds times that repeat, and "
            "RollingOrigin splits a long panel on time_col='ds', which X lacks; pass "
            "RollingOrigin(..., time_col='time')")):
        list(RollingOrigin(40, step=10, horizon=4).split(frame))
    # one series' feature frame (a time index, or times that do not repeat) is rows
    one = frame.iloc[::2].set_index("time")
    assert len(list(RollingOrigin(20, step=10, horizon=4).split(one))) == 4
    assert len(list(RollingOrigin(20, step=10, horizon=4).split(one.reset_index()))) == 4
    folds = list(RollingOrigin(40, step=10, horizon=4, time_col="time").split(frame))
    assert [len(test) for _, test in folds] == [8, 8]  # 4 steps of 2 series
    with pytest.raises(TypeError, match="a dict of series has none"):
        RollingOrigin(40).get_n_splits({"a": frame["val"], "b": frame["val"]})


def test_test_inputs_given_to_predict_are_told_to_leave_scoring_none():
    # predict(X_test), as scikit-learn's scorers call it, said "steps must be a
    # positive integer, got <the whole Series>"
    y = _noisy_wave(200)
    f = Forecaster(Ridge(), lags=4, horizon=2).fit(y)
    with pytest.raises(TypeError, match="In a scikit-learn search, leave scoring=None"):
        f.predict(y.iloc[-2:])
    cv = RollingOrigin(150, step=20, horizon=2)
    search = GridSearchCV(Forecaster(Ridge(), horizon=2), {"lags": [4, 8]}, cv=cv)
    assert np.isfinite(search.fit(y).cv_results_["mean_test_score"]).all()
    with pytest.raises(ValueError, match=re.escape("steps must be a positive integer, got "
                                                   "array(2)")):  # not test inputs
        f.predict(np.array(2))


def test_calibration_refuses_forecasts_that_are_not_finite():
    # a model forecasting NaN at some held-back origins left NaN scores, and
    # predict_interval gave NaN bounds with only NumPy's RuntimeWarning
    from sklearn.base import BaseEstimator, RegressorMixin

    class NaNAbove(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.ridge_ = Ridge().fit(X, y)
            return self

        def predict(self, X):
            p = self.ridge_.predict(X)
            return np.where(np.asarray(X)[:, -1] > 1.0, np.nan, p)

    with pytest.raises(ValueError, match=r"the calibration model forecast a missing or "
                                         r"infinite value at \d+ of \d+ held-back origins"):
        Forecaster(NaNAbove(), lags=4, scaling="global", interval="conformal").fit(
            _noisy_wave(300))


def test_a_backtests_intervals_carry_their_coverage_as_predict_intervals_do():
    # the table had no attrs: a plot of it lost "90% interval" from its legend
    y = _noisy_wave(160)
    f = Forecaster(Ridge(), lags=12, horizon=3, interval="conformal")
    one = backtest(f, y, initial=120, step=10, horizon=3, coverage=0.9)
    assert one.forecasts.attrs == {"coverage": 0.9}
    assert one.forecasts.set_index("time").attrs == {"coverage": 0.9}
    panel = backtest(f, {"a": y, "b": y * 2}, initial=120, step=10, horizon=3,
                     coverage=0.8)
    assert panel.forecasts.attrs == {"coverage": 0.8}
    assert backtest(f, y, initial=120, step=10, horizon=3).forecasts.attrs == {}
