"""Plots: labelled axes, legends, dates on the time axis, errors for many series."""
import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.collections import PolyCollection

from tsbptt.plotting import plot_forecast, plot_gradient_flow, plot_history


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
