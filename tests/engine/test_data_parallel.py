"""Data-parallel training on a real two-process Dask LocalCluster."""
import numpy as np
import pytest

from tsbptt import GRURegressor, LSTMRegressor
from tsbptt.engine.bptt import full_bptt
from tsbptt.engine.data_parallel import DataParallel, ShardWorker, _serve
from tsbptt.engine.losses import Objective
from tsbptt.engine.trainer import TrainOptions

pytestmark = [pytest.mark.slow,  # a cluster takes seconds to start
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _data(n=150, T=10, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, T)
    return X, X[:, -3:].sum(1) + 0.1 * rng.randn(n)


def _same_weights(a, b):
    return all(np.array_equal(a.params_[k], b.params_[k]) for k in a.params_)


@pytest.mark.parametrize("mode", ["gradient", "average"])
def test_one_worker_is_the_single_process_engine_bitwise(client, mode):
    X, y = _data()
    kw = dict(hidden_size=6, max_iter=3, batch_size=16, random_state=0, tol=0,
              clip_norm=1.0, optimizer="adam")
    serial = GRURegressor(**kw).fit(X, y)
    with DataParallel(client, n_workers=1, mode=mode, sync_every=3) as dp:
        one = GRURegressor(**kw).fit(X, y)
    assert _same_weights(serial, one)
    assert one.loss_curve_ == serial.loss_curve_
    assert [h["n_updates"] for h in one.history_] == [10, 10, 10]
    assert dp.stats_["updates"] == 30
    assert serial._optimizer.t == one._optimizer.t == 30
    # a later partial_fit continues from the same optimizer state
    serial.partial_fit(X, y)
    with DataParallel(client, n_workers=1, mode=mode, sync_every=3):
        one.partial_fit(X, y)
    assert _same_weights(serial, one)
    n_weights = sum(p.size for p in serial.params_.values())
    st = dp.stats_  # the time accounts are consistent: waits and set-up within the wall
    assert st["setup_s"] > 0 and 0 <= st["wait_s"] <= st["wall_s"]
    if mode == "gradient":
        # the epoch runs in the one worker: 30 steps, but only the weights and Adam's
        # two moments (float32) travel, once per epoch each way
        assert dp.stats_["rounds"] == 30
        assert dp.stats_["bytes_received"] == 3 * 3 * 4 * n_weights
    else:  # a round trip every 3 steps: weights down and up
        assert dp.stats_["rounds"] == 3 * 4
        assert dp.stats_["bytes_received"] == 12 * 4 * n_weights


@pytest.mark.parametrize("mode", ["gradient", "average"])
def test_two_workers_are_deterministic(client, mode):
    X, y = _data(seed=1)
    kw = dict(hidden_size=5, max_iter=2, batch_size=20, random_state=3, tol=0)
    runs = []
    for _ in range(2):
        with DataParallel(client, n_workers=2, mode=mode, sync_every=2):
            runs.append(LSTMRegressor(**kw).fit(X, y))
    assert _same_weights(*runs)
    serial = LSTMRegressor(**kw).fit(X, y)
    assert not _same_weights(runs[0], serial)  # a different batching of the rows
    # still learning the same thing: the loss falls like the serial run's
    assert runs[0].loss_curve_[-1] < runs[0].loss_curve_[0]
    assert runs[0].loss_curve_[-1] == pytest.approx(serial.loss_curve_[-1], rel=0.2)


def test_combined_gradient_is_the_whole_batchs(client):
    # one step of plain SGD: the update is -lr * the gradient of the whole minibatch,
    # which the two workers' parts must reproduce (float64: to rounding)
    X, y = _data(n=40, seed=2)
    kw = dict(hidden_size=4, max_iter=1, batch_size=40, shuffle=False, optimizer="sgd",
              learning_rate=0.1, random_state=0, dtype="float64", tol=0)
    start = GRURegressor(**dict(kw, max_iter=1, learning_rate=1e-300)).fit(X, y)
    with DataParallel(client, n_workers=2) as dp:
        two = GRURegressor(**kw).fit(X, y)
    assert dp.stats_["rounds"] == 1
    # float64: the weights and SGD's momentum buffer came back to the client, the other
    # worker's gradients went to the leading worker
    n_weights = sum(p.size for p in start.params_.values())
    assert dp.stats_["bytes_received"] == 3 * 8 * n_weights
    net = start.network_
    X3, lengths = start._sequences(X, reset=False)
    X3 = start._scale_inputs(X3, lengths)
    Y = start._scaled_targets(start._targets(y, lengths, X3.shape[1])[0])
    _, grads, _ = full_bptt(net, np.ascontiguousarray(X3), lengths,
                            Objective(start._loss()).batch_fn(net, Y, lengths, None))
    for k, g in grads.items():
        np.testing.assert_allclose(two.params_[k], start.params_[k] - 0.1 * g,
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_workers", [1, 2])
def test_a_non_finite_update_stops_with_the_last_finite_weights(client, n_workers):
    X, y = _data(n=40, seed=4)
    kw = dict(hidden_size=4, max_iter=3, batch_size=20, optimizer="sgd",
              learning_rate=1e38, random_state=0, tol=0)
    with pytest.warns(RuntimeWarning, match="Training stopped at epoch 1: the loss is not "
                                            "finite"):
        serial = GRURegressor(**kw).fit(X, y)
    with pytest.warns(RuntimeWarning, match="Training stopped at epoch 1: the loss is not "
                                            "finite"):
        with DataParallel(client, n_workers=n_workers):
            par = GRURegressor(**kw).fit(X, y)
    assert all(np.isfinite(v).all() for v in par.params_.values())
    assert par.history_[-1]["stopped"] == "non-finite"
    if n_workers == 1:  # the updates before the stop counted as in one process
        assert _same_weights(serial, par)
        assert par.history_[-1]["n_updates"] == serial.history_[-1]["n_updates"] >= 1


def _shard_worker(n=12):
    X, y = _data(n=n, seed=5)
    est = GRURegressor(3, max_iter=1, random_state=0, dtype="float64", tol=0).fit(X, y)
    X3, lengths = est._sequences(X, reset=False)
    X3 = est._scale_inputs(X3, lengths)
    Y = est._scaled_targets(est._targets(y, lengths, X3.shape[1])[0])
    return ShardWorker(est.network_, Objective(est._loss()), None,
                       (X3, Y, lengths, None), TrainOptions())


def test_the_channel_answers_gradients_and_returns_errors():
    # no cluster: a peer's channel thread and the leader's step, over a local socket
    from multiprocessing.connection import Client, Listener
    import threading
    import weakref

    leader, peer = _shard_worker(), _shard_worker()
    listener = Listener(("127.0.0.1", 0), authkey=b"fit key")
    thread = threading.Thread(target=_serve, args=(listener, weakref.ref(peer)), daemon=True)
    thread.start()
    with Client(listener.address, authkey=b"fit key") as conn:
        got, sent, received, compute, _ = leader._gradient_step(
            [np.arange(4), np.arange(4, 10)], [conn])
        # the peer's part is its own gradient of its rows, bitwise
        flat = np.concatenate([p.ravel() for p in peer.net.params.values()])
        assert np.array_equal(got[1][2], peer.gradient(flat, np.arange(4, 10))[2])
        assert received == got[1][2].nbytes and len(compute) == 2
        assert sent == flat.nbytes + np.arange(4, 10).nbytes
        with pytest.raises(IndexError, match="out of bounds"):  # raised in the peer
            leader._gradient_step([np.arange(4), np.array([99])], [conn])
    thread.join(5)  # the leader hung up: the channel ends
    assert not thread.is_alive()


def test_refusals(client):
    X, y = _data(n=20)
    with pytest.raises(ValueError, match="does not support dropout"):
        with DataParallel(client):
            GRURegressor(4, dropout=0.2, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="needs full BPTT over each window; got "
                                         "bptt_steps=5 for 10 steps"):
        with DataParallel(client):
            GRURegressor(4, bptt_steps=5, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"n_workers must be an integer in \[1, 2\].*got 3"):
        with DataParallel(client, n_workers=3):
            pass
    with pytest.raises(ValueError, match="mode must be one of .*got 'ring'"):
        with DataParallel(client, mode="ring"):
            pass
    with pytest.raises(ValueError, match="sync_every must be a positive integer, got 0"):
        with DataParallel(client, mode="average", sync_every=0):
            pass
    with pytest.raises(TypeError, match="client must be a distributed.Client, got str"):
        with DataParallel("tcp://nowhere"):
            pass
    # outside the block, training is local again
    serial = GRURegressor(4, max_iter=1, random_state=0).fit(X, y)
    again = GRURegressor(4, max_iter=1, random_state=0).fit(X, y)
    assert _same_weights(serial, again)
