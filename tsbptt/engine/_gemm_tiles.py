"""How the kernels cut each time step's matrix products, chosen from their BLAS.

Every step of a recurrent layer multiplies a chunk's rows (16 to 64 of them) by
the whole weight matrix. The general path of OpenBLAS copies ("packs") the weights
into its own layout on every call: in ``perf`` on the (64, 200, 16, 256) LSTM of
``benchmarks/bench_kernels.py`` that copy (``sgemm_itcopy``) took 15-19% of the
samples of a training step.

OpenBLAS's SkylakeX kernels (also used for Cooperlake and Sapphire Rapids, and by
OpenBLAS 0.3.30 on the AMD Zen 4 development machine) have a small-matrix path: a
product without transposed operands, or with only the second one transposed, whose
``m * n * k`` is at most 100**3 is computed straight from the operands, without
packing. The kernels then cut each step's product, and each block's weight-gradient
product, into tiles under that size (``_kernels/_common.pxd``: ``gemm_step``,
``gemm_tn_add``). Measured on that machine, single thread, float32: 105-115 GFLOP/s
per tile against 80-85 for the uncut product; benchmarks/README.md has the effect
on whole training steps. With any other BLAS the kernels keep the uncut products
(panels of 256 columns for the per-step ones).

The choice depends on the BLAS library only, never on the data or on the thread
count, so results stay bitwise reproducible in a process; it is made once.
``TSBPTT_DISABLE_GEMM_TILES=1`` turns the tiles off.
"""
import os

from ._threads import _kernel_blas

#: OpenBLAS's limit for its small-matrix path (``m * n * k <= 100**3``).
OPENBLAS_SMALL_MNK = 100 ** 3
#: OpenBLAS core names whose GEMM has the small-matrix path (lower case).
_SMALL_PATH_CORES = frozenset({"skylakex", "cooperlake", "sapphirerapids"})
#: The path appeared in OpenBLAS 0.3.17.
_MIN_VERSION = (0, 3, 17)

_small_mnk = None


def _version_tuple(version):
    try:
        return tuple(int(part) for part in str(version).split(".")[:3])
    except ValueError:
        return ()


def small_gemm_mnk():
    """The largest ``m * n * k`` of one tile, or 0 when the kernels do not tile.

    Returns
    -------
    int
        :data:`OPENBLAS_SMALL_MNK` when the kernels' BLAS is an OpenBLAS >= 0.3.17
        running a core with a small-matrix path, else 0. Decided on the first call.
    """
    global _small_mnk
    if _small_mnk is None:
        _small_mnk = 0
        if os.environ.get("TSBPTT_DISABLE_GEMM_TILES", "0") in ("", "0"):
            for lib in _kernel_blas():
                info = lib.info()
                if (info.get("internal_api") == "openblas"
                        and str(info.get("architecture", "")).lower() in _SMALL_PATH_CORES
                        and _version_tuple(info.get("version")) >= _MIN_VERSION):
                    _small_mnk = OPENBLAS_SMALL_MNK
                break  # the first library is the one the kernels call
    return _small_mnk


#: The smallest tile ``gemm_step`` cuts (8 rows by 16 columns): a product whose
#: ``k`` is at most ``small_gemm_mnk() // SMALLEST_TILE`` is always cut into tiles.
SMALLEST_TILE = 8 * 16


def products_stay_small(largest_k):
    """True if every product of a kernel call goes to OpenBLAS's small-matrix path.

    Parameters
    ----------
    largest_k : int
        The largest inner dimension of the call's per-step products (``F + H + 1``
        forward, ``G`` backward). The weight-gradient products have ``k`` at most
        16 * 64 rows and always fit.

    Returns
    -------
    bool
        That path runs in the calling thread and never starts BLAS threads, so such
        a call needs no BLAS thread limit.
    """
    mnk = small_gemm_mnk()
    return mnk > 0 and largest_k * SMALLEST_TILE <= mnk

