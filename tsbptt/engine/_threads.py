"""Thread counts, batch chunking and BLAS threads for the compiled kernels.

The kernels split a batch into chunks of rows that OpenMP threads process
independently (their matrix products are their own: no BLAS inside). The chunk
size depends on the batch size and on the machine's core count, never on
``n_threads``: the arithmetic, and so every bit of the results, is the same
whatever number of threads runs it.

Busy machines. A parallel region ends at a barrier: if the OS deschedules one of its
threads (other programs want the core), the others wait for it, spinning, for up to
a time slice. Three choices keep that from costing more than the threads save:

- a grain size (:func:`call_threads`): a call gets one thread per
  :data:`GRAIN_MACS` multiply-adds of work, so small calls run on one thread and
  never wait for another;
- about :data:`CHUNKS_PER_CORE` chunks per core, scheduled dynamically by the
  kernels, so a thread that runs takes the chunks of one that does not;
- with ``n_threads=None`` (the default), calls large enough for several threads
  time themselves, with the work that follows them (:class:`_ThreadChooser`):
  each call shape runs on one thread or on several, whichever has been faster
  lately, and tries the other now and then, so a machine that becomes busy (or
  idle) is noticed within a few dozen calls. Results never depend on the choice.

A child process forked (``multiprocessing``'s default start method on Linux before
Python 3.14, ``os.fork``) after this process allowed its kernels several threads
(the default ``n_threads=None`` on a machine of several cores does) runs its kernels
on one thread: libgomp's threads do not survive a fork (only the forking thread
does), and a child's parallel region waited for them forever. Results are the same
bits on any thread count.

libgomp's spinning itself (``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT``) is set only
through environment variables read when the runtime loads, for the whole process
and every library sharing the runtime (scikit-learn's too), so tsbptt leaves them to
the user.
"""
import os
import signal
import threading
import time
from contextlib import contextmanager
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
#: Chunks per core a large batch is cut into (dynamic scheduling balances them).
CHUNKS_PER_CORE = 2
#: Multiply-adds of a kernel call per OpenMP thread: about half a millisecond of
#: one core, so a thread's start and end (microseconds) cost little beside its
#: work. At 2^26 a (64, 50, 8, 64) LSTM call (6e7 multiply-adds forward) ran on
#: one thread whatever ``n_threads`` asked, while 2 threads made it 1.9x faster.
GRAIN_MACS = 1 << 24

#: Cores of the machine, read once: the chunk size depends on it, so it must not
#: change while a process runs.
_MACHINE_CORES = os.cpu_count() or 1


#: Whether this process has asked for more than one OpenMP thread (a parallel region
#: with several threads may have started), and whether it is a child forked after
#: that (:func:`_forked_after_threads`): then every call runs on one thread.
_asked_for_threads = False
_forked_child = False


def _forked_after_threads():
    """In the child of a fork (registered with ``os.register_at_fork``)."""
    global _forked_child
    _forked_child = _asked_for_threads


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forked_after_threads)


def available_cores():
    """Number of cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class AutoThreads(int):
    """The thread count ``n_threads=None`` resolves to: an int that also says the
    choice was left to tsbptt, so a call may run on fewer threads when they are
    faster (:func:`thread_plan`)."""


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
        1 when tsbptt was built without OpenMP, or in a child forked after this
        process asked for several threads; an :class:`AutoThreads` for None.
    """
    global _asked_for_threads
    if type(n_threads) is int and 0 < n_threads <= MAX_THREADS:  # the common case
        n = n_threads
    elif n_threads is None:
        n = AutoThreads(max(1, min(available_cores(), openmp_max_threads())))
    elif isinstance(n_threads, Integral) and not isinstance(n_threads, bool) \
            and n_threads != 0 and abs(n_threads) <= MAX_THREADS:
        n = int(n_threads) if n_threads > 0 else max(1, available_cores() + 1 + int(n_threads))
    else:
        raise ValueError(
            f"n_threads must be None or a non-zero integer in [-{MAX_THREADS}, "
            f"{MAX_THREADS}], got {n_threads!r}")
    if _forked_child or not openmp_enabled():
        return 1
    if n > 1:
        _asked_for_threads = True
    return n


def call_threads(n_threads, n_rows, n_steps, width, n_gates, hidden_size):
    """Threads for one kernel call: at most one per chunk and per grain of work.

    Parameters
    ----------
    n_threads : int
        The resolved thread count (:func:`resolve_n_threads`), an upper bound.
    n_rows, n_steps : int
        Batch size and time steps of the call.
    width : int
        Columns of a step's product: ``input_size + hidden_size + 1``.
    n_gates, hidden_size : int
        The product has ``n_gates * hidden_size`` output columns.

    Returns
    -------
    int
        Between 1 and ``n_threads``. Results do not depend on it.
    """
    if n_threads <= 1:
        return 1
    chunks = -(-n_rows // chunk_rows(n_rows))
    grains = n_rows * n_steps * width * n_gates * hidden_size // GRAIN_MACS
    return int(max(1, min(n_threads, chunks, grains)))


class _Fixed:
    """A thread count used as given: ``with plan: kernel(..., plan.n)``."""

    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False


class _ShapeStats:
    """What the chooser knows of one call shape."""

    __slots__ = ("calls", "seconds", "last_start", "last_n", "last_duration")

    def __init__(self):
        self.calls = 0
        self.seconds = {}          # 1 or n -> smoothed seconds per period
        self.last_start = None     # when the previous call of this shape started
        self.last_n = None
        self.last_duration = None


class _ThreadChooser:
    """Per call shape, whether one thread or ``n`` has been faster lately.

    What is timed is the period from one call of a shape to the next: the call
    and the work after it, which threads left spinning by a parallel call slow
    down on a busy machine (a faster parallel call can still make a slower fit).
    A period is counted at most :attr:`MAX_PERIOD` times its call's own duration,
    so a pause between fits does not count. Each shape first runs once on one
    thread and once on ``n``; then on the faster (``n`` must beat one thread by
    :attr:`MARGIN`), with the other tried every :attr:`EXPLORE_EVERY` calls.
    Times are smoothed exponentially."""

    EXPLORE_EVERY = 32
    MARGIN = 1.1
    SMOOTHING = 0.3
    MAX_PERIOD = 6.0
    MAX_SHAPES = 256

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self._stats = {}  # key -> _ShapeStats

    def plan(self, key, n):
        """A :class:`_Timed` of 1 or ``n`` threads for one call of shape ``key``."""
        stats = self._stats.get(key)
        if stats is None:
            if len(self._stats) >= self.MAX_SHAPES:
                self._stats.clear()
            stats = self._stats[key] = _ShapeStats()
        now = self.clock()
        if stats.last_duration is not None:  # the previous call's period ends now
            self._record(stats, min(now - stats.last_start,
                                    self.MAX_PERIOD * stats.last_duration))
        stats.calls += 1
        one, many = stats.seconds.get(1), stats.seconds.get(n)
        if one is None or many is None:
            threads = 1 if one is None else n
        else:
            best_many = many * self.MARGIN < one
            if stats.calls % self.EXPLORE_EVERY == 0:
                best_many = not best_many
            threads = n if best_many else 1
        stats.last_start, stats.last_n, stats.last_duration = now, threads, None
        return _Timed(self, stats, threads)

    def _record(self, stats, seconds):
        old, a = stats.seconds.get(stats.last_n), self.SMOOTHING
        stats.seconds[stats.last_n] = seconds if old is None else \
            (1 - a) * old + a * seconds


class _Timed:
    """A thread count whose ``with`` block is timed for the chooser."""

    __slots__ = ("n", "_chooser", "_stats")

    def __init__(self, chooser, stats, n):
        self.n, self._chooser, self._stats = n, chooser, stats

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is None:
            stats = self._stats
            stats.last_duration = self._chooser.clock() - stats.last_start
        return False


_chooser = _ThreadChooser()


def thread_plan(n_threads, key, n_rows, n_steps, width, n_gates, hidden_size):
    """The threads of one kernel call, as a context to run the call in.

    Parameters
    ----------
    n_threads : int
        The resolved thread count; an :class:`AutoThreads` lets the call time
        itself and run on one thread when that has been faster.
    key : tuple
        What kind of call this is (cell and direction); the shape is added.
    n_rows, n_steps, width, n_gates, hidden_size : int
        As in :func:`call_threads`.

    Returns
    -------
    plan : context manager
        ``plan.n`` is the thread count to pass to the kernel.
    """
    n = call_threads(n_threads, n_rows, n_steps, width, n_gates, hidden_size)
    if n > 1 and isinstance(n_threads, AutoThreads):
        return _chooser.plan(key + (n_rows, n_steps, width, hidden_size, n), n)
    return _Fixed(n)


def chunk_rows(batch_size):
    """Rows per chunk: about two chunks per core, clipped to [16, 64].

    Parameters
    ----------
    batch_size : int

    Returns
    -------
    int
        A function of ``batch_size`` and ``os.cpu_count()`` only.
    """
    rows = -(-batch_size // (CHUNKS_PER_CORE * _MACHINE_CORES))
    # comparisons, not min/max: every forward call asks (0.22 us against 0.67)
    rows = MAX_CHUNK_ROWS if rows > MAX_CHUNK_ROWS else rows
    rows = MIN_CHUNK_ROWS if rows < MIN_CHUNK_ROWS else rows
    rows = batch_size if batch_size < rows else rows
    return int(rows) if rows > 1 else 1


@contextmanager
def _ctrl_c_after():
    """Within: a Ctrl-C (SIGINT) waits for the end of the block, then goes to the
    handler that was there before, for a few lines that must run whole (a count
    and the thread counts it stands for). Yields a list that is not empty once a
    Ctrl-C has come, so that the block can undo what the interrupt will cut short.
    Only the main thread receives signals: elsewhere there is nothing to wait for;
    nor where the handler there was not set from Python (it could not be put back)."""
    caught = []
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is None:
        yield caught
        return
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not the main interpreter
        yield caught
        return
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:  # to the handler it was meant for (KeyboardInterrupt by default)
            signal.raise_signal(signal.SIGINT)


def _set_num_threads(lib, n):
    """Set ``lib``'s thread count from this thread, whichever it is.

    threadpoolctl 3.8 lets only one Python thread set a pthreads OpenBLAS's count
    (the first to set it, until it clears its control; other threads' calls do
    nothing): after one hold in the main thread, the holds of every other thread
    did nothing, so fits in worker threads ran their LAPACK solves on several
    threads (other bits), and a worker's restore was dropped, leaving NumPy's BLAS
    at one thread for good. The holds' own lock and counts already coordinate the
    threads, so a set that takes control gives it back at once (a control held
    before it, by a user's ``threadpool_limits`` in this thread, is left held)."""
    state = getattr(type(lib), "_SHARED_STATE", None)  # threadpoolctl >= 3.8
    holder = getattr(state, "controlling_thread", None)
    lib.set_num_threads(n)
    if state is not None and (holder is None or not holder.is_alive()):
        type(lib).clear_controlling_thread()  # (only where this thread took it)


class _BlasHold:
    """Hold some BLAS libraries at one thread, counted per library so that any
    mix of holds, nested or from concurrent Python threads, leaves each library's
    thread count exactly as it was once the last hold on it ends.

    The thread count is process-wide, so every hold shares one lock and one
    table: the first hold on a library saves its count and sets 1, the last one
    puts the saved count back, and the holds in between touch nothing. A Ctrl-C
    waits for the table and the counts to agree (:func:`_ctrl_c_after`): landing
    between two libraries, it left one held at one thread for good."""

    _lock = threading.Lock()
    _holds = {}  # library path -> [holds now, saved thread count], for all instances

    def __init__(self, libraries):
        self._libraries = libraries  # () -> threadpoolctl LibControllers

    def __enter__(self):
        with self._lock, _ctrl_c_after() as interrupted:
            for lib in self._libraries():
                entry = self._holds.get(lib.filepath)
                if entry is None:
                    entry = self._holds[lib.filepath] = [0, lib.num_threads]
                    if entry[1] != 1:
                        _set_num_threads(lib, 1)
                entry[0] += 1
            if interrupted:  # raised as the block ends, and a with-statement whose
                self._release()  # __enter__ raises never calls __exit__: undo it here
        return self

    def __exit__(self, *exc_info):
        with self._lock, _ctrl_c_after():
            self._release()

    def _release(self):
        """Give back this hold on each library (the lock held)."""
        for lib in self._libraries():
            entry = self._holds[lib.filepath]
            entry[0] -= 1
            if entry[0] == 0:
                del self._holds[lib.filepath]
                if entry[1] != 1:
                    _set_num_threads(lib, entry[1])


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
