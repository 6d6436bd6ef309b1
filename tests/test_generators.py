"""tsbptt.datasets.make_mackey_glass: the delay equation's known behaviour."""
import numpy as np
import pytest

from tsbptt.datasets import make_mackey_glass


def test_deterministic_and_consistent_in_length_and_discard():
    a = make_mackey_glass(300)
    assert a.shape == (300,) and a.dtype == np.float64
    assert np.array_equal(a, make_mackey_glass(300))
    assert np.array_equal(make_mackey_glass(100, discard=0)[40:],
                          make_mackey_glass(60, discard=40))
    assert 0.2 < a.min() < a.max() < 1.4


def test_short_delay_settles_on_the_fixed_point():
    # beta x / (1 + x^10) = gamma x  =>  x* = (beta / gamma - 1) ** (1 / 10) = 1
    y = make_mackey_glass(20, tau=2, discard=1500)
    np.testing.assert_allclose(y, 1.0, atol=1e-9)


def test_fourth_order_steps_agree_with_half_steps():
    coarse = make_mackey_glass(60, discard=0)
    fine = make_mackey_glass(60, discard=0, dt=0.05, sample_every=20)
    # the delayed value mid-step is interpolated linearly: second order, and the
    # constant history has a kink at t = tau
    np.testing.assert_allclose(coarse, fine, atol=5e-5)


def test_first_step_by_hand():
    # constant history x0: x' = beta x0 / (1 + x0^10) - gamma x0 for the first tau
    x0, dt = 1.2, 0.1
    y = make_mackey_glass(1, discard=0, sample_every=1, dt=dt)

    def f(x):
        return 0.2 * x0 / (1 + x0 ** 10) - 0.1 * x

    k1 = f(x0)
    k2 = f(x0 + dt / 2 * k1)
    k3 = f(x0 + dt / 2 * k2)
    k4 = f(x0 + dt * k3)
    assert y[0] == pytest.approx(x0 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4), rel=1e-15)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_samples=0), "n_samples must be a finite number >= 1, got 0"),
    (dict(n_samples=10, tau=-1), "tau must be a finite number > 0, got -1"),
    (dict(n_samples=10, sample_every=2.5), "sample_every must be a finite number"),
    (dict(n_samples=True), "n_samples must be"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_mackey_glass(**kwargs)
