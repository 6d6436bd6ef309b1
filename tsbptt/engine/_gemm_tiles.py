"""The tiles of the kernels' own step products, for reports (``show_config``).

Every product of a recurrent step (forward ``xh_t @ W``, backward ``dA_t @ W_T``,
the weight gradients ``xh^T @ dA``) runs in the kernels' register-tiled
micro-kernels (``tsbptt/_kernels/_microkernels.h``), never in a BLAS: each output
element is summed over k in a fixed order, so results do not depend on the BLAS
NumPy and SciPy load, on the batch, on a row's position or on the thread count.
A tile is ``rows`` rows of the output by ``cols_<dtype>`` columns; the build
(``kernel_isa``) fixes both.
"""
from .._kernels import cell_kernels, kernel_isa


def step_tiles():
    """The micro-kernel tile of the kernel build in use.

    Returns
    -------
    dict
        ``isa`` (``'avx512'``, ``'avx2'`` or ``'baseline'``), ``rows`` (int),
        ``cols_float32`` and ``cols_float64`` (int): output rows and columns one
        micro-kernel call keeps in registers.
    """
    return dict(cell_kernels("lstm", kernel_isa()).microkernel_tiles())
