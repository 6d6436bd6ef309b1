"""Compiled kernels (Cython + OpenMP); see docs/kernel_layout.md."""
