"""What settling glibc's malloc before the first training step saves (tsbptt.engine._malloc).

Each measurement runs in a fresh process, because what malloc does with a freed
array (keep it in its heap, or hand the pages back to the system and fault them in
again at the next step) depends on everything the process freed before. The
processes alternate, settled (as tsbptt runs) and unsettled (``settle_malloc``
made a no-op, as before 2026-12-04; with ``--against BYTES``, settled by a block of
that size instead), ``--runs`` times each:

- ``fit``: ``LSTMRegressor(hidden_size=H, batch_size=B, max_iter=3)`` on 4,096 random
  windows of (T, 1), float32, 1 thread: the least wall time of three fits after a
  first one, and the page faults (minor, ``getrusage``) per minibatch over them;
- ``step``: ``bench_kernels.py``'s bare layer step (forward + backward, no torch in
  the process), median wall time of about ``--seconds`` of steps, and its faults.

Run from the repository root::

    python benchmarks/bench_malloc.py
    python benchmarks/bench_malloc.py --runs 5 --fits 64,48,64 32,48,32
    python benchmarks/bench_malloc.py --against 16777216 --fits 64,100,256 \
        --steps 64,100,16,256 64,200,16,256   # against the first, 16 MB block
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

from _common import header_lines

#: (batch, T, hidden) of the fits; (B, T, F, H) of the bare steps.
FITS = [(32, 48, 32), (64, 48, 64), (128, 24, 128)]
STEPS = [(64, 50, 8, 64), (256, 48, 4, 64), (128, 5, 8, 128)]
N_WINDOWS = 4096


def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def child_fit(B, T, H):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from tsbptt import LSTMRegressor
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_WINDOWS, T, 1)).astype(np.float32)
    y = X[:, -5:, 0].sum(axis=1)
    est = LSTMRegressor(hidden_size=H, batch_size=B, max_iter=3, random_state=0,
                        dtype="float32", n_threads=1)
    warnings.simplefilter("ignore", ConvergenceWarning)
    est.fit(X, y)
    times, f0 = [], faults()
    for _ in range(3):
        t0 = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - t0)
    minibatches = 3 * 3 * -(-N_WINDOWS // B)
    return {"ms": min(times) * 1e3, "faults_per_step": (faults() - f0) / minibatches}


def child_step(B, T, F, H, seconds):
    from bench_kernels import make_tsbptt_step
    _, _, step = make_tsbptt_step("lstm", B, T, F, H, 1)
    for _ in range(3):
        step()
    times, f0, end = [], faults(), time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"ms": statistics.median(times) * 1e3, "faults_per_step": (faults() - f0) / len(times)}


def run_child(kind, shape, settled, seconds, settle_bytes=None):
    cmd = [sys.executable, __file__, "--child", kind, ",".join(map(str, shape)),
           "--seconds", str(seconds)] + ([] if settled else ["--unsettled"])
    if settle_bytes is not None:
        cmd += ["--settle-bytes", str(settle_bytes)]
    # glibc adapts its thresholds only when none is set: drop the settings that fix them
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    env["OMP_NUM_THREADS"] = "1"
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="processes per shape and setting")
    p.add_argument("--fits", nargs="*", default=None, help="fit shapes B,T,H")
    p.add_argument("--steps", nargs="*", default=None, help="bare step shapes B,T,F,H")
    p.add_argument("--seconds", type=float, default=3.0, help="per bare-step process")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--unsettled", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--settle-bytes", type=int, help=argparse.SUPPRESS)
    p.add_argument("--against", type=int, default=None, metavar="BYTES",
                   help="compare with settling by a block of BYTES instead of not "
                        "settling (16777216: the first, unreleased block, c6d331e)")
    args = p.parse_args(argv)
    if args.child:
        import tsbptt.engine._malloc as malloc
        if args.unsettled:
            malloc._settled = True  # settle_malloc does nothing: malloc as it comes
        if args.settle_bytes is not None:
            malloc.SETTLE_BYTES = args.settle_bytes
        kind, shape = args.child[0], [int(x) for x in args.child[1].split(",")]
        got = child_fit(*shape) if kind == "fit" else child_step(*shape, args.seconds)
        print(json.dumps(got))
        return 0
    fits = [tuple(map(int, s.split(","))) for s in args.fits] if args.fits is not None else FITS
    steps = ([tuple(map(int, s.split(","))) for s in args.steps] if args.steps is not None
             else STEPS)
    print("\n".join(header_lines(None, True, "1 thread", "not used", torch_line=False)[1]))
    off_name = "unsettled" if args.against is None else f"settled by {args.against} bytes"
    print(f"{args.runs} processes per shape and setting, alternating off ({off_name}) / "
          f"on (settled as tsbptt does)")
    print(f"{'what':>6} {'shape':>18} {'off ms':>9} {'on ms':>9} {'on/off':>7} "
          f"{'off faults':>11} {'on faults':>10}   per run (off/on ms); on = SETTLE_BYTES")
    for kind, shapes in (("fit", fits), ("step", steps)):
        for shape in shapes:
            res = {True: [], False: []}
            for _ in range(args.runs):
                for settled in (False, True):
                    res[settled].append(
                        run_child(kind, shape, settled or args.against is not None,
                                  args.seconds, None if settled else args.against))
            off = statistics.median(r["ms"] for r in res[False])
            on = statistics.median(r["ms"] for r in res[True])
            f_off = statistics.median(r["faults_per_step"] for r in res[False])
            f_on = statistics.median(r["faults_per_step"] for r in res[True])
            runs = " ".join(f"{a['ms']:.1f}/{b['ms']:.1f}"
                            for a, b in zip(res[False], res[True]))
            print(f"{kind:>6} {str(shape):>18} {off:9.2f} {on:9.2f} {on / off:7.3f} "
                  f"{f_off:11.0f} {f_on:10.0f}   {runs}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
