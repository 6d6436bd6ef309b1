# The LSTM kernels built with AVX-512 (16-wide gate loops); imported only on CPUs
# that have it (see tsbptt/_kernels/__init__.py).
include "_lstm_impl.pxi"
include "_lstm_stream.pxi"
