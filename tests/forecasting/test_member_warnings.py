"""One ConvergenceWarning summary per Forecaster fit, whatever its members are."""
import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import BaggingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor

from tsbptt import Forecaster


def _load(n=24 * 8):
    t = np.arange(n)
    return pd.Series(10 + np.sin(2 * np.pi * t / 24), name="load",
                     index=pd.date_range("2024-01-01", periods=n, freq="h"))


class NoisyRidge(Ridge):
    """A Ridge whose fit says it did not converge (twice) and warns otherwise once."""

    def fit(self, X, y, sample_weight=None):
        warnings.warn("NoisyRidge: solver stopped early", ConvergenceWarning)
        warnings.warn("NoisyRidge: solver stopped early again", ConvergenceWarning)
        warnings.warn("NoisyRidge: something else", UserWarning)
        return super().fit(X, y, sample_weight)


class ThreadedWarner(Ridge):
    """A Ridge whose fit lets another thread warn about convergence."""

    def fit(self, X, y, sample_weight=None):
        t = threading.Thread(target=warnings.warn,
                             args=("from another thread", ConvergenceWarning))
        t.start()
        t.join()
        return super().fit(X, y, sample_weight)


def _fit(forecaster):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forecaster.fit(_load())
    return ([w for w in caught if issubclass(w.category, ConvergenceWarning)],
            [w for w in caught if not issubclass(w.category, ConvergenceWarning)])


def test_sklearn_members_give_one_summary_naming_each_fit():
    f = Forecaster(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
                   lags=24, horizon=6, interval="conformal", coverage=0.8)
    converge, _ = _fit(f)
    assert len(converge) == 1
    message = str(converge[0].message)
    assert message.startswith("Forecaster: 2 of its model fits did not converge "
                              "(Stochastic Optimizer: Maximum iterations (2) reached")
    assert message.endswith(") in fit 1/2: calibration model (MLPRegressor), fit 2/2: "
                            "final model (MLPRegressor); raise max_iter, or stop by tol "
                            "or early_stopping")
    assert converge[0].filename == __file__  # points at the caller's line
    assert not hasattr(f, "_convergence_notes") and not hasattr(f, "_member_label")


def test_an_ensembles_members_are_counted_in_one_summary():
    member = MLPRegressor(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
    f = Forecaster(BaggingRegressor(member, n_estimators=3, random_state=0),
                   lags=24, horizon=1)
    converge, _ = _fit(f)
    assert len(converge) == 1
    message = str(converge[0].message)
    assert message.startswith("Forecaster: its model fit did not converge (Stochastic "
                              "Optimizer: Maximum iterations (1) reached")
    assert "; 3 warnings in all) in fit 1/1: final model (BaggingRegressor);" in message


def test_other_warnings_pass_through_and_later_warnings_show_as_usual():
    converge, others = _fit(Forecaster(NoisyRidge(), lags=24, horizon=1))
    assert [str(w.message) for w in converge] == [
        "Forecaster: its model fit did not converge (NoisyRidge: solver stopped early; 2 "
        "warnings in all) in fit 1/1: final model (NoisyRidge); raise max_iter, or stop "
        "by tol or early_stopping"]
    assert [str(w.message) for w in others] == ["NoisyRidge: something else"]
    with pytest.warns(ConvergenceWarning, match="^after the fit$"):
        warnings.warn("after the fit", ConvergenceWarning)


class FailingRidge(Ridge):
    """A Ridge whose fit warns about convergence, then fails."""

    def fit(self, X, y, sample_weight=None):
        warnings.warn("FailingRidge: solver stopped early", ConvergenceWarning)
        raise ValueError("FailingRidge: singular system")


def test_a_failed_fit_stops_collecting():
    f = Forecaster(FailingRidge(), lags=24, horizon=1)
    with pytest.raises(ValueError, match="^FailingRidge: singular system$"):
        f.fit(_load())
    assert not hasattr(f, "_convergence_notes")
    with pytest.warns(ConvergenceWarning, match="^after the failed fit$"):
        warnings.warn("after the failed fit", ConvergenceWarning)


def test_warnings_of_other_threads_are_not_collected():
    converge, _ = _fit(Forecaster(ThreadedWarner(), lags=24, horizon=1))
    assert [str(w.message) for w in converge] == ["from another thread"]


def test_converged_members_give_no_summary():
    converge, _ = _fit(Forecaster(Ridge(), lags=24, horizon=6))
    assert converge == []


def test_a_budgeted_network_is_told_how_to_train_longer():
    # "raise max_iter" was the advice where training='auto' had replaced max_iter's
    # default by the budget's 40 epochs: raising it to 200 (the default) changed
    # nothing
    from tsbptt import LSTMRegressor
    y = pd.Series(np.sin(np.arange(300) / 3.0) * np.arange(300),
                  index=pd.date_range("2024", periods=300, freq="h"))
    f = Forecaster(LSTMRegressor(4, random_state=0, n_iter_no_change=1000), lags=12,
                   horizon=2)
    with pytest.warns(ConvergenceWarning, match=r"training='auto' set its epochs \(at most "
                                                r"40, the forecasting budget, in place of "
                                                r"max_iter's default\): to train longer, "
                                                r"pass training='as_given'"):
        f.fit(y)
