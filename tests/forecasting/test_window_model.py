"""Scale-free windows, the linear part, target transforms and the season table."""
import re

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge, RidgeCV

from tsbptt import GRURegressor, LSTMRegressor
from tsbptt.forecasting import _window_model
from tsbptt.forecasting._window_model import (
    _ALPHAS,
    BUDGET,
    WindowModel,
    apply_budget,
    budget_sets_epochs,
    loo_alpha,
    loo_ridge,
    window_base,
    window_stats,
)
from tsbptt.forecasting.baselines import SeasonalNaive
from tsbptt.forecasting import Forecaster
from tsbptt.forecasting.transforms import check_transform, fit_lambda, forward, inverse
from tsbptt.forecasting.windowing import infer_season, make_windows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class _Memo(RegressorMixin, BaseEstimator):
    """Remembers its training rows and returns their targets exactly (an inner
    model with no error, so that only the wrapper's maps are tested); its
    quantiles are the target -1, +0 and +2."""

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X).copy(), np.asarray(y, dtype=float).copy()
        return self

    def predict(self, X):
        X = np.asarray(X)
        rows = [int(np.flatnonzero(np.all(self.X_ == x, axis=1))[0]) for x in X]
        return self.y_[rows]

    def predict_quantiles(self, X):
        p = self.predict(X).reshape(len(X), -1)
        return np.stack([p - 1, p, p + 2], axis=-1)


class _Constant(RegressorMixin, BaseEstimator):
    """Predicts 5 everywhere: never better than a linear part."""

    def fit(self, X, y):
        self.shape_ = np.shape(y)[1:]
        return self

    def predict(self, X):
        return np.full((len(X),) + self.shape_, 5.0)


def _windows(rng, n=40, lags=6, C=2, H=3):
    X = rng.normal(size=(n, lags * C)) * 3 + 10
    Y = rng.normal(size=(n, H)) * 3 + 10
    return X, Y


def test_window_stats_and_normalised_inputs_match_a_hand_computation():
    rng = np.random.default_rng(0)
    X, Y = _windows(rng)
    X[0, 0::2] = 4.0  # a flat window: divided by the floor, not by 0
    memo = WindowModel(_Memo(), n_channels=2, linear=False, floor=0.5).fit(X, Y)
    for i in range(len(X)):
        yw = X[i, 0::2]
        loc, scale = yw[-1], max(np.sqrt(np.mean((yw - yw.mean()) ** 2)), 0.5)
        expected = X[i].copy()
        expected[0::2] = (yw - loc) / scale
        np.testing.assert_allclose(memo.estimator_.X_[i], expected, rtol=1e-13)
        np.testing.assert_allclose(memo.estimator_.y_[i], (Y[i] - loc) / scale,
                                   rtol=1e-13, atol=1e-13)
    loc, scale = window_stats(X[:, 0::2], "mean", 0.5)
    np.testing.assert_allclose(loc, X[:, 0::2].mean(axis=1), rtol=1e-14)
    assert scale[0] == 0.5


def test_window_stats_scale_values_whose_squares_overflow():
    # a window's std squared its values: from about 1e154 the squares overflowed to
    # inf, and an update with such a value forecast -inf (direct) or failed in the
    # ridge on NaN inputs (recursive)
    rng = np.random.default_rng(2)
    yw = rng.normal(size=(5, 8))
    with np.errstate(all="raise"):
        small = window_stats(yw)[1]
        for big in (1e154, 1e200, 1e300):
            loc, scale = window_stats(yw * big)
            np.testing.assert_allclose(scale, small * big, rtol=1e-14)
            np.testing.assert_array_equal(loc, yw[:, -1] * big)
    # rows within range keep their bits (the scaled route is for the others only)
    mixed = yw.copy()
    mixed[2] *= 1e200
    got = window_stats(mixed)[1]
    np.testing.assert_array_equal(np.delete(got, 2), np.delete(small, 2))
    np.testing.assert_allclose(got[2], small[2] * 1e200, rtol=1e-14)


@pytest.mark.parametrize("center,season", [("last", None), ("mean", None),
                                           ("last", 2), ("last", 4)])
def test_points_and_quantiles_are_inverted_exactly(center, season):
    rng = np.random.default_rng(1)
    X, Y = _windows(rng, H=5)
    m = WindowModel(_Memo(), n_channels=2, center=center, season=season,
                    linear=False).fit(X, Y)
    np.testing.assert_allclose(m.predict(X), Y, rtol=1e-12)
    yw = X[:, 0::2]
    scale = window_stats(yw, center)[1]
    q = m.predict_quantiles(X)
    assert q.shape == (len(X), 5, 3)
    np.testing.assert_allclose(q, Y[..., None] + scale[:, None, None] * [-1, 0, 2],
                               rtol=1e-12)
    m1 = WindowModel(_Memo(), n_channels=2, center=center, season=season,
                     linear=False).fit(X, Y[:, 0])
    np.testing.assert_allclose(m1.predict(X), Y[:, 0], rtol=1e-12)


def test_seasonal_base_is_the_seasonal_naive_forecast():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 8))
    Y = rng.normal(size=(20, 7))
    naive = SeasonalNaive(season=3).fit(X, Y)
    np.testing.assert_array_equal(window_base(X, X[:, -1], 7, season=3),
                                  naive.predict(X))
    np.testing.assert_array_equal(window_base(X, X[:, -1], 2),
                                  np.repeat(X[:, -1:], 2, axis=1))


def test_a_network_that_does_not_help_is_dropped_for_the_linear_part():
    rng = np.random.default_rng(3)
    X, Y = _windows(rng, n=60, C=1)
    m = WindowModel(_Constant(), linear="window", shrink=False).fit(X, Y)
    assert not m.use_network_ and m.network_weight_ == 0.0
    assert m.validation_mse_["network"] > m.validation_mse_["linear"]
    loc, scale = window_stats(X)
    # the linear part reads the normalised window and its scale
    Xl = np.column_stack([(X - loc[:, None]) / scale[:, None], scale])
    flat = np.minimum(1.0, scale / np.median(scale)) ** 2  # flatter windows weigh less
    ridge = RidgeCV(alphas=_ALPHAS).fit(Xl, (Y - loc[:, None]) / scale[:, None],
                                        sample_weight=flat)
    np.testing.assert_allclose(m.predict(X), loc[:, None] + scale[:, None]
                               * ridge.predict(Xl), rtol=1e-12)


@pytest.mark.parametrize("linear", [True, "window", "lags", "mean", "auto"])
def test_the_network_learns_the_linear_residual(linear):
    rng = np.random.default_rng(4)
    X, Y = _windows(rng, n=50, C=1)
    m = WindowModel(_Memo(), linear=linear).fit(X, Y)
    assert m.use_network_  # it is exact on its own training rows
    assert m.network_weight_ == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(m.predict(X), Y, rtol=1e-12)


@pytest.mark.parametrize("n, validated", [(1, False), (2, False), (22, False),
                                          (23, True), (40, True)])
def test_a_tail_of_too_few_windows_leaves_the_linear_part_alone(n, validated):
    # 5-6 quarters and a horizon of 4: one window to train on and one or none to
    # validate, and the network was added whole (an economist's trial)
    from tsbptt.forecasting._window_model import MIN_VALIDATION_WINDOWS
    rng = np.random.default_rng(5)
    X, Y = _windows(rng, n=n, C=1)
    m = WindowModel(_Memo(), linear="window").fit(X, Y)
    assert (round(0.2 * n) >= MIN_VALIDATION_WINDOWS) == validated
    if validated:  # exact on its rows: a weight of one on the tail
        assert m.network_weight_ == pytest.approx(1.0, rel=1e-12)
        assert m.validation_mse_ is not None
    else:
        assert m.network_weight_ == 0.0 and not m.use_network_
        assert m.validation_mse_ is None
        alone = WindowModel(_Constant(), linear="window").fit(X, Y)
        np.testing.assert_array_equal(m.predict(X), alone.predict(X))
    # without a linear part the network is all there is
    assert WindowModel(_Memo(), linear=False).fit(X, Y).network_weight_ == 1.0


class _Twice(_Memo):
    """Twice the memorised target: a correction in the right direction, too large."""

    def predict(self, X):
        return 2 * super().predict(X)


def test_the_correction_is_shrunk_by_its_least_squares_weight_on_the_tail():
    rng = np.random.default_rng(9)
    X, Y = _windows(rng, n=50, C=1)
    m = WindowModel(_Twice(), linear="window").fit(X, Y)
    # on the tail the residual r is corrected by 2r: weight <r, 2r> / <2r, 2r> = 1/2
    assert m.network_weight_ == pytest.approx(0.5, rel=1e-12)
    np.testing.assert_allclose(m.predict(X), Y, rtol=1e-12)
    off = WindowModel(_Twice(), linear="window", shrink=False).fit(X, Y)
    # without shrinking: on (its error r equals the linear part's) or off, never halved
    assert off.network_weight_ in (0.0, 1.0)


def _linear_parts(X, Y, Z):
    """The two linear parts fitted by hand on (X, Y), forecasting from windows Z in
    y's units: ridge on the normalised windows and their scale, and on the lags
    centred on the last value, plus that value clipped to its training range; the
    windows flatter than the median weighted by (scale / median scale)**2."""
    def inputs(W):
        loc, scale = window_stats(W)
        return loc[:, None], scale[:, None], np.column_stack(
            [(W - loc[:, None]) / scale[:, None], scale])
    loc, scale, Xl = inputs(X)
    flat = np.minimum(1.0, scale[:, 0] / np.median(scale)) ** 2  # flatter windows weigh less
    window = RidgeCV(alphas=_ALPHAS).fit(Xl, (Y - loc) / scale, sample_weight=flat)
    last, z_last = X[:, -1:], Z[:, -1:]
    lags = RidgeCV(alphas=_ALPHAS).fit(np.column_stack([X - last, last]), Y - last)
    z_level = np.clip(z_last, last.min(), last.max())
    loc, scale, Zl = inputs(Z)
    return (loc + scale * window.predict(Zl).reshape(len(Z), -1),  # RidgeCV ravels 1 column
            z_last + lags.predict(np.column_stack([Z - z_last, z_level])).reshape(len(Z), -1))


@pytest.mark.parametrize("kind", ["window", "lags", "mean", True])
def test_each_linear_part_matches_a_hand_fit(kind):
    rng = np.random.default_rng(10)
    X, Y = _windows(rng, n=80, C=1)
    Y = Y + 0.5 * X[:, -3:]  # a level the lags see
    m = WindowModel(_Constant(), linear=kind, shrink=False).fit(X, Y)
    kind = "mean" if kind is True else kind  # the default: both parts, averaged
    assert m.linear_kind_ == kind and not m.use_network_
    window, lags = _linear_parts(X, Y, X)
    expected = {"window": window, "lags": lags, "mean": (window + lags) / 2}[kind]
    np.testing.assert_allclose(m.predict(X), expected, rtol=1e-10)


def test_the_window_scale_input_is_clipped_to_its_training_range():
    # the window ridge reads each window's scale and its output is multiplied by the
    # scale again: unclipped, a window k times wider got a forecast ~k**2 wider (an
    # outlier of 1e10 forecast 1e20; recursive forecasts overflowed). Clipped,
    # beyond the range the forecast's distance from the base is linear in k
    rng = np.random.default_rng(10)
    X, Y = _windows(rng, n=80, C=1)
    m = WindowModel(_Constant(), linear="window", shrink=False).fit(X, Y)
    _, scale = window_stats(X, "last", m.floor)
    width = scale.max() - scale.min()
    assert m.scale_range_ == (max(scale.min() - width, 0.0), scale.max() + width)
    np.testing.assert_allclose(m.predict(X), _linear_parts(X, Y, X)[0], rtol=1e-10)
    last = X[:1, -1:]
    wide = [m.predict(last + k * (X[:1] - last)) - last for k in (1e4, 1e8)]
    np.testing.assert_allclose(wide[1], 1e4 * wide[0], rtol=1e-9)


@pytest.mark.parametrize("level,chosen", [(0.0, "window"), (1.0, "lags")])
def test_linear_auto_takes_the_part_that_forecasts_the_tail_best(level, chosen):
    # random walks at random levels: the next value is the last one plus twice the
    # window's spread (scale-free), or with level=1 drawn back to 10 (a level that
    # only the lags see)
    rng = np.random.default_rng(11)
    n, n_val = 100, 20
    X = np.cumsum(rng.normal(size=(n, 6)), axis=1) + rng.normal(0, 5, size=(n, 1))
    last = X[:, -1:]
    Y = (last + (1 - level) * 2 * X.std(axis=1, keepdims=True) + level * (10 - last)
         + rng.normal(0, 0.1, (n, 1)))
    m = WindowModel(_Constant(), linear="auto", shrink=False,
                    validation_fraction=n_val / n).fit(X, Y)
    head, tail = slice(0, n - n_val), slice(n - n_val, None)
    window, lags = _linear_parts(X[head], Y[head], X[tail])
    errors = {k: np.mean((Y[tail] - p) ** 2) for k, p in
              {"window": window, "lags": lags, "mean": (window + lags) / 2}.items()}
    assert m.linear_kind_ == min(errors, key=errors.get) == chosen


@pytest.mark.parametrize("lam", [None, 0.0, 0.5, -0.7, 1.3])
def test_power_transforms_invert_exactly(lam):
    y = np.random.default_rng(5).uniform(0.5, 50, size=100)
    np.testing.assert_allclose(inverse(forward(y, lam), lam), y, rtol=1e-12)
    if lam == 0.0:
        np.testing.assert_allclose(forward(y, lam), np.log(y), rtol=1e-14)
    if lam not in (None, 0.0):  # out of range: the edge, still finite
        assert np.all(np.isfinite(inverse(np.array([-1e6, 1e6]), lam)))


def _positive_series(n=200, seed=6):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.exp(3 + 0.01 * t + 0.3 * np.sin(2 * np.pi * t / 12)
               + rng.normal(0, 0.05, n))
    return pd.Series(y, index=pd.date_range("2000-01-01", periods=n, freq="MS"),
                     name="y")


@pytest.mark.parametrize("kind", ["log", "boxcox"])
def test_log_and_boxcox_forecasts_and_intervals_are_the_exact_inverse(kind):
    y = _positive_series()
    lam = fit_lambda(y.to_numpy(), kind)
    settings = {"lags": 24, "horizon": 6, "interval": "conformal"}
    f = Forecaster(Ridge(), transform=kind, **settings).fit(y)
    assert f.target_lambda_ == [pytest.approx(lam, rel=1e-12)]
    z = pd.Series(forward(y.to_numpy(), lam), index=y.index, name="y")
    g = Forecaster(Ridge(), **settings).fit(z)
    np.testing.assert_allclose(f.predict().to_numpy(),
                               special.inv_boxcox(g.predict().to_numpy(), lam),
                               rtol=1e-10)
    # the calibration model works in the final model's transformed space (its own
    # Box-Cox exponent, fitted on less data, once put the scores in another one and
    # 90% bands covered 46% of the actuals)
    np.testing.assert_allclose(f.predict_interval().to_numpy(),
                               special.inv_boxcox(g.predict_interval().to_numpy(), lam),
                               rtol=1e-10)
    band = f.predict_interval()
    assert np.all((band["lower"] < band["forecast"]) & (band["forecast"] < band["upper"]))


def test_boxcox_exponent_is_bounded_and_a_level_shift_forecast_stays_level():
    # the unbounded maximum-likelihood exponent of this series is -10.3: its
    # transformed values spanned 1e-22, read as a constant, and forecast 14.6
    rng = np.random.default_rng(0)
    y = pd.Series(np.r_[np.full(200, 100.0), np.full(100, 120.0)] + rng.standard_normal(300),
                  index=pd.date_range("2023-01-01", periods=300, freq="D"))
    lam = fit_lambda(y.to_numpy(), "boxcox")
    assert -1.0 <= lam <= 2.0
    f = Forecaster(Ridge(), lags=14, horizon=3, transform="boxcox",
                   interval="conformal").fit(y)
    band = f.predict_interval()
    assert np.all(np.abs(band["forecast"] - 120) < 2)
    assert np.all(band["upper"] - band["lower"] > 1)
    # inside the bounds the fit is the likelihood's maximum, as scipy finds it
    z = _positive_series().to_numpy()
    assert fit_lambda(z, "boxcox") == pytest.approx(
        stats.boxcox_normmax(z, method="mle"), abs=1e-4)


@pytest.mark.parametrize("magnitude", [1e-12, 1e-15, 1e12])
def test_forecasts_scale_with_a_series_of_any_magnitude(magnitude):
    # the constant-series test was an absolute 1e-12 on the spread: a varying
    # series near 1e-12 was left unscaled and Ridge's penalty flattened it
    y = _positive_series()
    settings = {"lags": 24, "horizon": 6, "interval": "conformal"}
    unit = Forecaster(Ridge(), **settings).fit(y).predict_interval().to_numpy()
    scaled = Forecaster(Ridge(), **settings).fit(y * magnitude).predict_interval().to_numpy()
    np.testing.assert_allclose(scaled / magnitude, unit, rtol=1e-9)
    flat = pd.Series(np.full(60, 3e-13), index=y.index[:60], name="y")
    np.testing.assert_allclose(Forecaster(Ridge(), lags=12, horizon=3).fit(flat).predict(),
                               3e-13, rtol=1e-9)


def test_differencing_is_a_ridge_on_windows_relative_to_the_origin():
    y = _positive_series()
    f = Forecaster(Ridge(), lags=12, horizon=3, transform="diff", scaling=None).fit(y)
    w = make_windows(y, lags=12, horizon=3)
    X, Y = w.X.to_numpy(), w.y.to_numpy()
    last = X[:, -1:]
    ridge = Ridge().fit(X - last, Y - last)
    x = y.to_numpy()[-12:][None]
    np.testing.assert_allclose(f.predict().to_numpy(),
                               (ridge.predict(x - x[:, -1:]) + x[:, -1:]).ravel(),
                               rtol=1e-10)


def test_seasonal_differencing_with_a_seasonal_series_is_exact():
    # a pure season plus a constant: the seasonal difference is 0 everywhere
    t = np.arange(120)
    y = pd.Series(10 + np.sin(2 * np.pi * t / 12), name="y",
                  index=pd.date_range("2000-01-01", periods=120, freq="MS"))
    f = Forecaster(Ridge(), horizon=18, transform="seasonal_diff").fit(y)
    assert f.season_ == 12 and f.lags_ == 24
    np.testing.assert_allclose(f.predict().to_numpy(),
                               10 + np.sin(2 * np.pi * np.arange(120, 138) / 12),
                               atol=1e-9)


@pytest.mark.parametrize("step,season", [
    ("30min", 48), ("h", 24), ("15min", 96), ("D", 7), ("B", 5), ("W", 52),
    ("W-SUN", 52), ("MS", 12), ("ME", 12), ("QS", 4), ("QE-DEC", 4), ("YS", 1),
    ("2D", 1), ("min", 1), (1, 1), (None, 1), (pd.offsets.Hour(), 24),
    # a day as a fixed 24 hours (pandas 3 reads these as a Tick, not a Day)
    ("24h", 7), (pd.Timedelta(days=1), 7), ("48h", 1)])
def test_season_table(step, season):
    assert infer_season(step) == season


def test_lags_and_season_from_the_data_and_overridable():
    y = _positive_series(n=300)
    hourly = y.set_axis(pd.date_range("2024-01-01", periods=300, freq="h"))
    assert Forecaster(Ridge()).fit(hourly).lags_ == 48
    assert Forecaster(Ridge()).fit(y).lags_ == 24
    f = Forecaster(Ridge(), lags=5, season=4).fit(y)
    assert (f.lags_, f.season_) == (5, 4)
    short = y.iloc[:30]  # 2 * 12 lags and 6 steps would leave no training window
    assert Forecaster(Ridge(), horizon=6).fit(short).lags_ == 12
    assert Forecaster(Ridge()).fit(y.reset_index(drop=True)).lags_ == 8


def test_transform_and_scaling_settings_are_checked():
    y = _positive_series()
    with pytest.raises(ValueError, match=r"unknown \['sqrt'\]"):
        Forecaster(Ridge(), transform="sqrt").fit(y)
    with pytest.raises(ValueError, match="more than one power transform"):
        Forecaster(Ridge(), transform=("log", "boxcox")).fit(y)
    bad = y.copy()
    bad.iloc[7] = 0.0
    with pytest.raises(ValueError, match=r"transform='log' needs positive values; y "
                                         r"has 0.0 at Timestamp\('2000-08-01"):
        Forecaster(Ridge(), transform="log").fit(bad)
    f = Forecaster(Ridge(), lags=24, transform="log").fit(y)
    with pytest.raises(ValueError, match="needs positive values"):
        f.predict(history=bad)
    with pytest.raises(ValueError, match="reads a season of 12 steps, the windows hold "
                                         "lags=6"):
        Forecaster(Ridge(), lags=6, transform="seasonal_diff").fit(y)
    with pytest.raises(ValueError, match="strategy='stateful' reads whole series"):
        Forecaster(LSTMRegressor(), strategy="stateful", scaling="window").fit(y)
    with pytest.raises(ValueError, match="scaling"):
        Forecaster(Ridge(), scaling="instance").fit(y)
    assert check_transform(("log", "seasonal_diff")) == ("log", "seasonal_diff")


def test_training_budget_replaces_only_defaults():
    est = apply_budget(LSTMRegressor(max_iter=7, learning_rate=0.1))
    assert (est.max_iter, est.learning_rate) == (7, 0.1)
    assert est.early_stopping and est.batch_size == BUDGET["batch_size"]
    stateful = apply_budget(LSTMRegressor(), stateful=True)
    assert not stateful.early_stopping and stateful.max_iter == BUDGET["max_iter"]


def test_training_budget_keeps_the_values_given_explicitly():
    # the command line marks what it set (its defaults, the config's, the flags'):
    # an explicit value equal to the class default (--epochs 200, --batch-size 32,
    # early_stopping false in a config) was taken for a default and replaced
    from sklearn.base import clone

    est = LSTMRegressor(max_iter=200, batch_size=32, early_stopping=False)
    est._given_params = frozenset({"max_iter", "batch_size", "early_stopping"})
    for copy in (clone(est), clone(Forecaster(est)).estimator):  # kept by clone
        assert copy._given_params == est._given_params
        apply_budget(copy)
        assert (copy.max_iter, copy.batch_size, copy.early_stopping) == (200, 32, False)
        assert copy.learning_rate == BUDGET["learning_rate"]  # not given: the budget's
    assert not budget_sets_epochs(est) and budget_sets_epochs(LSTMRegressor())


def test_network_forecaster_defaults_window_scaling_and_a_linear_part():
    rng = np.random.default_rng(8)
    n = 400
    y = pd.Series(1000 + np.cumsum(rng.normal(0, 1, n)), name="y",
                  index=pd.date_range("2024-01-01", periods=n, freq="h"))
    f = Forecaster(LSTMRegressor(hidden_size=4, random_state=0, n_threads=1),
                   horizon=2).fit(y)
    assert f.scaling_ == "window" and isinstance(f.estimator_, WindowModel)
    assert f.estimator_.linear_ is not None
    net = f.estimator_.estimator_
    assert net.early_stopping and net.max_iter == BUDGET["max_iter"]
    g = Forecaster(LSTMRegressor(hidden_size=4, random_state=0, n_threads=1),
                   horizon=2, scaling="global", linear=False,
                   training="as_given").fit(y.iloc[:200])
    assert isinstance(g.estimator_, LSTMRegressor) and not g.estimator_.early_stopping
    # far above its training range, scale-free windows (and the lags part, whose
    # level input is clipped to that range) shift the forecast with the series
    shifted = f.predict(history=y + 10_000).to_numpy()
    np.testing.assert_allclose(f.predict(history=y + 20_000).to_numpy() - 10_000,
                               shifted, atol=1e-3)
    m = f.estimator_
    lowest = (y.min() + 10_000 - f.target_mean_[0]) / f.target_scale_[0]
    assert m.linear_kind_ == "mean" and m.level_range_[1] < lowest


def test_max_windows_keeps_evenly_spaced_rows_ending_with_the_latest():
    rng = np.random.default_rng(9)
    X, Y = _windows(rng, n=10, C=1)
    m = WindowModel(_Memo(), linear=False, max_windows=4).fit(X, Y)
    Xn = m._normalised(X, 3)[0]
    # one row in each of 4 stretches (2 or 3 rows) counted back from the last
    np.testing.assert_array_equal(m.estimator_.X_, Xn[[0, 4, 6, 9]])
    m = WindowModel(_Memo(), linear=False, max_windows=10).fit(X, Y)
    assert len(m.estimator_.X_) == 10


def test_same_seed_same_forecast_for_any_thread_count():
    rng = np.random.default_rng(10)
    y = pd.Series(np.cumsum(rng.normal(0, 1, 300)), name="y",
                  index=pd.date_range("2024-01-01", periods=300, freq="h"))
    # linear=False: the network alone forecasts, never switched off
    preds = [Forecaster(GRURegressor(hidden_size=4, random_state=0, n_threads=n),
                        horizon=3, linear=False).fit(y).predict().to_numpy()
             for n in (1, 2)]
    np.testing.assert_array_equal(preds[0], preds[1])
    assert np.all(np.isfinite(preds[0]))


@pytest.fixture(params=["svd", "gram"])
def decomposition(request, monkeypatch):
    """Both of loo_ridge's routes on the same (small) data: the thin SVD, and the
    Gram matrix's eigh that wide or tall windows take (forced here)."""
    if request.param == "gram":
        monkeypatch.setattr(_window_model, "GRAM_FROM", 1)
    return request.param


@pytest.mark.parametrize("n,p,k", [(200, 10, 3), (30, 40, 2), (60, 13, 1)])
def test_loo_alpha_is_ridgecvs_choice(n, p, k, decomposition):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, p) + 3
    Y = X[:, :k] * 0.3 + rng.normal(size=(n, k)) * rng.uniform(0.1, 3)
    alphas = np.logspace(-3, 4, 15)
    assert loo_alpha(X, Y, alphas) == RidgeCV(alphas=alphas).fit(X, Y).alpha_


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n,p,k", [(200, 10, 3), (30, 40, 2), (60, 13, 1)])
def test_loo_ridge_is_ridgecv_then_ridge(n, p, k, weighted, decomposition):
    # the penalty RidgeCV picks, and Ridge's coefficients at it (one output: the
    # shapes Ridge.fit stores); with sample weights, theirs
    rng = np.random.default_rng(n + p)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10, p) + 3
    Y = X[:, :k] * 0.3 + rng.normal(size=(n, k)) * rng.uniform(0.1, 3)
    alphas = np.logspace(-3, 4, 15)
    w = rng.uniform(0.01, 1, n) if weighted else None
    got = loo_ridge(X, Y, alphas, weights=w)
    want = Ridge(RidgeCV(alphas=alphas).fit(X, Y, sample_weight=w).alpha_).fit(
        X, Y, sample_weight=w)
    assert got.alpha == want.alpha
    assert got.coef_.shape == want.coef_.shape and got.intercept_.shape == (k,)
    np.testing.assert_allclose(got.coef_, want.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(got.intercept_, want.intercept_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(got.predict(X), want.predict(X), rtol=1e-9)
    assert got.solver_ == {"svd": "svd", "gram": "eigen"}[decomposition]


@pytest.mark.parametrize("n", [40, 400])
def test_loo_ridge_routes_agree_on_one_hot_columns(n, monkeypatch):
    # a panel's series_id columns: one-hot, so with the intercept the centred
    # design is rank-deficient, and the Gram route sees eigenvalues of +-1e-12
    rng = np.random.default_rng(n)
    ids = np.arange(n) % 25
    X = np.column_stack([rng.normal(size=(n, 48)), np.eye(25)[ids]])
    Y = X[:, :2] @ [[0.5, 0.1], [0.2, -0.3]] + ids[:, None] * 0.05 + rng.normal(size=(n, 2))
    svd = loo_ridge(X, Y)
    monkeypatch.setattr(_window_model, "GRAM_FROM", 1)
    gram = loo_ridge(X, Y)
    assert gram.alpha == svd.alpha
    np.testing.assert_allclose(gram.predict(X), svd.predict(X), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gram.coef_, svd.coef_, rtol=1e-7, atol=1e-9)


def test_flat_windows_do_not_swamp_the_fits_on_normalised_targets():
    # intermittent demand, mostly zeros: the all-zero windows' scale is the floor, so
    # their normalised targets reached +-500 and held 99.9% of the squared error; the
    # ridge fitted them alone and forecast -9 to -14 for data in [0, 9] (3.7x Ridge's
    # error). Weighted by (scale / median scale)**2, the forecasts stay in the data's
    # range and near a plain ridge's
    rng = np.random.default_rng(0)
    y = np.where(rng.random(700) < 0.11, rng.integers(1, 10, 700), 0).astype(float)
    windows = make_windows(pd.Series(y, index=pd.date_range("2024", periods=700)), 14, 7)
    X, Y = windows.X.to_numpy(), windows.y.to_numpy()
    m = WindowModel(_Constant(), shrink=False, floor=1e-2 * y.std()).fit(X, Y)
    plain = Ridge(1.0).fit(X, Y)
    pred = m.predict(X[-100:])
    assert pred.min() > -0.5 and pred.max() < 9
    assert np.mean((pred - Y[-100:]) ** 2) < 1.1 * np.mean((plain.predict(X[-100:])
                                                            - Y[-100:]) ** 2)
    assert m._normalised(X, 7)[2].min() == m.floor  # some windows are flat: floored


@pytest.mark.parametrize("seed", [0, 1])
def test_flat_windows_are_weighed_down_where_most_windows_are_flat(seed):
    # demand on 3-5% of the days: most 14-day windows are all zero, so the median
    # window scale was the floor itself, every weight 1, and the window ridge
    # forecast up to 30 for sales of 0 to 9 (MAE 7.3 against seasonal naive's 0.43;
    # a retail analyst's trial). The reference is now the windows that move.
    from tsbptt import Forecaster, SeasonalNaive, backtest
    from tsbptt.forecasting._window_model import _flat_window_weights
    floor = 0.01
    scale = np.array([floor] * 6 + [0.5, 1.0, 2.0])
    np.testing.assert_allclose(_flat_window_weights(scale, floor=floor),
                               [(floor / 1.0) ** 2] * 6 + [0.25, 1.0, 1.0])
    # all flat: no window to take a reference from, all weigh the same
    np.testing.assert_allclose(_flat_window_weights(np.full(4, floor), floor=floor), 1.0)
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2022-01-01", periods=730, freq="D")
    y = pd.Series((rng.random(730) < 0.04) * rng.poisson(3, 730), index=idx, dtype=float)
    runs = {name: backtest(Forecaster(model, lags=14, horizon=14, scaling=scaling), y,
                           initial=590, step=14, refit=False, season=7)
            for name, model, scaling in [("window", Ridge(), "window"),
                                         ("naive", SeasonalNaive(7), None)]}
    window = runs["window"].forecasts["forecast"]
    assert window.max() < y.max() and window.min() > -1
    assert runs["window"].metrics["mae"] < runs["naive"].metrics["mae"]


def test_a_scikit_learn_member_gets_the_flat_window_weights_too(monkeypatch):
    # the weights went to tsbptt networks only: Forecaster(Ridge(), scaling='window')
    # on intermittent demand forecast 9.7 on average for data in [0, 12] of mean 0.5
    # (MASE 9.8 against 0.93 with global scaling). A wrapper, whose sample_weight
    # what it wraps may refuse, still fits unweighted.
    from sklearn.multioutput import MultiOutputRegressor
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from tsbptt import Forecaster
    from tsbptt.forecasting import _window_model

    rng = np.random.default_rng(0)
    y = pd.Series(np.where(rng.random(700) < 0.11, rng.integers(1, 10, 700), 0.0),
                  index=pd.date_range("2024", periods=700))
    f = Forecaster(Ridge(), lags=14, horizon=7, scaling="window", linear=False).fit(y)
    seen = []
    fit = Ridge.fit

    def capture(self, X, Y, sample_weight=None):
        seen.append(sample_weight)
        return fit(self, X, Y, sample_weight)

    Ridge.fit = capture
    try:
        g = Forecaster(Ridge(), lags=14, horizon=7, scaling="window", linear=False).fit(y)
    finally:
        Ridge.fit = fit
    assert len(seen) == 1 and seen[0].min() < 1 and seen[0].max() == 1.0
    pd.testing.assert_series_equal(f.predict(), g.predict())
    windows = make_windows(y, 14, 7).X.to_numpy()[-200:]
    pred = f.estimator_.predict(windows)
    assert pred.min() > -1 and pred.max() < 9 and abs(pred.mean() - y.mean()) < 0.5
    # unweighted, as before: far off the data
    monkeypatch.setattr(_window_model, "_sample_weight_of", lambda est, w: {})
    plain = Forecaster(Ridge(), lags=14, horizon=7, scaling="window", linear=False).fit(y)
    assert plain.estimator_.predict(windows).mean() > 3 * y.mean() + 1
    monkeypatch.undo()
    # a Pipeline ending in such a model is weighted alike; a wrapper fits unweighted
    pipe = Forecaster(make_pipeline(StandardScaler(), Ridge()), lags=14, horizon=7,
                      scaling="window", linear=False).fit(y)
    # (the scaler changes what the penalty weighs: close, not equal)
    np.testing.assert_allclose(pipe.estimator_.predict(windows), pred, atol=1e-2)
    knn = MultiOutputRegressor(KNeighborsRegressor())
    Forecaster(knn, lags=14, horizon=7, scaling="window", linear=False).fit(y).predict()


def test_a_window_is_judged_flat_against_its_own_series(monkeypatch):
    # pooled over a panel, a smooth series' windows (small scales) were all "flat"
    # beside a noisy series' and weighed ~1/25th in a global model
    from tsbptt.forecasting._window_model import _flat_window_weights
    scale = np.array([0.1, 0.2, 0.4, 1.0, 2.0, 4.0])
    groups = np.array([0, 0, 0, 1, 1, 1])
    np.testing.assert_allclose(_flat_window_weights(scale, groups),
                               [0.25, 1.0, 1.0, 0.25, 1.0, 1.0])
    np.testing.assert_allclose(_flat_window_weights(scale), np.minimum(1, scale / 0.7) ** 2)
    # the Forecaster gives its window model each window's series
    seen = []
    fit = WindowModel.fit

    def capture(self, X, y, groups=None):
        seen.append(groups)
        return fit(self, X, y, groups)

    monkeypatch.setattr(WindowModel, "fit", capture)
    idx = pd.date_range("2024", periods=60, freq="D")
    panel = {"smooth": pd.Series(np.arange(60.0), idx),
             "noisy": pd.Series(np.random.default_rng(0).normal(size=60), idx)}
    Forecaster(_Constant(), lags=7, horizon=2, scaling="window").fit(panel)
    assert sorted(np.unique(seen[-1], return_counts=True)[1]) == [52, 52]


class _Seeded(RegressorMixin, BaseEstimator):
    """A 'network' whose prediction is its seed (and its epochs): the members of an
    ensemble are told apart exactly."""

    def __init__(self, random_state=None, max_iter=100):
        self.random_state = random_state
        self.max_iter = max_iter

    def fit(self, X, y):
        self.shape_ = np.shape(y)[1:]
        self.n_iter_ = self.max_iter
        return self

    def predict(self, X):
        return np.full((len(X),) + self.shape_, float(self.random_state))


def test_seed_ensemble_is_the_median_of_its_members():
    rng = np.random.default_rng(11)
    X, Y = _windows(rng, n=30, C=1)
    m = WindowModel(_Seeded(random_state=4), linear=False, n_seeds=4).fit(X, Y)
    assert [e.random_state for e in m.estimators_] == [4, 5, 6, 7]
    assert m.estimator_ is m.estimators_[0]
    loc, scale = window_stats(X)
    # the median of 4, 5, 6, 7 in the normalised units, mapped back
    np.testing.assert_allclose(m.predict(X), np.broadcast_to(
        loc[:, None] + scale[:, None] * 5.5, Y.shape), rtol=1e-13)
    one = WindowModel(_Seeded(random_state=4), linear=False).fit(X, Y)
    np.testing.assert_allclose(one.predict(X), np.broadcast_to(
        loc[:, None] + scale[:, None] * 4.0, Y.shape), rtol=1e-13)
    drawn = WindowModel(_Seeded(random_state=np.random.RandomState(0)), linear=False,
                        n_seeds=2).fit(X, Y)
    assert [e.random_state for e in drawn.estimators_] == list(
        np.random.RandomState(0).randint(np.iinfo(np.int32).max, size=2))
    # the members' seeds wrap round below 2**32, where NumPy takes them
    top = WindowModel(_Seeded(random_state=2**32 - 1), linear=False, n_seeds=2).fit(X, Y)
    assert [e.random_state for e in top.estimators_] == [2**32 - 1, 0]


@pytest.mark.parametrize("seed", ["x", 1.5, 1e30])
def test_a_bad_seed_is_named_before_any_member_is_made(seed):
    # it failed as "'str' object has no attribute 'randint'" (an AttributeError)
    from sklearn.utils._param_validation import InvalidParameterError
    X, Y = _windows(np.random.default_rng(0), n=30, C=1)
    with pytest.raises(InvalidParameterError, match="The 'random_state' parameter of "
                                                    "LSTMRegressor must be an int"):
        WindowModel(LSTMRegressor(random_state=seed), linear=False).fit(X, Y)


def test_network_seed_ensemble_median_and_reproducible():
    rng = np.random.default_rng(12)
    X, Y = _windows(rng, n=80, C=1)
    net = LSTMRegressor(hidden_size=3, max_iter=3, random_state=2, n_threads=1)
    m = WindowModel(net, linear=False, n_seeds=3).fit(X, Y)
    Xn = m._normalised(X, 3)[0]
    loc, scale = window_stats(X)
    flat = np.minimum(1.0, scale / np.median(scale)) ** 2  # flatter windows weigh less
    members = [LSTMRegressor(hidden_size=3, max_iter=3, random_state=s, n_threads=1)
               .fit(Xn, (Y - loc[:, None]) / scale[:, None], sample_weight=flat)
               for s in (2, 3, 4)]
    median = np.median([e.predict(Xn) for e in members], axis=0)
    np.testing.assert_array_equal(
        m.predict(X), loc[:, None] + scale[:, None] * median)
    again = WindowModel(net, linear=False, n_seeds=3).fit(X, Y)
    np.testing.assert_array_equal(again.predict(X), m.predict(X))


def test_max_time_becomes_epochs_and_a_refit_with_them_reproduces():
    rng = np.random.default_rng(13)
    X, Y = _windows(rng, n=80, C=1)
    net = LSTMRegressor(hidden_size=3, max_iter=50, random_state=0, n_threads=1)
    m = WindowModel(net, linear=False, max_time=1e-6).fit(X, Y)
    assert m.max_iter_ == 1 and m.estimator_.n_iter_ == 1  # less than an epoch: one
    roomy = WindowModel(net, linear=False, max_time=1e6, n_seeds=2).fit(X, Y)
    assert roomy.max_iter_ == 50  # never more than max_iter
    assert all(e.max_iter == 50 for e in roomy.estimators_)
    assert WindowModel(net, linear=False).fit(X, Y).max_iter_ is None
    again = WindowModel(net.set_params(max_iter=m.max_iter_), linear=False).fit(X, Y)
    np.testing.assert_array_equal(again.predict(X), m.predict(X))
    with pytest.raises(ValueError, match="max_time=2.0 needs an estimator trained in "
                                         "epochs.*_Memo has none"):
        WindowModel(_Memo(), max_time=2.0).fit(X, Y)


def test_forecaster_passes_seeds_and_time_budget_to_the_window_model():
    rng = np.random.default_rng(14)
    y = pd.Series(np.cumsum(rng.normal(0, 1, 200)), name="y",
                  index=pd.date_range("2024-01-01", periods=200, freq="h"))
    net = LSTMRegressor(hidden_size=3, max_iter=4, random_state=1, n_threads=1)
    f = Forecaster(net, horizon=2, n_seeds=2, max_time=1e6).fit(y)
    assert [e.random_state for e in f.estimator_.estimators_] == [1, 2]
    assert f.estimator_.max_iter_ == 4
    g = Forecaster(net, horizon=2, scaling="global", linear=False, n_seeds=2).fit(y)
    assert isinstance(g.estimator_, WindowModel) and g.estimator_.center is None
    with pytest.raises(ValueError, match=r"n_seeds=3 and max_time=None need a tsbptt "
                                         r"regressor.*got Ridge"):
        Forecaster(Ridge(), horizon=2, n_seeds=3).fit(y)
    with pytest.raises(ValueError, match="n_seeds=1 and max_time=5 need.*'stateful'"):
        Forecaster(net, horizon=1, strategy="stateful", max_time=5).fit(y)


def test_max_windows_bounds_what_the_linear_part_and_validation_read():
    from tsbptt.forecasting._window_model import LINEAR_WINDOWS
    rng = np.random.default_rng(11)
    X, Y = _windows(rng, n=5 * LINEAR_WINDOWS + 3, C=1)
    m = WindowModel(_Memo(), max_windows=2)
    rows = m.sample_rows(len(X))
    # LINEAR_WINDOWS * max_windows, spread over them, ending with the latest
    stretch = len(X) / (2 * LINEAR_WINDOWS)
    assert len(rows) == 2 * LINEAR_WINDOWS and rows[-1] == len(X) - 1
    assert np.all(np.diff(rows) > 0) and np.diff(rows).max() < 2 * stretch + 1
    np.testing.assert_array_equal(m.sample_rows(len(rows)), np.arange(len(rows)))
    a = WindowModel(Ridge(), max_windows=2).fit(X, Y)
    b = WindowModel(Ridge(), max_windows=2).fit(X[rows], Y[rows])
    np.testing.assert_array_equal(a.linear_.coef_, b.linear_.coef_)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
    assert a.validation_mse_ == b.validation_mse_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    # without max_windows every window is read
    assert len(WindowModel(_Memo()).sample_rows(len(X))) == len(X)


def test_the_forecaster_gathers_only_the_windows_its_window_model_reads():
    from tsbptt.forecasting import _window_model
    seen = []
    original = _window_model.WindowModel.fit

    def spy(self, X, y, groups=None):
        seen.append(len(X))
        return original(self, X, y, groups)

    rng = np.random.default_rng(12)
    y = pd.Series(np.cumsum(rng.normal(0, 1, 12100)), name="y",
                  index=pd.date_range("2024-01-01", periods=12100, freq="h"))
    _window_model.WindowModel.fit = spy
    try:
        Forecaster(GRURegressor(hidden_size=2, max_iter=1, random_state=0),
                   lags=4, horizon=2).fit(y)
    finally:
        _window_model.WindowModel.fit = original
    from tsbptt.forecasting._window_model import LINEAR_WINDOWS, MAX_WINDOWS
    n_windows = 12100 - 4 - 2 + 1  # > LINEAR_WINDOWS * MAX_WINDOWS: that many are read
    assert n_windows > LINEAR_WINDOWS * MAX_WINDOWS
    assert seen == [LINEAR_WINDOWS * MAX_WINDOWS]


def test_sampled_windows_cover_every_phase_of_a_season():
    # every 24th of 288,000 hourly windows was one hour of the day (every 84th of
    # a million, two): a network trained on them forecast a clean sine 0.8 off
    from tsbptt.forecasting._window_model import _evenly
    for n, most in ((5, 4), (800, 600), (15_000, 12_000), (12_001, 12_000)):
        rows = _evenly(n, most)  # stretches of under two rows repeated rows
        assert len(rows) == most and rows[-1] == n - 1 and np.all(np.diff(rows) > 0)
    for n, period in ((288_000, 24), (1_000_000, 24), (120_000, 7), (600_000, 168)):
        rows = _evenly(n, 12_000)
        assert len(rows) == 12_000 and rows[-1] == n - 1 and np.all(np.diff(rows) > 0)
        counts = np.bincount(rows % period, minlength=period)
        assert counts.min() >= 0.9 * 12_000 / period, (n, period, counts)


def test_training_auto_leaves_early_stopping_off_for_a_few_windows():
    # a series just long enough for lags + horizon failed: its one window left
    # nothing to train on after the validation tail the budget asked for, and the
    # error named a validation_fraction the user never set
    from tsbptt.forecasting._window_model import MIN_VALIDATED_WINDOWS
    short = pd.Series(np.sin(np.arange(4) / 3),
                      index=pd.date_range("2024-01-01", periods=4, freq="D"))
    f = Forecaster(GRURegressor(4, max_iter=2, random_state=0), lags=2, horizon=2)
    pred = f.fit(short).predict()
    assert np.isfinite(pred).all() and not f.estimator_.estimator_.early_stopping
    # enough windows: the budget's early stopping, as before
    n = MIN_VALIDATED_WINDOWS + 2 + 2 - 1
    longer = pd.Series(np.sin(np.arange(n) / 3),
                       index=pd.date_range("2024-01-01", periods=n, freq="D"))
    g = Forecaster(GRURegressor(4, max_iter=2, random_state=0), lags=2, horizon=2)
    g.fit(longer)
    assert g.estimator_.estimator_.early_stopping


def test_a_window_model_is_refused_for_the_copies_it_holds(monkeypatch):
    # a network's window model holds ~10 copies of the windows (normalised, lag
    # inputs, the ridges' centred copies and decompositions); the check counted 2,
    # so a 700-series panel passed it and died in a MemoryError at 14 GB
    from sklearn.linear_model import LinearRegression

    from tsbptt.utils import _validation
    y = pd.Series(np.sin(np.arange(200) / 3),
                  index=pd.date_range("2024-01-01", periods=200, freq="h"))
    n_windows, width = 200 - 8 - 2 + 1, 8
    one_copy = n_windows * width * 8
    monkeypatch.setattr(_validation, "physical_memory", lambda: 5 * one_copy)
    Forecaster(LinearRegression(), lags=8, horizon=2).fit(y)  # its 2 copies fit
    with pytest.raises(ValueError, match=re.escape(
            f"lags=8 needs {10 * one_copy / 2**30:.3g} GiB for its {n_windows} windows")):
        Forecaster(GRURegressor(hidden_size=2, max_iter=1), lags=8, horizon=2).fit(y)


def test_the_forecaster_says_how_much_of_the_network_it_kept(tmp_path):
    # documented as "0: dropped", the weight was only to be found inside estimator_
    from sklearn.exceptions import NotFittedError

    from tsbptt import Forecaster, LSTMRegressor, load_forecaster

    rng = np.random.default_rng(0)
    y = pd.Series(np.cumsum(rng.normal(size=300)),
                  index=pd.date_range("2024", periods=300, freq="D"))
    net = LSTMRegressor(hidden_size=4, max_iter=3, random_state=0, n_threads=1)
    f = Forecaster(net, horizon=7)
    with pytest.raises(NotFittedError):
        f.network_weight_
    f.fit(y)
    assert 0.0 <= f.network_weight_ <= 1.0
    assert f.network_weight_ == f.estimator_.network_weight_
    assert (f.network_weight_ > 0) == f.estimator_.use_network_
    f.save(tmp_path / "f.npz")
    assert load_forecaster(tmp_path / "f.npz").network_weight_ == f.network_weight_
    # no linear part to correct: no weight
    assert Forecaster(Ridge(), horizon=7).fit(y).network_weight_ is None
    assert Forecaster(net, horizon=7, linear=False).fit(y).network_weight_ is None
