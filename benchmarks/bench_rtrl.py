"""Time one online RTRL step against truncated BPTT updates at the same hidden size.

For each cell and hidden size H, one stream (1 feature, 1 output, batch 1, MSE,
Adam, float64 by default), three ways of learning it, timed per observation:

- ``rtrl``: :class:`tsbptt.engine.rtrl.RTRLTrainer.learn`: advance the state and
  the sensitivities one step, the step's exact gradient, one Adam update;
- ``tbptt(k,k)``: :func:`tsbptt.engine.bptt.truncated_bptt` with k1 = k2 = k: every
  k observations, forward and backward through the last k and one update (the
  time of one update divided by k);
- ``tbptt(1,k)``: k1 = 1, k2 = k: an update at every observation, as RTRL makes,
  backpropagating through the last k steps (the time of one update).

RTRL's step costs O(G H^4) flops (the sensitivity update, ``2 n H * H * G*H * K``
with K = F + H + 1, n = 2 for the LSTM's cell state, else 1), TBPTT's update
O(k G H^2): RTRL wins while H is small, and the crossover H is printed for both
TBPTT schedules. The kernels run on one thread (``n_threads=1``) and NumPy's BLAS,
which RTRL's products use, is held to ``--threads`` threads by threadpoolctl.

Run from the repository root::

    python benchmarks/bench_rtrl.py --quick
    python benchmarks/bench_rtrl.py --cells rnn gru lstm --json rtrl.json

Each number is the median over ``--repeats`` rounds (rtrl and the two TBPTT
schedules interleaved within a round, so all see the same background load) of
the mean time per observation over a run of about ``--seconds`` seconds. The
clock is the process's CPU time by default (everything runs on one thread, and
on a shared machine wall time mostly measures the other processes);
``--clock wall`` uses ``time.perf_counter``.
"""
import argparse
import json
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from _common import header_lines
from tsbptt.engine.bptt import truncated_bptt
from tsbptt.engine.losses import MSE
from tsbptt.engine.network import Network
from tsbptt.engine.optimizers import build_optimizer
from tsbptt.engine.rtrl import RTRLTrainer

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def rtrl_flops(cell, F, H):
    """Flops of one sensitivity update (the products; element-wise work left out)."""
    n = 2 if cell == "lstm" else 1
    return 2 * n * H * H * GATES[cell] * H * (F + H + 1)


CLOCK = {"cpu": time.process_time, "wall": time.perf_counter}


class Learner:
    """One way of learning the stream; ``run(n)`` learns n more observations."""

    def __init__(self, kind, cell, H, k, dtype, clock, seed=0):
        self.kind, self.k, self.clock = kind, k, CLOCK[clock]
        self.net = Network(cell, 1, H, 1, many_to_many=True, dtype=dtype, random_state=seed)
        self.opt = build_optimizer("adam", self.net.params, 1e-3)
        self.names = list(self.net.params)
        self.rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.states = None
        if kind == "rtrl":
            self.trainer = RTRLTrainer(self.net, self.opt, MSE(), clip_norm=1.0)

    def _data(self, n):
        x = self.rng.standard_normal((1, n, 1)).astype(self.dtype)
        return x, np.roll(x, 3, axis=1)

    def run(self, n):
        """Learn n observations; returns the seconds it took."""
        X, Y = self._data(n)
        if self.kind == "rtrl":
            t0 = self.clock()
            for t in range(n):
                self.trainer.learn(X[:, t], Y[:, t])
            return self.clock() - t0
        k1 = self.k if self.kind == "tbptt(k,k)" else 1
        mse = MSE()

        def loss_fn(out, start, loss_start, stop):
            value, d = mse(out[0, loss_start - start:], Y[0, loss_start:stop])
            d_out = np.zeros_like(out)
            d_out[0, loss_start - start:] = d
            return value, d_out
        t0 = self.clock()
        gen = truncated_bptt(self.net, X, loss_fn, k1, self.k,
                             initial_states=self.states, n_threads=1)
        while True:
            try:
                _, grads, _ = next(gen)
            except StopIteration as stop:
                self.states = stop.value
                break
            self.opt.step([grads[name] for name in self.names])
        return self.clock() - t0


def time_row(cell, H, args):
    """Per-observation milliseconds of the three learners, interleaved rounds."""
    learners = [Learner(kind, cell, H, args.k, args.dtype, args.clock)
                for kind in ("rtrl", "tbptt(k,k)", "tbptt(1,k)")]
    sizes = []
    for ln in learners:  # warm up, then size each run to about --seconds
        ln.run(2 * args.k)
        per_obs = ln.run(2 * args.k) / (2 * args.k)
        n = int(args.seconds / max(per_obs, 1e-7))
        sizes.append(max(args.k, min(n - n % args.k, 200_000)))
    times = [[] for _ in learners]
    for _ in range(args.repeats):
        for ln, n, out in zip(learners, sizes, times):
            out.append(ln.run(n) / n * 1e3)
    return [statistics.median(t) for t in times], [min(t) for t in times], sizes


def crossover(rows, column):
    """The smallest H from which RTRL is slower than ``column`` at every larger H of
    the grid (so a noisy tie at a small H does not count), or None."""
    found = None
    for row in reversed(rows):
        if row["rtrl_ms"] <= row[column]:
            break
        found = row["H"]
    return found


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", nargs="+", default=["rnn", "gru"], choices=sorted(GATES))
    p.add_argument("--hidden", nargs="+", type=int, default=[2, 4, 8, 16, 24, 32, 48, 64])
    p.add_argument("--k", type=int, default=16, help="TBPTT window k2 (default 16)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--seconds", type=float, default=0.3)
    p.add_argument("--clock", default="cpu", choices=sorted(CLOCK))
    p.add_argument("--quick", action="store_true", help="rnn, H in 4 16 32, 3 repeats")
    p.add_argument("--json", help="write the rows to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.cells, args.hidden, args.repeats, args.seconds = ["rnn"], [4, 16, 32], 3, 0.1
    _, lines = header_lines(None, True, f"kernels 1, BLAS {args.threads}")
    print("\n".join(lines[:-2] + lines[-1:]))
    print(f"stream: 1 feature, 1 output, batch 1, MSE, Adam, {args.dtype}; TBPTT k = {args.k}; "
          f"clock: {args.clock}")
    print(f"{'cell':5} {'H':>4} {'rtrl_ms':>9} {'tbptt(k,k)':>11} {'tbptt(1,k)':>11} "
          f"{'rtrl/(k,k)':>11} {'rtrl/(1,k)':>11} {'GFLOP/s':>8}")
    rows = []
    with threadpool_limits(args.threads):
        for cell in args.cells:
            cell_rows = []
            for H in args.hidden:
                med, mins, sizes = time_row(cell, H, args)
                row = dict(cell=cell, H=H, k=args.k, rtrl_ms=med[0], tbptt_kk_ms=med[1],
                           tbptt_1k_ms=med[2], rtrl_ms_min=mins[0], tbptt_kk_ms_min=mins[1],
                           tbptt_1k_ms_min=mins[2], observations=sizes,
                           gflops=rtrl_flops(cell, 1, H) / (med[0] * 1e-3) / 1e9)
                cell_rows.append(row)
                print(f"{cell:5} {H:4d} {med[0]:9.4f} {med[1]:11.4f} {med[2]:11.4f} "
                      f"{med[0] / med[1]:11.2f} {med[0] / med[2]:11.2f} {row['gflops']:8.2f}",
                      flush=True)
            for a, b in zip(cell_rows[-2:-1], cell_rows[-1:]):
                slope = np.log(b["rtrl_ms"] / a["rtrl_ms"]) / np.log(b["H"] / a["H"])
                print(f"  {cell}: RTRL time grows as H^{slope:.1f} between H={a['H']} and "
                      f"H={b['H']}")
            print(f"  {cell}: RTRL slower per observation than tbptt(k,k) from "
                  f"H={crossover(cell_rows, 'tbptt_kk_ms')}, than tbptt(1,k) from "
                  f"H={crossover(cell_rows, 'tbptt_1k_ms')} on (None: not within the grid)")
            rows.extend(cell_rows)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(threads=args.threads, dtype=args.dtype, clock=args.clock, rows=rows),
                      f, indent=1)


if __name__ == "__main__":
    main()
