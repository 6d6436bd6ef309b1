# The LSTM kernels built for the baseline instruction set of the platform.
include "_lstm_impl.pxi"
include "_lstm_stream.pxi"
