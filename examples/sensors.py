"""One global GRU for four temperature sensors, and a covariate for electricity load.

Part 1, many series: the bundled hourly temperatures of sensors s1 .. s4 (a long
frame, turned into one Series with a (sensor, time) MultiIndex). One GRU learns
from the windows of all four sensors at once: each series is scaled on its own,
and every step carries its calendar features (hour of day and day of week of the
forecast steps, sine/cosine encoded) and a one-hot sensor id. It forecasts the
next 24 hours from the last 48 in one shot (direct strategy).

Holdout: every model is fitted once on all but the last 7 days of every sensor,
then forecasts each of those 7 days from its midnight, reading the 48 hours
before it (the window moves, the model is not refitted). Compared on the same
windows: the seasonal naive forecast (each hour repeats the same hour of the day
before, per sensor) and a Ridge regression (also global, same features).

Part 2, a covariate: hourly electricity load with the air temperature, which
drives heating demand. The temperature enters the same GRU and Ridge either as a
past-only covariate (known up to the forecast origin) or as a future-known one
(``future_exog``: its values over the 24 forecast hours are inputs too). The
temperature of tomorrow is not known today: in practice a weather forecast
stands in for the planned value; here the measured temperature plays that part,
a perfect forecast, so that column's scores are optimistic.

    python examples/sensors.py [--quick] [--plot sensors.png]
"""
import argparse
import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, GRURegressor
from tsbptt import SeasonalNaive
from tsbptt.datasets import load_electricity_load, load_sensor_temperatures

LAGS, HORIZON = 48, 24
CALENDAR = ["hour", "dayofweek"]


def gru(quick):
    return GRURegressor(8 if quick else 32, max_iter=2 if quick else 30,
                        learning_rate=1e-3, batch_size=64, random_state=0)


def holdout(forecaster, y, days, X=None):
    """Fit on all but the last ``days`` days, forecast each of them from its start.

    ``y`` is one Series or a (series, time) MultiIndexed one; ``X`` covariates in
    the same layout. Returns the forecasts of the held-out days, one Series in y's
    layout, and the mean absolute error per series (a Series).
    """
    when = y.index.get_level_values(-1)
    starts = when.unique().sort_values()[-days * HORIZON::HORIZON]

    def upto(data, t):
        return None if data is None else data[data.index.get_level_values(-1) < t]

    forecaster.fit(upto(y, starts[0]), upto(X, starts[0]))
    forecasts = []
    for start in starts:
        future = None
        if X is not None and forecaster.future_exog:  # the forecast hours' planned values
            t = X.index.get_level_values(-1)
            future = X[(t >= start) & (t < start + HORIZON * pd.Timedelta(hours=1))]
        forecasts.append(forecaster.predict(history=upto(y, start),
                                            history_X=upto(X, start), X=future))
    forecasts = pd.concat(forecasts).sort_index()
    errors = (forecasts - y.reindex(forecasts.index)).abs()
    if isinstance(errors.index, pd.MultiIndex):
        return forecasts, errors.groupby(level=0).mean()
    return forecasts, pd.Series({y.name: errors.mean()})


def sensors(quick=False):
    frame = load_sensor_temperatures()
    y = frame.set_index(["sensor", "time"])["temperature_c"]
    days = 2 if quick else 7
    models = {
        "seasonal naive": Forecaster(SeasonalNaive(24), lags=LAGS, horizon=HORIZON),
        "Ridge": Forecaster(Ridge(), lags=LAGS, horizon=HORIZON, calendar=CALENDAR,
                            series_id=True),
        "GRU (global)": Forecaster(gru(quick), lags=LAGS, horizon=HORIZON,
                                   calendar=CALENDAR, series_id=True),
    }
    table, forecasts = {}, {}
    for name, forecaster in models.items():
        forecasts[name], table[name] = holdout(forecaster, y, days)
    table = pd.DataFrame(table)
    table.loc["mean"] = table.mean()
    table.index.name = "sensor"
    return y, days, table, forecasts


def electricity(quick=False):
    data = load_electricity_load(with_temperature=True)
    y, X = data["load_mw"], data[["temperature_c"]]
    days = 2 if quick else 14
    rows = {"seasonal naive (a week ago)": {"no temperature": holdout(
        Forecaster(SeasonalNaive(168), lags=168, horizon=HORIZON), y, days)[1].iloc[0]}}
    forecasts = {}
    for name, make in [("Ridge", Ridge), ("GRU", lambda: gru(quick))]:
        rows[name] = {}
        for column, X_used, future in [("no temperature", None, None),
                                       ("past temperature", X, None),
                                       ("temperature forecast", X, ["temperature_c"])]:
            f = Forecaster(make(), lags=LAGS, horizon=HORIZON, calendar=CALENDAR,
                           future_exog=future)
            forecasts[name, column], mae = holdout(f, y, days, X_used)
            rows[name][column] = mae.iloc[0]
    return y, days, pd.DataFrame(rows).T, forecasts


def main(quick=False, plot_path=None):
    if plot_path is not None:  # said before the fits, not after them
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise SystemExit("--plot needs matplotlib: pip install 'tsbptt[plot]'") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        y, days, table, forecasts = sensors(quick)
        load, load_days, load_table, load_forecasts = electricity(quick)

    n = y.groupby(level=0).size()
    print(f"Sensors: {len(n)} series of {n.iloc[0]} hourly readings; forecast 24 h from "
          f"the last 48 h, each of the last {days} days\n(models fitted on the days "
          "before). Mean absolute error, degrees C:")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    mean = table.loc["mean"]
    gru_mae, naive_mae, ridge_mae = mean["GRU (global)"], mean["seasonal naive"], mean["Ridge"]
    print(f"The global GRU {'beats' if gru_mae < naive_mae else 'does not beat'} the "
          f"seasonal naive forecast on average ({gru_mae:.3f} vs {naive_mae:.3f} C, "
          f"{gru_mae / naive_mae - 1:+.0%}); Ridge on the same\nwindows: {ridge_mae:.3f} C "
          f"({ridge_mae / naive_mae - 1:+.0%}). These series are a daily sine, a drift "
          "and AR(1) noise of sd 0.25 C:\nlinear, so a linear model is hard to beat.")

    print(f"\nElectricity load: forecast 24 h from the last 48 h, each of the last "
          f"{load_days} days. Mean absolute error, MW:")
    print(load_table.to_string(float_format=lambda v: f"{v:.1f}", na_rep="-"))
    change = load_table.div(load_table["no temperature"], axis=0) - 1
    print("Change in MAE from adding the temperature: of the forecast hours, GRU "
          f"{change.loc['GRU', 'temperature forecast']:+.0%}, Ridge "
          f"{change.loc['Ridge', 'temperature forecast']:+.0%};\npast values only, GRU "
          f"{change.loc['GRU', 'past temperature']:+.0%}, Ridge "
          f"{change.loc['Ridge', 'past temperature']:+.0%}.")
    best = load_table.stack().idxmin()
    print(f"Lowest error: {best[0]}, {best[1]} ({load_table.stack().min():.1f} MW).")
    print("'temperature forecast': the temperature of the 24 forecast hours is an input "
          "(future_exog); a weather\nforecast stands in for the planned value in "
          "practice, here the measured temperature does (a perfect\nforecast, so an "
          "optimistic score). 'past temperature': known up to the origin only.")

    if plot_path is not None:
        plot(y, forecasts, table, load, load_forecasts, plot_path)
        print(f"\nplot saved to {plot_path}")
    return {"sensors": table, "electricity": load_table, "forecasts": forecasts,
            "load_forecasts": load_forecasts, "days": days, "load_days": load_days}


def plot(y, forecasts, table, load, load_forecasts, path):
    """Top left: the first sensor's last days, the forecasts of the last one. Top right:
    MAE per sensor and model. Bottom: the held-out load and the GRU's forecasts."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tsbptt.plotting import date_axis, plot_forecast

    fig = plt.figure(figsize=(13, 8), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    ax_day, ax_mae = top.subplots(1, 2, width_ratios=[3, 2])
    sensor = table.index[0]
    series = y.xs(sensor)
    gru_day = forecasts["GRU (global)"].xs(sensor).iloc[-HORIZON:]
    plot_forecast(series[series.index < gru_day.index[0]], gru_day,
                  actual=series.reindex(gru_day.index), history_tail=72, ax=ax_day,
                  title=f"Sensor {sensor}: the last held-out day")
    for i, name in enumerate(["seasonal naive", "Ridge"]):
        day = forecasts[name].xs(sensor).iloc[-HORIZON:]
        ax_day.plot(day.index, day.to_numpy(), color=f"C{i + 2}", lw=1.2, label=name)
    ax_day.lines[-3].set_label("GRU (global) forecast")
    ax_day.legend(loc="best", fontsize=8)
    ax_day.set_ylabel("temperature (C)")

    table.plot.bar(ax=ax_mae, rot=0, color=["C2", "C3", "C1"], width=0.8)
    ax_mae.set_title("Holdout MAE per sensor")
    ax_mae.set_ylabel("MAE (C)")
    ax_mae.grid(True, axis="y", alpha=0.3)
    ax_mae.set_ylim(0, 1.3 * table.to_numpy().max())
    ax_mae.legend(loc="upper center", ncols=3, fontsize=8)

    ax = bottom.subplots()
    start = load_forecasts["GRU", "no temperature"].index[0]
    shown = load[load.index >= start - pd.Timedelta(days=2)]
    ax.plot(shown.index, shown.to_numpy(), color="0.15", lw=1.2, label="actual load")
    for key, color in [(("GRU", "no temperature"), "C0"),
                       (("GRU", "temperature forecast"), "C1")]:
        f = load_forecasts[key]
        ax.plot(f.index, f.to_numpy(), color=color, lw=1.2,
                label=f"GRU, {key[1]}")
    ax.axvline(start, color="0.5", ls=":", lw=1, label="holdout starts")
    ax.set_title("Electricity load: day-ahead forecasts of the held-out days, each from "
                 "its midnight")
    ax.set_ylabel("load (MW)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, ncols=4)
    date_axis(ax)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
    parser.add_argument("--plot", metavar="PATH", help="save a figure (needs matplotlib)")
    args = parser.parse_args()
    main(args.quick, args.plot)
