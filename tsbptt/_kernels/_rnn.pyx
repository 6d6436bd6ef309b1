# The RNN kernels built for the baseline instruction set of the platform.
include "_rnn_impl.pxi"
include "_rnn_stream.pxi"
