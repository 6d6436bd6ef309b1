# This build's activations called on whole arrays, for the tests
# (tests/kernels/test_activations.py); the gate loops call them through
# _activations.pxd, inlined and vectorised the same way as this loop.
from ._activations cimport sigmoid, tanh_


def activation_values(const floating[::1] x not None,  # IN  (n,)
                      floating[::1] sig not None,       # OUT (n,) sigmoid(x)
                      floating[::1] tanh not None):     # OUT (n,) tanh(x)
    """sigmoid(x) and tanh(x), element by element, as the gate loops make them."""
    cdef Py_ssize_t n = x.shape[0], j
    if sig.shape[0] != n or tanh.shape[0] != n:
        raise ValueError(f"sig and tanh must have x's length {n}, got "
                         f"{sig.shape[0]} and {tanh.shape[0]}")
    with nogil:
        for j in range(n):
            sig[j] = sigmoid(x[j])
        for j in range(n):
            tanh[j] = tanh_(x[j])
