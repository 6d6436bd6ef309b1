"""Compiled kernels (Cython + OpenMP); see docs/kernel_layout.md.

Each cell's kernels are built three times from one source (``_<cell>_impl.pxi``):
for the platform's baseline instruction set (``_<cell>``), with AVX2 + FMA
(``_<cell>_avx2``) and with AVX-512 (``_<cell>_avx512``), the last two where the
compiler could build them. :func:`cell_kernels` returns the widest build the CPU
runs. ``TSBPTT_DISABLE_AVX512=1`` steps down to the AVX2 build and
``TSBPTT_DISABLE_AVX2=1`` to the baseline one (the AVX-512 build uses AVX2 too).
The choice is made once, at the first kernel call: the builds differ in the last
bits, and a process must not switch between them half-way through a fit.

The builds differ in how wide the element-wise gate loops run and in their matrix
micro-kernels (``_microkernels.h``: fused multiply-adds in the AVX2 and AVX-512
builds, multiply then add in the baseline one); results agree to rounding, and on
one machine every call gives the same bits, whatever BLAS is loaded.
"""
import os
from importlib import import_module

import numpy as np

from ._cpu import has_avx2_fma, has_avx512

__all__ = ["ISAS", "all_finite", "cell_kernels", "choose_isa", "isa_usable", "kernel_isa"]

#: Instruction sets the kernels are built for, widest first, and the test that says
#: whether this CPU runs each.
ISAS = {"avx512": has_avx512, "avx2": has_avx2_fma, "baseline": lambda: True}
_DISABLED_BY = {"avx512": ("TSBPTT_DISABLE_AVX512", "TSBPTT_DISABLE_AVX2"),
                "avx2": ("TSBPTT_DISABLE_AVX2",), "baseline": ()}
_usable = {}    # isa -> bool, checked once
_modules = {}   # (cell, isa) -> module


def _module_name(cell, isa):
    return f"._{cell}" if isa == "baseline" else f"._{cell}_{isa}"


def isa_usable(isa):
    """True if this CPU runs ``isa`` and the kernels were built for it (checked once)."""
    if isa not in _usable:
        # The CPU first: a module built for instructions the CPU lacks may use them
        # as soon as it is imported (GCC vectorises its initialisation code too).
        _usable[isa] = False
        if ISAS[isa]():
            try:
                import_module(_module_name("lstm", isa), __name__)
                _usable[isa] = True
            except ImportError:  # the compiler could not build it
                pass
    return _usable[isa]


def _disabled(isa):
    return any(os.environ.get(var, "0") not in ("", "0") for var in _DISABLED_BY[isa])


def choose_isa():
    """The widest instruction set usable here that the environment allows (read now)."""
    for isa in ISAS:
        if not _disabled(isa) and isa_usable(isa):
            return isa
    return "baseline"  # pragma: no cover - the loop always ends at 'baseline'


_chosen = None


def kernel_isa():
    """The instruction set whose kernels are used: ``'avx512'``, ``'avx2'`` or
    ``'baseline'`` (:func:`choose_isa` at the first call)."""
    global _chosen
    if _chosen is None:
        _chosen = choose_isa()
    return _chosen


def cell_kernels(cell, isa=None):
    """The compiled module of a cell: ``'lstm'``, ``'gru'`` or ``'rnn'``.

    Parameters
    ----------
    cell : str
    isa : {'avx512', 'avx2', 'baseline'} or None, default=None
        None picks :func:`kernel_isa`; an instruction set this CPU does not run (or
        that was not built) raises RuntimeError rather than risk an illegal
        instruction.
    """
    key = (cell, kernel_isa() if isa is None else isa)
    if isa is not None and not isa_usable(isa):
        raise RuntimeError(f"the {isa} build of the kernels cannot run here: this CPU "
                           "lacks the instructions, or the compiler did not build it")
    module = _modules.get(key)
    if module is None:
        module = _modules[key] = import_module(_module_name(*key), __name__)
    return module


#: The dtypes all_finite reads (native byte order only: a byte-swapped dtype differs).
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def all_finite(a):
    """True if a float32 or float64 array holds no NaN or infinity.

    One pass over the array's bits in the chosen build's compiled loop
    (``_finite.pxi``), without the bool array as large as ``a``
    that ``np.isfinite(a).all()`` writes and reads back: about twice as fast on a
    small training step's arrays in the AVX2 build, which every layer call checks.

    Parameters
    ----------
    a : ndarray of float32 or float64, any shape
        Read in place when C-contiguous (a flat copy otherwise).

    Returns
    -------
    bool

    Raises
    ------
    TypeError
        If ``a`` holds another dtype.
    """
    if a.dtype not in _FLOATS:
        raise TypeError(f"all_finite takes a float32 or float64 array, got dtype {a.dtype}")
    return cell_kernels("lstm").all_finite(a.ravel())
