"""Data-parallel training of one network on a Dask cluster.

``with DataParallel(client, n_workers=2): model.fit(X, y)`` trains the usual
network of any tsbptt estimator, but the windows are cut into ``n_workers``
contiguous shards, each held by a Dask actor (:class:`ShardWorker`) on its own
worker, and the arithmetic of every update runs there. Two algorithms:

``mode='gradient'`` (synchronous gradient averaging, the default)
    Every step, each worker computes the loss and gradients of its part of the
    minibatch at the current weights; they are combined, weighted by each part's
    share of the rows (the exact gradient of the whole minibatch), and the update
    is applied with the usual optimizer, clipping and NaN checks. The algorithm
    is the single-process one; with one worker it *is* it, bitwise. The workers
    run the epoch all-reduce style (:meth:`ShardWorker.gradient_epoch`): each
    sends its part to every other worker directly and receives theirs, all sum
    the parts in the same shard order and each applies the same update to its
    own copy of the weights, so all hold bitwise the same weights (checked at
    the end of every epoch) and no worker waits for another's update. The
    client only hands them the weights and the optimizer's state at the start
    of an epoch and takes them back from the first at the end, so it is out of
    the loop (on one machine its process, which also hosts a LocalCluster's
    scheduler, does not take the workers' cores every step). Cost per step:
    each worker's gradients to each other worker, nothing else.
``mode='average'`` (periodic model averaging, "local SGD")
    Each worker runs ``sync_every`` updates on its own shard with its own copy
    of the optimizer, then the client averages the weights (weighted by rows).
    ``sync_every`` times fewer round trips, but a different algorithm: the
    workers' models drift apart between averages, and the optimizer states are
    averaged only at the end of each epoch, into the client's optimizer (so a
    later ``partial_fit`` or warm start continues from it). With one worker it is
    again the single-process run, bitwise.

Why 'gradient' is the default (see benchmarks/reports/dask.md): a
GRU of H=64 has about 13k weights (51 kB in float32), while a step of 256
windows of 48 steps is tens of milliseconds of kernels, so the weights and
gradients of every step cost far less than the compute, and the loss curve is
the single-process one. Local SGD pays off only where a step is short beside a
round trip (tiny batches, slow networks).

Determinism: the shards are fixed by the data order and ``n_workers``; the
minibatches are drawn from the estimator's seeded generator (one permutation
per shard, in shard order, then each step takes the next ``batch_size /
n_workers`` rows of every shard); the gradients are combined in shard order in
float64. The same data, seeds, ``n_workers`` and mode give bitwise the same
weights, and the kernels give the same bits for any thread count, so the
workers' cores do not matter either (:mod:`tsbptt.engine._workers` caps them).

Not supported (a ValueError says so before any work): dropout (the masks would
need one generator per worker), truncated BPTT (``bptt_steps``, or
``bptt_stride``, shorter than the sequences: one long sequence is not
data-parallel) and a ``batch_size`` below the number of workers.

What it reaches: the fits of BPTT-trained estimators (LSTM, GRU and RNN
regressors and classifiers) in the thread that entered the ``with`` block (a
context variable). An ESN (one ridge solve) and RTRL (online steps) train in the
process as usual, and so do fits in other threads or processes: a
``GridSearchCV(n_jobs > 1)`` inside the block scores its candidates with
single-process fits (joblib runs them elsewhere) and refits the best one
data-parallel; with ``n_jobs=1`` every fit is data-parallel. Dask arrays and
DataFrames given to ``fit`` are computed whole on the client and then cut into
the shards (their own chunks play no part).

``distributed`` is imported only through the client the caller passes, and in the
workers (to find the address a shard's channel listens on).
"""
import copy
import hashlib
import os
import socket
import threading
import time
from dataclasses import fields, replace
from multiprocessing.connection import Client as _connect
from multiprocessing.connection import Listener
from numbers import Integral

import numpy as np

from ._workers import worker_thread_limits
from .bptt import full_bptt
from .trainer import (EpochCounters, _Stop, _row_weight, _rows_per_sample, _update,
                      epoch_runner)

__all__ = ["DataParallel", "ShardWorker"]

MODES = ("gradient", "average")


def _flat(net, arrays):
    """Arrays keyed like ``net.params`` -> one flat vector, in ``net.params`` order."""
    return np.concatenate([arrays[k].ravel() for k in net.params])


def _unflat(net, flat):
    """One flat vector -> arrays shaped like ``net.params`` (views of ``flat``)."""
    out, at = {}, 0
    for k, p in net.params.items():
        out[k] = flat[at:at + p.size].reshape(p.shape)
        at += p.size
    return out


def _new_counters():
    return EpochCounters()


class ShardWorker:
    """A Dask actor holding one shard of the windows and a copy of the network.

    Parameters
    ----------
    net : Network
    loss : tsbptt.engine.losses.Objective
    optimizer : Optimizer
        Built on ``net``'s parameters (copied together, so it stays so); each
        worker updates its own copy of both.
    shard : tuple (X, y, lengths, sample_weight)
        The worker's rows, as :func:`tsbptt.engine.trainer.train` takes them.
    opts : TrainOptions
        Without its callback.
    """

    def __init__(self, net, loss, optimizer, shard, opts):
        # its own copies: the workers of an in-process cluster (processes=False) get
        # the caller's objects unpickled, and each worker updates its network
        net, optimizer = copy.deepcopy((net, optimizer))  # together: still linked
        self.net, self.loss, self.optimizer, self.opts = net, loss, optimizer, opts
        self.X, self.y, self.lengths, self.w = shard
        self._index, self._peers = 0, {}  # alone until connect() ('gradient' mode)

    def _gradient(self, idx):
        """(value, row weight, grads, clipped dL/dh entries) of rows ``idx``, or
        None when no row of them has weight."""
        wb = None if self.w is None else self.w[idx]
        if wb is not None and not wb.sum() > 0:
            return None
        lb = self.lengths[idx]
        value, grads, stats = full_bptt(
            self.net, np.ascontiguousarray(self.X[idx]), lb,
            self.loss.batch_fn(self.net, self.y[idx], lb, wb, relative=True),
            checkpoint_every=self.opts.checkpoint_every, clip_step=self.opts.clip_step,
            n_threads=self.opts.n_threads)
        # the weights are relative to the whole training set's mean (``train`` made
        # them so before sharding): a part's share of the step is its row count
        bw = _row_weight(self.net, None, _rows_per_sample(self.net, lb))
        return value, bw, grads, int(sum(s.sum() for s in stats["n_clipped"]))

    def local_steps(self, weights, batches, lr):
        """``len(batches)`` updates from ``weights`` with the worker's optimizer.

        Returns
        -------
        tuple (flat_weights, loss_sum, row_weight, counters, seconds, stopped)
            ``stopped``: None, or why an update was refused (the weights are then
            the last finite ones; the trainer puts the best ones back).
        """
        with worker_thread_limits():
            t0 = time.perf_counter()
            for k, v in _unflat(self.net, weights).items():
                self.net.params[k][...] = v
            counters, total, weight, stopped = _new_counters(), 0.0, 0.0, None
            for idx in batches:
                got = self._gradient(idx)
                if got is None:
                    continue
                stopped = _apply(self.net, self.optimizer, got, lr, self.opts, counters)
                if stopped is not None:
                    break
                value, bw = got[:2]
                total, weight = total + value * bw, weight + bw
            return (_flat(self.net, self.net.params), total, weight, counters,
                    time.perf_counter() - t0, stopped)

    def listen(self, authkey, n_peers):
        """Open this worker's channel ('gradient' mode) for the ``n_peers`` workers
        after it, which connect in :meth:`connect`.

        A socket on the worker's host (``multiprocessing.connection``: framed
        pickles, each peer authenticated by ``authkey`` before anything is
        unpickled); a thread of its own accepts the peers, each announcing its
        shard. A step's exchange then costs a message each way per pair of
        workers, not a Dask actor call (the scheduler's bookkeeping, the event
        loop's hops between threads: milliseconds of CPU a step).

        Returns
        -------
        tuple (host, port)
        """
        from distributed import get_worker
        from distributed.comm import get_address_host

        listener = Listener((get_address_host(get_worker().address), 0), authkey=authkey)
        self._accepted, self._listener = {}, listener
        self._acceptor = threading.Thread(target=_accept,
                                          args=(listener, n_peers, self._accepted),
                                          daemon=True, name="tsbptt-shard-accept")
        self._acceptor.start()
        return listener.address

    def connect(self, index, addresses, authkey, timeout=60.0):
        """Join the mesh of shard ``index``: connect to the channels of the workers
        before it (``addresses``, in shard order) and take the connections of those
        after it, which :meth:`listen`'s thread accepted."""
        self._close()
        peers = {}
        for j, address in enumerate(addresses[:index]):
            conn = _no_delay(_connect(tuple(address), authkey=authkey))
            conn.send(index)
            peers[j] = conn
        if index < len(addresses) - 1:
            self._acceptor.join(timeout)
            peers.update(self._accepted)
            if len(peers) != len(addresses) - 1:
                self._listener.close()  # its thread's accept ends with an error
                self._peers = peers
                self._close()
                raise TimeoutError(f"shard {index}: {len(peers)} of the "
                                   f"{len(addresses) - 1} other workers connected within "
                                   f"{timeout:g} s")
        self._index, self._peers = index, dict(sorted(peers.items()))

    def _close(self):
        """Hang up on every peer (after a failure: their waits end with an error)."""
        for conn in getattr(self, "_peers", {}).values():
            conn.close()
        self._peers = {}

    def _exchange(self, mine):
        """Every shard's part of one step, in shard order: ``mine`` to each peer and
        theirs back. Each pair of workers exchanges in one fixed global order (the
        lower shard sends first), so no two workers can block sending to each other
        however large the messages."""
        got = {self._index: mine}
        for j, conn in self._peers.items():
            if j < self._index:
                got[j] = _recv(conn, j)
                conn.send(mine)
            else:
                conn.send(mine)
                got[j] = _recv(conn, j)
        return [got[j] for j in sorted(got)]

    def gradient_epoch(self, weights, state, lr, parts, give_back):
        """One epoch of 'gradient' mode, all-reduce style; every worker runs it.

        Every step each worker computes the gradient of its rows, sends it to every
        other worker and receives theirs (:meth:`_exchange`), combines the parts in
        shard order and applies the update to its own copy of the weights with its
        own copy of the optimizer: the same arithmetic on the same inputs, so every
        worker holds bitwise the same weights, and none waits for another's update.

        Parameters
        ----------
        weights : ndarray
            The flat weights at the start of the epoch.
        state : tuple (t, moments)
            The optimizer's step count and moments.
        lr : float
        parts : list of ndarray
            Per step, this worker's row indices in its shard.
        give_back : bool
            Return the weights and optimizer state (one worker does).

        Returns
        -------
        tuple (back, digest, loss_sum, row_weight, counters, stats, stopped)
            ``back``: None, or (flat_weights, state); ``digest``: a hash of the
            final weights (the client checks that all workers agree); ``stats``:
            this worker's accounts (see :attr:`DataParallel.stats_`); ``stopped``:
            None, or why an update was refused (the weights are then the last
            finite ones).
        """
        with worker_thread_limits():
            for k, v in _unflat(self.net, weights).items():
                self.net.params[k][...] = v
            # copies: workers in one process (threads, an in-process cluster) must
            # not share the moments they update in place
            self.optimizer.t = state[0]
            self.optimizer._state = [{k: v.copy() if isinstance(v, np.ndarray) else v
                                      for k, v in slot.items()} for slot in state[1]]
            counters, total, weight, stopped = _new_counters(), 0.0, 0.0, None
            stats = dict(rounds=0, bytes_sent=0, bytes_received=0, compute_s=0.0,
                         wait_s=0.0, update_s=0.0)
            try:
                for idx in parts:
                    got = self._step(idx, stats)
                    if all(g[2] is None for g in got):
                        continue  # no row of the step weighs anything: no update
                    t0 = time.perf_counter()
                    combined = _combine(self.net, got)
                    stopped = _apply(self.net, self.optimizer, combined, lr, self.opts,
                                     counters)
                    stats["update_s"] += time.perf_counter() - t0
                    if stopped is not None:
                        break
                    value, bw = combined[:2]
                    total, weight = total + value * bw, weight + bw
            except BaseException:
                self._close()  # the peers' waits end (_PeerLost) instead of hanging
                raise
            flat = _flat(self.net, self.net.params)
            back = (flat, (self.optimizer.t, self.optimizer._state)) if give_back else None
            return (back, hashlib.blake2b(flat.tobytes(), digest_size=16).hexdigest(),
                    total, weight, counters, stats, stopped)

    def _step(self, idx, stats):
        """This worker's part of one step, exchanged: the parts with rows, in shard
        order (see :meth:`_exchange`), those whose rows all weigh 0 without a
        gradient; ``stats`` takes the step's accounts."""
        t0 = time.perf_counter()
        mine = self._gradient(idx) if len(idx) else None
        if mine is not None:
            mine = mine[:2] + (_flat(self.net, mine[2]), mine[3], time.perf_counter() - t0)
        elif len(idx):  # rows that weigh nothing: no gradient, but in the step's mean
            rows = _row_weight(self.net, None, _rows_per_sample(self.net, self.lengths[idx]))
            mine = (0.0, rows, None, 0, 0.0)
        parts = self._exchange(mine)
        round_s = time.perf_counter() - t0
        got = [g for g in parts if g is not None]
        sent = 0 if mine is None or mine[2] is None else mine[2].nbytes
        stats["rounds"] += 1
        stats["bytes_sent"] += sent * len(self._peers)
        stats["bytes_received"] += sum(g[2].nbytes for g in got if g[2] is not None) - sent
        stats["compute_s"] += 0.0 if mine is None else mine[4]
        stats["wait_s"] += max(0.0, round_s - max((g[4] for g in got), default=0.0))
        return got

    def optimizer_state(self):
        """The step count and moments of the worker's optimizer ('average' mode)."""
        return self.optimizer.t, self.optimizer._state


class DataParallel:
    """Context manager: tsbptt training inside it is data-parallel on Dask.

    Parameters
    ----------
    client : distributed.Client
    n_workers : int or None, default=None
        Shards, one per worker (the first ``n_workers`` workers by address); None:
        every worker of the cluster.
    mode : {'gradient', 'average'}, default='gradient'
        Synchronous gradient averaging, or periodic model averaging (see the
        module's notes).
    sync_every : int, default=16
        ``mode='average'``: local updates between two averages.

    Attributes
    ----------
    stats_ : dict
        Accumulated over the epochs run inside: ``rounds`` (synchronisations:
        'gradient', one per step, the workers' exchange of their gradients;
        'average', one per ``sync_every`` steps, through the client),
        ``updates`` (optimizer steps: of the whole model for 'gradient', of
        each worker's copy for 'average'), ``bytes_sent`` / ``bytes_received``
        (weights, gradients, optimizer states and row indices, both between
        workers and with the client; the pickling overhead excluded),
        ``compute_s`` (seconds the workers spent computing, summed over
        workers), ``wait_s`` (what the rounds cost beyond the work: per round,
        the wait for the last part less the slowest worker's compute, summed
        (the largest sum of any worker's, 'gradient' mode):
        messages, pickling, idle cores), ``update_s`` ('gradient' mode:
        combining the parts and applying the update, the largest sum of any
        worker's; in 'average' mode the updates are part of ``compute_s``),
        ``wall_s`` (seconds of the epochs at
        the client; beyond the rounds: combining and applying updates, and the
        epoch's hand-over to and from the workers)
        and ``setup_s`` (sending the shards and starting the actors, once per
        fit: part of the first epoch's time in the estimator's ``history_``).

    Examples
    --------
    >>> from distributed import Client, LocalCluster          # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> with DataParallel(client):                             # doctest: +SKIP
    ...     GRURegressor(64, random_state=0).fit(X, y)
    """

    def __init__(self, client, n_workers=None, *, mode="gradient", sync_every=16):
        self.client = client
        self.n_workers = n_workers
        self.mode = mode
        self.sync_every = sync_every

    def _validate(self):
        if not hasattr(self.client, "submit") or not hasattr(self.client, "nthreads"):
            raise TypeError(f"client must be a distributed.Client, got "
                            f"{type(self.client).__name__}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if not isinstance(self.sync_every, Integral) or isinstance(self.sync_every, bool) \
                or self.sync_every < 1:
            raise ValueError(f"sync_every must be a positive integer, got "
                             f"{self.sync_every!r}")
        status = getattr(self.client, "status", "running")
        if status in ("closing", "closed"):
            raise ValueError(f"the client is {status}: open a new one")
        try:  # asked now (scheduler_info() is the client's copy, refreshed every 2 s)
            workers = sorted(self.client.nthreads())
        except (AttributeError, KeyError, OSError):  # no scheduler connection
            raise ValueError(f"the client (status {status!r}) reaches no scheduler: open "
                             "a new one") from None
        n = len(workers) if self.n_workers is None else self.n_workers
        if not isinstance(n, Integral) or isinstance(n, bool) or not 1 <= n <= len(workers):
            raise ValueError(f"n_workers must be an integer in [1, {len(workers)}] (the "
                             f"cluster's workers), got {self.n_workers!r}")
        return workers[:n]

    def __enter__(self):
        self._workers = self._validate()
        self._actors, self._futures, self._key = None, None, None
        self.stats_ = dict(rounds=0, updates=0, bytes_sent=0, bytes_received=0,
                           compute_s=0.0, wait_s=0.0, update_s=0.0, wall_s=0.0,
                           setup_s=0.0)
        self._token = epoch_runner.set(self)
        return self

    def __exit__(self, *exc_info):
        epoch_runner.reset(self._token)
        self._actors = self._futures = None  # the actors end with their last reference

    # -- set-up --------------------------------------------------------------------
    @staticmethod
    def _check(net, data, opts):
        if net.dropout > 0 or net.input_dropout > 0:
            raise ValueError("data-parallel training does not support dropout (each "
                             "worker would need its own mask generator); set dropout=0")
        if opts.truncates(data[0].shape[1]):
            stride = "" if opts.bptt_stride is None else f", bptt_stride={opts.bptt_stride}"
            raise ValueError(f"data-parallel training needs full BPTT over each window; "
                             f"got bptt_steps={opts.bptt_steps}{stride} for "
                             f"{data[0].shape[1]} steps (cut long sequences into windows "
                             "instead)")

    def _setup(self, net, data, loss, optimizer, opts):
        """One actor per worker, each holding its contiguous shard of ``data``.

        Each shard goes once to its worker (``scatter``: not inside the actor's
        construction task, and through the scheduler only where the client
        cannot reach the workers directly), as a slice (a view: nothing is
        copied here); every step then sends only the weights and row indices."""
        # the cluster's workers as they are now: a restart (client.restart(), or a
        # nanny's after a crash) gives them new addresses
        self._workers = self._validate()
        n = data[0].shape[0]
        if n < len(self._workers):
            raise ValueError(f"{n} training sequences cannot be shared by "
                             f"{len(self._workers)} workers")
        self._shards = np.array_split(np.arange(n), len(self._workers))
        worker_opts = replace(opts, callback=None)
        futures = []
        for rows, address in zip(self._shards, self._workers):
            part = slice(int(rows[0]), int(rows[-1]) + 1) if len(rows) else slice(0, 0)
            shard = tuple(None if a is None else a[part] for a in data)
            [held] = self.client.scatter([shard], workers=[address], hash=False)
            futures.append(self.client.submit(ShardWorker, net, loss, optimizer, held,
                                              worker_opts, actor=True, pure=False,
                                              workers=[address]))
        self._actors = [f.result() for f in futures]
        self._futures = futures  # keep the actors alive
        if self.mode == "gradient" and len(self._actors) > 1:
            self._mesh()
        self._key = (id(net), id(data[0]), id(optimizer))

    def _mesh(self):
        """Connect every pair of workers ('gradient' mode): each but the last listens
        for the workers after it, each connects to those before it; a key per fit
        authenticates them."""
        authkey, W = os.urandom(32), len(self._actors)
        addresses = [f.result() for f in [a.listen(authkey, W - 1 - s)
                                          for s, a in enumerate(self._actors[:-1])]]
        _gather([a.connect(s, addresses + [None], authkey)
                 for s, a in enumerate(self._actors)])

    def _batches(self, rng, shuffle, batch_size):
        """Per step, each shard's row indices (see the module's notes)."""
        sizes = [len(s) for s in self._shards]
        orders = [rng.permutation(m) if shuffle else np.arange(m) for m in sizes]
        W = len(sizes)
        per = [batch_size // W + (s < batch_size % W) for s in range(W)]  # >= 1 each
        n_steps = max(-(-m // b) for m, b in zip(sizes, per))
        return [[o[k * b:(k + 1) * b] for o, b in zip(orders, per)] for k in range(n_steps)]

    # -- the epoch -----------------------------------------------------------------
    def run_epoch(self, net, data, loss, optimizer, lr, opts, rng, counters):
        """One pass over the training data (the engine's ``_run_epoch`` signature)."""
        self._check(net, data, opts)
        if opts.batch_size < len(self._workers):
            raise ValueError(f"batch_size={opts.batch_size} is smaller than the "
                             f"{len(self._workers)} workers: a step takes at least one "
                             "row from each; use batch_size >= n_workers")
        if self._actors is None or self._key != (id(net), id(data[0]), id(optimizer)):
            t0 = time.perf_counter()
            self._setup(net, data, loss, optimizer, opts)
            self.stats_["setup_s"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        steps = self._batches(rng, opts.shuffle, opts.batch_size)
        try:
            if self.mode == "gradient":
                total, weight = self._gradient_epoch(net, optimizer, lr, opts, steps,
                                                     counters)
            else:
                total, weight = self._average_epoch(net, optimizer, lr, steps, counters)
        finally:
            self.stats_["wall_s"] += time.perf_counter() - t0
        if data.sample_weight is not None:
            # parts whose rows all weigh 0 sent nothing, but their rows are in the
            # weighted mean (their losses count 0): relative weights make it the sum
            # of the weighted losses over all the rows
            weight = _row_weight(net, None, _rows_per_sample(net, data.lengths))
        if weight == 0:
            raise ValueError("no training sample has a positive weight")
        return total / weight

    def _gradient_epoch(self, net, optimizer, lr, opts, steps, counters):
        """The epoch runs in the workers (see :meth:`ShardWorker.gradient_epoch`): one
        call per worker and epoch from here, with the weights, the optimizer's state
        and the worker's row indices; the first worker hands the weights and state
        back, all hand back a hash of their weights."""
        flat = _flat(net, net.params)
        state = (optimizer.t, optimizer._state)
        try:
            outs = _gather([a.gradient_epoch(flat, state, lr, [p[s] for p in steps], s == 0)
                            for s, a in enumerate(self._actors)])
        except BaseException:
            self._actors = None  # a broken mesh: set up again by the next fit
            raise
        (new, (t, moments)), _, total, weight, more, _, stopped = outs[0]
        if len({o[1] for o in outs}) != 1:
            raise RuntimeError("the workers' weights differ after the epoch: their "
                               "updates were not the same arithmetic")
        for k, v in _unflat(net, new).items():
            net.params[k][...] = v
        optimizer.t = t
        for slot, got in zip(optimizer._state, moments):
            for key, v in got.items():
                slot[key] = v  # the worker's arrays: already copies
        _merge_counters(counters, more)
        self.stats_["updates"] += more.n_updates
        state_bytes = sum(v.nbytes for slot in moments for v in slot.values()
                          if isinstance(v, np.ndarray))
        stats = [o[5] for o in outs]
        self.stats_["rounds"] += stats[0]["rounds"]
        for k in ("wait_s", "update_s"):
            self.stats_[k] += max(st[k] for st in stats)
        for k in ("bytes_sent", "bytes_received", "compute_s"):
            self.stats_[k] += sum(st[k] for st in stats)
        self.stats_["bytes_sent"] += (flat.nbytes + state_bytes) * len(outs) + sum(
            i.nbytes for parts in steps for i in parts)
        self.stats_["bytes_received"] += new.nbytes + state_bytes
        if stopped is not None:
            raise _Stop(stopped)
        return total, weight

    def _average_epoch(self, net, optimizer, lr, steps, counters):
        total, weight = 0.0, 0.0
        for r in range(0, len(steps), self.sync_every):
            t0 = time.perf_counter()
            block = steps[r:r + self.sync_every]
            flat = _flat(net, net.params)
            futures = [a.local_steps(flat, [parts[s] for parts in block], lr)
                       for s, a in enumerate(self._actors)]
            got = [f.result() for f in futures]
            _count(self.stats_, flat.nbytes * len(futures)
                   + sum(p[s].nbytes for p in block for s in range(len(got))),
                   sum(g[0].nbytes for g in got), [g[4] for g in got],
                   time.perf_counter() - t0)
            stopped = [g[5] for g in got if g[5] is not None]
            if stopped:
                raise _Stop(stopped[0])
            new = _weighted([(g[2], g[0]) for g in got if g[2] > 0])
            if new is not None:
                for k, v in _unflat(net, new.astype(net.params[next(iter(net.params))].dtype,
                                                    copy=False)).items():
                    net.params[k][...] = v
            for g in got:
                _merge_counters(counters, g[3])
                self.stats_["updates"] += g[3].n_updates
                total, weight = total + g[1], weight + g[2]
        self._sync_optimizer(optimizer, [sum(len(p[s]) for p in steps)
                                         for s in range(len(self._actors))])
        return total, weight

    def _sync_optimizer(self, optimizer, rows):
        """The client's optimizer takes the workers' state (averaged by rows, or the
        one worker's), so that a later fit that continues (partial_fit,
        warm_start) starts from it; the workers keep their own."""
        states = [f.result() for f in [a.optimizer_state() for a in self._actors]]
        optimizer.t = max(t for t, _ in states)
        if len(states) == 1:
            optimizer._state = states[0][1]
            return
        total = sum(rows)
        for i, slot in enumerate(optimizer._state):
            for key in [k for k, v in slot.items() if isinstance(v, np.ndarray)]:
                avg = sum((n / total) * st[i][key].astype(np.float64)
                          for n, (_, st) in zip(rows, states))
                slot[key] = avg.astype(slot[key].dtype)

class _PeerLost(ConnectionError):
    """A peer's channel closed during an epoch: that worker failed (its own error
    is the one the client raises)."""


def _accept(listener, n_peers, into):
    """``listen``'s thread: accept ``n_peers`` connections, each keyed by the shard
    index its worker sends first."""
    with listener:
        for _ in range(n_peers):
            try:
                conn = _no_delay(listener.accept())
                into[conn.recv()] = conn
            except (OSError, EOFError):  # closed by connect() after its time-out
                return


def _recv(conn, shard):
    try:
        return conn.recv()
    except (EOFError, OSError) as exc:
        raise _PeerLost(f"the worker of shard {shard} hung up during the epoch") from exc


def _gather(futures):
    """The results of actor calls, in order; if any failed, the root error: not a
    :class:`_PeerLost` of a worker whose peer failed first."""
    outs, errors = [], []
    for f in futures:
        try:
            outs.append(f.result())
        except Exception as exc:  # noqa: BLE001  (raised below, the root one first)
            errors.append(exc)
    if errors:
        raise next((e for e in errors if not isinstance(e, _PeerLost)), errors[0])
    return outs


def _no_delay(conn):
    """TCP_NODELAY on a connection's socket: a message over 16 kB goes out as a
    header and a body, and Nagle's algorithm held the body back until the header's
    delayed ACK, 40 ms a step."""
    with socket.socket(fileno=os.dup(conn.fileno())) as sock:  # options are the socket's
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _apply(net, optimizer, got, lr, opts, counters):
    """One optimizer step from a (combined) gradient.

    Parameters
    ----------
    net, optimizer : the network and its optimizer, updated in place
    got : tuple (value, batch_weight, grads, n_clipped)
        The loss, its weight, the gradients by parameter name and the count of
        clipped steps, as ``_gradient`` and ``_combine`` return them.
    lr : float
    opts : TrainOptions
    counters : EpochCounters

    Returns
    -------
    str or None
        Why training stopped (a non-finite update), or None.
    """
    value, _, grads, clipped = got
    try:
        _update(net, optimizer, value, grads, {"n_clipped": [np.array([clipped])]}, lr, opts,
                counters)
    except _Stop as why:
        return str(why)
    return None


def _count(stats, sent, received, compute, round_s):
    """Add one round trip to ``stats``: bytes each way, the workers' compute seconds
    (one per worker), and the round's seconds until every result was in."""
    stats["rounds"] += 1
    stats["bytes_sent"] += int(sent)
    stats["bytes_received"] += int(received)
    stats["compute_s"] += sum(compute)
    stats["wait_s"] += max(0.0, round_s - max(compute, default=0.0))


def _weighted(pairs):
    """Sum of ``w / sum(w) * x`` over (w, x) pairs in order, in float64; an ``x`` of
    None (rows that weigh nothing) counts in ``sum(w)`` alone. One pair gives its
    ``x`` untouched (so one worker reproduces the serial run bitwise)."""
    if not pairs:
        return None
    if len(pairs) == 1:
        return pairs[0][1]
    total = sum(w for w, _ in pairs)
    out = np.zeros(next(x for _, x in pairs if x is not None).shape, np.float64)
    for w, x in pairs:
        if x is not None:
            out += (w / total) * x.astype(np.float64)
    return out


def _combine(net, got):
    """The minibatch's loss and gradients from the workers' parts, in shard order."""
    bw = sum(g[1] for g in got)
    value = got[0][0] if len(got) == 1 else sum(g[1] / bw * g[0] for g in got)
    dtype = net.params[next(iter(net.params))].dtype
    flat = _weighted([(g[1], g[2]) for g in got]).astype(dtype, copy=False)
    grads = {k: v.copy() for k, v in _unflat(net, flat).items()}
    return value, bw, grads, sum(g[3] for g in got)


def _merge_counters(into, more):
    """Add a worker's EpochCounters into the epoch's own (the largest norm_max)."""
    for field in fields(EpochCounters):
        k, v = field.name, getattr(more, field.name)
        setattr(into, k, max(getattr(into, k), v) if k == "norm_max" else getattr(into, k) + v)
