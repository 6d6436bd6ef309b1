"""Tune an LSTMRegressor with GridSearchCV and TimeSeriesSplit inside a Pipeline.

The data is a generated daily series (a weekly season whose shape drifts, and
autocorrelated noise); windows of the last 14 days predict the next day. (With a
trend, forecast the differences instead: tanh networks do not extrapolate levels
they never saw in training.) The split keeps time order and leaves a gap of
14 samples between training and validation folds, so overlapping windows cannot
leak validation targets into training.

    python examples/grid_search.py [--quick]
"""
import argparse
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tsbptt import LSTMRegressor


def daily_windows(n_days=900, lags=14, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_days)
    noise = np.zeros(n_days)
    for i in range(1, n_days):  # AR(1): today's noise remembers yesterday's
        noise[i] = 0.7 * noise[i - 1] + 0.3 * rng.standard_normal()
    season = np.sin(2 * np.pi * t / 7) + 0.5 * np.sin(4 * np.pi * t / 7 + t / 200)
    series = season + noise
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], lags)
    return X, series[lags:]


def main(quick=False):
    X, y = daily_windows(400 if quick else 900)
    n_test = len(X) // 5
    X_train, y_train, X_test, y_test = X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("lstm", LSTMRegressor(max_iter=5 if quick else 60, batch_size=32,
                                            random_state=0))])
    grid = {"lstm__hidden_size": [8, 16] if quick else [16, 32],
            "lstm__learning_rate": [3e-3, 1e-2]}
    search = GridSearchCV(pipe, grid, cv=TimeSeriesSplit(n_splits=3, gap=14),
                          scoring="neg_mean_absolute_error", n_jobs=1)
    with warnings.catch_warnings():  # short training runs of every candidate
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_train, y_train)
    mae = np.mean(np.abs(search.predict(X_test) - y_test))
    ridge = Ridge().fit(X_train, y_train)
    ridge_mae = np.mean(np.abs(ridge.predict(X_test) - y_test))
    naive_mae = np.mean(np.abs(X_test[:, -7] - y_test))  # the same day last week
    print("best parameters:", search.best_params_)
    print(f"test MAE: LSTM {mae:.4f}  Ridge {ridge_mae:.4f}  seasonal naive {naive_mae:.4f}")
    return search, mae


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (seconds)")
    main(parser.parse_args().quick)
