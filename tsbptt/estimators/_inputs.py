"""Turn what users pass to the estimators into batches of sequences.

Three input forms, all ending as ``(X, lengths)`` with ``X`` a C-contiguous
(n_samples, n_timesteps, n_features) float64 array and ``lengths`` (n_samples,)
intp (:func:`in_dtype` takes X into the estimator's dtype once it is
standardised: rounded to float32 first, inputs such as 1e9 + x lost x):

- a 2D array or DataFrame (n_samples, width): univariate windows, or, with
  ``n_channels = C``, multivariate windows flattened time-major (column
  ``t * C + c``). scikit-learn's ``validate_data`` checks it, so ``n_features_in_``
  (the width) and ``feature_names_in_`` behave exactly as in scikit-learn;
- a 3D array (n_samples, n_timesteps, n_features): ``n_features_in_`` is the
  number of features, and any number of steps is accepted at predict;
- a list of 2D arrays (T_i, n_features) of different lengths: padded with zeros
  (never NaN) to the longest and masked in the kernels through ``lengths``.

Inputs are never modified; read-only and Fortran-ordered arrays are accepted.
"""
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from ..utils._validation import reject_complex, reject_masked, user_stacklevel

__all__ = ["in_dtype", "input_kind", "to_sequences"]

FLOAT_DTYPES = (np.float64, np.float32)


def input_kind(X):
    """``'list'`` for a list of 2D sequences, ``'3d'`` for a 3D array, else ``'2d'``."""
    if isinstance(X, (list, tuple)) and len(X) and np.ndim(X[0]) == 2:
        return "list"
    if hasattr(X, "ndim") and X.ndim == 3:
        return "3d"
    return "2d"


#: The input forms, for the messages that refuse another.
FORMS = ("a 2D array of windows (n_samples, n_steps * n_channels), a 3D array "
         "(n_samples, n_steps, n_features) or a list of 2D arrays (n_steps_i, n_features)")


def _check_form(X):
    """Refuse, in the estimators' words, the forms NumPy or scikit-learn would refuse
    in theirs: an array of more than 3 dimensions ("dim <= 2 is required", though 3D
    works), a list of 1D sequences of different lengths (an "inhomogeneous
    shape"), complex values; and masked values, which they would read as data."""
    for name, part in (enumerate(X) if isinstance(X, (list, tuple)) else [(None, X)]):
        name = "X" if name is None else f"X[{name}]"
        reject_masked(part, name)
        reject_complex(part, name)
        if name != "X" and np.ndim(part) > 2:  # scikit-learn: "dim <= 2 is required"
            raise ValueError(f"{name} has shape {np.shape(part)}; a list holds one 2D "
                             "array (n_steps_i, n_features) per sequence: pass a 3D array "
                             "itself, or its sequences as a list (list(X3))")
    ndim = getattr(X, "ndim", None)
    if isinstance(ndim, int) and ndim > 3:
        raise ValueError(f"X has shape {X.shape} ({ndim} dimensions); give {FORMS}")
    if isinstance(X, (list, tuple)) and len(X) and np.ndim(X[0]) == 1:
        lengths = {len(x) for x in X if hasattr(x, "__len__")}
        if len(lengths) > 1:
            raise ValueError(f"X is a list of 1D sequences of different lengths "
                             f"({min(lengths)} to {max(lengths)}); give each sequence as "
                             "a 2D array (n_steps_i, n_features), e.g. x.reshape(-1, 1) "
                             "for one feature")


def _check_features(est, n_features, reset):
    """n_features_in_ for 3D and list inputs (2D goes through validate_data)."""
    if reset:
        est.n_features_in_ = n_features
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif n_features != est.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input.")


def _list_names(X):
    """The column names every DataFrame of the list ``X`` has, in order, as
    scikit-learn keeps a DataFrame's (strings only), or None (arrays, other names);
    DataFrames whose names differ are refused: their columns would be read by
    position."""
    names = [getattr(x, "columns", None) for x in X]
    if any(n is None for n in names):
        return None
    first = np.asarray(names[0], dtype=object)
    for i, n in enumerate(names):
        if list(n) != list(first):
            raise ValueError(f"X[{i}]'s columns {list(n)[:5]} are not X[0]'s "
                             f"{list(first)[:5]}: every sequence needs the same features, "
                             "in the same order")
    return first if all(isinstance(c, str) for c in first) else None


def _check_list_names(est, X, reset):
    """``feature_names_in_`` for a list of DataFrames, as scikit-learn has it for one
    DataFrame: kept at fit, its order checked at predict (the columns are read by
    position: swapped columns gave other forecasts, silently)."""
    names = _list_names(X)
    if reset:
        if names is not None:
            est.feature_names_in_ = names
        return
    fitted = getattr(est, "feature_names_in_", None)
    if fitted is not None and names is not None and list(fitted) != list(names):
        raise ValueError(f"The feature names should match those that were passed during "
                         f"fit: X's sequences have the columns {list(names)[:5]}, the "
                         f"fitted ones {list(fitted)[:5]}")
    if fitted is not None and names is None:
        warnings.warn(f"X does not have valid feature names, but {type(est).__name__} was "
                      "fitted with feature names", UserWarning, stacklevel=user_stacklevel())


def _from_list(est, X, reset):
    for i, x in enumerate(X):
        if len(x) == 0:
            raise ValueError(f"X[{i}] has 0 time steps; every sequence needs at least one")
    seqs = [check_array(x, dtype=FLOAT_DTYPES, input_name=f"X[{i}]")
            for i, x in enumerate(X)]
    widths = {s.shape[1] for s in seqs}
    if len(widths) != 1:
        raise ValueError(f"the sequences in X have different numbers of features: "
                         f"{sorted(widths)}; every sequence needs the same features")
    _check_features(est, widths.pop(), reset)
    _check_list_names(est, X, reset)
    lengths = np.array([len(s) for s in seqs], dtype=np.intp)
    out = np.zeros((len(seqs), lengths.max(), est.n_features_in_))
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return out, lengths


def _checked_plain(est, X, kind):
    """X itself at predict time when it is a plain, finite float32/float64 ndarray of
    the fitted width: what the scikit-learn checks would return unchanged, without
    their fixed cost (most of a one-window predict). Else None, and the full checks
    run (and raise their usual errors)."""
    if type(X) is not np.ndarray or X.dtype not in FLOAT_DTYPES or X.size == 0:
        return None
    if kind == "2d" and (X.ndim != 2 or "feature_names_in_" in est.__dict__
                         or X.shape[1] != getattr(est, "n_features_in_", None)):
        return None
    return X if np.isfinite(X).all() else None


def to_sequences(est, X, *, reset):
    """Validate X and return ``(X3, lengths, kind)``.

    Parameters
    ----------
    est : estimator
        Receives ``n_features_in_`` (and ``feature_names_in_`` for DataFrames)
        when ``reset``; is checked against them otherwise. Its ``n_channels``
        parameter splits 2D rows into (steps, channels).
    X : array-like, DataFrame or list of 2D array-likes
    reset : bool
        True in ``fit``, False in ``predict``.

    Returns
    -------
    X3 : float64 ndarray of shape (n_samples, n_timesteps, n_features)
        (see the module docstring: :func:`in_dtype` takes it into the dtype)
    lengths : ndarray of intp of shape (n_samples,)
    kind : {'2d', '3d', 'list'}
    """
    if isinstance(X, (list, tuple)) and len(X) == 0:
        raise ValueError("X is an empty list: no sequence to learn from or predict")
    _check_form(X)
    kind = input_kind(X)
    if not reset and getattr(est, "input_kind_", kind) == "2d" and kind != "2d":
        raise ValueError(f"{type(est).__name__} was fitted on 2D windows; pass a 2D "
                         f"array of {est.n_features_in_} columns, not a {kind} input")
    if not reset and getattr(est, "input_kind_", "2d") != "2d" and kind == "2d":
        raise ValueError(f"{type(est).__name__} was fitted on sequences with "
                         f"{est.n_features_in_} features; pass a 3D array or a list "
                         "of 2D arrays, not a 2D table")
    try:
        X3, lengths = _convert(est, X, kind, reset)
    except ValueError as exc:  # NumPy's words do not say which argument
        if "could not convert" not in str(exc):
            raise
        raise ValueError(f"X must hold numbers: {exc}") from None
    return np.ascontiguousarray(X3, dtype=np.float64), lengths, kind


def _convert(est, X, kind, reset):
    """check_array / validate_data for each input form: (X3, lengths)."""
    if kind == "list":
        X3, lengths = _from_list(est, X, reset)
    elif kind == "3d":
        X3 = None if reset else _checked_plain(est, X, kind)
        if X3 is None:
            X3 = check_array(X, dtype=FLOAT_DTYPES, allow_nd=True, input_name="X")
        if X3.shape[1] < 1 or X3.shape[2] < 1:
            raise ValueError(f"X must have at least one time step and one feature, "
                             f"got shape {X3.shape}")
        _check_features(est, X3.shape[2], reset)
        lengths = np.full(X3.shape[0], X3.shape[1], dtype=np.intp)
    else:
        X2 = None if reset else _checked_plain(est, X, kind)
        if X2 is None:
            X2 = validate_data(est, X, reset=reset, dtype=FLOAT_DTYPES)
        # the fitted value in predict: a later set_params must not re-read old data
        C = est.n_channels if reset else est.n_channels_
        if X2.shape[1] % C:
            raise ValueError(f"X has {X2.shape[1]} columns, not a multiple of "
                             f"n_channels={C} (rows are time-major: t * n_channels + c)")
        X3 = X2.reshape(X2.shape[0], X2.shape[1] // C, C)
        lengths = np.full(X3.shape[0], X3.shape[1], dtype=np.intp)
    return X3, lengths


def in_dtype(Xs, dtype, name="X"):
    """Standardised inputs ``Xs`` (float64) in the computation dtype; finite values
    beyond float32's range would become infinite there, so they are refused with
    the reason (inputs far outside the training data's range, once scaled by it),
    naming them ``name``."""
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(Xs, dtype=dtype)
    if out.dtype != Xs.dtype and not np.isfinite(out).all():
        big = float(np.max(np.abs(Xs)))
        raise ValueError(f"{name} has values beyond the {dtype} range once standardised "
                         f"(largest magnitude {big:.3g}, the limit is "
                         f"{np.finfo(dtype).max:.3g}); use dtype='float64'")
    return out


def labels_1d(y):
    """``y`` as a 1D array of labels, as ``column_or_1d(y, warn=True)`` gives it, but
    its warning for a column vector names the user's line (scikit-learn's named
    the line inside tsbptt that called it)."""
    if sp.issparse(y):  # refused there, as scikit-learn refuses it
        return column_or_1d(y)
    shape = np.shape(y) if hasattr(y, "shape") or isinstance(y, (list, tuple)) else ()
    if len(shape) == 2 and shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples, ), for example using ravel().",
                      DataConversionWarning, stacklevel=user_stacklevel())
        y = np.ravel(np.asarray(y))
    return column_or_1d(y)


def check_labels(y):
    """``check_classification_targets(y)``, with words where its own say little:
    labels of mixed types (numbers beside strings, None beside strings: a
    TypeError from NumPy's sort, or "Unknown label type: unknown") and labels of
    other types (Timestamps) are refused by what they hold.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_timesteps)

    Raises
    ------
    ValueError
        "Unknown label type: ..." (scikit-learn's words first, which its checks
        and users' code look for), then what the labels must be.
    """
    try:
        kind = type_of_target(y, input_name="y")
    except TypeError:  # labels NumPy cannot sort together
        kind = "unknown"
    if kind == "unknown":
        types = sorted({type(v).__name__ for v in np.asarray(y, dtype=object).ravel()})
        raise ValueError("Unknown label type: unknown. The labels must be numbers, "
                         "booleans or strings, all of one type; got values of the "
                         f"types {types}")
    check_classification_targets(y)
