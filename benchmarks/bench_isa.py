"""Does each instruction-set build of the kernels pay? One training step of each cell
(``bench_kernels.py``'s: forward + backward, float32) with the AVX-512, AVX2 and
baseline builds, in one run.

    python benchmarks/bench_isa.py                  # 1 thread, three sizes
    python benchmarks/bench_isa.py --threads 2 --cells rnn

The builds are switched inside one process (``tsbptt._kernels._chosen``, which a
user never touches: a fit must not change builds half-way) and timed in rotated
order, several rounds, so a change of load hits each alike. Only the builds this
CPU runs are timed. Printed: median milliseconds per build and each build's speed-up
over the next narrower one (``avx2/base``: baseline ms / AVX2 ms).
"""
import argparse
import statistics
import time

from _common import header_lines
from bench_kernels import make_tsbptt_step
from tsbptt import _kernels

SIZES = [(32, 24, 1, 32), (64, 50, 8, 64), (128, 100, 8, 128)]


def time_builds(step, isas, rounds, seconds):
    """Median seconds of ``step`` per build, the builds in rotated order each round."""
    times = {isa: [] for isa in isas}
    for isa in isas:  # warm up each build once
        _kernels._chosen = isa
        step()
    _kernels._chosen = isas[0]
    start = time.perf_counter()
    step()
    reps = max(1, int(seconds / rounds / max(time.perf_counter() - start, 1e-6)))
    for r in range(rounds):
        for isa in isas[r % len(isas):] + isas[:r % len(isas)]:
            _kernels._chosen = isa
            for _ in range(reps):
                t = time.perf_counter()
                step()
                times[isa].append(time.perf_counter() - t)
    return {isa: statistics.median(v) for isa, v in times.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"],
                   choices=["lstm", "gru", "rnn"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.5,
                   help="timed seconds per build and row, about (default 1.5)")
    args = p.parse_args(argv)
    _, lines = header_lines(None, True, f"builds, {args.threads} thread(s)")
    print("\n".join(lines[:3] + lines[-1:]))
    isas = [isa for isa in _kernels.ISAS if _kernels.isa_usable(isa)]
    print(f"{'cell':<6}{'B T F H':<18}" + "".join(f"{isa + ' ms':>13}" for isa in isas)
          + "".join(f"{a + '/' + b[:4]:>13}" for a, b in zip(isas, isas[1:])))
    for cell in args.cells:
        for size in SIZES:
            _, _, step = make_tsbptt_step(cell, *size, args.threads)
            med = time_builds(step, isas, args.rounds, args.seconds)
            print(f"{cell:<6}{' '.join(map(str, size)):<18}"
                  + "".join(f"{med[isa] * 1e3:>13.3f}" for isa in isas)
                  + "".join(f"{med[b] / med[a]:>13.2f}" for a, b in zip(isas, isas[1:])),
                  flush=True)


if __name__ == "__main__":
    main()
