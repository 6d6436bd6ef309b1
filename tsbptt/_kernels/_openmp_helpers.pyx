"""Build-time OpenMP facts, readable at run time.

Design notes
------------
- Whether OpenMP is on is decided by the C preprocessor (`_OPENMP`) when this file
  is compiled, through the guarded declarations in `_openmp_helpers.pxd`; setup.py
  passes -fopenmp to every extension or to none, so this module speaks for all.
- `openmp_max_threads()` is what the runtime would use for a parallel region with no
  `num_threads` clause (OMP_NUM_THREADS, omp_set_num_threads, ...). The kernels do not
  rely on it: they are always handed an explicit `n_threads`.
"""


def openmp_enabled():
    """Whether tsbptt's kernels were compiled with OpenMP.

    Returns
    -------
    enabled : bool
        False for a serial build (no OpenMP found at build time, or
        ``TSBPTT_DISABLE_OPENMP=1``); the kernels then ignore ``n_threads``.
    """
    return bool(TSBPTT_OPENMP_ENABLED)


def openmp_max_threads():
    """Upper bound on the threads of an OpenMP parallel region.

    Returns
    -------
    n_threads : int
        ``omp_get_max_threads()`` of the OpenMP runtime, or 1 for a serial build.
    """
    return int(omp_get_max_threads())
