"""First-order optimizers as small classes that update parameter arrays in place.

Each optimizer is built on the list of parameter arrays it owns and updates them,
in place, from a list of gradients of the same shapes. The formulas follow
PyTorch's documented updates, so a user moving from ``torch.optim`` gets what
they expect:

- ``weight_decay`` is an L2 penalty added to the gradient (``g + wd * p``), except
  for AdamW, where it is decoupled (``p -= lr * wd * p`` before the Adam step);
- ``l1`` adds ``l1 * sign(p)`` to the gradient;
- both apply only where the parameter's ``decay_mask`` is True (None applies them
  everywhere; the estimators pass :func:`bias_free_mask`, which spares biases).

Settings outside their range (a negative rate, a beta of 1, ...) are refused when
the optimizer is built, by name, as ``torch.optim`` refuses them: momentum, the
betas and RMSprop's ``alpha`` within [0, 1) (``alpha = 1`` kept ``v`` at 0, every
step ``lr * g / eps``); Adadelta's ``rho`` within [0, 1], 1 being a sound limit
(``u`` and ``v`` stay 0, the step is exactly ``lr * g``: plain SGD).
"""
import numpy as np

from ..utils._validation import check_real

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "OPTIMIZERS",
           "bias_free_mask", "build_optimizer"]


def bias_free_mask(name, array):
    """Where weight decay and L1 apply: everywhere but bias entries.

    A recurrent layer's packed ``W`` (F + H + 1, G*H) has its bias in the last row:
    every ``W`` but the dense head's (``head.W``), whichever container names it
    (``W``, ``rnn.0.W``, a stack's ``0.W``, a bidirectional layer's ``forward.W``);
    arrays whose own name starts with ``b`` (``b_hn``, the head's ``b``) are all
    bias; the head's ``W`` is all weights.

    Parameters
    ----------
    name : str
        The parameter's name; only its last dotted part is used.
    array : ndarray

    Returns
    -------
    ndarray of bool, broadcastable to ``array.shape``
    """
    last = name.rsplit(".", 1)[-1]
    if last.startswith("b"):
        return np.zeros(array.shape, dtype=bool)
    mask = np.ones(array.shape, dtype=bool)
    packed = not name.startswith("head.")  # a stack's "0.W" and "forward.W" too
    if last == "W" and array.ndim == 2 and packed:
        mask[-1] = False
    return mask


class Optimizer:
    """Base class: bookkeeping, penalties and the in-place update loop.

    Parameters
    ----------
    params : list of ndarray
        Updated in place by :meth:`step`.
    learning_rate : float
    weight_decay : float, default=0.0
        L2 penalty (coupled to the gradient; AdamW decouples it).
    l1 : float, default=0.0
    decay_masks : list of (ndarray of bool or None), default=None
        Per parameter, where the penalties apply; None applies them everywhere.

    Attributes
    ----------
    t : int
        Number of steps taken.
    """

    def __init__(self, params, learning_rate, *, weight_decay=0.0, l1=0.0,
                 decay_masks=None):
        self.params = list(params)
        self.learning_rate = check_real("learning_rate", learning_rate, 0)
        self.weight_decay = check_real("weight_decay", weight_decay, 0)
        self.l1 = check_real("l1", l1, 0)
        self.decay_masks = (list(decay_masks) if decay_masks is not None
                            else [None] * len(self.params))
        self.t = 0
        self._state = [self._init_state(p) for p in self.params]

    def _init_state(self, p):
        return {}

    def _penalised(self, i, g, coupled_l2=True):
        """The gradient plus the L1 (and, if coupled, the L2) penalty terms."""
        if not (self.l1 or (coupled_l2 and self.weight_decay)):
            return g
        p, mask = self.params[i], self.decay_masks[i]
        extra = np.zeros_like(p)
        if coupled_l2 and self.weight_decay:
            extra += self.weight_decay * p
        if self.l1:
            extra += self.l1 * np.sign(p)
        if mask is not None:
            extra *= mask
        return g + extra

    def rebind(self, params):
        """Update ``params`` from now on instead of the arrays held so far.

        A copy of a model whose copier does not keep shared arrays shared (joblib's
        pickler writes each array apart) leaves the optimizer holding copies of the
        weights: its updates then change arrays the network never reads. The
        optimizer's state (moments, step count) is kept.

        Parameters
        ----------
        params : iterable of ndarray
            The same number, order and shapes as ``self.params``.
        """
        params = list(params)
        if [p.shape for p in params] != [p.shape for p in self.params]:
            raise ValueError(f"rebind needs arrays of the shapes "
                             f"{[p.shape for p in self.params]}, got "
                             f"{[p.shape for p in params]}")
        self.params = params

    def snapshot(self):
        """A copy of the step count and every parameter's state (moments, buffers).

        Returns
        -------
        snapshot : tuple (int, list of dict of ndarray)
            For :meth:`restore`; the arrays are copies, unchanged by later steps.
        """
        return self.t, [{k: np.array(v, copy=True) for k, v in state.items()}
                        for state in self._state]

    def restore(self, snapshot):
        """Put the optimizer back as :meth:`snapshot` copied it: the updates since
        (an epoch cut short) leave no trace in its moments or step count.

        Parameters
        ----------
        snapshot : tuple
            From :meth:`snapshot` of this optimizer; it stays usable again.
        """
        self.t, states = snapshot
        for state, saved in zip(self._state, states):
            state.clear()
            state.update({k: v.copy() for k, v in saved.items()})

    def step(self, grads, learning_rate=None):
        """Update every parameter in place from its gradient.

        Parameters
        ----------
        grads : list of ndarray
            Same order and shapes as ``params``; not modified.
        learning_rate : float, default=None
            Overrides ``self.learning_rate`` for this step (learning-rate schedules).
        """
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradients for {len(self.params)} parameters")
        # every gradient before any update: a refused step changes nothing (a (4,)
        # gradient would broadcast over a (3, 4) parameter; a list, or text, failed
        # after the parameters before it had moved)
        grads = [np.asarray(g) for g in grads]
        for i, (g, p) in enumerate(zip(grads, self.params)):
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}, expected "
                                 f"params[{i}]'s shape {p.shape}")
            if g.dtype.kind not in "biuf":
                raise TypeError(f"grads[{i}] must hold numbers, got dtype {g.dtype}")
        lr = (self.learning_rate if learning_rate is None
              else check_real("learning_rate", learning_rate, 0))
        self.t += 1
        for i, g in enumerate(grads):
            self._update(i, g, lr, self._state[i])

    def _update(self, i, g, lr, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    ``buf = momentum * buf + g`` (``buf = g`` on the first step), then
    ``p -= lr * (g + momentum * buf)`` with Nesterov, else ``p -= lr * buf``.
    """

    def __init__(self, params, learning_rate=0.01, *, momentum=0.0, nesterov=False,
                 **kwargs):
        self.momentum = check_real("momentum", momentum, 0, 1, closed="left")
        if not isinstance(nesterov, (bool, np.bool_)):  # "no" would be truthy: on
            raise ValueError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0, "
                             f"got momentum={momentum!r}")
        self.nesterov = bool(nesterov)
        super().__init__(params, learning_rate, **kwargs)

    def _update(self, i, g, lr, state):
        g = self._penalised(i, g)
        if self.momentum:
            if "buf" not in state:
                state["buf"] = np.array(g, copy=True)
            else:
                state["buf"] *= self.momentum
                state["buf"] += g
            g = g + self.momentum * state["buf"] if self.nesterov else state["buf"]
        self.params[i] -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; L2 weight decay is coupled."""

    decoupled = False

    def __init__(self, params, learning_rate=0.001, *, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, **kwargs):
        self.beta_1 = check_real("beta_1", beta_1, 0, 1, closed="left")
        self.beta_2 = check_real("beta_2", beta_2, 0, 1, closed="left")
        self.epsilon = check_real("epsilon", epsilon, 0)
        super().__init__(params, learning_rate, **kwargs)

    def _init_state(self, p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def _update(self, i, g, lr, state):
        p = self.params[i]
        if self.decoupled and self.weight_decay:
            mask = self.decay_masks[i]
            p -= lr * self.weight_decay * (p if mask is None else p * mask)
        g = self._penalised(i, g, coupled_l2=not self.decoupled)
        m, v = state["m"], state["v"]
        m *= self.beta_1
        m += (1 - self.beta_1) * g
        v *= self.beta_2
        v += (1 - self.beta_2) * g * g
        m_hat = m / (1 - self.beta_1 ** self.t)
        v_hat = v / (1 - self.beta_2 ** self.t)
        p -= lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""

    decoupled = True

    def __init__(self, params, learning_rate=0.001, *, weight_decay=0.01, **kwargs):
        super().__init__(params, learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop: ``v = alpha v + (1 - alpha) g^2``, ``p -= lr g / (sqrt(v) + eps)``.

    With momentum, ``buf = momentum * buf + g / (sqrt(v) + eps)`` and ``p -= lr buf``.
    """

    def __init__(self, params, learning_rate=0.01, *, alpha=0.99, epsilon=1e-8,
                 momentum=0.0, **kwargs):
        # alpha = 1 keeps v at 0: every step would be lr * g / eps
        self.alpha = check_real("alpha", alpha, 0, 1, closed="left")
        self.epsilon = check_real("epsilon", epsilon, 0)
        self.momentum = check_real("momentum", momentum, 0, 1, closed="left")
        super().__init__(params, learning_rate, **kwargs)

    def _init_state(self, p):
        return {"v": np.zeros_like(p), "buf": np.zeros_like(p)}

    def _update(self, i, g, lr, state):
        g = self._penalised(i, g)
        v = state["v"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        step = g / (np.sqrt(v) + self.epsilon)
        if self.momentum:
            state["buf"] *= self.momentum
            state["buf"] += step
            step = state["buf"]
        self.params[i] -= lr * step


class Adagrad(Optimizer):
    """Adagrad: ``s += g^2``, ``p -= lr g / (sqrt(s) + eps)``."""

    def __init__(self, params, learning_rate=0.01, *, epsilon=1e-10, **kwargs):
        self.epsilon = check_real("epsilon", epsilon, 0)
        super().__init__(params, learning_rate, **kwargs)

    def _init_state(self, p):
        return {"s": np.zeros_like(p)}

    def _update(self, i, g, lr, state):
        g = self._penalised(i, g)
        state["s"] += g * g
        self.params[i] -= lr * g / (np.sqrt(state["s"]) + self.epsilon)


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): step = sqrt(u + eps) / sqrt(v + eps) * g."""

    def __init__(self, params, learning_rate=1.0, *, rho=0.9, epsilon=1e-6, **kwargs):
        # rho = 1 is sound: u and v stay 0, the step is exactly lr * g (SGD)
        self.rho = check_real("rho", rho, 0, 1)
        # sqrt(u + eps) / sqrt(v + eps) is 0 / 0 at the first step without it
        self.epsilon = check_real("epsilon", epsilon, 0, closed="neither")
        super().__init__(params, learning_rate, **kwargs)

    def _init_state(self, p):
        return {"v": np.zeros_like(p), "u": np.zeros_like(p)}

    def _update(self, i, g, lr, state):
        g = self._penalised(i, g)
        v, u = state["v"], state["u"]
        v *= self.rho
        v += (1 - self.rho) * g * g
        delta = np.sqrt(u + self.epsilon) / np.sqrt(v + self.epsilon) * g
        u *= self.rho
        u += (1 - self.rho) * delta * delta
        self.params[i] -= lr * delta


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop,
              "adagrad": Adagrad, "adadelta": Adadelta}


def build_optimizer(name, named_params, learning_rate, *, decay_biases=False, **options):
    """An optimizer over a network's parameters, penalties sparing biases by default.

    Parameters
    ----------
    name : {'sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta'}
    named_params : dict of ndarray
        ``Network.params``; the optimizer updates these arrays in place, in this
        order (pass gradients in the same order).
    learning_rate : float
    decay_biases : bool, default=False
        Apply ``weight_decay`` and ``l1`` to biases too.
    **options
        The optimizer's own options (``momentum``, ``weight_decay``, ``l1``, ...).

    Returns
    -------
    Optimizer
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    masks = None if decay_biases else [bias_free_mask(k, v) for k, v in named_params.items()]
    return OPTIMIZERS[name](list(named_params.values()), learning_rate, decay_masks=masks,
                            **options)
