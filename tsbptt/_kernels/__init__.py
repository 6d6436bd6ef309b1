"""Compiled kernels (Cython + OpenMP); see docs/kernel_layout.md.

Each cell's kernels are built twice from one source (``_<cell>_impl.pxi``): for the
platform's baseline instruction set (``_<cell>``) and with AVX2 + FMA
(``_<cell>_avx2``, where the compiler could build it). :func:`cell_kernels` returns
the AVX2 build on CPUs that have both instruction sets, unless the environment
variable ``TSBPTT_DISABLE_AVX2=1`` asks for the baseline one.
"""
import os
from importlib import import_module

from ._cpu import has_avx2_fma

__all__ = ["cell_kernels", "kernel_isa"]


_avx2_usable = None


def _avx2_available():
    """AVX2 + FMA on this CPU and an AVX2 build of the kernels (checked once)."""
    global _avx2_usable
    if _avx2_usable is None:
        try:
            import_module("._lstm_avx2", __name__)
            _avx2_usable = has_avx2_fma()
        except ImportError:  # the compiler could not build it
            _avx2_usable = False
    return _avx2_usable


def kernel_isa():
    """The instruction set whose kernels are used: ``'avx2'`` or ``'baseline'``."""
    if os.environ.get("TSBPTT_DISABLE_AVX2", "0") not in ("", "0"):
        return "baseline"
    return "avx2" if _avx2_available() else "baseline"


def cell_kernels(cell, isa=None):
    """The compiled module of a cell: ``'lstm'``, ``'gru'`` or ``'rnn'``.

    Parameters
    ----------
    cell : str
    isa : {'avx2', 'baseline'} or None, default=None
        None picks :func:`kernel_isa`.
    """
    isa = kernel_isa() if isa is None else isa
    suffix = "_avx2" if isa == "avx2" else ""
    return import_module(f"._{cell}{suffix}", __name__)
