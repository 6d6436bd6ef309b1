"""The backward kernels without the input gradient (``need_dx=False``).

A fit never reads the first layer's dX, so the network asks the kernels to leave
it out (a dX of shape (0, T, F)): the LSTM and RNN step products then make dh_{t-1}
alone, the GRU skips its dx product. Every other output must keep its bits, in
every build, on shapes whose F and H hit the vector tails and whose F takes either
of the LSTM's dx paths (dot products at F <= 2, the product above).
"""
import numpy as np
import pytest

from tsbptt._kernels import cell_kernels, isa_usable
from tsbptt.engine import _cells, _threads
from tsbptt.engine.layers import Bidirectional, RecurrentLayer
from tsbptt.engine.network import Network

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]
SHAPES = [(1, 1), (1, 16), (2, 5), (3, 4), (8, 7), (9, 15), (17, 33)]


def _backward_both_ways(layer, B, T, F, dtype, seed, clip_step=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = rng.integers(1, T + 1, B).astype(np.intp)
    H = layer.hidden_size
    n_states = 2 if isinstance(layer, Bidirectional) else 1
    names = layer.cell.state_names if n_states == 1 else layer.forward_layer.cell.state_names
    dY = rng.standard_normal((B, T, n_states * H)).astype(dtype)
    state0 = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in names)
    d_state = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in names)
    if n_states == 2:
        state0, d_state = (state0, state0), (d_state, d_state)
    _, _, cache = layer.run_forward(X, lengths, state0, 1)
    out = []
    for need_dx in (True, False):
        stats = {}
        dX, d0, grads = layer.run_backward(cache, dY, d_state, 1, clip_step, stats,
                                           need_dx=need_dx)
        out.append((dX, d0, grads, stats))
    return out


def _assert_same(with_dx, without_dx):
    (dX, d0, g, st), (dX_none, d0_n, g_n, st_n) = with_dx, without_dx
    assert dX is not None and dX_none is None
    for a, b in zip(np.asarray(d0, dtype=object).ravel(),
                    np.asarray(d0_n, dtype=object).ravel()):
        np.testing.assert_array_equal(a, b)
    assert g.keys() == g_n.keys()
    for k in g:
        np.testing.assert_array_equal(g[k], g_n[k], err_msg=k)
    for k in ("delta_sq", "n_clipped"):
        np.testing.assert_array_equal(st[k], st_n[k], err_msg=k)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("F, H", SHAPES)
def test_skipping_dx_keeps_every_other_bit(cell, isa, dtype, F, H, monkeypatch):
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=F + 3 * H)
    # 19 rows: two chunks, the second short; 18 steps: a full block and a partial one
    _assert_same(*_backward_both_ways(layer, 19, 18, F, dtype, seed=F * 50 + H,
                                      clip_step=0.5))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_bidirectional_layer_skips_dx(cell):
    layer = Bidirectional(cell, 3, 6, dtype=np.float32, random_state=1)
    _assert_same(*_backward_both_ways(layer, 5, 7, 3, np.float32, seed=2))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_network_asks_no_dx_of_the_first_layer_only(cell, monkeypatch):
    """Network.backward passes need_dx=False to layer 0 only, and its gradients are
    bitwise those of a backward that computes every layer's dX."""
    net = Network(cell, 2, [5, 4], 1, dtype=np.float64, random_state=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 9, 2))
    out, _, cache = net.forward(X)
    d_out = rng.standard_normal(out.shape)
    grads, _ = net.backward(cache, d_out)
    original = RecurrentLayer.run_backward
    asked = []

    def spy(self, *args, need_dx=True, **kwargs):
        asked.append((self.input_size, need_dx))
        return original(self, *args, need_dx=need_dx, **kwargs)

    monkeypatch.setattr(RecurrentLayer, "run_backward", spy)
    net.backward(cache, d_out)
    assert asked == [(5, True), (2, False)]  # last layer first

    def always_dx(self, *args, need_dx=True, **kwargs):
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RecurrentLayer, "run_backward", always_dx)
    every_dx, _ = net.backward(cache, d_out)
    assert grads.keys() == every_dx.keys()
    for k in grads:
        np.testing.assert_array_equal(grads[k], every_dx[k], err_msg=k)


class _WrongDX:
    """A kernel module whose backward gets a dX of another shape than the engine's."""

    def __init__(self, module, shape):
        self._module, self._shape = module, shape

    def __getattr__(self, name):
        fn = getattr(self._module, name)
        if not name.endswith("_backward"):
            return fn
        return lambda **kw: fn(**dict(kw, dX=np.empty(self._shape, kw["dX"].dtype)))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("shape", [(3, 5, 2), (0, 4, 2), (0, 5, 1)])
def test_kernel_rejects_a_dx_of_the_wrong_shape(cell, shape, monkeypatch):
    """Only a dX of zero rows and the right (T, F) means "none": any other shape is
    an error naming dX, raised before any work."""
    monkeypatch.setattr(_cells, "cell_kernels",
                        lambda name: _WrongDX(cell_kernels(name), shape))
    layer = RecurrentLayer(cell, 2, 3, dtype=np.float32, random_state=0)
    X = np.zeros((4, 5, 2), np.float32)
    _, _, cache = layer.run_forward(X, np.full(4, 5, np.intp), None, 1)
    want = r"\(4, 5, 2\)" if shape[0] else r"\(0, 5, 2\)"
    with pytest.raises(ValueError, match=rf"dX has shape \({shape[0]}, {shape[1]}, "
                                         rf"{shape[2]}\), expected {want}"):
        layer.run_backward(cache, np.zeros((4, 5, 3), np.float32), None, 1)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_skipping_dx_gives_the_same_bits_on_any_thread_count(cell, monkeypatch):
    monkeypatch.setattr(_threads, "GRAIN_MACS", 1)  # a small call still gets 2 threads
    assert _threads.call_threads(2, 70, 20, 13, 4, 9) == 2
    layer = RecurrentLayer(cell, 3, 9, dtype=np.float32, random_state=4)
    rng = np.random.default_rng(5)
    B, T = 70, 20  # several chunks
    X = rng.standard_normal((B, T, 3)).astype(np.float32)
    lengths = rng.integers(1, T + 1, B).astype(np.intp)
    dY = rng.standard_normal((B, T, 9)).astype(np.float32)
    _, _, cache = layer.run_forward(X, lengths, None, 1)
    (dX1, d1, g1), (dX2, d2, g2) = [
        layer.run_backward(cache, dY, None, n, need_dx=False) for n in (1, 2)]
    assert dX1 is None and dX2 is None
    for a, b in zip(d1, d2):
        np.testing.assert_array_equal(a, b)
    for k in g1:
        np.testing.assert_array_equal(g1[k], g2[k], err_msg=k)
