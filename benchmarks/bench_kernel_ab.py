"""Two builds of one cell's kernels, one training step each, interleaved in one process.

For kernel work on a loaded machine: separate processes (``bench_step_cpu.py``)
see different background load, cache pollution and heap states, and their ratios
swung by 10-30% between runs of one build. Here both builds' compiled modules are
loaded into the same process (by file path) and the engine's calls are routed to
one or the other, so the two steps share the Python side, the arrays' history and
the load; the calls alternate A B B A, and the ratio B / A is the median of the
per-pair ratios. Before timing, the two builds' outputs and gradients are compared
bitwise (a kernel change that promises the same bits must give them).

The step is ``bench_kernels.py``'s (float32, forward over T, the loss on the last
step's output, backward over T, 1 thread). Both builds must take the engine's
kernel arguments of the checkout on ``PYTHONPATH``.

Run from the repository root, e.g. main's build (A) against this checkout's (B)::

    PYTHONPATH=. python benchmarks/bench_kernel_ab.py \\
        --a ../main/tsbptt/_kernels/_lstm_avx512.cpython-311-x86_64-linux-gnu.so \\
        --b tsbptt/_kernels/_lstm_avx512.cpython-311-x86_64-linux-gnu.so --rows 0 1 2
"""
import argparse
import importlib.util
import os
import sys
import time

import numpy as np

from _common import alternate_a_b, header_lines
from bench_kernels import GRID, make_tsbptt_step
import tsbptt.engine._cells as cells


def load_build(path):
    """The compiled kernel module at ``path`` (its name from the file name)."""
    stem = os.path.basename(path).split(".")[0]
    spec = importlib.util.spec_from_file_location(f"tsbptt._kernels.{stem}", path)
    if spec is None:
        raise ValueError(f"not a loadable extension module: {path!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Router:
    """Stands in for ``cell_kernels`` in the engine: returns the selected build."""

    def __init__(self, builds, cell):
        self.builds, self.cell, self.current = builds, cell, 0

    def __call__(self, cell, isa=None):
        if cell != self.cell:
            raise ValueError(f"this run routes the {self.cell!r} kernels, not {cell!r}")
        return self.builds[self.current]


def outputs(router, which, layer, X, dY):
    """Y and every gradient of one step through build ``which``."""
    router.current = which
    Y, _, cache = layer.forward(X, n_threads=1)
    dX, _, grads = layer.backward(cache, dY, n_threads=1)[:3]
    return [Y, dX] + [grads[k] for k in sorted(grads)]


def compare(router, row, pairs, clock=time.perf_counter):
    """Bitwise check, then ``pairs`` A B B A rounds: (ms A, ms B, ratio B / A).

    ``clock``: ``time.perf_counter`` (wall) or ``time.thread_time`` (this thread's
    CPU time: on a loaded machine it leaves out the time the step waited for a core).
    """
    B, T, F, H = row
    layer, X, _ = make_tsbptt_step(router.cell, B, T, F, H, 1)
    dY = np.zeros((B, T, H), np.float32)
    dY[:, -1, :] = 1.0 / B
    same = all(np.array_equal(a, b) for a, b in zip(outputs(router, 0, layer, X, dY),
                                                    outputs(router, 1, layer, X, dY)))

    def step(which):
        router.current = which
        t0 = clock()
        _, _, cache = layer.forward(X, n_threads=1)
        layer.backward(cache, dY, n_threads=1)
        return clock() - t0

    for which in (0, 1, 0, 1):  # warm-up
        step(which)
    return alternate_a_b(lambda: step(0), lambda: step(1), pairs) + (same,)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a", required=True, help="build A: path of a compiled cell module")
    p.add_argument("--b", required=True, help="build B: path of a compiled cell module")
    p.add_argument("--rows", type=int, nargs="+", default=[0, 1, 2],
                   help="grid rows of bench_kernels.py (default: 0 1 2)")
    p.add_argument("--seconds", type=float, default=3.0,
                   help="about this long per row and build (default: 3)")
    p.add_argument("--cpu", action="store_true",
                   help="time the step's thread CPU time instead of wall time (under load)")
    args = p.parse_args(argv)
    for r in args.rows:  # before loading the builds: a bad row fails at once
        if not 0 <= r < len(GRID):
            p.error(f"--rows: {r} is not an index into the grid (0..{len(GRID) - 1})")
    builds = [load_build(args.a), load_build(args.b)]
    cell = os.path.basename(args.a).split(".")[0].lstrip("_").split("_")[0]
    router = Router(builds, cell)
    cells.cell_kernels = router
    print("\n".join(header_lines(None, True, "1 thread", "not used", torch_line=False)[1]))
    print(f"A = {args.a}\nB = {args.b}\ncell {cell}, 1 thread, float32, step = forward + "
          "backward; times are medians, B/A the median of the A B B A rounds' ratios"
          + ("; thread CPU time" if args.cpu else "; wall time"))
    print(f"{'row (B,T,F,H)':>16} {'A ms':>9} {'B ms':>9} {'B/A':>6}  bitwise")
    for i in args.rows:
        row = GRID[i]
        _, X, one = make_tsbptt_step(cell, *row, 1)
        t0 = time.perf_counter()
        one()
        pairs = max(3, int(args.seconds / 2 / max(time.perf_counter() - t0, 1e-6)))
        a_ms, b_ms, ratio, same = compare(router, row, pairs,
                                          time.thread_time if args.cpu else time.perf_counter)
        print(f"{str(row):>16} {a_ms:9.3f} {b_ms:9.3f} {ratio:6.3f}  "
              f"{'same' if same else 'DIFFERENT'}  (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    sys.exit(main())
