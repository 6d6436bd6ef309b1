"""Whole-forecaster model files: ``Forecaster.save`` and ``load_forecaster``.

The file is a NumPy ``.npz`` archive read with ``allow_pickle=False``, like the
estimators' model files (:mod:`tsbptt.persistence`): ``meta.json`` (the format,
the versions, the Forecaster's parameters and fitted settings, and a SHA-256
checksum of everything else) and one array per fitted quantity: the scaling of
every series, the conformal calibration scores, the static features, the last
``lags`` steps of every series (where forecasts start), the stateful strategy's
hidden states, and the fitted model. A tsbptt network is stored as its own model
file (written by :func:`tsbptt.save_model`, embedded as bytes, and read back by
:func:`tsbptt.load_model` with all of its checks); a linear scikit-learn model
(from a fixed table) as its coefficients; the window model around a network as
its settings, its ridge part and the network. A model's parameters are kept in
meta.json (a NumPy array as its values; a ``RandomState`` as ``random_state`` as
None, with a warning), the series' time zone by its IANA name or fixed offset.

The file itself is written and read by :mod:`tsbptt.persistence` under the format
name ``'tsbptt-forecaster'``, with every check an estimator's model file gets: only
a regular file, only the members a forecaster file has, each stored uncompressed
as a plain ``.npy`` array of numbers or strings whose declared size matches its
bytes, small JSON metadata, the format version and the checksum. The forecaster is
then rebuilt through its own parameter validation, every value's type checked and
every stored float finite; any problem is a ``ValueError`` naming the file.
"""
import datetime
import json
import os
import tempfile
import warnings
import zoneinfo

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from sklearn import linear_model
from sklearn.base import clone

from .. import estimators as _estimators
from ..estimators import load_model, save_model
from ..persistence import (read_model_file, saved_random_state, warn_if_random_state_dropped,
                           write_model_file)
from . import transforms
from ._panel import Entry, _zone_name
from ._sequence_diff import DifferencedSequenceModel
from ._window_model import WindowModel
from .baselines import SeasonalNaive

__all__ = ["read_forecaster", "save_forecaster"]

FORMAT = "tsbptt-forecaster"
#: The layout's version: 5 for forecasts clipped to ``bounds`` or a SeasonalNaive
#: with drift, 4 for intervals calibrated per series, 3 for a stateful model of the
#: changes (``transform='diff'``), 2 where a WindowModel keeps a member
#: that is not one of tsbptt's estimators (a linear model or SeasonalNaive, by its
#: parts), which readers of version 1 cannot rebuild; 1 for every other file, which
#: they read as before (:func:`_version`).
FORMAT_VERSION = 5
READS_VERSIONS = tuple(range(1, FORMAT_VERSION + 1))
#: scikit-learn linear models stored as their coefficients.
_LINEAR = ("LinearRegression", "Ridge", "RidgeCV", "Lasso", "ElasticNet")
_MEMBER_PREFIXES = ("fit/", "tail/", "state/", "model/")
#: Fitted settings kept in meta.json.
_SETTINGS = ("layout_", "season_", "lags_", "scaling_", "name_", "exog_names_",
             "channels_", "feature_names_", "long_frame_", "_past", "_future",
             "_calendar", "_one_hot", "_index_names")
_ARRAYS = ("target_mean_", "target_scale_", "exog_mean_", "exog_scale_", "residuals_",
           "static_values_")


def _scalar(v):
    return v is None or isinstance(v, (str, int, float, bool))


def _label(v):
    """Whether ``v`` can be a column or series name read back from JSON: a scalar, or
    a list for a tuple (a column of a frame with MultiIndex columns)."""
    return _scalar(v) or (isinstance(v, list) and all(_scalar(x) for x in v))


def _names(v):
    """Whether ``v`` is a list of column names (pandas allows integers, ...)."""
    return isinstance(v, list) and all(_label(x) for x in v)


def _as_label(v):
    """A name as pandas had it: JSON writes a tuple as a list, which is no label."""
    return tuple(v) if isinstance(v, list) else v


def _as_setting(name, v):
    """A checked setting from JSON, its names as pandas had them."""
    if name == "name_":
        return _as_label(v)
    if _SETTING_CHECKS[name] is _names or name == "_index_names":
        return [_as_label(x) for x in v]
    return v


def _count(v):
    """Whether ``v`` is an int >= 1 (not a bool)."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


#: What each of _SETTINGS may hold, as read back from JSON: a file that holds
#: anything else (or another name) is refused, never set on the Forecaster.
_SETTING_CHECKS = {
    "layout_": lambda v: v in ("single", "dict", "long"),
    "season_": _count, "lags_": _count,
    "scaling_": lambda v: v in (None, "window", "global"),
    "name_": _label,
    "exog_names_": _names, "channels_": _names, "feature_names_": _names,
    "_past": _names, "_future": _names, "_calendar": _names,
    "long_frame_": lambda v: isinstance(v, bool), "_one_hot": lambda v: isinstance(v, bool),
    "_index_names": lambda v: _names(v) and len(v) == 2,
}


def _estimator_class(name):
    table = {n: getattr(_estimators, n) for n in _estimators.__all__
             if isinstance(getattr(_estimators, n), type)}
    table.update({n: getattr(linear_model, n) for n in _LINEAR})
    table["SeasonalNaive"] = SeasonalNaive
    if name not in table:
        raise ValueError(f"unknown estimator class {name!r}")
    return table[name]


def _json_params(est):
    """``est``'s parameters as JSON values, and the dtype of each that is a NumPy
    array (kept as nested lists, given back as an array of that dtype); a parameter
    JSON cannot hold is refused, named."""
    params = est.get_params(deep=False)
    if "random_state" in params:
        params["random_state"] = saved_random_state(params["random_state"])
    out, arrays = {}, {}
    for name, value in params.items():
        if isinstance(value, np.ndarray):
            arrays[name] = _array_dtype(value, name, est)
            value = value.tolist()
        elif isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value, allow_nan=False, default=_json_default)
        except (TypeError, ValueError):
            raise ValueError(f"{type(est).__name__}'s parameter {name}={value!r} cannot be "
                             "written to a forecaster file: only numbers, strings, None, "
                             "lists of them and numeric NumPy arrays can") from None
        out[name] = value
    return out, arrays


def _array_dtype(value, name, est):
    """The dtype name of an array parameter a file can keep: real numbers or
    booleans, finite, of at most 2 dimensions; else ValueError naming it."""
    if value.dtype.kind not in "biuf" or value.ndim > 2 or (
            value.dtype.kind == "f" and not np.isfinite(value).all()):
        raise ValueError(f"{type(est).__name__}'s parameter {name} (an array of "
                         f"{value.dtype}, shape {value.shape}) cannot be written to a "
                         "forecaster file: only finite numeric arrays of at most 2 "
                         "dimensions can")
    return value.dtype.name


def _spec(est):
    """A model template as (class name, JSON parameters): only the classes of
    :func:`_estimator_class` themselves, which a file names and loads back (a
    subclass of one, even of the same name, would come back as the library's)."""
    cls, name = type(est), type(est).__name__
    try:
        known = _estimator_class(name)
    except ValueError:
        known = None
    if known is None:
        raise ValueError(f"a Forecaster around {name} cannot be saved without pickle: "
                         f"use a tsbptt estimator, SeasonalNaive or one of {_LINEAR}")
    if known is not cls:
        raise ValueError(
            f"a Forecaster around {cls.__module__}.{cls.__qualname__} cannot be saved "
            f"without pickle: a file names the model's class, and would load this one "
            f"back as {known.__module__}.{known.__qualname__}; use a tsbptt estimator, "
            f"SeasonalNaive or one of {_LINEAR} itself, not a class of the same name")
    params, arrays = _json_params(est)
    if name == "SeasonalNaive" and not params.get("drift", False):
        params.pop("drift", None)  # a file older readers read as before
    return {"class": name, "params": params, **({"arrays": arrays} if arrays else {})}


def _drifts(value):
    """Whether the metadata ``value`` holds a SeasonalNaive with ``drift`` (which
    readers of format 4 and before would not take)."""
    if isinstance(value, dict):
        if value.get("class") == "SeasonalNaive" and isinstance(value.get("params"), dict) \
                and value["params"].get("drift"):
            return True
        return any(_drifts(v) for v in value.values())
    if isinstance(value, list):
        return any(_drifts(v) for v in value)
    return False


def _from_spec(spec):
    arrays = spec.get("arrays", {})
    if not isinstance(arrays, dict) or not set(arrays) <= set(spec["params"]):
        raise ValueError(f"bad array parameters {arrays!r}")
    params = {k: _array_param(k, v, arrays[k]) if k in arrays
              else tuple(v) if isinstance(v, list) else v
              for k, v in spec["params"].items()}
    return _estimator_class(spec["class"])(**params)


def _array_param(name, value, dtype):
    """The array parameter :func:`_json_params` wrote as lists, checked as at save."""
    if not isinstance(dtype, str) or np.dtype(dtype).kind not in "biuf":
        raise ValueError(f"bad dtype {dtype!r} of parameter {name}")
    array = np.asarray(value, dtype=dtype)
    if array.ndim > 2 or not np.isfinite(array).all():
        raise ValueError(f"bad array parameter {name}: not finite numbers in at most 2 "
                         "dimensions")
    return array


def _embed(network):
    """A fitted tsbptt estimator's model file, as bytes in a uint8 array."""
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        # a dropped random_state: save_forecaster says so once, of the template
        warnings.filterwarnings("ignore", ".*random_state, a .* is saved as None")
        path = os.path.join(folder, "network.npz")
        save_model(network, path)
        with open(path, "rb") as fh:
            return np.frombuffer(fh.read(), dtype=np.uint8)


def _unembed(blob):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "network.npz")
        with open(path, "wb") as fh:
            fh.write(np.ascontiguousarray(blob, dtype=np.uint8).tobytes())
        try:
            return load_model(path)
        except (TypeError, ValueError) as exc:  # its messages name the temporary file
            raise ValueError("the embedded network model: "
                             + str(exc).replace(repr(path), "").lstrip(": ")) from None


def _linear_arrays(model, prefix):
    out = {f"{prefix}coef_": np.asarray(model.coef_, dtype=np.float64),
           f"{prefix}intercept_": np.asarray(model.intercept_, dtype=np.float64)}
    if hasattr(model, "feature_names_in_"):
        out[f"{prefix}feature_names_in_"] = np.asarray(model.feature_names_in_, dtype=str)
    return out


def _set_linear(model, arrays, prefix, fitted):
    model.coef_ = arrays[f"{prefix}coef_"]
    intercept = arrays[f"{prefix}intercept_"]
    model.intercept_ = float(intercept) if intercept.ndim == 0 else intercept
    model.n_features_in_ = int(model.coef_.shape[-1])
    if f"{prefix}feature_names_in_" in arrays:
        model.feature_names_in_ = arrays[f"{prefix}feature_names_in_"].astype(object)
    for k, v in fitted.items():
        setattr(model, k, v)
    return model


def _alpha(ridge):
    return None if ridge is None else float(getattr(ridge, "alpha_", ridge.alpha))


def _model_parts(model):
    """The fitted model as (meta, arrays)."""
    if isinstance(model, DifferencedSequenceModel):
        meta, arrays = _model_parts(model.estimator_)
        return {"kind": "differenced", "model": meta,
                "change_mean": model.change_mean_, "change_scale": model.change_scale_
                }, arrays
    if isinstance(model, WindowModel):
        params = model.get_params(deep=False)
        params.pop("estimator")
        meta = {"kind": "window", "params": params, "single": model._single,
                "n_outputs": model._n_outputs, "use_network": bool(model.use_network_),
                "validation_mse": model.validation_mse_, "max_iter": model.max_iter_,
                "n_members": len(model.estimators_),
                "linear_alpha": _alpha(model.linear_),
                "linear_kind": model.linear_kind_,
                "linear_lags_alpha": _alpha(model.linear_lags_),
                "network_weight": float(model.network_weight_),
                "level_range": getattr(model, "level_range_", None),
                "scale_range": getattr(model, "scale_range_", None)}
        # each seed's member: a tsbptt model's own file, or (a linear model or
        # SeasonalNaive around differenced or window-scaled data) its parts
        arrays, meta["members"] = {}, []
        for i, member in enumerate(model.estimators_):
            member_meta, member_arrays = _member_parts(member, _member_key(i))
            meta["members"].append(member_meta)
            arrays.update(member_arrays)
        if model.linear_ is not None:
            arrays.update(_linear_arrays(model.linear_, "model/linear/"))
        if model.linear_lags_ is not None:
            arrays.update(_linear_arrays(model.linear_lags_, "model/linear_lags/"))
        return meta, arrays
    if _is_tsbptt(model):
        return {"kind": "tsbptt"}, {"model/network": _embed(model)}
    spec = _spec(model)
    if isinstance(model, SeasonalNaive):
        return {"kind": "naive", **spec, "n_outputs": int(model.n_outputs_),
                "lags": int(model.lags_), "single": bool(model._single),
                "n_features_in": int(model.n_features_in_)}, (
            {} if not hasattr(model, "feature_names_in_") else
            {"model/feature_names_in_": np.asarray(model.feature_names_in_, dtype=str)})
    return {"kind": "linear", **spec}, _linear_arrays(model, "model/")


def _is_tsbptt(model):
    """Whether ``model`` is one of tsbptt's estimators (an ESN too): saved whole."""
    return hasattr(model, "network_") or callable(getattr(model, "_fitted_state", None))


def _member_key(i):
    """Where a WindowModel's member ``i`` is kept ("model/network" for the first:
    the name of files written before other members could be saved)."""
    return "model/network" if i == 0 else f"model/network{i}"


def _member_parts(member, key):
    """One WindowModel member as (meta, arrays): (None, its embedded file) for a
    tsbptt model, else :func:`_model_parts` with its arrays under ``key/``."""
    if _is_tsbptt(member):
        return None, {key: _embed(member)}
    meta, arrays = _model_parts(member)
    return meta, {f"{key}/{name[len('model/'):]}": a for name, a in arrays.items()}


def _rebuild_member(meta, arrays, key):
    """The WindowModel member :func:`_member_parts` wrote under ``key``."""
    if meta is None:
        return _unembed(arrays[key])
    prefix = f"{key}/"
    return _rebuild_model(meta, {f"model/{name[len(prefix):]}": a
                                 for name, a in arrays.items() if name.startswith(prefix)})


def _window_members(meta, arrays):
    """A window model's members as :func:`_member_parts` described them (None: an
    embedded tsbptt model; files before ``members`` hold only those), as many as
    ``n_members`` says and the file holds: a count is never trusted alone."""
    n_members, members = meta.get("n_members", 1), meta.get("members") or []
    if not isinstance(members, list):
        raise ValueError(f"bad members {members!r}")
    held = len(members)
    if not members:
        while _member_key(held) in arrays:
            held += 1
    if not _count(n_members) or n_members != held:
        raise ValueError(f"bad n_members {n_members!r}: the file holds {held} "
                         "member(s)")
    return members or [None] * held


def _rebuild_model(meta, arrays):
    kind = meta["kind"]
    if kind == "tsbptt":
        return _unembed(arrays["model/network"])
    if kind == "differenced":
        mean, scale = meta["change_mean"], meta["change_scale"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   and np.isfinite(v) for v in (mean, scale)) or not scale > 0:
            raise ValueError(f"bad change_mean {mean!r} or change_scale {scale!r}: "
                             "finite numbers, the scale positive")
        inner = _rebuild_model(meta["model"], arrays)
        model = DifferencedSequenceModel(clone(inner))
        model.estimator_ = inner
        model.change_mean_, model.change_scale_ = float(mean), float(scale)
        return model
    if kind == "window":
        members = _window_members(meta, arrays)
        model_members = [_rebuild_member(m, arrays, _member_key(i))
                         for i, m in enumerate(members)]
        model = WindowModel(clone(model_members[0]), **meta["params"])
        model.estimator_, model._single = model_members[0], bool(meta["single"])
        model.estimators_ = model_members
        model.max_iter_ = meta.get("max_iter")
        model._n_outputs = int(meta["n_outputs"])
        model.use_network_ = bool(meta["use_network"])
        model.validation_mse_ = meta["validation_mse"]
        model.network_weight_ = float(meta.get("network_weight", model.use_network_))
        model.linear_kind_ = meta.get("linear_kind", "window" if meta["linear_alpha"]
                                      is not None else None)  # files before the choice
        model.linear_ = model.linear_lags_ = None
        if meta["linear_alpha"] is not None:
            model.linear_ = _set_linear(linear_model.Ridge(float(meta["linear_alpha"])),
                                        arrays, "model/linear/", {})
        for name in ("level_range", "scale_range"):  # files before scale_range: none
            if meta.get(name) is not None:
                bounds = tuple(float(v) for v in meta[name])
                if len(bounds) != 2 or not np.isfinite(bounds).all() or bounds[0] > bounds[1]:
                    raise ValueError(f"bad {name} {meta[name]!r}")
                setattr(model, name + "_", bounds)
        if meta.get("linear_lags_alpha") is not None:
            model.linear_lags_ = _set_linear(
                linear_model.Ridge(float(meta["linear_lags_alpha"])), arrays,
                "model/linear_lags/", {})
        return model
    model = _from_spec(meta)
    if kind == "naive":
        model.n_outputs_, model.lags_ = int(meta["n_outputs"]), int(meta["lags"])
        model._single = bool(meta["single"])
        model.n_features_in_ = int(meta["n_features_in"])
        if "model/feature_names_in_" in arrays:
            model.feature_names_in_ = arrays["model/feature_names_in_"].astype(object)
        return model
    return _set_linear(model, arrays, "model/", {})


def _time_meta(index):
    if isinstance(index, pd.PeriodIndex):
        return {"kind": "period", "freq": index.freqstr}
    if isinstance(index, pd.DatetimeIndex):
        return {"kind": "datetime", "unit": index.unit,
                "tz": None if index.tz is None else _zone_meta(index)}
    return {"kind": "int"}  # and the codes' dtype, from _tails


def _zone_meta(index):
    """The name a file keeps of ``index``'s time zone, which :func:`_labels` reads
    back as the same zone: its IANA name (whichever library made the zone: a
    dateutil zone prints as its file's path), 'UTC', or a fixed offset
    ('UTC+01:00'). Any other zone (the machine's local one, an offset pandas does
    not read back) is refused here: the file would not load, or not as this zone."""
    tz, name = index.tz, _zone_name(index.tz)
    try:
        back = index.tz_convert(name)  # as _labels reads it
        # a fixed offset stays one, of its size; a named zone is read back by pandas'
        # own library (zoneinfo; pytz before pandas 3), its name and wall times checked
        if isinstance(tz, datetime.timezone):
            portable = isinstance(back.tz, datetime.timezone) and \
                back.tz.utcoffset(None) == tz.utcoffset(None)
        else:  # an IANA name (not dateutil's 'tzlocal()', the loading machine's zone)
            portable = name == "UTC" or zoneinfo.ZoneInfo(name).key == name
        same = portable and _zone_name(back.tz) == name and \
            back.tz_localize(None).equals(index.tz_localize(None))
    except (ValueError, TypeError, KeyError, OSError):  # no zone of that name
        same = False
    if not same:
        raise ValueError(f"the series' time zone {tz!r} cannot be written to a forecaster "
                         "file: only a zone with an IANA name (e.g. 'Europe/Berlin', from "
                         "zoneinfo, dateutil or pytz), UTC or a fixed offset "
                         "(datetime.timezone) can; convert the data with .tz_convert() "
                         "to one and refit")
    return name


def _labels(codes, meta):
    if meta["kind"] == "period":
        return pd.PeriodIndex.from_ordinals(codes, freq=meta["freq"])
    if meta["kind"] == "datetime":
        index = pd.DatetimeIndex(codes.view(f"M8[{meta['unit']}]"))
        return index if meta["tz"] is None else index.tz_localize("UTC").tz_convert(meta["tz"])
    dtype = meta.get("dtype", "int64")  # files before uint64 labels: int64
    if dtype not in ("int64", "uint64"):
        raise ValueError(f"bad time labels' dtype {dtype!r}")
    return pd.Index(codes.astype(dtype))


def _tails(f):
    """The last ``lags_`` steps of every series: one values array with offsets."""
    parts = [f.tails_[k] for k in f.series_]
    keep = [min(len(e), f.lags_) for e in parts]
    ys = [e.y.iloc[-n:] for e, n in zip(parts, keep)]
    codes = [_codes(y.index) for y in ys]
    if len({c.dtype for c in codes}) > 1:  # int64 and uint64 labels: one dtype for all
        codes = _common_integer_codes(codes)
    arrays = {"tail/offsets": np.cumsum([0] + keep),
              "tail/values": np.concatenate([y.to_numpy(np.float64) for y in ys]),
              "tail/times": np.concatenate(codes)}
    if f.exog_names_:
        arrays["tail/X"] = np.concatenate([e.X.iloc[-n:][f.exog_names_].to_numpy(np.float64)
                                           for e, n in zip(parts, keep)])
    meta = _time_meta(ys[0].index)
    if meta["kind"] == "int":  # uint64 labels stay uint64: as int64 they wrapped around
        meta["dtype"] = arrays["tail/times"].dtype.name
    return arrays, meta, ys[0].index.name


def _common_integer_codes(codes):
    """Series' int64 and uint64 labels in one dtype (np.concatenate made float64 of
    them, 30 steps off near 2**60): int64 where every label fits, else uint64 where
    none is negative; else refused."""
    top = max(int(c.max()) for c in codes if len(c))
    low = min(int(c.min()) for c in codes if len(c))
    if top <= np.iinfo(np.int64).max:
        return [c.astype(np.int64) for c in codes]
    if low >= 0:
        return [c.astype(np.uint64) for c in codes]
    raise ValueError("the series' integer labels span negative numbers and numbers past "
                     "int64's largest value: a forecaster file holds one integer type")


def _codes(index):
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return index.asi8
    return np.asarray(index, dtype=np.uint64 if index.dtype.kind == "u" else np.int64)


def _key(k):
    if k is None or isinstance(k, (str, bool)):
        return k
    if isinstance(k, (int, np.integer)):
        return int(k)
    raise ValueError(f"series key {k!r} cannot be saved: save a forecaster whose series "
                     "ids are strings or integers")


def _step(step):
    if isinstance(step, (int, np.integer)):
        return {"int": int(step)}
    return _offset_meta(step, "the series' step")


#: The fields of a plain pd.DateOffset a file keeps (whole calendar units)
_DATE_OFFSET_FIELDS = {"n", "years", "months", "weeks", "days", "hours", "minutes",
                       "seconds", "year", "month", "day", "weekday", "hour", "minute",
                       "second"}


def _offset_meta(offset, what):
    """A pandas offset as JSON: its frequency string, and for a custom business
    offset its calendar (``weekmask``, ``holidays``; ``start``/``end`` for hours),
    which the string alone ('C') drops: a loaded forecaster fitted on business days
    with holidays forecast on the holidays. An offset that does not come back equal
    is refused, naming ``what``."""
    if type(offset) is pd.DateOffset:  # months=1 (monthly on the 15th): no string
        out = {"offset": "DateOffset", "fields": {"n": offset.n, **offset.kwds}}
        try:
            same = _offset_from_meta(out) == offset
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValueError(f"{what} {offset!r} cannot be written to a forecaster file: "
                             "a DateOffset of whole calendar fields only")
        return out
    out = {"offset": offset.freqstr}
    try:  # every failure below is one answer: this offset cannot be written
        if to_offset(offset.freqstr) != offset:
            custom = {"n": int(offset.n)}
            if getattr(offset, "weekmask", None) is not None:
                custom["weekmask"] = offset.weekmask
                custom["holidays"] = [str(np.datetime64(h, "D")) for h in offset.holidays]
            for name in ("start", "end"):  # business hours' opening times
                if getattr(offset, name, None) is not None:
                    custom[name] = [t.strftime("%H:%M") for t in getattr(offset, name)]
            out["custom"] = custom
            same = _offset_from_meta(out) == offset
        else:
            same = True
    except (TypeError, ValueError, AttributeError):
        same = False
    if not same:
        raise ValueError(f"{what} {offset!r} cannot be written to a forecaster file: "
                         "only frequencies pandas writes as a string (e.g. 'MS', "
                         "'W-WED'), custom business calendars (weekmask, holidays) and "
                         "business hours can")
    return out


def _offset_from_meta(meta):
    """The offset :func:`_offset_meta` wrote."""
    if meta["offset"] == "DateOffset":
        fields = meta["fields"]
        if not (isinstance(fields, dict) and set(fields) <= _DATE_OFFSET_FIELDS
                and all(type(v) is int for v in fields.values())):
            raise ValueError(f"bad DateOffset {fields!r}")
        return pd.DateOffset(**fields)
    offset = to_offset(meta["offset"])
    if "custom" in meta:
        custom = dict(meta["custom"])
        offset = type(offset)(n=custom.pop("n"), **custom)
    return offset


def save_forecaster(f, path):
    """Write a fitted Forecaster to ``path`` (see :meth:`Forecaster.save`).

    The model's parameters are kept (a NumPy array parameter as its values), but a
    ``random_state`` that is a ``np.random.RandomState`` (or any other non-integer)
    is kept as None: the loaded forecaster forecasts the same, but refitting it does
    not repeat the original's fits. Pass an integer ``random_state`` to keep it.

    Raises
    ------
    ValueError
        If the model, a parameter of it, a series id or the index's time zone
        cannot be written to a forecaster file; nothing is written then.

    Warns
    -----
    UserWarning
        If the model's ``random_state`` is kept as None (see above).
    """
    model_meta, arrays = _model_parts(f.estimator_)
    tails, time_meta, time_name = _tails(f)
    arrays.update(tails)
    for name in _ARRAYS:
        value = getattr(f, name)
        if value is not None:
            arrays[f"fit/{name}"] = np.asarray(value, dtype=np.float64)
    if f.residual_series_ is not None:
        arrays["fit/residual_series_"] = np.asarray(f.residual_series_, dtype=np.int64)
    if f.static_ is not None:
        arrays["fit/static_"] = f.static_.to_numpy(np.float64)
    if f.strategy == "stateful":
        for i, layer in enumerate(f.states_):
            for j, a in enumerate(layer):
                arrays[f"state/{i}/{j}"] = np.asarray(a)
    params = f.get_params(deep=False)
    if not params["interval_per_series"]:  # a file older readers read as before
        del params["interval_per_series"]
    if params["bounds"] is None:  # likewise
        del params["bounds"]
    params["estimator"] = _spec(f.estimator)
    if isinstance(params["freq"], pd.offsets.BaseOffset):
        params["freq"] = _offset_meta(params["freq"], "freq")
    meta = {
        "params": params, "settings": {k: getattr(f, k) for k in _SETTINGS},
        # JSON has lists only: the parameters given as tuples come back as tuples
        "tuple_params": sorted(k for k, v in params.items() if isinstance(v, tuple)),
        "series": [_key(k) for k in f.series_], "step": _step(f.step_),
        "target_lambda": f.target_lambda_, "n_filled": [f.n_filled_[k] for k in f.series_],
        "time": time_meta, "time_name": time_name, "model": model_meta,
        # y's own name, which forecasts carry (name_ says 'y' for an unnamed y)
        "y_name": f.tails_[f.series_[0]].y.name,
        "static_columns": None if f.static_ is None else list(map(str, f.static_.columns)),
        "n_states": None if f.strategy != "stateful" else [len(s) for s in f.states_],
    }
    # plain JSON types (NumPy scalars, tuples), as read back: the checksum covers them
    try:
        meta = json.loads(json.dumps(meta, allow_nan=False, default=_json_default))
    except ValueError:  # a NaN name: JSON has no NaN
        raise ValueError("a name of the series, its index or its columns is NaN or "
                         "infinite, which a forecaster file cannot hold: rename it") from None
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"path {path!r} is a folder; give a file name")
    warn_if_random_state_dropped(f.estimator)
    write_model_file(path, arrays, meta, format=FORMAT, format_version=_version(meta))


def _version(meta):
    """The oldest format version that holds this file: 5 for ``bounds`` (an older
    reader would not clip) or a SeasonalNaive with drift, 4 for intervals
    calibrated per series, 3 for a stateful model of the changes, 2 for a window
    model's linear members, a custom business calendar or an offset object as
    ``freq``,
    which readers of older formats would not rebuild (or, for the calendar, would
    drop silently)."""
    if meta["params"].get("bounds") is not None or _drifts(meta):
        return 5
    if meta["params"].get("interval_per_series"):
        return 4
    if meta["model"]["kind"] == "differenced":
        return 3
    members = meta["model"].get("members") or ()
    custom = "custom" in meta["step"] or isinstance(meta["params"]["freq"], dict)
    return 2 if custom or any(m is not None for m in members) else 1


def _json_default(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} cannot be written to a forecaster file")


def _known(name):
    return name.startswith(_MEMBER_PREFIXES)


def _read(path):
    """A forecaster file's metadata and arrays, after every check of
    :func:`tsbptt.persistence.read_model_file`."""
    arrays, meta = read_model_file(path, _known, format=FORMAT,
                                   format_version=READS_VERSIONS,
                                   what="forecaster file")
    return meta, arrays


def read_forecaster(cls, path):
    """The Forecaster (of class ``cls``) in the file at ``path``; see
    :func:`tsbptt.load_forecaster`."""
    meta, arrays = _read(path)
    try:
        return _rebuild(cls, meta, arrays)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError,
            OverflowError) as exc:  # what the file's values make fail, named
        raise ValueError(f"{os.fspath(path)!r}: bad forecaster file "
                         f"({type(exc).__name__}: {exc})") from None


def _rebuild(cls, meta, arrays):
    for name, a in arrays.items():  # every value fit keeps is finite: data, scales, fits
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(f"{name} holds NaN or infinite values; a fitted forecaster "
                             "never does")
    params = dict(meta["params"])
    tuples = meta.get("tuple_params", [])  # files before it: lists
    if not isinstance(tuples, list) or not set(tuples) <= set(params) - {"estimator"}:
        raise ValueError(f"bad tuple_params {tuples!r}")
    params.update({k: tuple(params[k]) for k in tuples if isinstance(params[k], list)})
    params["estimator"] = _from_spec(params["estimator"])
    if isinstance(params.get("freq"), dict):
        params["freq"] = _offset_from_meta(params["freq"])
    f = cls(**params)
    f._validate_params()  # the parameters pass the Forecaster's own checks
    settings = meta["settings"]
    if not isinstance(settings, dict) or set(settings) != set(_SETTINGS):
        raise ValueError(f"the settings are not a forecaster's: {sorted(settings)!r}")
    for k, v in settings.items():
        if not _SETTING_CHECKS[k](v):
            raise ValueError(f"bad setting {k}: {v!r}")
        setattr(f, k, _as_setting(k, v))
    f.series_ = [k for k in meta["series"]]
    step = meta["step"]
    f.step_ = step["int"] if "int" in step else _offset_from_meta(step)
    f.target_lambda_ = meta["target_lambda"]
    f.n_filled_ = dict(zip(f.series_, meta["n_filled"]))
    for name in _ARRAYS:
        setattr(f, name, arrays.get(f"fit/{name}"))
    n = len(f.series_)
    for name in ("target_mean_", "target_scale_"):
        if getattr(f, name).shape != (n,) or not np.isfinite(getattr(f, name)).all():
            raise ValueError(f"bad {name}: not {n} finite values, one a series")
    if not (f.target_scale_ > 0).all():  # a scale divides: a negative one flips forecasts
        raise ValueError("bad target_scale_: a scale is not positive")
    f.residual_series_ = arrays.get("fit/residual_series_")
    rows = f.residual_series_
    if (rows is None) != (not f.interval_per_series) or rows is not None and (
            rows.dtype != np.int64 or f.residuals_ is None
            or rows.shape != (len(f.residuals_),) or rows.min() < 0 or rows.max() >= n):
        raise ValueError("bad residual_series_: not one series position a calibration "
                         "score, as interval_per_series says")
    f.static_ = None
    if meta["static_columns"] is not None:
        f.static_ = pd.DataFrame(arrays["fit/static_"],
                                 index=pd.Index(f.series_, tupleize_cols=False),
                                 columns=meta["static_columns"])
    f.estimator_ = _rebuild_model(meta["model"], arrays)
    f._record_fitted_params()  # a file holds the parameters it was fitted with
    differenced = isinstance(f.estimator_, DifferencedSequenceModel)
    if differenced != (f.strategy == "stateful" and transforms.difference_of(
            transforms.check_transform(f.transform)) == "diff"):
        raise ValueError(f"the model ({meta['model']['kind']!r}) is not what "
                         f"strategy={f.strategy!r} and transform={f.transform!r} fit")
    offsets, values = arrays["tail/offsets"], arrays["tail/values"]
    times = _labels(arrays["tail/times"], meta["time"]).rename(_as_label(meta["time_name"]))
    X = arrays.get("tail/X")
    f.tails_ = {}
    if not _label(meta.get("y_name")):
        raise ValueError(f"bad y_name {meta['y_name']!r}")
    y_name = _as_label(meta["y_name"]) if "y_name" in meta else f.name_  # older files
    for i, k in enumerate(f.series_):
        a, b = int(offsets[i]), int(offsets[i + 1])
        y = pd.Series(values[a:b], index=times[a:b], name=y_name)
        part = None if X is None else pd.DataFrame(X[a:b], index=y.index,
                                                   columns=f.exog_names_)
        f.tails_[k] = Entry(k, y, part, f.n_filled_[k])
    if meta["n_states"] is not None:
        f.states_ = [tuple(arrays[f"state/{i}/{j}"] for j in range(m))
                     for i, m in enumerate(meta["n_states"])]
        if differenced and f.states_[-1][0].shape != (n, 1):  # (prev,): a level a series
            raise ValueError(f"bad states: the last is not the {n} levels read last")
    return f
