"""Thread counts, batch chunking and BLAS threads for the compiled kernels.

The kernels split a batch into chunks of rows that OpenMP threads process
independently, each with single-threaded BLAS. The chunk size depends on the batch
size and on the machine's core count, never on ``n_threads``: the arithmetic, and so
every bit of the results, is the same whatever number of threads runs it.
"""
import os
from contextlib import contextmanager
from numbers import Integral

from threadpoolctl import ThreadpoolController

from .._kernels._openmp_helpers import openmp_enabled

#: Fewer rows than this make each step's recurrent GEMM too small to run at speed.
MIN_CHUNK_ROWS = 16
#: More rows than this stop helping the GEMM and only cost parallelism.
MAX_CHUNK_ROWS = 64

_controller = None
#: Cores of the machine, read once: the chunk size depends on it, so it must not
#: change while a process runs.
_MACHINE_CORES = os.cpu_count() or 1


def available_cores():
    """Number of cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def resolve_n_threads(n_threads):
    """Turn the user's ``n_threads`` into a positive int of OpenMP threads.

    Parameters
    ----------
    n_threads : int or None
        None uses every available core; a negative value ``-k`` uses all cores
        but ``k - 1`` (scikit-learn's ``n_jobs`` convention), at least one.

    Returns
    -------
    int
        1 when tsbptt was built without OpenMP.
    """
    if n_threads is None:
        n = available_cores()
    elif isinstance(n_threads, Integral) and not isinstance(n_threads, bool) and n_threads != 0:
        n = int(n_threads) if n_threads > 0 else max(1, available_cores() + 1 + int(n_threads))
    else:
        raise ValueError(
            f"n_threads must be None or a non-zero integer, got {n_threads!r}")
    return n if openmp_enabled() else 1


def chunk_rows(batch_size):
    """Rows per chunk for a batch: about one chunk per core, clipped to [16, 64].

    Parameters
    ----------
    batch_size : int

    Returns
    -------
    int
        A function of ``batch_size`` and ``os.cpu_count()`` only.
    """
    rows = -(-batch_size // _MACHINE_CORES)
    return int(max(1, min(batch_size, max(MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, rows)))))


def _kernel_blas():
    """threadpoolctl's handles on the BLAS the kernels call (scipy's), found once."""
    global _controller
    if _controller is None:
        import scipy
        import scipy.linalg.cython_blas  # noqa: F401  (loads scipy's BLAS)

        pkg = os.path.dirname(os.path.abspath(scipy.__file__))
        scipy_dirs = (pkg + os.sep, pkg + ".libs" + os.sep)  # scipy/ and scipy.libs/
        blas = ThreadpoolController().select(user_api="blas")
        own = [lib for lib in blas.lib_controllers
               if os.path.realpath(lib.filepath).startswith(scipy_dirs)]
        # scipy's own OpenBLAS when it is a separate library; else all of them
        # (a system BLAS shared by numpy and scipy).
        _controller = own or blas.lib_controllers
    return _controller


@contextmanager
def single_threaded_blas():
    """Hold the kernels' BLAS to one thread, so OpenMP threads and BLAS threads
    never multiply. Costs two cheap calls when BLAS is already single-threaded."""
    changed = []
    for lib in _kernel_blas():
        n = lib.num_threads
        if n != 1:
            lib.set_num_threads(1)
            changed.append((lib, n))
    try:
        yield
    finally:
        for lib, n in changed:
            lib.set_num_threads(n)
