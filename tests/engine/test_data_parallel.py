"""Data-parallel training on a real two-process Dask LocalCluster."""
import numpy as np
import pytest

from tsbptt import GRURegressor, LSTMRegressor
from tsbptt.engine.bptt import full_bptt
from tsbptt.engine.data_parallel import (DataParallel, ShardWorker, _accept, _apply,
                                         _combine, _gather, _PeerLost)
from tsbptt.engine.losses import Objective
from tsbptt.engine.trainer import EpochCounters, TrainOptions

pytestmark = [pytest.mark.slow,  # a cluster takes seconds to start
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]


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
    assert (0 < st["update_s"] < st["wall_s"]) if mode == "gradient" else st["update_s"] == 0
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


@pytest.mark.parametrize("mode", ["gradient", "average"])
def test_an_in_process_cluster_gives_the_same_bits(client, mode):
    # processes=False: the workers get the caller's objects without pickling; each
    # must still update its own copy of the network (the first version of the
    # all-reduce updated one shared network twice)
    import distributed

    X, y = _data(n=60, seed=6)
    kw = dict(hidden_size=4, max_iter=2, batch_size=20, random_state=1, tol=0)
    with DataParallel(client, n_workers=2, mode=mode, sync_every=2):
        two_processes = GRURegressor(**kw).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as local, \
            DataParallel(local, n_workers=2, mode=mode, sync_every=2):
        in_process = GRURegressor(**kw).fit(X, y)
    assert _same_weights(two_processes, in_process)


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
    # float64: the weights and SGD's momentum buffer came back to the client from the
    # first worker; each worker received the other's gradients
    n_weights = sum(p.size for p in start.params_.values())
    assert dp.stats_["bytes_received"] == 4 * 8 * n_weights
    # out: the weights and the buffer to each worker, each worker's gradients to the
    # other, and the 40 row indices
    assert dp.stats_["bytes_sent"] == 6 * 8 * n_weights + 40 * 8
    net = start.network_
    X3, lengths, kind = start._sequences(X, reset=False)
    X3 = start._scale_inputs(X3, lengths)
    Y = start._scaled_targets(start._targets(y, lengths, X3.shape[1], kind)[0])
    _, grads, _ = full_bptt(net, np.ascontiguousarray(X3), lengths,
                            Objective(start._loss()).batch_fn(net, Y, lengths, None))
    for k, g in grads.items():
        np.testing.assert_allclose(two.params_[k], start.params_[k] - 0.1 * g,
                                   rtol=1e-12, atol=1e-14)


def test_a_weightless_part_still_counts_its_rows_in_the_step(client):
    # sample weights are relative to the training set's mean: the first worker's
    # rows weigh 0, so it sends no gradient, but its 20 rows stay in the step's mean
    # (left out, the step would be twice the whole minibatch's)
    X, y = _data(n=40, seed=2)
    w = np.r_[np.zeros(20), np.linspace(0.5, 2.0, 20)]
    kw = dict(hidden_size=4, max_iter=1, batch_size=40, shuffle=False, optimizer="sgd",
              learning_rate=0.1, random_state=0, dtype="float64", tol=0)
    start = GRURegressor(**dict(kw, learning_rate=1e-300)).fit(X, y, sample_weight=w)
    serial = GRURegressor(**kw).fit(X, y, sample_weight=w)
    with DataParallel(client, n_workers=2) as dp:
        two = GRURegressor(**kw).fit(X, y, sample_weight=w)
    n_weights = sum(p.size for p in start.params_.values())
    assert dp.stats_["rounds"] == 1
    # one gradient exchanged instead of two (see the test above)
    assert dp.stats_["bytes_received"] == 3 * 8 * n_weights
    assert dp.stats_["bytes_sent"] == 5 * 8 * n_weights + 40 * 8
    net = start.network_
    X3, lengths, kind = start._sequences(X, reset=False)
    X3 = start._scale_inputs(X3, lengths)
    Y = start._scaled_targets(start._targets(y, lengths, X3.shape[1], kind)[0])
    _, grads, _ = full_bptt(net, np.ascontiguousarray(X3), lengths,
                            Objective(start._loss()).batch_fn(net, Y, lengths, w))
    for k, g in grads.items():
        for fit in (serial, two):
            np.testing.assert_allclose(fit.params_[k], start.params_[k] - 0.1 * g,
                                       rtol=1e-12, atol=1e-14)
    assert two.loss_curve_ == pytest.approx(serial.loss_curve_, rel=1e-12)


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


def _shard_workers(n=12, n_shards=2):
    """ShardWorkers on contiguous parts of the same data, each with its own copy of
    the network and of an Adam optimizer on it."""
    import copy

    from tsbptt.engine.optimizers import Adam

    X, y = _data(n=n, seed=5)
    est = GRURegressor(3, max_iter=1, random_state=0, dtype="float64", tol=0).fit(X, y)
    X3, lengths, kind = est._sequences(X, reset=False)
    X3 = est._scale_inputs(X3, lengths)
    Y = est._scaled_targets(est._targets(y, lengths, X3.shape[1], kind)[0])
    net = est.network_
    pair = (net, Adam(list(net.params.values()), 0.01))
    out = []
    for rows in np.array_split(np.arange(n), n_shards):
        net_, opt_ = copy.deepcopy(pair)
        out.append(ShardWorker(net_, Objective(est._loss()), opt_,
                               (X3[rows], Y[rows], lengths[rows], None), TrainOptions()))
    return out


def _in_threads(*calls):
    """Run the calls at once, one thread each; their results or exceptions."""
    import threading

    out = [None] * len(calls)

    def run(k, f):
        try:
            out[k] = f()
        except Exception as exc:  # noqa: BLE001
            out[k] = exc
    threads = [threading.Thread(target=run, args=(k, f), daemon=True)
               for k, f in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)  # nobody hangs
    return out


def _meshed(workers):
    """Connect ShardWorkers as DataParallel does, over local sockets."""
    import threading
    from multiprocessing.connection import Listener

    key, W = b"fit key", len(workers)
    addresses = []
    for s, worker in enumerate(workers[:-1]):  # as ShardWorker.listen, without Dask
        worker._listener = Listener(("127.0.0.1", 0), authkey=key)
        worker._accepted = {}
        worker._acceptor = threading.Thread(
            target=_accept, args=(worker._listener, W - 1 - s, worker._accepted), daemon=True)
        worker._acceptor.start()
        addresses.append(worker._listener.address)
    addresses.append(None)
    assert _in_threads(*[lambda s=s: workers[s].connect(s, addresses, key)
                         for s in range(W)]) == [None] * W


def test_the_all_reduce_epoch_gives_every_worker_the_same_update():
    # no cluster: two workers' epochs in threads, exchanging over a local socket
    workers = _shard_workers()
    _meshed(workers)
    net, opt = workers[0].net, workers[0].optimizer
    flat0 = np.concatenate([p.ravel() for p in net.params.values()])
    state0 = (opt.t, opt._state)
    steps = [[np.array([0, 1, 2]), np.array([3, 4, 5])],  # shard 0's rows, step by step
             [np.array([0, 1, 2, 3]), np.array([], dtype=np.intp)]]  # shard 1's
    got = _in_threads(*[lambda s=s: workers[s].gradient_epoch(flat0, state0, 0.01,
                                                              steps[s], s == 0)
                        for s in range(2)])
    (back, state), digest0 = got[0][:2]
    assert got[1][0] is None and got[1][1] == digest0  # the same weights, bitwise
    assert state[0] == 2 and got[0][4].n_updates == got[1][4].n_updates == 2
    # the reference: the same parts combined and applied in one process, in order
    ref = _shard_workers()
    counters = EpochCounters()
    for parts in zip(*steps):
        mine = [ref[s]._gradient(idx) for s, idx in enumerate(parts) if len(idx)]
        mine = [g[:2] + (np.concatenate([g[2][k].ravel() for k in ref[0].net.params]),
                         g[3]) for g in mine]
        _apply(ref[0].net, ref[0].optimizer, _combine(ref[0].net, mine), 0.01,
               TrainOptions(), counters)
        for k, v in ref[0].net.params.items():
            ref[1].net.params[k][...] = v
    expected = np.concatenate([p.ravel() for p in ref[0].net.params.values()])
    assert np.array_equal(back, expected)
    # the accounts: one round per step; the second step's shard 1 sent nothing
    st0, st1 = got[0][5], got[1][5]
    assert st0["rounds"] == st1["rounds"] == 2
    assert st0["bytes_sent"] == st1["bytes_received"] == 2 * expected.nbytes
    assert st1["bytes_sent"] == st0["bytes_received"] == expected.nbytes


def test_a_failing_worker_ends_its_peers_epoch_with_an_error():
    workers = _shard_workers()
    _meshed(workers)
    net, opt = workers[0].net, workers[0].optimizer
    flat0 = np.concatenate([p.ravel() for p in net.params.values()])
    got = _in_threads(lambda: workers[0].gradient_epoch(flat0, (opt.t, opt._state), 0.01,
                                                        [np.arange(3)], True),
                      lambda: workers[1].gradient_epoch(flat0, (opt.t, opt._state), 0.01,
                                                        [np.array([99])], False))
    assert isinstance(got[1], IndexError)  # shard 1's own error
    assert isinstance(got[0], _PeerLost)  # shard 0 does not hang waiting for it
    assert "shard 1 hung up" in str(got[0])
    with pytest.raises(IndexError, match="99"):  # the client raises the root error
        _gather([_Done(got[0]), _Done(got[1])])


def test_three_workers_exchange_without_deadlock_and_agree():
    # the mesh's fixed pair order with three workers: every pair exchanges, all end
    # with the same weights as one process combining the three parts in order
    workers = _shard_workers(n=18, n_shards=3)
    _meshed(workers)
    net, opt = workers[0].net, workers[0].optimizer
    flat0 = np.concatenate([p.ravel() for p in net.params.values()])
    steps = [[np.array([0, 1]), np.array([2, 3, 4, 5])] for _ in range(3)]
    got = _in_threads(*[lambda s=s: workers[s].gradient_epoch(
        flat0, (opt.t, opt._state), 0.01, steps[s], s == 0) for s in range(3)])
    assert len({g[1] for g in got}) == 1
    ref = _shard_workers(n=18, n_shards=3)
    for k in range(2):
        parts = [ref[s]._gradient(steps[s][k]) for s in range(3)]
        parts = [g[:2] + (np.concatenate([g[2][name].ravel() for name in ref[0].net.params]),
                          g[3]) for g in parts]
        _apply(ref[0].net, ref[0].optimizer, _combine(ref[0].net, parts), 0.01,
               TrainOptions(), EpochCounters())
        for s in (1, 2):
            for name, v in ref[0].net.params.items():
                ref[s].net.params[name][...] = v
    expected = np.concatenate([p.ravel() for p in ref[0].net.params.values()])
    assert np.array_equal(got[0][0][0], expected)
    assert all(g[5]["bytes_sent"] == 2 * 2 * expected.nbytes for g in got)


def test_the_client_refuses_workers_whose_weights_differ():
    X, y = _data(n=20)
    est = GRURegressor(3, max_iter=1, random_state=0, tol=0).fit(X, y)
    net, opt = est.network_, est._optimizer
    flat = np.concatenate([p.ravel() for p in net.params.values()])
    stats = dict(rounds=1, bytes_sent=0, bytes_received=0, compute_s=0.0, wait_s=0.0,
                 update_s=0.0)

    class Actor:
        def __init__(self, digest):
            self.digest = digest

        def gradient_epoch(self, *args):
            return _Done(((flat, (opt.t, opt._state)), self.digest, 0.0, 1.0,
                          EpochCounters(), stats, None))

    dp = DataParallel(None)
    dp._actors, dp.stats_ = [Actor("a"), Actor("b")], dict(stats, updates=0)
    steps = [[np.arange(2), np.arange(2)]]
    with pytest.raises(RuntimeError, match="the workers' weights differ after the epoch"):
        dp._gradient_epoch(net, opt, 0.01, TrainOptions(), steps, EpochCounters())
    dp._actors = [Actor("a"), Actor("a")]
    assert dp._gradient_epoch(net, opt, 0.01, TrainOptions(), steps,
                              EpochCounters()) == (0.0, 1.0)


class _Done:
    """A finished future: its result, or its exception raised."""

    def __init__(self, out):
        self.out = out

    def result(self):
        if isinstance(self.out, Exception):
            raise self.out
        return self.out


def test_refusals(client):
    X, y = _data(n=20)
    with pytest.raises(ValueError, match="does not support dropout"):
        with DataParallel(client):
            GRURegressor(4, dropout=0.2, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="needs full BPTT over each window; got "
                                         "bptt_steps=5 for 10 steps"):
        with DataParallel(client):
            GRURegressor(4, bptt_steps=5, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="needs full BPTT over each window; got "
                                         "bptt_steps=10, bptt_stride=5 for 10 steps"):
        with DataParallel(client):  # updates within a window: truncated too
            GRURegressor(4, bptt_steps=10, bptt_stride=5, max_iter=1).fit(X, y)
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
    with pytest.raises(ValueError, match="batch_size=1 is smaller than the 2 workers"):
        with DataParallel(client, n_workers=2):  # it took 2 rows a step, silently
            GRURegressor(4, batch_size=1, max_iter=1).fit(X, y)
    # outside the block, training is local again
    serial = GRURegressor(4, max_iter=1, random_state=0).fit(X, y)
    again = GRURegressor(4, max_iter=1, random_state=0).fit(X, y)
    assert _same_weights(serial, again)


def test_a_closed_client_is_refused_in_words(client):
    distributed = pytest.importorskip("distributed")
    other = distributed.Client(client.cluster)
    other.close()
    with pytest.raises(ValueError, match="the client is closed: open a new one"):
        with DataParallel(other):
            pass  # was KeyError: 'workers'


def test_fits_it_does_not_spread_say_so(client):
    from tsbptt import ESNRegressor, RTRLRegressor
    X, y = _data(n=20)
    with DataParallel(client, n_workers=2):
        with pytest.warns(UserWarning, match="ESNRegressor trains by one ridge solve, not "
                                             "by epochs of BPTT: DataParallel does not "
                                             "spread it"):
            ESNRegressor(n_reservoir=10, random_state=0).fit(X, y)
        with pytest.warns(UserWarning, match="RTRLRegressor trains online") as got:
            RTRLRegressor(hidden_size=2, random_state=0).fit(X[0][:, None], X[1])
    assert got[0].filename == __file__  # the caller's line, not a wrapper's in sklearn


def test_a_restarted_cluster_is_looked_up_at_the_next_fit(client):
    # the workers come back with new addresses; the block kept the old ones and
    # every later fit failed with the scheduler's KeyError of an address
    X, y = _data(n=40)
    with DataParallel(client, n_workers=2):
        first = GRURegressor(4, max_iter=2, random_state=0).fit(X, y)
        client.restart()
        again = GRURegressor(4, max_iter=2, random_state=0).fit(X, y)
    assert _same_weights(first, again)
