"""The training step's large arrays, kept between a fit's steps (tsbptt.engine._buffers).

A kept array holds the previous step's values and is handed out again only when
nothing refers to it. Results must not depend on either: a fit whose reused
arrays are poisoned with NaN gives bitwise the weights of a fit without the pool.
"""
import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tsbptt import GRURegressor, LSTMRegressor, RNNRegressor
from tsbptt.engine import _buffers, trainer
from tsbptt.engine._buffers import BufferPool

BIG = (64, 1024)  # float32: 256 KiB, pooled
SMALL = (4, 4)


def test_outside_a_pool_arrays_come_from_numpy():
    assert _buffers._active.get() is None
    a = _buffers.empty(BIG, np.float32)
    assert a.shape == BIG and a.dtype == np.float32 and a.flags.owndata
    b = _buffers.zeros(BIG, np.float64)
    assert b.shape == BIG and b.dtype == np.float64 and not b.any()


def test_a_released_array_is_handed_out_again_and_a_held_one_is_not():
    with BufferPool() as pool:
        a = _buffers.empty(BIG, np.float32)
        ptr = a.ctypes.data
        b = _buffers.empty(BIG, np.float32)  # a is held: a second array
        assert b.ctypes.data != ptr
        assert pool.nbytes == 2 * a.nbytes
        del a
        c = _buffers.empty(BIG, np.float32)
        assert c.ctypes.data == ptr
        assert pool.nbytes == 2 * c.nbytes
        # another dtype or shape is another array
        assert _buffers.empty(BIG, np.float64).ctypes.data != ptr
        assert _buffers.empty(BIG[::-1], np.float32).ctypes.data != ptr


HOLDERS = {"view": lambda a: a.view(), "slice": lambda a: a[3:, 5],
           "memoryview": memoryview,
           "reshape": lambda a: a.reshape(-1)[::2].reshape(-1, 2),
           "container": lambda a: [a]}


@pytest.mark.parametrize("hold", sorted(HOLDERS))
def test_anything_that_refers_to_an_array_keeps_it_out_of_the_pool(hold):
    with BufferPool():
        a = _buffers.empty(BIG, np.float32)
        ptr = a.ctypes.data
        holder = HOLDERS[hold](a)
        del a
        b = _buffers.empty(BIG, np.float32)
        assert b.ctypes.data != ptr
        del b, holder
        assert _buffers.empty(BIG, np.float32).ctypes.data == ptr


def test_small_arrays_are_not_kept_and_zeros_are_zero():
    with BufferPool() as pool:
        _buffers.empty(SMALL, np.float64)
        assert pool.nbytes == 0
        a = _buffers.empty(BIG, np.float64)
        a.fill(np.nan)
        ptr = a.ctypes.data
        del a
        z = _buffers.zeros(BIG, np.float64)
        assert z.ctypes.data == ptr and not z.any()


def test_max_bytes_drops_free_arrays_and_never_holds_more():
    nbytes = int(np.prod(BIG)) * 4
    pool = BufferPool(max_bytes=2 * nbytes)
    with pool:
        a = _buffers.empty(BIG, np.float32)
        b = _buffers.empty((128, 512), np.float32)
        assert pool.nbytes == 2 * nbytes
        del b  # free: dropped to make room for the next new shape
        c = _buffers.empty((256, 256), np.float32)
        assert pool.nbytes == 2 * nbytes
        d = _buffers.empty((512, 128), np.float32)  # a and c held: not kept
        assert pool.nbytes == 2 * nbytes
        too_big = _buffers.empty((3 * BIG[0], BIG[1]), np.float32)
        assert pool.nbytes == 2 * nbytes
        assert len({x.ctypes.data for x in (a, c, d, too_big)}) == 4
    pool.clear()
    assert pool.nbytes == 0


def test_the_pool_is_active_in_its_own_thread_only_and_pools_nest():
    outer, inner, seen = BufferPool(), BufferPool(), []
    with outer:
        worker = threading.Thread(target=lambda: seen.append(_buffers._active.get()))
        worker.start()
        worker.join()
        with inner:
            assert _buffers._active.get() is inner
        assert _buffers._active.get() is outer
    assert seen == [None]
    assert _buffers._active.get() is None


def test_threads_sharing_a_pool_never_get_the_same_array_at_once():
    pool, errors = BufferPool(), []

    def work(k):
        with pool:
            for i in range(300):
                a = _buffers.empty(BIG, np.float32)
                a.fill(k)
                if not (a == k).all():
                    errors.append((k, i))
                del a

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert pool.nbytes <= 4 * int(np.prod(BIG)) * 4


class PoisonedPool(BufferPool):
    """Hands out every array filled with NaN: a value read before being written
    shows up in the results."""

    instances = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        PoisonedPool.instances.append(self)

    def empty(self, shape, dtype):
        a = super().empty(shape, dtype)
        if a.dtype.kind == "f":
            a.fill(np.nan)
        return a


def fit_predict(est, X, y):
    est.fit(X, y)
    return [est.predict(X), *[p.copy() for p in est.params_.values()]]


@pytest.mark.parametrize("est, X_shape, y_2d", [
    (LSTMRegressor(hidden_size=24, max_iter=3, batch_size=32), (100, 30, 2), False),
    (GRURegressor(hidden_size=24, max_iter=3, batch_size=32, num_layers=2), (100, 30, 1),
     False),
    (RNNRegressor(hidden_size=24, max_iter=3, batch_size=40), (100, 30, 1), False),
    (LSTMRegressor(hidden_size=24, max_iter=2, batch_size=32, bptt_steps=8), (20, 60, 1),
     True),
    (LSTMRegressor(hidden_size=24, max_iter=2, batch_size=32, checkpoint_every=7),
     (70, 30, 1), False),
    (GRURegressor(hidden_size=24, max_iter=2, batch_size=32, bidirectional=True),
     (70, 30, 1), False),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_fit_gives_the_same_bits_with_a_poisoned_pool_as_without_one(
        est, X_shape, y_2d, dtype, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal(X_shape)
    y = X[:, :, 0].cumsum(axis=1) if y_2d else X[:, -3:, 0].sum(axis=1)
    est = est.set_params(random_state=0, dtype=dtype, n_threads=1)
    monkeypatch.setattr(_buffers, "POOL_MIN_BYTES", 1 << 62)  # nothing pooled
    expected = fit_predict(est, X, y)
    monkeypatch.setattr(_buffers, "POOL_MIN_BYTES", 1024)
    monkeypatch.setattr(trainer, "BufferPool", PoisonedPool)
    PoisonedPool.instances.clear()
    got = fit_predict(est, X, y)
    for g, e in zip(got, expected):
        assert_array_equal(g, e)
    (pool,) = PoisonedPool.instances
    assert pool.nbytes > 0  # the fit did take its arrays from the pool
    assert _buffers._active.get() is None
