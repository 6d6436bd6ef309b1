"""The recurrent forecasters beat the seasonal naive forecast on bundled data.

The backtest is the one of ``benchmarks/bench_accuracy.py`` (its table is in
benchmarks/reports/accuracy.md), with fewer epochs: the last 14 days of the bundled hourly
electricity load, forecast 24 hours ahead at every midnight by a model fitted once
on the weeks before.
"""
import pytest

from tsbptt import Forecaster, GRURegressor, LSTMRegressor, backtest, datasets
from tsbptt.forecasting.baselines import SeasonalNaive

pytestmark = [pytest.mark.slow,  # 30-epoch fits on the bundled load
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]


def _mase(estimator):
    y = datasets.load_electricity_load()
    f = Forecaster(estimator, lags=48, horizon=24, calendar=["hour", "dayofweek"])
    return backtest(f, y, initial=len(y) - 14 * 24, step=24, refit=False,
                    season=24).metrics["mase"]


@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor])
def test_recurrent_forecaster_beats_seasonal_naive(cls):
    naive = _mase(SeasonalNaive(24))
    assert naive == pytest.approx(1.137, abs=1e-3)  # the bundled data did not change
    model = _mase(cls(32, max_iter=30, learning_rate=3e-3, batch_size=64, random_state=0))
    print(f"{cls.__name__}: MASE {model:.3f}, seasonal naive {naive:.3f}")
    assert model < 0.9 * naive
