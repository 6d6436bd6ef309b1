"""MASE of many series (the mean of each series' own MASE) and prices compounded
per series from a panel's forecast log returns; every value against a hand
computation in plain NumPy / pandas."""
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, backtest, metrics
from tsbptt.forecasting.metrics import _mase_or_nan
from tsbptt.forecasting.returns import log_returns, prices_from_log_returns

TRAIN = pd.DataFrame({"BRK": [600000.0, 601000.0, 599000.0, 600500.0],
                      "PENNY": [0.010, 0.011, 0.009, 0.010]})
TRUE = pd.DataFrame({"BRK": [601000.0, 602000.0], "PENNY": [0.010, 0.012]})
PRED = pd.DataFrame({"BRK": [601000.0, 601500.0], "PENNY": [0.020, 0.011]})


def _hand_mase(true, pred, train, season=1):
    """Each column's MAE over its own in-sample seasonal-naive MAE, averaged."""
    out = []
    for col in true.columns:
        t = train[col].to_numpy()
        diffs = np.abs(t[season:] - t[:-season])
        scale = np.mean(diffs[~np.isnan(diffs)])
        out.append(np.mean(np.abs(true[col].to_numpy() - pred[col].to_numpy())) / scale)
    return np.mean(out)


def _long(wide):
    """A wide frame as a long Series (id, step), rows interleaved by step."""
    return wide.stack().swaplevel().rename_axis(["id", "step"])


def test_mase_of_many_series_is_the_mean_of_each_series_own_mase():
    # the absolute errors of all series were pooled over one pooled naive scale: the
    # penny stock's 100% miss vanished next to the 6e5 prices (6.7e-06)
    brk = (0 + 500 / 2) / np.mean([1000, 2000, 1500])
    penny = ((0.010 + 0.001) / 2) / np.mean([0.001, 0.002, 0.001])
    expected = _hand_mase(TRUE, PRED, TRAIN)
    assert expected == pytest.approx((brk + penny) / 2, rel=1e-12)
    assert metrics.mase(TRUE, PRED, TRAIN) == pytest.approx(expected, rel=1e-14)
    # scale-free: a series' unit (cents, not dollars) does not move it
    cents = TRUE.assign(PENNY=TRUE["PENNY"] * 100)
    assert metrics.mase(cents, PRED.assign(PENNY=PRED["PENNY"] * 100),
                        TRAIN.assign(PENNY=TRAIN["PENNY"] * 100)) == pytest.approx(expected)
    # columns in another order, arrays (by position), a one-column subset
    assert metrics.mase(TRUE, PRED[["PENNY", "BRK"]], TRAIN[["PENNY", "BRK"]]) == \
        pytest.approx(expected, rel=1e-14)
    assert metrics.mase(TRUE.to_numpy(), PRED.to_numpy(), TRAIN.to_numpy()) == \
        pytest.approx(expected, rel=1e-14)
    assert metrics.mase(TRUE, PRED, TRAIN.to_numpy()) == pytest.approx(expected, rel=1e-14)
    assert metrics.mase(TRUE[["PENNY"]], PRED[["PENNY"]], TRAIN) == pytest.approx(penny)
    # long (id, step): rows in any order, y_pred paired by label; a wide y_true's
    # columns are a long y_train's ids
    long_train = _long(TRAIN)
    assert metrics.mase(_long(TRUE), _long(PRED).iloc[::-1], long_train) == \
        pytest.approx(expected, rel=1e-14)
    assert metrics.mase(_long(TRUE).to_frame(), _long(PRED).to_numpy(),
                        long_train.sort_index()) == pytest.approx(expected, rel=1e-14)
    assert metrics.mase(TRUE, PRED, long_train) == pytest.approx(expected, rel=1e-14)


def test_mase_of_many_series_with_a_season_missing_values_and_nested_ids():
    train = pd.DataFrame({"a": [1.0, 5.0, 2.0, 7.0, np.nan, 4.0],
                          "b": [10.0, 30.0, 20.0, 70.0, 40.0, 10.0]})
    true = pd.DataFrame({"a": [3.0, 6.0], "b": [20.0, 50.0]})
    pred = true + np.array([[1.0, -5.0], [0.0, 15.0]])
    # season 2: a's pairs (1, 2), (5, 7), (7, 4) (the NaN's left out), b's four
    scale_a, scale_b = np.mean([1.0, 2.0, 3.0]), np.mean([10.0, 40.0, 20.0, 60.0])
    expected = (np.mean([1.0, 0.0]) / scale_a + np.mean([5.0, 15.0]) / scale_b) / 2
    assert _hand_mase(true, pred, train, season=2) == pytest.approx(expected)
    assert metrics.mase(true, pred, train, season=2) == pytest.approx(expected, rel=1e-14)
    # ids of two levels (exchange, ticker): keys are tuples, a wide y_true's columns too
    nested = pd.concat({("X", "a"): train["a"], ("Y", "b"): train["b"]},
                       names=["exchange", "ticker", "step"])
    wide = true.set_axis(pd.MultiIndex.from_tuples([("X", "a"), ("Y", "b")]), axis=1)
    assert metrics.mase(wide, pred.set_axis(wide.columns, axis=1), nested, season=2) == \
        pytest.approx(expected, rel=1e-14)


def test_mase_of_many_series_refuses_series_it_cannot_match():
    with pytest.raises(ValueError, match=re.escape(
            "y_true is one series of shape (2,), and y_train holds 2: which is it?")):
        metrics.mase(TRUE["PENNY"], PRED["PENNY"], TRAIN)
    with pytest.raises(ValueError, match=re.escape(
            "y_true's series 'GOOG' is not among y_train's (['BRK', 'PENNY'])")):
        metrics.mase(TRUE.rename(columns={"BRK": "GOOG"}),
                     PRED.rename(columns={"BRK": "GOOG"}), TRAIN)
    with pytest.raises(ValueError, match="y_true's series 'GOOG' is not among"):
        metrics.mase(_long(TRUE.rename(columns={"BRK": "GOOG"})),
                     _long(PRED.rename(columns={"BRK": "GOOG"})), _long(TRAIN))
    # unlabelled columns pair by position with as many columns only, never with ids
    with pytest.raises(ValueError, match="y_true holds 1 series and y_train 2, and the "
                                         "columns of one have no labels"):
        metrics.mase(TRUE[["PENNY"]].to_numpy(), PRED[["PENNY"]].to_numpy(), TRAIN)
    with pytest.raises(ValueError, match="never with a MultiIndex's ids"):
        metrics.mase(TRUE.to_numpy(), PRED.to_numpy(), _long(TRAIN))
    # flattened alike, a wide y_true and a 1D y_pred would pair across series
    with pytest.raises(ValueError, match=re.escape(
            "y_true has shape (2, 2) and y_pred (4,): against many training series")):
        metrics.mase(TRUE, PRED.to_numpy().ravel(), TRAIN)
    with pytest.raises(ValueError, match="y_train has the series 'BRK' twice"):
        metrics.mase(TRUE, PRED, pd.concat([TRAIN, TRAIN["BRK"]], axis=1))


def test_mase_of_many_series_refuses_a_series_whose_mase_is_undefined():
    # as one series' MASE refuses it (backtest warns and averages the others)
    flat = TRAIN.assign(PENNY=0.01)
    with pytest.raises(ValueError, match="MASE is undefined for series 'PENNY': the "
                                         "seasonal naive forecast is exact"):
        metrics.mase(TRUE, PRED, flat)
    with pytest.raises(ValueError, match="MASE is undefined for series 'PENNY'"):
        metrics.mase(_long(TRUE), _long(PRED), _long(flat))
    holes = TRAIN.assign(PENNY=[0.01, np.nan, 0.02, np.nan])
    with pytest.raises(ValueError, match="y_train's series 'PENNY' has no pair of values "
                                         "season=1 apart without a missing value"):
        metrics.mase(TRUE, PRED, holes)
    short = pd.concat({"a": pd.Series([1.0, 2.0, 3.0]), "b": pd.Series([1.0, 2.0])})
    true = pd.concat({"a": pd.Series([4.0]), "b": pd.Series([3.0])})
    with pytest.raises(ValueError, match=re.escape(
            "y_train's series 'b' has 2 values, needs more than season=2")):
        metrics.mase(true, true + 1.0, short, season=2)
    with pytest.raises(ValueError, match="y_train contains infinity"):
        metrics.mase(TRUE, PRED, TRAIN.assign(PENNY=[0.01, np.inf, 0.02, 0.03]))
    with pytest.raises(ValueError, match="errors on y_train's series 'PENNY' overflow"):
        metrics.mase(TRUE, PRED, TRAIN.assign(PENNY=[1e308, -1e308, 1e308, 0.0]))


def test_mase_of_one_training_series_is_unchanged():
    a, f = np.array([3.0, 5.0, 4.0]), np.array([2.0, 5.0, 6.0])
    train = np.array([1.0, 3.0, 2.0, 4.0, 8.0])
    scale = np.mean(np.abs(np.diff(train)))
    assert metrics.mase(a, f, train) == np.mean(np.abs(a - f)) / scale  # bitwise
    # one column, or one id, is one series; a 2D y_true against it is flattened
    assert metrics.mase(a, f, train[:, None]) == metrics.mase(a, f, train)
    one_id = pd.concat({"x": pd.Series(train)})
    assert metrics.mase(a, f, one_id) == metrics.mase(a, f, train)
    wide = np.column_stack([a, a + 1])
    assert metrics.mase(wide, wide + 2.0, train) == 2.0 / scale
    # the backtests' helper: NaN where undefined, mase otherwise
    assert _mase_or_nan(a, f, train) == metrics.mase(a, f, train)
    assert np.isnan(_mase_or_nan(a, f, np.ones(4))) and np.isnan(_mase_or_nan(a, f, [1.0]))


def test_mase_of_a_panel_backtest_is_its_per_series_mean():
    rng = np.random.default_rng(3)
    idx = pd.date_range("2024-01-01", periods=90, freq="D")
    panel = {"big": pd.Series(5e5 + 1e3 * rng.standard_normal(90).cumsum(), index=idx),
             "small": pd.Series(1.0 + 0.01 * rng.standard_normal(90).cumsum(), index=idx)}
    b = backtest(Forecaster(Ridge(), lags=5, horizon=3), panel, initial=60, step=10,
                 horizon=3, season=1)
    t = b.forecasts
    first = t["cutoff"].min()
    y_true = t.set_index(["unique_id", "ds"])["y"]
    y_pred = t.set_index(["unique_id", "ds"])["Ridge"]
    train = pd.DataFrame({k: s[s.index <= first] for k, s in panel.items()})
    hand = np.mean([np.mean(np.abs(y_true[k] - y_pred[k]))
                    / np.mean(np.abs(np.diff(train[k].to_numpy()))) for k in panel])
    assert b.metrics["mase"] == pytest.approx(hand, rel=1e-12)
    assert metrics.mase(y_true, y_pred, train) == pytest.approx(hand, rel=1e-12)
    assert metrics.mase(y_true.unstack(0), y_pred.unstack(0), train) == \
        pytest.approx(hand, rel=1e-12)


def _prices(periods=6):
    idx = pd.date_range("2024-01-01", periods=periods, freq="B")
    return pd.concat({"AAPL": pd.Series(180.0 * 1.01 ** np.arange(periods), index=idx),
                      "MSFT": pd.Series(400.0 * 0.98 ** np.arange(periods), index=idx)},
                     names=["ticker", "date"])


def test_prices_from_log_returns_compounds_each_series_from_its_own_last_price():
    # one cumsum ran across both series, from one last price
    idx = pd.date_range("2024-02-01", periods=3, freq="B")
    r = pd.concat({"AAPL": pd.Series([0.01, -0.02, 0.03], index=idx),
                   "MSFT": pd.Series([0.05, 0.00, -0.01], index=idx)},
                  names=["ticker", "date"]).sort_index(level=1, sort_remaining=False)
    r.name = "ret"
    last = pd.Series({"AAPL": 200.0, "MSFT": 400.0, "GOOG": 150.0})  # extra ids: unused
    got = prices_from_log_returns(last, r)
    assert got.index.equals(r.index) and got.name == "ret"  # the rows as given
    np.testing.assert_allclose(got.xs("AAPL").to_numpy(),
                               200.0 * np.exp(np.cumsum([0.01, -0.02, 0.03])), rtol=1e-15)
    np.testing.assert_allclose(got.xs("MSFT").to_numpy(),
                               400.0 * np.exp(np.cumsum([0.05, 0.00, -0.01])), rtol=1e-15)
    for key in ("AAPL", "MSFT"):  # each series as the 1D call makes it, bitwise
        np.testing.assert_array_equal(
            got.xs(key).to_numpy(), prices_from_log_returns(last[key], r.xs(key)).to_numpy())
    pd.testing.assert_series_equal(prices_from_log_returns({"AAPL": 200, "MSFT": 400.0}, r),
                                   got)
    # the round trip through log_returns, per series, from each one's first price
    prices = _prices()
    back = prices_from_log_returns(prices.groupby(level=0).first(), log_returns(prices))
    np.testing.assert_allclose(back.to_numpy(), prices.drop(prices.index[[0, 6]]).to_numpy(),
                               rtol=1e-13)
    # ids of several levels: a tuple of all but the last
    nested = pd.concat({"NASDAQ": r}, names=["exchange"])
    got3 = prices_from_log_returns({("NASDAQ", "AAPL"): 200.0, ("NASDAQ", "MSFT"): 400.0},
                                   nested)
    np.testing.assert_array_equal(got3.to_numpy(), got.to_numpy())


def test_prices_from_log_returns_of_a_panel_forecast():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2024-01-01", periods=100)
    prices = pd.concat({k: pd.Series(p * np.exp(np.cumsum(0.01 * rng.standard_normal(100))),
                                     index=idx) for k, p in (("AAPL", 180), ("MSFT", 400))},
                       names=["ticker", "date"])
    fc = Forecaster(Ridge(), lags=5, horizon=3).fit(log_returns(prices)).predict()
    last = prices.groupby(level=0).last()
    got = prices_from_log_returns(last, fc)
    for key in ("AAPL", "MSFT"):
        np.testing.assert_allclose(got.xs(key).to_numpy(),
                                   last[key] * np.exp(np.cumsum(fc.xs(key).to_numpy())),
                                   rtol=1e-15)
    with pytest.raises(ValueError, match=re.escape(
            "returns holds 2 series (a MultiIndex (id, ..., time)), so last_price must "
            "give one last price per series: a dict or a Series keyed by series id, e.g. "
            "prices.groupby(level=0).last()")):
        prices_from_log_returns(float(last["MSFT"]), fc)


def test_prices_from_log_returns_of_a_panel_refuses_what_it_cannot_compound():
    r = log_returns(_prices())
    last = {"AAPL": 190.0, "MSFT": 380.0}
    with pytest.raises(ValueError, match="last_price has no price for series 'MSFT' of "
                                         "returns"):
        prices_from_log_returns({"AAPL": 190.0}, r)
    for bad in (-1.0, np.nan, True, "380"):
        with pytest.raises(ValueError, match=re.escape(
                f"last_price of series 'MSFT' must be a positive real number (an int or a "
                f"float), got {bad!r}")):
            prices_from_log_returns({**last, "MSFT": bad}, r)
    with pytest.raises(ValueError, match="last_price has the series id 'AAPL' twice"):
        prices_from_log_returns(pd.Series([1.0, 2.0, 3.0], index=["AAPL", "AAPL", "MSFT"]),
                                r)
    unsorted = pd.concat([r.loc[["AAPL"]], r.loc[["MSFT"]].iloc[::-1]])
    with pytest.raises(ValueError, match="returns of series 'MSFT' is not sorted by time"):
        prices_from_log_returns(last, unsorted)
    with pytest.raises(ValueError, match=re.escape("returns has a missing or infinite "
                                                   "value (nan)")):
        prices_from_log_returns(last, r.where(r.index != r.index[3]))
    # a dict of Series: log_returns refuses it too; the long layout is one concat away
    with pytest.raises(TypeError, match=re.escape("returns is a dict; give many series in "
                                                  "the long layout")):
        prices_from_log_returns(last, {k: r.xs(k) for k in last})


def test_prices_from_log_returns_of_one_series_is_unchanged():
    r = pd.Series([0.01, -0.02, 0.005], index=pd.date_range("2024-01-01", periods=3),
                  name="px")
    got = prices_from_log_returns(100.0, r)
    np.testing.assert_array_equal(got.to_numpy(), 100.0 * np.exp(np.cumsum(r.to_numpy())))
    assert got.index.equals(r.index) and got.name == "px"
    np.testing.assert_array_equal(prices_from_log_returns(100, r.to_numpy()), got.to_numpy())
    with pytest.raises(ValueError, match="last_price is a dict of prices by series id"):
        prices_from_log_returns({"px": 100.0}, r)
    with pytest.raises(ValueError, match="last_price must be a positive real number"):
        prices_from_log_returns(-1.0, r)

def test_an_empty_panel_of_returns_compounds_to_an_empty_series():
    from tsbptt.forecasting.returns import prices_from_log_returns
    empty = pd.Series([], dtype=float, index=pd.MultiIndex.from_arrays(
        [[], pd.DatetimeIndex([])], names=["id", "time"]))
    assert prices_from_log_returns({}, empty).empty
