# The compiled stepper: one observation per stream through a whole fitted network
# in one call (scale -> every layer's cell step -> head -> point forecast, unscale).
#
# Design:
# - Built once per process (baseline flags: -ffp-contract=off, so the float64
#   unscaling y = out * scale + mean is a multiply and an add, as NumPy does it).
#   The recurrent steps and the head's product are not compiled here: they are the
#   chosen instruction-set build's own functions (_<cell>_stream.pxi, reached
#   through the PyCapsules of _stream_api.pxd), so a step runs the code predict
#   runs and gives the same bits as re-reading the whole series.
# - The input scaling is NumPy's arithmetic element by element:
#   xs = dtype((double(dtype(x)) - mean) / scale); the head adds its bias in the
#   network's dtype after the product, and the output is widened to float64.
# - Two ways to run: stream mode (`step`) keeps the state here, in two sets of
#   buffers swapped after each step (a layer may not write the state it reads);
#   `step_from` reads a caller's state and returns new arrays (predict_step).
# - Rows run in chunks of CHUNK, one thread: a step of even a few thousand streams is
#   far below the engine's grain for a second thread (engine/_threads.py), and a
#   row's bits do not depend on the chunk it is in.
# - Per step only what can go wrong is checked: x_t's shape, and that every scaled
#   value is finite (non-finite inputs are refused before the state moves). The
#   weights, scaling and state were checked when they were loaded.
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.float cimport PyFloat_AsDouble, PyFloat_Check, PyFloat_FromDouble
from cpython.long cimport PyLong_CheckExact
from libc.math cimport isfinite
from libc.stdlib cimport free, malloc

cimport numpy as cnp

from ._stream_api cimport StreamLayer, stream_gemm_fn, stream_layer_fn

import numpy as np

from ..utils._validation import reject_masked

cnp.import_array()

#: Rows of one chunk (the work buffers hold one chunk), and the most quantiles a
#: stepper turns into forecasts (its per-row buffer's size).
cdef enum:
    CHUNK = 64
    MAX_QUANTILES = 64

STREAM_MAX_QUANTILES = MAX_QUANTILES  # for the estimators' own refusal


cdef inline bint _all_finite(const char* p, Py_ssize_t n, bint is64) noexcept nogil:
    cdef Py_ssize_t i
    if is64:
        for i in range(n):
            if not isfinite((<const double*>p)[i]):
                return False
    else:
        for i in range(n):
            if not isfinite((<const float*>p)[i]):
                return False
    return True


cdef class Stepper:
    """A fitted network's streaming step, with the state of ``n_streams`` streams.

    Parameters
    ----------
    cell_module, head_module : module
        The compiled cell module of the chosen instruction set (its
        ``stream_exports``, ``stream_pack``, ``stream_work_size``), and the one whose
        head product ``predict`` uses (the LSTM module of the same build).
    layers : list of (W, b_hn or None)
        Every layer's weights, first layer first, C-contiguous, float32 or float64.
    head_W : ndarray of shape (D, n_net_outputs)
    head_b : ndarray of shape (n_net_outputs,)
    input_mean, input_scale : ndarray of shape (n_features,), float64
    target_mean, target_scale : ndarray of shape (n_targets,) or None
        None: the raw network outputs (float64) are returned.
    n_quantiles, point_index : int, default=1, 0
        With ``n_quantiles`` K > 1 outputs per target, the forecast is the
        ``point_index``-th smallest of each target's K outputs.
    lstm : bool
        The state has cell states.
    n_streams : int, default=1

    Attributes
    ----------
    isa : str
        The instruction-set build whose kernels run the steps.
    """

    cdef readonly Py_ssize_t n_streams, n_inputs, n_layers, n_targets
    cdef readonly bint lstm
    cdef readonly object dtype, isa
    cdef bint is64, raw
    cdef Py_ssize_t itemsize, n_net, D, K, k_point, work_len, max_h
    cdef StreamLayer* layers
    cdef stream_layer_fn layer_fn
    cdef stream_gemm_fn gemm_fn
    cdef object keep, hidden, h_cur, c_cur, h_nxt, c_nxt, keep_x
    cdef cnp.ndarray xbuf, xs, out, work, ones, zero
    cdef void** ptrs  # 4 * n_layers: h0, c0, h1, c1 of every layer, for _run
    cdef const double* in_mean
    cdef const double* in_scale
    cdef const double* t_mean
    cdef const double* t_scale
    cdef const void* head_Wp
    cdef const void* head_b

    def __cinit__(self):
        self.layers = NULL
        self.ptrs = NULL

    def __dealloc__(self):
        free(self.layers)
        free(self.ptrs)

    def __init__(self, cell_module, head_module, layers, head_W, head_b, input_mean,
                 input_scale, target_mean=None, target_scale=None, *, int n_quantiles=1,
                 int point_index=0, bint lstm=False, Py_ssize_t n_streams=1):
        exports, head = cell_module.stream_exports(), head_module.stream_exports()
        W0 = layers[0][0]
        self.dtype = W0.dtype
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"the weights must be float32 or float64, got {self.dtype}")
        self.is64 = self.dtype == np.float64
        self.itemsize = self.dtype.itemsize
        self.layer_fn = <stream_layer_fn>PyCapsule_GetPointer(
            exports["layer"][self.is64], b"tsbptt.stream_layer")
        self.gemm_fn = <stream_gemm_fn>PyCapsule_GetPointer(
            head["gemm"][self.is64], b"tsbptt.stream_gemm")
        if exports["isa"] != head["isa"]:
            raise ValueError(f"the cell module ({exports['isa']}) and the head module "
                             f"({head['isa']}) are different builds")
        self.isa = exports["isa"]
        self.lstm, self.keep = lstm, []
        self._load_layers(cell_module, layers)
        self._load_head(head_module, head_W, head_b)
        self.in_mean = self._kept_f64(input_mean, self.n_inputs, "input_mean")
        self.in_scale = self._kept_f64(input_scale, self.n_inputs, "input_scale")
        self.raw = target_mean is None
        self.K, self.k_point = n_quantiles, point_index
        if self.K < 1 or self.K > MAX_QUANTILES or not 0 <= self.k_point < self.K:
            raise ValueError(f"need 1 <= n_quantiles <= {MAX_QUANTILES} and 0 <= "
                             f"point_index < n_quantiles, got {n_quantiles}, {point_index}")
        if self.raw:
            self.n_targets = self.n_net
        else:
            if self.n_net % self.K:
                raise ValueError(f"{self.n_net} network outputs are not {self.K} per "
                                 "target")
            self.n_targets = self.n_net // self.K
            self.t_mean = self._kept_f64(target_mean, self.n_targets, "target_mean")
            self.t_scale = self._kept_f64(target_scale, self.n_targets, "target_scale")
        # layer i reads the layer below's h: F = hidden[i - 1] above the first
        self.work_len = max(cell_module.stream_work_size(F, H, CHUNK) for F, H in
                            zip((self.n_inputs,) + self.hidden, self.hidden))
        self.work = np.empty(self.work_len, self.dtype)
        self.xbuf = np.empty(1, np.float64)  # a scalar x_t
        self.reset(n_streams)

    cdef const double* _kept_f64(self, a, Py_ssize_t n, str name) except NULL:
        arr = np.array(a, dtype=np.float64, order="C")  # a copy: the model may change
        if arr.shape != (n,) or not np.isfinite(arr).all():
            raise ValueError(f"{name} must be {n} finite values, got {a!r}")
        self.keep.append(arr)
        return <const double*>cnp.PyArray_DATA(arr)

    cdef object _kept(self, a, tuple shape, str name):
        """A checked C-contiguous copy of a weight array, kept alive with the stepper."""
        arr = np.array(a, dtype=self.dtype, order="C")  # a copy: the model may change
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity")
        self.keep.append(arr)
        return arr

    cdef _load_layers(self, cell_module, layers):
        cdef Py_ssize_t i, F, H, G
        cdef StreamLayer* L
        self.n_layers = len(layers)
        if self.n_layers < 1:
            raise ValueError("need at least one layer")
        self.layers = <StreamLayer*>malloc(self.n_layers * sizeof(StreamLayer))
        self.ptrs = <void**>malloc(4 * self.n_layers * sizeof(void*))
        if self.layers == NULL or self.ptrs == NULL:
            raise MemoryError()
        hidden = []
        for i, (W, b_hn) in enumerate(layers):
            L = &self.layers[i]
            G = W.shape[1]
            H = G // (4 if self.lstm else 3 if b_hn is not None else 1)
            F = W.shape[0] - H - 1
            if F < 1 or (i > 0 and F != hidden[i - 1]):
                raise ValueError(f"layer {i}'s W has shape {W.shape}: not a layer on "
                                 f"{'the inputs' if i == 0 else hidden[i - 1]}")
            L.F, L.H = F, H
            Wc = self._kept(W, (F + H + 1, G), f"layer {i}'s W")
            L.W = cnp.PyArray_DATA(Wc)
            L.b_hn = NULL
            bc = None
            if b_hn is not None:
                bc = self._kept(b_hn, (H,), f"layer {i}'s b_hn")
                L.b_hn = cnp.PyArray_DATA(bc)
            Wp, L.off2, L.off3 = cell_module.stream_pack(Wc, bc)
            self.keep.append(Wp)
            L.Wp = cnp.PyArray_DATA(Wp)
            hidden.append(H)
        self.n_inputs, self.hidden, self.max_h = self.layers[0].F, tuple(hidden), max(hidden)
        self.D = hidden[len(hidden) - 1]

    cdef _load_head(self, head_module, head_W, head_b):
        W = np.asarray(head_W)
        if W.ndim != 2 or W.shape[0] != self.D:
            raise ValueError(f"head_W has shape {W.shape}, expected ({self.D}, n_outputs)")
        self.n_net = W.shape[1]
        Wp = head_module.stream_pack_b(self._kept(W, (self.D, self.n_net), "head_W"))
        self.keep.append(Wp)
        self.head_Wp = cnp.PyArray_DATA(Wp)
        self.head_b = cnp.PyArray_DATA(self._kept(head_b, (self.n_net,), "head_b"))

    # -- the state --------------------------------------------------------------------
    @property
    def hidden_sizes(self):
        """Every layer's hidden size, first layer first."""
        return self.hidden

    def reset(self, Py_ssize_t n_streams=1):
        """Zero states for ``n_streams`` streams."""
        if n_streams < 1:
            raise ValueError(f"n_streams must be >= 1, got {n_streams}")
        self.n_streams = n_streams
        self.h_cur = [np.zeros((n_streams, H), self.dtype) for H in self.hidden]
        self.h_nxt = [np.empty((n_streams, H), self.dtype) for H in self.hidden]
        self.c_cur = [np.zeros((n_streams, H), self.dtype) for H in self.hidden] \
            if self.lstm else self.h_cur
        self.c_nxt = [np.empty((n_streams, H), self.dtype) for H in self.hidden] \
            if self.lstm else self.h_nxt
        self._buffers(n_streams)

    cdef _buffers(self, Py_ssize_t n):
        """Scratch of n rows (grown, never shrunk)."""
        if self.xs is None or self.xs.shape[0] < n:
            self.xs = np.empty((n, self.n_inputs), self.dtype)
            self.out = np.empty((n, self.n_net), self.dtype)
            self.ones = np.ones(n, np.intp)
            self.zero = np.zeros((n, self.max_h), self.dtype)

    def get_state(self):
        """Copies of the state: (h, c), tuples of (n_streams, H_l) arrays; c is None
        unless the cell is an LSTM."""
        h = tuple(a.copy() for a in self.h_cur)
        return h, (tuple(a.copy() for a in self.c_cur) if self.lstm else None)

    def set_state(self, h, c):
        """Load a state (copied; checked as ``step_from`` checks it). The number of
        streams becomes the state's."""
        if not isinstance(h, tuple) or not h or not isinstance(h[0], np.ndarray) \
                or h[0].ndim != 2:
            n = self.n_streams  # let the checks below say what is wrong
        else:
            n = h[0].shape[0]
        hs = self._checked_part("h", h, n, False)
        cs = self._checked_c(c, n, False)
        self.reset(n)
        for a, b in zip(self.h_cur, hs):
            a[...] = b
        if self.lstm:
            for a, b in zip(self.c_cur, cs):
                a[...] = b

    cdef list _checked_part(self, str name, arrays, Py_ssize_t n, bint rows_of_x):
        """The arrays of state.<name>, checked (C comparisons: it runs every step of
        predict_step), C-contiguous. ``rows_of_x``: ``n`` is x_t's rows, which a
        wrong number of rows names (the mistake may be there)."""
        cdef Py_ssize_t i, H
        cdef cnp.ndarray a
        cdef int type_num = cnp.NPY_DOUBLE if self.is64 else cnp.NPY_FLOAT
        if type(arrays) is not tuple or len(arrays) != self.n_layers:
            raise ValueError(
                f"state.{name} must be a tuple of {self.n_layers} arrays (one per layer), "
                f"got {type(arrays).__name__} of length "
                f"{len(arrays) if hasattr(arrays, '__len__') else '?'}")
        out = []
        for i in range(self.n_layers):
            x = (<tuple>arrays)[i]
            if not isinstance(x, cnp.ndarray) or cnp.PyArray_TYPE(<cnp.ndarray>x) != type_num:
                raise TypeError(f"state.{name}[{i}] must be a {self.dtype.name} ndarray "
                                f"(the model's dtype), got "
                                f"{getattr(x, 'dtype', type(x).__name__)}")
            a, H = x, self.layers[i].H
            if a.ndim != 2 or a.shape[0] != n or a.shape[1] != H:
                why = f" (x_t has {n} row(s), one per sequence)" if rows_of_x else ""
                raise ValueError(f"state.{name}[{i}] has shape {x.shape}, expected "
                                 f"({n}, {H}) for {n} sequence(s){why}")
            # its bytes are read as they lie: another byte order (a state decoded
            # from a file or a packet as '>f8') is copied to this machine's first
            if not cnp.PyArray_IS_C_CONTIGUOUS(a) or not cnp.PyArray_ISNOTSWAPPED(a):
                a = np.ascontiguousarray(a, dtype=self.dtype)
            if not _all_finite(<const char*>cnp.PyArray_DATA(a), n * H, self.is64):
                raise ValueError(f"state.{name}[{i}] contains NaN or infinity")
            out.append(a)
        return out

    cdef tuple _new_state(self, Py_ssize_t n):
        """New (n, H_l) arrays, one per layer."""
        cdef Py_ssize_t i
        cdef cnp.npy_intp dims[2]
        cdef int type_num = cnp.NPY_DOUBLE if self.is64 else cnp.NPY_FLOAT
        out = []
        dims[0] = n
        for i in range(self.n_layers):
            dims[1] = self.layers[i].H
            out.append(cnp.PyArray_EMPTY(2, dims, type_num, 0))
        return tuple(out)

    cdef object _checked_c(self, c, Py_ssize_t n, bint rows_of_x):
        if not self.lstm:
            if c is not None:
                raise ValueError("state.c must be None: only an LSTM has a cell state")
            return None
        if c is None:
            raise ValueError("state.c is None, but an LSTM's state needs its cell states")
        return self._checked_part("c", c, n, rows_of_x)

    # -- one step ---------------------------------------------------------------------
    cdef const double* _read_x(self, object x_t, Py_ssize_t* n, bint* single) except NULL:
        """x_t as n rows of n_inputs float64 values (a pointer into x_t or xbuf)."""
        cdef Py_ssize_t F = self.n_inputs
        cdef cnp.ndarray x
        cdef double* buf
        if PyFloat_Check(x_t) or PyLong_CheckExact(x_t):  # one value
            if F != 1:
                self._bad_shape(x_t)
            n[0], single[0] = 1, True
            buf = <double*>cnp.PyArray_DATA(self.xbuf)
            try:
                buf[0] = PyFloat_AsDouble(x_t)
            except OverflowError:
                raise ValueError("x_t is an integer beyond the float64 range (1.8e308)") from None
            return buf
        # read in place only as this machine's float64: a big-endian '>f8' array
        # (readings decoded from network byte order) has the same type number
        if type(x_t) is np.ndarray and cnp.PyArray_TYPE(<cnp.ndarray>x_t) == cnp.NPY_DOUBLE \
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x_t) \
                and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>x_t):
            x = x_t
        else:
            reject_masked(x_t, "x_t")  # asarray would read the values behind the mask
            try:
                x = np.asarray(x_t)
                if x.dtype.kind == "O" and all(type(v) is int for v in x.flat):
                    x = np.asarray(x_t, dtype=np.float64)  # ints beyond 64 bits
            except (ValueError, OverflowError) as exc:  # ragged lists, ints past 1.8e308
                raise ValueError(f"x_t cannot be read as an array of numbers: {exc}") from None
            if x.dtype.kind not in "fiub":
                raise TypeError(f"x_t must hold numbers, got an array of dtype {x.dtype}")
            x = np.ascontiguousarray(x, dtype=np.float64)  # as check_array: via float64
        if x.ndim == 0 and F == 1 or x.ndim == 1 and x.shape[0] == F:
            n[0], single[0] = 1, True
        elif x.ndim == 2 and x.shape[1] == F and x.shape[0] >= 1:
            n[0], single[0] = x.shape[0], False
        else:
            self._bad_shape(x_t)
        if x is not x_t:
            self.keep_x = x  # alive until the step is done
        return <const double*>cnp.PyArray_DATA(x)

    cdef int _bad_shape(self, x_t) except -1:
        F = self.n_inputs
        raise ValueError(f"x_t must have shape ({F},) (one observation of {F} features) "
                         f"or (n_sequences, {F}), got shape {np.shape(x_t)}")

    cdef int _scale(self, const double* x, Py_ssize_t n) except -1:
        """xs = the scaled inputs in the network's dtype; refuse non-finite ones."""
        cdef Py_ssize_t F = self.n_inputs, i, f
        cdef float* xs32 = <float*>cnp.PyArray_DATA(self.xs)
        cdef double* xs64 = <double*>cnp.PyArray_DATA(self.xs)
        cdef double v
        cdef bint ok = True
        for i in range(n):
            for f in range(F):
                if self.is64:
                    v = (x[i * F + f] - self.in_mean[f]) / self.in_scale[f]
                    xs64[i * F + f] = v
                else:
                    v = (x[i * F + f] - self.in_mean[f]) / self.in_scale[f]
                    xs32[i * F + f] = <float>v
                    v = xs32[i * F + f]
                if not isfinite(v):
                    ok = False
        if not ok:
            for i in range(n * F):
                v = xs64[i] if self.is64 else xs32[i]
                if not isfinite(v):
                    raise ValueError(
                        f"x_t must be finite in the model's dtype ({self.dtype.name}) "
                        f"after scaling: x_t[{i // F}, {i % F}] = {x[i]!r}")
        return 0

    cdef void _run(self, Py_ssize_t n) noexcept:
        """Every layer and the head for rows [0, n), chunk by chunk, from the states
        in ptrs; out = the raw outputs."""
        cdef Py_ssize_t r0, r1, i, o, L = self.n_layers, isz = self.itemsize
        cdef const void* X
        cdef const void* xs = cnp.PyArray_DATA(self.xs)
        cdef char* out = <char*>cnp.PyArray_DATA(self.out)
        cdef void* work = cnp.PyArray_DATA(self.work)
        cdef const Py_ssize_t* ones = <const Py_ssize_t*>cnp.PyArray_DATA(self.ones)
        cdef void** p = self.ptrs
        for r0 in range(0, n, CHUNK):
            r1 = min(n, r0 + CHUNK)
            X = xs
            for i in range(L):
                self.layer_fn(&self.layers[i], X, p[i], p[L + i], ones, p[2 * L + i],
                              p[3 * L + i], work, r0, r1)
                X = p[2 * L + i]
            self.gemm_fn(r1 - r0, self.n_net, self.D, <const char*>X + r0 * self.D * isz,
                         self.D, self.head_Wp, out + r0 * self.n_net * isz, self.n_net)
        # the head's bias in the network's dtype, after the product (as head_forward)
        for r0 in range(n):
            for o in range(self.n_net):
                if self.is64:
                    (<double*>out)[r0 * self.n_net + o] += (<const double*>self.head_b)[o]
                else:
                    (<float*>out)[r0 * self.n_net + o] += (<const float*>self.head_b)[o]

    cdef inline double _raw(self, Py_ssize_t i) noexcept:
        if self.is64:
            return (<double*>cnp.PyArray_DATA(self.out))[i]
        return (<float*>cnp.PyArray_DATA(self.out))[i]

    cdef double _forecast(self, Py_ssize_t r, Py_ssize_t t) noexcept:
        """Target t of row r in y's units: the point among its K outputs, unscaled."""
        cdef double q[MAX_QUANTILES]
        cdef double v, p
        cdef Py_ssize_t a, b, base = r * self.n_net + t * self.K
        if self.K == 1:
            v = self._raw(base)
        else:  # insertion sort: the few quantiles of one target
            for a in range(self.K):
                v = self._raw(base + a)
                b = a
                while b > 0 and q[b - 1] > v:
                    q[b] = q[b - 1]
                    b -= 1
                q[b] = v
            v = q[self.k_point]
        # two statements: a multiply, then an add (never fused; see the header)
        p = v * self.t_scale[t]
        return p + self.t_mean[t]

    cdef object _outputs(self, Py_ssize_t n, bint single):
        """The forecasts (or raw outputs) of rows [0, n) as the caller receives them."""
        cdef Py_ssize_t r, t, m = self.n_targets
        cdef cnp.npy_intp dims[2]
        cdef double* y
        if single and m == 1 and not self.raw:
            return PyFloat_FromDouble(self._forecast(0, 0))
        if single:
            dims[0] = m
            res = cnp.PyArray_EMPTY(1, dims, cnp.NPY_DOUBLE, 0)
        elif m == 1 and not self.raw:
            dims[0] = n
            res = cnp.PyArray_EMPTY(1, dims, cnp.NPY_DOUBLE, 0)
        else:
            dims[0], dims[1] = n, m
            res = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE, 0)
        y = <double*>cnp.PyArray_DATA(res)
        for r in range(n):
            for t in range(m):
                y[r * m + t] = self._raw(r * m + t) if self.raw else self._forecast(r, t)
        return res

    cdef void _point_at(self, h0, c0, h1, c1):
        """ptrs = the data of the four lists of per-layer state arrays."""
        cdef Py_ssize_t i, L = self.n_layers
        for i in range(L):
            self.ptrs[i] = cnp.PyArray_DATA(<cnp.ndarray>h0[i])
            self.ptrs[L + i] = cnp.PyArray_DATA(<cnp.ndarray>c0[i])
            self.ptrs[2 * L + i] = cnp.PyArray_DATA(<cnp.ndarray>h1[i])
            self.ptrs[3 * L + i] = cnp.PyArray_DATA(<cnp.ndarray>c1[i])

    def step(self, x_t):
        """Consume one observation per stream and return the forecast.

        Parameters
        ----------
        x_t : float, or array-like of shape (n_inputs,) or (n_streams, n_inputs)
            One stream's observation (a scalar for one input), or one per stream.

        Returns
        -------
        float or ndarray
            Per stream and target: a float for one stream and one target, else
            (n_targets,), (n_streams,) or (n_streams, n_targets) (raw outputs:
            (n_outputs,) or (n_streams, n_outputs)).
        """
        cdef Py_ssize_t n
        cdef bint single
        cdef const double* x = self._read_x(x_t, &n, &single)
        if n != self.n_streams:
            self.keep_x = None
            raise ValueError(f"x_t has {'one observation' if single else f'{n} rows'}, "
                             f"but the stream holds {self.n_streams} streams: give "
                             f"x_t of shape ({self.n_streams}, {self.n_inputs})")
        try:
            self._scale(x, n)
        finally:
            self.keep_x = None
        self._point_at(self.h_cur, self.c_cur, self.h_nxt, self.c_nxt)
        self._run(n)
        self.h_cur, self.h_nxt = self.h_nxt, self.h_cur
        self.c_cur, self.c_nxt = self.c_nxt, self.c_cur
        return self._outputs(n, single)

    def step_from(self, x_t, h, c, bint has_state):
        """One step from a caller's state, which is left as it is.

        Parameters
        ----------
        x_t : as :meth:`step`, any number of rows n
        h, c : tuple of ndarray of shape (n, H_l), or None
            The state (``c`` for an LSTM only); ignored unless ``has_state``.
        has_state : bool
            False: start from zeros.

        Returns
        -------
        y : as :meth:`step`
        h, c : tuples of new (n, H_l) arrays; c is None unless the cell is an LSTM
        """
        cdef Py_ssize_t n
        cdef bint single
        cdef const double* x = self._read_x(x_t, &n, &single)
        try:
            if has_state:
                h_in = self._checked_part("h", h, n, True)
                c_in = self._checked_c(c, n, True)
                if not self.lstm:
                    c_in = h_in
            self._buffers(n)
            self._scale(x, n)
        finally:
            self.keep_x = None
        if not has_state:
            h_in = [self.zero] * self.n_layers
            c_in = h_in
        h_out = self._new_state(n)
        c_out = self._new_state(n) if self.lstm else h_out
        self._point_at(h_in, c_in, h_out, c_out)
        self._run(n)
        return self._outputs(n, single), h_out, (c_out if self.lstm else None)
