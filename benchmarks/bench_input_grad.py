"""A fit's training step with and without the first layer's input gradient.

A fit never reads dX of the network's first layer, so ``Network.backward_layers``
asks that layer's kernel for none (``need_dx=False``): the LSTM and RNN step
products make dh_{t-1} alone, the GRU skips its dx product. This times one
layer's forward + backward both ways in one process, the same build, calls
alternating A B B A (A: with dX, as ``bench_kernels.py``'s step; B: without, as
a fit's first layer), and prints the ratio B / A as the median of the rounds'
ratios. The outputs other than dX are checked bitwise first.

Run from the repository root::

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks/bench_input_grad.py --cpu
"""
import argparse
import os
import sys
import time

import numpy as np

from _common import alternate_a_b, header_lines
from bench_kernels import GRID, make_tsbptt_step


def _step(layer, X, dY, n_threads, need_dx):
    _, _, cache = layer.forward(X, n_threads=n_threads)
    return layer.run_backward(cache, dY, None, n_threads, need_dx=need_dx)


def compare(cell, row, n_threads, seconds, clock):
    """(ms with dX, ms without, median ratio without / with, bitwise same)."""
    B, T, F, H = row
    layer, X, _ = make_tsbptt_step(cell, B, T, F, H, n_threads)
    dY = np.zeros((B, T, H), np.float32)
    dY[:, -1, :] = 1.0 / B
    (_, d_a, g_a), (dX_b, d_b, g_b) = (_step(layer, X, dY, n_threads, w) for w in (1, 0))
    same = dX_b is None and all(np.array_equal(a, b) for a, b in zip(d_a, d_b)) and all(
        np.array_equal(g_a[k], g_b[k]) for k in g_a)

    def timed(need_dx):
        t0 = clock()
        _step(layer, X, dY, n_threads, need_dx)
        return clock() - t0

    one = min(timed(True) for _ in range(2))
    pairs = max(3, int(seconds / 4 / max(one, 1e-6)))
    return alternate_a_b(lambda: timed(True), lambda: timed(False), pairs) + (same,)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=["lstm", "gru"])
    p.add_argument("--rows", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                   help="grid rows of bench_kernels.py (default: all)")
    p.add_argument("--threads", type=int, nargs="+", default=[1])
    p.add_argument("--seconds", type=float, default=3.0,
                   help="about this long per row, both ways together (default: 3)")
    p.add_argument("--cpu", action="store_true",
                   help="time the process's CPU time instead of wall time (under load)")
    args = p.parse_args(argv)
    for r in args.rows:
        if not 0 <= r < len(GRID):
            p.error(f"--rows: {r} is not an index into the grid (0..{len(GRID) - 1})")
    clock = time.process_time if args.cpu else time.perf_counter
    print("\n".join(header_lines(None, True, "see thr", "not used", torch_line=False)[1]))
    print("A: forward + backward with dX; B: without (a fit's first layer); float32; "
          "medians; B/A the median of the A B B A rounds' ratios; "
          + ("process CPU time" if args.cpu else "wall time"))
    print(f"{'cell':>5} {'row (B,T,F,H)':>16} {'thr':>3} {'A ms':>9} {'B ms':>9} "
          f"{'B/A':>6}  bitwise")
    for cell in args.cells:
        for n in args.threads:
            for i in args.rows:
                a, b, r, same = compare(cell, GRID[i], n, args.seconds, clock)
                print(f"{cell:>5} {str(GRID[i]):>16} {n:>3} {a:9.3f} {b:9.3f} {r:6.3f}  "
                      f"{'same' if same else 'DIFFERENT'}  (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    sys.exit(main())
