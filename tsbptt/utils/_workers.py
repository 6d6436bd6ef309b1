"""How many cores a job may use inside a Dask worker.

A Dask worker process is given ``nthreads`` (and optionally a ``cores``
resource), but the OpenMP runtime it loaded sees every core of the machine: two
worker processes would each start a thread per core and fight over them. The
jobs tsbptt sends to workers (backtest origins, one model per series, the shards
of data-parallel training) run under :class:`worker_thread_limits`, which holds
OpenMP and BLAS to the worker's share. tsbptt's kernels give the same bits for
any thread count, so this changes the speed, never the results.

Only ``distributed`` is imported here, and only when a job runs in a worker.
"""
from threadpoolctl import ThreadpoolController

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
    """Context manager: OpenMP and BLAS threads held to :func:`worker_cores`
    inside a Dask worker; nothing changes elsewhere.

    tsbptt estimators with ``n_threads=None`` (the default) read the OpenMP
    limit (see :func:`tsbptt.engine._threads.resolve_n_threads`), so they follow
    it; an explicit ``n_threads`` is the user's choice and kept."""

    _controller = None  # finding the libraries takes ~10 ms: once per process

    def __enter__(self):
        cores = worker_cores()
        self._limits = None
        if cores is not None:
            if worker_thread_limits._controller is None:
                worker_thread_limits._controller = ThreadpoolController()
            # OpenMP's limit belongs to the calling thread: set it in the job's own
            self._limits = worker_thread_limits._controller.limit(limits=cores)
        return self

    def __exit__(self, *exc_info):
        if self._limits is not None:
            self._limits.restore_original_limits()
