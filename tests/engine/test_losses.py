"""Losses: values against direct formulas, gradients against finite differences."""
import numpy as np
import pytest

from tsbptt.engine.losses import MAE, MSE, Huber, Quantile, SoftmaxCrossEntropy


def _fd_grad(loss, pred, target, w, eps=1e-6):
    g = np.zeros_like(pred)
    for idx in np.ndindex(pred.shape):
        p1, p2 = pred.copy(), pred.copy()
        p1[idx] += eps
        p2[idx] -= eps
        g[idx] = (loss(p1, target, w)[0] - loss(p2, target, w)[0]) / (2 * eps)
    return g


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss,targets", [
    (MSE(), "reg"), (MAE(), "reg"), (Huber(0.7), "reg"),
    (Quantile((0.1, 0.5, 0.9)), "quant"), (SoftmaxCrossEntropy(), "cls")])
def test_gradient_matches_finite_differences(loss, targets, weighted):
    rng = np.random.default_rng(0)
    N = 7
    w = rng.uniform(0.1, 2.0, N) if weighted else None
    if targets == "reg":
        pred, y = rng.standard_normal((N, 3)), rng.standard_normal((N, 3))
    elif targets == "quant":
        pred, y = rng.standard_normal((N, 6)), rng.standard_normal((N, 2))
    else:
        pred, y = rng.standard_normal((N, 4)), rng.integers(0, 4, N)
    value, grad = loss(pred, y, w)
    assert np.isfinite(value) and value > 0
    np.testing.assert_allclose(grad, _fd_grad(loss, pred, y, w), rtol=1e-6, atol=1e-8)


def test_values_match_direct_formulas():
    pred = np.array([[1.0, 2.0], [3.0, -1.0]])
    y = np.array([[0.0, 2.0], [1.0, 1.0]])
    w = np.array([1.0, 3.0])
    r = pred - y
    assert MSE()(pred, y)[0] == pytest.approx(np.mean(r ** 2))
    weighted = (1 * np.mean(r[0] ** 2) + 3 * np.mean(r[1] ** 2)) / 4
    assert MSE()(pred, y, w)[0] == pytest.approx(weighted)
    assert MAE()(pred, y)[0] == pytest.approx(np.mean(np.abs(r)))
    huber = np.where(np.abs(r) <= 1, 0.5 * r ** 2, np.abs(r) - 0.5)
    assert Huber(1.0)(pred, y)[0] == pytest.approx(huber.mean())
    # pinball at q: q * (y - p) if y > p else (1 - q) * (p - y)
    q = Quantile([0.25])
    p1, y1 = np.array([[0.0], [2.0]]), np.array([[1.0], [1.0]])
    assert q(p1, y1)[0] == pytest.approx((0.25 * 1 + 0.75 * 1) / 2)
    logits, labels = np.array([[2.0, 0.0, -1.0]]), np.array([0])
    expected = -np.log(np.exp(2.0) / np.exp(logits).sum())
    assert SoftmaxCrossEntropy()(logits, labels)[0] == pytest.approx(expected)


def test_bad_arguments():
    with pytest.raises(ValueError, match="delta must be > 0"):
        Huber(0)
    with pytest.raises(ValueError, match="quantiles must lie strictly between 0 and 1"):
        Quantile([0.5, 1.0])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(2,\)"):
        MSE()(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(3))
    with pytest.raises(ValueError, match="sums to zero"):
        MSE()(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="finite and non-negative"):
        MSE()(np.zeros((2, 1)), np.zeros((2, 1)), np.array([1.0, -1.0]))
    # a (N,) target against (N, 1) predictions broadcast to (N, N): a loss of pairs
    for loss in (MSE(), MAE(), Huber()):
        with pytest.raises(ValueError, match=r"target has shape \(4,\), expected pred's "
                                             r"\(4, 1\)"):
            loss(np.zeros((4, 1)), np.arange(4.0))


def test_cross_entropy_checks_labels():
    for bad in (np.array([0, 3]), np.array([-1, 0]), np.array([0.5, 1.0])):
        with pytest.raises(ValueError, match=r"class labels must be integers in \[0, 3\)"):
            SoftmaxCrossEntropy()(np.zeros((2, 3)), bad)


@pytest.mark.parametrize("scale", [1e38, 1e-46, 1.0])
def test_float32_losses_depend_on_the_weights_ratios_alone(scale):
    # the weights were normalised in float32: from about 1e38 their sum overflowed
    # (every gradient 0, a model that never trained) and 1e-46 underflowed to a
    # "sums to zero" error, though both are valid weights
    rng = np.random.default_rng(0)
    pred = rng.standard_normal((4, 2)).astype(np.float32)
    target = rng.standard_normal((4, 2)).astype(np.float32)
    ratios = np.array([1.0, 2.0, 0.0, 3.0])
    for loss in (MSE(), Huber(), MAE()):
        value, grad = loss(pred, target, ratios * scale)
        ref_value, ref_grad = loss(pred.astype(np.float64), target.astype(np.float64),
                                   ratios / ratios.sum())
        assert grad.dtype == np.float32
        np.testing.assert_allclose(value, ref_value, rtol=1e-6)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-6, atol=1e-8)


def test_an_overflowing_loss_is_inf_without_numpy_warnings():
    # the trainer stops on a non-finite loss and says so; NumPy's "overflow
    # encountered in multiply" came out beside its message
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = MSE()(np.array([[1e30]], np.float32), np.array([[0.0]], np.float32))
    assert value == np.inf and np.isfinite(grad).all()
