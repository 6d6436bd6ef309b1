"""Forecast a stock 5 business days ahead: log returns, an LSTM, a 90% band.

The model forecasts daily log returns, not prices. Prices wander without a fixed
level, so a network trained on past prices is asked about levels it never saw
(and a tanh network cannot extrapolate them), while log returns are close to
stationary and add up over days: the price h days ahead is
``last_price * exp(r_1 + ... + r_h)``.

What it does, on the bundled (synthetic, GARCH) stock prices:

1. Backtest over the last 100 business days: one LSTM fitted on the data before
   them, its 5-day window moved one day at a time (``refit=False``), against the
   random walk (a zero return: ``DummyRegressor(strategy='constant')`` on the
   unscaled returns) and the naive forecast of returns (repeat the last one,
   ``SeasonalNaive(1)``). Printed: MAE and MASE of the daily returns, and the
   share of the actual returns inside the 90% intervals (split-conformal, and the
   LSTM's own 5%/50%/95% quantiles trained with the pinball loss). Both are
   calibrated on held-out windows: the conformal one by the errors there, the
   quantile one by how far the actuals fell outside its quantile band there.
2. The forecast of the 5 business days after the last price, turned into prices.
   The path is ``prices_from_log_returns(last_price, forecast)``; the band is the
   price at the bounds of the *cumulative* log return, ``path * exp(+-q_h)``, where
   ``q_h`` is the split-conformal quantile of the model's cumulative calibration
   errors over days 1..h. Compounding the daily bounds instead (every day at its
   bound at once) gives a band much wider than 90%; the backtest shows how much.

Be realistic: daily returns are close to unpredictable, and the LSTM is not
expected to beat the random walk by much, if at all. What is worth having is a
calibrated range for the price, not a better point forecast, and split-conformal
calibration gives the random walk about as good a range as the LSTM.

    python examples/stock.py [--quick] [--plot stock.png]
"""
import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning

from tsbptt import Forecaster, LSTMRegressor, backtest
from tsbptt import SeasonalNaive
from tsbptt.datasets import load_stock_prices
from tsbptt.forecasting.returns import log_returns, prices_from_log_returns

LAGS, HORIZON, COVERAGE = 20, 5, 0.9


def forecasters(quick=False):
    """The models compared, each a Forecaster over the same 20-day windows."""
    lstm = LSTMRegressor(8 if quick else 16, max_iter=5 if quick else 100,
                         learning_rate=1e-3, batch_size=64, early_stopping=True,
                         random_state=0)
    common = {"lags": LAGS, "horizon": HORIZON, "coverage": COVERAGE}
    return {
        # scaling=None: the Forecaster would otherwise standardise the returns, and
        # a constant 0 would come back as the training mean return (the drift)
        "random walk (zero return)": Forecaster(
            DummyRegressor(strategy="constant", constant=np.zeros(HORIZON)),
            scaling=None, interval="conformal", **common),
        "naive (repeat last return)": Forecaster(SeasonalNaive(1), interval="conformal",
                                                 **common),
        "LSTM, conformal interval": Forecaster(lstm, interval="conformal", **common),
        "LSTM, quantile interval": Forecaster(lstm, interval="quantile", **common),
    }


def cumulative_half_width(forecaster, coverage=COVERAGE):
    """Split-conformal half-widths of the cumulative log return over days 1..h.

    ``residuals_`` holds the calibration errors of each forecast day (in
    standardised units, one row per calibration origin); their running sums are
    the errors of the cumulative return, whose ``ceil((m + 1) * coverage)``-th
    smallest absolute value is the conformal bound.
    """
    errors = np.cumsum(forecaster.residuals_, axis=1) * forecaster.target_scale_[0]
    rank = int(np.ceil((len(errors) + 1) * coverage))
    return np.sort(np.abs(errors), axis=0)[rank - 1]


def price_band_coverage(table, half_width):
    """Per origin, compound the forecast returns into prices (relative to the
    origin's price) and check the actual cumulative returns against two bands:
    the daily bounds compounded, and the cumulative conformal band."""
    g = table.groupby("origin", sort=False)
    actual, path = g["actual"].cumsum(), g["forecast"].cumsum()
    low, high = g["lower"].cumsum(), g["upper"].cumsum()
    half = half_width[table["step"].to_numpy() - 1]
    return {"compounded daily bounds": float(np.mean((actual >= low) & (actual <= high))),
            "cumulative conformal": float(np.mean(np.abs(actual - path) <= half)),
            "width compounded": float(np.mean(high - low)),
            "width cumulative": float(np.mean(2 * half))}


def main(quick=False, plot_path=None, holdout=None):
    if plot_path is not None:  # said before the fits, not after them
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise SystemExit("--plot needs matplotlib: pip install 'tsbptt[plot]'") from None
    close = load_stock_prices()
    returns = log_returns(close)
    holdout = (30 if quick else 100) if holdout is None else holdout
    initial = len(returns) - holdout
    print(f"{len(close)} business-day closes {close.index[0]:%Y-%m-%d} .. "
          f"{close.index[-1]:%Y-%m-%d}; daily log returns: sd {returns.std():.4f}, "
          f"mean |r| {returns.abs().mean():.4f}")

    models = forecasters(quick)
    rows, tables = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, forecaster in models.items():
            bt = backtest(forecaster, returns, initial=initial, refit=False,
                          season=1, coverage=COVERAGE)
            tables[name] = bt.forecasts
            width = bt.forecasts["upper"] - bt.forecasts["lower"]
            rows[name] = {"MAE": bt.metrics["mae"], "MASE": bt.metrics["mase"],
                          "coverage": bt.metrics["coverage"], "mean width": width.mean()}
        # the backtest's LSTM, refitted (training is deterministic given random_state)
        # for its calibration errors: the cumulative band of the 5-day prices
        conformal = models["LSTM, conformal interval"]
        fitted = Forecaster(**conformal.get_params(deep=False)).fit(returns.iloc[:initial])
        bands = price_band_coverage(tables["LSTM, conformal interval"],
                                    cumulative_half_width(fitted))
        # the forecast after the last price, with the model refitted on all data
        final = Forecaster(**conformal.get_params(deep=False)).fit(returns)
    table = pd.DataFrame(rows).T

    n_origins = tables["LSTM, conformal interval"]["origin"].nunique()
    print(f"\nBacktest over the last {holdout} business days: {n_origins} origins x "
          f"{HORIZON} days, fitted once on the first {initial} returns.")
    print("MASE: MAE over the in-sample MAE of repeating the last return; coverage: "
          f"share of the daily\nreturns inside their {COVERAGE:.0%} interval; width: "
          "of the interval, in log return.")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    rw = table.loc["random walk (zero return)"]
    lstm = table.loc["LSTM, conformal interval"]
    vs_rw = table["MAE"] / rw["MAE"] - 1
    print("MAE against the random walk: LSTM "
          f"{vs_rw['LSTM, conformal interval']:+.1%} (conformal model), "
          f"{vs_rw['LSTM, quantile interval']:+.1%} (quantile model's median);\n"
          f"repeating the last return {vs_rw['naive (repeat last return)']:+.1%}. "
          "Daily returns are close to unpredictable: don't expect\na network to beat a "
          "zero forecast. What is worth having is the interval: the LSTM's conformal "
          f"one\ncovers {lstm['coverage']:.0%} of the returns, but the random walk's "
          f"covers {rw['coverage']:.0%} and is as narrow ({rw['mean width']:.4f} vs "
          f"{lstm['mean width']:.4f}):\nthe calibration makes the band, not the network.")
    print(f"\n5-day price band of the conformal LSTM in the same backtest (share of the "
          f"prices 1..5 days ahead inside):\n  compounding the daily bounds: "
          f"{bands['compounded daily bounds']:.0%}, mean width "
          f"{bands['width compounded']:.3f} in log price (too wide)\n  cumulative "
          f"conformal band:    {bands['cumulative conformal']:.0%}, mean width "
          f"{bands['width cumulative']:.3f} (the band used below)")

    # the forecast of the next 5 business days, in returns and in prices
    interval = final.predict_interval()
    last_price = float(close.iloc[-1])
    path = prices_from_log_returns(last_price, interval["forecast"])
    half = cumulative_half_width(final)
    prices = pd.DataFrame({"price": path, "lower": path * np.exp(-half),
                           "upper": path * np.exp(half)})
    prices.index.name = "date"
    prices.attrs["coverage"] = COVERAGE
    shown = pd.concat({"log return": interval, "price (USD)": prices}, axis=1)
    print(f"\nForecast after the last close ({close.index[-1]:%a %Y-%m-%d}, "
          f"{last_price:.2f} USD), {COVERAGE:.0%} intervals:")
    print(shown.to_string(float_format=lambda v: f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}"))

    if plot_path is not None:
        plot(close, prices, tables["LSTM, conformal interval"], plot_path)
        print(f"\nplot saved to {plot_path}")
    return {"backtest": table, "price_bands": bands, "mae_vs_random_walk": vs_rw,
            "interval": interval, "prices": prices, "last_price": last_price,
            "last_date": close.index[-1]}


def plot(close, prices, table, path):
    """Left: the last 60 closes and the 5-day price forecast with its band.
    Right: the backtest's next-day returns and their 90% conformal intervals."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tsbptt.plotting import date_axis, plot_forecast

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained",
                                      width_ratios=[3, 2])
    plot_forecast(close, prices["price"], interval=prices, history_tail=60, ax=left,
                  title="Price: the last 60 closes\nand the LSTM's 5-day forecast")
    left.set_ylabel("close (USD)")
    for artist in left.lines + left.collections:  # say what the path and band are
        label = artist.get_label()
        if label == "forecast":
            artist.set_label("forecast (compounded log returns)")
        elif label.endswith("interval"):
            artist.set_label(f"{COVERAGE:.0%} band (cumulative conformal)")
    left.legend(loc="upper right")
    next_day = table[table["step"] == 1].set_index("time")
    x = next_day.index.to_numpy()
    right.fill_between(x, next_day["lower"], next_day["upper"], color="C1", alpha=0.2,
                       lw=0, label=f"{COVERAGE:.0%} interval")
    right.plot(x, next_day["forecast"], color="C1", lw=1.5, label="forecast")
    inside = ((next_day["actual"] >= next_day["lower"])
              & (next_day["actual"] <= next_day["upper"])).to_numpy()
    right.plot(x[inside], next_day["actual"][inside], ".", color="0.15", label="actual")
    right.plot(x[~inside], next_day["actual"][~inside], "x", color="C3", ms=7,
               label="actual, outside the interval")
    right.axhline(0, color="0.5", lw=0.8)
    right.set_title(f"Backtest: next-day log returns\nand the LSTM's {COVERAGE:.0%} "
                    "conformal interval")
    right.set_xlabel("date")
    right.set_ylabel("log return")
    right.grid(True, alpha=0.3)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, fontsize=8)
    date_axis(right)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
    parser.add_argument("--plot", metavar="PATH", help="save a figure (needs matplotlib)")
    args = parser.parse_args()
    main(args.quick, args.plot)
