# This build's activations called on whole arrays, for the tests
# (tests/kernels/test_activations.py); the gate loops call them through
# _activations.pxd, inlined and vectorised the same way as this loop.
from ._activations cimport sigmoid, tanh_


def activation_values(const floating[::1] x not None,   # IN  (n,)
                      floating[::1] sig_out not None,    # OUT (n,)
                      floating[::1] tanh_out not None):  # OUT (n,)
    """sigmoid(x) and tanh(x), element by element, as the gate loops make them.

    Parameters
    ----------
    x : ndarray of shape (n,), float32 or float64
    sig_out, tanh_out : ndarray of shape (n,), x's dtype
        Overwritten with sigmoid(x) and tanh(x).
    """
    cdef Py_ssize_t n = x.shape[0], j
    if sig_out.shape[0] != n or tanh_out.shape[0] != n:
        raise ValueError(f"sig_out and tanh_out must have x's length {n}, got "
                         f"{sig_out.shape[0]} and {tanh_out.shape[0]}")
    with nogil:
        for j in range(n):
            sig_out[j] = sigmoid(x[j])
        for j in range(n):
            tanh_out[j] = tanh_(x[j])
