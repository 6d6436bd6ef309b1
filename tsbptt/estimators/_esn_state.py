"""What a fitted echo-state network saves and restores: its state in a model file.

The same safe format as the recurrent networks (:mod:`tsbptt.persistence`: no
pickle, a checksum, checked JSON metadata). An ESN keeps its reservoir (``W_`` in
CSR form: data, int32 indices and row pointers), input weights, biases, feedback
weights, the float64 readout, the input (and target) scaling and, in the stateful
mode, the reservoir state after the last step seen. Every value is checked on the
way back: the class from a fixed table, the parameters by the estimator's own
validation, every fitted scalar's type, every array's dtype and shape against what
the parameters and fitted scalars give, the CSR structure, and finiteness, so a
loaded model predicts bitwise what the saved one did.
"""
import numpy as np
import scipy.sparse as sp

from ..persistence import from_json
from ._state import FittedState, checked_fitted, fitted_meta, set_classes

__all__ = ["ESNState"]

_INT = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731

#: Fitted scalars kept in meta.json, with the check each value must pass.
ESN_SCALARS = {
    "n_features_in_": lambda v: _INT(v) and v >= 1,
    "input_kind_": lambda v: v in ("2d", "3d", "list"),
    "n_channels_": lambda v: _INT(v) and v >= 1,
    "dtype_": lambda v: v in ("float32", "float64"),
    "per_step_": lambda v: isinstance(v, bool),
    "n_outputs_": lambda v: _INT(v) and v >= 1,
    "n_steps_": lambda v: _INT(v) and v >= 1,
    "n_exog_": lambda v: _INT(v) and v >= 0,
    "mode_": lambda v: v in ("windows", "series"),
    "alpha_": lambda v: isinstance(v, (int, float)) and np.isfinite(v) and v >= 0,
    "_y_ndim": lambda v: v in (1, 2),
    "_exog_names": lambda v: v is None or (isinstance(v, list)
                                           and all(isinstance(c, str) for c in v)),
}
REQUIRED = {"windows": ("n_features_in_", "input_kind_", "n_channels_", "dtype_",
                        "per_step_", "n_outputs_", "n_steps_", "mode_", "alpha_",
                        "_y_ndim"),
            "series": ("dtype_", "per_step_", "n_outputs_", "n_exog_", "mode_", "alpha_",
                       "_y_ndim")}
#: Array members: fitted attribute -> name in the file.
ESN_ARRAYS = {"W_in_": "esn/W_in", "bias_": "esn/bias", "W_fb_": "esn/W_fb",
              "coef_": "esn/coef", "intercept_": "esn/intercept",
              "input_mean_": "input_mean_", "input_scale_": "input_scale_",
              "target_mean_": "target_mean_", "target_scale_": "target_scale_",
              "reservoir_state_": "esn/reservoir_state", "_last_y": "esn/last_y",
              "classes_": "classes_"}
_CSR = ("esn/W_data", "esn/W_indices", "esn/W_indptr")


class ESNState(FittedState):
    """Mixin: an echo-state network's fitted state to and from a model file."""

    def _fitted_state(self):
        """The arrays and the metadata a model file keeps of this fitted ESN."""
        self._check_fitted_params()  # the file's parameters must be the fitted ones
        arrays = {f: np.asarray(getattr(self, a)) for a, f in ESN_ARRAYS.items()
                  if hasattr(self, a)}
        if "classes_" in arrays:
            c = arrays["classes_"]
            if c.dtype.kind == "O" and all(isinstance(v, str) for v in c):
                arrays["classes_"] = c = c.astype(str)
            if c.dtype.kind not in "biufU":
                raise ValueError(f"classes_ of dtype {c.dtype} cannot be saved without "
                                 "pickle; use numbers or strings as class labels")
        W = self.W_
        arrays.update(zip(_CSR, (W.data, W.indices.astype(np.int32),
                                 W.indptr.astype(np.int32))))
        params = self._params_for_json()
        if isinstance(params["alpha"], (tuple, np.ndarray)):
            params["alpha"] = [float(a) for a in params["alpha"]]
        return arrays, fitted_meta(self, ESN_SCALARS, params)

    @classmethod
    def _from_fitted_state(cls, arrays, meta, path):
        """The ESN a model file describes, every value checked first."""
        checked_fitted(meta, ESN_SCALARS,
                       lambda fitted: REQUIRED.get(fitted.get("mode_"), ("mode_",)), path)
        params = from_json(meta["params"])
        if isinstance(params.get("alpha"), list):
            params["alpha"] = tuple(params["alpha"])
        est = cls._with_saved_values({**meta, "params": params}, path)
        expected = est._expected_arrays(arrays, path)
        got = {k: v.shape for k, v in arrays.items()}
        if got != expected:
            raise ValueError(f"{path!r}: the arrays do not match a {cls.__name__} with "
                             f"these settings (expected {expected}, found {got})")
        _check_arrays(arrays, est.dtype_, est.n_reservoir, path)
        for attr, name in ESN_ARRAYS.items():
            if name in arrays and name != "classes_":
                setattr(est, attr, arrays[name])
        N = est.n_reservoir
        est.W_ = sp.csr_matrix((arrays["esn/W_data"], arrays["esn/W_indices"],
                                arrays["esn/W_indptr"]), shape=(N, N))
        if "classes_" in arrays:
            set_classes(est, arrays["classes_"], meta, path)
        est._record_fitted_params()
        return est

    def _check_saved_params(self):
        """Nothing beyond ``_validate_params``: the fitted values are checked
        against the arrays in :meth:`_expected_arrays`."""

    def _readout_outputs(self, arrays):
        """Rows of ``coef_``: one per output."""
        return self.n_outputs_

    def _expected_arrays(self, arrays, path):
        """The shape of every member these settings and fitted values give."""
        if self.mode_ == "windows" and self.output_feedback:
            raise ValueError(f"{path!r}: output_feedback=True with a model fitted on "
                             "windows")
        N = self.n_reservoir
        F = len(arrays.get("input_mean_", ()))
        n_out = self._readout_outputs(arrays)
        if self.mode_ == "windows" and self.input_kind_ == "2d" \
                and self.n_features_in_ != F * self.n_steps_:
            raise ValueError(f"{path!r}: n_features_in_, n_steps_ and the scaling's "
                             f"{F} features do not agree")
        n_fb = self.n_outputs_ if self.mode_ == "series" and self.output_feedback else 0
        nnz = len(arrays.get("esn/W_data", ()))
        expected = {"esn/W_in": (N, F), "esn/bias": (N,), "esn/W_fb": (N, n_fb),
                    "esn/coef": (n_out, N + self._input_width(F)),
                    "esn/intercept": (n_out,), "input_mean_": (F,), "input_scale_": (F,),
                    "esn/W_data": (nnz,), "esn/W_indices": (nnz,),
                    "esn/W_indptr": (N + 1,)}
        if "classes_" in arrays:
            expected["classes_"] = arrays["classes_"].shape
        if self.mode_ == "series":
            expected.update({"esn/reservoir_state": (N,),
                             "esn/last_y": (self.n_outputs_,)})
            if self.output_feedback:
                expected.update(target_mean_=(self.n_outputs_,),
                                target_scale_=(self.n_outputs_,))
        return expected

    def _input_width(self, F):
        """Readout features beside the state: the inputs the settings give it."""
        inputs = self.include_inputs
        if self.mode_ == "series" or self.per_step_:
            return F if inputs else 0
        if inputs == "auto":
            inputs = "window" if self.input_kind_ == "2d" else True
        return F * self.n_steps_ if inputs == "window" else (F if inputs else 0)


def _check_arrays(arrays, dtype, N, path):
    for k, v in arrays.items():
        if k == "classes_":
            if v.ndim != 1 or v.dtype.kind not in "biufU":
                raise ValueError(f"{path!r}: classes_ is not a 1D array of labels")
            continue
        want = (np.int32 if k in ("esn/W_indices", "esn/W_indptr") else
                np.dtype(dtype) if k in ("esn/W_in", "esn/bias", "esn/W_fb", "esn/W_data",
                                         "esn/reservoir_state") else np.float64)
        if v.dtype != want:
            raise ValueError(f"{path!r}: {k} is {v.dtype}, expected {np.dtype(want)}")
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise ValueError(f"{path!r}: {k} holds NaN or infinite values; a fitted "
                             "model never does")
        if k.endswith("scale_") and not (v > 0).all():
            raise ValueError(f"{path!r}: {k} holds a scale <= 0")
    ptr, idx = arrays["esn/W_indptr"], arrays["esn/W_indices"]
    if ptr[0] != 0 or ptr[-1] != len(idx) or np.any(np.diff(ptr) < 0) \
            or (len(idx) and not (idx.min() >= 0 and idx.max() < N)):
        raise ValueError(f"{path!r}: the reservoir's CSR structure is damaged")
