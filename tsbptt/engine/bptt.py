"""Backpropagation-through-time schedules: full, checkpointed and truncated.

Each schedule turns a batch of sequences and a loss into gradients of the
network's parameters. The loss is given as a function of the network's output
(``loss_fn(out) -> (value, d_out)``), so the schedules know nothing of targets,
weights or masks.

- :func:`full_bptt`: one forward, one backward through every step. With
  ``checkpoint_every=c`` only the recurrent states at every c-th step are kept; the
  backward recomputes one piece of c steps at a time, so the caches take memory
  for c steps (plus T / c states) instead of T: with c ~ sqrt(T) they grow like
  sqrt(T). Without dropout the gradients equal those without checkpointing,
  bitwise when c is a multiple of 16 (the kernels' gradient block, see
  ``_kernels/_common.pxd``); with dropout they are exact for the masks drawn.
- :func:`truncated_bptt`: TBPTT(k1, k2) of Williams & Peng (1990) over long
  sequences: every k1 steps, backpropagate through the last k2 steps (k2 >= k1)
  and hand the gradients to the caller, who updates the weights before the next
  window. The hidden state is carried from window to window (stateful); the
  gradient stops at the window's first step. Only k2 steps are ever cached.
"""
from typing import NamedTuple

import numpy as np

from ..utils._validation import check_positive_int
from .layers import _check_clip, check_lengths, check_sequences

__all__ = ["full_bptt", "truncated_bptt", "truncation_windows"]


class _PieceRun(NamedTuple):
    """What every piece of a checkpointed pass shares: the network, the whole
    batch and how to run it (``input_masks``: variational masks drawn once)."""

    net: object
    X: np.ndarray
    lengths: np.ndarray
    training: bool
    n_threads: object
    input_masks: list


def full_bptt(net, X, lengths, loss_fn, *, initial_states=None, checkpoint_every=None,
              clip_step=None, training=False, rng=None, n_threads=None):
    """Loss and gradients of one batch by backpropagation through all its steps.

    Parameters
    ----------
    net : tsbptt.engine.network.Network
    X : ndarray of shape (B, T, F), validated and C-contiguous
    lengths : ndarray of intp of shape (B,)
    loss_fn : callable
        ``loss_fn(out) -> (value, d_out)`` with ``out`` the network's output.
    initial_states : list or None, default=None
    checkpoint_every : int or None, default=None
        Keep states every this many steps and recompute the rest in the backward.
    clip_step : float or None, default=None
        Clip dL/dh_t element-wise to [-clip_step, clip_step] at every step, in
        every layer; a positive finite number, or None for no clipping.
    training : bool, default=False
        Dropout on.
    rng : numpy.random.RandomState or None
    n_threads : int or None

    Returns
    -------
    value : float
    grads : dict of ndarray, keyed like ``net.params``
    stats : dict
        ``delta_sq``: per layer, (B, T) squared norms of dL/dh_t; ``n_clipped``:
        per layer, (B,) entries clipped by ``clip_step``.
    """
    stats = {}
    T = X.shape[1]
    check_positive_int("checkpoint_every", checkpoint_every, allow_none=True)
    _check_clip(clip_step)
    net.check_dropout_rng(training, rng)
    if checkpoint_every is None or checkpoint_every >= T:
        out, _, cache = net.forward(X, lengths, initial_states, training=training,
                                    rng=rng, n_threads=n_threads)
        value, d_out = loss_fn(out)
        grads, _ = net.backward(cache, d_out, clip_step=clip_step, n_threads=n_threads,
                                stats=stats)
        return value, grads, stats
    # the pieces run the layers unchecked: the same checks as net.forward first
    X = check_sequences(X, net.input_size, net.dtype)
    lengths = check_lengths(lengths, X.shape[0], X.shape[1])
    initial_states = net.check_states(initial_states, X.shape[0])
    return _checkpointed(net, X, lengths, loss_fn, int(checkpoint_every),
                         initial_states, clip_step, training, rng, n_threads)


def _segment_lengths(lengths, start, stop):
    """Each sequence's number of valid steps within [start, stop)."""
    return np.clip(lengths - start, 0, stop - start).astype(np.intp)


def _ends_in(last, start, stop):
    """Which sequences have their last valid step within [start, stop)."""
    return (last >= start) & (last < stop)


def _checkpointed(net, X, lengths, loss_fn, c, initial_states, clip_step, training,
                  rng, n_threads):
    """Full BPTT keeping only the states at the start of every piece of c steps."""
    if net.bidirectional:
        raise ValueError("checkpoint_every cannot be used with bidirectional layers: "
                         "the backward direction needs the whole sequence at once")
    B, T, _ = X.shape
    pieces = [(s, min(s + c, T)) for s in range(0, T, c)]
    # Variational masks hold for the whole sequence: draw them once for all pieces.
    # Per-element masks are drawn per piece (replayed in pass 2); they are i.i.d.,
    # so that is the same dropout, though not the same draws as without pieces.
    run = _PieceRun(net=net, X=X, lengths=lengths, training=training,
                    n_threads=n_threads,
                    input_masks=net.draw_input_masks(B, rng) if training else None)
    head_input, starts = _pieces_forward(run, pieces, initial_states, rng)
    out, head_cache = net.head_forward(head_input, lengths, training=training, rng=rng)
    value, d_out = loss_fn(out)
    grads, dZ = net.head_backward(head_cache, d_out, lengths)
    layer_grads, stats = _pieces_backward(run, pieces, starts, dZ, clip_step)
    grads.update(layer_grads)
    return value, grads, stats


def _run_piece(run, s, e, state0, rng):
    """The recurrent layers over steps [s, e) of every sequence."""
    return run.net.forward_layers(
        np.ascontiguousarray(run.X[:, s:e]), _segment_lengths(run.lengths, s, e),
        state0, training=run.training, rng=rng, n_threads=run.n_threads,
        input_masks=run.input_masks)


def _pieces_forward(run, pieces, initial_states, rng):
    """Pass 1: forward piece by piece, keeping only the states between pieces.

    Returns the head's input (the top layer's outputs for many-to-many, else the
    outputs at each sequence's last step) and, per piece, its initial states and
    the generator state its dropout masks were drawn from."""
    net, lengths = run.net, run.lengths
    B, T, _ = run.X.shape
    last = lengths - 1
    D = net.stack.output_size
    head_input = np.zeros((B, T, D) if net.many_to_many else (B, D), net.dtype)
    starts, states = [], initial_states
    for s, e in pieces:
        starts.append((states, rng.get_state() if rng is not None else None))
        Y, states, _ = _run_piece(run, s, e, states, rng)
        if net.many_to_many:
            head_input[:, s:e] = Y
        else:
            here = _ends_in(last, s, e)
            head_input[here] = Y[here, last[here] - s]
    return head_input, starts


def _pieces_backward(run, pieces, starts, dZ, clip_step):
    """Pass 2: last piece first, recompute its forward and backpropagate through it,
    adding the weight gradients into one set of accumulators."""
    net, lengths = run.net, run.lengths
    B, T, _ = run.X.shape
    last = lengths - 1
    acc = [layer.new_accumulators(B) for layer in net.stack.layers]
    d_states, delta_sq = None, [np.zeros((B, T), net.dtype) for _ in acc]
    n_clipped = [np.zeros(B, np.intp) for _ in acc]
    for (s, e), (state0, rng_state) in zip(pieces[::-1], starts[::-1]):
        piece_rng = None
        if rng_state is not None:
            piece_rng = np.random.RandomState()
            piece_rng.set_state(rng_state)
        Y, _, cache = _run_piece(run, s, e, state0, piece_rng)
        if net.many_to_many:
            dY = dZ[:, s:e]
        else:
            dY = np.zeros_like(Y)
            here = _ends_in(last, s, e)
            dY[here, last[here] - s] = dZ[here]
        piece_stats = {}
        _, d_states = net.backward_layers(cache, dY, d_states, clip_step=clip_step,
                                          n_threads=run.n_threads, stats=piece_stats,
                                          acc=acc)
        for i in range(len(acc)):
            delta_sq[i][:, s:e] = piece_stats["delta_sq"][i]
            n_clipped[i] += piece_stats["n_clipped"][i]
    grads = {}
    for i, layer in enumerate(net.stack.layers):
        grads.update({f"rnn.{i}.{k}": v for k, v in
                      layer.reduce_accumulators(acc[i], run.n_threads).items()})
    return grads, {"delta_sq": delta_sq, "n_clipped": n_clipped}


def _check_windows(k1, k2):
    """``k1`` and ``k2`` as ints with 1 <= k1 <= k2 (booleans are not integers)."""
    k1, k2 = check_positive_int("k1", k1), check_positive_int("k2", k2)
    if k1 > k2:
        raise ValueError(f"truncated BPTT needs 1 <= bptt_stride (k1) <= bptt_steps (k2), "
                         f"got k1={k1}, k2={k2}")
    return k1, k2


def truncation_windows(T, k1, k2):
    """The windows of TBPTT(k1, k2) over T steps.

    ``k1`` and ``k2`` may exceed T: a window never reaches before step 0, so k2 > T
    backpropagates through every step so far, as k2 = T does (and k1 > T makes one
    window of the whole sequence).

    Yields
    ------
    start, loss_start, stop : int
        Backpropagate through steps [start, stop), the last k2 steps (fewer only
        at the start of the sequence); the loss covers [loss_start, stop), the k1
        steps new since the previous window. The last window may have fewer than
        k1 new steps; it still reaches k2 steps back, so a many-to-one loss at the
        last step always backpropagates through k2 steps (it reached only the last
        window's new steps when T was not a multiple of k1). With k1 = k2 the
        windows are disjoint chunks but the last, which overlaps the one before.
    """
    k1, k2 = _check_windows(k1, k2)
    stop = 0
    while stop < T:
        loss_start, stop = stop, min(stop + k1, T)
        yield max(0, stop - k2), loss_start, stop


def states_at(net, cache, offset, final_states):
    """Every layer's recurrent state entering local step ``offset`` of a forward.

    ``offset`` equal to the forward's length gives ``final_states``.
    """
    if offset == cache.shape[1]:
        return final_states
    return [layer.state_at(c, offset) for layer, c in zip(net.stack.layers, cache.caches)]


def truncated_bptt(net, X, loss_fn, k1, k2, *, rows=None, initial_states=None,
                   clip_step=None, training=False, rng=None, n_threads=None,
                   with_windows=False):
    """TBPTT(k1, k2) over a batch of equally long sequences, as a generator.

    Parameters
    ----------
    net : tsbptt.engine.network.Network
        Unidirectional (a backward direction would need the future).
    X : ndarray of shape (B, T, F)
    loss_fn : callable
        ``loss_fn(out, start, loss_start, stop) -> (value, d_out)`` for the output
        of steps [start, stop); only steps [loss_start, stop) may carry loss.
        Return None when the window has no loss (e.g. many-to-one targets that
        only exist at the last step): the window then only carries the state on.
    k1, k2 : int
        Update every k1 steps through the last k2 steps (1 <= k1 <= k2). Either
        may exceed T: the windows are then cut at step 0, as with k2 = T (see
        :func:`truncation_windows`).
    rows : ndarray of int or None, default=None
        Which sequences of X form the batch; only one window of them is ever
        copied, so a very long X is never duplicated.
    initial_states : list or None, default=None
    clip_step : float or None, default=None
        As :func:`full_bptt`'s.
    training : bool, default=False
        Apply dropout (drawn from ``rng``), as in training; False: none.
    rng : numpy.random.RandomState or None, default=None
        The dropout masks' draws (``training=True``).
    n_threads : int or None, default=None
        OpenMP threads of the kernels (None: the engine's default).
    with_windows : bool, default=False
        Yield ``(start, loss_start, stop, (value, grads, stats))`` instead.

    Yields
    ------
    value : float
    grads : dict of ndarray
    stats : dict
        As :func:`full_bptt`'s, for the window's steps.

    The caller updates the weights between two yields; the next window then runs
    with the new weights. ``final_states`` of the last window are available as the
    generator's return value.
    """
    if net.bidirectional:
        raise ValueError("truncated BPTT cannot be used with bidirectional layers")
    # checked before any window (and before the masks draw from rng)
    k1, k2 = _check_windows(k1, k2)
    _check_clip(clip_step)
    net.check_dropout_rng(training, rng)
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)
    B, T = len(rows), X.shape[1]
    states = initial_states
    # one variational mask per sequence, whichever window it is in
    input_masks = net.draw_input_masks(B, rng) if training else None
    for start, loss_start, stop in truncation_windows(T, k1, k2):
        lengths = np.full(B, stop - start, dtype=np.intp)
        out, final, cache = net.forward(X[rows, start:stop], lengths, states,
                                        training=training, rng=rng, n_threads=n_threads,
                                        input_masks=input_masks)
        result = loss_fn(out, start, loss_start, stop)
        if result is not None:
            value, d_out = result
            stats = {}
            grads, _ = net.backward(cache, d_out, clip_step=clip_step,
                                    n_threads=n_threads, stats=stats)
            result = (value, grads, stats)
            yield (start, loss_start, stop, result) if with_windows else result
        # the next window (truncation_windows' next) starts inside this one, k2 - k1
        # steps before its end or, a shorter last window, further back: its state is
        # in this cache (no list of windows: memory stays flat in T)
        next_start = max(0, min(stop + k1, T) - k2) if stop < T else stop
        states = states_at(net, cache, next_start - start, final)
    return states
