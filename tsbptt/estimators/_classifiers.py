"""The classifiers: LSTMClassifier, GRUClassifier and RNNClassifier.

A softmax over the classes of each whole sequence, or, with labels at every
step, of each step (sequence labelling). Shared behaviour is in :mod:`._base`;
the three classes differ only in their cell.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import StrOptions
from sklearn.utils import assert_all_finite

from ..engine import LOSSES
from ..utils._validation import plain_label, reject_masked
from ._base import Sequences, _BaseRecurrent
from ._docs import fill_doc
from ._inputs import check_labels, labels_1d
from ._streaming import RecurrentState, RecurrentStream, step_from
from ._targets import check_weights, target_ndim, targets_per_step

if TYPE_CHECKING:  # typing.Self is Python >= 3.11
    from typing import Self

__all__ = ["GRUClassifier", "LSTMClassifier", "RNNClassifier"]


class _ClassifierBase(ClassifierMixin, _BaseRecurrent):
    """Classification of whole sequences (or of every step) with a softmax."""

    _parameter_constraints = {
        **_BaseRecurrent._parameter_constraints,
        "loss": [StrOptions({"cross_entropy"})],
    }

    def __init__(self, hidden_size: int | tuple[int, ...] = 32, *,
                 loss: str = "cross_entropy", num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0,
                 optimizer: str = "adam", learning_rate: float = 1e-3,
                 momentum: float = 0.9, nesterov: bool = False, batch_size: int = 32,
                 max_iter: int = 200, tol: float = 1e-4, n_iter_no_change: int = 10,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 validation_gap: int = 0, bptt_steps: int | None = None,
                 bptt_stride: int | None = None, clip_norm: float | None = None,
                 clip_value: float | None = None, clip_step: float | None = None,
                 weight_decay: float = 0.0, l1: float = 0.0,
                 checkpoint_every: int | None = None, n_channels: int = 1,
                 per_step: str | bool = "auto",
                 scale_inputs: bool = True, shuffle: bool = True,
                 n_threads: int | None = None, dtype: str = "float32",
                 random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0, warm_start: bool = False) -> None:
        self.hidden_size = hidden_size
        self.loss = loss
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.validation_gap = validation_gap
        self.bptt_steps = bptt_steps
        self.bptt_stride = bptt_stride
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.clip_step = clip_step
        self.weight_decay = weight_decay
        self.l1 = l1
        self.checkpoint_every = checkpoint_every
        self.n_channels = n_channels
        self.per_step = per_step
        self.scale_inputs = scale_inputs
        self.shuffle = shuffle
        self.n_threads = n_threads
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    def _loss(self):
        return LOSSES[self.loss]()

    def _labels(self, y, n, classes=None, first=True, incremental=True, scoring=False):
        """Labels as class indices; ``scoring``: a label not in ``classes_`` is -1
        (matching no prediction, as ``accuracy_score`` counts it) instead of an
        error."""
        reject_masked(y, "y")
        y = labels_1d(y)
        if len(y) != n:
            raise ValueError(f"y has {len(y)} labels for {n} samples")
        if y.dtype.kind in "fc":  # named, as check_array names it ("Input contains NaN")
            assert_all_finite(y, input_name="y")
        check_labels(y)
        if first:
            self._encoder = LabelEncoder().fit(y if classes is None else classes)
            self.classes_ = self._encoder.classes_
            if len(self.classes_) < 2:
                where = "the data contain" if classes is None else \
                    f"classes={np.ravel(classes).tolist()!r} names"
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 "
                                 f"classes in the data, but {where} only one "
                                 f"class: {plain_label(self.classes_[0])!r}")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={np.unique(classes)!r} is not the same as "
                             f"classes_={self.classes_!r} from the first call")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size and scoring:
            known = np.isin(y, self.classes_)
            codes = np.full(len(y), -1, dtype=np.intp)
            codes[known] = self._encoder.transform(y[known])
            return codes
        if unknown.size:
            raise ValueError(f"y contains labels not in classes: {unknown[:5]}")
        if not (first or incremental) and len(np.unique(y)) != len(self.classes_):
            # a warm-started fit is a whole fit: as MLPClassifier, it needs every class
            # (partial_fit takes a batch with some classes only)
            missing = np.setdiff1d(self.classes_, np.unique(y))
            raise ValueError("warm_start can only be used where y has the same classes "
                             f"as in the previous call to fit: y lacks {missing[:5]} of "
                             f"classes_={self.classes_!r}")
        return self._encoder.transform(y).astype(np.intp)

    def _step_labels(self, y, lengths, T, classes, first, incremental, scoring=False):
        """Per-step labels (n, T) as class indices (0 past a sequence's end;
        ``scoring``: -1 for a label not in ``classes_``)."""
        n = len(lengths)
        seqs = list(y) if isinstance(y, (list, tuple)) else [np.asarray(y)[i]
                                                             for i in range(n)]
        if len(seqs) != n:
            raise ValueError(f"y has {len(seqs)} label sequences for {n} input sequences")
        for i, yi in enumerate(seqs):
            if np.ndim(yi) != 1 or len(yi) != lengths[i]:
                raise ValueError(f"the labels of sequence {i} have shape {np.shape(yi)}; "
                                 f"expected ({lengths[i]},)")
        flat = np.concatenate([np.asarray(yi)[:n_i] for yi, n_i in zip(seqs, lengths)])
        codes = self._labels(flat, len(flat), classes, first, incremental, scoring)
        out = np.zeros((n, T), dtype=np.intp)
        out[np.arange(T)[None, :] < lengths[:, None]] = codes
        return out


    def _score_prepared(self, X3, Y, lengths, w):
        return self._score_outputs(self._forward(X3, lengths), Y, lengths, w)

    def _score_outputs(self, out, Y, lengths, w):
        """Accuracy of the network's outputs ``out`` on prepared labels."""
        pred = np.argmax(out, axis=-1)
        if Y.ndim == 2:  # per step: accuracy over the valid steps
            valid = np.arange(Y.shape[1])[None, :] < lengths[:, None]
            rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
            return float(np.average(pred[valid] == Y[valid], weights=rows_w))
        return float(np.average(pred == Y, weights=w))

    def _fit_steps(self, first, X, y, sample_weight, max_iter, incremental, classes=None):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        if incremental and first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X3, lengths, kind = self._sequences(X, reset=first)
        self._check_bptt(X3.shape[1])
        per_step = targets_per_step(kind, y, lengths, X3.shape[1], labels=True,
                                    per_step=self.per_step)
        if first:
            self.per_step_ = per_step
        elif per_step != self.per_step_:
            raise ValueError("the model was fitted with "
                             f"{'per-step' if self.per_step_ else 'per-sequence'} labels")
        labels = (self._step_labels(y, lengths, X3.shape[1], classes, first, incremental)
                  if per_step else self._labels(y, len(X3), classes, first, incremental))
        w = check_weights(sample_weight, len(X3))
        if first:  # scaling statistics from the training part only, never the tail
            tr, _ = self._split(len(X3), incremental)
            self._fit_input_scaling(X3[tr], lengths[tr], None if w is None else w[tr])
            self.n_outputs_ = 1
            self._initialize(len(self.classes_))
        return self._train(self._scale_inputs(X3, lengths), labels, lengths, w, max_iter,
                           incremental)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequences, y: ArrayLike, sample_weight: ArrayLike | None = None
            ) -> Self:
        """Train on sequences X and class labels y (numbers, booleans or strings).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The training sequences: 2D windows (split into ``n_channels`` features
            per step), a 3D array, or sequences of different lengths.
        y : array-like of shape (n_samples,), or (n_samples, n_timesteps) per step
            The labels of each sequence, or of each of its steps (a list of (T_i,)
            arrays for a list X).
        sample_weight : array-like of shape (n_samples,), default=None
            A weight per sequence (a weight of 2 counts like a repeated sample).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if target_ndim(y) == 1:  # before any work on X
            check_labels(y)
        history = self._fit_or_continue(X, y, sample_weight, self.max_iter, False)
        self._warn_if_not_converged(history, self.max_iter)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Sequences, y: ArrayLike, classes: ArrayLike | None = None,
                    sample_weight: ArrayLike | None = None) -> Self:
        """One epoch over the given samples; pass ``classes`` on the first call.

        The input scaling is fitted on the first call's samples and kept afterwards.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, as for :meth:`fit`.
        y : array-like
            Labels, as for :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every label the model will see; required on the first call, and the
            same (or None) on the later ones.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._fit_or_continue(X, y, sample_weight, 1, True, classes=classes)
        return self

    def _per_sequence(self, X, out, lengths):
        """Per-step outputs as a list of (T_i, ...) arrays for a list X."""
        if getattr(self, "per_step_", False) and isinstance(X, (list, tuple)):
            return [o[:n] for o, n in zip(out, lengths)]
        return out

    def predict_log_proba(self, X: Sequences) -> np.ndarray | list[np.ndarray]:
        """Log-probabilities of the classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Or per step (n_samples, n_timesteps, n_classes); a list of
            (T_i, n_classes) arrays for a list X. Columns follow ``classes_``.
        """
        X3, lengths = self._prepared(X)
        return self._per_sequence(X, log_softmax(self._forward(X3, lengths), axis=-1),
                                  lengths)

    def predict_proba(self, X: Sequences) -> np.ndarray | list[np.ndarray]:
        """Probabilities of the classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Shapes as :meth:`predict_log_proba`; each row sums to 1.
        """
        X3, lengths = self._prepared(X)
        return self._per_sequence(X, softmax(self._forward(X3, lengths), axis=-1), lengths)

    def predict_proba_step(self, x_t: ArrayLike, state: RecurrentState | None = None
                           ) -> tuple[np.ndarray, RecurrentState]:
        """Class probabilities after one more observation per sequence.

        One compiled call for the network (see :meth:`stream`, which keeps the
        state for you).

        Parameters
        ----------
        x_t : array-like of shape (n_features,) or (n_sequences, n_features)
            One observation (a scalar for one feature), or one per stream;
            ``n_features`` is ``n_channels`` for a model fitted on 2D windows.
        state : RecurrentState or None, default=None
            What the previous call returned for the same streams (None: zeros).

        Returns
        -------
        proba : ndarray of shape (n_classes,) or (n_sequences, n_classes)
        state : RecurrentState
        """
        out, state = step_from(self, x_t, state, "predict_proba_step")
        return self._stream_transform(out), state

    def stream(self, state: RecurrentState | None = None, n_streams: int | None = None
               ) -> RecurrentStream:
        """A stream over this model: ``stream.step(x_t)`` returns the class
        probabilities after one more observation per stream, as
        :meth:`predict_proba_step` does, keeping the state itself.

        Parameters
        ----------
        state : RecurrentState or None, default=None
            Where the streams start (None: the start of a series).
        n_streams : int or None, default=None
            Streams read side by side; None: the state's, or 1.

        Returns
        -------
        RecurrentStream
        """
        return RecurrentStream(self, state, n_streams)

    def _stream_outputs(self):
        """The compiled stepper returns the raw outputs: the softmax is NumPy's."""
        return {}

    def _stream_transform(self, out):
        return softmax(out, axis=-1)

    def predict(self, X: Sequences) -> np.ndarray | list[np.ndarray]:
        """The most probable class of each sequence, or of each step.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Or (n_samples, n_timesteps) for per-step labels; a list of (T_i,)
            arrays for a list X.
        """
        X3, lengths = self._prepared(X)
        pred = self.classes_[np.argmax(self._forward(X3, lengths), axis=-1)]
        return self._per_sequence(X, pred, lengths)

    def score(self, X: Sequences, y: ArrayLike, sample_weight: ArrayLike | None = None
              ) -> float:
        """Accuracy (over every valid step for per-step labels).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.
        y : array-like
            The true labels, as for :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if not getattr(self, "per_step_", False):
            return super().score(X, y, sample_weight)
        X3, lengths = self._prepared(X)
        # a label the model never saw counts as a miss, as accuracy_score counts it
        # for per-sequence labels
        labels = self._step_labels(y, lengths, X3.shape[1], None, False, True,
                                   scoring=True)
        return self._score_prepared(X3, labels, lengths,
                                    check_weights(sample_weight, len(X3)))


_CLASSIFIER_PARAMETERS = """\
hidden_size : int or tuple of int, default=32
    Units of each recurrent layer's state h; a tuple gives each layer its own
    size (and the number of layers).
loss : {'cross_entropy'}, default='cross_entropy'
    The training loss: cross-entropy of the softmax over the classes."""

_CLASSIFIER_ATTRIBUTES = """\
classes_ : ndarray of shape (n_classes,)
    The class labels, sorted.
n_outputs_ : int
    1: one label per sequence (or per step)."""

_classifier_doc = fill_doc(classifier_parameters=_CLASSIFIER_PARAMETERS,
                           classifier_attributes=_CLASSIFIER_ATTRIBUTES)


@_classifier_doc
class LSTMClassifier(_ClassifierBase):
    """Classifier with LSTM cells, trained by backpropagation through time.

    Long short-term memory (Hochreiter & Schmidhuber, 1997), gates i, f, g, o as
    in PyTorch's ``nn.LSTM``. Labels are numbers, booleans or strings of one type.
    Inputs are sequences: 2D windows, 3D arrays, or lists of sequences of different lengths
    (see :mod:`tsbptt.estimators`), standardised with statistics of the
    training data.

    Parameters
    ----------
    {classifier_parameters}
    {common_parameters}

    Attributes
    ----------
    {classifier_attributes}
    {common_attributes}

    See Also
    --------
    GRUClassifier : the same with GRU cells.
    RNNClassifier : the same with tanh cells.

    Notes
    -----
    {name_table}

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import LSTMClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((80, 12))
    >>> y = np.where(X.sum(axis=1) > 0, "up", "down")
    >>> model = LSTMClassifier(8, max_iter=30, random_state=0).fit(X, y)
    >>> model.classes_
    array(['down', 'up'], dtype='<U4')
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    """

    _cell = "lstm"


@_classifier_doc
class GRUClassifier(_ClassifierBase):
    """Classifier with GRU cells, trained by backpropagation through time.

    Gated recurrent unit (Cho et al., 2014) with the reset gate applied after the
    recurrent product, as in PyTorch's ``nn.GRU``. Labels are numbers, booleans or
    strings of one type. Inputs are sequences: 2D windows, 3D arrays, or lists of
    sequences of different lengths (see :mod:`tsbptt.estimators`), standardised
    with statistics of the training data.

    Parameters
    ----------
    {classifier_parameters}
    {common_parameters}

    Attributes
    ----------
    {classifier_attributes}
    {common_attributes}

    See Also
    --------
    LSTMClassifier : the same with LSTM cells.
    RNNClassifier : the same with tanh cells.

    Notes
    -----
    {name_table}

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import GRUClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.standard_normal((n, 2)) for n in (5, 9, 7, 12) * 10]  # ragged
    >>> y = [int(x[:, 0].mean() > 0) for x in X]
    >>> model = GRUClassifier(8, max_iter=20, random_state=0).fit(X, y)
    >>> model.predict(X[:4]).shape
    (4,)
    """

    _cell = "gru"


@_classifier_doc
class RNNClassifier(_ClassifierBase):
    """Classifier with simple tanh (Elman) cells, trained by backpropagation through time.

    ``h_t = tanh(W [x_t, h_{t-1}, 1])``, as PyTorch's ``nn.RNN``: the cheapest
    cell, with a short memory. Labels are numbers, booleans or strings of one type.
    Inputs are sequences: 2D windows, 3D arrays, or lists of sequences of different lengths
    (see :mod:`tsbptt.estimators`), standardised with statistics of the
    training data.

    Parameters
    ----------
    {classifier_parameters}
    {common_parameters}

    Attributes
    ----------
    {classifier_attributes}
    {common_attributes}

    See Also
    --------
    LSTMClassifier : the same with LSTM cells (long memory).
    GRUClassifier : the same with GRU cells.

    Notes
    -----
    {name_table}

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((40, 6, 1))
    >>> labels = (np.cumsum(X[..., 0], axis=1) > 0).astype(int)   # a label per step
    >>> model = RNNClassifier(8, max_iter=20, random_state=0).fit(X, labels)
    >>> model.predict(X[:3]).shape
    (3, 6)
    """

    _cell = "rnn"
