"""LocalModels as a Forecaster's stand-in: backtested, updated and scored the way a
global Forecaster is, its errors naming the series they are about."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, LocalModels, backtest


def _panel(n=120, keys="abc"):
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    return {k: pd.Series(np.sin(np.arange(n) / 4 + i) + 0.1 * np.random.default_rng(i)
                         .standard_normal(n), idx) for i, k in enumerate(keys)}


@pytest.mark.parametrize("refit", [True, False])
def test_backtest_of_local_models_is_every_series_backtested_with_its_own_model(refit):
    # the README compares a global model with one model per series "with backtest",
    # which failed on LocalModels ('LocalModels' object has no attribute 'estimator')
    panel = _panel()
    template = Forecaster(Ridge(), lags=12, horizon=3, interval="conformal")
    bt = backtest(LocalModels(template), pd.concat(panel, names=["id", "time"]),
                  initial=90, step=10, horizon=3, refit=refit, coverage=0.8)
    assert list(bt.forecasts.columns) == ["unique_id", "ds", "cutoff", "y", "Ridge",
                                          "Ridge-lo-80", "Ridge-hi-80"]
    assert list(bt.per_series.index) == list("abc")
    for k, y in panel.items():
        alone = backtest(template, y, initial=90, step=10, horizon=3, refit=refit,
                         coverage=0.8)
        rows = bt.forecasts[bt.forecasts["unique_id"] == k]
        np.testing.assert_array_equal(rows["Ridge"], alone.forecasts["forecast"])
        np.testing.assert_array_equal(rows["Ridge-lo-80"], alone.forecasts["lower"])
        np.testing.assert_array_equal(rows["ds"], alone.forecasts["time"])
        for name in ("mae", "mase", "coverage"):
            assert bt.per_series.loc[k, name] == pytest.approx(alone.metrics[name])
    assert bt.metrics["mase"] == pytest.approx(bt.per_series["mase"].mean())
    # the same table as the global model's: the two compare row by row
    glob = backtest(template, panel, initial=90, step=10, horizon=3, refit=refit,
                    coverage=0.8)
    pd.testing.assert_frame_equal(glob.forecasts[["unique_id", "ds", "cutoff", "y"]],
                                  bt.forecasts[["unique_id", "ds", "cutoff", "y"]])


def test_backtest_of_local_models_on_one_series_is_the_templates():
    y = _panel()["a"]
    template = Forecaster(Ridge(), lags=12, horizon=3)
    local = backtest(LocalModels(template), y, initial=90, step=10, horizon=3)
    pd.testing.assert_frame_equal(
        local.forecasts, backtest(template, y, initial=90, step=10, horizon=3).forecasts)


def test_local_models_update_moves_each_series_or_none():
    panel = _panel(100)
    template = Forecaster(Ridge(), lags=12, horizon=2)
    head = {k: s.iloc[:90] for k, s in panel.items()}
    model = LocalModels(template).fit(head)
    model.update({"b": panel["b"].iloc[90:], "a": panel["a"].iloc[90:95]})
    moved = model.predict()
    for k, rows in (("a", 95), ("b", 100), ("c", 90)):
        expected = template.fit(head[k]).predict(history=panel[k].iloc[:rows])
        np.testing.assert_array_equal(moved.loc[k].to_numpy(), expected.to_numpy())
    with pytest.raises(ValueError, match=r"y_new holds series \['zz'\] that were not "
                                         r"fitted"):
        model.update({"zz": panel["a"].iloc[95:]})
    # 'c' refused (a gap) after 'a' was updated: 'a' is put back
    gap = panel["c"].iloc[92:95]
    with pytest.raises(ValueError, match=r"^series 'c': "):
        model.update({"a": panel["a"].iloc[95:], "c": gap})
    pd.testing.assert_series_equal(model.predict(), moved)


def test_local_models_predict_errors_name_the_series():
    # "X must give the future-known covariates ..." named none of dozens of series
    idx = pd.date_range("2024-01-01", periods=100, freq="h")
    rng = np.random.default_rng(0)
    ys = {k: pd.Series(rng.standard_normal(100), idx) for k in "ab"}
    Xs = {k: pd.DataFrame({"temp": rng.standard_normal(100)}, idx) for k in "ab"}
    future = {"a": pd.DataFrame({"temp": [1., 2, 3]},
                                pd.date_range(idx[-1], periods=4, freq="h")[1:])}
    model = LocalModels(Forecaster(Ridge(), lags=12, horizon=3, future_exog=["temp"]))
    with pytest.raises(ValueError, match=r"^series 'b': X must give the future-known"):
        model.fit(ys, Xs).predict(X=future)


def test_local_models_score_matches_series_by_id_in_any_order():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=120, freq="h")
    ys = {k: pd.Series(rng.standard_normal(120), idx) for k in ["b", "a"]}
    train = {k: s.iloc[:100] for k, s in ys.items()}
    template = Forecaster(Ridge(), lags=12, horizon=3)
    model = LocalModels(template).fit(train)
    test = {k: ys[k].iloc[100:103] for k in ["a", "b"]}  # the other order
    errors = [np.abs(ys[k].iloc[100:103].to_numpy()
                     - template.fit(train[k]).predict().to_numpy()) for k in "ab"]
    assert model.score(test) == pytest.approx(-np.mean(errors))
    with pytest.raises(ValueError, match=r"y must hold the fitted series \['b', 'a'\], "
                                         r"got \['a'\]"):
        model.score({"a": test["a"]})


def test_a_scikit_learn_model_as_the_template_is_refused_saying_how_to_wrap_it():
    # Ridge().fit(y) failed as "series 'a': This Ridge estimator requires y to be
    # passed, but the target y is None"
    with pytest.raises(ValueError, match=r"forecaster must be a forecaster of a series "
                                         r"\(a tsbptt Forecaster\), got Ridge.*"
                                         r"LocalModels\(Forecaster\(Ridge\(\.\.\.\), "
                                         r"lags=\.\.\.\)\)"):
        LocalModels(Ridge()).fit(_panel())


def test_a_newly_listed_series_is_read_at_the_panels_step_as_the_global_model_does():
    # alone, five sessions Monday to Friday read as daily: its model forecast Saturday
    idx = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=60).values)  # no freq
    a = pd.Series(100 + np.sin(np.arange(60.0)), index=idx)
    b = pd.Series(50 + np.cos(np.arange(10.0)), index=idx[-10:])  # from a Monday
    template = Forecaster(Ridge(), lags=3, horizon=2)
    week = {"A": a.iloc[:55], "B": b.iloc[:5]}  # B: Monday 11 to Friday 15 March
    local = LocalModels(template).fit(week)
    assert local.forecasters_["B"].step_ == pd.offsets.BusinessDay()
    assert local.forecasters_["B"].freq == pd.offsets.BusinessDay()
    assert local.forecasters_["A"].freq is None  # it read that step itself
    pd.testing.assert_index_equal(local.predict().index, template.fit(week).predict().index)
    assert set(local.predict().index.get_level_values(1)) == {pd.Timestamp("2024-03-18"),
                                                              pd.Timestamp("2024-03-19")}
    # the first cutoff is that Friday: the backtest failed on a Saturday's "actual"
    bt = backtest(LocalModels(template), {"A": a, "B": b}, initial=55, step=1, horizon=2)
    glob = backtest(template, {"A": a, "B": b}, initial=55, step=1, horizon=2)
    pd.testing.assert_frame_equal(bt.forecasts[["unique_id", "ds", "cutoff", "y"]],
                                  glob.forecasts[["unique_id", "ds", "cutoff", "y"]])
    # series of other frequencies keep their own steps
    hourly = pd.Series(np.arange(50.0), pd.date_range("2024-01-01", periods=50, freq="h"))
    steps = {k: f.step_ for k, f in LocalModels(template).fit(
        {"A": a, "H": hourly}).forecasters_.items()}
    assert steps == {"A": pd.offsets.BusinessDay(), "H": pd.offsets.Hour()}
