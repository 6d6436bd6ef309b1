# The GRU kernels built for the baseline instruction set of the platform.
include "_gru_impl.pxi"
include "_gru_stream.pxi"
