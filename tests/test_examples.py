"""Every example runs (with small settings) and prints what it promises."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# each example trains its models: the slow tier (pytest --slow)
pytestmark = pytest.mark.slow


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_sine(capsys):
    mse = _load("engine_sine").main(epochs=3)
    out = capsys.readouterr().out
    assert "predicting the mean" in out and out.count("test MSE") == 4
    assert np.isfinite(mse) and mse < 0.5


def test_gradient_flow(capsys):
    curves = _load("gradient_flow").main(T=30, hidden=8)
    assert set(curves) == {"lstm", "gru", "rnn"}
    assert all(c[0] == 1.0 for c in curves.values())
    assert "steps back" in capsys.readouterr().out


def test_grid_search(capsys):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search, mae = _load("grid_search").main(quick=True)
    assert set(search.best_params_) == {"lstm__hidden_size", "lstm__learning_rate"}
    assert np.isfinite(mae)
    out = capsys.readouterr().out
    assert "best parameters" in out and "seasonal naive" in out


@pytest.mark.parametrize("name", ["gradient_flow", "sensors", "stock"])
def test_a_plot_without_matplotlib_is_refused_before_the_fits(name, tmp_path, monkeypatch,
                                                               capsys):
    # the examples crashed on the import after all their fits (minutes at full size)
    module = _load(name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import` then refuses
    with pytest.raises(SystemExit, match=r"--plot needs matplotlib: pip install "
                                         r"'tsbptt\[plot\]'"):
        module.main(plot_path=tmp_path / "x.png")
    assert capsys.readouterr().out == ""  # nothing fitted or printed first


def test_gradient_flow_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "flow.png"
    curves = _load("gradient_flow").main(T=20, hidden=4, plot_path=path)
    assert set(curves) == {"lstm", "gru", "rnn"}
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"
    assert f"plot saved to {path}" in capsys.readouterr().out


def test_stock(capsys):
    result = _load("stock").main(quick=True)
    out = capsys.readouterr().out
    # the 5 business days after the last close, in returns and in prices
    dates = pd.bdate_range(result["last_date"] + pd.offsets.BDay(1), periods=5)
    assert result["last_date"] == pd.Timestamp("2022-12-30")
    interval, prices = result["interval"], result["prices"]
    assert interval.index.equals(dates) and prices.index.equals(dates)
    assert list(interval.columns) == ["forecast", "lower", "upper"]
    assert np.isfinite(prices.to_numpy()).all() and np.isfinite(interval.to_numpy()).all()
    assert (prices["lower"] < prices["price"]).all() and (prices["price"] < prices["upper"]).all()
    assert (interval["lower"] < interval["forecast"]).all()
    assert (interval["forecast"] < interval["upper"]).all()
    # the path compounds the forecast returns from the last price; the band widens
    expected = result["last_price"] * np.exp(np.cumsum(interval["forecast"].to_numpy()))
    np.testing.assert_allclose(prices["price"].to_numpy(), expected)
    assert (np.diff(np.log(prices["upper"] / prices["lower"])) > 0).all()
    # the backtest: every model scored, coverages are shares, the printed claims hold
    table = result["backtest"]
    assert list(table.index) == ["random walk (zero return)", "naive (repeat last return)",
                                 "LSTM, conformal interval", "LSTM, quantile interval"]
    assert np.isfinite(table.to_numpy()).all()
    assert ((table["coverage"] >= 0) & (table["coverage"] <= 1)).all()
    assert table.loc["naive (repeat last return)", "MAE"] > \
        table.loc["random walk (zero return)", "MAE"]
    bands = result["price_bands"]
    assert bands["width cumulative"] < bands["width compounded"]
    assert bands["cumulative conformal"] <= bands["compounded daily bounds"]
    assert "MAE against the random walk" in out and "close to unpredictable" in out
    assert "5-day price band" in out and "2023-01-06" in out


def test_sensors(capsys):
    result = _load("sensors").main(quick=True)
    out = capsys.readouterr().out
    table = result["sensors"]
    assert list(table.index) == ["s1", "s2", "s3", "s4", "mean"]
    assert list(table.columns) == ["seasonal naive", "Ridge", "GRU (global)"]
    assert np.isfinite(table.to_numpy()).all() and (table.to_numpy() > 0).all()
    np.testing.assert_allclose(table.loc["mean"], table.drop("mean").mean())
    # the forecasts cover the last `days` days of every sensor, hour by hour
    days = result["days"]
    gru = result["forecasts"]["GRU (global)"]
    times = gru.index.get_level_values("time")
    assert len(gru) == 4 * days * 24 and times.max() == pd.Timestamp("2024-04-25 23:00")
    assert times.min() == pd.Timestamp("2024-04-26") - pd.Timedelta(days=days)
    # electricity: the temperature columns, a seasonal naive row without covariates
    load = result["electricity"]
    assert list(load.columns) == ["no temperature", "past temperature",
                                  "temperature forecast"]
    assert list(load.index) == ["seasonal naive (a week ago)", "Ridge", "GRU"]
    assert np.isfinite(load.loc[["Ridge", "GRU"]].to_numpy()).all()
    assert load.loc["seasonal naive (a week ago)"].isna().sum() == 2
    # the Ridge reads the temperature of the forecast hours: it helps
    assert load.loc["Ridge", "temperature forecast"] < load.loc["Ridge", "no temperature"]
    assert "Mean absolute error" in out and "future_exog" in out
    assert "seasonal naive forecast on average" in out


def test_sensor_stream(capsys):
    result = _load("sensor_stream").main(quick=True)
    out = capsys.readouterr().out
    y, actual, forecasts = result["y"], result["actual"], result["forecasts"]
    # the forecast made at each reading is for the hour after it
    np.testing.assert_array_equal(actual, y.to_numpy()[672:672 + 48])
    assert forecasts.shape == (48,) and np.isfinite(forecasts).all()
    mae = result["mae"]
    assert list(mae) == ["LSTM, stream", "persistence", "seasonal naive (24 h)"]
    np.testing.assert_allclose(mae["persistence"],
                               np.abs(y.to_numpy()[671:719] - actual).mean())
    np.testing.assert_allclose(mae["LSTM, stream"], np.abs(forecasts - actual).mean())
    assert list(result["per_step"]) == ["stream.step", "predict_step"]
    # after the k-th update the 6-hour forecast starts the hour after that reading
    six = result["six_hours"]
    assert len(six) == 6
    for k, fc in enumerate(six):
        assert len(fc) == 6 and np.isfinite(fc.to_numpy()).all()
        assert fc.index[0] == y.index[672 + k + 1]
    assert "us per reading" in out and "Forecaster.update + predict" in out


def test_sensors_plot_and_stock_plot(tmp_path):
    pytest.importorskip("matplotlib")
    for name in ("sensors", "stock"):
        path = tmp_path / f"{name}.png"
        _load(name).main(quick=True, plot_path=path)
        assert path.stat().st_size > 1000


def test_online_recall(capsys):
    results = _load("online_recall").main(windows=(4,))
    assert results["RTRL (no window)"] < 0.2
    assert results["TBPTT, window 4"] > 0.5
    assert "recall the input 8 steps back" in capsys.readouterr().out
