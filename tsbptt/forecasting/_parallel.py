"""Run independent forecasting jobs (backtest origins, one model per series) in
parallel through joblib.

Everything goes through :class:`joblib.Parallel`, so whatever backend the caller
picked applies unchanged: ``with joblib.parallel_config(backend="dask"):`` sends
the jobs to a Dask cluster, the default (loky) to local processes.

Design
------
- Results come back in submission order (``return_as="generator"``), so the
  output never depends on ``n_jobs`` or on which worker finished first.
- Each job runs under :class:`~tsbptt.utils._workers.worker_thread_limits`: in
  a Dask worker, tsbptt's kernels (and any BLAS) use at most the cores the worker
  was given, so two worker processes on one machine do not both spawn a thread
  per core (joblib already limits its own loky workers' threads the same way).
  The kernels' results do not depend on their thread count, so a job gives the
  same bits in a worker as in the calling process.
- ``n_jobs=1`` always runs here: a job that is one of many parallel jobs (a
  series' backtest in :func:`~tsbptt.forecasting.local.backtest_series`) runs
  its own jobs in place; under the Dask backend a task that sent tasks to the
  cluster would hold its worker while waiting for them.
"""
from numbers import Integral

from joblib import Parallel, delayed

from ..utils._workers import worker_thread_limits

__all__ = ["check_n_jobs", "parallel_map"]


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


def _limited(fn, *args):
    with worker_thread_limits():
        return fn(*args)


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
        ``joblib.parallel_config`` says otherwise, -1 uses every worker; 1 always
        runs them here (what jobs that are themselves parallel jobs use: a Dask
        task that sends tasks to the cluster and waits for them holds its worker).
    on_result : callable or None, default=None
        Called with each result as it arrives, in job order (e.g. progress).

    Returns
    -------
    list
        The results in job order, whatever the worker that computed each.
    """
    n_jobs = check_n_jobs(n_jobs)
    if n_jobs == 1:  # here, even under a parallel_config: a job inside a job
        out = []
        for job in jobs:
            out.append(fn(*job))
            if on_result is not None:
                on_result(out[-1])
        return out
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    out = []
    for result in parallel(delayed(_limited)(fn, *job) for job in jobs):
        out.append(result)
        if on_result is not None:
            on_result(result)
    return out

