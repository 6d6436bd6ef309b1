"""One small class per cell type: allocate caches and call the compiled kernels.

These classes hold no parameters and validate nothing; :mod:`tsbptt.engine.layers`
checks user input before anything reaches them. Everything they hand out is
batch-major ``(B, T, .)`` and C-contiguous; the training caches, which only the
cells read, are chunk-time-major (:mod:`tsbptt.engine._caches`). The layout is in
``docs/kernel_layout.md``.
"""
import numpy as np

from .._kernels import _reduce, cell_kernels
from .._kernels._reduce import BLOCK_STEPS
from ._caches import BackwardWork, GRUCache, LSTMCache, RNNCache, step_rows
from ._malloc import settle_malloc
from ._threads import chunk_rows, thread_plan

#: Per-chunk gradients with fewer elements in all are summed by one thread: a sum
#: is memory-bound, and a parallel region waits for its slowest thread.
PARALLEL_SUM_MIN = 1 << 22
#: Up to this many chunks, a single-threaded sum is NumPy's adds in chunk order:
#: the same bits as the compiled sum, without the call's fixed cost.
NUMPY_SUM_MAX_CHUNKS = 8
#: Work arrays of a kernel call up to this many bytes in all are kept for the next
#: call of the same shape (:class:`_WorkSpec`); larger ones are allocated anew (a
#: larger call's work hides the allocation, and the pool stays under 16 MB).
SCRATCH_MAX_BYTES = 1 << 20
#: Call shapes whose work arrays are kept at once (the oldest is dropped first).
SCRATCH_MAX_SHAPES = 16

#: Shapes of kernel calls remembered (:func:`_work_spec`), cleared when full.
MAX_SPECS = 256

_scratch = {}  # _WorkSpec -> tuple of its work arrays, not in use now
_specs = {}    # (cell, kind, batch, widths, dtype, chunk) -> _WorkSpec


class _WorkSpec:
    """The chunking and work arrays of one kind of kernel call at one shape.

    Work arrays are taken with :meth:`take` and handed back with :meth:`give`
    once the call returns. A small call's time is largely fixed costs: a fresh
    array per call costs an allocation and, past malloc's mmap threshold, page
    faults on first touch, so a set of up to :data:`SCRATCH_MAX_BYTES` is kept
    for the next call of the same spec. A kept set is out of the pool while in
    use (``dict.pop`` is atomic under the GIL): two Python threads running
    kernels at once never share one, the second allocates its own.
    """

    __slots__ = ("chunk", "n_chunks", "rows", "shapes", "dtype", "keep")

    def __init__(self, batch, widths, dtype, chunk):
        self.chunk = chunk
        self.n_chunks = _n_chunks(batch, self.chunk)
        self.rows = BLOCK_STEPS * min(self.chunk, batch)
        lead = {"blk": (self.n_chunks, self.rows), "row": (self.n_chunks, min(self.chunk, batch)),
                "chunk": (self.n_chunks,)}
        self.shapes = tuple(lead[kind] + (width,) for kind, width in widths)
        self.dtype = dtype
        self.keep = sum(int(np.prod(shape)) for shape in self.shapes) * dtype.itemsize \
            <= SCRATCH_MAX_BYTES

    def take(self):
        arrays = _scratch.pop(self, None)
        if arrays is None:
            arrays = tuple(np.empty(shape, dtype=self.dtype) for shape in self.shapes)
        return arrays

    def give(self, arrays):
        if self.keep:
            if len(_scratch) >= SCRATCH_MAX_SHAPES:
                try:  # drop the oldest; another thread may change the dict meanwhile
                    _scratch.pop(next(iter(_scratch)), None)
                except (RuntimeError, StopIteration):
                    pass
            _scratch[self] = arrays


def _work_spec(cell, kind, batch, widths, dtype, chunk=None):
    """The :class:`_WorkSpec` of a call, made once per shape.

    ``widths``: each work array as ``(kind, width)``: ``"blk"`` is (n_chunks, rows
    of a block of steps, width), ``"row"`` (n_chunks, rows of a chunk, width),
    ``"chunk"`` (n_chunks, width). ``chunk``: rows per chunk, ``chunk_rows(batch)``
    when None (a backward takes its cache's)."""
    if chunk is None:
        chunk = chunk_rows(batch)
    key = (cell, kind, batch, widths, dtype, chunk)
    spec = _specs.get(key)
    if spec is None:
        if len(_specs) >= MAX_SPECS:
            _specs.clear()
        spec = _specs[key] = _WorkSpec(batch, widths, dtype, chunk)
    return spec


class _Cell:
    """Common interface. Subclasses set ``name``, ``n_gates``, ``state_names``."""

    name = None
    n_gates = None
    #: Names of the recurrent state arrays, in the order they travel in a tuple.
    state_names = ("h",)
    #: Extra per-chunk accumulators beside ``W`` (the GRU's ``b_hn``).
    extra_params = ()
    #: (B, T, H) training caches beside ``xh`` and ``gates`` (the LSTM's cell states,
    #: the GRU's recurrent part of the candidate).
    extra_caches = 0

    def cache_width(self, input_size, hidden_size):
        """Values per sample and step that a training forward keeps for its backward
        (``xh``, ``gates``, the cell's own caches and the outputs): a lower bound on
        what the pass holds at its peak (the backward's gradients come on top)."""
        F, H = input_size, hidden_size
        return (F + H + 1) + (self.n_gates + self.extra_caches + 1) * H

    def param_shapes(self, input_size, hidden_size):
        """Shapes of the parameter arrays, by name."""
        shapes = {"W": (input_size + hidden_size + 1, self.n_gates * hidden_size)}
        shapes.update({name: (hidden_size,) for name in self.extra_params})
        return shapes

    def new_accumulators(self, batch, params):
        """Zeroed per-chunk gradient accumulators, one per parameter.

        Backward calls add into them; several calls over consecutive pieces of a
        sequence (gradient checkpointing) add up to exactly what one call gives.
        They have one slot per chunk of :func:`chunk_rows` rows, the chunking the
        forward gives its caches in this process; a backward over caches of another
        chunking is refused by the kernels' check of ``dW_acc``'s shape.
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
                out = a[0].copy() if len(a) == 1 else np.add(a[0], a[1])
                for k in range(2, len(a)):
                    np.add(out, a[k], out=out)
            else:
                out = np.empty(a.shape[1:], dtype=a.dtype)
                _reduce.sum_chunks(a.reshape(a.shape[0], -1), out.reshape(-1), threads)
            grads[name] = out
        return grads

    def _backward_work(self, X_shape, H, dtype, widths, chunk, need_dx=True):
        """Arrays of one backward call, shared by every cell.

        ``widths`` name the cell's per-chunk work arrays (see :func:`_work_spec`);
        ``work.scratch`` holds them. ``chunk``: the cache's rows per chunk, which
        the backward must share: the caches' rows are laid out chunk by chunk.
        Without ``need_dx``, dX has no rows: the kernels then skip the input
        gradient."""
        B, T, F = X_shape
        spec = _work_spec(self.name, "backward", B, widths, dtype, chunk)
        return BackwardWork(
            chunk=spec.chunk, n_chunks=spec.n_chunks, rows=spec.rows,
            dX=np.empty((B if need_dx else 0, T, F), dtype), scratch=spec.take(),
            spec=spec,
            n_clipped=np.zeros(B, dtype=np.intp), delta_sq=np.empty((B, T), dtype))

    def state_at(self, cache, offset):
        """The recurrent state entering local step ``offset`` (0 <= offset < T) of
        the forward that made ``cache``: h_{offset-1}, read from its input rows
        ``[x_t, h_{t-1}, 1]``."""
        H = cache.W.shape[1] // self.n_gates
        F = cache.xh.shape[2] - H - 1
        return (np.ascontiguousarray(step_rows(cache.xh, cache.chunk, offset)[:, F:F + H]),)

    def forward(self, X, params, state0, lengths, n_threads):
        """Run the kernel forward.

        Returns
        -------
        Y : ndarray of shape (B, T, H)
        state : tuple of ndarray of shape (B, H)
        cache : RNNCache, GRUCache or LSTMCache, everything :meth:`backward` needs
        """
        raise NotImplementedError

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None,
                 need_dx=True):
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
        need_dx : bool, default=True
            False skips the input gradient (a fit's first layer): the kernels leave
            out its products, and every other output keeps its bits.

        Returns
        -------
        dX : ndarray of shape (B, T, F), or None without ``need_dx``
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

    def _infer_work(self, X, H, width, act_width):
        """The forward-only kernels' work arrays, xh (n_chunks, chunk, F + H + 1),
        pre (n_chunks, chunk, width) and, if ``act_width``, act (n_chunks,
        act_width): ``(spec, arrays)``; hand them back with ``spec.give``."""
        widths = (("row", X.shape[2] + H + 1), ("row", width))
        if act_width:
            widths += (("chunk", act_width),)
        spec = _work_spec(self.name, "infer", X.shape[0], widths, X.dtype)
        return spec, spec.take()

    def _forward_pre(self, batch, width, dtype):
        """The training forward's pre-activations (n_chunks, chunk, width):
        ``(spec, pre)``; hand it back with ``spec.give((pre,))``."""
        spec = _work_spec(self.name, "forward", batch, (("row", width),), dtype)
        return spec, spec.take()[0]

    def _finish(self, acc, reduce, work, n_threads):
        work.spec.give(work.scratch)
        grads = self.reduce_accumulators(acc, n_threads) if reduce else None
        return grads, {"delta_sq": work.delta_sq, "n_clipped": work.n_clipped}


def _empty(shape, dtype):
    settle_malloc()  # the step's large arrays stay in malloc's heap (_malloc.py)
    return np.empty(shape, dtype=dtype)


def _n_chunks(batch, chunk):
    return -(-batch // chunk)


def _xh_shape(X, H):
    B, T, F = X.shape
    return (B, T, F + H + 1)


class LSTMCell(_Cell):
    """Long short-term memory; gates i, f, g, o; state (h, c)."""

    name = "lstm"
    n_gates = 4
    extra_caches = 1
    state_names = ("h", "c")

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W = params["W"]
        h0, c0 = state0
        H = h0.shape[1]
        dt = X.dtype
        spec, pre = self._forward_pre(B, 4 * H, dt)
        cache = LSTMCache(W=W, lengths=lengths, xh=_empty(_xh_shape(X, H), dt),
                          gates=_empty((B, T, 4 * H), dt), chunk=spec.chunk, c0=c0,
                          cell=_empty((B, T, H), dt))
        Y, h_T, c_T = _empty((B, T, H), dt), _empty((B, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "forward"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).lstm_forward(
                X=X, W=W, h0=h0, c0=c0, lengths=lengths, xh=cache.xh, gates=cache.gates,
                cell=cache.cell, Y=Y, h_T=h_T, c_T=c_T,
                pre=pre, chunk_size=spec.chunk,
                n_threads=plan.n)
        spec.give((pre,))
        # The backward reads the last step's h from here (the others are in xh): a
        # copy, so a caller who edits the returned state cannot change the gradients.
        cache.h_T = h_T.copy()
        return Y, (h_T, c_T), cache

    def state_at(self, cache, offset):
        """(h, c) entering local step ``offset``: h from the input rows, c from the
        cell states (the initial one at step 0)."""
        (h,) = super().state_at(cache, offset)
        if offset == 0:
            return h, np.ascontiguousarray(cache.c0)
        return h, step_rows(cache.cell, cache.chunk, offset - 1)

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        B, T, _ = X.shape
        h0, c0 = state0
        H, dt = h0.shape[1], X.dtype
        spec, (xh, pre, act) = self._infer_work(X, H, 4 * H, 5 * H)
        Y = _empty((B if keep_outputs else 0, T, H), dt)
        h_T, c_T = _empty((B, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "infer"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).lstm_infer(
                X=X, W=params["W"], h0=h0, c0=c0, lengths=lengths, Y=Y, h_T=h_T, c_T=c_T,
                xh=xh, pre=pre, act=act, chunk_size=spec.chunk, n_threads=plan.n)
        spec.give((xh, pre, act))
        return (Y if keep_outputs else None), (h_T, c_T)

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None,
                 need_dx=True):
        W, xh = cache.W, cache.xh
        B, T, _ = xh.shape
        H = cache.c0.shape[1]
        G, dt = 4 * H, xh.dtype
        F = xh.shape[2] - H - 1
        work = self._backward_work((B, T, F), H, dt, (("blk", G), ("row", F + H)),
                                   cache.chunk, need_dx)
        blk_da, rows_work = work.scratch
        reduce = acc is None
        acc = self._zero_accumulators(work.n_chunks, {"W": W}) if reduce else acc
        dh0, dc0 = _empty((B, H), dt), _empty((B, H), dt)
        # two products per step (dW and dh): a backward call has twice the work
        plan = thread_plan(n_threads, (self.name, "backward"), B, 2 * T, xh.shape[2],
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).lstm_backward(
                W=W, c0=cache.c0, h_T=cache.h_T, lengths=cache.lengths,
                xh=xh, gates=cache.gates, cell=cache.cell, dY=dY, dh_T=d_state[0],
                dc_T=d_state[1], dX=work.dX, dh0=dh0, dc0=dc0, dW_acc=acc["W"],
                blk_da=blk_da, work=rows_work, clip_step=clip_step,
                n_clipped=work.n_clipped, delta_sq=work.delta_sq, chunk_size=work.chunk,
                n_threads=plan.n)
        return (work.dX if need_dx else None, (dh0, dc0)) + self._finish(acc, reduce, work, plan.n)


class GRUCell(_Cell):
    """Gated recurrent unit, reset gate after the recurrent matmul (cuDNN/PyTorch)."""

    name = "gru"
    n_gates = 3
    extra_caches = 1
    extra_params = ("b_hn",)

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W, b_hn = params["W"], params["b_hn"]
        (h0,) = state0
        H = h0.shape[1]
        dt = X.dtype
        spec, pre = self._forward_pre(B, 3 * H, dt)
        cache = GRUCache(W=W, lengths=lengths, xh=_empty(_xh_shape(X, H), dt),
                         gates=_empty((B, T, 3 * H), dt), chunk=spec.chunk,
                         hn=_empty((B, T, H), dt))
        Y, h_T = _empty((B, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "forward"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).gru_forward(
                X=X, W=W, b_hn=b_hn, h0=h0, lengths=lengths, xh=cache.xh,
                gates=cache.gates, hn=cache.hn, Y=Y, h_T=h_T,
                pre=pre, chunk_size=spec.chunk,
                n_threads=plan.n)
        spec.give((pre,))
        return Y, (h_T,), cache

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        B, T, _ = X.shape
        (h0,) = state0
        H, dt = h0.shape[1], X.dtype
        spec, (xh, pre, act) = self._infer_work(X, H, 4 * H, 4 * H)
        Y, h_T = _empty((B if keep_outputs else 0, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "infer"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).gru_infer(
                X=X, W=params["W"], b_hn=params["b_hn"], h0=h0, lengths=lengths, Y=Y,
                h_T=h_T, xh=xh, pre=pre, act=act, chunk_size=spec.chunk, n_threads=plan.n)
        spec.give((xh, pre, act))
        return (Y if keep_outputs else None), (h_T,)

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None,
                 need_dx=True):
        W, xh = cache.W, cache.xh
        B, T, _ = xh.shape
        H = cache.hn.shape[2]
        G, dt = 3 * H, xh.dtype
        work = self._backward_work((B, T, xh.shape[2] - H - 1), H, dt,
                                   (("blk", G), ("blk", G), ("row", H)), cache.chunk,
                                   need_dx)
        blk_dgx, blk_dgh, rows_work = work.scratch
        reduce = acc is None
        if reduce:
            acc = self._zero_accumulators(work.n_chunks, {"W": W, "b_hn": np.empty(H, dt)})
        dh0 = _empty((B, H), dt)
        # two products per step (dW and dh): a backward call has twice the work
        plan = thread_plan(n_threads, (self.name, "backward"), B, 2 * T, xh.shape[2],
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).gru_backward(
                W=W, lengths=cache.lengths, xh=xh, gates=cache.gates,
                hn=cache.hn, dY=dY, dh_T=d_state[0], dX=work.dX, dh0=dh0,
                dW_acc=acc["W"], db_hn_acc=acc["b_hn"], blk_dgx=blk_dgx,
                blk_dgh=blk_dgh, work=rows_work, clip_step=clip_step,
                n_clipped=work.n_clipped, delta_sq=work.delta_sq, chunk_size=work.chunk,
                n_threads=plan.n)
        return (work.dX if need_dx else None, (dh0,)) + self._finish(acc, reduce, work, plan.n)


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
        spec, pre = self._forward_pre(B, H, dt)
        cache = RNNCache(W=W, lengths=lengths, xh=_empty(_xh_shape(X, H), dt),
                         gates=_empty((B, T, H), dt), chunk=spec.chunk)
        Y, h_T = _empty((B, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "forward"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).rnn_forward(
                X=X, W=W, h0=h0, lengths=lengths, xh=cache.xh, gates=cache.gates, Y=Y,
                h_T=h_T, pre=pre, chunk_size=spec.chunk,
                n_threads=plan.n)
        spec.give((pre,))
        return Y, (h_T,), cache

    def infer(self, X, params, state0, lengths, n_threads, keep_outputs=True):
        B, T, _ = X.shape
        (h0,) = state0
        H, dt = h0.shape[1], X.dtype
        spec, (xh, pre) = self._infer_work(X, H, H, 0)
        Y, h_T = _empty((B if keep_outputs else 0, T, H), dt), _empty((B, H), dt)
        plan = thread_plan(n_threads, (self.name, "infer"), B, T, X.shape[2] + H + 1,
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).rnn_infer(
                X=X, W=params["W"], h0=h0, lengths=lengths, Y=Y, h_T=h_T, xh=xh, pre=pre,
                chunk_size=spec.chunk, n_threads=plan.n)
        spec.give((xh, pre))
        return (Y if keep_outputs else None), (h_T,)

    def backward(self, cache, dY, d_state, n_threads, clip_step=0.0, acc=None,
                 need_dx=True):
        W, xh = cache.W, cache.xh
        B, T, _ = xh.shape
        H = W.shape[1]
        dt = xh.dtype
        F = xh.shape[2] - H - 1
        work = self._backward_work((B, T, F), H, dt, (("blk", H), ("row", F + H)),
                                   cache.chunk, need_dx)
        blk_da, rows_work = work.scratch
        reduce = acc is None
        acc = self._zero_accumulators(work.n_chunks, {"W": W}) if reduce else acc
        dh0 = _empty((B, H), dt)
        # two products per step (dW and dh): a backward call has twice the work
        plan = thread_plan(n_threads, (self.name, "backward"), B, 2 * T, xh.shape[2],
                           self.n_gates, H)
        with plan:
            cell_kernels(self.name).rnn_backward(
                W=W, lengths=cache.lengths, xh=xh, gates=cache.gates, dY=dY,
                dh_T=d_state[0], dX=work.dX, dh0=dh0, dW_acc=acc["W"],
                blk_da=blk_da, work=rows_work, clip_step=clip_step,
                n_clipped=work.n_clipped, delta_sq=work.delta_sq, chunk_size=work.chunk,
                n_threads=plan.n)
        return (work.dX if need_dx else None, (dh0,)) + self._finish(acc, reduce, work, plan.n)


CELLS = {cls.name: cls() for cls in (LSTMCell, GRUCell, RNNCell)}
