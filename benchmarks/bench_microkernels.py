"""Time the kernels' own matrix products alone, against NumPy's BLAS, same shapes.

The training kernels make three products per step (tsbptt/_kernels/_microkernels.h):
the step product ``xh_t @ W`` (forward) and ``dA_t @ W_T`` (backward), both with
the weights packed once per call, and the weight-gradient product
``xh_blk^T @ dA_blk`` over a block of ``BLOCK_STEPS`` steps' rows. This script
calls them through the test wrappers (``microkernel_gemm``, which also packs B,
and ``microkernel_gemm_tn_add``) on the shapes the grid rows of
``bench_kernels.py`` give them, and times ``numpy.matmul`` on the same operands
in the same rounds (interleaved, medians, BLAS held to one thread). The shapes
are stacked over the block's steps, as the kernels see them: the table's m = 16 *
rows of a chunk (the step product's rows, the gradient product's inner dimension).

Run from the repository root::

    python benchmarks/bench_microkernels.py
    python benchmarks/bench_microkernels.py --isa avx2 --seconds 0.5
"""
import argparse
import os
import statistics
import sys

import numpy as np
from threadpoolctl import threadpool_limits

from _common import header_lines
from bench_kernels import time_interleaved
from tsbptt._kernels import cell_kernels, isa_usable, kernel_isa
from tsbptt._kernels._reduce import BLOCK_STEPS

#: (label, chunk rows, K = F + H + 1, G = 4H): the LSTM rows of bench_kernels.py.
SHAPES = [("32,24,1,32", 16, 34, 128), ("64,50,8,64", 16, 73, 256),
          ("128,100,8,128", 32, 137, 512), ("64,200,16,256", 16, 273, 1024),
          ("256,48,4,64", 64, 69, 256)]


def bench_shape(mod, rows, K, G, seconds):
    """GFLOP/s of each product and of numpy.matmul on the same operands."""
    rng = np.random.default_rng(0)
    m = BLOCK_STEPS * rows  # the stacked rows: the table's m
    xh = rng.standard_normal((m, K), dtype=np.float32)
    W = rng.standard_normal((K, G), dtype=np.float32)
    dA = rng.standard_normal((m, G), dtype=np.float32)
    out_step = np.empty((m, G), np.float32)
    dW = np.zeros((K, G), np.float32)
    dW_np = np.empty((K, G), np.float32)
    fns = [lambda: mod.microkernel_gemm(xh, W, out_step),
           lambda: np.matmul(xh, W, out=out_step),
           lambda: mod.microkernel_gemm_tn_add(xh, dA, dW),
           lambda: np.matmul(xh.T, dA, out=dW_np)]
    with threadpool_limits(limits=1, user_api="blas"):
        times = time_interleaved(fns, None, seconds)
    flops = 2.0 * m * K * G
    return [flops / (statistics.median(t) * 1e6) for t in times]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--isa", choices=["avx512", "avx2", "baseline"], default=None,
                   help="micro-kernel build (default: the one tsbptt chose)")
    p.add_argument("--seconds", type=float, default=0.3,
                   help="target timed seconds per product and shape (default 0.3)")
    args = p.parse_args(argv)
    isa = args.isa or kernel_isa()
    if not isa_usable(isa):  # cell_kernels would raise a RuntimeError traceback
        p.error(f"--isa {isa}: this CPU does not run it or the kernels were not built "
                f"for it (tsbptt chose {kernel_isa()})")
    mod = cell_kernels("lstm", isa)
    _, lines = header_lines(None, True, "1", numpy_role="numpy (matmul reference)",
                            torch_line=False)
    print("\n".join(lines))
    print(f"micro-kernels: {mod.microkernel_tiles()}; float32; GFLOP/s (medians); "
          f"m = {BLOCK_STEPS} x chunk rows; step (m x k) @ (k x n), grad "
          "(m x k)^T @ (m x n)")
    print(f"{'row':>14} {'m':>5} {'k':>5} {'n':>5} {'step':>7} {'numpy':>7} "
          f"{'grad':>7} {'numpy':>7}")
    for label, rows, K, G in SHAPES:
        g = bench_shape(mod, rows, K, G, args.seconds)
        print(f"{label:>14} {BLOCK_STEPS * rows:>5} {K:>5} {G:>5} "
              + " ".join(f"{v:>7.1f}" for v in g), flush=True)
    print(f"load average (1 min) after the run: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
