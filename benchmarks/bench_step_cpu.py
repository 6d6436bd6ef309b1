"""CPU time of one training step (forward + backward) of tsbptt's layers, 1 thread.

For comparing two builds of the kernels on a loaded machine, where wall times
swing with other jobs: process CPU time (``time.process_time``) over batches of
steps, the minimum and median of several batches. Run it once per build, in
alternation, each build first on ``PYTHONPATH``::

    PYTHONPATH=../tsbptt-before OMP_NUM_THREADS=1 python benchmarks/bench_step_cpu.py
    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/bench_step_cpu.py

The step is ``bench_kernels.py``'s (float32, the last step's output carries the
loss), on the rows given by ``--rows`` (cell,B,T,F,H).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kernels import make_tsbptt_step  # noqa: E402

DEFAULT_ROWS = ["lstm,32,24,1,32", "lstm,128,100,8,128", "gru,32,24,1,32"]


def step_cpu_ms(cell, B, T, F, H, batches=7, seconds=0.3):
    """Minimum and median CPU milliseconds of one step over ``batches`` batches."""
    _, _, step = make_tsbptt_step(cell, B, T, F, H, 1)
    t0 = time.process_time()
    step()  # the first call also packs and allocates
    n = max(1, int(seconds / max(time.process_time() - t0, 1e-4)))
    per_step = []
    for _ in range(batches):
        t0 = time.process_time()
        for _ in range(n):
            step()
        per_step.append((time.process_time() - t0) / n * 1e3)
    per_step.sort()
    return per_step[0], per_step[len(per_step) // 2]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=DEFAULT_ROWS,
                        help="rows as cell,B,T,F,H (default: %(default)s)")
    parser.add_argument("--batches", type=int, default=7)
    args = parser.parse_args(argv)
    import tsbptt
    print(f"tsbptt from {os.path.dirname(tsbptt.__file__)}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}; "
          f"load {os.getloadavg()[0]:.1f}")
    for row in args.rows:
        cell, *dims = row.split(",")
        B, T, F, H = (int(d) for d in dims)
        low, mid = step_cpu_ms(cell, B, T, F, H, args.batches)
        print(f"{cell} ({B},{T},{F},{H}): min {low:.3f} ms, median {mid:.3f} ms CPU per step")


if __name__ == "__main__":
    main()
