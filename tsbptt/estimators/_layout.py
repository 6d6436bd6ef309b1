"""Read other tools' 2D lag tables as the sequences they are.

skforecast, mlforecast and sktime's reduction hand a regressor one row per forecast
origin, the lags of each series flattened into columns in their own order, with
extra columns (covariates at the target step, date features, series ids, window
statistics) before or after the lags. A recurrent network must instead see each
window as ``(n_timesteps, n_features)``, oldest step first, with its hidden state
ending at the newest step. :class:`LagLayout` is that reordering, as a
scikit-learn transformer to put in front of a tsbptt estimator in a ``Pipeline``.

Layouts of the tools (lags L, channels C, extra columns S)::

    skforecast ForecasterRecursive      lag_1 .. lag_L, window features, exog
        LagLayout(L, order='newest_first', n_static=S)
    mlforecast MLForecast               static / exog columns, lag1 .. lagL,
                                        date features
        LagLayout(L, order='newest_first', n_static=S, n_leading=<static+exog>)
    sktime make_reduction (with X)      y lags, then each X column's lags,
                                        oldest first within each block
        LagLayout(L, n_channels=1 + n_X, order='oldest_first',
                  blocks='channel_major')
    tsbptt make_windows / Forecaster    time-major, oldest first
        LagLayout(L, n_channels=C, order='oldest_first', blocks='time_major')

Extra columns are *broadcast to every step* as additional input features, not used
to set the initial hidden state: they are one number per window (a covariate at
the target step, a series id, a date feature of the target), and as inputs at every
step the network can use them wherever in the window it needs them, in particular
at the last step, from which it forecasts. An initial state would have to be learned
through a separate projection the estimators do not have, and a value seen only at
the first step of a long window is the one the network is worst at remembering.
"""
import re
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._validation import refuse_bool_numbers

__all__ = ["LagLayout"]

#: The lag columns' names skforecast (``lag_3``) and mlforecast (``lag3``) give.
LAG_NAME = re.compile(r"lag_?(\d+)")
#: The parameters that decide where each column goes: a change after fit is refused.
LAYOUT_PARAMS = ("n_lags", "n_channels", "order", "blocks", "n_static", "n_leading")


class LagLayout(TransformerMixin, BaseEstimator):
    """Turn 2D lag tables into ``(n_samples, n_lags, n_channels + n_static)`` sequences.

    Put it first in a ``Pipeline`` in front of a tsbptt estimator handed to a tool
    that builds its own lag columns (skforecast, mlforecast, sktime's reduction), so
    that the network reads each step as the step it is. The output is oldest step
    first; the lag channels come first in each step, then the extra columns,
    repeated at every step. A 2D ``X`` whose width does not fit the declared layout
    is refused, in ``fit`` and in ``transform``. Where a DataFrame's lag columns
    (one channel) are named as skforecast and mlforecast name them (``lag_3``,
    ``lag3``), their numbers must go one step at a time in ``order`` (``lag_1 ..
    lag_L``, or ``lag_2 .. lag_4`` for a reporting delay): lags that skip steps
    (``[1, 7, 14]``), or listed in another order, would be read as the wrong steps,
    and are refused.

    Parameters
    ----------
    n_lags : int or None, default=None
        Lags per channel, the output's number of time steps. None: all columns but
        the ``n_static`` extra ones are lags, ``(width - n_static) / n_channels`` of
        them (``n_lags_``).
    n_channels : int, default=1
        Lagged variables (the target, then lagged covariates).
    order : {'newest_first', 'oldest_first'}, default='newest_first'
        Order of the lags within a block: ``'newest_first'`` for skforecast's
        ``lag_1, lag_2, ...`` and mlforecast's ``lag1, lag2, ...``;
        ``'oldest_first'`` for sktime's reduction and tsbptt's own windows.
    blocks : {'channel_major', 'time_major'}, default='channel_major'
        ``'channel_major'``: all lags of channel 0, then all lags of channel 1
        (column ``c * n_lags + j``; sktime's reduction with ``X``).
        ``'time_major'``: all channels of one lag, then the next lag (column
        ``j * n_channels + c``; tsbptt's ``make_windows`` and ``n_channels``).
    n_static : int, default=0
        Columns outside the lag block: one value per sample (exogenous values at
        the target step, window features, series ids, date features), broadcast to
        every time step as extra input features.
    n_leading : int, default=0
        How many of the ``n_static`` columns come before the lag block (mlforecast
        puts static and exogenous columns first); the rest follow it.

    Attributes
    ----------
    n_lags_ : int
        The time steps of the output.
    n_features_in_ : int
        The width of ``X`` seen in ``fit``.
    feature_names_in_ : ndarray of str
        The column names of a DataFrame ``X`` seen in ``fit``.
    n_features_out_ : int
        Features per output step: ``n_channels + n_static``.

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import LagLayout
    >>> X = np.array([[3., 2., 1., 10.]])   # lag_1, lag_2, lag_3, exog
    >>> LagLayout(3, n_static=1).fit_transform(X)[0]
    array([[ 1., 10.],
           [ 2., 10.],
           [ 3., 10.]])
    """

    _parameter_constraints = {
        "n_lags": [Interval(Integral, 1, None, closed="left"), None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "order": [StrOptions({"newest_first", "oldest_first"})],
        "blocks": [StrOptions({"channel_major", "time_major"})],
        "n_static": [Interval(Integral, 0, None, closed="left")],
        "n_leading": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, n_lags=None, *, n_channels=1, order="newest_first",
                 blocks="channel_major", n_static=0, n_leading=0):
        self.n_lags = n_lags
        self.n_channels = n_channels
        self.order = order
        self.blocks = blocks
        self.n_static = n_static
        self.n_leading = n_leading

    def _validate_params(self):
        super()._validate_params()
        refuse_bool_numbers(self)
        if self.n_leading > self.n_static:
            raise ValueError(f"n_leading={self.n_leading} is more than n_static="
                             f"{self.n_static}: the leading columns are part of the "
                             "static ones")

    def _lags_of(self, width):
        """The number of lags a table of ``width`` columns holds, or an error that
        names the declared layout."""
        n_lag_cols = width - self.n_static
        C, L = self.n_channels, self.n_lags
        layout = (f"n_lags={L}, n_channels={C}, n_static={self.n_static}")
        if L is not None and width != L * C + self.n_static:
            raise ValueError(f"X has {width} columns, but the declared layout ({layout}) "
                             f"needs n_lags * n_channels + n_static = {L * C + self.n_static}")
        if n_lag_cols < C or n_lag_cols % C:
            raise ValueError(f"X has {width} columns, which does not fit the declared "
                             f"layout ({layout}): the {n_lag_cols} columns left for lags "
                             f"are not a positive multiple of n_channels={C}")
        return n_lag_cols // C

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the width of ``X`` against the layout.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, width)
        y : ignored

        Returns
        -------
        self
        """
        X = validate_data(self, X, dtype=(np.float64, np.float32), ensure_all_finite=False)
        self.n_lags_ = self._lags_of(X.shape[1])
        self._check_lag_names()
        self.n_features_out_ = self.n_channels + self.n_static
        self._fitted_layout = self._layout()
        return self

    def _layout(self):
        """The layout parameters, n_lags as fit found it where it was None."""
        out = {name: getattr(self, name) for name in LAYOUT_PARAMS}
        if out["n_lags"] is None:
            out["n_lags"] = self.n_lags_
        return out

    def _check_lag_names(self):
        """Refuse lag columns whose names say they are not one step apart in
        ``order`` (lags listed another way round, or skipping steps)."""
        names = getattr(self, "feature_names_in_", None)
        if names is None or self.n_channels != 1:
            return
        block = [str(c) for c in names[self.n_leading:self.n_leading + self.n_lags_]]
        found = [LAG_NAME.fullmatch(c) for c in block]
        if not all(found):
            return
        lags = [int(m.group(1)) for m in found]
        step = 1 if self.order == "newest_first" else -1  # from one column to the next
        if any(b - a != step for a, b in zip(lags, lags[1:])):
            due = "each one more than" if step == 1 else "each one less than"
            raise ValueError(
                f"X's lag columns {block} are lags {lags}; with order={self.order!r} "
                f"LagLayout reads them as consecutive steps ({due} the one before), so "
                "the network would read the wrong steps. Give the tool consecutive "
                "lags, in that order (lags=range(1, L + 1), or an int)")

    def transform(self, X):
        """Reorder the columns of ``X`` into sequences.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features_in_)

        Returns
        -------
        ndarray of shape (n_samples, n_lags_, n_channels + n_static)
            C-contiguous, of ``X``'s dtype (float32 stays float32, anything else
            becomes float64); step 0 is the oldest lag.
        """
        self._check_fitted()
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32),
                          ensure_all_finite=False)
        self._lags_of(X.shape[1])  # the width against the layout (a model pickled
        # before the layout was kept at fit has only this check)
        return self._sequences(X)

    def _check_fitted(self):
        """Fitted, and with the layout it was fitted with (``set_params`` since fit
        would move columns to other steps or channels, with the same output shape)."""
        check_is_fitted(self)
        fitted = getattr(self, "_fitted_layout", None)
        if fitted is None:  # pickled before the layout was kept
            return
        changed = [f"{name}={fitted[name]!r} at fit, {value!r} now"
                   for name, value in self._layout().items() if value != fitted[name]]
        if changed:
            raise ValueError(f"LagLayout's layout changed since fit ({'; '.join(changed)}); "
                             "fit it again")

    def _sequences(self, X):
        n, L, C, S = X.shape[0], self.n_lags_, self.n_channels, self.n_static
        lead = self.n_leading
        lagged = X[:, lead:lead + L * C]
        if self.blocks == "channel_major":
            lagged = lagged.reshape(n, C, L).transpose(0, 2, 1)
        else:
            lagged = lagged.reshape(n, L, C)
        if self.order == "newest_first":
            lagged = lagged[:, ::-1]
        out = np.empty((n, L, C + S), dtype=X.dtype)
        out[:, :, :C] = lagged
        if S:
            static = np.concatenate([X[:, :lead], X[:, lead + L * C:]], axis=1)
            out[:, :, C:] = static[:, None, :]
        return out

    def inverse_transform(self, X):
        """Sequences back to the 2D table of this layout.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_lags_, n_channels + n_static)
            The static features must be equal at every step (as ``transform``
            writes them).

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
        """
        self._check_fitted()
        X = np.asarray(X)
        L, C, S, lead = self.n_lags_, self.n_channels, self.n_static, self.n_leading
        if X.ndim != 3 or X.shape[1:] != (L, C + S):
            raise ValueError(f"X must have shape (n_samples, {L}, {C + S}), got "
                             f"{X.shape}")
        static = X[:, 0, C:]
        if S and not (X[:, :, C:] == static[:, None, :]).all():
            raise ValueError("X's static features differ between time steps; "
                             "inverse_transform needs them as transform writes them")
        lagged = X[:, :, :C]
        if self.order == "newest_first":
            lagged = lagged[:, ::-1]
        if self.blocks == "channel_major":
            lagged = lagged.transpose(0, 2, 1)
        lagged = lagged.reshape(len(X), L * C)
        return np.concatenate([static[:, :lead], lagged, static[:, lead:]], axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # moved, not read: the estimator decides
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
