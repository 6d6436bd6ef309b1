"""A/B of the ESN reservoir kernel's batch path: several builds of the `_esn`
extension loaded in ONE process, timed interleaved (CPU time, medians).

The case is `bench_esn.py`'s "esn on the windows": 3,952 windows of 48 steps of
a 4,000-step Mackey-Glass series, one input, N=200 units at 10% connectivity
(`ESNRegressor(random_state=0)`'s reservoir), 1 thread. Each build is called on
the same arrays; the outputs are also compared bit for bit.

    SO=tsbptt/_kernels/_esn.cpython-311-x86_64-linux-gnu.so
    python benchmarks/bench_esn_chunk_ab.py main=../main/$SO branch=$SO --repeats 9
"""
import argparse
import importlib.machinery
import importlib.util
import statistics
import time

import numpy as np
from _common import header_lines, tsbptt  # noqa: F401  (tsbptt from this checkout)

from tsbptt import ESNRegressor
from tsbptt.datasets import make_mackey_glass


def _load(path):
    """The extension at ``path`` as a module of its own (not in sys.modules)."""
    loader = importlib.machinery.ExtensionFileLoader("tsbptt._kernels._esn", path)
    spec = importlib.util.spec_from_file_location("tsbptt._kernels._esn", path,
                                                  loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _case(dtype):
    s = make_mackey_glass(4000)
    X = np.lib.stride_tricks.sliding_window_view(s[:3999], 48)
    m = ESNRegressor(random_state=0, n_threads=1).fit(X, s[48:4000])
    W = m.W_.astype(dtype)
    U = np.ascontiguousarray(((X - X.mean()) / X.std())[:, :, None], dtype=dtype)
    B, N = len(U), W.shape[0]
    return dict(U=U, lengths=np.full(B, 48, np.intp), W_in=m.W_in_.astype(dtype),
                W_data=W.data, W_indices=W.indices.astype(np.int32),
                W_indptr=W.indptr.astype(np.int32), bias=m.bias_.astype(dtype),
                W_fb=np.zeros((N, 0), dtype), Y_fb=np.zeros((B, 48, 0), dtype),
                x=np.zeros((B, N), dtype))


def _call(module, case, n_threads):
    x = case["x"].copy()
    t0 = time.process_time()
    module.esn_states(case["U"], case["lengths"], case["W_in"], case["W_data"],
                      case["W_indices"], case["W_indptr"], case["bias"], case["W_fb"],
                      case["Y_fb"], 1.0, x, n_threads=n_threads)
    return time.process_time() - t0, x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+", help="label=path of an _esn .so")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--isa", type=int, default=None,
                        help="CHUNK_ISA of the builds that have one (0 C, 1 AVX2, "
                             "2 AVX-512F; default: the best this CPU runs)")
    parser.add_argument("--narrow-tanh", action="store_true",
                        help="TANHF_WIDE off (the 4-wide float32 tanh)")
    args = parser.parse_args()
    _, lines = header_lines(None, True, f"{args.threads} (n_threads)", torch_line=False)
    print("\n".join(lines))
    builds = dict(b.split("=", 1) for b in args.builds)
    modules = {label: _load(path) for label, path in builds.items()}
    for module in modules.values():
        if args.isa is not None and hasattr(module, "CHUNK_ISA"):
            module.CHUNK_ISA = args.isa
        if args.narrow_tanh and hasattr(module, "TANHF_WIDE"):
            module.TANHF_WIDE = False
    for dtype in (np.float32, np.float64):
        case = _case(dtype)
        times = {label: [] for label in modules}
        outs = {}
        for _ in range(args.repeats + 1):  # the first round warms up
            for label, module in modules.items():
                secs, outs[label] = _call(module, case, args.threads)
                times[label].append(secs)
        first = next(iter(modules))
        ref = statistics.median(times[first][1:])
        for label in modules:
            med = statistics.median(times[label][1:])
            same = np.array_equal(outs[label].view(np.uint8), outs[first].view(np.uint8))
            print(f"{np.dtype(dtype).name:8} {label:12} {med * 1e3:8.1f} ms  "
                  f"{ref / med:5.2f}x {first}  bitwise equal to {first}: {same}")


if __name__ == "__main__":
    main()
