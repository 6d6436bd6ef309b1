"""Time tsbptt's inference against PyTorch: one window, one streaming step, memory.

- **window**: ``predict`` of one univariate window (T=48) through the public API of a
  fitted ``LSTMRegressor`` / ``GRURegressor`` (H=32, float32), against
  ``torch.nn.LSTM`` / ``GRU`` + ``Linear`` on the last step under
  ``torch.inference_mode`` (same weights);
- **step**: one ``predict_step`` (one observation, the state of the previous call),
  and **stream**: one ``stream.step`` of a ``RecurrentStream`` (the state kept in
  the stream), each against one ``torch.nn.LSTMCell`` / ``GRUCell`` + ``Linear``
  call; **floor**: one Python call of a compiled function doing nothing
  (``math.fabs``), what any step through Python costs at least;
- **memory**: ``predict`` of one (1, 200000, 1) sequence, and ``predict_sequence`` of it
  on a model fitted with per-step targets: the tracemalloc peaks
  (NumPy's allocations are traced) and the wall time.

One thread everywhere (``n_threads=1``, ``torch.set_num_threads(1)``). tsbptt's and
torch's calls are interleaved in rounds, so both see the same background load; the
figures are medians of every timed call. Run from the repository root::

    python benchmarks/bench_inference.py [--quick] [--no-torch] [--json PATH]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from _common import header_lines, import_torch
from tsbptt import GRURegressor, LSTMRegressor

T, H = 48, 32
CELLS = {"lstm": (LSTMRegressor, "LSTM", "LSTMCell"),
         "gru": (GRURegressor, "GRU", "GRUCell")}


def fitted(cell, X, y):
    """A small fitted float32 regressor (the weights only need to be some weights)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CELLS[cell][0](H, max_iter=1, n_threads=1, random_state=0).fit(X, y)


def torch_modules(torch, cell, est):
    """torch's sequence layer, cell and head with ``est``'s weights."""
    W = est.params_["rnn.0.W"]
    F = W.shape[0] - H - 1
    seq = getattr(torch.nn, CELLS[cell][1])(F, H, batch_first=True)
    step = getattr(torch.nn, CELLS[cell][2])(F, H)
    with torch.no_grad():
        for m in (seq, step):
            w_ih = m.weight_ih_l0 if m is seq else m.weight_ih
            w_hh = m.weight_hh_l0 if m is seq else m.weight_hh
            b_ih = m.bias_ih_l0 if m is seq else m.bias_ih
            b_hh = m.bias_hh_l0 if m is seq else m.bias_hh
            w_ih.copy_(torch.from_numpy(W[:F].T.copy()))
            w_hh.copy_(torch.from_numpy(W[F:F + H].T.copy()))
            b_ih.copy_(torch.from_numpy(W[F + H].copy()))
            b_hh.zero_()
            if cell == "gru":
                b_hh[2 * H:] = torch.from_numpy(est.params_["rnn.0.b_hn"])
        head = torch.nn.Linear(H, 1)
        head.weight.copy_(torch.from_numpy(est.params_["head.W"].T.copy()))
        head.bias.copy_(torch.from_numpy(est.params_["head.b"].copy()))
    return seq, step, head


def time_interleaved(fns, repeats, rounds=20):
    """Per-call wall times (us) of each function, interleaved in ``rounds``."""
    for fn in fns:
        for _ in range(max(10, repeats // 50)):
            fn()
    times = [[] for _ in fns]
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            for _ in range(per_round):
                t0 = time.perf_counter()
                fn()
                ts.append((time.perf_counter() - t0) * 1e6)
    return times


def bench_cell(torch, cell, repeats):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, T)).cumsum(axis=1)
    est = fitted(cell, X, X[:, -1])
    window = X[:1]
    x_t = np.array([0.5])
    _, state = est.predict_step(x_t)
    stream = est.stream(state)
    x0 = float(x_t[0])
    fns = {"window": lambda: est.predict(window),
           "step": lambda: est.predict_step(x_t, state),
           "stream": lambda: stream.step(x0)}
    floor = time_interleaved([lambda: math.fabs(x0)], repeats)[0]
    row = {"cell": cell, "T": T, "H": H, "dtype": "float32", "threads": 1,
           "floor_us": statistics.median(floor)}
    if torch is None:
        for name, ts in zip(fns, time_interleaved(list(fns.values()), repeats)):
            row[f"{name}_tsbptt_us"] = statistics.median(ts)
        return row
    seq, step, head = torch_modules(torch, cell, est)
    # torch sees what the network sees: the estimator's standardised input
    xs = ((window - est.input_mean_) / est.input_scale_).astype(np.float32)
    tw = torch.from_numpy(xs[:, :, None].copy())
    tx = torch.from_numpy(((x_t - est.input_mean_) / est.input_scale_)
                          .astype(np.float32)[None])
    h = tuple(torch.from_numpy(a) for a in state.h + (state.c or ()))
    h = h if cell == "lstm" else h[0]

    def torch_window():
        with torch.inference_mode():
            return head(seq(tw)[0][:, -1])

    def torch_step():
        with torch.inference_mode():
            out = step(tx, h)
            return head(out[0] if cell == "lstm" else out)

    # the same numbers: torch's output, unscaled, against tsbptt's prediction
    ours = est.predict(window)[0]
    theirs = float(torch_window()[0, 0]) * est.target_scale_[0] + est.target_mean_[0]
    row["window_rel_diff"] = abs(ours - theirs) / max(abs(ours), 1e-12)
    # the stream's step is predict_step's, bitwise
    before = stream.state
    if stream.step(x0) != est.predict_step(x_t, before)[0]:
        raise AssertionError("stream.step and predict_step disagree")
    pairs = {"window": torch_window, "step": torch_step, "stream": torch_step}
    times = time_interleaved([f for name in pairs for f in (fns[name], pairs[name])],
                             repeats)
    for k, name in enumerate(pairs):
        ours, theirs = (statistics.median(ts) for ts in times[2 * k:2 * k + 2])
        row[f"{name}_tsbptt_us"], row[f"{name}_torch_us"] = ours, theirs
        row[f"{name}_speedup"] = theirs / ours
    return row


def padded_cache_gb(n_steps):
    """What predict's forward caches take if it still pads every call to
    ``PREDICT_BATCH`` rows and keeps the training caches (xh, gates, cell, Y)."""
    from tsbptt import estimators
    rows = getattr(estimators, "PREDICT_BATCH", 1)
    return rows * n_steps * ((1 + H + 1) + 4 * H + 2 * H) * 4 / 2**30


def _peak(call):
    """``call()``'s tracemalloc peak (MB) and seconds."""
    tracemalloc.start()
    t0 = time.perf_counter()
    call()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, seconds


def bench_memory(n_steps):
    """One (1, n_steps, 1) sequence through ``predict`` (a model fitted on windows)
    and through ``predict_sequence`` (one fitted with per-step targets, the
    stateful forecasters' path): tracemalloc peaks (MB) and seconds."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 50, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = LSTMRegressor(H, max_iter=1, n_threads=1, random_state=0).fit(X, X[:, -1, 0])
        per_step = LSTMRegressor(H, max_iter=1, per_step=True, n_threads=1,
                                 random_state=0).fit(X, X[:, :, 0])
    long = rng.standard_normal((1, n_steps, 1))
    est.predict(long[:, :100])  # warm-up
    per_step.predict_sequence(long[:, :100])
    peak, seconds = _peak(lambda: est.predict(long))
    sequence_peak, sequence_seconds = _peak(lambda: per_step.predict_sequence(long))
    return {"n_steps": n_steps, "peak_mb": peak, "seconds": seconds,
            "sequence_peak_mb": sequence_peak, "sequence_seconds": sequence_seconds,
            "input_mb": long.nbytes / 2**20}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=2000,
                   help="timed calls per function (default 2000)")
    p.add_argument("--memory-steps", type=int, default=200_000,
                   help="length of the sequence of the memory row (default 200000)")
    p.add_argument("--max-gb", type=float, default=4.0,
                   help="skip the memory row if predict would need more (default 4)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    p.add_argument("--quick", action="store_true", help="few repeats, a short sequence")
    args = p.parse_args(argv)
    if args.quick:
        args.repeats, args.memory_steps = 100, 2000
    torch = None if args.no_torch else import_torch()
    if torch is not None:
        torch.set_num_threads(1)
    # torch's threads are set once above, not per row: say so in its line
    for line in header_lines(torch, args.no_torch, "1",
                             torch_threads="set_num_threads(1) once, for every row")[1]:
        print(line)
    rows = [bench_cell(torch, cell, args.repeats) for cell in CELLS]
    print(f"\nmedian us per call, 1 thread, float32, T={T}, H={H}, univariate; "
          "speedup = torch / tsbptt")
    print(f"{'cell':5s} {'call':7s} {'tsbptt':>9s} {'torch':>9s} {'speedup':>8s}")
    for r in rows:
        for name in ("window", "step", "stream"):
            theirs = r.get(f"{name}_torch_us")
            print(f"{r['cell']:5s} {name:7s} {r[f'{name}_tsbptt_us']:9.1f} "
                  + (f"{theirs:9.1f} {r[f'{name}_speedup']:8.2f}" if theirs else
                     f"{'-':>9s} {'-':>8s}"))
        print(f"{r['cell']:5s} {'floor':7s} {r['floor_us']:9.2f}   (one Python call of "
              "a compiled no-op, math.fabs)")
        if "window_rel_diff" in r:
            print(f"      (window prediction, tsbptt vs torch: relative difference "
                  f"{r['window_rel_diff']:.1e})")
    if padded_cache_gb(args.memory_steps) > args.max_gb:
        print(f"\nmemory row skipped: this build's predict would allocate about "
              f"{padded_cache_gb(args.memory_steps):.1f} GB of padded forward caches for "
              f"(1, {args.memory_steps}, 1) (more than --max-gb {args.max_gb:g})")
        mem = None
    else:
        mem = bench_memory(args.memory_steps)
    if mem is not None:
        print(f"\npredict of one (1, {mem['n_steps']}, 1) sequence (LSTM, H={H}): "
              f"tracemalloc peak {mem['peak_mb']:.1f} MB (the float64 input is "
              f"{mem['input_mb']:.1f} MB), {mem['seconds']:.2f} s")
        print(f"predict_sequence of it (per-step outputs, a model fitted on per-step "
              f"targets): tracemalloc peak {mem['sequence_peak_mb']:.1f} MB, "
              f"{mem['sequence_seconds']:.2f} s")
    print(f"load average (1 min) after the run: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "memory": mem}, indent=2)
                                   + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
