# This build's activations called on whole arrays, for the tests
# (tests/kernels/test_activations.py): the rows of _activations.pxd that the gate
# passes call.
from ._activations cimport sigmoid_row, tanh_row


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
    cdef Py_ssize_t n = x.shape[0]
    if sig_out.shape[0] != n or tanh_out.shape[0] != n:
        raise ValueError(f"sig_out and tanh_out must have x's length {n}, got "
                         f"{sig_out.shape[0]} and {tanh_out.shape[0]}")
    if n == 0:
        return
    if np.shares_memory(x, sig_out) or np.shares_memory(x, tanh_out):
        raise ValueError("sig_out and tanh_out must not share memory with x")
    with nogil:
        sigmoid_row(&sig_out[0], &x[0], n)
        tanh_row(&tanh_out[0], &x[0], n)
