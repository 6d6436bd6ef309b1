"""Plots: labelled axes, legends, dates on the time axis, errors for many series."""
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.collections import PolyCollection

from tsbptt.plotting import date_axis, plot_forecast, plot_gradient_flow, plot_history


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _series(n=60, start="2024-01-01", freq="D", name="sales"):
    idx = pd.date_range(start, periods=n, freq=freq)
    return pd.Series(np.sin(np.arange(n) / 5.0) + 10, index=idx, name=name)


def _forecast_parts(coverage=0.9):
    y = _series(70)
    history, actual = y.iloc[:60], y.iloc[60:]
    forecast = actual + 0.1
    interval = pd.DataFrame({"lower": forecast - 0.5, "upper": forecast + 0.5})
    if coverage is not None:
        interval.attrs["coverage"] = coverage
    return history, forecast, interval, actual


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _line(ax, label):
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return line


def test_plot_forecast_full():
    history, forecast, interval, actual = _forecast_parts()
    ax = plot_forecast(history, forecast, interval=interval, actual=actual, title="t")
    assert ax.get_xlabel() == "date" and ax.get_ylabel() == "sales"
    assert ax.get_title() == "t"
    assert _legend(ax) == ["history", "90% interval", "actual", "forecast"]
    assert len(ax.get_lines()) == 3
    x = _line(ax, "forecast").get_xdata(orig=False)
    np.testing.assert_allclose(x, mdates.date2num(forecast.index))
    np.testing.assert_allclose(_line(ax, "forecast").get_ydata(), forecast.to_numpy())
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1 and bands[0].get_label() == "90% interval"
    assert isinstance(ax.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert isinstance(ax.xaxis.get_major_locator(), mdates.AutoDateLocator)


@pytest.mark.parametrize("coverage, label", [(None, "interval"), (80, "80% interval"),
                                             (0.95, "95% interval")])
def test_interval_label(coverage, label):
    history, forecast, interval, _ = _forecast_parts(coverage)
    ax = plot_forecast(history, forecast, interval=interval)
    assert _legend(ax) == ["history", label, "forecast"]


def test_plot_forecast_minimal_and_tail():
    history, forecast, _, _ = _forecast_parts()
    ax = plot_forecast(history, forecast, history_tail=10)
    assert _legend(ax) == ["history", "forecast"] and len(ax.get_lines()) == 2
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    x = _line(ax, "history").get_xdata(orig=False)
    np.testing.assert_allclose(x, mdates.date2num(history.index[-10:]))


def test_plot_forecast_integer_index_and_given_ax():
    y = pd.Series(np.arange(30.0))
    _, ax = plt.subplots()
    out = plot_forecast(y.iloc[:25], y.iloc[25:], ax=ax)
    assert out is ax
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "value"
    np.testing.assert_array_equal(_line(ax, "forecast").get_xdata(), np.arange(25, 30))


def test_plot_forecast_one_point_parts_stay_visible():
    # a one-step forecast (horizon 1): a band of one point has no area and a line
    # through one point no length; both would be drawn invisible
    from matplotlib.collections import LineCollection

    history, forecast, interval, actual = _forecast_parts()
    ax = plot_forecast(history.iloc[-1:], forecast.iloc[:1], interval=interval.iloc[:1],
                       actual=actual.iloc[:1])
    assert _legend(ax) == ["history", "90% interval", "actual", "forecast"]
    for label in ("history", "actual", "forecast"):
        assert _line(ax, label).get_marker() not in (None, "None", "", " ")
    (band,) = [c for c in ax.collections if c.get_label() == "90% interval"]
    assert isinstance(band, LineCollection) and band.get_linewidth()[0] > 0
    (segment,) = band.get_segments()
    np.testing.assert_allclose(segment[:, 1], [interval["lower"].iloc[0],
                                               interval["upper"].iloc[0]])
    # longer parts keep their plain lines and band
    ax = plot_forecast(history, forecast, interval=interval, actual=actual)
    assert _line(ax, "history").get_marker() in (None, "None", "", " ")
    assert [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_plot_forecast_multiindex_error():
    idx = pd.MultiIndex.from_product([["A", "B"], pd.date_range("2024", periods=5)],
                                     names=["id", "time"])
    panel = pd.Series(np.arange(10.0), index=idx)
    with pytest.raises(ValueError, match=r"MultiIndex.*select one series with \.xs\(id\)"):
        plot_forecast(panel, panel)
    with pytest.raises(ValueError, match=r"forecast\.xs\('A'\)"):
        plot_forecast(panel.xs("A"), panel)


def test_plot_forecast_bad_inputs():
    history, forecast, interval, _ = _forecast_parts()
    with pytest.raises(ValueError, match="'lower' and 'upper'"):
        plot_forecast(history, forecast, interval=interval.rename(columns={"lower": "lo"}))
    with pytest.raises(ValueError, match="history_tail"):
        plot_forecast(history, forecast, history_tail=0)
    with pytest.raises(ValueError, match="mix"):
        plot_forecast(history.reset_index(drop=True), forecast)


def test_plot_forecast_long_frame_says_how_to_select_one_series():
    # what Forecaster.predict returns for a long-frame panel (Nixtla's layout)
    times = pd.date_range("2024-01-01", periods=3, freq="D")
    long = pd.DataFrame({"unique_id": np.repeat(np.array([1, 2]), 3),
                         "ds": np.tile(times, 2), "y": np.arange(6.0)})
    history, _, _, _ = _forecast_parts()
    with pytest.raises(ValueError, match=r"got a DataFrame with 3 columns; .*e\.g\. "
                       r"forecast\[forecast\['unique_id'\] == 1\]\.set_index\('ds'\)"
                       r"\['y'\]$"):
        plot_forecast(history, long)
    wide = pd.DataFrame({"a": history, "b": history})
    with pytest.raises(ValueError, match=r"2 columns; select one column, e\.g\. "
                       r"history\['a'\]"):
        plot_forecast(wide, history)


def test_plot_forecast_multiindex_advice_shows_plain_ids():
    # np.int64(1) is what repr gives for an id read from the index under NumPy 2
    idx = pd.MultiIndex.from_product([np.array([1, 2]), pd.date_range("2024", periods=3)])
    panel = pd.Series(np.arange(6.0), index=idx)
    with pytest.raises(ValueError, match=r"e\.g\. history\.xs\(1\)$"):
        plot_forecast(panel, panel.xs(1))


def _berlin_parts():
    history, forecast, interval, actual = _forecast_parts()
    return [p.tz_localize("Europe/Berlin") for p in (history, forecast, interval, actual)]


@pytest.mark.parametrize("naive", ["history", "forecast", "interval", "actual"])
def test_plot_forecast_refuses_naive_and_aware_dates_mixed(naive):
    # the naive part was drawn as UTC, an hour (two in summer) off the Berlin times
    parts = dict(zip(["history", "forecast", "interval", "actual"], _berlin_parts()))
    parts[naive] = parts[naive].tz_localize(None)
    first, other = ("forecast", naive) if naive == "history" else ("history", naive)
    message = (rf"{other}'s index is tz-naive but {first}'s is tz-aware \(Europe/Berlin\)"
               if naive != "history" else
               r"forecast's index is tz-aware \(Europe/Berlin\) but history's is tz-naive")
    with pytest.raises(ValueError, match=message + r".*\.tz_localize\('Europe/Berlin'\)"):
        plot_forecast(**parts)


def test_plot_forecast_aware_dates_in_different_zones_stay_the_same_instants():
    history, forecast, interval, actual = _berlin_parts()
    ax = plot_forecast(history, forecast.tz_convert("UTC"), interval=interval,
                       actual=actual.tz_convert("America/New_York"))
    np.testing.assert_allclose(_line(ax, "forecast").get_xdata(orig=False),
                               _line(ax, "actual").get_xdata(orig=False))
    np.testing.assert_allclose(_line(ax, "forecast").get_xdata(orig=False),
                               mdates.date2num(forecast.index.tz_convert("UTC")
                                               .tz_localize(None)))


@pytest.mark.parametrize("what", ["history", "forecast", "interval", "actual"])
def test_plot_forecast_refuses_an_index_going_back_in_time(what):
    parts = dict(zip(["history", "forecast", "interval", "actual"], _forecast_parts()))
    unsorted = parts[what].iloc[[0, 2, 1, 3, 4]]
    with pytest.raises(ValueError, match=rf"{what}'s index must be increasing without "
                       r"repeats; Timestamp\('\S+ 00:00:00'\) \(position 2\) comes after "
                       rf".*{what}\.sort_index\(\)"):
        plot_forecast(**{**parts, what: unsorted})


def test_plot_forecast_refuses_a_backtest_table_of_several_origins():
    # forecasts from two origins, 3 steps each, overlap in two times
    history, forecast, _, _ = _forecast_parts()
    times = forecast.index
    table = pd.DataFrame({"origin": np.repeat(times[[0, 1]] - pd.Timedelta("1D"), 3),
                          "time": np.concatenate([times[0:3], times[1:4]]),
                          "forecast": np.arange(6.0)})
    with pytest.raises(ValueError, match=r"forecast's index must be increasing without "
                       r"repeats; Timestamp\('2024-03-02 00:00:00'\) repeats\..*"
                       r"forecasts\[forecasts\.origin == origin\]"):
        plot_forecast(history, table.set_index("time")["forecast"])
    one = table[table.origin == table.origin.iloc[0]].set_index("time")["forecast"]
    ax = plot_forecast(history, one)
    np.testing.assert_array_equal(_line(ax, "forecast").get_ydata(), [0.0, 1.0, 2.0])


def test_plot_forecast_integer_index_going_back_is_refused():
    y = pd.Series(np.arange(10.0))
    with pytest.raises(ValueError, match=r"history's index must be increasing without "
                       r"repeats; 3 \(position 4\) comes after 5"):
        plot_forecast(y.iloc[[0, 1, 2, 5, 3]], y.iloc[6:])


def test_date_axis_without_matplotlib_says_how_to_install_it(monkeypatch):
    _, ax = plt.subplots()
    for name in ("matplotlib", "matplotlib.dates", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)  # what `import` then refuses
    with pytest.raises(ImportError, match=r"pip install 'tsbptt\[plot\]'"):
        date_axis(ax)
    with pytest.raises(ImportError, match=r"pip install 'tsbptt\[plot\]'"):
        plot_forecast(*_forecast_parts()[:2])


def _records(n=8, val=True, spread=1.0):
    return [{"epoch": k, "train_loss": spread / k ** 2,
             "val_loss": 1.5 / k + (0.05 * k if k > 5 else 0) if val else None}
            for k in range(1, n + 1)]


def test_plot_history_with_validation():
    ax = plot_history(_records())
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert _legend(ax)[:2] == ["training loss", "validation loss"]
    assert "lowest validation loss" in _legend(ax)[2]
    np.testing.assert_array_equal(_line(ax, "training loss").get_xdata(), np.arange(1, 9))
    assert ax.get_yscale() == "linear"  # 1/64 .. 1.5: two decades, not more


def test_plot_history_log_scale_and_no_validation():
    ax = plot_history(_records(n=20, val=False))  # 1 .. 1/400
    assert _legend(ax) == ["training loss"] and len(ax.get_lines()) == 1
    assert ax.get_yscale() == "log"


class _Fitted:
    history_ = _records(3)


def test_plot_history_from_estimator_and_errors():
    ax = plot_history(_Fitted())
    assert len(ax.get_lines()) == 3
    with pytest.raises(ValueError, match="fit the estimator"):
        plot_history([])
    with pytest.raises(TypeError, match="history_"):
        plot_history(object())


def test_plot_history_real_estimator():
    from tsbptt import LSTMRegressor
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    est = LSTMRegressor(hidden_size=4, max_iter=4, early_stopping=True,
                        n_iter_no_change=10, random_state=0)
    with pytest.warns(Warning):  # ConvergenceWarning: max_iter reached
        est.fit(X, X[:, -1])
    ax = plot_history(est)
    assert _legend(ax)[:2] == ["training loss", "validation loss"]


def _fitted_forecaster(**params):
    import tsbptt
    from tsbptt import Forecaster, GRURegressor
    y = tsbptt.datasets.load_electricity_load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached
        return Forecaster(GRURegressor(4, max_iter=3, random_state=0), lags=24, horizon=2,
                          **params).fit(y)


def test_plot_history_of_a_forecaster_finds_its_network():
    forecaster = _fitted_forecaster()
    network = forecaster.estimator_.estimator_
    ax = plot_history(forecaster)
    assert _legend(ax)[:2] == ["training loss", "validation loss"]
    np.testing.assert_array_equal(_line(ax, "training loss").get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(_line(ax, "training loss").get_ydata(),
                               [h["train_loss"] for h in network.history_])


def test_plot_history_of_several_seeds_says_which_to_pick():
    forecaster = _fitted_forecaster(n_seeds=2)
    with pytest.raises(ValueError, match=r"Forecaster holds 2 networks in "
                       r"estimator_\.estimators_ \(n_seeds=2\).*"
                       r"plot_history\(forecaster\.estimator_\.estimators_\[0\]\)"):
        plot_history(forecaster)
    ax = plot_history(forecaster.estimator_.estimators_[1])
    np.testing.assert_allclose(_line(ax, "training loss").get_ydata(),
                               [h["train_loss"] for h in
                                forecaster.estimator_.estimators_[1].history_])


def test_plot_history_without_a_network_says_where_a_history_is():
    from sklearn.linear_model import Ridge

    from tsbptt import Forecaster, GRURegressor
    y = pd.Series(np.sin(np.arange(80) / 3.0))
    with pytest.raises(TypeError, match=r"forecaster\.estimator_\.estimator_.*got "
                       r"Forecaster; its model forecaster\.estimator_ is a Ridge, which "
                       r"keeps none$"):
        plot_history(Forecaster(Ridge(), lags=5).fit(y))
    with pytest.raises(TypeError, match=r"got GRURegressor; the GRURegressor is not "
                       r"fitted: call fit first$"):
        plot_history(GRURegressor(4))
    with pytest.raises(TypeError, match=r"got Forecaster; the Forecaster is not fitted"):
        plot_history(Forecaster(GRURegressor(4)))


def test_plot_gradient_flow_of_one_result_passed_as_it_is():
    from tsbptt.engine import LOSSES, Network, Objective, gradient_flow
    X = np.random.default_rng(0).standard_normal((16, 20, 1))
    y, lengths = X[:, -1:, 0], np.full(16, 20, dtype=np.intp)
    net = Network("lstm", input_size=1, hidden_size=4, output_size=1, random_state=0)
    res = gradient_flow(net, X, lengths, Objective(LOSSES["mse"]()).batch_fn(
        net, y, lengths, None))
    ax = plot_gradient_flow(res)
    (line,) = ax.get_lines()  # not three lines steps_back, norm, ratio
    assert line.get_label() == "gradient flow" and ax.get_legend() is None
    np.testing.assert_array_equal(line.get_xdata(), res["steps_back"])
    np.testing.assert_allclose(line.get_ydata(), res["ratio"])
    ax = plot_gradient_flow({"lstm": res})
    assert _legend(ax) == ["LSTM"]
    np.testing.assert_allclose(_line(ax, "LSTM").get_ydata(), res["ratio"])


@pytest.mark.parametrize("curves, kind", [([0.9 ** np.arange(5)], "list"),
                                          (0.9 ** np.arange(5), "ndarray")])
def test_plot_gradient_flow_refuses_a_bare_curve(curves, kind):
    with pytest.raises(TypeError, match=r"curves must be a dict of name -> curve .* or "
                       rf"gradient_flow result.*; got {kind}$"):
        plot_gradient_flow(curves)
    with pytest.raises(ValueError, match=r"curves\['lstm'\] is a dict without 'ratio'"):
        plot_gradient_flow({"lstm": {"norm": curves}})


def test_plot_gradient_flow():
    t = np.arange(40)
    curves = {"lstm": 0.9 ** t, "gru": 0.7 ** t, "my cell": {"ratio": 0.5 ** t}}
    curves["gru"][-1] = 0.0  # dropped from the log plot, not an error
    ax = plot_gradient_flow(curves)
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "steps back from the last step"
    assert "relative to the last step" in ax.get_ylabel()
    assert _legend(ax) == ["LSTM", "GRU", "my cell"] and len(ax.get_lines()) == 3
    np.testing.assert_array_equal(_line(ax, "LSTM").get_xdata(), t)
    assert np.isnan(_line(ax, "GRU").get_ydata()[-1])
    with pytest.raises(ValueError, match="empty"):
        plot_gradient_flow({})


def test_save_png(tmp_path):
    history, forecast, interval, actual = _forecast_parts()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot_forecast(history, forecast, interval=interval, actual=actual, ax=axes[0])
    plot_history(_records(), ax=axes[1])
    plot_gradient_flow({"rnn": 0.8 ** np.arange(20)}, ax=axes[2])
    path = tmp_path / "plots.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_forecast_labels_times_in_their_own_zone():
    # matplotlib's date ticks default to UTC: a +01:00 series' 11:00 was labelled 10:00
    index = pd.date_range("2024-01-01 00:00", periods=12, freq="h", tz="Etc/GMT-1")
    history = pd.Series(np.arange(12.0), index=index, name="load")
    forecast = pd.Series([12.0, 13.0], index=index[-1] + pd.to_timedelta([1, 2], "h"))
    ax = plot_forecast(history, forecast)
    ax.figure.canvas.draw()
    formatter = ax.xaxis.get_major_formatter()
    hour = mdates.date2num(index[11].to_pydatetime())
    assert formatter.format_data_short(hour).startswith("2024-01-01 11:00")
