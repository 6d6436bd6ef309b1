"""How many cores a job may use inside a Dask worker.

A Dask worker process is given ``nthreads`` (and optionally a ``cores``
resource), but the OpenMP runtime it loaded sees every core of the machine: two
worker processes would each start a thread per core and fight over them. The
jobs tsbptt sends to workers (backtest origins, one model per series, the shards
of data-parallel training) run under :class:`worker_thread_limits`, which holds
OpenMP to the worker's share and BLAS to one thread. tsbptt's kernels give the
same bits for any thread count, so this changes the speed, never the results.

Only ``distributed`` is imported here, and only when a job runs in a worker.
"""
from threadpoolctl import ThreadpoolController

from ._threads import all_blas_single_threaded

__all__ = ["worker_cores", "worker_thread_limits"]


def worker_cores():
    """The cores this process may use for one job.

    Returns
    -------
    int or None
        In a Dask worker: its ``cores`` resource when it declares one, else its
        ``nthreads`` shared among the tasks it is running now (at least 1). Not
        in a worker: None (no limit beyond the process's own).
    """
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return None
    resources = getattr(worker.state, "total_resources", None) or {}
    if "cores" in resources:
        return max(1, int(resources["cores"]))
    running = len(getattr(worker.state, "executing", ()) or ())
    return max(1, int(worker.state.nthreads) // max(1, running))


class worker_thread_limits:
    """Context manager: OpenMP threads held to :func:`worker_cores` and every BLAS
    to one thread inside a Dask worker; nothing changes elsewhere.

    tsbptt estimators with ``n_threads=None`` (the default) read the OpenMP
    limit (see :func:`tsbptt.engine._threads.resolve_n_threads`), so they follow
    it; an explicit ``n_threads`` is the user's choice and kept. The BLAS is held
    by the engine's counted hold, not by threadpoolctl: its limit on a pthreads
    OpenBLAS belongs to one Python thread at a time, so in a worker that runs jobs
    in threads one job's limit ended under another's LAPACK solve, which then ran
    on every core (other bits: an echo-state network's readout). The jobs' BLAS
    work is small (the kernels own their products), so one thread is their
    share."""

    _controller = None  # finding the libraries takes ~10 ms: once per process

    def __enter__(self):
        cores = worker_cores()
        self._limits = None
        if cores is not None:
            if worker_thread_limits._controller is None:
                # OpenMP's alone: a limiter's restore sets every library it holds,
                # and a BLAS's set left this thread holding threadpoolctl's control
                worker_thread_limits._controller = ThreadpoolController().select(
                    user_api="openmp")
            # OpenMP's limit belongs to the calling thread: set it in the job's own
            self._limits = worker_thread_limits._controller.limit(limits=cores)
            self._blas = all_blas_single_threaded()
            try:
                self._blas.__enter__()
            except BaseException:  # (a Ctrl-C): no __exit__ follows, so undo here
                self._limits.restore_original_limits()
                raise
        return self

    def __exit__(self, *exc_info):
        if self._limits is not None:
            try:
                self._blas.__exit__(*exc_info)
            finally:
                self._limits.restore_original_limits()
