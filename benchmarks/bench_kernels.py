"""Time one training step of tsbptt's LSTM/GRU kernels, against PyTorch and the GEMM peak.

One step = forward through all T steps, a loss on the last step's output
(``loss = Y[:, -1, :].sum() / B``, i.e. ``dY`` zero but ``dY[:, -1, :] = 1/B``) and
backward through all T steps, producing the input gradient and every weight gradient.

For each thread count the machine's float32 GEMM peak is measured in the same run
(a large square ``numpy.matmul`` with BLAS limited to that many threads by
threadpoolctl), and each row reports its fraction of it. If PyTorch is importable,
the same step is timed with ``torch.nn.LSTM``/``torch.nn.GRU`` (same weights, same
thread count) and its gradients are checked against tsbptt's. Torch runs in a
process of its own, as a user runs it, its calls interleaved with tsbptt's
(``TorchProcess``; ``--torch-here`` runs it in this process, as before 2026-12-04,
where torch's allocations changed tsbptt's speed through glibc's malloc).

Run from the repository root::

    python benchmarks/bench_kernels.py --quick
    python benchmarks/bench_kernels.py --threads 1 2 --json results.json
    python benchmarks/bench_kernels.py --blas both --threads 1 --rows 0 2

``--blas both`` runs the whole benchmark twice, in subprocesses, with
``OPENBLAS_CORETYPE=Haswell`` and with it unset (``OPENBLAS_L2_SIZE`` unset in
both), and prints which OpenBLAS kernel NumPy's BLAS ran in each: the kernels'
products use no BLAS and torch has its own (MKL), but the GEMM peak's
``numpy.matmul`` runs NumPy's OpenBLAS, and CI machines differ. The final table's
%peak is of the better run's peak (:func:`use_machine_peaks`).

See benchmarks/reports/training_step.md for what each column means.
"""
import argparse
import gc
import importlib.util
import subprocess
import tempfile
import json
import math
import pickle
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from _common import header_lines, import_torch
from _torch_step import GATES, make_torch_step
from tsbptt.engine.layers import RecurrentLayer

#: (batch, time, features, hidden)
GRID = [(32, 24, 1, 32), (64, 50, 8, 64), (128, 100, 8, 128), (64, 200, 16, 256),
        (256, 48, 4, 64)]


def step_flops(cell, B, T, F, H):
    """Forward 2*G*H*(F+H) per sample-step, backward twice that."""
    return 3 * 2 * GATES[cell] * H * (F + H) * B * T


#: A timing whose median exceeds its minimum by this factor is flagged as noisy.
NOISY = 1.5


def time_interleaved(fns, repeats, seconds, warmup=2):
    """Wall times (ms) of each function in ``fns``, the calls interleaved in rounds.

    Interleaving makes every function see the same background load, so their ratio
    stays meaningful on a shared machine. ``repeats`` None: about ``seconds`` of
    timed calls per function, at least 3. An entry may also be an object with a
    ``timed(n)`` method that makes n calls elsewhere and returns their times in ms
    (:class:`TorchProcess`).

    Returns
    -------
    list of list of float, one list of times per function
    """
    runners = [fn.timed if hasattr(fn, "timed") else _timed_here(fn) for fn in fns]
    counts = []
    for run in runners:
        if warmup:
            run(warmup)
        if repeats is None:
            one = run(1)[0] / 1e3
            counts.append(int(min(10_000, max(3, math.ceil(seconds / max(one, 1e-7))))))
        else:
            counts.append(repeats)
    rounds = min(10, min(counts))
    times = [[] for _ in fns]
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            for run, n, ts in zip(runners, counts, times):
                k = n * (r + 1) // rounds - n * r // rounds
                if k:
                    ts.extend(run(k))
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def _timed_here(fn):
    """``n -> ms of n calls of fn`` in this process."""
    def run(n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1e3)
        return out
    return run


def noise(times):
    """Median over minimum: 1 on a quiet machine."""
    return statistics.median(times) / min(times)


def gemm_peak(n_threads, size, repeats):
    """float32 GEMM GFLOP/s of numpy.matmul (size x size) with BLAS held to n_threads."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty_like(a)
    with threadpool_limits(limits=n_threads, user_api="blas"):
        (times,) = time_interleaved([lambda: np.matmul(a, b, out=out)], repeats, 0,
                                    warmup=1)
    return 2 * size**3 / (statistics.median(times) * 1e6)


# --------------------------------------------------------------------------- tsbptt
def make_tsbptt_step(cell, B, T, F, H, n_threads):
    layer = RecurrentLayer(cell, F, H, dtype="float32", random_state=0)
    X = np.random.default_rng(1).standard_normal((B, T, F), dtype=np.float32)
    dY = np.zeros((B, T, H), np.float32)
    dY[:, -1, :] = 1.0 / B

    def step():
        _, _, cache = layer.forward(X, n_threads=n_threads)
        return layer.backward(cache, dY, n_threads=n_threads)

    return layer, X, step


# --------------------------------------------------------------------------- torch
class TorchProcess:
    """torch's step in a process of its own (``_torch_step.py``), timed there on request.

    In one process each library's allocations change the other's speed: glibc's
    malloc keeps large freed arrays in its heap or hands them back to the system
    (and faults them in again) depending on what the process freed before. Page
    faults cost torch 1.1-1.85x (alone, default allocator against glibc's MALLOC_*
    settings), and tsbptt's steps up to 2.1x before it settled malloc itself
    (benchmarks/reports/training_step.md, "malloc"). So torch runs as a user runs
    it: alone in a Python process that imports only NumPy and torch, with its
    default allocator. The rounds still
    interleave (``time_interleaved`` asks it for its calls between tsbptt's), so
    both see the same background load.

    ``available`` is False when torch does not import there.
    """

    def __init__(self):
        script = Path(__file__).with_name("_torch_step.py")
        self._proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE)
        self.__version__ = self._call("version")
        self.available = self.__version__ is not None

    def _call(self, *msg):
        try:
            pickle.dump(msg, self._proc.stdin)
            self._proc.stdin.flush()
            ok, out = pickle.load(self._proc.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError) as exc:
            raise RuntimeError(f"the torch process died (exit code {self._proc.poll()})"
                               ) from exc
        if not ok:
            raise RuntimeError(f"in the torch process:\n{out}")
        return out

    def setup(self, cell, layer, X, n_threads):
        """Build the step on ``layer``'s weights and X; returns one step's gradients."""
        spec = (layer.input_size, layer.hidden_size,
                {k: np.asarray(v) for k, v in layer.params.items()})
        return self._call("setup", cell, spec, X, n_threads)

    def timed(self, n):
        """ms of n calls of the step, made in the torch process."""
        return self._call("timed", n)

    def close(self):
        """Stop the process (killed if it does not stop within 10 s)."""
        if self._proc.poll() is None:
            try:
                self._call("stop")
                self._proc.wait(10)
            except (RuntimeError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        for f in (self._proc.stdin, self._proc.stdout):
            f.close()


def torch_grads_as_tsbptt(cell, grads, F, H):
    """Map torch's (dx, dW_ih, dW_hh, db_ih, db_hh) onto tsbptt's (dX, {'W', 'b_hn'})."""
    dx, dw_ih, dw_hh, db_ih, db_hh = (np.asarray(g) for g in grads)
    out = {"W": np.concatenate([dw_ih.T, dw_hh.T, db_ih[None, :]], axis=0)}
    if cell == "gru":
        out["b_hn"] = db_hh[2 * H:]
    return dx, out


def max_rel_err(ours, theirs):
    """max |a - b| / max |b| over dX and every weight gradient (after a shape check)."""
    (dX, g), (tdX, tg) = ours, theirs
    pairs = [(dX, tdX)] + [(g[k], tg[k]) for k in sorted(tg)]
    if set(g) != set(tg):
        raise AssertionError(f"gradient keys differ: {sorted(g)} vs {sorted(tg)}")
    err = 0.0
    for a, b in pairs:
        if a.shape != b.shape:
            raise AssertionError(f"gradient shapes differ: {a.shape} vs {b.shape}")
        err = max(err, float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30)))
    return err


# --------------------------------------------------------------------------- report
def print_header(torch, args):
    _, lines = header_lines(torch, args.no_torch, " ".join(map(str, args.threads)),
                            numpy_role="numpy (GEMM peak)")
    print("\n".join(lines))
    print("step = forward over T + loss on last output + backward over T (dX and dW); "
          "float32; median ms")
    sys.stdout.flush()


COLS = [("openblas", 8, "s"), ("cell", 5, "s"), ("B", 4, "d"), ("T", 4, "d"), ("F", 3, "d"),
        ("H", 4, "d"),
        ("thr", 3, "d"), ("tsbptt_ms", 10, ".3f"), ("torch_ms", 9, ".3f"),
        ("torch/tsb", 9, ".2f"), ("GFLOP/s", 8, ".1f"), ("%peak", 6, ".1f"),
        ("reps", 5, "s")]


def fmt_row(vals):
    cells = []
    for (name, w, f), v in zip(COLS, vals):
        cells.append(f"{'-':>{w}}" if v is None else f"{v:>{w}{f}}")
    return " ".join(cells)


def print_table(rows, peaks):
    print()
    for n, p in sorted(peaks.items()):
        print(f"float32 GEMM peak, {n} thread(s): {p:.1f} GFLOP/s (best of before/after)")
    print(" ".join(f"{name:>{w}}" for name, w, _ in COLS))
    for r in rows:
        reps = f"{r['repeats']}" + (f"/{r['torch_repeats']}" if r["torch_ms"] else "")
        print(fmt_row([r["openblas"], r["cell"], r["batch"], r["time"], r["features"], r["hidden"],
                       r["threads"], r["tsbptt_ms"], r["torch_ms"],
                       r["speedup_vs_torch"], r["gflops"], r["pct_of_peak"], reps])
              + ("  *" if r["noisy"] else ""))
    if any(r["noisy"] for r in rows):
        print(f"* noisy: a median exceeded its minimum by more than {NOISY}x even after "
              "a second measurement (another load on the machine); JSON has the minima")
    errs = [r["max_rel_err_vs_torch"] for r in rows
            if r["max_rel_err_vs_torch"] is not None]
    if errs:
        print(f"gradients vs torch (same weights): same shapes; max relative error "
              f"{max(errs):.1e}")
    by_shape = {}
    for r in rows:
        key = (r["cell"], r["batch"], r["time"], r["features"], r["hidden"])
        by_shape.setdefault(key, {})[r["threads"]] = r["tsbptt_ms"]
    pairs = [(k, v[1] / v[2]) for k, v in by_shape.items() if 1 in v and 2 in v]
    if pairs:
        print("tsbptt 2-thread speedup (1-thread ms / 2-thread ms): " + ", ".join(
            f"{c} {B}x{T}x{F}x{H} {s:.2f}" for (c, B, T, F, H), s in pairs))


def bench_row(torch, cell, B, T, F, H, n, args):
    """Time one grid row (tsbptt and, if given, torch interleaved); check gradients."""
    layer, X, step = make_tsbptt_step(cell, B, T, F, H, n)
    fns = [step]
    err = None
    if isinstance(torch, TorchProcess):
        dX, _, g = step()
        err = max_rel_err((dX, g), torch_grads_as_tsbptt(cell, torch.setup(cell, layer, X, n),
                                                        F, H))
        fns.append(torch)
    elif torch is not None:
        tstep = make_torch_step(torch, cell, layer, X)
        dX, _, g = step()
        err = max_rel_err((dX, g), torch_grads_as_tsbptt(cell, tstep(), F, H))
        fns.append(tstep)
    times = time_interleaved(fns, args.repeats, args.seconds)
    if max(map(noise, times)) > NOISY:  # disturbed: measure once more, keep the quieter
        again = time_interleaved(fns, args.repeats, args.seconds, warmup=1)
        if max(map(noise, again)) < max(map(noise, times)):
            times = again
    ms = statistics.median(times[0])
    row = dict(openblas=openblas_kernel(), cell=cell, batch=B, time=T, features=F, hidden=H,
               threads=n,
               tsbptt_ms=ms, torch_ms=None,
               gflops=step_flops(cell, B, T, F, H) / (ms * 1e6), peak_gflops=None,
               pct_of_peak=None, speedup_vs_torch=None, repeats=len(times[0]),
               torch_repeats=None, tsbptt_ms_min=min(times[0]), torch_ms_min=None,
               noisy=max(map(noise, times)) > NOISY, max_rel_err_vs_torch=err)
    if torch is not None:
        tms = statistics.median(times[1])
        row.update(torch_ms=tms, torch_repeats=len(times[1]), torch_ms_min=min(times[1]),
                   speedup_vs_torch=tms / ms)
    print(f"  {cell} B={B} T={T} F={F} H={H}: tsbptt {ms:.3f} ms"
          + (f", torch {row['torch_ms']:.3f} ms" if torch is not None else "")
          + ("  (noisy)" if row["noisy"] else ""), flush=True)
    return row


def openblas_kernel():
    """The OpenBLAS core NumPy's BLAS runs (threadpoolctl's architecture), or '-'.

    SciPy loads an OpenBLAS of its own, which threadpoolctl may list first: NumPy's
    is the one under numpy's package folder or the wheels' ``numpy.libs`` beside it
    (the first OpenBLAS where none is, e.g. a system OpenBLAS NumPy links to).
    """
    found = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    if not found:
        return "-"
    pkg = Path(np.__file__).resolve().parent
    for info in found:
        path = Path(info["filepath"]).resolve() if info.get("filepath") else None
        if path and any(path.is_relative_to(d) for d in (pkg, pkg.with_name("numpy.libs"))):
            return str(info.get("architecture"))
    return str(found[0].get("architecture"))


#: OPENBLAS_CORETYPE values of ``--blas both`` (None: unset, OpenBLAS chooses).
CORETYPES = ["Haswell", None]


def use_machine_peaks(rows):
    """Set every row's ``pct_of_peak`` against the machine's peak: the best GEMM any
    run measured at the row's thread count.

    Each run measures the peak with its own OpenBLAS kernels, but tsbptt's kernels use
    none: on an AVX-512 CPU the Haswell run's GEMM is OpenBLAS's AVX2 code, 39-41% of
    the machine's peak, and rows against it read over 100%. The run's own peak stays
    in ``openblas_peak_gflops``.

    Returns
    -------
    dict
        Thread count -> the peak used, GFLOP/s.
    """
    peaks = {}
    for r in rows:
        peaks[r["threads"]] = max(peaks.get(r["threads"], 0.0), r["peak_gflops"])
    for r in rows:
        r["openblas_peak_gflops"] = r["peak_gflops"]
        r["peak_gflops"] = peaks[r["threads"]]
        r["pct_of_peak"] = 100 * r["gflops"] / r["peak_gflops"]
    return peaks


def run_under_each_blas(argv, args):
    """Run this script once per CORETYPES entry in a subprocess; one table at the end."""
    rest = [a for a in argv if a not in ("--blas", "both", "--blas=both")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, coretype in enumerate(CORETYPES):
            env = {k: v for k, v in os.environ.items()
                   if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
            if coretype:
                env["OPENBLAS_CORETYPE"] = coretype
            out = Path(tmp, f"rows{i}.json")
            print(f"=== OPENBLAS_CORETYPE={coretype or '(unset)'}", flush=True)
            cmd = [sys.executable, __file__, *rest, "--json", str(out)]
            if subprocess.run(cmd, env=env).returncode != 0:
                return 1
            rows += json.loads(out.read_text())
    peaks = use_machine_peaks(rows)
    print("\n=== all runs (openblas: the kernel NumPy's BLAS ran)")
    for n, p in sorted(peaks.items()):
        print(f"float32 GEMM peak, {n} thread(s): {p:.1f} GFLOP/s (the best of the runs; "
              "%peak below is of it)")
    print(" ".join(f"{name:>{w}}" for name, w, _ in COLS))
    for r in rows:
        reps = f"{r['repeats']}" + (f"/{r['torch_repeats']}" if r["torch_ms"] else "")
        print(fmt_row([r["openblas"], r["cell"], r["batch"], r["time"], r["features"],
                       r["hidden"], r["threads"], r["tsbptt_ms"], r["torch_ms"],
                       r["speedup_vs_torch"], r["gflops"], r["pct_of_peak"], reps])
              + ("  *" if r["noisy"] else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="thread counts to time (default: 1 2)")
    p.add_argument("--cells", nargs="+", choices=sorted(GATES), default=["lstm", "gru"])
    p.add_argument("--repeats", type=int, default=None,
                   help="fixed timed repeats per row and implementation "
                        "(default: adaptive, about --seconds each)")
    p.add_argument("--seconds", type=float, default=0.8,
                   help="target timed seconds per row and implementation (default 0.8)")
    p.add_argument("--gemm-size", type=int, default=2048,
                   help="square GEMM size for the peak (default 2048)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--torch-here", action="store_true",
                   help="run torch's step in this process, beside tsbptt's (before "
                        "2026-12-04 \"malloc\" the only way; see TorchProcess)")
    p.add_argument("--json", metavar="PATH", help="write the rows as JSON to PATH")
    p.add_argument("--quick", action="store_true",
                   help="first grid row only, 1 thread, few repeats (a few seconds)")
    p.add_argument("--rows", type=int, nargs="+", default=None,
                   help=f"grid rows to time, by index 0-{len(GRID) - 1} (default: all)")
    p.add_argument("--blas", choices=["current", "both"], default="current",
                   help="'both': run everything under OPENBLAS_CORETYPE=Haswell and "
                        "unset, in two subprocesses (default: this process only)")
    args = p.parse_args(argv)
    if args.rows is not None and not all(0 <= i < len(GRID) for i in args.rows):
        p.error(f"--rows must be in 0-{len(GRID) - 1}, got {args.rows}")
    if args.blas == "both":
        return run_under_each_blas(argv if argv is not None else sys.argv[1:], args)
    grid = GRID if args.rows is None else [GRID[i] for i in args.rows]
    gemm_reps = 5
    if args.quick:
        grid, args.threads, gemm_reps = GRID[:1], [1], 3
        args.gemm_size = min(args.gemm_size, 1024)
        args.repeats = args.repeats or 50
    if any(n < 1 for n in args.threads):
        p.error(f"--threads must be positive, got {args.threads}")
    if args.repeats is not None and args.repeats < 1:
        p.error(f"--repeats must be positive, got {args.repeats}")

    if args.no_torch:
        torch = None
    elif args.torch_here:
        torch = import_torch()
    else:  # only torch's own process imports it
        torch = TorchProcess() if importlib.util.find_spec("torch") else None
        if torch is not None and not torch.available:
            torch.close()
            torch = None
    try:
        return run_rows(torch, args, grid, gemm_reps)
    finally:
        if isinstance(torch, TorchProcess):
            torch.close()


def run_rows(torch, args, grid, gemm_reps):
    """Time every row at every thread count; print the table (and write the JSON)."""
    print_header(torch, args)
    t_start = time.perf_counter()
    peaks, rows = {}, []
    for n in args.threads:
        peaks[n] = gemm_peak(n, args.gemm_size, gemm_reps)
        print(f"[{n} thread(s)] GEMM {args.gemm_size}^2 float32 peak: "
              f"{peaks[n]:.1f} GFLOP/s", flush=True)
        if torch is not None and not isinstance(torch, TorchProcess):
            torch.set_num_threads(n)
        for cell in args.cells:
            for B, T, F, H in grid:
                rows.append(bench_row(torch, cell, B, T, F, H, n, args))
        # The peak is the best the machine did: measured before and after the rows.
        peaks[n] = max(peaks[n], gemm_peak(n, args.gemm_size, gemm_reps))
        for r in rows:
            if r["threads"] == n:
                r["peak_gflops"] = peaks[n]
                r["pct_of_peak"] = 100 * r["gflops"] / peaks[n]
    print_table(rows, peaks)
    print(f"total time: {time.perf_counter() - t_start:.1f} s; load average (1 min) "
          f"after the run: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
