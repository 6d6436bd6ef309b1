# The RNN kernels built with AVX-512 (16-wide gate loops); imported only on CPUs
# that have it (see tsbptt/_kernels/__init__.py).
include "_rnn_impl.pxi"
include "_rnn_stream.pxi"
