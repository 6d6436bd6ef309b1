"""Echo-state network classifier: the ESN's reservoir read out by a ridge classifier.

As :class:`sklearn.linear_model.RidgeClassifier`: the labels become ``{-1, +1}``
indicator columns (one column for two classes, the positive class being
``classes_[1]``), one ridge regression of them on the reservoir features is solved
(the same readout, penalty choice and one-thread float64 solve as
:class:`~tsbptt.ESNRegressor`), and a sample gets the class of the largest
decision value. The reservoir, its features and the input forms are the
regressor's (:class:`tsbptt.estimators._esn._Reservoir`).
"""
import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from ._esn import _Reservoir
from ._inputs import check_labels, labels_1d
from ._state import undone_on_failure
from ._tags import Capabilities
from ._targets import check_weights

__all__ = ["ESNClassifier"]


class ESNClassifier(ClassifierMixin, _Reservoir):
    """Echo-state network classifier: a leaky-tanh reservoir and a ridge
    classifier readout (one-vs-rest ``{-1, +1}`` targets, as ``RidgeClassifier``).

    Each sample (a 2D window, a 3D array's sequence or a list's array) runs the
    reservoir from the zero state; the readout sees its final (or mean) state and,
    with ``include_inputs``, its inputs, exactly as :class:`~tsbptt.ESNRegressor`
    fitted on windows.

    Parameters
    ----------
    n_reservoir, spectral_radius, input_scaling, leak_rate, sparsity, washout, \
alpha, bias_scaling, include_inputs, state, n_channels, scale_inputs, n_threads, \
dtype, random_state
        As in :class:`~tsbptt.ESNRegressor` (defaults ``200, 0.9, 0.3, 1.0, 0.9, 0,
        DEFAULT_ALPHAS, 0.5, 'auto', 'final', 1, True, None, 'float32', None``);
        ``alpha`` candidates are chosen by generalized cross-validation of the
        indicator regression.
    output_feedback : bool, default=False
        Must stay False (a label is no per-step output); kept so the two ESNs share
        their parameters.
    feedback_scaling : float, default=0.3
        Unused (no feedback).
    per_step : {'auto', False}, default='auto'
        One label per sequence: True is refused (it labels no steps).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_readout) for two classes, else (n_classes, n_readout)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    alpha_ : float
    W_in_, W_, bias_ : the reservoir (see ESNRegressor)
    n_steps_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import ESNClassifier
    >>> rs = np.random.RandomState(0)
    >>> X = rs.randn(200, 20)
    >>> y = np.where(X[:, -5:].sum(axis=1) > 0, "up", "down")
    >>> clf = ESNClassifier(n_reservoir=100, random_state=0).fit(X[:150], y[:150])
    >>> float(clf.score(X[150:], y[150:])) >= 0.85
    True
    """

    def __tsbptt_capabilities__(self):
        """It reads 2D windows as ``n_channels`` features per step."""
        return Capabilities(channels=True)

    def _readout_outputs(self, arrays):
        """Rows of ``coef_``: one for two classes, else one per class."""
        k = len(arrays["classes_"])
        return 1 if k == 2 else k

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the ridge classifier readout on windows or sequences X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
        y : array-like of shape (n_samples,)
            Class labels (numbers, booleans or strings).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        with undone_on_failure(self):  # a refused refit keeps the last fit
            self._refuse_feedback()
            if self.per_step is True:
                raise ValueError("per_step=True: ESNClassifier labels whole sequences, "
                                 "one label each; LSTMClassifier labels steps")
            X3, lengths = self._sequences(X, reset=True)
            if y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                                 "target y is None")
            y = labels_1d(y)
            if len(y) != len(X3):
                raise ValueError(f"y has {len(y)} labels for {len(X3)} samples")
            check_labels(y)
            encoder = LabelEncoder().fit(y)
            if len(encoder.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                                 f"in the data, but the data contain only one class: "
                                 f"{encoder.classes_[0]!r}")
            self._encoder, self.classes_ = encoder, encoder.classes_
            codes = encoder.transform(y)
            Y = np.where(codes[:, None] == np.arange(len(self.classes_))[None, :], 1.0, -1.0)
            Y = Y[:, 1:] if len(self.classes_) == 2 else Y
            w = check_weights(sample_weight, len(X3))
            Phi = self._window_features_for_fit(X3, lengths, w)
            self.n_outputs_, self._y_ndim = 1, 1
            self._fit_readout(Phi, Y, w)
            return self

    def decision_function(self, X):
        """Decision values: the readout of each sample's indicator regression.

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (> 0: ``classes_[1]``),
        else (n_samples, n_classes)
        """
        check_is_fitted(self)
        X3, lengths = self._sequences(X, reset=False)
        out = self._readout(self._features(self._scale(X3, lengths), lengths))
        return out[:, 0] if len(self.classes_) == 2 else out

    def predict(self, X):
        """The class of the largest decision value of each sample.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        index = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(1)
        return self.classes_[index]
