"""Losses with their gradients, weighted by sample.

Every loss maps predictions ``pred`` of shape (N, P) and targets to
``(value, grad)``: the weighted mean over rows of the per-row loss,
``sum_i w_i * l_i / sum_i w_i``, and its gradient with respect to ``pred``
(same shape). A row is a sample (many-to-one) or a valid (sample, step) pair
(many-to-many); ``l_i`` averages the row's elements, so the value does not
depend on how many outputs a row has.

A minibatch of a training set passes its weights relative to the set's mean
(``relative=True``): its value is then ``sum_i w_i * l_i / N``, so that a sample
counts by its weight against the whole set's, not against its batch's.
"""
import numpy as np
from scipy.special import log_softmax, softmax

__all__ = ["MSE", "MAE", "Huber", "Quantile", "SoftmaxCrossEntropy", "LOSSES",
           "check_sample_weight"]


def check_sample_weight(sample_weight, n, name="sample_weight"):
    """``sample_weight`` as n float64 weights, each finite and >= 0.

    Parameters
    ----------
    sample_weight : array-like of shape (n,)
    n : int
    name : str, default='sample_weight'
        The argument's name, for the messages.

    Returns
    -------
    ndarray of float64 of shape (n,)
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        first = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise ValueError(f"{name} must be finite and non-negative, got "
                         f"{float(w[first])!r} for sample {first}")
    return w


def _weights(sample_weight, n, dtype, relative=False):
    """Each row's factor in the weighted mean: ``w / sum(w)``, or ``w / n`` for
    ``relative`` weights (1 / n each without weights)."""
    if sample_weight is None:
        return np.full(n, 1.0 / n, dtype=dtype)
    # normalised in float64, then cast: float32 weights' sum overflows from about
    # 1e38 (every gradient 0) and tiny ones underflow to 0; only the ratios count
    w = check_sample_weight(sample_weight, n)
    if relative:
        return (w / n).astype(dtype, copy=False)
    total = w.sum()
    if not 0 < total < np.inf:
        raise ValueError("sample_weight sums to zero: no sample would count"
                         if total <= 0 else "sample_weight's sum overflows float64")
    return (w / total).astype(dtype, copy=False)


class Loss:
    """Base class. ``n_outputs_per_target`` predictions are needed per target column."""

    n_outputs_per_target = 1

    def __call__(self, pred, target, sample_weight=None, relative=False):
        """Loss value and its gradient with respect to ``pred``.

        Parameters
        ----------
        pred : ndarray of shape (N, P)
        target : ndarray of shape (N, P // n_outputs_per_target), or (N,) labels
        sample_weight : ndarray of shape (N,) or None
        relative : bool, default=False
            ``sample_weight`` is relative to a mean of 1 over a larger set that
            these rows are a minibatch of: the weighted sum is divided by N, not by
            the weights' sum.

        Returns
        -------
        value : float
        grad : ndarray of shape (N, P)
        """
        w = _weights(sample_weight, pred.shape[0], pred.dtype, relative)
        # diverging predictions overflow the squares: the trainer stops on the
        # non-finite value, saying so, and NumPy's own warning would only repeat it
        with np.errstate(over="ignore", invalid="ignore"):
            elem, d_elem = self._elementwise(pred, target)
            per_row_scale = w / elem.shape[1]
            value = float(np.sum(elem.sum(axis=1) * w) / elem.shape[1])
            grad = (d_elem * per_row_scale[:, None]).astype(pred.dtype, copy=False)
        return value, grad

    def _elementwise(self, pred, target):
        """Per-element losses (N, P) and their derivatives."""
        raise NotImplementedError


def _residual(pred, target):
    """``pred - target`` of one shape: a (N,) target against (N, 1) predictions would
    broadcast to (N, N), a loss of every pair."""
    if np.shape(target) != pred.shape:
        raise ValueError(f"target has shape {np.shape(target)}, expected pred's "
                         f"{pred.shape}")
    return pred - target


class MSE(Loss):
    """Mean squared error."""

    def _elementwise(self, pred, target):
        r = _residual(pred, target)
        return r * r, 2 * r


class MAE(Loss):
    """Mean absolute error (subgradient 0 at a perfect prediction)."""

    def _elementwise(self, pred, target):
        r = _residual(pred, target)
        return np.abs(r), np.sign(r)


class Huber(Loss):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond."""

    def __init__(self, delta=1.0):
        if not delta > 0:
            raise ValueError(f"delta must be > 0, got {delta!r}")
        self.delta = float(delta)

    def _elementwise(self, pred, target):
        r = _residual(pred, target)
        a = np.abs(r)
        small = a <= self.delta
        loss = np.where(small, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))
        return loss, np.where(small, r, self.delta * np.sign(r))


class Quantile(Loss):
    """Pinball loss over several quantiles at once.

    ``pred`` holds, for every target column, one prediction per quantile:
    column ``j * K + k`` predicts quantile ``quantiles[k]`` of target column ``j``.
    """

    def __init__(self, quantiles=(0.1, 0.5, 0.9)):
        q = np.asarray(quantiles, dtype=float).ravel()
        if q.size == 0 or np.any((q <= 0) | (q >= 1)):
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles!r}")
        self.quantiles = q
        self.n_outputs_per_target = q.size

    def _elementwise(self, pred, target):
        K = self.quantiles.size
        y = np.repeat(np.asarray(target).reshape(pred.shape[0], -1), K, axis=1)
        q = np.tile(self.quantiles, pred.shape[1] // K).astype(pred.dtype)
        r = y - pred
        loss = np.maximum(q * r, (q - 1) * r)
        grad = np.where(r > 0, -q, np.where(r < 0, 1 - q, 0))
        return loss, grad


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(pred) against integer class labels (N,)."""

    def _elementwise(self, pred, target):
        labels = np.asarray(target).ravel()
        if labels.dtype.kind not in "iu" or labels.size and (
                labels.min() < 0 or labels.max() >= pred.shape[1]):
            raise ValueError(f"class labels must be integers in [0, {pred.shape[1]}), "
                             f"got {np.unique(labels)[:10]}")
        labels = labels.astype(np.intp)
        logp = log_softmax(pred, axis=1)
        rows = np.arange(pred.shape[0])
        grad = softmax(pred, axis=1)
        grad[rows, labels] -= 1
        # One loss per row: scale by the row width so the base class's average over
        # elements gives the plain cross-entropy.
        loss = np.zeros_like(pred)
        loss[:, 0] = -logp[rows, labels] * pred.shape[1]
        return loss, grad * pred.shape[1]


LOSSES = {"mse": MSE, "squared_error": MSE, "mae": MAE, "absolute_error": MAE,
          "huber": Huber, "quantile": Quantile, "cross_entropy": SoftmaxCrossEntropy}


class Objective:
    """A loss applied to a network's output, many-to-one or many-to-many.

    Builds the ``loss_fn`` callables that the BPTT schedules take: it selects the
    rows that carry a target (valid steps for many-to-many), weights them by their
    sample's weight and puts the gradient back in the output's shape.

    Parameters
    ----------
    loss : Loss
    """

    def __init__(self, loss):
        self.loss = loss

    def _rows(self, out, y, w, valid=None):
        """Flatten (B, T, P) outputs and targets to rows, with per-row weights."""
        P = out.shape[-1]
        if valid is None:
            return out.reshape(-1, P), y.reshape(out.shape[0] * out.shape[1], -1), (
                None if w is None else np.repeat(w, out.shape[1]))
        rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
        return out[valid], y[valid].reshape(int(valid.sum()), -1), rows_w

    def check_targets(self, net, y, n_samples, n_steps, name="y"):
        """Raise ValueError unless ``y`` has the shape this loss reads for ``net``.

        Many-to-one: (N, n_targets), or (N,) when there is one target column or
        for class labels; many-to-many the same with (N, T) in front. n_targets is
        ``net.output_size`` over the loss's ``n_outputs_per_target`` (quantiles),
        which must divide it.
        """
        lead = (n_samples, n_steps) if net.many_to_many else (n_samples,)
        y = np.asarray(y)
        K = self.loss.n_outputs_per_target
        if net.output_size % K:  # the loss reads K outputs per target column
            raise ValueError(f"the network's output_size ({net.output_size}) must be a "
                             f"multiple of the loss's {K} outputs per target (one per "
                             "quantile)")
        if isinstance(self.loss, SoftmaxCrossEntropy):
            expected = [lead, lead + (1,)]
        else:
            width = net.output_size // K
            expected = [lead + (width,)] + ([lead] if width == 1 else [])
        if y.shape not in expected:
            raise ValueError(f"{name} has shape {y.shape}, expected "
                             f"{' or '.join(map(str, expected))} for this network and loss")

    def _target(self, y, n):
        if isinstance(self.loss, SoftmaxCrossEntropy):
            return np.asarray(y).reshape(n)
        return np.asarray(y).reshape(n, -1)

    def batch_fn(self, net, y, lengths, w, relative=False):
        """``loss_fn(out) -> (value, d_out)`` for a batch's whole sequences;
        ``relative``: ``w`` is relative to the training set's mean (see the
        module's notes)."""
        def loss_fn(out):
            if not net.many_to_many:
                return self.loss(out, self._target(y, out.shape[0]), w, relative)
            valid = np.arange(out.shape[1])[None, :] < lengths[:, None]
            rows, ys, rw = self._rows(out, y, w, valid)
            value, d = self.loss(rows, self._target(ys, rows.shape[0]), rw, relative)
            d_out = np.zeros_like(out)
            d_out[valid] = d
            return value, d_out
        return loss_fn

    def window_fn(self, net, y, w, T, rows=None, relative=False):
        """``loss_fn(out, start, loss_start, stop)`` for truncated BPTT windows.

        ``y`` holds the targets of all sequences; ``rows`` picks the batch's
        (None: all), and ``w`` is already the batch's weights (``relative``, as
        :meth:`batch_fn`'s).
        """
        rows = slice(None) if rows is None else rows

        def loss_fn(out, start, loss_start, stop):
            if not net.many_to_many:
                if stop < T:
                    return None  # the target belongs to the sequence's last step
                return self.loss(out, self._target(y[rows], out.shape[0]), w, relative)
            a = loss_start - start
            part = out[:, a:]
            rows_, ys, rw = self._rows(part, y[rows, loss_start:stop], w)
            value, d = self.loss(rows_, self._target(ys, rows_.shape[0]), rw, relative)
            d_out = np.zeros_like(out)
            d_out[:, a:] = d.reshape(part.shape)
            return value, d_out
        return loss_fn
