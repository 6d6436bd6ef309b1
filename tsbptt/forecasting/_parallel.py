"""Run independent forecasting jobs (backtest origins, one model per series) in
parallel through joblib.

Everything goes through :class:`joblib.Parallel`, so whatever backend the caller
picked applies unchanged: ``with joblib.parallel_config(backend="dask"):`` sends
the jobs to a Dask cluster, the default (loky) to local processes.

Design
------
- Results come back in submission order (``return_as="generator"``), so the
  output never depends on ``n_jobs`` or on which worker finished first.
- Each job runs under :class:`~tsbptt.engine._workers.worker_thread_limits`: in
  a Dask worker, tsbptt's kernels use at most the cores the worker was given (and
  every BLAS one thread), so two worker processes on one machine do not both
  spawn a thread per core (joblib already limits its own loky workers' threads the
  same way).
  The kernels' results do not depend on their thread count, so a job gives the
  same bits in a worker as in the calling process.
- ``n_jobs=1`` always runs here: a job that is one of many parallel jobs (a
  series' backtest in :func:`~tsbptt.forecasting.local.backtest_series`) runs
  its own jobs in place; under the Dask backend a task that sent tasks to the
  cluster would hold its worker while waiting for them.
- The jobs travel in contiguous chunks, ``CHUNKS_PER_WORKER`` per worker (or
  core): one task per series or origin cost the Dask backend a scheduler round
  trip, a pickling of the shared arguments (the template forecaster, the whole
  series of every origin) and the worker's task bookkeeping each, which on 100
  series of a Ridge forecaster was a third of the work (``bench_dask.py``).
  In a chunk, the arguments the jobs share are pickled once. A few chunks per
  worker rather than one keep the workers busy to the end when jobs differ in
  cost (later origins train on more data).
"""
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import get_active_backend

from ..engine.trainer import interrupts_stop_every_fit
from ..engine._workers import worker_thread_limits
from ..utils._validation import (quieted, quieted_kinds, small_spread_once,
                                 small_spread_said)

__all__ = ["check_n_jobs", "parallel_map"]

CHUNKS_PER_WORKER = 4


def check_n_jobs(n_jobs):
    """Validate ``n_jobs`` (None, or a non-zero integer, joblib's convention).

    Raises
    ------
    ValueError
        Naming the argument and the bad value.
    """
    if n_jobs is None:
        return None
    if not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None or a non-zero integer, got {n_jobs!r}")
    return int(n_jobs)


def _chunk(fn, jobs, quiet=frozenset(), said=None):
    # the caller's quieted warnings and the small-spread notes it gave (context
    # variables: a joblib thread, a loky or Dask worker starts without them)
    with worker_thread_limits(), quieted(*quiet), small_spread_once(said):
        return [fn(*job) for job in jobs]


def _chunks(n_jobs_total, n_workers):
    """Contiguous (start, stop) ranges: ``CHUNKS_PER_WORKER`` per worker, at most
    one per job, sizes differing by at most one."""
    n_chunks = min(n_jobs_total, CHUNKS_PER_WORKER * max(1, n_workers))
    bounds = np.linspace(0, n_jobs_total, n_chunks + 1).round().astype(int)
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def parallel_map(fn, jobs, n_jobs=None, on_result=None):
    """``[fn(*job) for job in jobs]``, the jobs spread over joblib's workers.

    Parameters
    ----------
    fn : callable
        A picklable function (module level), run once per job.
    jobs : list of tuple
        The arguments of each call.
    n_jobs : int or None, default=None
        joblib's: None runs the jobs here one after the other unless a
        ``joblib.parallel_config`` says otherwise, -1 uses every worker (the jobs
        sent in ``CHUNKS_PER_WORKER`` contiguous chunks per worker); 1 always
        runs them here (what jobs that are themselves parallel jobs use: a Dask
        task that sends tasks to the cluster and waits for them holds its worker).
    on_result : callable or None, default=None
        Called with each result as it arrives, in job order (e.g. progress; a
        chunk's results arrive together).

    Returns
    -------
    list
        The results in job order, whatever the worker that computed each.
    """
    n_jobs = check_n_jobs(n_jobs)
    with interrupts_stop_every_fit():  # Ctrl-C stops the jobs, not one fit of them
        return _map(fn, jobs, n_jobs, on_result)


def _map(fn, jobs, n_jobs, on_result):
    if n_jobs == 1:  # here, even under a parallel_config: a job inside a job
        out = []
        for job in jobs:
            out.append(fn(*job))
            if on_result is not None:
                on_result(out[-1])
        return out
    jobs = list(jobs)
    # results as they come where the backend can (joblib's multiprocessing backend
    # cannot: every call failed under it)
    generator = getattr(get_active_backend()[0], "supports_return_generator", True)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator" if generator else "list")
    chunks = _chunks(len(jobs), effective_n_jobs(n_jobs))
    out = []
    quiet, said = quieted_kinds(), small_spread_said()
    for results in parallel(delayed(_chunk)(fn, jobs[a:b], quiet, said) for a, b in chunks):
        for result in results:
            out.append(result)
            if on_result is not None:
                on_result(result)
    return out

