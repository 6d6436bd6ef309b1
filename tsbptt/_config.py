"""What this tsbptt build runs on: versions, OpenMP, threads and BLAS.

``get_config()`` returns the facts as a dict, ``show_config()`` prints them. Paste the
output of ``python -c "import tsbptt; tsbptt.show_config()"`` into bug reports and
next to benchmark numbers.
"""
from __future__ import annotations

import os
import platform
import sys
from typing import TextIO

__all__ = ["get_config", "show_config"]


def _blas_and_openmp_info():
    """threadpoolctl's view of the loaded BLAS and OpenMP runtimes.

    scipy.linalg.cython_blas is imported first, so that the BLAS the kernels call
    is loaded (and listed) even before any kernel has run.
    """
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "architecture", "threading_layer",
            "num_threads", "filepath")
    infos = threadpool_info()
    blas = [{k: info.get(k) for k in keys} for info in infos
            if info.get("user_api") == "blas"]
    openmp = [{k: info.get(k) for k in ("internal_api", "version", "num_threads",
                                        "filepath")}
              for info in infos if info.get("user_api") == "openmp"]
    return blas, openmp


def get_config() -> dict:
    """Versions, OpenMP and BLAS facts of this tsbptt build.

    Returns
    -------
    config : dict
        Keys ``tsbptt``, ``python``, ``platform``, ``numpy``, ``scipy`` (versions),
        ``openmp_enabled`` (bool: kernels compiled with OpenMP),
        ``openmp_max_threads`` (int: ``omp_get_max_threads()``, 1 for a serial
        build), ``cpu_count`` (CPUs this process may run on), ``OMP_NUM_THREADS``
        (the environment variable or None), ``blas`` (list of dicts, one per BLAS
        library loaded, as seen by threadpoolctl; the kernels call none of them)
        and
        ``openmp_runtimes`` (list of dicts, the OpenMP runtimes loaded),
        ``kernel_isa`` (``'avx512'``, ``'avx2'`` or ``'baseline'``: which build of
        the kernels runs; see ``TSBPTT_DISABLE_AVX512`` and ``TSBPTT_DISABLE_AVX2``),
        ``step_tiles`` (dict: ``rows``, ``cols_float32``, ``cols_float64`` of the
        kernels' own micro-kernels for the step products; they call no BLAS).
    """
    import numpy
    import scipy

    from . import __version__
    from ._kernels import kernel_isa
    from ._kernels._openmp_helpers import openmp_enabled, openmp_max_threads
    from .engine._gemm_tiles import step_tiles

    blas, openmp = _blas_and_openmp_info()
    try:
        cpu_count = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpu_count = os.cpu_count()
    return {
        "tsbptt": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "openmp_enabled": openmp_enabled(),
        "openmp_max_threads": openmp_max_threads(),
        "kernel_isa": kernel_isa(),
        "step_tiles": step_tiles(),
        "cpu_count": cpu_count,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "blas": blas,
        "openmp_runtimes": openmp,
    }


def show_config(file: TextIO | None = None) -> None:
    """Print :func:`get_config` in a readable form.

    Parameters
    ----------
    file : file-like, default=None
        Where to print; ``None`` means ``sys.stdout``.
    """
    cfg = get_config()
    tiles = cfg["step_tiles"]
    out = sys.stdout if file is None else file
    lines = [
        f"tsbptt {cfg['tsbptt']}",
        f"  python:             {cfg['python']} ({cfg['platform']})",
        f"  numpy:              {cfg['numpy']}",
        f"  scipy:              {cfg['scipy']}",
        "  OpenMP:             "
        + ("on" if cfg["openmp_enabled"] else
           "OFF (serial build: kernels ignore n_threads)"),
        f"  OpenMP max threads: {cfg['openmp_max_threads']}",
        f"  kernels built for:  {cfg['kernel_isa']}",
        "  step products:      own micro-kernels, tiles of "
        f"{tiles['rows']} x {tiles['cols_float32']} float32, "
        f"{tiles['rows']} x {tiles['cols_float64']} float64",
        f"  CPUs available:     {cfg['cpu_count']}",
        f"  OMP_NUM_THREADS:    {cfg['OMP_NUM_THREADS'] or '(not set)'}",
        "BLAS (NumPy's and SciPy's; the kernels' own products do not use it):",
    ]
    for lib in cfg["blas"] or [{}]:
        if not lib:
            lines.append("  (none found by threadpoolctl)")
            continue
        lines += [
            f"  {lib['internal_api']} {lib['version']}",
            f"    architecture: {lib['architecture']}, "
            f"threading: {lib['threading_layer']}, num_threads: {lib['num_threads']}",
            f"    {lib['filepath']}",
        ]
    if cfg["openmp_runtimes"]:
        lines.append("OpenMP runtimes loaded:")
        lines += [f"  {rt['internal_api']} (num_threads: {rt['num_threads']}) "
                  f"{rt['filepath']}" for rt in cfg["openmp_runtimes"]]
    print("\n".join(lines), file=out)
