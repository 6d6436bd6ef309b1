# The GRU kernels built with -mavx2 -mfma (8-wide gate loops); imported only on CPUs
# that have both (see tsbptt/_kernels/__init__.py).
include "_gru_impl.pxi"
include "_gru_stream.pxi"
