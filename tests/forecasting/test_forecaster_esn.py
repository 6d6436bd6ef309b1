"""ESNRegressor inside the Forecaster, like any regressor."""
import numpy as np
import pandas as pd

from sklearn.linear_model import Ridge

from tsbptt import ESNRegressor, Forecaster
from tsbptt._kernels import reference


def _series(n=400):
    t = np.arange(n)
    return pd.Series(10 + 3 * np.sin(2 * np.pi * t / 24) + np.sin(2 * np.pi * t / 7),
                     index=pd.date_range("2024-01-01", periods=n, freq="h"))


def test_forecaster_with_esn_continues_a_periodic_series():
    y = _series()
    f = Forecaster(ESNRegressor(n_reservoir=100, random_state=0), lags=48, horizon=6)
    pred = f.fit(y.iloc[:-6]).predict()
    assert list(pred.index) == list(y.index[-6:])
    np.testing.assert_allclose(pred.to_numpy(), y.iloc[-6:].to_numpy(), atol=0.05)
    # a clone of the same settings predicts the same bits
    again = Forecaster(ESNRegressor(n_reservoir=100, random_state=0), lags=48, horizon=6)
    assert np.array_equal(again.fit(y.iloc[:-6]).predict().to_numpy(), pred.to_numpy())


def test_forecaster_sets_the_channels_of_exogenous_windows():
    y = _series()
    X = pd.DataFrame({"x": np.cos(np.arange(len(y)) / 5)}, index=y.index)
    target = y + 2 * X["x"]
    f = Forecaster(ESNRegressor(n_reservoir=60, random_state=0), lags=24, horizon=3,
                   strategy="recursive", future_exog=["x"])
    f.fit(target.iloc[:-3], X=X.iloc[:-3])
    pred = f.predict(X=X.iloc[-3:])
    # (window-scaled by default, as the other sequence models: the ESN in its window
    # model)
    assert f.scaling_ == "window"
    assert f.estimator_.estimator_.n_channels_ == len(f.channels_) > 1
    np.testing.assert_allclose(pred.to_numpy(), target.iloc[-3:].to_numpy(), atol=0.25)


def test_stateful_strategy_runs_the_reservoir_once_over_the_series():
    from tsbptt.datasets import make_mackey_glass
    s = make_mackey_glass(1300)
    y = pd.Series(s, index=pd.date_range("2020-01-01", periods=len(s), freq="h"))
    make = lambda: Forecaster(ESNRegressor(n_reservoir=100, alpha=1e-6,  # noqa: E731
                                           random_state=0),
                              lags=24, strategy="stateful")
    f = make().fit(y.iloc[:1200])
    est = f.estimator_
    assert est.per_step_ and est.washout == 24  # its default 0 -> lags: transients
    # the readout is exactly a ridge of z[t+1] on the state after step t (and z[t]),
    # t >= washout, z the globally standardised series
    z = (s - f.target_mean_[0]) / f.target_scale_[0]
    U = ((z[:1199] - est.input_mean_) / est.input_scale_)[None, :, None]
    states = reference.esn_forward(U.astype(np.float32), est.W_in_, est.W_, est.bias_,
                                   1.0)[0][0]
    Phi = np.hstack([states, U[0]])[24:]
    want = Ridge(1e-6).fit(Phi, z[25:1200])
    np.testing.assert_allclose(est.predict_sequence(U * est.input_scale_
                                                    + est.input_mean_)[0][0, 24:],
                               want.predict(Phi), atol=2e-5)
    assert np.sqrt(np.mean((want.predict(Phi) - z[25:1200]) ** 2)) < 1e-3
    # the state the fit ended in: bitwise what a second pass over the series gives
    second = est.predict_sequence(U * est.input_scale_ + est.input_mean_)[1]
    assert np.array_equal(f.states_[0][0], second[0][0])
    pred = f.predict(5)
    np.testing.assert_allclose(pred.to_numpy(), s[1200:1205], atol=5e-3)
    # the state moves with update, bitwise as re-reading the longer history
    g = make().fit(y.iloc[:1200]).update(y.iloc[1200:1250])
    again = f.predict(5, history=y.iloc[:1250])
    assert np.array_equal(g.predict(5).to_numpy(), again.to_numpy())
    np.testing.assert_allclose(again.to_numpy()[:2], s[1250:1252], atol=2e-3)


def test_forecaster_around_an_esn_is_saved_and_loaded_bitwise(tmp_path):
    from tsbptt import load_forecaster
    y = _series(300)
    for strategy in ("direct", "stateful"):
        f = Forecaster(ESNRegressor(n_reservoir=70, random_state=0), lags=24, horizon=3,
                       strategy=strategy).fit(y)
        f.save(tmp_path / f"{strategy}.npz")
        g = load_forecaster(tmp_path / f"{strategy}.npz")
        # direct: the ESN in its window model (window scaling); stateful: itself
        inner = g.estimator_ if strategy == "stateful" else g.estimator_.estimator_
        assert type(inner) is ESNRegressor
        assert np.array_equal(g.predict().to_numpy(), f.predict().to_numpy())


def test_stateful_panel_starts_from_each_series_final_state():
    idx = pd.date_range("2024-01-01", periods=300, freq="h")
    t = np.arange(300)
    ys = {"a": pd.Series(np.sin(t / 5), index=idx),
          "b": pd.Series(np.cos(t / 7) * 2 + 1, index=idx)}
    f = Forecaster(ESNRegressor(n_reservoir=80, random_state=0), lags=24, horizon=3,
                   strategy="stateful").fit(ys)
    assert f.states_[0][0].shape == (2, 80)
    # the states kept from the fit = those a fresh pass over each whole series gives
    again = f.predict(history=ys)
    assert np.array_equal(f.predict().to_numpy(), again.to_numpy())
    next_values = {"a": np.sin(300 / 5), "b": np.cos(300 / 7) * 2 + 1}
    for key, value in next_values.items():
        assert abs(again.loc[key].iloc[0] - value) < 0.05


def test_a_stateful_forecast_fed_back_stays_within_a_hundred_deviations():
    # a stateful ESN on hourly spikes fed its forecasts back and reached 1.6e37 in
    # 24 steps (or raised that X went beyond float32): a forecast fed back is kept
    # within 100 standard deviations of the series' training mean
    rng = np.random.default_rng(1)
    t = np.arange(1000)
    spikes = np.where(t % 24 == 8, 30.0, 0.0) * rng.uniform(0.7, 1.3, 1000)
    y = pd.Series(5 + spikes + rng.normal(0, 0.5, 1000),
                  index=pd.date_range("2024-01-01", periods=1000, freq="h"))
    f = Forecaster(ESNRegressor(random_state=0), lags=48, horizon=24,
                   strategy="stateful").fit(y)
    pred = f.predict().to_numpy()
    mean, scale = f.target_mean_[0], f.target_scale_[0]
    assert np.isfinite(pred).all()
    assert np.abs(pred - mean).max() <= 100 * scale * (1 + 1e-12)
    # the limit is the same from the stored tail and from the whole history
    np.testing.assert_array_equal(f.predict(history=y).to_numpy(), pred)


def test_a_stateful_trend_is_carried_on_as_from_the_whole_history():
    # a limit taken from the stored tail (the last lags steps) flattened a trend
    # after a few steps in predict(), and not in predict(history=y) (a reviewer)
    t = np.arange(300.0)
    y = pd.Series(100 + 0.5 * t + np.random.default_rng(0).normal(0, 0.3, 300),
                  index=pd.date_range("2024-01-01", periods=300, freq="D"))
    f = Forecaster(ESNRegressor(random_state=0), horizon=40, strategy="stateful",
                   transform="diff").fit(y)
    pred = f.predict(40)
    np.testing.assert_array_equal(pred.to_numpy(), f.predict(40, history=y).to_numpy())
    assert abs(pred.iloc[-1] - (100 + 0.5 * 339)) < 3
