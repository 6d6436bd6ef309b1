"""Plain-NumPy forward and backward of every cell: the executable spec.

The compiled kernels in ``tsbptt._kernels`` are tested against this module.
It is written for clarity, not speed: a Python loop over time, vectorised
over the batch.  It imports nothing compiled (NumPy and SciPy only).

Layout (restated from ``docs/kernel_layout.md``)
------------------------------------------------
Notation: B batch, T time steps, F input features, H hidden units, G gates
(LSTM 4, GRU 3, RNN 1).  One dtype per call, float32 or float64, taken from
``X`` (any other input dtype is computed in float64).

Parameters of one layer, ``W`` of shape (F + H + 1, G*H):

- ``W[:F]``      input weights W_x     (F, G*H)
- ``W[F:F+H]``   recurrent weights W_h (H, G*H)
- ``W[F+H]``     bias b                (G*H,)
- GRU only: ``b_hn`` (H,), the recurrent bias of the candidate.

Gate order along the G*H axis (as PyTorch/cuDNN), with a = x W_x + h W_h + b:

- LSTM  i, f, g, o: i=σ(a_i) f=σ(a_f) g=tanh(a_g) o=σ(a_o);
  c' = f*c + i*g; h' = o*tanh(c')
- GRU   r, z, n: r=σ(x W_xr + b_r + h W_hr); z=σ(x W_xz + b_z + h W_hz);
  hn = h W_hn + b_hn; n = tanh(x W_xn + b_n + r*hn); h' = (1-z)*n + z*h
- RNN   one block: h' = tanh(x W_x + h W_h + b)

PyTorch mapping: W_x = weight_ih.T, W_h = weight_hh.T, b = bias_ih + bias_hh
(GRU: b = bias_ih + [bias_hh_r, bias_hh_z, 0], b_hn = bias_hh_n).

Variable lengths: ``lengths`` (B,) integer, 1 <= lengths[b] <= T.  Steps
t >= lengths[b] leave the state unchanged, give Y[b, t] = 0, ignore
dY[b, t], pass the state gradient straight through and give dX[b, t] = 0.
The final state is the state after step lengths[b] - 1.

Caches (returned by the forward functions, read by the backward ones):
``gates`` (B, T, G*H) activated gates (RNN: h_t), zero at invalid steps here
(unspecified for the kernels); ``h_prev`` (B, T, H) state entering step t;
LSTM ``cell`` (B, T, H) cell state after step t; GRU ``hn`` (B, T, H),
zero at invalid steps here.  The LSTM forward also returns ``c0`` (B, H):
the backward needs the cell state entering step 0, which ``cell`` does not
hold.

Step clipping and delta norms (the backward functions): with ``clip_step``,
the full gradient dL/dh_t (carried from step t+1 plus dY[:, t]) is clipped
element-wise to [-clip_step, clip_step] at every valid step, before it is
used at that step or carried further back (the LSTM's cell-state gradient is
not clipped).  ``delta_sq`` (B, T) is the squared norm of dL/dh_t before
clipping (0 at invalid steps) and ``n_clipped`` (B,) counts the entries
clipped per sample.
"""

import numpy as np
from scipy.special import expit

__all__ = [
    "lstm_forward",
    "lstm_backward",
    "gru_forward",
    "gru_backward",
    "rnn_forward",
    "rnn_backward",
    "esn_forward",
]


# --------------------------------------------------------------------------
# argument handling
# --------------------------------------------------------------------------
def _dtype_of(X):
    X = np.asarray(X)
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _unpack(X, W, n_gates):
    """Convert X and W to one dtype; return X, W, W_x, W_h, b, (B, T, F, H)."""
    dtype = _dtype_of(X)
    X = np.asarray(X, dtype=dtype)
    W = np.asarray(W, dtype=dtype)
    if X.ndim != 3:
        raise ValueError(f"X must be 3D (B, T, F), got shape {X.shape}")
    B, T, F = X.shape
    if W.ndim != 2 or W.shape[1] % n_gates:
        raise ValueError(
            f"W must be 2D with a multiple of {n_gates} columns, got shape {W.shape}"
        )
    H = W.shape[1] // n_gates
    if W.shape[0] != F + H + 1:
        raise ValueError(
            f"W must have shape (F + H + 1, {n_gates}*H) = ({F + H + 1}, "
            f"{n_gates * H}), got {W.shape}"
        )
    return X, W, W[:F], W[F:F + H], W[F + H], (B, T, F, H)


def _lengths(lengths, B, T):
    if lengths is None:
        return np.full(B, T, dtype=np.intp)
    lengths = np.asarray(lengths)
    if lengths.shape != (B,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(
            f"lengths must be an integer array of shape ({B},), got "
            f"shape {lengths.shape} and dtype {lengths.dtype}"
        )
    if lengths.min() < 1 or lengths.max() > T:
        raise ValueError(f"lengths must lie in [1, T={T}], got {lengths}")
    return lengths.astype(np.intp)


def _array(a, shape, dtype, name):
    """``a`` as an array of ``shape`` (zeros when None)."""
    if a is None:
        return np.zeros(shape, dtype=dtype)
    a = np.array(a, dtype=dtype)  # copy: callers' arrays are never modified
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    return a


def _weight_grads(X, h_prev, dA_x, dA_h):
    """dW from the pre-activation gradients: one GEMM each, after the loop.

    ``dA_x`` (B, T, G*H) is the gradient of the input-side pre-activation
    (also the bias gradient), ``dA_h`` that of ``h @ W_h``.
    """
    F, H = X.shape[2], h_prev.shape[2]
    dW = np.empty((F + H + 1, dA_x.shape[2]), dtype=X.dtype)
    dW[:F] = np.einsum("btf,btg->fg", X, dA_x)
    dW[F:F + H] = np.einsum("bth,btg->hg", h_prev, dA_h)
    dW[F + H] = dA_x.sum(axis=(0, 1))
    return dW


def _clip_value(clip_step, dtype):
    """``clip_step`` in the computation's dtype, or None for no clipping."""
    if clip_step is None:
        return None
    clip = float(clip_step)
    if not (np.isfinite(clip) and clip > 0):
        raise ValueError(f"clip_step must be a positive finite number or None, "
                         f"got {clip_step!r}")
    return dtype.type(clip)


def _clip_delta(dh_t, valid, clip, t, delta_sq, n_clipped):
    """Record |dL/dh_t|^2 at step t, then clip dL/dh_t (valid samples only).

    ``delta_sq`` (B, T) and ``n_clipped`` (B,) are filled in place; returns the
    (possibly clipped) dL/dh_t.
    """
    delta_sq[:, t] = np.where(valid[:, 0], np.sum(dh_t * dh_t, axis=1), 0)
    if clip is None:
        return dh_t
    over = valid & (np.abs(dh_t) > clip)
    n_clipped += np.count_nonzero(over, axis=1)
    return np.where(over, np.clip(dh_t, -clip, clip), dh_t)


def _clip_state(B, T, dtype):
    """Zeroed ``delta_sq`` (B, T) and ``n_clipped`` (B,)."""
    return np.zeros((B, T), dtype=dtype), np.zeros(B, dtype=np.intp)


# --------------------------------------------------------------------------
# LSTM
# --------------------------------------------------------------------------
def lstm_forward(X, W, h0=None, c0=None, lengths=None):
    """Forward pass of one LSTM layer over a batch of sequences.

    Parameters
    ----------
    X : ndarray of shape (B, T, F)
        Inputs; float32 or float64 fixes the dtype of the computation.
    W : ndarray of shape (F + H + 1, 4*H)
        Packed parameters [W_x; W_h; b], gate order i, f, g, o.
    h0, c0 : ndarray of shape (B, H), default=None
        Initial hidden and cell states; zeros when None.
    lengths : int ndarray of shape (B,), default=None
        Valid steps per sample, 1 <= lengths[b] <= T; T for all when None.

    Returns
    -------
    out : dict
        ``Y`` (B, T, H) outputs, zero at t >= lengths[b];
        ``h_T``, ``c_T`` (B, H) states after step lengths[b]-1;
        ``gates`` (B, T, 4*H) activated i, f, g, o (zero at invalid steps);
        ``h_prev`` (B, T, H) hidden state entering step t;
        ``cell`` (B, T, H) cell state after step t;
        ``c0`` (B, H) cell state entering step 0 (needed by the backward).
    """
    X, W, W_x, W_h, b, (B, T, F, H) = _unpack(X, W, 4)
    lengths = _lengths(lengths, B, T)
    h = _array(h0, (B, H), X.dtype, "h0")
    c = _array(c0, (B, H), X.dtype, "c0")
    c_init = c.copy()

    A = X @ W_x + b  # input projection of every step, (B, T, 4H)
    Y = np.zeros((B, T, H), dtype=X.dtype)
    gates = np.zeros((B, T, 4 * H), dtype=X.dtype)
    h_prev = np.zeros((B, T, H), dtype=X.dtype)
    cell = np.zeros((B, T, H), dtype=X.dtype)
    for t in range(T):
        valid = (t < lengths)[:, None]
        h_prev[:, t] = h
        a = A[:, t] + h @ W_h
        i = expit(a[:, :H])
        f = expit(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
        o = expit(a[:, 3 * H:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        gates[:, t] = np.where(valid, np.concatenate([i, f, g, o], axis=1), 0)
        c = np.where(valid, c_new, c)
        h = np.where(valid, h_new, h)
        cell[:, t] = c
        Y[:, t] = np.where(valid, h_new, 0)
    return dict(Y=Y, h_T=h, c_T=c, gates=gates, h_prev=h_prev, cell=cell,
                c0=c_init)


def lstm_backward(X, W, cache, dY, dh_T=None, dc_T=None, lengths=None,
                  clip_step=None):
    """Backward pass (BPTT) of one LSTM layer.

    Parameters
    ----------
    X : ndarray of shape (B, T, F)
        The inputs given to :func:`lstm_forward`.
    W : ndarray of shape (F + H + 1, 4*H)
        The packed parameters given to :func:`lstm_forward`.
    cache : dict
        The output of :func:`lstm_forward`; reads ``gates``, ``h_prev``,
        ``cell`` and ``c0`` (zeros when absent).
    dY : ndarray of shape (B, T, H)
        Gradient of the loss w.r.t. Y; ignored at t >= lengths[b].
    dh_T, dc_T : ndarray of shape (B, H), default=None
        Gradients w.r.t. the final states; zeros when None.
    lengths : int ndarray of shape (B,), default=None
        As given to the forward.
    clip_step : float or None, default=None
        If given (> 0), dL/dh_t is clipped element-wise to
        [-clip_step, clip_step] at every valid step before it is used.

    Returns
    -------
    grads : dict
        ``dX`` (B, T, F) (zero at t >= lengths[b]), ``dh0``, ``dc0`` (B, H),
        ``dW`` (F + H + 1, 4*H); ``delta_sq`` (B, T) squared norm of
        dL/dh_t before clipping (0 at t >= lengths[b]); ``n_clipped`` (B,)
        entries clipped per sample.
    """
    X, W, W_x, W_h, _, (B, T, F, H) = _unpack(X, W, 4)
    lengths = _lengths(lengths, B, T)
    dY = _array(dY, (B, T, H), X.dtype, "dY")
    dh = _array(dh_T, (B, H), X.dtype, "dh_T")
    clip = _clip_value(clip_step, X.dtype)
    delta_sq, n_clipped = _clip_state(B, T, X.dtype)
    dc = _array(dc_T, (B, H), X.dtype, "dc_T")
    c0 = _array(cache.get("c0"), (B, H), X.dtype, "cache['c0']")
    gates, h_prev, cell = cache["gates"], cache["h_prev"], cache["cell"]

    dA = np.zeros((B, T, 4 * H), dtype=X.dtype)  # d(pre-activation)
    for t in reversed(range(T)):
        valid = (t < lengths)[:, None]
        i, f, g, o = (gates[:, t, k * H:(k + 1) * H] for k in range(4))
        c_prev = cell[:, t - 1] if t > 0 else c0
        tanh_c = np.tanh(cell[:, t])
        dh_t = dh + np.where(valid, dY[:, t], 0)
        dh_t = _clip_delta(dh_t, valid, clip, t, delta_sq, n_clipped)
        dc_t = dc + dh_t * o * (1 - tanh_c ** 2)
        da = np.concatenate([
            dc_t * g * i * (1 - i),          # a_i
            dc_t * c_prev * f * (1 - f),     # a_f
            dc_t * i * (1 - g ** 2),         # a_g
            dh_t * tanh_c * o * (1 - o),     # a_o
        ], axis=1)
        da = np.where(valid, da, 0)
        dA[:, t] = da
        dh = np.where(valid, da @ W_h.T, dh)
        dc = np.where(valid, dc_t * f, dc)
    dX = dA @ W_x.T
    dW = _weight_grads(X, h_prev, dA, dA)
    return dict(dX=dX, dh0=dh, dc0=dc, dW=dW, delta_sq=delta_sq,
                n_clipped=n_clipped)


# --------------------------------------------------------------------------
# GRU
# --------------------------------------------------------------------------
def gru_forward(X, W, b_hn, h0=None, lengths=None):
    """Forward pass of one GRU layer (reset gate after the recurrent matmul).

    Parameters
    ----------
    X : ndarray of shape (B, T, F)
        Inputs; float32 or float64 fixes the dtype of the computation.
    W : ndarray of shape (F + H + 1, 3*H)
        Packed parameters [W_x; W_h; b], gate order r, z, n.
    b_hn : ndarray of shape (H,)
        Recurrent bias of the candidate, inside the reset product.
    h0 : ndarray of shape (B, H), default=None
        Initial hidden state; zeros when None.
    lengths : int ndarray of shape (B,), default=None
        Valid steps per sample, 1 <= lengths[b] <= T; T for all when None.

    Returns
    -------
    out : dict
        ``Y`` (B, T, H) outputs, zero at t >= lengths[b];
        ``h_T`` (B, H) state after step lengths[b]-1;
        ``gates`` (B, T, 3*H) activated r, z, n (zero at invalid steps);
        ``h_prev`` (B, T, H) hidden state entering step t;
        ``hn`` (B, T, H) h_prev @ W_hn + b_hn (zero at invalid steps).
    """
    X, W, W_x, W_h, b, (B, T, F, H) = _unpack(X, W, 3)
    lengths = _lengths(lengths, B, T)
    b_hn = _array(b_hn, (H,), X.dtype, "b_hn")
    h = _array(h0, (B, H), X.dtype, "h0")

    A = X @ W_x + b  # (B, T, 3H)
    Y = np.zeros((B, T, H), dtype=X.dtype)
    gates = np.zeros((B, T, 3 * H), dtype=X.dtype)
    h_prev = np.zeros((B, T, H), dtype=X.dtype)
    hn_cache = np.zeros((B, T, H), dtype=X.dtype)
    for t in range(T):
        valid = (t < lengths)[:, None]
        h_prev[:, t] = h
        R = h @ W_h  # recurrent part of every gate, (B, 3H)
        r = expit(A[:, t, :H] + R[:, :H])
        z = expit(A[:, t, H:2 * H] + R[:, H:2 * H])
        hn = R[:, 2 * H:] + b_hn
        n = np.tanh(A[:, t, 2 * H:] + r * hn)
        h_new = (1 - z) * n + z * h
        gates[:, t] = np.where(valid, np.concatenate([r, z, n], axis=1), 0)
        hn_cache[:, t] = np.where(valid, hn, 0)
        h = np.where(valid, h_new, h)
        Y[:, t] = np.where(valid, h_new, 0)
    return dict(Y=Y, h_T=h, gates=gates, h_prev=h_prev, hn=hn_cache)


def gru_backward(X, W, b_hn, cache, dY, dh_T=None, lengths=None,
                 clip_step=None):
    """Backward pass (BPTT) of one GRU layer.

    Parameters
    ----------
    X : ndarray of shape (B, T, F)
        The inputs given to :func:`gru_forward`.
    W : ndarray of shape (F + H + 1, 3*H)
        The packed parameters given to :func:`gru_forward`.
    b_hn : ndarray of shape (H,)
        The candidate's recurrent bias (not read: ``hn`` is cached).
    cache : dict
        The output of :func:`gru_forward`; reads ``gates``, ``h_prev``, ``hn``.
    dY : ndarray of shape (B, T, H)
        Gradient of the loss w.r.t. Y; ignored at t >= lengths[b].
    dh_T : ndarray of shape (B, H), default=None
        Gradient w.r.t. the final state; zeros when None.
    lengths : int ndarray of shape (B,), default=None
        As given to the forward.
    clip_step : float or None, default=None
        If given (> 0), dL/dh_t is clipped element-wise to
        [-clip_step, clip_step] at every valid step before it is used.

    Returns
    -------
    grads : dict
        ``dX`` (B, T, F) (zero at t >= lengths[b]), ``dh0`` (B, H),
        ``dW`` (F + H + 1, 3*H), ``db_hn`` (H,); ``delta_sq`` (B, T) squared
        norm of dL/dh_t before clipping (0 at t >= lengths[b]); ``n_clipped``
        (B,) entries clipped per sample.
    """
    X, W, W_x, W_h, _, (B, T, F, H) = _unpack(X, W, 3)
    lengths = _lengths(lengths, B, T)
    dY = _array(dY, (B, T, H), X.dtype, "dY")
    dh = _array(dh_T, (B, H), X.dtype, "dh_T")
    clip = _clip_value(clip_step, X.dtype)
    delta_sq, n_clipped = _clip_state(B, T, X.dtype)
    gates, h_prev, hn_cache = cache["gates"], cache["h_prev"], cache["hn"]

    dA_x = np.zeros((B, T, 3 * H), dtype=X.dtype)  # d(x W_x + b)
    dA_h = np.zeros((B, T, 3 * H), dtype=X.dtype)  # d(h W_h), n part = d hn
    for t in reversed(range(T)):
        valid = (t < lengths)[:, None]
        r, z, n = (gates[:, t, k * H:(k + 1) * H] for k in range(3))
        hn = hn_cache[:, t]
        dh_t = dh + np.where(valid, dY[:, t], 0)
        dh_t = _clip_delta(dh_t, valid, clip, t, delta_sq, n_clipped)
        da_n = dh_t * (1 - z) * (1 - n ** 2)
        da_r = da_n * hn * r * (1 - r)
        da_z = dh_t * (h_prev[:, t] - n) * z * (1 - z)
        dx = np.where(valid, np.concatenate([da_r, da_z, da_n], axis=1), 0)
        dr = np.where(valid, np.concatenate([da_r, da_z, da_n * r], axis=1), 0)
        dA_x[:, t] = dx
        dA_h[:, t] = dr
        dh = np.where(valid, dh_t * z + dr @ W_h.T, dh)
    dX = dA_x @ W_x.T
    dW = _weight_grads(X, h_prev, dA_x, dA_h)
    db_hn = dA_h[:, :, 2 * H:].sum(axis=(0, 1))
    return dict(dX=dX, dh0=dh, dW=dW, db_hn=db_hn, delta_sq=delta_sq,
                n_clipped=n_clipped)


# --------------------------------------------------------------------------
# RNN (tanh)
# --------------------------------------------------------------------------
def rnn_forward(X, W, h0=None, lengths=None):
    """Forward pass of one Elman RNN layer with tanh.

    Parameters
    ----------
    X : ndarray of shape (B, T, F)
        Inputs; float32 or float64 fixes the dtype of the computation.
    W : ndarray of shape (F + H + 1, H)
        Packed parameters [W_x; W_h; b].
    h0 : ndarray of shape (B, H), default=None
        Initial hidden state; zeros when None.
    lengths : int ndarray of shape (B,), default=None
        Valid steps per sample, 1 <= lengths[b] <= T; T for all when None.

    Returns
    -------
    out : dict
        ``Y`` (B, T, H) outputs, zero at t >= lengths[b];
        ``h_T`` (B, H) state after step lengths[b]-1;
        ``gates`` (B, T, H) the new state h_t (zero at invalid steps);
        ``h_prev`` (B, T, H) hidden state entering step t.
    """
    X, W, W_x, W_h, b, (B, T, F, H) = _unpack(X, W, 1)
    lengths = _lengths(lengths, B, T)
    h = _array(h0, (B, H), X.dtype, "h0")

    A = X @ W_x + b  # (B, T, H)
    Y = np.zeros((B, T, H), dtype=X.dtype)
    gates = np.zeros((B, T, H), dtype=X.dtype)
    h_prev = np.zeros((B, T, H), dtype=X.dtype)
    for t in range(T):
        valid = (t < lengths)[:, None]
        h_prev[:, t] = h
        h_new = np.tanh(A[:, t] + h @ W_h)
        gates[:, t] = np.where(valid, h_new, 0)
        h = np.where(valid, h_new, h)
        Y[:, t] = np.where(valid, h_new, 0)
    return dict(Y=Y, h_T=h, gates=gates, h_prev=h_prev)


def rnn_backward(X, W, cache, dY, dh_T=None, lengths=None,
                 clip_step=None):
    """Backward pass (BPTT) of one Elman RNN layer with tanh.

    Parameters
    ----------
    X : ndarray of shape (B, T, F)
        The inputs given to :func:`rnn_forward`.
    W : ndarray of shape (F + H + 1, H)
        The packed parameters given to :func:`rnn_forward`.
    cache : dict
        The output of :func:`rnn_forward`; reads ``gates`` and ``h_prev``.
    dY : ndarray of shape (B, T, H)
        Gradient of the loss w.r.t. Y; ignored at t >= lengths[b].
    dh_T : ndarray of shape (B, H), default=None
        Gradient w.r.t. the final state; zeros when None.
    lengths : int ndarray of shape (B,), default=None
        As given to the forward.
    clip_step : float or None, default=None
        If given (> 0), dL/dh_t is clipped element-wise to
        [-clip_step, clip_step] at every valid step before it is used.

    Returns
    -------
    grads : dict
        ``dX`` (B, T, F) (zero at t >= lengths[b]), ``dh0`` (B, H),
        ``dW`` (F + H + 1, H); ``delta_sq`` (B, T) squared norm of dL/dh_t
        before clipping (0 at t >= lengths[b]); ``n_clipped`` (B,) entries
        clipped per sample.
    """
    X, W, W_x, W_h, _, (B, T, F, H) = _unpack(X, W, 1)
    lengths = _lengths(lengths, B, T)
    dY = _array(dY, (B, T, H), X.dtype, "dY")
    dh = _array(dh_T, (B, H), X.dtype, "dh_T")
    clip = _clip_value(clip_step, X.dtype)
    delta_sq, n_clipped = _clip_state(B, T, X.dtype)
    gates, h_prev = cache["gates"], cache["h_prev"]

    dA = np.zeros((B, T, H), dtype=X.dtype)
    for t in reversed(range(T)):
        valid = (t < lengths)[:, None]
        dh_t = dh + np.where(valid, dY[:, t], 0)
        dh_t = _clip_delta(dh_t, valid, clip, t, delta_sq, n_clipped)
        da = np.where(valid, dh_t * (1 - gates[:, t] ** 2), 0)
        dA[:, t] = da
        dh = np.where(valid, da @ W_h.T, dh)
    dX = dA @ W_x.T
    dW = _weight_grads(X, h_prev, dA, dA)
    return dict(dX=dX, dh0=dh, dW=dW, delta_sq=delta_sq, n_clipped=n_clipped)


def esn_forward(U, W_in, W, bias, leak, lengths=None, W_fb=None, Y_fb=None, x0=None,
                washout=0):
    """Leaky-tanh reservoir of an echo-state network (no training, no backward).

    ``x_t = (1 - leak) x_{t-1} + leak * tanh(W_in u_t + W x_{t-1} + b + W_fb y_t)``
    where ``y_t = Y_fb[:, t]`` is the value fed back at step t (the caller shifts
    it: the target or output of step t - 1).

    Parameters
    ----------
    U : (B, T, F) inputs.
    W_in : (N, F) input weights.  W : (N, N) reservoir weights (dense or a SciPy
        sparse matrix).  bias : (N,).  leak : float in (0, 1].
    lengths : (B,) ints in [1, T] or None (all T).  Steps past a sequence's end
        leave its state unchanged.
    W_fb : (N, O) feedback weights, with Y_fb (B, T, O); both or neither.
    x0 : (B, N) initial state or None (zeros).
    washout : int, steps left out of the mean state.

    Returns
    -------
    states : (B, T, N) the state after each step, 0 past a sequence's end.
    final : (B, N) the state after each sequence's last step.
    mean : (B, N) mean state over steps washout .. lengths[b]-1 (0 where none).
    """
    dtype = _dtype_of(U)
    B, T, _ = U.shape
    N = W_in.shape[0]
    lengths = _lengths(lengths, B, T)
    W = W.toarray() if hasattr(W, "toarray") else np.asarray(W)
    W = W.astype(dtype)
    x = np.zeros((B, N), dtype) if x0 is None else np.array(x0, dtype=dtype)
    states = np.zeros((B, T, N), dtype)
    total = np.zeros((B, N), dtype)
    leak = dtype.type(leak)
    for t in range(T):
        a = U[:, t] @ W_in.T.astype(dtype) + x @ W.T + bias.astype(dtype)
        if W_fb is not None:
            a = a + Y_fb[:, t] @ W_fb.T.astype(dtype)
        new = (1 - leak) * x + leak * np.tanh(a)
        valid = (t < lengths)[:, None]
        x = np.where(valid, new, x)
        states[:, t] = np.where(valid, x, 0)
        total += np.where(valid & (t >= washout), x, 0)
    counts = np.maximum(lengths - washout, 0)[:, None]
    mean = np.where(counts > 0, total / np.maximum(counts, 1), 0).astype(dtype)
    return states, x, mean
