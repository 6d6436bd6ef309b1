"""The compiled kernels' results do not depend on where their arrays sit in memory.

GCC used to vectorise the gate loops behind a run-time test of whether their arrays
overlapped: the SIMD exp and tanh (libmvec) when the cache and work arrays were far
apart, the scalar ones when malloc had put them within a vector of each other, and
the two do not always give the same bits (float64 RNN and LSTM, AVX-512 build,
H = 5: one ulp, flaky in the suite). The loops now take restrict pointers
(tsbptt/_kernels/_gate_rows.h). Here each kernel call a layer makes (training
forward, backward, inference) is made again on fresh, separate copies of its arrays,
then with each pair of its float arrays, one of them written by the call, laid side
by side in one buffer, in both orders, 0 to 1 AVX-512 vector + 1 element apart:
every array must come out bitwise the same.
"""
import itertools

import numpy as np
import pytest

from tsbptt._kernels import cell_kernels, isa_usable
from tsbptt.engine import _cells
from tsbptt.engine.layers import RecurrentLayer

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]


class _Recorder:
    """Stands in for a cell's kernel module: records each call's function and
    keyword arguments (copies, as they were before the call), then makes it."""

    def __init__(self, module):
        self.module, self.calls = module, []

    def __getattr__(self, name):
        func = getattr(self.module, name)

        def record(**kwargs):
            self.calls.append((name, func, {k: v.copy() if isinstance(v, np.ndarray)
                                            else v for k, v in kwargs.items()}))
            return func(**kwargs)
        return record


def _recorded_calls(cell, isa, dtype, B, T, F, H, monkeypatch):
    """The kernel calls of one training forward, its backward and one inference."""
    recorder = _Recorder(cell_kernels(cell, isa))
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: recorder)
    rng = np.random.default_rng(0)
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=0)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = np.full(B, T, dtype=np.intp)
    lengths[-1] = max(1, T - 1)  # one shorter sequence: the carried-state branch too
    Y, _, cache = layer.forward(X, lengths, n_threads=1)
    layer.backward(cache, rng.standard_normal(Y.shape).astype(dtype), n_threads=1)
    layer.run_infer(X, lengths, n_threads=1)
    assert [name.split("_")[1] for name, _, _ in recorder.calls] == [
        "forward", "backward", "infer"]
    return recorder.calls


def _run_apart(func, kwargs):
    """The call on fresh copies of its arrays; returns them after it."""
    args = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    func(**args)
    return args


def _run_side_by_side(func, kwargs, first, second, gap):
    """The call on fresh copies of its arrays, ``first`` and ``second`` laid in one
    buffer, in that order, ``gap`` elements apart; returns the arrays after it."""
    args = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    a, b = kwargs[first], kwargs[second]
    buf = np.zeros(a.size + gap + b.size, a.dtype)
    args[first] = buf[:a.size].reshape(a.shape)
    args[second] = buf[a.size + gap:].reshape(b.shape)
    args[first][...], args[second][...] = a, b
    func(**args)
    return args


# (1, 3, 1, 5) is where the old loops failed; the others (vector tails, chunks of
# several rows, a short sequence) in the slow tier
@pytest.mark.parametrize("B, T, F, H", [(1, 3, 1, 5),
                                        pytest.param(3, 4, 2, 3, marks=pytest.mark.slow),
                                        pytest.param(2, 3, 3, 13, marks=pytest.mark.slow)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_outputs_do_not_depend_on_where_the_arrays_sit(cell, isa, dtype, B, T, F, H,
                                                       monkeypatch):
    for name, func, kwargs in _recorded_calls(cell, isa, dtype, B, T, F, H, monkeypatch):
        want = _run_apart(func, kwargs)
        floats = [k for k, v in kwargs.items()
                  if isinstance(v, np.ndarray) and v.dtype == dtype and v.size]
        # the compiler's overlap tests pair an array written with one read
        written = {k for k in floats if not np.array_equal(want[k], kwargs[k])}
        for first, second in itertools.permutations(floats, 2):
            if first not in written and second not in written:
                continue
            for gap in range(64 // np.dtype(dtype).itemsize + 2):
                got = _run_side_by_side(func, kwargs, first, second, gap)
                for key, value in want.items():
                    if isinstance(value, np.ndarray):
                        assert np.array_equal(got[key], value, equal_nan=True), (
                            f"{name}: {key} differs with {first} {gap} elements "
                            f"before {second}")
