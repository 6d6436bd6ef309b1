"""What a fitted estimator saves and restores: its state in a model file.

The file format and its safety checks are :mod:`tsbptt.persistence`. Here the
estimator says what it keeps (the network's weights as ``param/<name>``, the
fitted arrays by name, its parameters and fitted scalars in the metadata) and checks
it on the way back: the class (one of tsbptt's own estimators, by name, from a fixed
table), the parameters (the estimator's own validation), every fitted value's type,
and that the weights have exactly the shapes those parameters give, before it
allocates anything, and that every weight and scaling value is finite. The
optimizer's state is not saved: ``warm_start`` after loading starts a fresh one.
"""
import os
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from ..engine.network import param_shapes
from ..persistence import (from_json, read_model_file, saved_random_state,
                           warn_if_random_state_dropped, write_model_file)

__all__ = ["load_model", "save_model"]

#: Fitted attributes kept in meta.json, with the check each value must pass.
FITTED_SCALARS = {
    "n_features_in_": lambda v: isinstance(v, int) and v >= 1,
    "input_kind_": lambda v: v in ("2d", "3d", "list"),
    "n_channels_": lambda v: isinstance(v, int) and v >= 1,
    "dtype_": lambda v: v in ("float32", "float64"),
    "per_step_": lambda v: isinstance(v, bool),
    "n_outputs_": lambda v: isinstance(v, int) and v >= 1,
    "n_iter_": lambda v: isinstance(v, int) and v >= 0,
    "t_": lambda v: isinstance(v, int) and v >= 0,
    "loss_": lambda v: isinstance(v, (int, float)),
    "best_loss_": lambda v: isinstance(v, (int, float)),
    "loss_curve_": lambda v: isinstance(v, list),
    "validation_scores_": lambda v: v is None or isinstance(v, list),
    "best_validation_score_": lambda v: v is None or isinstance(v, (int, float)),
    "history_": lambda v: isinstance(v, list) and all(isinstance(h, dict) for h in v),
}
REQUIRED = ("n_features_in_", "input_kind_", "n_channels_", "dtype_", "n_outputs_")
#: Fitted arrays kept as arrays.
FITTED_ARRAYS = ("input_mean_", "input_scale_", "target_mean_", "target_scale_",
                 "classes_")
#: Parameters that are tuples in Python and lists in JSON.
_TUPLE_PARAMS = ("hidden_size", "quantiles")

#: The estimator classes a model file may name: tsbptt's own, filled as they are
#: defined (see FittedState.__init_subclass__).
MODEL_CLASSES = {}


@contextmanager
def undone_on_failure(est):
    """Put every attribute of ``est`` back as it was if the block raises (Ctrl-C
    too): a failed fit leaves no half-fitted model, and a model fitted before keeps
    its fit. Only for blocks that replace attributes rather than change them in
    place (a cold fit builds a new network)."""
    saved = dict(vars(est))
    try:
        yield
    except BaseException:
        vars(est).clear()
        vars(est).update(saved)
        raise


def fitted_meta(est, scalars, params):
    """meta.json of a fitted estimator: its class, ``params``, the fitted scalars it
    has among ``scalars`` and its feature names."""
    return {"class": type(est).__name__, "params": params,
            "fitted": {k: getattr(est, k) for k in scalars if hasattr(est, k)},
            "feature_names_in_": (list(map(str, est.feature_names_in_))
                                  if hasattr(est, "feature_names_in_") else None),
            # string labels of dtype object (a DataFrame column's) are written as
            # fixed-width strings: read back as objects, or predictions truncate
            "classes_object": (hasattr(est, "classes_")
                               and np.asarray(est.classes_).dtype.kind == "O")}


def set_classes(est, classes, meta, path):
    """Give ``est`` the ``classes_`` of a model file (and the encoder that maps
    them), of dtype object where they were (``meta['classes_object']``)."""
    as_object = meta.get("classes_object", False)
    if not isinstance(as_object, bool):
        raise ValueError(f"{path!r}: bad classes_object {as_object!r}")
    est.classes_ = classes.astype(object) if as_object else classes
    est._encoder = LabelEncoder()
    est._encoder.classes_ = est.classes_


def checked_fitted(meta, scalars, required, path):
    """meta.json's fitted scalars, every one known to ``scalars`` and valid by its
    check, and none of ``required(fitted)`` missing; ValueError naming the file."""
    fitted = meta.get("fitted")
    if not isinstance(fitted, dict) or not isinstance(meta.get("params"), dict):
        raise ValueError(f"{path!r}: meta.json lacks its params or fitted values")
    for key, value in fitted.items():
        if key not in scalars or not scalars[key](from_json(value)):
            raise ValueError(f"{path!r}: bad fitted value {key}={value!r}")
    for key in required(fitted):
        if key not in fitted:
            raise ValueError(f"{path!r}: meta.json lacks the fitted value {key}")
    return fitted


def _known_member(name):
    return name in FITTED_ARRAYS or name.startswith(("param/", "esn/"))


class FittedState:
    """Mixin: an estimator's fitted state to and from a model file.

    The estimator provides ``_cell``, ``network_``, ``_network_input_size()``,
    ``_network_outputs()``, ``_new_network()``, ``_new_optimizer()`` and
    ``_check_saved_params()`` (the checks of ``fit`` that ``_validate_params``
    does not make).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # tsbptt's estimators, not its mixins (ESNState) or users' subclasses
        if not cls.__name__.startswith("_") and cls.__module__.startswith("tsbptt.") \
                and issubclass(cls, BaseEstimator):
            MODEL_CLASSES[cls.__name__] = cls

    def _params_for_json(self):
        params = self.get_params(deep=False)
        if "random_state" in params:
            params["random_state"] = saved_random_state(params["random_state"])
        for name in _TUPLE_PARAMS:  # JSON has lists, not tuples
            if isinstance(params.get(name), tuple):
                params[name] = list(params[name])
        return params

    def _fitted_state(self):
        """The arrays and the metadata a model file keeps of this fitted estimator."""
        arrays = {f"param/{k}": v for k, v in self.network_.params.items()}
        for name in FITTED_ARRAYS:
            if hasattr(self, name):
                a = np.asarray(getattr(self, name))
                if a.dtype.kind == "O":
                    try:
                        a = a.astype(str) if all(isinstance(c, str) for c in a) else a
                    except TypeError:
                        pass
                if a.dtype.kind not in "biufU":
                    raise ValueError(f"{name} of dtype {a.dtype} cannot be saved without "
                                     "pickle; use numbers or strings as class labels")
                arrays[name] = a
        return arrays, fitted_meta(self, FITTED_SCALARS, self._params_for_json())

    @classmethod
    def _from_fitted_state(cls, arrays, meta, path):
        """The estimator a model file describes, every value checked first."""
        checked_fitted(meta, FITTED_SCALARS, lambda fitted: REQUIRED, path)
        est = cls._with_saved_values(meta, path)
        est._check_saved_arrays(arrays, path)
        for name in FITTED_ARRAYS:
            if name in arrays and name != "classes_":
                setattr(est, name, arrays[name])
        if "classes_" in arrays:
            set_classes(est, arrays["classes_"], meta, path)
        n_out = len(est.classes_) if hasattr(est, "classes_") else est._network_outputs()
        est.network_ = est._new_network(n_out, 0)
        for k, v in arrays.items():
            if k.startswith("param/"):
                est.network_.params[k[len("param/"):]][...] = v
        est._rng = np.random.RandomState(0)
        est._optimizer = est._new_optimizer()
        est._record_architecture()
        return est

    @classmethod
    def _with_saved_values(cls, meta, path):
        """The estimator with its parameters and fitted values; nothing allocated yet."""
        params = from_json(meta["params"])
        for name in _TUPLE_PARAMS:
            if isinstance(params.get(name), list):
                params[name] = tuple(params[name])
        try:
            est = cls(**params)
            est._validate_params()
            est._check_saved_params()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path!r}: the saved parameters are not valid: {exc}") \
                from None
        for k, v in from_json(meta["fitted"]).items():
            setattr(est, k, v)
        names = meta.get("feature_names_in_")
        if names is not None:
            if not (isinstance(names, list) and len(names) == est.n_features_in_
                    and all(isinstance(n, str) for n in names)):
                raise ValueError(f"{path!r}: bad feature_names_in_")
            est.feature_names_in_ = np.asarray(names, dtype=object)
        return est

    def _check_saved_arrays(self, arrays, path):
        """Fitted arrays and weights of the shapes and dtypes the settings give."""
        F = self._network_input_size()
        if self.input_kind_ == "2d" and self.n_features_in_ % self.n_channels_:
            raise ValueError(f"{path!r}: n_features_in_ and n_channels_ do not agree")
        expected = {"input_mean_": (F,), "input_scale_": (F,)}
        if "target_mean_" in arrays or "classes_" not in arrays:
            expected.update(target_mean_=(self.n_outputs_,),
                            target_scale_=(self.n_outputs_,))
        if "classes_" not in arrays and not hasattr(self, "_network_outputs"):
            raise ValueError(f"{path!r}: a {type(self).__name__} file without its "
                             "classes_")
        n_out = (len(arrays["classes_"]) if "classes_" in arrays
                 else self._network_outputs())
        shapes = param_shapes(self._cell, F, self.hidden_size, n_out,
                              num_layers=self.num_layers, bidirectional=self.bidirectional)
        expected.update({f"param/{k}": v for k, v in shapes.items()})
        got = {k: v.shape for k, v in arrays.items() if k != "classes_"}
        if got != expected:
            raise ValueError(f"{path!r}: the arrays do not match a {type(self).__name__} "
                             f"with these settings (expected {expected}, found {got})")
        for k, v in arrays.items():
            _check_saved_array(k, v, self.dtype_, path)
        if "classes_" in arrays and arrays["classes_"].ndim != 1:
            raise ValueError(f"{path!r}: classes_ is not one-dimensional")


def _check_saved_array(k, v, dtype, path):
    if k.startswith("param/") and v.dtype != np.dtype(dtype):
        raise ValueError(f"{path!r}: weight {k} is {v.dtype}, expected {dtype}")
    if k != "classes_" and not k.startswith("param/") and v.dtype.kind != "f":
        raise ValueError(f"{path!r}: {k} is {v.dtype}, expected floating point")
    if k != "classes_" and not np.isfinite(v).all():
        raise ValueError(f"{path!r}: {k} holds NaN or infinite values; a fitted "
                         "model never does")
    if k.endswith("scale_") and not (v > 0).all():
        raise ValueError(f"{path!r}: {k} holds a scale <= 0")


def save_model(estimator, path):
    """Write a fitted tsbptt estimator to ``path`` (a ``.npz`` file, no pickle).

    The file holds what predicting needs: the weights, the scaling, the fitted
    attributes. It does not hold the optimizer's state (Adam's moments, the step
    count) nor the shuffling generator's, so a loaded model continued with
    ``partial_fit`` or a warm-started ``fit`` starts those afresh, and does not
    repeat the bits the original would reach; a pickle (or ``copy.deepcopy``)
    keeps them.

    Parameters
    ----------
    estimator : a fitted tsbptt estimator
    path : str or os.PathLike

    Raises
    ------
    TypeError
        If the estimator's class has no file format (``RTRLRegressor``).
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If its class labels cannot be stored without pickle (they must be
        numbers, booleans or strings), or ``path`` is a folder.

    Warns
    -----
    UserWarning
        If its ``random_state`` is a ``np.random.RandomState``: the file keeps it as
        None (the loaded model predicts the same, but refitting it will not repeat
        this one's fits; pass an integer to keep them).

    See Also
    --------
    load_model : read the file back.
    tsbptt.persistence : the file format and its safety checks.
    """
    if getattr(estimator, "_not_saved_because", None):  # before a file is written
        raise TypeError(f"estimator: a {type(estimator).__name__} cannot be saved: "
                        f"{estimator._not_saved_because}")
    if not callable(getattr(estimator, "_fitted_state", None)):
        raise TypeError(f"estimator: save_model writes tsbptt's recurrent estimators; a "
                        f"{type(estimator).__name__} has no saved form")
    name = type(estimator).__name__
    if MODEL_CLASSES.get(name) is not type(estimator):  # load_model would refuse it
        base = next((c.__name__ for c in type(estimator).__mro__
                     if MODEL_CLASSES.get(c.__name__) is c), None)
        what = "is not one of them" if base is None else \
            f"is a subclass of {base}: save a {base} with its parameters, or pickle it"
        raise TypeError(f"estimator: save_model writes tsbptt's own estimators, which "
                        f"load_model rebuilds by class; {name} {what}")
    check_is_fitted(estimator)
    arrays, meta = estimator._fitted_state()
    warn_if_random_state_dropped(estimator)
    write_model_file(path, arrays, meta)


def load_model(path):
    """Read a model written by :func:`save_model`; it predicts bitwise identically.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator : LSTMRegressor, GRURegressor, RNNRegressor, LSTMClassifier, \
GRUClassifier, RNNClassifier, ESNRegressor or ESNClassifier
        The class the file names, fitted.

    Raises
    ------
    ValueError
        If the file is not a valid model file, names a class that is not one of
        tsbptt's estimators, or holds parameters, fitted values or weights that do
        not agree; the message names the file and what is wrong.
    FileNotFoundError
        If there is no file at ``path``.
    """
    shown = os.fspath(path)
    arrays, meta = read_model_file(path, _known_member)
    cls = MODEL_CLASSES.get(meta.get("class")) if isinstance(meta.get("class"), str) \
        else None
    if cls is None:
        raise ValueError(f"{shown!r} names an unknown estimator class "
                         f"{meta.get('class')!r}; expected one of {sorted(MODEL_CLASSES)}")
    return cls._from_fitted_state(arrays, meta, shown)
