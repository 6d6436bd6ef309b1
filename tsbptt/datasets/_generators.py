"""Generated series: deterministic, computed on demand (nothing is stored).

- :func:`make_mackey_glass`: the Mackey-Glass delay differential equation, the
  classic benchmark of reservoir computing (chaotic for ``tau=17``).
"""
from numbers import Integral, Real

import numpy as np

__all__ = ["make_mackey_glass"]


def _check(name, value, kind, low, low_open=False):
    bad_type = not isinstance(value, kind) or isinstance(value, bool)
    if bad_type or not np.isfinite(value) or value < low or (low_open and value == low):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"make_mackey_glass: {name} must be a finite number {bound}, "
                         f"got {value!r}")


def make_mackey_glass(n_samples, tau=17, *, beta=0.2, gamma=0.1, exponent=10, dt=0.1,
                      sample_every=10, x0=1.2, discard=1000):
    """The Mackey-Glass series, integrated with a fixed step and subsampled.

    The delay differential equation

    ``dx/dt = beta * x(t - tau) / (1 + x(t - tau) ** exponent) - gamma * x(t)``

    is integrated by the classical fourth-order Runge-Kutta method with step ``dt``
    from the constant history ``x(t) = x0`` for ``t <= 0``; the delayed value
    half-way through a step is the mean of the two stored values around it
    (linear interpolation: second-order accurate; with ``discard=0``, halving
    ``dt`` moves the first 60 samples by less than 5e-5. The series is chaotic:
    after the default ``discard`` of 1000 time units the same halving moves them
    by about 2e-3, as any integration error grows).
    Every ``sample_every``-th point is kept (one sample per ``dt * sample_every``
    time units: 1 by default, as in Jaeger & Haas, 2004), and the first
    ``discard`` samples (the transient from the constant history) are dropped.
    No randomness: the same arguments give the same bits.

    Parameters
    ----------
    n_samples : int
        Length of the returned series (>= 1).
    tau : float, default=17
        The delay; the series is chaotic for tau > 16.8 (17 and 30 are the usual
        benchmarks). Rounded to a whole number of steps ``dt``.
    beta : float, default=0.2
    gamma : float, default=0.1
    exponent : float, default=10
    dt : float, default=0.1
        Integration step.
    sample_every : int, default=10
        Integration steps per returned sample.
    x0 : float, default=1.2
        The constant history before t = 0.
    discard : int, default=1000
        Leading samples dropped (the transient).

    Returns
    -------
    y : ndarray of shape (n_samples,), float64
        Values between about 0.2 and 1.4 for the default parameters.

    Examples
    --------
    >>> from tsbptt.datasets import make_mackey_glass
    >>> y = make_mackey_glass(2000)
    >>> y.shape
    (2000,)
    """
    _check("n_samples", n_samples, Integral, 1)
    _check("sample_every", sample_every, Integral, 1)
    _check("discard", discard, Integral, 0)
    for name, value in (("tau", tau), ("dt", dt)):
        _check(name, value, Real, 0, low_open=True)
    for name, value in (("beta", beta), ("gamma", gamma), ("exponent", exponent),
                        ("x0", x0)):
        _check(name, value, Real, 0)
    delay = max(1, int(round(tau / dt)))
    n_steps = (n_samples + discard) * sample_every
    x = np.empty(delay + n_steps + 1)
    x[:delay + 1] = x0

    def f(x_now, x_lag):
        return beta * x_lag / (1.0 + x_lag ** exponent) - gamma * x_now

    for i in range(delay, delay + n_steps):
        lag0, lag1 = x[i - delay], x[i - delay + 1]
        lag_mid = 0.5 * (lag0 + lag1)
        k1 = f(x[i], lag0)
        k2 = f(x[i] + 0.5 * dt * k1, lag_mid)
        k3 = f(x[i] + 0.5 * dt * k2, lag_mid)
        k4 = f(x[i] + dt * k3, lag1)
        x[i + 1] = x[i] + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    samples = x[delay + sample_every::sample_every]
    return samples[discard:discard + n_samples].copy()
