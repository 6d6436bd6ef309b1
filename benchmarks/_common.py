"""What the benchmark scripts share: importing tsbptt and torch, and the header
that says which machine, versions, BLAS and environment produced the numbers."""
import gc
import os
import statistics
import sys
from pathlib import Path

try:
    import tsbptt
except ImportError:  # not installed: use the in-place build of this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import tsbptt

#: Environment variables that change how BLAS and OpenMP run.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
              "OPENBLAS_L2_SIZE")


def import_torch(disabled=False):
    """torch, or None when it is not installed (or ``disabled``)."""
    if disabled:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or '?'."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def blas_owner(filepath):
    """The package whose wheel ships a BLAS library, from the folder it sits in
    (``numpy.libs/...`` -> 'numpy'; SciPy's wheels carry an OpenBLAS of their own);
    the folder's name for a library elsewhere (a system one)."""
    folder = Path(filepath or "?").parent.name
    for suffix in (".libs", ".dylibs"):  # Linux wheels; macOS wheels (delocate)
        if folder.endswith(suffix):
            return folder[:-len(suffix)]
    return folder or "?"


def header_lines(torch, no_torch, threads_note, numpy_role="numpy", torch_line=True,
                 torch_threads="set_num_threads per row"):
    """Versions, CPU, OpenMP, thread environment, BLAS libraries and torch.

    Parameters
    ----------
    torch : module or None
    no_torch : bool
        Whether torch was left out on purpose (``--no-torch``).
    threads_note : str
        What thread counts the script times.
    numpy_role : str
        How the script uses NumPy's BLAS (shown next to it).
    torch_line : bool
        False in scripts that have no torch columns at all: the torch line would
        promise columns that are not there, so it is left out.
    torch_threads : str
        How the script sets torch's threads (shown next to its version).

    Returns
    -------
    cfg : dict, ``tsbptt.get_config()``
    lines : list of str
    """
    cfg = tsbptt.get_config()
    lines = [
        f"tsbptt {cfg['tsbptt']}  numpy {cfg['numpy']}  scipy {cfg['scipy']}  "
        f"python {cfg['python'].split()[0]}",
        f"CPU: {cpu_model()}  CPUs available: {cfg['cpu_count']}  OpenMP: "
        f"{'on' if cfg['openmp_enabled'] else 'off (serial build)'}  kernels: "
        f"{cfg['kernel_isa']}  threads timed: {threads_note}",
        "env: " + "  ".join(f"{k}={os.environ.get(k) or '(unset)'}" for k in THREAD_ENV),
    ]
    for lib in cfg["blas"]:
        owner = blas_owner(lib["filepath"])
        lines.append(f"BLAS [{numpy_role if owner == 'numpy' else owner}]: "
                     f"{lib['internal_api']} {lib['version']}  "
                     f"architecture={lib['architecture']}  "
                     f"threading={lib['threading_layer']}  "
                     f"{Path(lib['filepath'] or '?').name}")
    if torch_line and torch is None:
        why = "not timed in this run" if no_torch else "not importable"
        lines.append(f"torch: {why}; torch columns are '-'")
    elif torch_line:
        lines.append(f"torch {torch.__version__} ({torch_threads})")
    lines.append(f"load average (1 min) before the run: {os.getloadavg()[0]:.2f} "
                 "(other processes on the machine distort the timings, 2-thread ones "
                 "most)")
    return cfg, lines


def alternate_a_b(a, b, pairs):
    """Time two variants in A B B A rounds (the machine's drift cancels in a round).

    Parameters
    ----------
    a, b : callable
        Each runs its variant once and returns the seconds it took.
    pairs : int
        Rounds; the garbage collector is off while they run.

    Returns
    -------
    (ms of A, ms of B, B / A) : tuple of float
        The medians of A's and of B's times, and of the rounds' ratios.
    """
    times, ratios = ([], []), []
    gc.disable()
    try:
        for _ in range(pairs):
            a1, b1, b2, a2 = a(), b(), b(), a()
            times[0].extend((a1, a2))
            times[1].extend((b1, b2))
            ratios.append((b1 + b2) / (a1 + a2))
    finally:
        gc.enable()
    return (statistics.median(times[0]) * 1e3, statistics.median(times[1]) * 1e3,
            statistics.median(ratios))
