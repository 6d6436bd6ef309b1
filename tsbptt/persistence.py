"""Safe model files: weights and settings in a ``.npz`` archive, no pickle.

A model file is a NumPy ``.npz`` archive read with ``allow_pickle=False``, so loading
never runs code from the file. It holds:

- every learned array (the network's weights, the input and target scaling, the
  class labels) under its own name;
- ``meta.json``, a UTF-8 JSON document stored as a byte array: the format
  version, the tsbptt version that wrote it, the estimator class, its parameters,
  its fitted scalars and history, and a SHA-256 checksum of everything else (the
  rest of the JSON, and every array's name, dtype, shape and bytes).

:func:`load_model` reads only regular files, and in them only the members it
knows, stored uncompressed, without encryption or other zip features, each an
``.npy`` array of plain numbers or strings whose declared shape matches its bytes
(checked before anything is allocated, so memory stays within twice the file's
size); the metadata must be small JSON (bounded nesting and integer sizes). Then
it checks the format, the version, the checksum, the
class (one of tsbptt's own estimators, by name, from a fixed table), the
parameters (the estimator's own validation), every fitted value's type, and that
the weights have exactly the shapes those parameters give, before it allocates
anything, and that every weight and scaling value is finite; any problem is a
``ValueError`` that names the file and says what is wrong. The optimizer's
state is not saved: ``warm_start`` after loading starts a fresh optimizer.
"""
import hashlib
import json
import math
import os
import stat
import tempfile
import zipfile

import numpy as np

from ._version import __version__

__all__ = ["save_model", "load_model", "FORMAT_VERSION"]

#: Bump when the layout of the file changes incompatibly.
FORMAT_VERSION = 1

#: Fitted attributes kept in meta.json, with the check each value must pass.
_FITTED_SCALARS = {
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
_REQUIRED = ("n_features_in_", "input_kind_", "n_channels_", "dtype_", "n_outputs_")
#: Fitted arrays kept as arrays.
_FITTED_ARRAYS = ("input_mean_", "input_scale_", "target_mean_", "target_scale_",
                  "classes_")
#: Zip flag bits a model file may use: a data descriptor, UTF-8 names.
_ZIP_FLAGS = 0x08 | 0x800
#: Array kinds a model file may hold: booleans, integers, floats, strings.
_ARRAY_KINDS = "biufU"
#: Deepest nesting of meta.json (a valid file uses 5) and longest integer in it.
_MAX_DEPTH = 16
_MAX_DIGITS = 30
#: Most members a model file may declare (a valid one has a few per layer):
#: zipfile builds an object per central-directory entry before any member is read.
_MAX_MEMBERS = 4096


def _estimator_classes():
    from . import estimators
    return {name: getattr(estimators, name) for name in estimators.__all__}


def _checksum(arrays, meta):
    """SHA-256 of the metadata (but its checksum) and of every array."""
    h = hashlib.sha256()
    body = {k: v for k, v in meta.items() if k != "checksum"}
    h.update(json.dumps(body, sort_keys=True, allow_nan=False).encode("utf-8"))
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
    for name in ("hidden_size", "quantiles"):  # JSON has lists, not tuples
        if isinstance(params.get(name), tuple):
            params[name] = list(params[name])
    return params


def save_model(estimator, path):
    """Write a fitted tsbptt estimator to ``path`` (a ``.npz`` file).

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
        numbers, booleans or strings).
    """
    from sklearn.utils.validation import check_is_fitted
    if getattr(estimator, "_not_saved_because", None):  # before a file is written
        raise TypeError(f"estimator: a {type(estimator).__name__} cannot be saved: "
                        f"{estimator._not_saved_because}")
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
    }
    meta = _json_safe(meta)
    meta["checksum"] = _checksum(arrays, meta)
    blob = json.dumps(meta, allow_nan=False).encode("utf-8")
    arrays["meta.json"] = np.frombuffer(blob, dtype=np.uint8)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"path {path!r} is a folder; give a file name, e.g. "
                         f"{os.path.join(path, 'model.npz')!r}")
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".npz", delete=False) as tmp:
        try:
            np.savez(tmp, **arrays)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    try:
        os.replace(tmp.name, path)  # a reader never sees half a file
    except BaseException:
        os.unlink(tmp.name)
        raise


def _allowed_member(name):
    stem = name[:-4] if name.endswith(".npy") else None
    return stem is not None and (stem == "meta.json" or stem in _FITTED_ARRAYS
                                 or stem.startswith("param/"))


def _open_regular(path):
    """The file at ``path`` opened for reading, if it is a regular file: a device
    (``/dev/zero``), a pipe or a folder is refused before a byte is read. Opened
    without blocking (a pipe with no writer would block) and checked on the open
    descriptor, so the file cannot be swapped between the check and the read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{os.fspath(path)!r} is not a regular file (a folder, "
                             "device, pipe or socket); a model file is a .npz file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_header(fp, name):
    """Shape, order and dtype of an ``.npy`` member, from its header alone."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"member {name!r} has .npy format {version}")
    if dtype.kind not in _ARRAY_KINDS or dtype.hasobject or dtype.names is not None \
            or dtype.subdtype is not None:
        raise ValueError(f"member {name!r} has dtype {dtype}, which a model file never "
                         "holds (only numbers and strings)")
    return shape, fortran, dtype


def _read_member(zf, info):
    """One ``.npy`` member as an array, its declared size checked against its bytes
    before anything is allocated."""
    name = info.filename
    if info.flag_bits & ~_ZIP_FLAGS:
        raise ValueError(f"member {name!r} uses zip features a model file never has "
                         f"(flag bits {info.flag_bits:#x}: encryption or patched data)")
    if info.compress_type != zipfile.ZIP_STORED:
        raise ValueError(f"member {name!r} is compressed")
    with zf.open(info) as fp:
        shape, fortran, dtype = _read_header(fp, name)
        declared = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
        stored = info.file_size - fp.tell()
        if declared != stored:
            raise ValueError(f"member {name!r} declares shape {shape} of {dtype} "
                             f"({declared} bytes) but holds {stored} bytes")
        data = fp.read(declared)
        if len(data) != declared:
            raise ValueError(f"member {name!r} is truncated")
    order = "F" if fortran else "C"
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order=order)


def _declared_members(fp, size):
    """How many members the zip's end record declares (None where it has none: then
    zipfile says what is wrong), read before zipfile parses the directory."""
    tail_len = min(size, 22 + 0xFFFF + 20 + 56)  # end record, comment, zip64 records
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    fp.seek(0)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    z64 = tail.rfind(b"PK\x06\x06", 0, at)
    if count == 0xFFFF and z64 >= 0 and z64 + 40 <= len(tail):
        count = int.from_bytes(tail[z64 + 32:z64 + 40], "little")
    return count


def _read_arrays(fp, shown):
    size = os.fstat(fp.fileno()).st_size
    declared = _declared_members(fp, size)
    if declared is not None and declared > _MAX_MEMBERS:
        raise ValueError(f"the zip directory declares {declared} members; a model file "
                         f"has at most {_MAX_MEMBERS}")
    with zipfile.ZipFile(fp) as zf:
        infos = zf.infolist()
        names = [info.filename for info in infos]
        for info in infos:
            if not _allowed_member(info.filename):
                raise ValueError(f"unexpected member {info.filename!r}")
            if info.file_size > size:
                raise ValueError(f"member {info.filename!r} is larger than the file")
        if len(set(names)) != len(names):
            raise ValueError("a member name appears twice")
        return {info.filename[:-4]: _read_member(zf, info) for info in infos}


def _small_int(text):
    if len(text.lstrip("-")) > _MAX_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits")
    return int(text)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is beyond the float64 range")
    return value


def _refuse_constant(text):
    raise ValueError(f"{text} is not JSON a model file holds")


def _check_depth(value, shown):
    """Refuse nesting deeper than _MAX_DEPTH, without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ValueError(f"{shown!r}: meta.json is nested more than {_MAX_DEPTH} "
                             "levels deep; a model file never is")
        children = item.values() if isinstance(item, dict) else (
            item if isinstance(item, list) else ())
        stack.extend((child, depth + 1) for child in children)


def _parse_meta(blob, shown):
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"), parse_int=_small_int,
                          parse_float=_finite_float, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{shown!r}: meta.json is damaged: {exc}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{shown!r}: meta.json is not a JSON object")
    _check_depth(meta, shown)
    return meta


def _read(path):
    """The arrays and metadata of a model file, reading only known, stored members."""
    shown = os.fspath(path)
    try:
        with _open_regular(shown) as fp:
            arrays = _read_arrays(fp, shown)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError,
            RuntimeError, NotImplementedError) as exc:
        raise ValueError(f"{shown!r} is not a readable tsbptt model file "
                         f"(damaged or truncated?): {exc}") from None
    if "meta.json" not in arrays:
        raise ValueError(f"{shown!r} is not a tsbptt model file: no meta.json")
    blob = arrays.pop("meta.json")
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ValueError(f"{shown!r}: meta.json is not a byte array")
    return arrays, _parse_meta(blob, shown)


def _check_meta(meta, arrays, path):
    if meta.get("format") != "tsbptt-model":
        raise ValueError(f"{path!r} is not a tsbptt model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path!r} has model format {meta.get('format_version')!r}, "
                         f"this tsbptt ({__version__}) reads format {FORMAT_VERSION}; "
                         f"it was written by tsbptt {meta.get('tsbptt_version')!r}")
    try:
        ok = _checksum(arrays, meta) == meta.get("checksum")
    except (TypeError, ValueError, RecursionError):
        ok = False
    if not ok:
        raise ValueError(f"{path!r} failed its checksum: the file was changed or "
                         "damaged after it was written")
    classes = _estimator_classes()
    if meta.get("class") not in classes:
        raise ValueError(f"{path!r} names an unknown estimator class "
                         f"{meta.get('class')!r}; expected one of {sorted(classes)}")
    fitted = meta.get("fitted")
    if not isinstance(fitted, dict) or not isinstance(meta.get("params"), dict):
        raise ValueError(f"{path!r}: meta.json lacks its params or fitted values")
    for key in _REQUIRED:
        if key not in fitted:
            raise ValueError(f"{path!r}: meta.json lacks the fitted value {key}")
    for key, value in fitted.items():
        if key not in _FITTED_SCALARS or not _FITTED_SCALARS[key](_from_json(value)):
            raise ValueError(f"{path!r}: bad fitted value {key}={value!r}")
    return classes[meta["class"]]


def _build(cls, meta, path):
    """The estimator with its parameters and fitted values; nothing allocated yet."""
    params = _from_json(meta["params"])
    for name in ("hidden_size", "quantiles"):
        if isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    try:
        est = cls(**params)
        est._validate_params()
        est._check_hidden_size()
        if params.get("loss") == "quantile":
            est._checked_quantiles()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path!r}: the saved parameters are not valid: {exc}") from None
    for k, v in _from_json(meta["fitted"]).items():
        setattr(est, k, v)
    names = meta.get("feature_names_in_")
    if names is not None:
        if not (isinstance(names, list) and len(names) == est.n_features_in_
                and all(isinstance(n, str) for n in names)):
            raise ValueError(f"{path!r}: bad feature_names_in_")
        est.feature_names_in_ = np.asarray(names, dtype=object)
    return est


def _check_arrays(est, arrays, path):
    """Fitted arrays and weights of the shapes and dtypes the settings give."""
    from .engine.network import param_shapes
    F = est._network_input_size()
    if est.input_kind_ == "2d" and est.n_features_in_ % est.n_channels_:
        raise ValueError(f"{path!r}: n_features_in_ and n_channels_ do not agree")
    expected = {"input_mean_": (F,), "input_scale_": (F,)}
    if "target_mean_" in arrays or "classes_" not in arrays:
        expected.update(target_mean_=(est.n_outputs_,), target_scale_=(est.n_outputs_,))
    n_out = len(arrays["classes_"]) if "classes_" in arrays else est._network_outputs()
    shapes = param_shapes(est._cell, F, est.hidden_size, n_out, num_layers=est.num_layers,
                          bidirectional=est.bidirectional)
    expected.update({f"param/{k}": v for k, v in shapes.items()})
    got = {k: v.shape for k, v in arrays.items() if k != "classes_"}
    if got != expected:
        raise ValueError(f"{path!r}: the arrays do not match a {type(est).__name__} with "
                         f"these settings (expected {expected}, found {got})")
    for k, v in arrays.items():
        if k.startswith("param/") and v.dtype != np.dtype(est.dtype_):
            raise ValueError(f"{path!r}: weight {k} is {v.dtype}, expected {est.dtype_}")
        if k != "classes_" and not k.startswith("param/") and v.dtype.kind != "f":
            raise ValueError(f"{path!r}: {k} is {v.dtype}, expected floating point")
        if k != "classes_" and not np.isfinite(v).all():
            raise ValueError(f"{path!r}: {k} holds NaN or infinite values; a fitted "
                             "model never does")
        if k.endswith("scale_") and not (v > 0).all():
            raise ValueError(f"{path!r}: {k} holds a scale <= 0")
    if "classes_" in arrays and arrays["classes_"].ndim != 1:
        raise ValueError(f"{path!r}: classes_ is not one-dimensional")


def load_model(path):
    """Read a model written by :func:`save_model`; it predicts bitwise identically.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    estimator
    """
    shown = os.fspath(path)
    arrays, meta = _read(path)
    cls = _check_meta(meta, arrays, shown)
    est = _build(cls, meta, shown)
    _check_arrays(est, arrays, shown)
    for name in _FITTED_ARRAYS:
        if name in arrays:
            setattr(est, name, arrays[name])
    if hasattr(est, "classes_"):
        from sklearn.preprocessing import LabelEncoder
        est._encoder = LabelEncoder()
        est._encoder.classes_ = est.classes_
    n_outputs = len(est.classes_) if hasattr(est, "classes_") else est._network_outputs()
    est.network_ = est._new_network(n_outputs, 0)
    for k, v in arrays.items():
        if k.startswith("param/"):
            est.network_.params[k[len("param/"):]][...] = v
    est._rng = np.random.RandomState(0)
    est._optimizer = est._new_optimizer()
    return est
