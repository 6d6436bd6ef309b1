"""Time a whole training loop against PyTorch, and measure what checkpointing saves.

Part 1 (``train``): epochs per second of a full fit at a forecasting size: 20,000
windows of 48 steps of a noisy sine, 1 feature, a many-to-one LSTM with 64 hidden
units and one output, MSE, Adam (lr 1e-3, --lr), batches of 64 in a fresh random order
every epoch, float32. tsbptt runs :func:`tsbptt.engine.trainer.train` with
``TrainOptions.n_threads=N`` and BLAS held to N threads (threadpoolctl); if PyTorch
is importable, the same loop written the usual way (``nn.LSTM(batch_first=True)``
+ ``nn.Linear`` + ``torch.optim.Adam``, tensors made once, a ``torch.randperm``
per epoch, ``zero_grad``/``backward``/``step``) runs in the same process with
``torch.set_num_threads(N)``, its epochs interleaved with tsbptt's.

Part 2 (``memory``): the peak memory (tracemalloc, which sees NumPy's allocations)
and the time of one :func:`tsbptt.engine.bptt.full_bptt` call on a long batch
(T = 2,000) without and with ``checkpoint_every``, and how the peak grows with T.

Run from the repository root::

    python benchmarks/bench_training.py --quick
    python benchmarks/bench_training.py --threads 1 2 --json results.json

See benchmarks/reports/training_loop.md for what each column means.
"""
import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from _common import header_lines, import_torch
from tsbptt.engine.bptt import full_bptt
from tsbptt.engine.losses import MSE, Objective
from tsbptt.engine.network import Network
from tsbptt.engine.optimizers import Adam, bias_free_mask
from tsbptt.engine.schedules import Constant
from tsbptt.engine.trainer import TrainOptions, evaluate, train

#: A timing whose median exceeds its minimum by this factor is flagged as noisy.
NOISY = 1.5
#: Sine period (steps) and noise level of the training data.
PERIOD, NOISE = 50.0, 0.1
MiB = 2.0**20


def sine_windows(n, T, seed=0):
    """``n`` windows of ``T`` steps of a noisy sine (N, T, 1) and the next value (N, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n + T)
    s = (np.sin(2 * np.pi * t / PERIOD) + NOISE * rng.standard_normal(t.size))
    s = s.astype(np.float32)
    X = np.lib.stride_tricks.sliding_window_view(s[:-1], T)[:n, :, None].copy()
    return X, s[T:T + n, None].copy()


def nearest_multiple(x, m=16):
    """The positive multiple of ``m`` nearest ``x``."""
    return max(m, m * int(round(x / m)))


# --------------------------------------------------------------------------- part 1
class TsbpttFit:
    """tsbptt's fit loop, one epoch per :meth:`epoch` call (``train`` with max_iter=1;
    the optimizer, the shuffling generator and the epoch count carry over)."""

    def __init__(self, X, y, hidden, batch, lr, n_threads, seed, blas_threads=None):
        self.net = Network("lstm", X.shape[2], hidden, y.shape[1], dtype="float32",
                           random_state=seed)
        params = self.net.params
        self.optimizer = Adam(list(params.values()), lr,
                              decay_masks=[bias_free_mask(k, v) for k, v in params.items()])
        self.loss = Objective(MSE())
        self.schedule = Constant(lr)
        self.data = (X, y, np.full(X.shape[0], X.shape[1], dtype=np.intp), None)
        self.opts = TrainOptions(batch_size=batch, max_iter=1, n_threads=n_threads)
        self.rng = np.random.RandomState(seed)
        self.n_threads, self.done = n_threads, 0
        self.blas_threads = n_threads if blas_threads is None else blas_threads

    def epoch(self):
        """One epoch; returns its mean training loss (weights moving, as reported)."""
        with threadpool_limits(limits=self.blas_threads, user_api="blas"):
            (record,) = train(self.net, self.loss, self.optimizer, self.schedule,
                              self.data, self.opts, rng=self.rng, start_epoch=self.done)
        self.done += 1
        return record["train_loss"]

    def mse(self):
        """MSE over the whole training set with the current weights."""
        with threadpool_limits(limits=self.blas_threads, user_api="blas"):
            return evaluate(self.net, self.loss, self.data, n_threads=self.n_threads)


class TorchFit:
    """The same loop written the usual way in PyTorch."""

    def __init__(self, torch, X, y, hidden, batch, lr, seed):
        self.torch = torch
        torch.manual_seed(seed)
        self.lstm = torch.nn.LSTM(X.shape[2], hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, y.shape[1])
        self.params = list(self.lstm.parameters()) + list(self.head.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=lr)
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        self.batch = batch
        self.gen = torch.Generator().manual_seed(seed)

    def predict(self, xb):
        out, _ = self.lstm(xb)
        return self.head(out[:, -1])

    def epoch(self):
        torch, F = self.torch, self.torch.nn.functional
        n = self.X.shape[0]
        perm = torch.randperm(n, generator=self.gen)
        total = 0.0
        for i in range(0, n, self.batch):
            idx = perm[i:i + self.batch]
            xb, yb = self.X[idx], self.y[idx]
            self.optimizer.zero_grad()
            loss = F.mse_loss(self.predict(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(idx)
        return total / n

    def mse(self, batch=256):
        torch = self.torch
        total = 0.0
        with torch.no_grad():
            for s in range(0, self.X.shape[0], batch):
                pred = self.predict(self.X[s:s + batch])
                total += float(((pred - self.y[s:s + batch]) ** 2).sum())
        return total / self.y.numel()


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def bench_fit(torch, X, y, n, args):
    """Warm-up epochs, then ``args.epochs`` timed epochs of each loop, interleaved."""
    print(f"[{n} thread(s)] load average (1 min) {os.getloadavg()[0]:.2f}", flush=True)
    if torch is not None:
        torch.set_num_threads(n)
    blas = n if args.blas_threads is None else args.blas_threads
    fits = {"tsbptt": TsbpttFit(X, y, args.hidden, args.batch, args.lr, n, args.seed,
                                blas)}
    if torch is not None:
        fits["torch"] = TorchFit(torch, X, y, args.hidden, args.batch, args.lr, args.seed)
    times = {k: [] for k in fits}
    losses = {k: [] for k in fits}
    for e in range(args.warmup + args.epochs):
        # Alternate who goes first, so a drift in background load hits both alike.
        for name in (list(fits) if e % 2 == 0 else list(fits)[::-1]):
            sec, loss = timed(fits[name].epoch)
            losses[name].append(loss)
            if e >= args.warmup:
                times[name].append(sec)
            tag = "warm-up" if e < args.warmup else "timed"
            print(f"  epoch {e + 1} ({tag}) {name:6s} {sec:7.2f} s  loss {loss:.5f}",
                  flush=True)
    row = dict(threads=n, blas_threads=blas, windows=X.shape[0], steps=X.shape[1],
               hidden=args.hidden, batch=args.batch, epochs_timed=args.epochs,
               warmup=args.warmup)
    for name in ("tsbptt", "torch"):
        ts = times.get(name)
        med = statistics.median(ts) if ts else None
        row.update({f"{name}_s_per_epoch": med,
                    f"{name}_s_per_epoch_min": min(ts) if ts else None,
                    f"{name}_epochs_per_s": 1 / med if ts else None,
                    f"{name}_epoch_times": ts,
                    f"{name}_train_loss": losses[name][-1] if ts else None,
                    f"{name}_mse_after": fits[name].mse() if ts else None})
    row["ratio_tsbptt_over_torch"] = (row["torch_s_per_epoch"] / row["tsbptt_s_per_epoch"]
                                      if torch is not None else None)
    row["noisy"] = any(max(ts) > NOISY * min(ts) for ts in times.values() if ts)
    row["load_after"] = os.getloadavg()[0]
    return row


def print_fit_table(rows, y, lr):
    print()
    print(f"Training loop: many-to-one LSTM, float32, Adam lr {lr:g}, MSE; median s/epoch "
          "of the timed epochs")
    hdr = (f"{'thr':>3} {'blas':>4} {'tsb_s/ep':>9} {'torch_s/ep':>10} {'tsb_ep/s':>9} "
           f"{'torch_ep/s':>10} {'tsb/torch':>9} {'tsb_loss':>9} {'torch_loss':>10} "
           f"{'tsb_mse':>8} {'torch_mse':>9}")
    print(hdr)

    def f(v, w, spec):
        return f"{'-':>{w}}" if v is None else f"{v:>{w}{spec}}"

    for r in rows:
        print(" ".join([f(r["threads"], 3, "d"), f(r["blas_threads"], 4, "d"),
                        f(r["tsbptt_s_per_epoch"], 9, ".2f"),
                        f(r["torch_s_per_epoch"], 10, ".2f"),
                        f(r["tsbptt_epochs_per_s"], 9, ".3f"),
                        f(r["torch_epochs_per_s"], 10, ".3f"),
                        f(r["ratio_tsbptt_over_torch"], 9, ".2f"),
                        f(r["tsbptt_train_loss"], 9, ".5f"),
                        f(r["torch_train_loss"], 10, ".5f"),
                        f(r["tsbptt_mse_after"], 8, ".5f"),
                        f(r["torch_mse_after"], 9, ".5f")])
              + ("  *" if r["noisy"] else ""))
    if any(r["noisy"] for r in rows):
        print(f"* noisy: the slowest timed epoch took over {NOISY}x the fastest "
              "(another load on the machine?)")
    print(f"reference: predicting the mean gives MSE {float(np.var(y)):.5f}; the noise "
          f"floor is {NOISE**2:.5f}")
    by_thr = {r["threads"]: r for r in rows}
    if 1 in by_thr and 2 in by_thr:
        for name in ("tsbptt", "torch"):
            a, b = by_thr[1][f"{name}_s_per_epoch"], by_thr[2][f"{name}_s_per_epoch"]
            if a and b:
                print(f"{name} 2-thread speedup (1-thread s / 2-thread s): {a / b:.2f}")


# --------------------------------------------------------------------------- part 2
def long_batch(B, T, H, seed=0):
    """A many-to-one LSTM, a batch of noisy sines of T steps and its loss function."""
    net = Network("lstm", 1, H, 1, dtype="float32", random_state=seed)
    rng = np.random.default_rng(seed)
    t = np.arange(T + 1)[None, :] + rng.integers(0, 1000, (B, 1))
    s = (np.sin(2 * np.pi * t / PERIOD) + NOISE * rng.standard_normal(t.shape))
    s = s.astype(np.float32)
    X, y = np.ascontiguousarray(s[:, :T, None]), s[:, T:]
    lengths = np.full(B, T, dtype=np.intp)
    return net, X, lengths, Objective(MSE()).batch_fn(net, y, lengths, None)


def bptt_call(net, X, lengths, loss_fn, c, n_threads):
    return full_bptt(net, X, lengths, loss_fn, checkpoint_every=c, n_threads=n_threads)


def peak_mib(fn):
    """Peak traced memory (MiB) allocated during ``fn()`` above what was live before."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak / MiB, result


def bench_checkpoints(args):
    """Peak memory and time of one full_bptt call per checkpoint_every value."""
    B, T, H, n = args.mem_batch, args.mem_steps, args.hidden, args.mem_threads
    net, X, lengths, loss_fn = long_batch(B, T, H)
    cs = [None] + [c for c in args.checkpoints if c < T]
    rows = []
    with threadpool_limits(limits=n, user_api="blas"):
        ref = None
        for c in cs:
            mib, (_, grads, _) = peak_mib(lambda: bptt_call(net, X, lengths, loss_fn, c, n))
            if ref is None:
                ref = grads
            diff = max(float(np.max(np.abs(grads[k] - ref[k])) /
                             max(float(np.max(np.abs(ref[k]))), 1e-30)) for k in ref)
            rows.append(dict(batch=B, steps=T, hidden=H, threads=n, checkpoint_every=c,
                             peak_mib=mib, grad_max_rel_diff=diff, times=[]))
        # Times without tracemalloc, the values interleaved in rounds.
        for c in cs:
            bptt_call(net, X, lengths, loss_fn, c, n)  # warm-up
        for _ in range(args.mem_repeats):
            for r in rows:
                sec, _ = timed(lambda: bptt_call(net, X, lengths, loss_fn,
                                                 r["checkpoint_every"], n))
                r["times"].append(sec)
    for r in rows:
        r["seconds"] = statistics.median(r["times"])
        r["peak_ratio"] = r["peak_mib"] / rows[0]["peak_mib"]
        r["time_ratio"] = r["seconds"] / rows[0]["seconds"]
    return rows


def bench_growth(args):
    """Peak memory without and with checkpoint_every ~ sqrt(T) for several T."""
    rows = []
    n = args.mem_threads
    with threadpool_limits(limits=n, user_api="blas"):
        for T in args.growth_steps:
            net, X, lengths, loss_fn = long_batch(args.mem_batch, T, args.hidden)
            c = nearest_multiple(math.sqrt(T))
            none, _ = peak_mib(lambda: bptt_call(net, X, lengths, loss_fn, None, n))
            ckpt, _ = peak_mib(lambda: bptt_call(net, X, lengths, loss_fn, c, n))
            rows.append(dict(steps=T, checkpoint_every=c, peak_mib_none=none,
                             peak_mib_checkpointed=ckpt, ratio=ckpt / none))
    return rows


def print_memory_tables(rows, growth):
    r0 = rows[0]
    print()
    print(f"Checkpointing: one full_bptt call (forward + loss + backward), many-to-one "
          f"LSTM, B={r0['batch']} T={r0['steps']} F=1 H={r0['hidden']}, float32, "
          f"{r0['threads']} thread(s); peak = tracemalloc peak above the live memory "
          f"before the call; seconds = median of {len(r0['times'])} calls")
    print(f"{'ckpt_every':>10} {'peak_MiB':>9} {'mem_ratio':>9} {'seconds':>8} "
          f"{'time_ratio':>10} {'grad_rel_diff':>13}")
    for r in rows:
        c = "none" if r["checkpoint_every"] is None else str(r["checkpoint_every"])
        print(f"{c:>10} {r['peak_mib']:>9.2f} {r['peak_ratio']:>9.3f} "
              f"{r['seconds']:>8.3f} {r['time_ratio']:>10.2f} "
              f"{r['grad_max_rel_diff']:>13.1e}")
    print("grad_rel_diff: largest relative difference of any gradient from the "
          "no-checkpoint call (0 = bitwise equal)")
    print()
    print(f"Growth with T (B={r0['batch']}, H={r0['hidden']}): checkpoint_every = the "
          "multiple of 16 nearest sqrt(T)")
    g0 = growth[0]
    print(f"{'T':>5} {'ckpt':>5} {'none_MiB':>9} {'ckpt_MiB':>9} {'ckpt/none':>9} "
          f"{'T/T0':>5} {'none/none0':>10} {'sqrt(T/T0)':>10} {'ckpt/ckpt0':>10}")
    for g in growth:
        k = g["steps"] / g0["steps"]
        print(f"{g['steps']:>5} {g['checkpoint_every']:>5} {g['peak_mib_none']:>9.2f} "
              f"{g['peak_mib_checkpointed']:>9.2f} {g['ratio']:>9.3f} {k:>5.1f} "
              f"{g['peak_mib_none'] / g0['peak_mib_none']:>10.2f} {math.sqrt(k):>10.2f} "
              f"{g['peak_mib_checkpointed'] / g0['peak_mib_checkpointed']:>10.2f}")
    if len(growth) > 1:
        g1 = growth[-1]
        k = math.log(g1["steps"] / g0["steps"])
        slope = {key: math.log(g1[key] / g0[key]) / k
                 for key in ("peak_mib_none", "peak_mib_checkpointed")}
        print(f"growth exponent (log-log slope, T={g0['steps']} to {g1['steps']}): none "
              f"{slope['peak_mib_none']:.2f}, checkpointed "
              f"{slope['peak_mib_checkpointed']:.2f} (linear = 1, sqrt = 0.5)")


# --------------------------------------------------------------------------- header
def header(torch, args):
    note = (f"{' '.join(map(str, args.threads))} (training; BLAS around tsbptt's epochs: "
            f"{'same' if args.blas_threads is None else args.blas_threads}), "
            f"{args.mem_threads} (memory)")
    # the memory part never runs torch: say so, rather than "not importable"
    cfg, lines = header_lines(torch, args.no_torch or "train" not in args.parts, note)
    print("\n".join(lines), flush=True)
    return cfg


# --------------------------------------------------------------------------- main
def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", choices=["train", "memory"],
                   default=["train", "memory"], help="what to run (default: both)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="thread counts for the training loop (default: 1 2)")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up epochs (default 1)")
    p.add_argument("--windows", type=int, default=20_000, help="training windows")
    p.add_argument("--steps", type=int, default=48, help="steps per window")
    p.add_argument("--hidden", type=int, default=64, help="hidden units (both parts)")
    p.add_argument("--batch", type=int, default=64, help="training batch size")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="BLAS threads (threadpoolctl) around tsbptt's epochs "
                        "(default: the row's thread count)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mem-steps", type=int, default=2000, help="T of the memory part")
    p.add_argument("--mem-batch", type=int, default=32, help="B of the memory part")
    p.add_argument("--mem-threads", type=int, default=1,
                   help="threads of the memory part (default 1)")
    p.add_argument("--mem-repeats", type=int, default=5,
                   help="timed calls per checkpoint_every value (default 5)")
    p.add_argument("--checkpoints", type=int, nargs="+", default=[16, 32, 48, 64, 128])
    p.add_argument("--growth-steps", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch loop")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, 1 thread, 1 timed epoch (a few seconds)")
    args = p.parse_args(argv)
    if args.quick:
        args.threads, args.epochs, args.warmup = [1], 1, 1
        args.windows, args.steps, args.hidden = 1024, 16, 16
        args.mem_steps, args.mem_batch, args.mem_repeats = 256, 8, 2
        args.checkpoints, args.growth_steps = [16, 32], [64, 128, 256]
    for name in ("threads", "checkpoints", "growth_steps", "epochs", "windows", "steps",
                 "hidden", "batch", "mem_steps", "mem_batch", "mem_threads",
                 "mem_repeats"):
        value = getattr(args, name)
        if min(value if isinstance(value, list) else [value]) < 1:
            p.error(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.blas_threads is not None and args.blas_threads < 1:
        p.error(f"--blas-threads must be positive, got {args.blas_threads}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def main(argv=None):
    args = parse(argv)
    torch = None if args.no_torch or "train" not in args.parts else import_torch()
    cfg = header(torch, args)
    t_start = time.perf_counter()
    result = dict(config={k: v for k, v in cfg.items() if k != "openmp_runtimes"},
                  torch=None if torch is None else torch.__version__,
                  load_before=os.getloadavg()[0], training=[], checkpointing=[],
                  growth=[])
    if "train" in args.parts:
        X, y = sine_windows(args.windows, args.steps, args.seed)
        print(f"training data: {X.shape[0]} windows x {X.shape[1]} steps x 1 feature "
              f"(noisy sine, period {PERIOD:g}, noise sd {NOISE}), float32; batch "
              f"{args.batch}, hidden {args.hidden}; {args.warmup} warm-up + "
              f"{args.epochs} timed epoch(s) per thread count", flush=True)
        result["training"] = [bench_fit(torch, X, y, n, args) for n in args.threads]
        print_fit_table(result["training"], y, args.lr)
    if "memory" in args.parts:
        print(f"\nmemory part (load average {os.getloadavg()[0]:.2f}) ...", flush=True)
        result["checkpointing"] = bench_checkpoints(args)
        result["growth"] = bench_growth(args)
        print_memory_tables(result["checkpointing"], result["growth"])
    result["total_seconds"] = time.perf_counter() - t_start
    result["load_after"] = os.getloadavg()[0]
    print(f"\ntotal time: {result['total_seconds']:.1f} s; load average (1 min) after "
          f"the run: {result['load_after']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
