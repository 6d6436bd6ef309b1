"""The stateful strategy on first differences: ``Forecaster(strategy='stateful',
transform='diff')``.

A stateful model reads each whole series, so the windows' differencing
(:class:`tsbptt.forecasting._window_model.WindowModel`) does not apply. Here the
sequence model itself is wrapped: its target channel reads each step's change
``y_t - y_{t-1}`` instead of the level, and it learns the next change. Changes
are standardised by their mean and spread over the training series, so a drift
(the mean change) is what the model forecasts when its output is zero: a trend
is carried on past the levels it was trained on, where a model of the levels
saturates (its inputs and targets leave the range it saw). The level itself is
read too, as one more channel after the others (an error-correction form: the
next change may depend on where the series stands), so a series that returns to
its level after a spike or over a season is not left where its last forecast
change put it: on ``benchmarks/bench_accuracy.py``'s periodic spikes the changes
alone scored a MASE of 12.921, changes and level 2.851 (naive 1.033;
``benchmarks/reports/accuracy.md``).

The wrapper takes and returns levels, as the model it wraps does: the Forecaster
feeds level forecasts back, scores calibration errors and dates forecasts exactly
as for any other stateful model. The previous level travels with the model's
states, as one more state entry ``(prev,)`` of shape (n_sequences, 1), so a
series read in pieces, or one step at a time, gives what one pass gives.
"""
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ._window_model import clone_with_hints

__all__ = []

#: The changes' scale is at least this fraction of the largest level (or mean
#: change) in training. On a straight line every change is the mean, so the model
#: learns targets of 0, and its output's own error (a network's is ~0.03) is
#: multiplied by the scale: a scale of 1 sent a line's forecasts the wrong way, one
#: of ~0 (the rounding of the changes) made a line read as all noise.
MIN_RELATIVE_SCALE = 1e-6


class DifferencedSequenceModel(RegressorMixin, BaseEstimator):
    """A per-step sequence model of the changes of a series' levels (channel 0),
    reading the changes and the levels.

    Parameters
    ----------
    estimator : tsbptt recurrent regressor or ESNRegressor
        Fitted with per-step targets on the standardised changes; cloned in ``fit``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted model of the changes (a clone of ``estimator``).
    final_states_ : list
        Where the wrapped model has them (an ESN): the states after the training
        sequences, as :meth:`predict_sequence` on them would return them.
    change_mean_, change_scale_ : float
        The mean and standard deviation of the training changes, the scale at
        least :data:`MIN_RELATIVE_SCALE` of the largest level or change read.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit on whole series.

        Parameters
        ----------
        X : ndarray of shape (n_series, n_steps, n_channels)
            Channel 0 is the level ``y_t``.
        y : ndarray of shape (n_series, n_steps)
            The next level ``y_{t+1}`` of every step.

        Returns
        -------
        self
        """
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        change = y - X[:, :, 0]
        self.change_mean_ = float(np.mean(change))
        largest = max(abs(self.change_mean_), float(np.max(np.abs(X[:, :, 0]))))
        floor = MIN_RELATIVE_SCALE * (largest if largest > 0 else 1.0)
        self.change_scale_ = max(float(np.std(change)), floor)
        inputs = self._inputs(X, X[:, :1, 0] - self.change_mean_)
        vars(self).pop("final_states_", None)  # a refit's, if its model has them
        member = clone_with_hints(self.estimator)
        if member.get_params().get("per_step") == "auto":  # y is per step: say so
            member.set_params(per_step=True)
        self.estimator_ = member.fit(inputs, self._standard(change))
        known = getattr(self.estimator_, "final_states_", None)
        if known is not None:  # an ESN's, from its fit: no second pass to find them
            self.final_states_ = list(known) + [(X[:, -1:, 0].copy(),)]
        return self

    def _standard(self, change):
        return (change - self.change_mean_) / self.change_scale_

    def _inputs(self, X, prev):
        """``X`` (n, T, C) with its channel 0 the standardised change from ``prev``
        (n, 1), the level before the first step, and the level (channel 0 as
        given) as channel C: (n, T, C + 1)."""
        levels = X[:, :, 0]
        before = np.concatenate([prev, levels[:, :-1]], axis=1)
        out = np.concatenate([X, levels[:, :, None]], axis=2)
        out[:, :, 0] = self._standard(levels - before)
        return out

    def predict(self, X):
        """The next level after every step of sequences read from the zero state:
        ``predict_sequence(X)[0]``, shape (n_sequences, n_steps)."""
        return self.predict_sequence(X)[0]

    def predict_sequence(self, X, initial_states=None):
        """Run on from given states, as the wrapped model's ``predict_sequence``.

        Parameters
        ----------
        X : ndarray of shape (n_sequences, n_steps, n_channels)
        initial_states : list or None, default=None
            The ``states`` of a previous call on the same rows; None starts from
            zeros, the first step's change taken as the mean change.

        Returns
        -------
        pred : ndarray of shape (n_sequences, n_steps)
            The next level after every step.
        states : list
            The wrapped model's states, then ``(prev,)``: the last level read.
        """
        X = np.asarray(X, dtype=np.float64)
        if initial_states is None:
            inner, prev = None, X[:, :1, 0] - self.change_mean_
        else:
            inner, (prev,) = list(initial_states[:-1]), initial_states[-1]
        change, states = self.estimator_.predict_sequence(self._inputs(X, prev), inner)
        pred = X[:, :, 0] + self.change_mean_ + self.change_scale_ * np.asarray(change)
        return pred, list(states) + [(X[:, -1:, 0].copy(),)]
