"""One line of ESN fit timings of the tsbptt on the path, for A/B runs of two trees.

The stateful ESN fits of ``bench_esn.py`` part 2 (``Forecaster(ESNRegressor(),
lags=48, strategy='stateful').fit`` and ``ESNRegressor(output_feedback=True,
washout=48).fit_series`` on 4,000 Mackey-Glass steps) and the reservoir kernel
alone on one row of 4,000 steps (N=200, float32 and float64): CPU ms of this
process, medians of ``--repeats`` after one warm-up, one thread. Run it
alternately against two checkouts, so that both see the same load::

    for r in 1 2 3 4 5; do
      PYTHONPATH=../tsbptt-before python benchmarks/bench_esn_ab.py --label before
      PYTHONPATH=. python benchmarks/bench_esn_ab.py --label after
    done
"""
import argparse
import os
import statistics
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tsbptt import ESNRegressor, Forecaster
from tsbptt._kernels._esn import esn_states
from tsbptt.datasets import make_mackey_glass


def _median_ms(fn, repeats):
    times = []
    for _ in range(repeats + 1):  # the first call warms up, not counted
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1e3 * statistics.median(times[1:])


def _kernel_args(N, dtype, n_steps=4000):
    rs = np.random.RandomState(0)
    W = sp.random(N, N, density=0.1, random_state=rs, format="csr",
                  data_rvs=lambda k: rs.uniform(-0.1, 0.1, k)).astype(dtype)
    return (rs.randn(1, n_steps, 1).astype(dtype), np.full(1, n_steps, np.intp),
            (0.3 * rs.uniform(-1, 1, (N, 1))).astype(dtype), W.data,
            W.indices.astype(np.int32), W.indptr.astype(np.int32), np.zeros(N, dtype),
            np.zeros((N, 0), dtype), np.zeros((1, n_steps, 0), dtype), 1.0)


def _row_isas(args):
    """One line: the one-row kernel (N=200, 4,000 steps) per dtype and instruction set."""
    from tsbptt._kernels import _esn
    out = {}
    for dtype in (np.float32, np.float64):
        k = _kernel_args(200, dtype)
        for isa in range(_esn.ROW_ISA_AVAILABLE + 1):
            _esn.ROW_ISA = isa
            out[f"{np.dtype(dtype).name} isa{isa}"] = _median_ms(lambda: esn_states(
                *k, np.zeros((1, 200), dtype), states=np.zeros((1, 4000, 200), dtype),
                n_threads=1), args.repeats)
    _esn.ROW_ISA = _esn.ROW_ISA_AVAILABLE
    print(f"{args.label:<12} " + "  ".join(f"{k} {v:5.1f}" for k, v in out.items()),
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default=os.environ.get("PYTHONPATH", "."))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--row-isas", action="store_true",
                        help="only the kernel's one-row path, on every instruction set "
                        "this CPU runs (0 portable C, 1 AVX2, 2 AVX-512F)")
    args = parser.parse_args()
    if args.row_isas:
        _row_isas(args)
        return
    s = make_mackey_glass(4000)
    y = pd.Series(s, index=pd.date_range("2020-01-01", periods=len(s), freq="h"))
    out = {"stateful Forecaster": _median_ms(lambda: Forecaster(
        ESNRegressor(random_state=0, n_threads=1), lags=48, strategy="stateful").fit(y),
        args.repeats),
        "fit_series": _median_ms(lambda: ESNRegressor(
            random_state=0, n_threads=1, washout=48, output_feedback=True).fit_series(s),
            args.repeats)}
    for dtype in (np.float32, np.float64):
        k = _kernel_args(200, dtype)
        out[f"kernel row {np.dtype(dtype).name}"] = _median_ms(lambda: esn_states(
            *k, np.zeros((1, 200), dtype), states=np.zeros((1, 4000, 200), dtype),
            n_threads=1), args.repeats)
    print(f"{args.label:<12} " + "  ".join(f"{k} {v:6.1f} ms" for k, v in out.items()),
          flush=True)


if __name__ == "__main__":
    main()
