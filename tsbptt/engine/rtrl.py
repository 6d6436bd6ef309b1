"""Real-time recurrent learning (RTRL): exact gradients carried forward in time.

Williams & Zipser (1989). Besides the state, the network carries the sensitivity
``S_t = dh_t / dtheta`` of its state with respect to every recurrent parameter and
updates it at each step with the step's Jacobians,

    S_t = (dh_t / dh_{t-1}) S_{t-1} + (immediate dh_t / dtheta),

so the gradient of a loss at step t is available at step t, ``dL_t/dh_t @ S_t``,
with no backward pass, no window and no truncation. Summed over a whole sequence
with fixed weights it is exactly the gradient of full BPTT; updating the weights
at every step (online learning, :class:`RTRLTrainer`) carries the sensitivities
across the updates, the usual approximation that makes RTRL online.

Supported networks: :class:`~tsbptt.engine.network.Network` with ONE
unidirectional recurrent layer ('rnn', 'gru' or 'lstm'), many-to-one or
many-to-many, no dropout; the gradient covers every weight (``rnn.0.W``, GRU
``rnn.0.b_hn``, ``head.W``, ``head.b``). Stacked and bidirectional networks are
refused: a bidirectional layer needs the future, and a stack would need the
sensitivities of every layer with respect to every lower layer's weights.

Cost, per step and sequence, with K = F + H + 1 rows of the packed ``W`` and G
gates (RNN 1, GRU 3, LSTM 4): the sensitivity holds ``H * G*H * K`` numbers
(twice that for the LSTM's cell state) and its update is one product of an
(H, H) Jacobian with it, ``2 H * H * G*H * K`` flops: O(G H^4) for H >> F, against
O(k G H^2) per update of truncated BPTT through k steps (the LSTM's product
has 2H rows: cell and hidden state). Measured (``benchmarks/bench_rtrl.py``,
``benchmarks/reports/rtrl.md``): an online step costs less than a TBPTT update through
16 or 64 steps up to H = 32 for the RNN and H = 16 for the GRU (at small H both
are mostly call overhead), and 3-19x more at H = 64-128; TBPTT that updates once
per window is always cheaper per observation. RTRL pays where the dependency to
learn is longer than any window TBPTT can afford, where memory must not grow with
it, or where the weights must follow a stream step by step, for small H.

Layout: ``S[b, i, c, k] = dh[b, i] / dW[k, c]`` (B, H, G*H, K), i.e. ``W``'s
transpose flattened per hidden unit, so the entries that a unit's own gate
columns touch directly, ``S[b, i, g*H + i, :]``, form one strided view. The
GRU's ``b_hn`` has its own ``S_b[b, i, j] = dh[b, i] / db_hn[j]`` (B, H, H); the
LSTM's cell state its own ``S_c``, laid out as ``S``.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy.special import expit

from .._kernels import all_finite
from ..utils._validation import check_memory, check_real
from ._threads import all_blas_single_threaded
from .clipping import clip_by_global_norm, global_norm
from .layers import check_lengths, check_sequences

__all__ = ["RTRL", "RTRLTrainer", "rtrl_gradients", "check_rtrl_network"]


def check_rtrl_network(net):
    """Raise a ValueError unless RTRL supports ``net`` (see the module notes)."""
    layers = net.stack.layers
    if len(layers) != 1:
        raise ValueError(f"RTRL supports one recurrent layer, the network has "
                         f"{len(layers)}: a stack would carry every layer's sensitivity "
                         "to every lower layer's weights; use num_layers=1")
    if net.bidirectional:
        raise ValueError("RTRL cannot train a bidirectional layer: its backward "
                         "direction reads the future; use bidirectional=False")
    if net.dropout > 0 or net.input_dropout > 0:
        raise ValueError(f"RTRL computes exact gradients without dropout, got "
                         f"dropout={net.dropout}, input_dropout={net.input_dropout}")


def check_rtrl_memory(cell, input_size, hidden_size, batch, dtype):
    """Raise ValueError (:func:`tsbptt.utils._validation.check_memory`) unless RTRL's
    sensitivities fit in memory, before any is allocated: ``batch * H * G*H *
    (F + H + 1)`` values, twice (the LSTM: four times)."""
    n_gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]
    n_sens = 2 if cell == "lstm" else 1
    check_memory([(batch, hidden_size, n_gates * hidden_size, input_size + hidden_size + 1)],
                 dtype, 2 * n_sens, f"RTRL with batch={batch}, hidden_size={hidden_size}",
                 held="its sensitivities")


def _unit_diagonal(S, n_gates):
    """Writable view (B, H, G, K) of S (B, H, G*H, K): ``[b, i, g, k] = S[b, i, g*H + i, k]``,
    the entries of unit i's sensitivity to its own gate columns."""
    B, H, _, K = S.shape
    sb, si, sc, sk = S.strides
    return as_strided(S, shape=(B, H, n_gates, K), strides=(sb, si + sc, H * sc, sk))


class RTRL:
    """Forward-mode gradient tracker: the state and its sensitivities, step by step.

    Parameters
    ----------
    net : tsbptt.engine.network.Network
        One unidirectional layer, no dropout (:func:`check_rtrl_network`). Its
        parameter arrays are read at every step, so in-place updates between steps
        (an optimizer) take effect at the next step.
    batch : int, default=1
        Independent sequences advanced together.
    initial_state : tuple of ndarray of shape (batch, H) or None, default=None
        ``(h0,)``, ``(h0, c0)`` for an LSTM; zeros when None. The sensitivities
        start at zero (the initial state does not depend on the weights).

    Attributes
    ----------
    h, c : ndarray of shape (batch, H)
        The state (``c`` only for an LSTM, else None).
    S : ndarray of shape (batch, H, G*H, F + H + 1)
        ``dh / dW`` in the layout of the module notes.
    """

    def __init__(self, net, batch=1, initial_state=None):
        check_rtrl_network(net)
        self.net = net
        self.layer = net.stack.layers[0]
        self.kind = self.layer.cell.name
        self.reset(batch, initial_state)

    # -- state ----------------------------------------------------------------------
    def reset(self, batch=1, initial_state=None):
        """Start new sequences: the given (or zero) state, zero sensitivities."""
        layer, dt = self.layer, self.net.dtype
        F, H, G = layer.input_size, layer.hidden_size, layer.cell.n_gates
        K = F + H + 1
        n_sens = 2 if self.kind == "lstm" else 1
        check_rtrl_memory(self.kind, F, H, batch, dt)
        state = layer._check_state(initial_state, batch, "initial_state")
        self.h = state[0].copy()
        self.c = state[1].copy() if self.kind == "lstm" else None
        # The LSTM keeps S_c and S stacked in one buffer (S_c first), so one product
        # updates both; the next step writes into the spare buffer, without allocating.
        self._buf = np.zeros((batch, n_sens * H, G * H, K), dt)
        self._spare = np.zeros_like(self._buf)
        self._tmp = np.empty((batch, H, G * H, K), dt) if self.kind == "lstm" else None
        self._make_views()
        self.S_b = np.zeros((batch, H, H), dt) if self.kind == "gru" else None
        self._xh = np.zeros((batch, K), dt)
        self._xh[:, -1] = 1

    def _make_views(self):
        """Each buffer's unit-diagonal views (per block of H rows), made once, and
        ``S`` (and ``S_c``) as views of the current buffer."""
        H, G = self.layer.hidden_size, self.layer.cell.n_gates
        self._diags = {id(b): [_unit_diagonal(b[:, r:r + H], G)
                               for r in range(0, b.shape[1], H)]
                       for b in (self._buf, self._spare)}
        self._point_into(self._buf)

    def __getstate__(self):
        # views do not survive a copy as views (a copy of each is made apart from
        # its buffer), and _diags is keyed by the buffers' ids: both are remade
        state = self.__dict__.copy()
        for name in ("_diags", "S", "S_c"):
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._make_views()

    def _point_into(self, buf):
        """Make ``S`` (and ``S_c``) views of ``buf``."""
        H = self.layer.hidden_size
        self.S, self.S_c = (buf, None) if self.kind != "lstm" else (buf[:, H:], buf[:, :H])

    def _swap(self):
        """The spare buffer, just filled, becomes the current one."""
        self._buf, self._spare = self._spare, self._buf
        self._point_into(self._buf)

    @property
    def state(self):
        """The state as the layer takes it: ``(h,)`` or ``(h, c)``."""
        return (self.h,) if self.c is None else (self.h, self.c)

    # -- one step ---------------------------------------------------------------------
    def step(self, x_t, valid=None):
        """Advance every sequence one step and return the head's output.

        Parameters
        ----------
        x_t : ndarray of shape (batch, F), the network's dtype
        valid : ndarray of bool of shape (batch,) or None, default=None
            Rows that take this step; the others keep their state and
            sensitivities (a sequence that has ended). None: all rows.

        Returns
        -------
        out : ndarray of shape (batch, output_size)
            The head applied to the new state (the old one for rows not valid).
        """
        F = self.layer.input_size
        old = None if valid is None or valid.all() else (self.h, self.c, self.S,
                                                          self.S_c, self.S_b)
        self._xh[:, :F] = x_t
        self._xh[:, F:-1] = self.h
        getattr(self, f"_{self.kind}_step")(self.layer.params)
        if old is not None:
            self._keep_rows(~valid, old)
        return self.output()

    def output(self):
        """The head applied to the current state, (batch, output_size)."""
        head = self.net.head
        return self.h @ head["W"] + head["b"]

    def _keep_rows(self, rows, old):
        names = ("h", "c", "S", "S_c", "S_b")
        for name, before in zip(names, old):
            if before is not None:
                getattr(self, name)[rows] = before[rows]

    def _propagate(self, J, n_gates, coef, xh):
        """``J @ S`` into the spare buffer, plus the immediate term ``coef * xh`` on
        the unit diagonal.

        J (B, n*H, H): the state Jacobian (the LSTM stacks those of c and h); coef
        (B, n*H, G): the derivative of the new state with respect to each gate's
        pre-activation. Returns the spare buffer (B, n*H, G*H, K) and its
        unit-diagonal views.
        """
        B, H = J.shape[0], self.layer.hidden_size
        out = self._spare
        np.matmul(J, self.S.reshape(B, H, -1), out=out.reshape(B, J.shape[1], -1))
        diags = self._diags[id(out)]
        for r, diag in zip(range(0, J.shape[1], H), diags):  # the LSTM: c's rows, then h's
            diag += coef[:, r:r + H, :, None] * xh[:, None, None, :]
        return out, diags

    def _rnn_step(self, p):
        W, F, H = p["W"], self.layer.input_size, self.layer.hidden_size
        xh = self._xh
        h = np.tanh(xh @ W)
        D = 1 - h * h
        J = D[:, :, None] * W[F:F + H].T
        self._propagate(J, 1, D[:, :, None], xh)
        self._swap()
        self.h = h

    def _gru_step(self, p):
        W, b_hn, F, H = p["W"], p["b_hn"], self.layer.input_size, self.layer.hidden_size
        xh, h = self._xh, self.h
        W_h = W[F:F + H]
        gx = xh[:, :F] @ W[:F] + W[F + H]
        gh = h @ W_h
        r = expit(gx[:, :H] + gh[:, :H])
        z = expit(gx[:, H:2 * H] + gh[:, H:2 * H])
        hn = gh[:, 2 * H:] + b_hn
        n = np.tanh(gx[:, 2 * H:] + r * hn)
        D_n = (1 - z) * (1 - n * n)
        D_z = (h - n) * z * (1 - z)
        D_r = D_n * hn * r * (1 - r)
        J = (D_r[:, :, None] * W_h[:, :H].T + D_z[:, :, None] * W_h[:, H:2 * H].T
             + (D_n * r)[:, :, None] * W_h[:, 2 * H:].T)
        units = np.arange(H)
        J[:, units, units] += z  # (J may be laid out transposed: no reshaped view)
        coef = np.stack([D_r, D_z, D_n], axis=2)
        _, (diag,) = self._propagate(J, 3, coef, xh)
        # the candidate's recurrent rows enter through r * (h W_hn): scale them by r
        diag[:, :, 2, F:F + H] += (D_n * (r - 1))[:, :, None] * h[:, None, :]
        S_b = np.matmul(J, self.S_b)
        S_b[:, units, units] += D_n * r
        self._swap()
        self.S_b = S_b
        self.h = (1 - z) * n + z * h

    def _lstm_step(self, p):
        W, F, H = p["W"], self.layer.input_size, self.layer.hidden_size
        xh, c = self._xh, self.c
        a = xh @ W
        i, f, o = (expit(a[:, k * H:(k + 1) * H]) for k in (0, 1, 3))
        g = np.tanh(a[:, 2 * H:3 * H])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        W_hT = W[F:F + H].T  # (4H, H): row q*H + j is unit j's gate q
        D_o = tc * o * (1 - o)
        coef_c = np.stack([g * i * (1 - i), c * f * (1 - f), i * (1 - g * g),
                           np.zeros_like(g)], axis=2)
        J_c = sum(coef_c[:, :, q, None] * W_hT[q * H:(q + 1) * H] for q in range(3))
        coef_o = np.zeros_like(coef_c)
        coef_o[:, :, 3] = D_o
        # [dc/dtheta; dh/dtheta] through h and directly: the gates i, f, g for c, o for h
        out, _ = self._propagate(
            np.concatenate([J_c, D_o[:, :, None] * W_hT[3 * H:]], axis=1), 4,
            np.concatenate([coef_c, coef_o], axis=1), xh)
        S_c, S_h, tmp = out[:, :H], out[:, H:], self._tmp
        np.multiply(f[:, :, None, None], self.S_c, out=tmp)  # the old cell, kept by f
        S_c += tmp
        np.multiply((o * (1 - tc * tc))[:, :, None, None], S_c, out=tmp)
        S_h += tmp
        self._swap()
        self.c, self.h = c_new, o * tc

    # -- gradients ----------------------------------------------------------------------
    def gradients(self, d_out):
        """Gradients of a loss on the current output, keyed like ``net.params``.

        Parameters
        ----------
        d_out : ndarray of shape (batch, output_size)
            dL/dout for :meth:`output`'s value (rows with zeros contribute nothing).

        Returns
        -------
        dict of ndarray
            ``rnn.0.W`` (F + H + 1, G*H), GRU ``rnn.0.b_hn`` (H,), ``head.W``
            (H, output_size), ``head.b`` (output_size,).
        """
        head = self.net.head
        d_out = np.asarray(d_out, dtype=self.net.dtype)
        dh = d_out @ head["W"].T
        B, H, GH, K = self.S.shape
        dh = dh.reshape(B * H)
        gW = (dh @ self.S.reshape(B * H, GH * K)).reshape(GH, K)
        grads = {"rnn.0.W": np.ascontiguousarray(gW.T)}
        if self.S_b is not None:
            grads["rnn.0.b_hn"] = dh @ self.S_b.reshape(B * H, H)
        grads["head.W"] = self.h.T @ d_out
        grads["head.b"] = d_out.sum(axis=0)
        return grads


def _add_into(total, grads):
    if total is None:
        return {k: v.copy() for k, v in grads.items()}
    for k, v in grads.items():
        total[k] += v
    return total


def rtrl_gradients(net, X, loss_fn, *, lengths=None, initial_state=None):
    """Loss and gradients of a batch of sequences by RTRL, in one forward pass.

    With fixed weights this is the gradient that :func:`tsbptt.engine.full_bptt`
    computes (to rounding), built forward in time.

    Parameters
    ----------
    net : tsbptt.engine.network.Network
        See :func:`check_rtrl_network`.
    X : ndarray of shape (B, T, F), the network's dtype
    loss_fn : callable
        Many-to-many networks: ``loss_fn(out_t, t) -> (value, d_out_t)`` or None (no
        loss at step t), called at every step with ``out_t`` (B, output_size), zero
        for rows past their length (whose ``d_out_t`` is ignored). Many-to-one:
        ``loss_fn(out) -> (value, d_out)`` once, with each sequence's output after
        its last step, as :meth:`Network.forward` gives it.
    lengths : ndarray of int of shape (B,) or None, default=None (all T)
    initial_state : tuple of ndarray of shape (B, H) or None, default=None

    Returns
    -------
    value : float
        The summed values that ``loss_fn`` returned.
    grads : dict of ndarray, keyed like ``net.params``
    state : tuple of ndarray of shape (B, H), each sequence's final state
    """
    check_rtrl_network(net)
    X = check_sequences(X, net.input_size, net.dtype)
    B, T, _ = X.shape
    lengths = check_lengths(lengths, B, T)
    tracker = RTRL(net, B, initial_state)
    value, grads = 0.0, None
    with all_blas_single_threaded():  # NumPy's products: the same bits for any threads
        for t in range(T):
            valid = t < lengths
            out_t = tracker.step(X[:, t], valid)
            if not net.many_to_many:
                continue
            out_t[~valid] = 0
            result = loss_fn(out_t, t)
            if result is not None:
                v, d_out = result
                value += v
                grads = _add_into(grads, tracker.gradients(np.where(valid[:, None], d_out,
                                                                    0)))
    if not net.many_to_many:
        value, d_out = loss_fn(tracker.output())
        grads = tracker.gradients(d_out)
    if grads is None:  # no step carried a loss
        grads = {k: np.zeros_like(v) for k, v in net.params.items()}
    return float(value), grads, tracker.state


class RTRLTrainer:
    """Online learning by RTRL: one observation, one weight update.

    Each :meth:`learn` call advances the state and sensitivities one step, takes the
    loss of the output against the target, and updates the weights in place from
    that step's exact gradient; nothing is stored from past steps. (Hold NumPy's
    BLAS at one thread around a run of calls, ``engine._threads.
    all_blas_single_threaded``, for the same bits at any thread count; the
    estimator does.) The sensitivities are carried across the updates (they were computed with the
    previous weights): the standard online RTRL, exact in the limit of small steps.

    Parameters
    ----------
    net : tsbptt.engine.network.Network
        Many-to-many, see :func:`check_rtrl_network`.
    optimizer : tsbptt.engine.optimizers.Optimizer
        Built over ``net.params`` (same order), e.g. by ``build_optimizer``.
    loss : tsbptt.engine.losses.Loss
        Called as ``loss(out_t, y_t)`` with (batch, output_size) arrays.
    batch : int, default=1
        Parallel streams.
    clip_norm : float or None, default=None
        Clip each step's gradient by global norm before the update.
    """

    def __init__(self, net, optimizer, loss, *, batch=1, clip_norm=None):
        if not net.many_to_many:
            raise ValueError("online RTRL needs a many-to-many network (a loss at "
                             "every step); build it with many_to_many=True")
        self.net, self.optimizer, self.loss = net, optimizer, loss
        self.clip_norm = clip_norm
        self.tracker = RTRL(net, batch)
        self._names = list(net.params)

    def __setstate__(self, state):
        # a trainer pickled before clip_norm was a checked property kept it plain
        if "clip_norm" in state:
            state["_clip_norm"] = state.pop("clip_norm")
        self.__dict__.update(state)

    @property
    def clip_norm(self):
        """The global-norm clip of each step's gradient, or None."""
        return self._clip_norm

    @clip_norm.setter
    def clip_norm(self, value):
        # checked when set, not in learn(): there the state has read x_t already
        self._clip_norm = None if value is None else check_real(
            "clip_norm", value, 0, closed="neither")

    def learn(self, x_t, y_t):
        """One observation per stream: predict, then learn from the target.

        Parameters
        ----------
        x_t : ndarray of shape (batch, F)
        y_t : ndarray of shape (batch, output_size)

        Returns
        -------
        out : ndarray of shape (batch, output_size)
            The prediction made before the update.
        value : float
            The loss of that prediction.

        Raises
        ------
        FloatingPointError
            When the loss or a gradient is not finite, or the update makes a weight
            non-finite; the weights and the optimizer's state (moments, step count)
            are then those before the step. The state and sensitivities have read
            ``x_t``.
        """
        out = self.tracker.step(x_t)
        value, d_out = self.loss(out, y_t)
        grads, norm = None, np.nan
        if np.isfinite(value) and np.isfinite(d_out).all():
            grads = self.tracker.gradients(d_out)
            norm = global_norm(grads)  # not finite if any gradient is not
        if not np.isfinite(norm):  # before the update: the weights stay finite
            largest = max(float(np.max(np.abs(v))) for v in self.net.params.values())
            raise FloatingPointError(
                f"online RTRL step {self.optimizer.t + 1} gave a non-finite loss or "
                "gradient; the weights were not updated. Lower the learning rate, "
                "set clip_norm, or scale the inputs and targets" + (
                    f"; the largest weight is already {largest:.3g}, from earlier "
                    "steps: fit the model afresh (fit, not partial_fit)"
                    if largest > 1e6 else ""))
        if self.clip_norm is not None:
            clip_by_global_norm(grads, self.clip_norm, norm)
        params = self.net.params
        before = [params[k].copy() for k in self._names]
        # the moments and step count too: a step undone leaves no trace in them
        # (O(weights) to copy, against the step's O(H^4) sensitivities)
        moments = self.optimizer.snapshot()
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            self.optimizer.step([grads[k] for k in self._names])
        if not all(all_finite(params[k]) for k in self._names):
            for k, b in zip(self._names, before):
                params[k][...] = b
            self.optimizer.restore(moments)
            raise FloatingPointError(
                f"online RTRL step {self.optimizer.t + 1} made the weights non-finite; "
                "the weights and the optimizer are back to where they were before it. "
                "Lower the learning rate, set clip_norm, or scale the inputs and targets")
        return out, value
