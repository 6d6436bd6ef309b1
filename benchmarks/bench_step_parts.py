"""Where one training step's time goes: the two kernel calls against the Python side.

For a small row the step is not one product: ``bench_kernels.py``'s step (float32,
forward over T, the loss on the last step's output, backward over T) is timed
whole, and in parts, interleaved in one process so that all parts see the same load:

- ``step``: ``layer.forward`` + ``layer.backward``, as ``bench_kernels.py`` times it;
- ``kernel fwd`` / ``kernel bwd``: the compiled forward / backward kernel called
  alone, with the very arguments the step gave it (captured once);
- ``python side``: the same step with both kernel calls replaced by no-ops, i.e.
  argument checks, work arrays, caches and the bookkeeping around the kernels;
- ``torch``: ``torch.nn.LSTM``/``GRU``'s step on the same weights (if importable).

The last lines give the arithmetic behind a speed target: the best ratio torch /
tsbptt the kernels allow with no Python at all (torch over the two kernel calls),
and what the step would need to take for a given ratio (``--target``).

``--loop fwd`` (or ``bwd``) instead runs one kernel call alone, ``--calls`` times,
with no timing and no torch: a steady loop for ``perf record`` to take the
kernel's profile (with ``TSBPTT_DEBUG_BUILD=1`` builds its functions have names).

Run from the repository root::

    python benchmarks/bench_step_parts.py --cell lstm --rows 0 --threads 1
    python benchmarks/bench_step_parts.py --cell gru --rows 0 1 --seconds 3
    perf record -D 3000 -o bwd.data python benchmarks/bench_step_parts.py \
        --rows 1 --loop bwd --calls 2500
"""
import argparse
import os
import statistics

from threadpoolctl import threadpool_limits

from _common import header_lines, import_torch
from bench_kernels import GRID, make_torch_step, make_tsbptt_step, time_interleaved
import tsbptt.engine._cells as cells
from tsbptt._kernels import cell_kernels

KERNEL_NAMES = {"lstm": ("lstm_forward", "lstm_backward"),
                "gru": ("gru_forward", "gru_backward")}


class KernelShim:
    """Stands in for a cell's kernel module: the two training kernels are ``fwd``/``bwd``."""

    def __init__(self, cell, fwd, bwd):
        f_name, b_name = KERNEL_NAMES[cell]
        setattr(self, f_name, fwd)
        setattr(self, b_name, bwd)


def captured_calls(cell, row, n_threads):
    """One step on ``row``, with the arguments it gave each kernel.

    Returns
    -------
    layer, X, step : as ``bench_kernels.make_tsbptt_step``
    calls : dict, ``"fwd"``/``"bwd"`` -> (kernel function, its keyword arguments)
    """
    B, T, F, H = row
    layer, X, step = make_tsbptt_step(cell, B, T, F, H, n_threads)
    real = cell_kernels(cell)
    f_name, b_name = KERNEL_NAMES[cell]
    real_f, real_b = getattr(real, f_name), getattr(real, b_name)
    captured = {}

    def capture_f(**kw):
        captured["fwd"] = (real_f, kw)
        return real_f(**kw)

    def capture_b(**kw):
        captured["bwd"] = (real_b, kw)
        return real_b(**kw)

    original = cells.cell_kernels
    try:
        cells.cell_kernels = lambda name, isa=None: KernelShim(cell, capture_f, capture_b)
        step()
    finally:
        cells.cell_kernels = original
    return layer, X, step, captured


def step_parts(cell, row, n_threads, torch, seconds):
    """Timings (ms) of the step, its parts and torch's step on one grid row.

    Returns
    -------
    dict, part name -> list of float
    """
    layer, X, step, calls = captured_calls(cell, row, n_threads)
    (real_f, fkw), (real_b, bkw) = calls["fwd"], calls["bwd"]
    original = cells.cell_kernels
    noop = KernelShim(cell, lambda **kw: None, lambda **kw: None)
    try:
        def whole():
            cells.cell_kernels = original
            step()

        def python_side():
            cells.cell_kernels = lambda name, isa=None: noop
            step()

        fns = {"step": whole,
               "kernel fwd": lambda: real_f(**fkw),
               "kernel bwd": lambda: real_b(**bkw),
               "python side": python_side}
        if torch is not None:
            torch.set_num_threads(n_threads)
            fns["torch"] = make_torch_step(torch, cell, layer, X)
        with threadpool_limits(limits=n_threads):
            times = time_interleaved(list(fns.values()), None, seconds)
    finally:
        cells.cell_kernels = original
    return dict(zip(fns, times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", choices=sorted(KERNEL_NAMES), default="lstm")
    parser.add_argument("--rows", type=int, nargs="+", default=[0],
                        help="indices into bench_kernels.GRID (default: 0)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="about this many seconds of timed calls per part")
    parser.add_argument("--target", type=float, default=3.0,
                        help="the torch/tsbptt ratio to show the step budget for")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--loop", choices=("fwd", "bwd"),
                        help="only run this kernel call alone, --calls times (for perf)")
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    for r in args.rows:
        if not 0 <= r < len(GRID):
            parser.error(f"--rows: {r} is not an index into the grid (0..{len(GRID) - 1})")
    if args.loop:
        if len(args.rows) != 1:
            parser.error("--loop takes one row (--rows I)")
        fn, kw = captured_calls(args.cell, GRID[args.rows[0]], args.threads)[3][args.loop]
        with threadpool_limits(limits=args.threads):
            for _ in range(args.calls):
                fn(**kw)
        return
    torch = import_torch(args.no_torch)
    _, lines = header_lines(torch, args.no_torch, str(args.threads))
    print("\n".join(lines))
    for r in args.rows:
        row = GRID[r]
        times = step_parts(args.cell, row, args.threads, torch, args.seconds)
        print(f"\n{args.cell} (B,T,F,H)={row}  threads={args.threads}")
        print(f"  {'part':12s} {'median us':>10s} {'min us':>9s} {'calls':>6s}")
        med = {}
        for name, ts in times.items():
            med[name] = statistics.median(ts) * 1e3
            print(f"  {name:12s} {med[name]:10.1f} {min(ts) * 1e3:9.1f} {len(ts):6d}")
        kernels = med["kernel fwd"] + med["kernel bwd"]
        kernels_min = min(times["kernel fwd"]) * 1e3 + min(times["kernel bwd"]) * 1e3
        print(f"  kernel calls together: median {kernels:.1f} us, min {kernels_min:.1f} us;"
              f" step minus kernels: {med['step'] - kernels:.1f} us")
        if "torch" in med:
            print(f"  torch/step: {med['torch'] / med['step']:.2f}   best reachable with "
                  f"no Python (torch / kernel calls): {med['torch'] / kernels:.2f} "
                  f"(with the kernels' minima: {med['torch'] / kernels_min:.2f})")
            print(f"  a {args.target:g}x step must take at most "
                  f"{med['torch'] / args.target:.1f} us")
    print(f"\nload average (1 min) after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
