"""Learning-rate schedules and gradient clipping helpers."""
import numpy as np
import pytest

from tsbptt.engine.clipping import clip_by_global_norm, clip_by_value, global_norm
from tsbptt.engine.schedules import Constant, Cosine, ReduceOnPlateau, StepDecay


def test_schedules():
    assert [Constant(0.1).rate(e) for e in (0, 5)] == [0.1, 0.1]
    assert [StepDecay(1.0, 2, 0.5).rate(e) for e in range(5)] == [1, 1, 0.5, 0.5, 0.25]
    cos = Cosine(1.0, 10, min_rate=0.1)
    assert cos.rate(0) == pytest.approx(1.0) and cos.rate(10) == pytest.approx(0.1)
    assert cos.rate(5) == pytest.approx(0.55) and cos.rate(20) == pytest.approx(0.1)
    plateau = ReduceOnPlateau(1.0, factor=0.5, patience=1)
    rates = [plateau.rate(e, m) for e, m in enumerate([None, 3.0, 2.0, 2.0, 2.0, 2.0, 1.0])]
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match=r"factor must be a number in \(0, 1\), got 1.5"):
        ReduceOnPlateau(1.0, factor=1.5)
    with pytest.raises(ValueError, match="step_size must be an integer >= 1, got 0"):
        StepDecay(1.0, 0)
    with pytest.raises(ValueError, match=r"gamma must be a number in \(0, 1\], got 0"):
        StepDecay(1.0, 2, 0)


@pytest.mark.parametrize("make,msg", [
    # taken as 1 epoch, as a rising rate, as a reduction after every epoch, before
    (lambda: Cosine(1.0, 0), "n_epochs must be an integer >= 1, got 0"),
    (lambda: Cosine(1.0, -5), "n_epochs must be an integer >= 1, got -5"),
    (lambda: Cosine(0.1, 10, min_rate=1.0), r"min_rate must be a number in \[0, 0.1\], got 1.0"),
    (lambda: ReduceOnPlateau(1.0, patience=-1), "patience must be an integer >= 0, got -1"),
    (lambda: ReduceOnPlateau(1.0, min_rate=-1), "min_rate must be a number >= 0, got -1"),
    (lambda: ReduceOnPlateau(1.0, min_delta=-1), "min_delta must be a number >= 0, got -1"),
    (lambda: Constant(-0.1), "learning_rate must be a number >= 0, got -0.1"),
])
def test_schedule_settings_out_of_range_are_refused_by_name(make, msg):
    with pytest.raises(ValueError, match=f"^{msg}$"):
        make()


def test_clipping():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == pytest.approx(5.0)
    assert not clip_by_global_norm(grads, 10.0)
    assert clip_by_global_norm(grads, 1.0)
    assert global_norm(grads) == pytest.approx(1.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0])
    g = {"a": np.array([-3.0, 0.5, 2.0])}
    assert clip_by_value(g, 1.0) == 2
    np.testing.assert_array_equal(g["a"], [-1.0, 0.5, 1.0])


@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan, np.inf, True])
def test_clipping_thresholds_must_be_positive_finite_numbers(bad):
    # max_norm=-1 flipped the gradients' sign, clip_value=-1 set them all to -1,
    # clip_value=nan made them NaN
    g = {"a": np.array([3.0, -4.0, 0.1])}
    with pytest.raises(ValueError, match=f"^max_norm must be a number > 0, got {bad!r}$"):
        clip_by_global_norm(g, bad)
    with pytest.raises(ValueError, match=f"^clip_value must be a number > 0, got {bad!r}$"):
        clip_by_value(g, bad)
    np.testing.assert_array_equal(g["a"], [3.0, -4.0, 0.1])


def test_global_norm_of_finite_gradients_whose_squares_overflow():
    # float64 entries from about 1e154 up: the squares overflowed, the norm was inf
    # (with NumPy's overflow warning), and training stopped on "the gradients are
    # not finite" where clip_norm could have scaled them
    grads = {"a": np.array([3e200, 0.0]), "b": np.array([[4e200]])}
    with np.errstate(all="raise"):
        assert global_norm(grads) == pytest.approx(5e200, rel=1e-15)
        assert clip_by_global_norm(grads, 1.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-12)
    assert global_norm({"a": np.array([1e300, np.inf])}) == np.inf
    assert np.isnan(global_norm({"a": np.array([1e300, np.nan])}))
    small = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(small) == 5.0
