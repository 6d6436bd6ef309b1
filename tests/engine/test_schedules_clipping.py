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
    with pytest.raises(ValueError, match="factor must be in"):
        ReduceOnPlateau(1.0, factor=1.5)
    with pytest.raises(ValueError, match="step_size >= 1"):
        StepDecay(1.0, 0)


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
