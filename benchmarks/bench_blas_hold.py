"""Cost of holding the kernels' BLAS to one thread, per kernel call.

Every layer call enters and leaves ``single_threaded_blas()`` twice. Since the holds
are counted per library under one process-wide lock (so concurrent fits restore
each BLAS's thread count exactly once), this times that hold against the
previous one (a per-instance depth counter, kept below as the reference) in the
same run: alone, as in ``predict``, and nested in the training run's hold of
every BLAS, as in ``fit``. Medians of ``--repeats`` runs of ``--calls`` pairs,
one Python thread.

    python benchmarks/bench_blas_hold.py [--calls 20000] [--repeats 7]
"""
import argparse
import statistics
import threading
import time

from _common import tsbptt  # noqa: F401  (this checkout's tsbptt)
from tsbptt.engine import _threads


class _DepthCounted:
    """The reference: the hold before this change (counted per instance)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._depth = 0
        self._saved = []

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                self._saved = [(lib, n) for lib in _threads._kernel_blas()
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


def _per_call_us(hold, calls, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            with hold:
                pass
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    new, old = _threads.single_threaded_blas(), _DepthCounted()
    print(f"hold enter+exit, microseconds per call (median of {args.repeats} x "
          f"{args.calls}), 1 Python thread, BLAS at 2 threads outside the holds")
    print(f"{'case':<34}{'before':>10}{'now':>10}{'now/before':>12}")
    with threadpool_limits(2, user_api="blas"):
        for case, outer in (("alone (predict)", None),
                            ("inside all-BLAS hold (fit)", _threads.all_blas_single_threaded())):
            if outer is not None:
                outer.__enter__()
            try:
                t_old = _per_call_us(old, args.calls, args.repeats)
                t_new = _per_call_us(new, args.calls, args.repeats)
            finally:
                if outer is not None:
                    outer.__exit__(None, None, None)
            print(f"{case:<34}{t_old:>10.2f}{t_new:>10.2f}{t_new / t_old:>12.2f}")


if __name__ == "__main__":
    main()
