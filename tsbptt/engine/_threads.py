"""Thread counts, batch chunking and BLAS threads for the compiled kernels.

The kernels split a batch into chunks of rows that OpenMP threads process
independently, each with single-threaded BLAS. The chunk size depends on the batch
size and on the machine's core count, never on ``n_threads``: the arithmetic, and so
every bit of the results, is the same whatever number of threads runs it.
"""
import os
import threading
from contextlib import contextmanager
from numbers import Integral

from threadpoolctl import ThreadpoolController

from .._kernels._openmp_helpers import openmp_enabled, openmp_max_threads

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
        None uses what tsbptt's own OpenMP runtime allows (``OMP_NUM_THREADS``,
        or a limit set by threadpoolctl, as joblib's workers do), at most the
        available cores; a negative value ``-k`` uses all cores but ``k - 1``
        (scikit-learn's ``n_jobs`` convention), at least one.

    Returns
    -------
    int
        1 when tsbptt was built without OpenMP.
    """
    if n_threads is None:
        n = max(1, min(available_cores(), openmp_max_threads()))
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


class _SingleThreadedBlas:
    """Hold the kernels' BLAS to one thread, so OpenMP threads and BLAS threads
    never multiply. The setting is process-wide, so it is counted: it is put back
    only when the last kernel call, from any Python thread, has ended.

    A plain class rather than ``@contextmanager``: it runs twice per layer call,
    and a generator-based manager costs several times as much on small batches."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0     # kernel calls running now, across Python threads
        self._saved = []    # (library, thread count) to put back when the last one ends

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._saved = [(lib, n) for lib in _kernel_blas()
                               if (n := lib.num_threads) != 1]
                for lib, _ in self._saved:
                    lib.set_num_threads(1)
            self._depth += 1

    def __exit__(self, *exc_info):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                for lib, n in self._saved:
                    lib.set_num_threads(n)
                self._saved = []


_single_threaded_blas = _SingleThreadedBlas()


def single_threaded_blas():
    """Context manager: the kernels' BLAS at one thread within (nests, thread-safe)."""
    return _single_threaded_blas


_all_blas = None


@contextmanager
def all_blas_single_threaded():
    """Hold every loaded BLAS (NumPy's too) to one thread, e.g. for a training run.

    The heavy products of training run inside the kernels; the few NumPy matmuls
    around them (the dense head) are small, and a multi-threaded BLAS pool left
    spinning after them steals the cores from the kernels' OpenMP threads."""
    global _all_blas
    if _all_blas is None:
        _all_blas = ThreadpoolController()
    with _all_blas.limit(limits=1, user_api="blas"):
        yield
