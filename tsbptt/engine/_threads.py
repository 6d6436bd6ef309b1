"""Thread counts, batch chunking and BLAS threads for the compiled kernels.

The kernels split a batch into chunks of rows that OpenMP threads process
independently, each with single-threaded BLAS. The chunk size depends on the batch
size and on the machine's core count, never on ``n_threads``: the arithmetic, and so
every bit of the results, is the same whatever number of threads runs it.
"""
import os
import threading
from numbers import Integral

from threadpoolctl import ThreadpoolController

from .._kernels._openmp_helpers import openmp_enabled, openmp_max_threads

#: Fewer rows than this make each step's recurrent GEMM too small to run at speed.
MIN_CHUNK_ROWS = 16
#: More rows than this stop helping the GEMM and only cost parallelism.
MAX_CHUNK_ROWS = 64
#: The largest ``n_threads`` accepted (either sign): far above any machine's cores,
#: far below the C ``int`` the kernels take.
MAX_THREADS = 4096

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
    elif isinstance(n_threads, Integral) and not isinstance(n_threads, bool) \
            and n_threads != 0 and abs(n_threads) <= MAX_THREADS:
        n = int(n_threads) if n_threads > 0 else max(1, available_cores() + 1 + int(n_threads))
    else:
        raise ValueError(
            f"n_threads must be None or a non-zero integer in [-{MAX_THREADS}, "
            f"{MAX_THREADS}], got {n_threads!r}")
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


class _BlasHold:
    """Hold some BLAS libraries at one thread, counted per library so that any
    mix of holds, nested or from concurrent Python threads, leaves each library's
    thread count exactly as it was once the last hold on it ends.

    The thread count is process-wide, so every hold shares one lock and one
    table: the first hold on a library saves its count and sets 1, the last one
    puts the saved count back, and the holds in between touch nothing. A plain
    class rather than ``@contextmanager``: the kernels' hold runs twice per layer
    call, and a generator-based manager costs several times as much on small
    batches."""

    _lock = threading.Lock()
    _holds = {}  # library path -> [holds now, saved thread count], for all instances

    def __init__(self, libraries):
        self._libraries = libraries  # () -> threadpoolctl LibControllers

    def __enter__(self):
        with self._lock:
            for lib in self._libraries():
                entry = self._holds.get(lib.filepath)
                if entry is None:
                    entry = self._holds[lib.filepath] = [0, lib.num_threads]
                    if entry[1] != 1:
                        lib.set_num_threads(1)
                entry[0] += 1
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            for lib in self._libraries():
                entry = self._holds[lib.filepath]
                entry[0] -= 1
                if entry[0] == 0:
                    del self._holds[lib.filepath]
                    if entry[1] != 1:
                        lib.set_num_threads(entry[1])


_single_threaded_blas = _BlasHold(_kernel_blas)


def single_threaded_blas():
    """Context manager: the kernels' BLAS at one thread within (nests, thread-safe)."""
    return _single_threaded_blas


_all_blas = None


def _every_blas():
    """threadpoolctl's handles on every BLAS loaded in the process, found once."""
    global _all_blas
    if _all_blas is None:
        _all_blas = ThreadpoolController().select(user_api="blas").lib_controllers
    return _all_blas


_every_blas_single_threaded = _BlasHold(_every_blas)


def all_blas_single_threaded():
    """Context manager: every loaded BLAS (NumPy's too) at one thread within, e.g.
    for a training run (nests, thread-safe).

    The heavy products of training run inside the kernels; the few NumPy matmuls
    around them (the dense head) are small, and a multi-threaded BLAS pool left
    spinning after them steals the cores from the kernels' OpenMP threads."""
    return _every_blas_single_threaded
