"""Safe model files: weights and settings in a ``.npz`` archive, no pickle.

A model file is a NumPy ``.npz`` archive read with ``allow_pickle=False``, so loading
never runs code from the file. It holds:

- every learned array (the network's weights, the input and target scaling, the
  class labels) under its own name;
- ``meta.json``, a UTF-8 JSON document stored as a byte array: the format
  version, the tsbptt version that wrote it, the estimator class, its parameters,
  its fitted scalars and history, and a SHA-256 checksum of all the arrays (names,
  dtypes, shapes and bytes).

:func:`load_model` checks the format, the version, the class (one of tsbptt's own
estimators, looked up by name in a fixed table) and the checksum before it builds
anything; a damaged, truncated or tampered file gives a clear ``ValueError``. The
optimizer's state is not saved: ``warm_start`` after loading starts a fresh
optimizer from the loaded weights.
"""
import hashlib
import json
import math
import os
import tempfile
import zipfile

import numpy as np

from . import __version__

__all__ = ["save_model", "load_model", "FORMAT_VERSION"]

#: Bump when the layout of the file changes incompatibly.
FORMAT_VERSION = 1

#: Fitted attributes kept in meta.json (JSON scalars and lists).
_FITTED_SCALARS = ("n_features_in_", "input_kind_", "n_outputs_", "n_iter_", "t_",
                   "loss_", "loss_curve_", "best_loss_", "validation_scores_",
                   "best_validation_score_", "history_")
#: Fitted arrays kept as arrays.
_FITTED_ARRAYS = ("input_mean_", "input_scale_", "target_mean_", "target_scale_",
                  "classes_")


def _estimator_classes():
    from . import estimators
    return {name: getattr(estimators, name) for name in estimators.__all__}


def _checksum(arrays):
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _json_safe(value):
    """Floats that JSON cannot hold (NaN, inf) become strings."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else repr(v)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _from_json(value):
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value


def _params_for_json(est):
    params = est.get_params(deep=False)
    if not isinstance(params.get("random_state"), (int, type(None))):
        # A RandomState instance cannot be written; the fitted weights do not need it.
        params["random_state"] = None
    if isinstance(params.get("hidden_size"), tuple):
        params["hidden_size"] = list(params["hidden_size"])
    return params


def save_model(estimator, path):
    """Write a fitted tsbptt estimator to ``path`` (a ``.npz`` file).

    Parameters
    ----------
    estimator : a fitted tsbptt estimator
    path : str or os.PathLike

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If its class labels cannot be stored without pickle (they must be
        numbers, booleans or strings).
    """
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(estimator)
    arrays = {f"param/{k}": v for k, v in estimator.network_.params.items()}
    for name in _FITTED_ARRAYS:
        if hasattr(estimator, name):
            a = np.asarray(getattr(estimator, name))
            if a.dtype.kind == "O":
                try:
                    a = a.astype(str) if all(isinstance(c, str) for c in a) else a
                except TypeError:
                    pass
            if a.dtype.kind not in "biufU":
                raise ValueError(f"{name} of dtype {a.dtype} cannot be saved without "
                                 "pickle; use numbers or strings as class labels")
            arrays[name] = a
    meta = {
        "format": "tsbptt-model", "format_version": FORMAT_VERSION,
        "tsbptt_version": __version__, "class": type(estimator).__name__,
        "params": _params_for_json(estimator),
        "fitted": {k: getattr(estimator, k) for k in _FITTED_SCALARS
                   if hasattr(estimator, k)},
        "feature_names_in_": (list(map(str, estimator.feature_names_in_))
                              if hasattr(estimator, "feature_names_in_") else None),
        "checksum": _checksum(arrays),
    }
    blob = json.dumps(_json_safe(meta), allow_nan=False).encode("utf-8")
    arrays["meta.json"] = np.frombuffer(blob, dtype=np.uint8)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, **arrays)
    os.replace(tmp.name, path)  # a reader never sees half a file


def _read(path):
    try:
        with np.load(os.fspath(path), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise ValueError(f"{os.fspath(path)!r} is not a readable tsbptt model file "
                         f"(damaged or truncated?): {exc}") from None
    if "meta.json" not in arrays:
        raise ValueError(f"{os.fspath(path)!r} is not a tsbptt model file: no meta.json")
    try:
        meta = json.loads(arrays.pop("meta.json").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{os.fspath(path)!r}: meta.json is damaged: {exc}") from None
    return arrays, meta


def _check_meta(meta, arrays, path):
    if meta.get("format") != "tsbptt-model":
        raise ValueError(f"{path!r} is not a tsbptt model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path!r} has model format {meta.get('format_version')!r}, "
                         f"this tsbptt ({__version__}) reads format {FORMAT_VERSION}; "
                         f"it was written by tsbptt {meta.get('tsbptt_version')!r}")
    if _checksum(arrays) != meta.get("checksum"):
        raise ValueError(f"{path!r} failed its checksum: the file was changed or "
                         "damaged after it was written")
    classes = _estimator_classes()
    if meta.get("class") not in classes:
        raise ValueError(f"{path!r} names an unknown estimator class "
                         f"{meta.get('class')!r}; expected one of {sorted(classes)}")
    return classes[meta["class"]]


def load_model(path):
    """Read a model written by :func:`save_model`; it predicts bitwise identically.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator
    """
    arrays, meta = _read(path)
    cls = _check_meta(meta, arrays, os.fspath(path))
    params = _from_json(meta["params"])
    if isinstance(params.get("hidden_size"), list):
        params["hidden_size"] = tuple(params["hidden_size"])
    est = cls(**params)
    for k, v in _from_json(meta["fitted"]).items():
        setattr(est, k, v)
    if meta.get("feature_names_in_") is not None:
        est.feature_names_in_ = np.asarray(meta["feature_names_in_"], dtype=object)
    for name in _FITTED_ARRAYS:
        if name in arrays:
            setattr(est, name, arrays[name])
    if hasattr(est, "classes_"):
        from sklearn.preprocessing import LabelEncoder
        est._encoder = LabelEncoder()
        est._encoder.classes_ = est.classes_
    n_outputs = len(est.classes_) if hasattr(est, "classes_") else est.n_outputs_
    est.network_ = est._new_network(n_outputs, 0)
    stored = {k[len("param/"):]: v for k, v in arrays.items() if k.startswith("param/")}
    live = est.network_.params
    if set(stored) != set(live):
        raise ValueError(f"{os.fspath(path)!r}: the weights do not match a "
                         f"{cls.__name__} with these parameters")
    for k, v in stored.items():
        if live[k].shape != v.shape or live[k].dtype != v.dtype:
            raise ValueError(f"{os.fspath(path)!r}: weight {k} has shape {v.shape} "
                             f"{v.dtype}, expected {live[k].shape} {live[k].dtype}")
        live[k][...] = v
    est._rng = np.random.RandomState(0)
    est._optimizer = est._new_optimizer()
    return est
