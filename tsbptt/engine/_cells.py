"""One small class per cell type: allocate caches and call the compiled kernels.

These classes hold no parameters and validate nothing; :mod:`tsbptt.engine.layers`
checks user input before anything reaches them. Everything is batch-major
``(B, T, .)`` and C-contiguous; the layout is in ``docs/kernel_layout.md``.
"""
import numpy as np

from .._kernels import _reduce, cell_kernels
from .._kernels._reduce import BLOCK_STEPS
from ._caches import BackwardWork, GRUCache, LSTMCache, RNNCache
from ._threads import chunk_rows, thread_plan

#: Per-chunk gradients with fewer elements in all are summed by one thread: a sum
#: is memory-bound, and a parallel region waits for its slowest thread.
PARALLEL_SUM_MIN = 1 << 22
#: Up to this many chunks, a single-threaded sum is NumPy's adds in chunk order:
#: the same bits as the compiled sum, without the call's fixed cost.
NUMPY_SUM_MAX_CHUNKS = 8


class _Cell:
    """Common interface. Subclasses set ``name``, ``n_gates``, ``state_names``."""

    name = None
    n_gates = None
    #: Names of the recurrent state arrays, in the order they travel in a tuple.
    state_names = ("h",)
    #: Extra per-chunk accumulators beside ``W`` (the GRU's ``b_hn``).
    extra_params = ()

    def param_shapes(self, input_size, hidden_size):
        """Shapes of the parameter arrays, by name."""
        shapes = {"W": (input_size + hidden_size + 1, self.n_gates * hidden_size)}
        shapes.update({name: (hidden_size,) for name in self.extra_params})
        return shapes

    def new_accumulators(self, batch, params):
        """Zeroed per-chunk gradient accumulators, one per parameter.

        Backward calls add into them; several calls over consecutive pieces of a
        sequence (gradient checkpointing) add up to exactly what one call gives.
        """
        return self._zero_accumulators(_n_chunks(batch, chunk_rows(batch)), params)

    @staticmethod
    def _zero_accumulators(n_chunks, params):
        return {name: np.zeros((n_chunks,) + p.shape, dtype=p.dtype)
                for name, p in params.items()}

    @staticmethod
    def reduce_accumulators(acc, n_threads):
        """Sum per-chunk accumulators in chunk order: the gradients, by name."""
        grads = {}
        for name, a in acc.items():
            # A parallel region costs more than it saves on a small sum (and, on a
            # machine whose cores are busy, can wait a whole time slice for a thread).
            # Each element is summed in chunk order whatever the thread count.
            threads = n_threads if a.size >= PARALLEL_SUM_MIN else 1
            if threads == 1 and len(a) <= NUMPY_SUM_MAX_CHUNKS:
                out = a[0].copy()
                for k in range(1, len(a)):
                    np.add(out, a[k], out=out)
            else:
                out = np.empty(a.shape[1:], dtype=a.dtype)
                _reduce.sum_chunks(a.reshape(a.shape[0], -1), out.reshape(-1), threads)
            grads[name] = out
        return grads

    def _backward_work(self, X_shape, H, dtype):
        """Work arrays of one backward call, shared by every cell."""
        B, T, F = X_shape
        chunk = chunk_rows(B)
        n_chunks = _n_chunks(B, chunk)
        rows = BLOCK_STEPS * min(chunk, B)
        return BackwardWork(
            chunk=chunk, n_chunks=n_chunks, rows=rows, dX=np.empty((B, T, F), dtype),
            blk_xh=np.empty((n_chunks, rows, F + H + 1), dtype),
            n_clipped=np.zeros(B, dtype=np.intp), delta_sq=np.empty((B, T), dtype))

    def state_at(self, cache, offset):
        """The recurrent state entering local step ``offset`` (0 <= offset < T) of
        the forward that made ``cache``: h_{offset-1}, read from its input rows
        ``[x_t, h_{t-1}, 1]``."""
        H = cache.W.shape[1] // self.n_gates
        F = cache.xh.shape[2] - H - 1
        return (np.ascontiguousarray(cache.xh[:, offset, F:F + H]),)

    def forward(self, X, params, state0, lengths, n_threads):
        """Run the kernel forward.

        Returns
        -------
        Y : ndarray of shape (B, T, H)
        state : tuple of ndarray of shape (B, H)
        cache : RNNCache, GRUCache or LSTMCache, everything :meth:`backward` needs
        """
        raise NotImplementedError

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None):
        """Run the kernel backward.

        Parameters
        ----------
        cache : the cache from :meth:`forward`
        dY : ndarray of shape (B, T, H)
        d_state : tuple of ndarray of shape (B, H)
        n_threads : int
        clip_step : float, default=0.0
            If > 0, dL/dh_t is clipped element-wise to [-clip_step, clip_step] at
            every step before it flows further back.
        acc : dict of ndarray or None
            Per-chunk accumulators (:meth:`new_accumulators`) to add the weight
            gradients into; None makes fresh ones and reduces them.

        Returns
        -------
        dX : ndarray of shape (B, T, F)
        d_state0 : tuple of ndarray of shape (B, H)
        grads : dict of ndarray or None
            The parameter gradients; None when ``acc`` was given.
        stats : dict
            ``delta_sq`` (B, T): squared norm of dL/dh_t before clipping (0 past a
            sequence's end); ``n_clipped`` (B,): entries clipped per sample.
        """
        raise NotImplementedError

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        """Forward without training caches: ``(Y or None, final state)``."""
        raise NotImplementedError

    def _infer_work(self, X, H, width):
        """xh (n_chunks, chunk, F + H + 1) and pre (n_chunks, chunk, width) scratch."""
        B, _, F = X.shape
        chunk = chunk_rows(B)
        return chunk, (_empty(_per_chunk(B, chunk, F + H + 1), X.dtype),
                       _empty(_per_chunk(B, chunk, width), X.dtype))

    def _finish(self, acc, reduce, work, n_threads):
        grads = self.reduce_accumulators(acc, n_threads) if reduce else None
        return grads, {"delta_sq": work.delta_sq, "n_clipped": work.n_clipped}


def _empty(shape, dtype):
    return np.empty(shape, dtype=dtype)


def _n_chunks(batch, chunk):
    return -(-batch // chunk)


def _per_chunk(batch, chunk, width):
    """Shape of a per-chunk scratch array: (n_chunks, rows per chunk, width)."""
    return (_n_chunks(batch, chunk), min(chunk, batch), width)


def _transposed(W):
    """W[:F+H].T as a contiguous array, the backward kernels' W_T."""
    return np.ascontiguousarray(W[:-1].T)


def _xh_shape(X, H):
    B, T, F = X.shape
    return (B, T, F + H + 1)


class LSTMCell(_Cell):
    """Long short-term memory; gates i, f, g, o; state (h, c)."""

    name = "lstm"
    n_gates = 4
    state_names = ("h", "c")

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W = params["W"]
        h0, c0 = state0
        H = h0.shape[1]
        dt = X.dtype
        chunk = chunk_rows(B)
        cache = LSTMCache(W=W, lengths=lengths, xh=_empty(_xh_shape(X, H), dt),
                          gates=_empty((B, T, 4 * H), dt), c0=c0,
                          cell=_empty((B, T, H), dt))
        Y, h_T, c_T = _empty((B, T, H), dt), _empty((B, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "forward"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).lstm_forward(
                X=X, W=W, h0=h0, c0=c0, lengths=lengths, xh=cache.xh, gates=cache.gates,
                cell=cache.cell, Y=Y, h_T=h_T, c_T=c_T,
                pre=_empty(_per_chunk(B, chunk, 4 * H), dt), chunk_size=chunk,
                n_threads=plan.n)
        # The backward reads the last step's h from here (the others are in xh): a
        # copy, so a caller who edits the returned state cannot change the gradients.
        cache.h_T = h_T.copy()
        return Y, (h_T, c_T), cache

    def state_at(self, cache, offset):
        """(h, c) entering local step ``offset``: h from the input rows, c from the
        cell states (the initial one at step 0)."""
        (h,) = super().state_at(cache, offset)
        c = cache.c0 if offset == 0 else cache.cell[:, offset - 1]
        return h, np.ascontiguousarray(c)

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        B, T, _ = X.shape
        h0, c0 = state0
        H, dt = h0.shape[1], X.dtype
        chunk, (xh, pre) = self._infer_work(X, H, 4 * H)
        Y = _empty((B if keep_outputs else 0, T, H), dt)
        h_T, c_T = _empty((B, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "infer"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).lstm_infer(
                X=X, W=params["W"], h0=h0, c0=c0, lengths=lengths, Y=Y, h_T=h_T, c_T=c_T,
                xh=xh, pre=pre, act=_empty((len(pre), 5 * H), dt), chunk_size=chunk,
                n_threads=plan.n)
        return (Y if keep_outputs else None), (h_T, c_T)

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None):
        W, xh = cache.W, cache.xh
        B, T, _ = xh.shape
        H = cache.c0.shape[1]
        G, dt = 4 * H, xh.dtype
        work = self._backward_work((B, T, xh.shape[2] - H - 1), H, dt)
        reduce = acc is None
        acc = self._zero_accumulators(work.n_chunks, {"W": W}) if reduce else acc
        dh0, dc0 = _empty((B, H), dt), _empty((B, H), dt)
        # two products per step (dW and dh): a backward call has twice the work
        plan = thread_plan(n_threads, (self.name, "backward"), B, 2 * T, xh.shape[2],
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).lstm_backward(
                W_T=_transposed(W), c0=cache.c0, h_T=cache.h_T, lengths=cache.lengths,
                xh=xh, gates=cache.gates, cell=cache.cell, dY=dY, dh_T=d_state[0],
                dc_T=d_state[1], dX=work.dX, dh0=dh0, dc0=dc0, dW_acc=acc["W"],
                blk_xh=work.blk_xh, blk_da=_empty((work.n_chunks, work.rows, G), dt),
                work=_empty((work.n_chunks, min(work.chunk, B), W.shape[0] - 1), dt),
                clip_step=clip_step, n_clipped=work.n_clipped, delta_sq=work.delta_sq,
                chunk_size=work.chunk, n_threads=plan.n)
        return (work.dX, (dh0, dc0)) + self._finish(acc, reduce, work, plan.n)


class GRUCell(_Cell):
    """Gated recurrent unit, reset gate after the recurrent matmul (cuDNN/PyTorch)."""

    name = "gru"
    n_gates = 3
    extra_params = ("b_hn",)

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W, b_hn = params["W"], params["b_hn"]
        (h0,) = state0
        H = h0.shape[1]
        dt = X.dtype
        chunk = chunk_rows(B)
        cache = GRUCache(W=W, lengths=lengths, xh=_empty(_xh_shape(X, H), dt),
                         gates=_empty((B, T, 3 * H), dt), hn=_empty((B, T, H), dt))
        Y, h_T = _empty((B, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "forward"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).gru_forward(
                X=X, W=W, b_hn=b_hn, h0=h0, lengths=lengths, xh=cache.xh,
                gates=cache.gates, hn=cache.hn, Y=Y, h_T=h_T,
                pre=_empty(_per_chunk(B, chunk, 3 * H), dt), chunk_size=chunk,
                n_threads=plan.n)
        return Y, (h_T,), cache

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        B, T, _ = X.shape
        (h0,) = state0
        H, dt = h0.shape[1], X.dtype
        chunk, (xh, pre) = self._infer_work(X, H, 4 * H)
        Y, h_T = _empty((B if keep_outputs else 0, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "infer"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).gru_infer(
                X=X, W=params["W"], b_hn=params["b_hn"], h0=h0, lengths=lengths, Y=Y,
                h_T=h_T, xh=xh, pre=pre, act=_empty((len(pre), 4 * H), dt),
                chunk_size=chunk, n_threads=plan.n)
        return (Y if keep_outputs else None), (h_T,)

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None):
        W, xh = cache.W, cache.xh
        B, T, _ = xh.shape
        H = cache.hn.shape[2]
        G, dt = 3 * H, xh.dtype
        work = self._backward_work((B, T, xh.shape[2] - H - 1), H, dt)
        reduce = acc is None
        if reduce:
            acc = self._zero_accumulators(work.n_chunks, {"W": W, "b_hn": np.empty(H, dt)})
        blk = (work.n_chunks, work.rows, G)
        dh0 = _empty((B, H), dt)
        # two products per step (dW and dh): a backward call has twice the work
        plan = thread_plan(n_threads, (self.name, "backward"), B, 2 * T, xh.shape[2],
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).gru_backward(
                W_T=_transposed(W), lengths=cache.lengths, xh=xh, gates=cache.gates,
                hn=cache.hn, dY=dY, dh_T=d_state[0], dX=work.dX, dh0=dh0,
                dW_acc=acc["W"], db_hn_acc=acc["b_hn"], blk_xh=work.blk_xh,
                blk_dgx=_empty(blk, dt), blk_dgh=_empty(blk, dt),
                work=_empty((work.n_chunks, min(work.chunk, B), H), dt),
                clip_step=clip_step, n_clipped=work.n_clipped, delta_sq=work.delta_sq,
                chunk_size=work.chunk, n_threads=plan.n)
        return (work.dX, (dh0,)) + self._finish(acc, reduce, work, plan.n)


class RNNCell(_Cell):
    """Elman recurrent network with tanh."""

    name = "rnn"
    n_gates = 1

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W = params["W"]
        (h0,) = state0
        H = h0.shape[1]
        dt = X.dtype
        chunk = chunk_rows(B)
        cache = RNNCache(W=W, lengths=lengths, xh=_empty(_xh_shape(X, H), dt),
                         gates=_empty((B, T, H), dt))
        Y, h_T = _empty((B, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "forward"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).rnn_forward(
                X=X, W=W, h0=h0, lengths=lengths, xh=cache.xh, gates=cache.gates, Y=Y,
                h_T=h_T, pre=_empty(_per_chunk(B, chunk, H), dt), chunk_size=chunk,
                n_threads=plan.n)
        return Y, (h_T,), cache

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        B, T, _ = X.shape
        (h0,) = state0
        H, dt = h0.shape[1], X.dtype
        chunk, (xh, pre) = self._infer_work(X, H, H)
        Y, h_T = _empty((B if keep_outputs else 0, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "infer"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).rnn_infer(
                X=X, W=params["W"], h0=h0, lengths=lengths, Y=Y, h_T=h_T, xh=xh, pre=pre,
                chunk_size=chunk, n_threads=plan.n)
        return (Y if keep_outputs else None), (h_T,)

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None):
        W, xh = cache.W, cache.xh
        B, T, _ = xh.shape
        H = W.shape[1]
        dt = xh.dtype
        work = self._backward_work((B, T, xh.shape[2] - H - 1), H, dt)
        reduce = acc is None
        acc = self._zero_accumulators(work.n_chunks, {"W": W}) if reduce else acc
        dh0 = _empty((B, H), dt)
        # two products per step (dW and dh): a backward call has twice the work
        plan = thread_plan(n_threads, (self.name, "backward"), B, 2 * T, xh.shape[2],
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).rnn_backward(
                W_T=_transposed(W), lengths=cache.lengths, xh=xh, gates=cache.gates, dY=dY,
                dh_T=d_state[0], dX=work.dX, dh0=dh0, dW_acc=acc["W"], blk_xh=work.blk_xh,
                blk_da=_empty((work.n_chunks, work.rows, H), dt),
                work=_empty((work.n_chunks, min(work.chunk, B), W.shape[0] - 1), dt),
                clip_step=clip_step, n_clipped=work.n_clipped, delta_sq=work.delta_sq,
                chunk_size=work.chunk, n_threads=plan.n)
        return (work.dX, (dh0,)) + self._finish(acc, reduce, work, plan.n)


CELLS = {cls.name: cls() for cls in (LSTMCell, GRUCell, RNNCell)}
